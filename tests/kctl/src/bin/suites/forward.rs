//! Issue 3: in-kernel forwarding between two namespaces through rules written to the
//! control file, counters, list/blist, and every errno of the control commands.

use super::net::{self, bind, recv, v6, A4, B4, PA4, PB4};
use super::{sh, Checks};
use rtpe_kctl::{blist, main_control, Control, PROC_ROOT};
use rtpengine_core::abi::{
    cipher, hmac, output_flags, src_mismatch, target_flags, Address, DestinationInfo, ListEntry,
    PayloadType, Pod, Srtp, TargetInfo,
};
use rtpengine_core::errno::*;
use std::net::{SocketAddr, UdpSocket};

const TABLE: u32 = 0;

fn sa(a: &Address) -> SocketAddr {
    if a.family == 2 {
        SocketAddr::from(([a.addr[0], a.addr[1], a.addr[2], a.addr[3]], a.port))
    } else {
        SocketAddr::from((a.addr, a.port))
    }
}

fn target(local: Address, outputs: u32) -> TargetInfo {
    let mut t = TargetInfo::zeroed();
    t.local = local;
    t.num_destinations = outputs;
    t.decrypt = Srtp::plain();
    if outputs == 0 {
        t.flags |= target_flags::NON_FORWARDING;
    }
    t
}

fn dest(local: Address, num: u32, src: Address, dst: Address, tos: u8) -> DestinationInfo {
    let mut d = DestinationInfo::zeroed();
    d.local = local;
    d.num = num;
    d.output.src_addr = src;
    d.output.dst_addr = dst;
    d.output.encrypt = Srtp::plain();
    d.output.tos = tos;
    d
}

/// AES-GCM-128 with HMAC-SHA1 on top, with lengths that fit AES-GCM-128.
fn gcm_with_hmac() -> Srtp {
    let mut s = Srtp::plain();
    s.cipher = cipher::AEAD_AES_GCM_128;
    s.hmac = hmac::HMAC_SHA1;
    s.master_key_len = 16;
    s.master_salt_len = 12;
    s.session_key_len = 16;
    s.session_salt_len = 12;
    s.auth_tag_len = 10;
    s
}

fn rtp(pt: u8, seq: u16, ssrc: u32, len: usize) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..len).map(|i| i as u8));
    p
}

fn entry_for(local: &Address) -> Option<ListEntry> {
    blist(TABLE)
        .ok()?
        .into_iter()
        .find(|e| e.target.local == *local)
}

pub fn run(t: &mut Checks) {
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("modprobe", ok, &out);
    let r = net::setup();
    t.check(
        "namespaces A, B and veth links",
        r.is_ok(),
        format_args!("{r:?}"),
    );
    t.errno("add table 0", main_control("add 0\n"), 0);
    let r = net::add_rules(TABLE);
    t.check(
        "iptables/ip6tables -j RTPENGINE --id 0",
        r.is_ok(),
        format_args!("{r:?}"),
    );
    let mut c = Control::open(TABLE).expect("open control");
    t.errno("NOOP", c.noop(), 0);

    ipv4_both_ways(t, &mut c);
    ipv6_both_ways(t, &mut c);
    unknown_port_and_unfilled(t, &mut c);
    source_checks(t, &mut c);
    logged_errors(t, &mut c);
    fan_out(t, &mut c);
    ssrc_and_payload_types(t, &mut c);
    payload_pattern(t, &mut c);
    errors(t, &mut c);
    listing(t, &mut c);
    many_targets(t, &mut c);

    drop(c);
    teardown_with_targets(t);
}

/// A controller fills the table and is SIGKILLed; the table is deleted with its targets
/// in it; rmmod is refused while rules use the target.
fn teardown_with_targets(t: &mut Checks) {
    let slab_before = net::slab_kb();
    let me = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(&me)
        .args(["fill-table", "0", "3000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    t.check(
        "a controller added 3000 targets",
        line.trim() == "ready",
        &line,
    );
    t.errno(
        "del table 0 while its controller lives → EBUSY",
        main_control("del 0\n"),
        EBUSY.0,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let status = super::read_small(&format!("{PROC_ROOT}/{TABLE}/status"));
    t.check(
        "targets survive the controller's SIGKILL",
        status.contains("Targets:     3000\n"),
        &status,
    );
    t.errno(
        "del table 0 with 3000 targets in it",
        main_control("del 0\n"),
        0,
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let slab_after = net::slab_kb();
    t.check(
        "deleting the table freed its targets",
        slab_after < slab_before + 2048,
        format_args!("slab kB before {slab_before}, after {slab_after}"),
    );
    let (ok, _) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod refused while iptables rules use the target", !ok, "");
    let r = net::del_rules(TABLE);
    t.check("rules removed", r.is_ok(), format_args!("{r:?}"));
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod once rules and tables are gone", ok, &out);
}

/// A → proxy:30000 → B:6000 from proxy:30002, and back.
fn ipv4_both_ways(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 30000);
    let pb = Address::v4(PB4, 30002);
    let a = Address::v4(A4, 5000);
    let b = Address::v4(B4, 6000);
    t.errno("v4: ADD_TARGET A side", c.add_target(&target(pa, 1)), 0);
    t.errno(
        "v4: ADD_DESTINATION → B",
        c.add_destination(&dest(pa, 0, pb, b, 0xb8)),
        0,
    );
    t.errno("v4: ADD_TARGET B side", c.add_target(&target(pb, 1)), 0);
    t.errno(
        "v4: ADD_DESTINATION → A",
        c.add_destination(&dest(pb, 0, pa, a, 0)),
        0,
    );

    let sa_ = bind(Some("A"), sa(&a)).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let payload = b"hello from A, through the kernel".to_vec();
    for _ in 0..5 {
        sa_.send_to(&payload, sa(&pa)).unwrap();
    }
    let mut got = 0;
    let mut last = None;
    for _ in 0..5 {
        if let Ok(r) = recv(&sb) {
            got += 1;
            last = Some(r);
        }
    }
    t.check(
        "v4: 5 packets A→B arrive",
        got == 5,
        format_args!("{got} arrived"),
    );
    let r = last.unwrap_or(net::Received {
        data: vec![],
        from: sa(&a),
        tos: None,
    });
    t.check(
        "v4: payload intact",
        r.data == payload,
        format_args!("{:?}", r.data),
    );
    t.check("v4: source is proxy:30002", r.from == sa(&pb), r.from);
    t.check(
        "v4: TOS of the output (0xb8)",
        r.tos == Some(0xb8),
        format_args!("{:?}", r.tos),
    );

    sb.send_to(b"reply", sa(&pb)).unwrap();
    let r = recv(&sa_);
    t.check(
        "v4: B→A arrives from proxy:30000",
        matches!(&r, Ok(x) if x.data == b"reply" && x.from == sa(&pa)),
        format_args!("{r:?}"),
    );
    let e = entry_for(&pa);
    t.check(
        "v4: counters 5 packets, 5×len bytes",
        matches!(&e, Some(e) if e.stats.packets == 5 && e.stats.bytes == 5 * payload.len() as u64 && e.stats.errors == 0),
        format_args!("{:?}", e.map(|e| e.stats)),
    );
    let e = entry_for(&pb);
    t.check(
        "v4: reverse counters",
        matches!(&e, Some(e) if e.stats.packets == 1 && e.stats.bytes == 5),
        "",
    );

    // Deleting stops forwarding at once: the next packet reaches a socket on the proxy.
    let proxy = bind(None, sa(&pa)).unwrap();
    t.errno("v4: DEL_TARGET", c.del_target(&pa), 0);
    sa_.send_to(b"after delete", sa(&pa)).unwrap();
    let r = recv(&proxy);
    t.check(
        "v4: after DEL_TARGET the proxy's socket gets it",
        matches!(&r, Ok(x) if x.data == b"after delete"),
        format_args!("{r:?}"),
    );
    t.check("v4: and B does not", recv(&sb).is_err(), "");
    t.errno("v4: DEL_TARGET again → ENOENT", c.del_target(&pa), ENOENT.0);
    t.errno("v4: DEL_TARGET reverse", c.del_target(&pb), 0);
}

fn ipv6_both_ways(t: &mut Checks, c: &mut Control) {
    let pa = Address::v6(v6(1, 1), 30010);
    let pb = Address::v6(v6(2, 1), 30012);
    let a = Address::v6(v6(1, 2), 5010);
    let b = Address::v6(v6(2, 2), 6010);
    t.errno("v6: ADD_TARGET", c.add_target(&target(pa, 1)), 0);
    t.errno(
        "v6: ADD_DESTINATION",
        c.add_destination(&dest(pa, 0, pb, b, 0x28)),
        0,
    );
    t.errno("v6: ADD_TARGET reverse", c.add_target(&target(pb, 1)), 0);
    t.errno(
        "v6: ADD_DESTINATION reverse",
        c.add_destination(&dest(pb, 0, pa, a, 0)),
        0,
    );
    let sa_ = bind(Some("A"), sa(&a)).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    for i in 0..3u8 {
        sa_.send_to(&[i; 100], sa(&pa)).unwrap();
    }
    let rs: Vec<_> = (0..3).filter_map(|_| recv(&sb).ok()).collect();
    t.check("v6: 3 packets A→B", rs.len() == 3, rs.len());
    t.check(
        "v6: payload, source and traffic class",
        rs.last()
            .is_some_and(|r| r.data == [2u8; 100] && r.from == sa(&pb) && r.tos == Some(0x28)),
        format_args!("{:?}", rs.last()),
    );
    sb.send_to(b"v6 reply", sa(&pb)).unwrap();
    let r = recv(&sa_);
    t.check(
        "v6: B→A",
        matches!(&r, Ok(x) if x.data == b"v6 reply" && x.from == sa(&pa)),
        format_args!("{r:?}"),
    );
    let e = entry_for(&pa);
    t.check(
        "v6: counters",
        matches!(&e, Some(e) if e.stats.packets == 3 && e.stats.bytes == 300),
        format_args!("{:?}", e.map(|e| e.stats)),
    );
    t.errno("v6: DEL_TARGET", c.del_target(&pa), 0);
    t.errno("v6: DEL_TARGET reverse", c.del_target(&pb), 0);
}

fn unknown_port_and_unfilled(t: &mut Checks, c: &mut Control) {
    let unknown = Address::v4(PA4, 31000);
    let s = bind(None, sa(&unknown)).unwrap();
    let a = bind(Some("A"), SocketAddr::from((A4, 5100))).unwrap();
    a.send_to(b"no target here", sa(&unknown)).unwrap();
    let r = recv(&s);
    t.check(
        "unknown port reaches the socket",
        matches!(&r, Ok(x) if x.data == b"no target here"),
        format_args!("{r:?}"),
    );

    // Two outputs announced, one filled: packets still go to userspace.
    let pa = Address::v4(PA4, 31002);
    let proxy = bind(None, sa(&pa)).unwrap();
    t.errno(
        "unfilled: ADD_TARGET with 2 outputs",
        c.add_target(&target(pa, 2)),
        0,
    );
    t.errno(
        "unfilled: first output",
        c.add_destination(&dest(
            pa,
            0,
            Address::v4(PB4, 31004),
            Address::v4(B4, 6100),
            0,
        )),
        0,
    );
    a.send_to(b"not yet", sa(&pa)).unwrap();
    let r = recv(&proxy);
    t.check(
        "unfilled target: packet reaches the socket",
        matches!(&r, Ok(x) if x.data == b"not yet"),
        format_args!("{r:?}"),
    );
    t.errno("unfilled: DEL_TARGET", c.del_target(&pa), 0);
}

fn source_checks(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 32000);
    let out_src = Address::v4(PB4, 32002);
    let b = Address::v4(B4, 6200);
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let proxy = bind(None, sa(&pa)).unwrap();
    let good = bind(Some("A"), SocketAddr::from((A4, 5200))).unwrap();
    let other = bind(Some("A"), SocketAddr::from((A4, 5201))).unwrap();

    let mut ti = target(pa, 1);
    ti.expected_src = Address::v4(A4, 5200);
    ti.src_mismatch = src_mismatch::DROP;
    t.errno("strict: ADD_TARGET with DROP", c.add_target(&ti), 0);
    t.errno(
        "strict: ADD_DESTINATION",
        c.add_destination(&dest(pa, 0, out_src, b, 0)),
        0,
    );
    good.send_to(b"expected", sa(&pa)).unwrap();
    let r = recv(&sb);
    t.check(
        "strict: expected source forwarded",
        matches!(&r, Ok(x) if x.data == b"expected"),
        format_args!("{r:?}"),
    );
    other.send_to(b"spoofed", sa(&pa)).unwrap();
    t.check("strict: other source not forwarded", recv(&sb).is_err(), "");
    t.check(
        "strict: and not delivered to the socket",
        recv(&proxy).is_err(),
        "",
    );
    let e = entry_for(&pa);
    t.check(
        "strict: one error counted",
        matches!(&e, Some(e) if e.stats.errors == 1 && e.stats.packets == 1),
        format_args!("{:?}", e.map(|e| e.stats)),
    );
    t.errno("strict: DEL_TARGET", c.del_target(&pa), 0);

    ti.src_mismatch = src_mismatch::PROPAGATE;
    t.errno("propagate: ADD_TARGET", c.add_target(&ti), 0);
    t.errno(
        "propagate: ADD_DESTINATION",
        c.add_destination(&dest(pa, 0, out_src, b, 0)),
        0,
    );
    other.send_to(b"handover", sa(&pa)).unwrap();
    let r = recv(&proxy);
    t.check(
        "propagate: other source goes to the socket",
        matches!(&r, Ok(x) if x.data == b"handover"),
        format_args!("{r:?}"),
    );
    t.check("propagate: not forwarded", recv(&sb).is_err(), "");
    good.send_to(b"still", sa(&pa)).unwrap();
    t.check(
        "propagate: expected source still forwarded",
        matches!(recv(&sb), Ok(x) if x.data == b"still"),
        "",
    );
    t.errno("propagate: DEL_TARGET", c.del_target(&pa), 0);
}

/// `log_errors`: a packet error goes to the kernel log (rate limited) only while the
/// parameter is set; it is counted either way.
fn logged_errors(t: &mut Checks, c: &mut Control) {
    const PARAM: &str = "/sys/module/xt_RTPENGINE/parameters/log_errors";
    if t.stock {
        // 10.5 has the parameter at load only, not in sysfs.
        return;
    }
    let pa = Address::v4(PA4, 32100);
    let mut ti = target(pa, 1);
    ti.expected_src = Address::v4(A4, 5210);
    ti.src_mismatch = src_mismatch::DROP;
    t.errno("log: ADD_TARGET with DROP", c.add_target(&ti), 0);
    t.errno(
        "log: ADD_DESTINATION",
        c.add_destination(&dest(
            pa,
            0,
            Address::v4(PB4, 32102),
            Address::v4(B4, 6210),
            0,
        )),
        0,
    );
    let spoofer = bind(Some("A"), SocketAddr::from((A4, 5211))).unwrap();
    let line = "table 0 target inet4 10.0.1.1:32100: source address mismatch";
    let logged = || sh("dmesg").1.matches(line).count();
    let errors = || entry_for(&pa).map_or(0, |e| e.stats.errors);
    let wait = std::time::Duration::from_secs(5);

    let param = std::fs::read_to_string(PARAM).unwrap_or_default();
    t.check(
        "log: log_errors is off by default",
        param.trim() == "N",
        &param,
    );
    spoofer.send_to(b"spoofed", sa(&pa)).unwrap();
    t.check(
        "log: error counted while off",
        super::wait_until(wait, || errors() == 1),
        errors(),
    );
    t.check("log: and not logged", logged() == 0, logged());

    t.check(
        "log: set log_errors=1",
        std::fs::write(PARAM, "1").is_ok(),
        "",
    );
    spoofer.send_to(b"spoofed", sa(&pa)).unwrap();
    t.check(
        "log: with log_errors the error is logged",
        super::wait_until(wait, || logged() == 1),
        logged(),
    );
    t.check("log: and counted", errors() == 2, errors());

    t.check(
        "log: set log_errors=0",
        std::fs::write(PARAM, "0").is_ok(),
        "",
    );
    spoofer.send_to(b"spoofed", sa(&pa)).unwrap();
    t.check(
        "log: counted after switching off",
        super::wait_until(wait, || errors() == 3),
        errors(),
    );
    t.check(
        "log: no new line after switching off",
        logged() == 1,
        logged(),
    );
    t.errno("log: DEL_TARGET", c.del_target(&pa), 0);
}

fn fan_out(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 33000);
    t.errno(
        "fan-out: ADD_TARGET with 3 outputs",
        c.add_target(&target(pa, 3)),
        0,
    );
    let sinks: Vec<UdpSocket> = (0..3)
        .map(|i| bind(Some("B"), SocketAddr::from((B4, 6300 + i))))
        .collect::<Result<_, _>>()
        .unwrap();
    for i in 0..3u16 {
        t.errno(
            &format!("fan-out: output {i}"),
            c.add_destination(&dest(
                pa,
                u32::from(i),
                Address::v4(PB4, 33002 + 2 * i),
                Address::v4(B4, 6300 + i),
                0,
            )),
            0,
        );
    }
    let a = bind(Some("A"), SocketAddr::from((A4, 5300))).unwrap();
    a.send_to(b"to all three", sa(&pa)).unwrap();
    for (i, s) in sinks.iter().enumerate() {
        let r = recv(s);
        let want = SocketAddr::from((PB4, 33002 + 2 * i as u16));
        t.check(
            &format!("fan-out: sink {i} gets it from its source port"),
            matches!(&r, Ok(x) if x.data == b"to all three" && x.from == want),
            format_args!("{r:?}"),
        );
    }
    t.errno("fan-out: DEL_TARGET", c.del_target(&pa), 0);
}

fn ssrc_and_payload_types(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 34000);
    let b = Address::v4(B4, 6400);
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let proxy = bind(None, sa(&pa)).unwrap();
    let a = bind(Some("A"), SocketAddr::from((A4, 5400))).unwrap();
    let mut ti = target(pa, 1);
    ti.flags |= target_flags::RTP | target_flags::TRACK_SSRC | target_flags::RTP_STATS;
    ti.ssrc[0] = 0x1111_1111u32.to_be();
    ti.payload_types[0] = PayloadType {
        pt: 8,
        clock_rate: 8000,
        ..Default::default()
    };
    ti.payload_types[1] = PayloadType {
        pt: 0,
        clock_rate: 8000,
        ..Default::default()
    };
    ti.num_payload_types = 2;
    t.errno(
        "rtp: ADD_TARGET (unsorted payload types)",
        c.add_target(&ti),
        0,
    );
    let mut d = dest(pa, 0, Address::v4(PB4, 34002), b, 0);
    d.output.flags = output_flags::SSRC_SUBST;
    d.output.ssrc_out[0] = 0x2222_2222u32.to_be();
    t.errno(
        "rtp: ADD_DESTINATION with SSRC substitution",
        c.add_destination(&d),
        0,
    );

    for seq in 1..=4u16 {
        a.send_to(&rtp(0, seq, 0x1111_1111, 160), sa(&pa)).unwrap();
    }
    let rs: Vec<_> = (0..4).filter_map(|_| recv(&sb).ok()).collect();
    t.check("rtp: 4 packets forwarded", rs.len() == 4, rs.len());
    t.check(
        "rtp: SSRC replaced by the output's",
        rs.iter()
            .all(|r| r.data.get(8..12) == Some(&0x2222_2222u32.to_be_bytes()[..])),
        format_args!("{:?}", rs.first().map(|r| r.data[..12].to_vec())),
    );
    t.check(
        "rtp: rest of the packet unchanged",
        rs.first().is_some_and(|r| {
            let orig = rtp(0, 1, 0x1111_1111, 160);
            r.data[..8] == orig[..8] && r.data[12..] == orig[12..]
        }),
        "",
    );
    a.send_to(&rtp(96, 5, 0x1111_1111, 20), sa(&pa)).unwrap();
    t.check(
        "rtp: unknown payload type goes to userspace",
        matches!(recv(&proxy), Ok(x) if x.data[1] == 96),
        "",
    );
    a.send_to(&rtp(0, 6, 0x3333_3333, 20), sa(&pa)).unwrap();
    t.check(
        "rtp: unknown SSRC goes to userspace",
        matches!(recv(&proxy), Ok(x) if x.data[8..12] == 0x3333_3333u32.to_be_bytes()),
        "",
    );
    a.send_to(&[0x80, 200, 0, 6, 0, 0, 0, 1], sa(&pa)).unwrap();
    t.check(
        "rtp: non-RTP forwarded raw (no rtp_only)",
        matches!(recv(&sb), Ok(x) if x.data[1] == 200),
        "",
    );

    let e = entry_for(&pa).expect("blist entry");
    // 10.5 keeps the daemon's order (its daemon always sorts); we sort.
    let (pt0, idx) = if t.stock { (8, 1) } else { (0, 0) };
    t.check(
        "rtp: payload type order",
        e.target.payload_types[0].pt == pt0,
        "",
    );
    t.check(
        "rtp: per-payload-type counters",
        e.rtp_stats[idx].packets == 4
            && e.rtp_stats[idx].bytes == 4 * 172
            && e.rtp_stats[1 - idx].packets == 0,
        format_args!("{:?}", &e.rtp_stats[..2]),
    );
    t.check(
        "rtp: unknown SSRC counted as error",
        e.stats.errors == 1,
        e.stats.errors,
    );
    let s = c.stats(&pa, false).expect("GET_STATS");
    t.check(
        "rtp: GET_STATS per-SSRC packets/bytes/ext_seq",
        s.ssrc[0] == 0x1111_1111u32.to_be()
            && s.ssrc_stats[0].packets == 4
            && s.ssrc_stats[0].bytes == 4 * 160
            && s.ssrc_stats[0].ext_seq == 4,
        format_args!("{:?}", s.ssrc_stats[0]),
    );
    let s = c.stats(&pa, true).expect("GET_RESET_STATS");
    t.check(
        "rtp: GET_RESET_STATS returns the counts",
        s.ssrc_stats[0].packets == 4,
        "",
    );
    let s = c.stats(&pa, false).expect("GET_STATS");
    t.check(
        "rtp: and resets them",
        s.ssrc_stats[0].packets == 0 && s.ssrc_stats[0].bytes == 0,
        format_args!("{:?}", s.ssrc_stats[0]),
    );
    t.errno("rtp: DEL_TARGET", c.del_target(&pa), 0);
}

/// A payload type with a replacement pattern: every output gets the pattern as payload,
/// the header stays, and only the output with SSRC substitution changes the SSRC.
fn payload_pattern(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 34500);
    let sinks: Vec<UdpSocket> = (0..2)
        .map(|i| bind(Some("B"), SocketAddr::from((B4, 6450 + i))))
        .collect::<Result<_, _>>()
        .unwrap();
    let a = bind(Some("A"), SocketAddr::from((A4, 5450))).unwrap();
    let pattern = *b"\x01\x02\x03\x04\x05";
    let mut ti = target(pa, 2);
    ti.flags |= target_flags::RTP | target_flags::TRACK_SSRC;
    ti.ssrc[0] = 0x1111_1111u32.to_be();
    let mut with_pattern = PayloadType {
        pt: 0,
        clock_rate: 8000,
        ..Default::default()
    };
    with_pattern.replace_pattern[..pattern.len()].copy_from_slice(&pattern);
    with_pattern.replace_pattern_len = pattern.len() as u8;
    ti.payload_types[0] = with_pattern;
    ti.payload_types[1] = PayloadType {
        pt: 8,
        clock_rate: 8000,
        ..Default::default()
    };
    ti.num_payload_types = 2;
    t.errno(
        "pattern: ADD_TARGET with a pattern for PT 0",
        c.add_target(&ti),
        0,
    );
    let mut d = dest(pa, 0, Address::v4(PB4, 34502), Address::v4(B4, 6450), 0);
    d.output.flags = output_flags::SSRC_SUBST;
    d.output.ssrc_out[0] = 0x2222_2222u32.to_be();
    t.errno(
        "pattern: output 0 with SSRC substitution",
        c.add_destination(&d),
        0,
    );
    t.errno(
        "pattern: output 1 without",
        c.add_destination(&dest(
            pa,
            1,
            Address::v4(PB4, 34504),
            Address::v4(B4, 6451),
            0,
        )),
        0,
    );

    let sent = rtp(0, 1, 0x1111_1111, 160);
    a.send_to(&sent, sa(&pa)).unwrap();
    let got: Vec<_> = sinks.iter().map(|s| recv(s).map(|r| r.data)).collect();
    let patterned = |r: &std::io::Result<Vec<u8>>| matches!(r, Ok(d) if d.len() == sent.len() && d[12..].chunks(5).all(|c| c == pattern));
    t.check(
        "pattern: both outputs carry the pattern as payload",
        got.iter().all(patterned),
        format_args!("{got:?}"),
    );
    t.check(
        "pattern: output 0 has the substituted SSRC, the rest of its header intact",
        matches!(&got[0], Ok(d) if d.get(8..12) == Some(&0x2222_2222u32.to_be_bytes()[..]) && d[..8] == sent[..8]),
        format_args!("{:?}", got[0].as_ref().map(|d| d[..12.min(d.len())].to_vec())),
    );
    t.check(
        "pattern: output 1 keeps the header as received",
        matches!(&got[1], Ok(d) if d.get(..12) == Some(&sent[..12])),
        format_args!(
            "{:?}",
            got[1].as_ref().map(|d| d[..12.min(d.len())].to_vec())
        ),
    );
    let sent = rtp(8, 2, 0x1111_1111, 160);
    a.send_to(&sent, sa(&pa)).unwrap();
    let r = recv(&sinks[1]);
    t.check(
        "pattern: a payload type without one is forwarded unchanged",
        matches!(&r, Ok(x) if x.data == sent),
        format_args!("{r:?}"),
    );
    let _ = recv(&sinks[0]);
    t.errno("pattern: DEL_TARGET", c.del_target(&pa), 0);
}

fn errors(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 35000);
    let src = Address::v4(PB4, 35002);
    let dst = Address::v4(B4, 6500);
    let mut bad = target(pa, 1);
    bad.local.port = 0;
    t.errno("ADD_TARGET port 0 → EINVAL", c.add_target(&bad), EINVAL.0);
    let mut bad = target(pa, 1);
    bad.local.family = 99;
    t.errno(
        "ADD_TARGET bad family → EINVAL",
        c.add_target(&bad),
        EINVAL.0,
    );
    let mut bad = target(pa, 1);
    bad.num_destinations = 33;
    t.errno(
        "ADD_TARGET 33 outputs → EINVAL",
        c.add_target(&bad),
        EINVAL.0,
    );
    let mut bad = target(pa, 0);
    bad.flags = 0;
    t.errno(
        "ADD_TARGET no outputs without non_forwarding → EINVAL",
        c.add_target(&bad),
        EINVAL.0,
    );
    let mut bad = target(pa, 1);
    bad.flags |= target_flags::NON_FORWARDING;
    t.errno(
        "ADD_TARGET non_forwarding with outputs → EINVAL",
        c.add_target(&bad),
        EINVAL.0,
    );
    let mut bad = target(pa, 1);
    bad.decrypt.cipher = cipher::INVALID;
    t.errno("ADD_TARGET cipher 0 → EINVAL", c.add_target(&bad), EINVAL.0);
    let mut bad = target(pa, 1);
    bad.decrypt.hmac = hmac::INVALID;
    t.errno("ADD_TARGET hmac 0 → EINVAL", c.add_target(&bad), EINVAL.0);
    let mut bad = target(pa, 1);
    bad.decrypt.cipher = 8;
    t.errno("ADD_TARGET cipher 8 → EINVAL", c.add_target(&bad), EINVAL.0);
    // A combination the module does not implement (10.5 takes it and runs both).
    let mut bad = target(pa, 1);
    bad.decrypt = gcm_with_hmac();
    t.errno(
        "ADD_TARGET AES-GCM with HMAC-SHA1 → EINVAL",
        c.add_target(&bad),
        if t.stock { 0 } else { EINVAL.0 },
    );
    let _ = c.del_target(&pa);
    let mut bad = target(pa, 1);
    bad.num_payload_types = 40;
    // 10.5 accepts a count beyond its 32-entry array.
    t.errno(
        "ADD_TARGET 40 payload types → EINVAL",
        c.add_target(&bad),
        if t.stock { 0 } else { EINVAL.0 },
    );
    let _ = c.del_target(&pa);

    t.errno(
        "ADD_DESTINATION without target → ENOENT",
        c.add_destination(&dest(pa, 0, src, dst, 0)),
        ENOENT.0,
    );
    t.errno("ADD_TARGET", c.add_target(&target(pa, 2)), 0);
    t.errno(
        "ADD_TARGET duplicate → EEXIST",
        c.add_target(&target(pa, 2)),
        EEXIST.0,
    );
    let mut d = dest(pa, 0, src, dst, 0);
    d.output.encrypt = gcm_with_hmac();
    let r = c.add_destination(&d);
    t.errno(
        "ADD_DESTINATION AES-GCM with HMAC-SHA1 → EINVAL",
        r,
        if t.stock { 0 } else { EINVAL.0 },
    );
    if t.stock {
        // 10.5 filled output 0 with it: start the target over.
        let _ = c.del_target(&pa);
        let _ = c.add_target(&target(pa, 2));
    }
    t.errno(
        "ADD_DESTINATION family mismatch → EINVAL",
        c.add_destination(&dest(pa, 0, src, Address::v6(v6(2, 2), 1), 0)),
        EINVAL.0,
    );
    t.errno(
        "ADD_DESTINATION dst port 0 → EINVAL",
        c.add_destination(&dest(pa, 0, src, Address::v4(B4, 0), 0)),
        EINVAL.0,
    );
    t.errno(
        "ADD_DESTINATION num 2 of 2 → ERANGE",
        c.add_destination(&dest(pa, 2, src, dst, 0)),
        ERANGE.0,
    );
    t.errno(
        "ADD_DESTINATION 0",
        c.add_destination(&dest(pa, 0, src, dst, 0)),
        0,
    );
    t.errno(
        "ADD_DESTINATION 0 again → EEXIST",
        c.add_destination(&dest(pa, 0, src, dst, 0)),
        EEXIST.0,
    );
    t.errno(
        "ADD_DESTINATION 1",
        c.add_destination(&dest(pa, 1, src, dst, 0)),
        0,
    );
    t.errno(
        "ADD_DESTINATION when all filled → EBUSY",
        c.add_destination(&dest(pa, 1, src, dst, 0)),
        EBUSY.0,
    );
    t.errno(
        "GET_STATS of a missing target → ENOENT",
        c.stats(&Address::v4(PA4, 1), false),
        ENOENT.0,
    );
    t.errno(
        "DEL_TARGET missing → ENOENT",
        c.del_target(&Address::v4(PA4, 2)),
        ENOENT.0,
    );
    t.errno(
        "DEL_TARGET invalid address → EINVAL",
        c.del_target(&Address::default()),
        EINVAL.0,
    );
    t.errno("DEL_TARGET", c.del_target(&pa), 0);
    let mut m = rtpengine_core::abi::Message::new(rtpengine_core::abi::cmd::ADD_CALL);
    m.u.call.call_id = [b'x'; 256];
    t.errno(
        "ADD_CALL unterminated call id → EINVAL",
        c.exchange(&m).map(|m| m.cmd),
        EINVAL.0,
    );
    t.errno(
        "DEL_CALL of an unknown call → ENOENT",
        c.send(&rtpengine_core::abi::Message::new(
            rtpengine_core::abi::cmd::DEL_CALL,
        )),
        ENOENT.0,
    );
}

fn listing(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 36000);
    let mut ti = target(pa, 1);
    ti.expected_src = Address::v4(A4, 5600);
    ti.src_mismatch = src_mismatch::DROP;
    ti.flags |= target_flags::RTCP_MUX | target_flags::STUN;
    ti.ssrc[0] = 0x6543u32.to_be();
    t.errno("list: ADD_TARGET", c.add_target(&ti), 0);
    let d = dest(pa, 0, Address::v4(PB4, 36002), Address::v4(B4, 6600), 0x10);
    t.errno("list: ADD_DESTINATION", c.add_destination(&d), 0);
    let text = std::fs::read_to_string(format!("{PROC_ROOT}/{TABLE}/list")).unwrap_or_default();
    for needle in [
        "local inet4 10.0.1.1:36000\n",
        "    expect inet4 10.0.1.2:5600\n",
        "    src mismatch action: drop\n",
        "    SSRC in: 6543\n",
        "    option: rtcp-mux\n",
        "    option: stun\n",
        "    output #0\n",
        "       src inet4 10.0.2.1:36002\n",
        "       dst inet4 10.0.2.2:6600\n",
    ] {
        t.check(
            &format!("list shows {:?}", needle.trim()),
            text.contains(needle),
            &text,
        );
    }
    t.check(
        "list has no key material",
        !text.contains("key") && !text.contains("salt"),
        &text,
    );
    // Reading with a tiny buffer gives the same text.
    let small =
        rtpe_kctl::read_in_chunks(&format!("{PROC_ROOT}/{TABLE}/list"), 7).unwrap_or_default();
    t.check(
        "list read 7 bytes at a time is identical",
        small == text.as_bytes(),
        small.len(),
    );

    let e = entry_for(&pa);
    let mut want = ti;
    want.local = pa;
    t.check(
        "blist: target as written",
        matches!(&e, Some(e) if e.target == want),
        "",
    );
    let mut o = d.output;
    o._pad = [0; 6];
    t.check(
        "blist: output as written",
        matches!(&e, Some(e) if e.outputs[0] == o),
        format_args!("{:?}", e.map(|e| e.outputs[0])),
    );
    t.errno("list: DEL_TARGET", c.del_target(&pa), 0);
}

fn many_targets(t: &mut Checks, c: &mut Control) {
    let before = net::slab_kb();
    let n = 5000u16;
    let mut failures = 0;
    for i in 0..n {
        let local = Address::v4(PA4, 40000 + i);
        if c.add_target(&target(local, 1)).is_err()
            || c.add_destination(&dest(
                local,
                0,
                Address::v4(PB4, 40000 + i),
                Address::v4(B4, 7000 + i % 100),
                0,
            ))
            .is_err()
        {
            failures += 1;
        }
    }
    t.check("5000 targets added", failures == 0, failures);
    let status = super::read_small(&format!("{PROC_ROOT}/{TABLE}/status"));
    t.check(
        "status counts 5000 targets",
        status.contains("Targets:     5000\n"),
        &status,
    );
    let entries = blist(TABLE).map(|v| v.len()).unwrap_or(0);
    t.check("blist returns 5000 records", entries == 5000, entries);
    let grown = net::slab_kb();
    let sink = bind(Some("B"), SocketAddr::from((B4, 7042))).unwrap();
    let a = bind(Some("A"), SocketAddr::from((A4, 5700))).unwrap();
    for i in [42u16, 142, 4942] {
        a.send_to(b"among many", SocketAddr::from((PA4, 40000 + i)))
            .unwrap();
    }
    let got = (0..3).filter(|_| recv(&sink).is_ok()).count();
    t.check("traffic to 3 of 5000 targets forwarded", got == 3, got);
    let mut failures = 0;
    for i in 0..n {
        if c.del_target(&Address::v4(PA4, 40000 + i)).is_err() {
            failures += 1;
        }
    }
    t.check("5000 targets deleted", failures == 0, failures);
    std::thread::sleep(std::time::Duration::from_millis(1500)); // RCU frees
    let after = net::slab_kb();
    t.check(
        "slab memory grew with the targets and came back (no leak)",
        grown > before + 5000 && after < before + 2048,
        format_args!("slab kB before {before}, with targets {grown}, after delete {after}"),
    );
    let status = super::read_small(&format!("{PROC_ROOT}/{TABLE}/status"));
    t.check(
        "status counts 0 targets",
        status.contains("Targets:     0\n"),
        &status,
    );
}
