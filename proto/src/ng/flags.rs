//! Typed parameters of offer/answer/delete/query messages.
//!
//! Every key and flag of rtpengine 10.5's "offer message" README section is recognised.
//! Those whose feature does not exist yet are recorded in `unimplemented`, which the
//! handler turns into the reply's `warning` key (Kamailio ignores warnings, so the call
//! still goes through, but the operator can see what was not honoured).

use std::net::IpAddr;

use super::bencode::Value;

/// The `ICE-lite` key: towards the offer's receiver (`Forward`), its sender
/// (`Backward`), both, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceLite {
    Forward,
    Backward,
    Both,
    Off,
}

impl IceLite {
    /// Whether we are lite towards (the offer's receiver, its sender).
    pub fn towards(self) -> (bool, bool) {
        match self {
            IceLite::Forward => (true, false),
            IceLite::Backward => (false, true),
            IceLite::Both => (true, true),
            IceLite::Off => (false, false),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IceMode {
    #[default]
    Default,
    Remove,
    Force,
    ForceRelay,
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtcpMuxFlags {
    pub offer: bool,
    pub demux: bool,
    pub accept: bool,
    pub reject: bool,
    pub require: bool,
}

/// The `codec` dictionary and the `codec-<op>-<name>` flags (10.5's codec
/// lists). Names are kept as written; 10.5 matches them case-insensitively,
/// `all` and `full` only in lower case. `transcode`, `mask`, `accept` and
/// `consume` count only in offers (the registry ignores them in answers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodecOps {
    pub strip: Vec<String>,
    pub offer: Vec<String>,
    pub except: Vec<String>,
    pub transcode: Vec<String>,
    pub mask: Vec<String>,
    pub accept: Vec<String>,
    pub consume: Vec<String>,
}

impl CodecOps {
    pub fn is_empty(&self) -> bool {
        self.strip.is_empty()
            && self.offer.is_empty()
            && self.except.is_empty()
            && self.transcode.is_empty()
            && self.mask.is_empty()
            && self.accept.is_empty()
            && self.consume.is_empty()
    }

    /// What an answer uses: 10.5 reads only `strip`, `offer` and `except` there.
    pub fn for_answer(&self) -> CodecOps {
        CodecOps {
            strip: self.strip.clone(),
            offer: self.offer.clone(),
            except: self.except.clone(),
            ..CodecOps::default()
        }
    }

    fn list_mut(&mut self, what: &str) -> Option<&mut Vec<String>> {
        match what {
            "strip" => Some(&mut self.strip),
            "offer" => Some(&mut self.offer),
            "except" => Some(&mut self.except),
            "transcode" => Some(&mut self.transcode),
            "mask" => Some(&mut self.mask),
            "accept" => Some(&mut self.accept),
            "consume" => Some(&mut self.consume),
            _ => None,
        }
    }
}

/// The ng DTLS keys, as rtpengine 10.5 reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtlsFlags {
    /// `DTLS: off|no|disable|disabled`.
    pub off: bool,
    /// `DTLS: passive` (true) or `active` (false); `None`: `--dtls-passive`.
    pub passive: Option<bool>,
    /// `DTLS-reverse: passive|active`; `None`: `--dtls-passive`.
    pub reverse_passive: Option<bool>,
    /// `DTLS-fingerprint`: the hash function of the fingerprint we offer.
    pub fingerprint: Option<String>,
}

/// Everything a signalling command (offer/answer/delete/query) carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub call_id: Option<String>,
    pub from_tag: Option<String>,
    pub to_tag: Option<String>,
    pub via_branch: Option<String>,
    pub sdp: Option<String>,
    pub label: Option<String>,

    pub replace_origin: bool,
    pub replace_session_connection: bool,
    /// `replace: zero-address`: a hold's unspecified address is written as
    /// ours like any other.
    pub replace_zero_address: bool,
    pub trust_address: bool,
    pub sip_source_address: bool,
    /// Flag `symmetric` (older rtpengines'): read, but 10.5 does nothing
    /// with it (gen/2512: `asymmetric` still applies beside it).
    pub symmetric: bool,
    pub asymmetric: bool,
    /// `unidirectional`: shown on the sender's media (10.5 also kernelizes
    /// one-way media with it; we forward one-way media in the kernel anyway).
    pub unidirectional: bool,
    pub strict_source: bool,
    pub media_handover: bool,
    pub port_latching: bool,
    pub no_rtcp_attribute: bool,
    pub full_rtcp_attribute: bool,
    pub loop_protect: bool,
    pub original_sendrecv: bool,
    pub strip_extmap: bool,
    /// Flag `generate-mid`: give offered media without `a=mid` one (`index + 1`).
    pub generate_mid: bool,
    /// Flag `trickle-ICE`: an offer's receiver is taken for a trickle-ICE peer
    /// (`a=ice-options:trickle` and `a=end-of-candidates` with our ICE).
    pub trickle_ice: bool,
    /// Flag `reject-ICE`: the sender of this SDP does no ICE with us from now
    /// on, whatever its SDP says (10.5's `ice_reject`).
    pub reject_ice: bool,
    /// Flag `reset` (offers): both sides count as not having spoken yet, and
    /// their running ICE agents restart with new credentials (10.5's `reset`).
    pub reset: bool,
    /// Flags `passthrough` (`Some(true)`, wins when both are given) and
    /// `no-passthrough` (`Some(false)`): force 10.5's PASSTHRU on or off for
    /// the media of this offer/answer, whatever ICE does.
    pub passthrough: Option<bool>,
    /// `ICE-lite` key (offers only): towards whom we are an ICE-lite agent
    /// from now on; `None` leaves it as it was.
    pub ice_lite: Option<IceLite>,
    pub fatal: bool,

    pub ice: IceMode,
    pub rtcp_mux: RtcpMuxFlags,
    pub direction: Vec<String>,
    pub interface: Option<String>,
    /// `endpoint-learning` key or `endpoint-learning-<mode>` flag: this message's
    /// party learns this way instead of `--endpoint-learning` (as 10.5).
    pub endpoint_learning: Option<crate::call::LearningMode>,
    /// `received-from: [family, address]`: the SIP source address.
    pub received_from: Option<IpAddr>,
    pub media_address: Option<IpAddr>,
    pub address_family: Option<Family>,
    /// `transport-protocol`: a protocol of 10.5's table (its name as the
    /// table spells it); other values set nothing, as in 10.5.
    pub transport_protocol: Option<String>,
    /// `transport-protocol: accept` (answers): the offerer gets the
    /// protocol the answerer chose.
    pub protocol_accept: bool,
    /// Items of the `SDES` list plus `SDES-<item>` flags, in order (see
    /// `srtp::SdesOptions::from_ng`).
    pub sdes: Vec<String>,
    /// `TOS`: `None` leaves it as it was (absent, or negative as in 10.5);
    /// `Some(None)` goes back to the daemon's `--tos` (10.5: a value above
    /// 255); `Some(Some(t))` sets it.
    pub tos: Option<Option<u8>>,
    pub delete_delay: Option<u32>,
    pub supports: Vec<String>,
    /// `list` command limit.
    pub limit: Option<u32>,
    /// `codec` dictionary and `codec-<op>-X` / `transcode-X` /
    /// `always-transcode` flags.
    pub codec: CodecOps,
    /// `ptime` (offers only, as in 10.5): the packet time toward the
    /// offer's receiver; 0 or negative: none.
    pub ptime: Option<u32>,
    /// `ptime-reverse` (offers only): the packet time toward the offerer.
    pub ptime_reverse: Option<u32>,
    /// `T.38` items `force` / `decode` (and `T38-` flags): 10.5's T.38
    /// gateway, which we refuse (it transcodes); the other items only tune
    /// that gateway and are accepted.
    pub t38_force: bool,
    pub t38_decode: bool,
    /// Flags `reuse-codecs` / `no-codec-renegotiation`: a re-offer keeps the
    /// codec order already negotiated.
    pub reuse_codecs: bool,
    /// Flag `single-codec`: an answer lists only the first codec.
    pub single_codec: bool,
    /// Flag `inject-DTMF`: 10.5 puts its codec handlers in the way so that
    /// `play DTMF` can inject events. We cannot inject; the flag only shapes
    /// the SDP and `transcoding` flag as 10.5's (and is logged as unsupported).
    pub inject_dtmf: bool,
    /// DTLS-SRTP choices (`DTLS`, `DTLS-reverse`, `DTLS-fingerprint` keys).
    pub dtls: DtlsFlags,

    /// Party selection of the media control commands (block/silence media,
    /// block DTMF, forwarding, play media/DTMF, subscribe): flag `all`,
    /// `address`, `from-tags`, `set-label`/`to-label`.
    pub all: bool,
    pub address: Option<String>,
    pub from_tags: Vec<String>,
    pub set_label: Option<String>,
    /// `subscribe request` flag `RTCP-mirror`: the subscriber's RTCP goes
    /// back to the party it subscribed to.
    pub rtcp_mirror: bool,
    /// `subscribe answer` flag `allow-transcoding`: the answer need not
    /// accept every codec offered.
    pub allow_transcoding: bool,
    /// `play media` sources: `file`, `blob`, `db-id`.
    pub file: Option<String>,
    pub blob: Option<String>,
    pub db_id: Option<i64>,
    /// `code`/`digit` of `play DTMF`, read as 10.5 reads it: an integer (or
    /// a string holding one), a one-character string is that character.
    pub digit: Option<i64>,
    /// The `limit` key of `list` as given (10.5 refuses a negative one).
    pub limit_raw: Option<i64>,

    /// `record call` key: `yes`/`on` starts recording the call, `no`/`off`
    /// stops it (10.5's `detect_setup_recording`).
    pub record_call: Option<String>,
    /// `record-call` in `flags`: start recording the call.
    pub record_call_flag: bool,
    /// `metadata`: free text kept with the call's recording.
    pub metadata: Option<String>,
    /// `output-destination` (start recording): the recording daemon's output
    /// file for the call (proc recording method).
    pub output_destination: Option<String>,

    /// Recognised but not implemented yet, in arrival order (for the `warning` reply).
    pub unimplemented: Vec<String>,
    /// Values that could not be understood (bad address, bad number, ...).
    pub invalid: Vec<String>,
}

/// Keys that exist in rtpengine 10.5 but whose features we do not provide yet.
const UNIMPLEMENTED_KEYS: &[&str] = &[
    "OSRTP",
    "recording-file",
    "recording-path",
    "recording-pattern",
    "repacketize",
    "xmlrpc-callback",
    "frequency",
    "frequencies",
    "media-echo",
    "media echo",
    "sdp-attr",
    "volume",
    "trigger",
    "trigger-end",
    "trigger-end-time",
    "trigger-end-digits",
    "DTMF-security",
    "DTMF-security-trigger",
    "DTMF-security-trigger-end",
    "DTMF-delay",
    "DTMF-log-dest",
    "delay-buffer",
    "drop-traffic",
    "generate RTCP",
    "generate-RTCP",
    "moh",
    "duration",
    "pause",
    "all",
    "to-interface",
    "from-interface",
    "xmlrpc",
    "audio-player",
    "template",
    "end-of-candidates",
    "mode",
];

/// Flags (items of the `flags` list) that exist in 10.5 but are not implemented yet.
const UNIMPLEMENTED_FLAGS: &[&str] = &[
    "fragment",
    "symmetric-codecs",
    "asymmetric-codecs",
    "inject-DTMF",
    "detect-DTMF",
    "generate-RTCP",
    "no-jitter-buffer",
    "pierce-NAT",
    "NAT-wait",
    "no-port-latching",
    "recrypt",
    "early-media",
    "siprec",
    "directional",
    "debug",
    "ICE-reject",
    "block-short",
    "block-egress",
    "egress",
    "record-all",
    "no-RTCP",
    "mirror-RTCP",
    "inactive",
    "new-branch",
    "to-tag",
    "allow-asymmetric-codecs",
    "strict-SDES",
    "discard-recording",
    "exclude-recording",
    "block-DTMF",
    "block-media",
    "silence-media",
    "csrc-per-media",
    "transcode-all",
    "media-handover-no",
    "sip-code",
];

impl Flags {
    /// Parse a decoded message dictionary. Never fails: problems land in `invalid`
    /// (turned into an error by the handler only when they matter).
    pub fn parse(msg: &Value<'_>) -> Flags {
        let mut f = Flags::default();
        let Value::Dict(items) = msg else { return f };
        for (key, value) in items {
            let key = String::from_utf8_lossy(key);
            f.apply_key(&key, value);
        }
        f
    }

    fn text(value: &Value<'_>) -> Option<String> {
        value.as_text().map(|s| s.into_owned())
    }

    fn apply_key(&mut self, key: &str, value: &Value<'_>) {
        match key {
            "command" => {}
            "call-id" => self.call_id = Self::text(value),
            "from-tag" => self.from_tag = Self::text(value),
            "to-tag" => self.to_tag = Self::text(value),
            "via-branch" => self.via_branch = Self::text(value),
            // Only a string is an SDP body (10.5: "No SDP body in message").
            "sdp" | "SDP" => {
                self.sdp = match value {
                    Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                    _ => None,
                }
            }
            "label" | "from-label" => self.label = Self::text(value),
            "record-call" | "record call" => self.record_call = Self::text(value),
            "metadata" => self.metadata = Self::text(value),
            "output-destination" => self.output_destination = Self::text(value),
            "set-label" | "to-label" => {
                // Read for `subscribe request`; offer/answer do not use it yet.
                self.set_label = Self::text(value);
                self.unimplemented.push(key.to_owned());
            }
            "address" => self.address = Self::text(value),
            "from-tags" => {
                self.from_tags = value
                    .as_text_list()
                    .into_iter()
                    .map(|s| s.into_owned())
                    .collect()
            }
            "file" => self.file = Self::text(value),
            "blob" => self.blob = Self::text(value),
            "db-id" => self.db_id = value.as_int(),
            "code" | "digit" => {
                if let Some(n) = value.as_int() {
                    self.digit = Some(n);
                }
                if let Value::Bytes(b) = value {
                    if b.len() == 1 {
                        self.digit = Some(i64::from(b[0]));
                    }
                }
            }
            "flags" => {
                for flag in value.as_text_list() {
                    self.apply_flag(&hyphenate(&flag));
                }
            }
            "replace" => {
                for item in value.as_text_list() {
                    self.apply_replace(&hyphenate(&item));
                }
            }
            "direction" => {
                self.direction = value
                    .as_text_list()
                    .into_iter()
                    .map(|s| s.into_owned())
                    .collect()
            }
            "interface" => self.interface = Self::text(value),
            "ICE" => {
                if let Some(v) = value.as_text() {
                    self.apply_ice(&v);
                }
            }
            "DTLS" | "dtls" => match value.as_text() {
                Some(v) => self.apply_dtls(&v),
                None => self.invalid.push("DTLS".into()),
            },
            "DTLS-reverse" | "dtls-reverse" | "DTLS reverse" | "dtls reverse" => {
                match value.as_text() {
                    Some(v) => self.apply_dtls_reverse(&v),
                    None => self.invalid.push("DTLS-reverse".into()),
                }
            }
            "DTLS-fingerprint" | "dtls-fingerprint" | "DTLS fingerprint" | "dtls fingerprint" => {
                self.dtls.fingerprint = Self::text(value)
            }
            "ICE-lite" | "ICE lite" | "ice-lite" => match value.as_text().as_deref() {
                Some("forward") => self.ice_lite = Some(IceLite::Forward),
                Some("backward") => self.ice_lite = Some(IceLite::Backward),
                Some("both") => self.ice_lite = Some(IceLite::Both),
                Some("off") => self.ice_lite = Some(IceLite::Off),
                _ => self.invalid.push("ICE-lite".into()),
            },
            "rtcp-mux" => {
                for item in value.as_text_list() {
                    self.apply_rtcp_mux(&item);
                }
            }
            "received-from" | "received from" => self.apply_received_from(value),
            "endpoint-learning" | "endpoint learning" => {
                for item in value.as_text_list() {
                    self.apply_endpoint_learning(&item);
                }
            }
            "media-address" | "media address" => match value.as_text().and_then(|s| s.parse().ok())
            {
                Some(ip) => self.media_address = Some(ip),
                None => self.invalid.push("media-address".into()),
            },
            "address-family" | "address family" => match value.as_text().as_deref() {
                Some("IP4") => self.address_family = Some(Family::V4),
                Some("IP6") => self.address_family = Some(Family::V6),
                _ => self.invalid.push("address-family".into()),
            },
            "SDES" => self
                .sdes
                .extend(value.as_text_list().into_iter().map(|s| s.into_owned())),
            "transport-protocol" | "transport protocol" => {
                if let Some(p) = value.as_text() {
                    self.apply_transport(&p);
                }
            }
            "TOS" => match value.as_int() {
                Some(n) => self.tos = tos_request(n),
                None => self.invalid.push("TOS".into()),
            },
            "delete-delay" | "delete delay" => {
                match value.as_int().and_then(|n| u32::try_from(n).ok()) {
                    Some(d) => self.delete_delay = Some(d),
                    None => self.invalid.push(key.to_owned()),
                }
            }
            "supports" => {
                self.supports = value
                    .as_text_list()
                    .into_iter()
                    .map(|s| s.into_owned())
                    .collect()
            }
            "codec" => self.apply_codec(value),
            // 10.5 reads only a list here.
            "T.38" | "T38" | "t38" | "t.38" => {
                if let Value::List(_) = value {
                    for item in value.as_text_list() {
                        self.apply_t38(&item);
                    }
                }
            }
            "ptime" => self.ptime = positive(value),
            "ptime-reverse" | "ptime reverse" | "reverse-ptime" | "reverse ptime" => {
                self.ptime_reverse = positive(value)
            }
            "limit" => {
                self.limit_raw = value.as_int();
                self.limit = value.as_int().and_then(|n| u32::try_from(n).ok());
            }
            k if UNIMPLEMENTED_KEYS.contains(&k) => self.unimplemented.push(k.to_owned()),
            // Unknown keys are ignored, as rtpengine does.
            _ => {}
        }
    }

    /// `codec: {strip: [...], offer: [...], ...}`; `set` (encoder options)
    /// changes nothing in the SDP and is accepted as such.
    fn apply_codec(&mut self, value: &Value<'_>) {
        let Value::Dict(items) = value else {
            self.invalid.push("codec".into());
            return;
        };
        for (sub, names) in items {
            let sub = String::from_utf8_lossy(sub);
            if let Some(list) = self.codec.list_mut(&sub) {
                list.extend(names.as_text_list().iter().map(|n| n.to_string()));
            }
        }
    }

    /// One `T.38` item, spelt as 10.5 accepts it.
    fn apply_t38(&mut self, item: &str) {
        match item.replace(' ', "-").as_str() {
            "decode" => self.t38_decode = true,
            "force" => self.t38_force = true,
            "stop" | "no-ecm" | "no-ECM" | "no-V17" | "no-V.17" | "no-v17" | "no-v.17"
            | "no-V.27ter" | "no-V27ter" | "no-v.27ter" | "no-v27ter" | "no-V29" | "no-V.29"
            | "no-v29" | "no-v.29" | "no-V34" | "no-V.34" | "no-v34" | "no-v.34" | "no-IAF"
            | "no-iaf" | "FEC" | "fec" => {}
            other => self.unimplemented.push(format!("T.38={other}")),
        }
    }

    fn apply_replace(&mut self, item: &str) {
        match item {
            "origin" => self.replace_origin = true,
            "session-connection" | "session connection" => self.replace_session_connection = true,
            "zero-address" | "zero address" => self.replace_zero_address = true,
            other => self.unimplemented.push(format!("replace-{other}")),
        }
    }

    fn apply_ice(&mut self, v: &str) {
        self.ice = match v {
            "remove" => IceMode::Remove,
            "force" => IceMode::Force,
            "default" => IceMode::Default,
            "optional" => IceMode::Optional,
            "force-relay" | "force_relay" => IceMode::ForceRelay,
            other => {
                self.unimplemented.push(format!("ICE={other}"));
                self.ice
            }
        }
    }

    fn apply_rtcp_mux(&mut self, item: &str) {
        match item {
            "offer" => self.rtcp_mux.offer = true,
            "demux" => self.rtcp_mux.demux = true,
            "accept" => self.rtcp_mux.accept = true,
            "reject" => self.rtcp_mux.reject = true,
            "require" => self.rtcp_mux.require = true,
            other => self.invalid.push(format!("rtcp-mux-{other}")),
        }
    }

    /// `DTLS` values; 10.5 logs and ignores unknown ones (we warn).
    fn apply_dtls(&mut self, v: &str) {
        match v {
            "passive" => self.dtls.passive = Some(true),
            "active" => self.dtls.passive = Some(false),
            "off" | "no" | "disable" | "disabled" => self.dtls.off = true,
            other => self.unimplemented.push(format!("DTLS={other}")),
        }
    }

    fn apply_dtls_reverse(&mut self, v: &str) {
        match v {
            "passive" => self.dtls.reverse_passive = Some(true),
            "active" => self.dtls.reverse_passive = Some(false),
            other => self.unimplemented.push(format!("DTLS-reverse={other}")),
        }
    }

    fn apply_transport(&mut self, p: &str) {
        if p == "accept" {
            self.protocol_accept = true;
            return;
        }
        let known = crate::call::protocol::known(p);
        match known {
            // SDES-SRTP (srtp module) and DTLS-SRTP signalling (call::dtls).
            Some(
                "RTP/AVP" | "RTP/AVPF" | "RTP/SAVP" | "RTP/SAVPF" | "UDP/TLS/RTP/SAVP"
                | "UDP/TLS/RTP/SAVPF",
            ) => {}
            _ => self.unimplemented.push(format!("transport-protocol={p}")),
        }
        if let Some(k) = known {
            self.transport_protocol = Some(k.to_owned());
        }
    }

    fn apply_received_from(&mut self, value: &Value<'_>) {
        let parts = value.as_text_list();
        // `[family, address]`; a bare address is accepted too.
        let addr = parts
            .last()
            .and_then(|a| a.trim_matches(['[', ']']).parse::<IpAddr>().ok());
        match addr {
            Some(ip) => self.received_from = Some(ip),
            None => self.invalid.push("received-from".into()),
        }
    }

    /// One item of the `flags` list. Besides plain flags, rtpengine accepts
    /// `key=value` and `prefix-value` spellings of dedicated keys (Kamailio passes
    /// some of them through unchanged).
    fn apply_flag(&mut self, flag: &str) {
        match flag {
            // The later of the two wins, as in 10.5 (one setting there).
            "trust-address" => {
                self.trust_address = true;
                self.sip_source_address = false;
            }
            "SIP-source-address" => {
                self.sip_source_address = true;
                self.trust_address = false;
            }
            "symmetric" => self.symmetric = true,
            "asymmetric" => self.asymmetric = true,
            "unidirectional" => self.unidirectional = true,
            "strict-source" => self.strict_source = true,
            "media-handover" => self.media_handover = true,
            "port-latching" => self.port_latching = true,
            "no-rtcp-attribute" => self.no_rtcp_attribute = true,
            "full-rtcp-attribute" => self.full_rtcp_attribute = true,
            "loop-protect" => self.loop_protect = true,
            "original-sendrecv" => self.original_sendrecv = true,
            "strip-extmap" => self.strip_extmap = true,
            "generate-mid" => self.generate_mid = true,
            "trickle-ICE" | "trickle-ice" => self.trickle_ice = true,
            "reject-ICE" | "reject-ice" | "ICE-reject" | "ice-reject" => self.reject_ice = true,
            "reset" => self.reset = true,
            "passthrough" => self.passthrough = Some(true),
            "no-passthrough" => {
                self.passthrough = Some(self.passthrough == Some(true));
            }
            "fatal" => self.fatal = true,
            "record-call" => self.record_call_flag = true,
            "all" => self.all = true,
            "RTCP-mirror" => self.rtcp_mirror = true,
            "allow-transcoding" => self.allow_transcoding = true,
            "reuse-codecs" | "no-codec-renegotiation" => self.reuse_codecs = true,
            "single-codec" => self.single_codec = true,
            "inject-DTMF" => {
                self.inject_dtmf = true;
                self.unimplemented.push(flag.to_owned());
            }
            // 10.5: accept every codec for transcoding.
            "always-transcode" => self.codec.accept.push("all".into()),
            "RTP/AVP" | "RTP/AVPF" | "RTP/SAVP" | "RTP/SAVPF" | "UDP/TLS/RTP/SAVP"
            | "UDP/TLS/RTP/SAVPF" => self.apply_transport(flag),
            f if UNIMPLEMENTED_FLAGS.contains(&f) => self.unimplemented.push(f.to_owned()),
            f if f.starts_with("SDES-") => self.sdes.push(f["SDES-".len()..].to_owned()),
            // 10.5: the SDES option `pad`.
            "pad-crypto" => self.sdes.push("pad".into()),
            f => self.apply_prefixed_flag(f),
        }
    }

    fn apply_prefixed_flag(&mut self, flag: &str) {
        if let Some((k, v)) = flag.split_once('=') {
            match k {
                "ICE" => self.apply_ice(v),
                "direction" => self.direction.push(v.to_owned()),
                "interface" => self.interface = Some(v.to_owned()),
                "media-address" => match v.parse() {
                    Ok(ip) => self.media_address = Some(ip),
                    Err(_) => self.invalid.push("media-address".into()),
                },
                "address-family" => match v {
                    "IP4" => self.address_family = Some(Family::V4),
                    "IP6" => self.address_family = Some(Family::V6),
                    _ => self.invalid.push("address-family".into()),
                },
                "transport-protocol" => self.apply_transport(v),
                "delete-delay" => match v.parse() {
                    Ok(d) => self.delete_delay = Some(d),
                    Err(_) => self.invalid.push("delete-delay".into()),
                },
                "TOS" => match v.parse() {
                    Ok(n) => self.tos = tos_request(n),
                    Err(_) => self.invalid.push("TOS".into()),
                },
                "label" => self.label = Some(v.to_owned()),
                "via-branch" => self.via_branch = Some(v.to_owned()),
                "to-tag" => self.to_tag = Some(v.to_owned()),
                "from-tag" => self.from_tag = Some(v.to_owned()),
                "call-id" => self.call_id = Some(v.to_owned()),
                "DTLS" | "dtls" => self.apply_dtls(v),
                "DTLS-reverse" | "dtls-reverse" => self.apply_dtls_reverse(v),
                "DTLS-fingerprint" | "dtls-fingerprint" => {
                    self.dtls.fingerprint = Some(v.to_owned())
                }
                other => self.unimplemented.push(format!("{other}={v}")),
            }
            return;
        }
        if let Some((what, name)) = flag
            .strip_prefix("codec-")
            .and_then(|rest| rest.split_once('-'))
        {
            if let Some(list) = self.codec.list_mut(what) {
                list.push(name.to_owned());
                return;
            }
            if what == "set" {
                return;
            }
        }
        if let Some(item) = flag
            .strip_prefix("T38-")
            .or_else(|| flag.strip_prefix("T.38-"))
        {
            self.apply_t38(item);
            return;
        }
        if let Some(name) = flag.strip_prefix("transcode-") {
            self.codec.transcode.push(name.to_owned());
            return;
        }
        if let Some(v) = flag.strip_prefix("endpoint-learning-") {
            self.apply_endpoint_learning(v);
        } else if let Some(v) = flag.strip_prefix("replace-") {
            self.apply_replace(v);
        } else if let Some(v) = flag.strip_prefix("rtcp-mux-") {
            self.apply_rtcp_mux(v);
        } else if let Some(v) = flag.strip_prefix("ICE-") {
            self.apply_ice(v);
        } else {
            // Families we do not implement (`transcode-`, `T38-`, `OSRTP-`,
            // `DTLS-`, `moh-`, other `codec-` forms, ...) and unknown flags alike:
            // rtpengine logs and ignores unknown flags; we report both in the warning.
            self.unimplemented.push(flag.to_owned());
        }
    }

    /// The reply's `warning` text, if anything asked for was not honoured.
    /// One of 10.5's modes; anything else is ignored with a warning, as 10.5 logs
    /// and ignores it.
    fn apply_endpoint_learning(&mut self, mode: &str) {
        match crate::call::LearningMode::from_name(mode) {
            Some(m) => self.endpoint_learning = Some(m),
            None => self.unimplemented.push(format!("endpoint-learning={mode}")),
        }
    }

    pub fn warning(&self) -> Option<String> {
        if self.unimplemented.is_empty() {
            None
        } else {
            Some(format!(
                "Unsupported (ignored): {}",
                self.unimplemented.join(", ")
            ))
        }
    }
}

/// 10.5 reads a space in a flag (or `replace` item) as a dash: `trust
/// address` is `trust-address` (its `str_hyphenate`). A `key=value` flag keeps
/// its value as written.
fn hyphenate(item: &str) -> String {
    match item.split_once('=') {
        Some((key, value)) => format!("{}={value}", key.replace(' ', "-")),
        None => item.replace(' ', "-"),
    }
}

/// A positive number (integer or digits); 10.5 takes anything else as none.
fn positive(value: &Value<'_>) -> Option<u32> {
    value
        .as_int()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
}

/// rtpengine 10.5's reading of a `TOS` number: negative leaves it unchanged,
/// above 255 reverts to the default, else sets it.
fn tos_request(n: i64) -> Option<Option<u8>> {
    match n {
        n if n < 0 => None,
        n => Some(u8::try_from(n).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ng::bencode::{decode, Owned};

    #[test]
    fn parses_prefixed_flags() {
        let flags = [
            "replace-origin",
            "rtcp-mux-demux",
            "ICE=force",
            "SDES-off-foo",
            "direction=pub",
            "reject-ICE",
        ];
        let msg = Owned::dict().with(
            "flags",
            flags.iter().map(|f| Owned::from(*f)).collect::<Vec<_>>(),
        );
        let bytes = msg.encode();
        let v = decode(&bytes).unwrap();
        let f = Flags::parse(&v);
        assert!(f.replace_origin);
        assert!(f.rtcp_mux.demux);
        assert_eq!(f.ice, IceMode::Force);
        assert_eq!(f.direction, vec!["pub"]);
        assert!(f.reject_ice);
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        assert_eq!(f.sdes, vec!["off-foo"]);
    }

    #[test]
    fn dtls_keys_as_10_5_reads_them() {
        let parse = |msg: Owned| {
            let bytes = msg.encode();
            Flags::parse(&decode(&bytes).unwrap())
        };
        let f = parse(Owned::dict().with("DTLS", "passive"));
        assert_eq!(f.dtls.passive, Some(true));
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        let f = parse(Owned::dict().with("DTLS", "active"));
        assert_eq!(f.dtls.passive, Some(false));
        for off in ["off", "no", "disable", "disabled"] {
            assert!(parse(Owned::dict().with("DTLS", off)).dtls.off, "{off}");
        }
        let f = parse(
            Owned::dict()
                .with("DTLS-reverse", "passive")
                .with("DTLS-fingerprint", "sha-384"),
        );
        assert_eq!(f.dtls.reverse_passive, Some(true));
        assert_eq!(f.dtls.fingerprint.as_deref(), Some("sha-384"));
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        let f = parse(Owned::dict().with("DTLS reverse", "active"));
        assert_eq!(f.dtls.reverse_passive, Some(false));
        // As `key=value` items of `flags`, and unknown values warned about.
        let f = parse(Owned::dict().with(
            "flags",
            vec![
                Owned::from("DTLS=passive"),
                Owned::from("DTLS-fingerprint=sha-1"),
                Owned::from("DTLS=sometimes"),
            ],
        ));
        assert_eq!(f.dtls.passive, Some(true));
        assert_eq!(f.dtls.fingerprint.as_deref(), Some("sha-1"));
        assert_eq!(f.unimplemented, vec!["DTLS=sometimes"]);
        // The DTLS-SRTP profiles are implemented transport protocols now.
        let f = parse(Owned::dict().with("transport-protocol", "UDP/TLS/RTP/SAVPF"));
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        // `accept` is no protocol (10.5): answers take the answerer's.
        let f = parse(Owned::dict().with("transport protocol", "accept"));
        assert!(f.protocol_accept);
        assert_eq!(f.transport_protocol, None);
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        // 10.5 matches its table's names without regard to case.
        let f = parse(Owned::dict().with("transport-protocol", "rtp/savp"));
        assert_eq!(f.transport_protocol.as_deref(), Some("RTP/SAVP"));
    }

    #[test]
    fn ice_modes_and_passthrough_flags_are_read_without_warning() {
        let parse = |msg: Owned| Flags::parse(&decode(&msg.encode()).unwrap());
        let f = parse(Owned::dict().with("ICE", "force-relay"));
        assert_eq!(f.ice, IceMode::ForceRelay);
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        let f = parse(Owned::dict().with("ICE", "optional"));
        assert_eq!(f.ice, IceMode::Optional);
        let with = |items: &[&str]| {
            parse(Owned::dict().with(
                "flags",
                items.iter().map(|i| Owned::from(*i)).collect::<Vec<_>>(),
            ))
        };
        assert_eq!(with(&[]).passthrough, None);
        assert_eq!(with(&["passthrough"]).passthrough, Some(true));
        assert_eq!(with(&["no-passthrough"]).passthrough, Some(false));
        // 10.5 looks at `passthrough` first.
        let f = with(&["no-passthrough", "passthrough"]);
        assert_eq!(f.passthrough, Some(true));
        assert_eq!(
            with(&["passthrough", "no-passthrough"]).passthrough,
            Some(true)
        );
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
    }

    #[test]
    fn unimplemented_and_unknown_flags_are_reported() {
        let flags = [
            "T38-bogus",
            "codec-bogus-PCMA",
            "DTLS-passive",
            "no-such-flag",
        ];
        let msg = Owned::dict().with(
            "flags",
            flags.iter().map(|f| Owned::from(*f)).collect::<Vec<_>>(),
        );
        let bytes = msg.encode();
        let f = Flags::parse(&decode(&bytes).unwrap());
        assert_eq!(
            f.unimplemented,
            [
                "T.38=bogus",
                "codec-bogus-PCMA",
                "DTLS-passive",
                "no-such-flag"
            ]
        );
        assert_eq!(
            f.warning().as_deref(),
            Some("Unsupported (ignored): T.38=bogus, codec-bogus-PCMA, DTLS-passive, no-such-flag")
        );
    }

    #[test]
    fn codec_ptime_and_t38_keys_are_read_as_10_5_reads_them() {
        let parse = |msg: Owned| Flags::parse(&decode(&msg.encode()).unwrap());
        let f = parse(
            Owned::dict()
                .with(
                    "codec",
                    Owned::dict()
                        .with("strip", vec![Owned::from("all")])
                        .with("except", vec![Owned::from("opus/48000/2")])
                        .with("transcode", vec![Owned::from("G722")])
                        .with("consume", vec![Owned::from("PCMA")])
                        .with("set", vec![Owned::from("opus/48000/2/32000")]),
                )
                .with("ptime", "30")
                .with("ptime reverse", 20i64)
                .with("T.38", vec![Owned::from("force"), Owned::from("no ECM")])
                .with(
                    "flags",
                    vec![
                        Owned::from("transcode-PCMU"),
                        Owned::from("codec-mask-G729"),
                        Owned::from("codec-set-opus/48000/2/32000"),
                        Owned::from("always-transcode"),
                        Owned::from("single-codec"),
                        Owned::from("no-codec-renegotiation"),
                        Owned::from("T38-decode"),
                    ],
                ),
        );
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
        assert_eq!(f.codec.strip, ["all"]);
        assert_eq!(f.codec.except, ["opus/48000/2"]);
        assert_eq!(f.codec.transcode, ["G722", "PCMU"]);
        assert_eq!(f.codec.mask, ["G729"]);
        assert_eq!(f.codec.consume, ["PCMA"]);
        assert_eq!(f.codec.accept, ["all"]);
        assert_eq!((f.ptime, f.ptime_reverse), (Some(30), Some(20)));
        assert!(f.t38_force && f.t38_decode && f.single_codec && f.reuse_codecs);
        // An answer reads only strip, offer and except.
        let a = f.codec.for_answer();
        assert!(a.transcode.is_empty() && a.consume.is_empty() && a.strip == ["all"]);
        // Zero or negative packet times are none; T.38 must be a list.
        let f = parse(Owned::dict().with("ptime", 0i64).with("T.38", "force"));
        assert_eq!(f.ptime, None);
        assert!(!f.t38_force);
    }

    #[test]
    fn output_destination_is_read_for_the_recording() {
        let f = Flags::parse(
            &decode(&Owned::dict().with("output-destination", "/r/out").encode()).unwrap(),
        );
        assert_eq!(f.output_destination.as_deref(), Some("/r/out"));
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
    }

    #[test]
    fn bad_values_are_invalid_not_panics() {
        let v = decode(b"d3:TOS3:abc13:received-froml3:IP43:bade14:address-family3:IPXe").unwrap();
        let f = Flags::parse(&v);
        assert_eq!(f.invalid, vec!["TOS", "received-from", "address-family"]);
    }

    #[test]
    fn flags_spelt_with_spaces_are_the_dashed_ones() {
        let f = Flags::parse(
            &decode(
                b"d5:flagsl13:trust address17:no rtcp attributee7:replacel18:session connectionee",
            )
            .unwrap(),
        );
        assert!(f.trust_address && f.no_rtcp_attribute && f.replace_session_connection);
        assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
    }

    #[test]
    fn media_address_and_address_family_spelt_with_spaces() {
        let f = Flags::parse(
            &decode(
                &Owned::dict()
                    .with("media address", "2001:db8::7")
                    .with("address family", "IP6")
                    .encode(),
            )
            .unwrap(),
        );
        assert_eq!(f.media_address, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(f.address_family, Some(Family::V6));
        assert!(f.invalid.is_empty() && f.unimplemented.is_empty());
    }

    #[test]
    fn tos_out_of_range_is_taken_as_10_5_takes_it() {
        let tos = |b: &[u8]| Flags::parse(&decode(b).unwrap()).tos;
        assert_eq!(tos(b"d3:TOSi184ee"), Some(Some(184)));
        assert_eq!(tos(b"d3:TOSi-1ee"), None, "negative: unchanged");
        assert_eq!(tos(b"d3:TOSi300ee"), Some(None), "above 255: the default");
        assert_eq!(tos(b"d5:flagsl7:TOS=300ee"), Some(None));
    }
}
