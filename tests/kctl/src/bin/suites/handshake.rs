//! Issue 2: the 10.5 NOOP handshake on /proc/rtpengine/N/control and its errors.

use super::{sh, Checks};
use rtpe_kctl::{main_control, Control, PROC_ROOT};
use rtpengine_core::abi::{cmd, Message, Pod, LIST_ENTRY_SIZE, MESSAGE_SIZE};
use rtpengine_core::errno::*;
use std::io::Read;

pub fn run(t: &mut Checks) {
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("modprobe", ok, &out);
    t.errno("add 3", main_control("add 3\n"), 0);
    let mut c = Control::open(3).expect("open 3/control");

    t.errno("NOOP accepted", c.write_raw(Message::noop().as_bytes()), 0);
    let r = c.write_raw(Message::noop().as_bytes());
    t.check(
        "write returns the message length",
        matches!(r, Ok(n) if n == MESSAGE_SIZE),
        format_args!("{r:?}"),
    );

    let mut m = Message::noop();
    m.u.noop.size = 1000;
    t.errno(
        "NOOP with wrong size → EMSGSIZE",
        c.write_raw(m.as_bytes()),
        EMSGSIZE.0,
    );
    let mut m = Message::noop();
    m.u.noop.last_cmd = 11;
    t.errno(
        "NOOP with wrong last_cmd → ERANGE",
        c.write_raw(m.as_bytes()),
        ERANGE.0,
    );
    let (_, log) = sh("dmesg | tail -n 20");
    t.check(
        "refused handshake is explained in the kernel log with both versions",
        log.contains("version handshake refused: daemon has message size 1232 and 11 commands, this module (rtpengine 10.5 interface) 1232 and 12"),
        &log,
    );
    t.errno(
        "short write → EIO",
        c.write_raw(&Message::noop().as_bytes()[..MESSAGE_SIZE - 1]),
        EIO.0,
    );
    let (_, log) = sh("dmesg | tail -n 5");
    t.check(
        "short write is explained in the kernel log",
        log.contains("control write of 1231 bytes, messages are 1232 bytes"),
        &log,
    );
    t.errno("empty write → EIO", c.write_raw(&[]), EIO.0);
    let mut long = Message::noop().as_bytes().to_vec();
    long.extend_from_slice(&[0u8; 100]);
    t.errno("longer write with NOOP → accepted", c.write_raw(&long), 0);
    let huge = vec![0u8; MESSAGE_SIZE + 70000];
    t.errno("oversize write → EMSGSIZE", c.write_raw(&huge), EMSGSIZE.0);
    t.errno(
        "unknown command → EINVAL",
        c.write_raw(Message::new(99).as_bytes()),
        EINVAL.0,
    );
    t.errno(
        "command 0 → EINVAL",
        c.write_raw(Message::new(0).as_bytes()),
        EINVAL.0,
    );
    t.errno(
        "GET_STATS via write → EINVAL",
        c.write_raw(Message::new(cmd::GET_STATS).as_bytes()),
        EINVAL.0,
    );
    let r = c.exchange(&Message::noop());
    t.check(
        "NOOP via read() executes and echoes",
        matches!(&r, Ok(m) if m.cmd == cmd::NOOP),
        format_args!("{:?}", r.as_ref().err()),
    );

    // blist of an empty table: EOF at once; a wrong-size read is refused.
    let mut f = std::fs::File::open(format!("{PROC_ROOT}/3/blist")).unwrap();
    let mut buf = vec![0u8; LIST_ENTRY_SIZE];
    let r = f.read(&mut buf);
    t.check(
        "blist of an empty table is empty",
        matches!(r, Ok(0)),
        format_args!("{r:?}"),
    );
    let mut small = vec![0u8; 100];
    t.errno(
        "blist read of the wrong size → EINVAL",
        f.read(&mut small),
        EINVAL.0,
    );
    let list = std::fs::read_to_string(format!("{PROC_ROOT}/3/list"));
    t.check(
        "list of an empty table is empty",
        matches!(&list, Ok(s) if s.is_empty()),
        format_args!("{list:?}"),
    );

    drop(c);
    t.errno("del 3", main_control("del 3\n"), 0);
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod", ok, &out);
}
