# Sourced by ./run and ./record-ng-fixtures: Kamailio started the same way by both.

# kamailio_cfg OUT HOST SIP_PORT NG_SOCK UAS_URI UAS_SRTP_URI
# Writes kamailio.cfg with one pass's addresses filled in (HOST is 127.0.0.1 or [::1]).
kamailio_cfg() {
    sed -e "s/^listen=udp:127.0.0.1:SIP_PORT/listen=udp:$2:$3/" -e "s|NG_SOCK|\"$4\"|" \
        -e "s|UAS_SRTP_URI|\"$6\"|g" -e "s|UAS_URI|\"$5\"|g" \
        "$(dirname "${BASH_SOURCE[0]}")/kamailio.cfg" >"$1"
}

# kamailio_start DIR [kamailio options...]: runs DIR/kamailio.cfg in the foreground
# of a background job, logging to DIR/kamailio.log; the job's pid is in $!.
kamailio_start() {
    local dir=$1
    shift
    kamailio -f "$dir/kamailio.cfg" -DD -E -w "$dir" -P "$dir/kamailio.pid" -Y "$dir" "$@" \
        >"$dir/kamailio.log" 2>&1 &
}
