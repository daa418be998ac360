//! Validation of control messages, with the errno rtpengine 10.5 answers for each rule.

use super::abi::{cmd, CallInfo, Message, NoopInfo, StreamInfo, MESSAGE_SIZE};
use super::errno::{self, Errno};

/// Largest write accepted on a control file: a message plus one packet for PACKET.
/// (10.5 allocates whatever the caller asks for; we bound it.)
pub const MAX_CONTROL_WRITE: usize = MESSAGE_SIZE + 65536;

/// Length check of a control-file read or write, before anything is copied.
pub fn control_len(len: usize) -> Result<(), Errno> {
    if len < MESSAGE_SIZE {
        Err(errno::EIO)
    } else if len > MAX_CONTROL_WRITE {
        Err(errno::EMSGSIZE)
    } else {
        Ok(())
    }
}

/// The NOOP handshake: the caller's idea of the message size and command count must be ours.
/// As in 10.5 a wrong command count wins over a wrong size (ERANGE over EMSGSIZE).
pub fn noop(n: &NoopInfo) -> Result<(), Errno> {
    if n.last_cmd != cmd::LAST as i32 {
        return Err(errno::ERANGE);
    }
    if n.size != MESSAGE_SIZE as u64 {
        return Err(errno::EMSGSIZE);
    }
    Ok(())
}

/// Commands that answer with data and so only work through read() (EINVAL via write()).
pub fn needs_read(command: u32) -> bool {
    matches!(
        command,
        cmd::GET_STATS | cmd::GET_RESET_STATS | cmd::ADD_CALL | cmd::ADD_STREAM
    )
}

/// First check of any message: known command, issued the right way.
pub fn command(m: &Message, is_read: bool) -> Result<u32, Errno> {
    let c = m.cmd;
    if c == 0 || c >= cmd::LAST {
        return Err(errno::EINVAL);
    }
    if needs_read(c) && !is_read {
        return Err(errno::EINVAL);
    }
    Ok(c)
}

/// ADD_CALL: the call id must be a NUL-terminated string within its 256 bytes.
pub fn call(c: &CallInfo) -> Result<(), Errno> {
    if c.call_id.contains(&0) {
        Ok(())
    } else {
        Err(errno::EINVAL)
    }
}

/// ADD_STREAM / DEL_STREAM: the stream name must be NUL-terminated within its 256 bytes.
pub fn stream(s: &StreamInfo) -> Result<(), Errno> {
    if s.stream_name.contains(&0) {
        Ok(())
    } else {
        Err(errno::EINVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noop_handshake() {
        assert_eq!(noop(&Message::noop().noop_info()), Ok(()));
        let mut n = Message::noop().noop_info();
        n.size = 1231;
        assert_eq!(noop(&n), Err(errno::EMSGSIZE));
        n.last_cmd = 11;
        assert_eq!(noop(&n), Err(errno::ERANGE));
        let mut n = Message::noop().noop_info();
        n.last_cmd = 13;
        assert_eq!(noop(&n), Err(errno::ERANGE));
    }

    #[test]
    fn lengths() {
        assert_eq!(control_len(0), Err(errno::EIO));
        assert_eq!(control_len(MESSAGE_SIZE - 1), Err(errno::EIO));
        assert_eq!(control_len(MESSAGE_SIZE), Ok(()));
        assert_eq!(control_len(MAX_CONTROL_WRITE), Ok(()));
        assert_eq!(control_len(MAX_CONTROL_WRITE + 1), Err(errno::EMSGSIZE));
    }

    #[test]
    fn names_must_be_terminated() {
        use super::super::abi::Pod;
        let mut c = CallInfo::zeroed();
        assert_eq!(call(&c), Ok(()));
        c.call_id = [b'a'; 256];
        assert_eq!(call(&c), Err(errno::EINVAL));
        let mut s = StreamInfo::zeroed();
        assert_eq!(stream(&s), Ok(()));
        s.stream_name = [b'x'; 256];
        assert_eq!(stream(&s), Err(errno::EINVAL));
    }

    #[test]
    fn commands() {
        assert_eq!(command(&Message::new(0), false), Err(errno::EINVAL));
        assert_eq!(command(&Message::new(12), false), Err(errno::EINVAL));
        assert_eq!(
            command(&Message::new(cmd::GET_STATS), false),
            Err(errno::EINVAL)
        );
        assert_eq!(
            command(&Message::new(cmd::GET_STATS), true),
            Ok(cmd::GET_STATS)
        );
        assert_eq!(
            command(&Message::new(cmd::ADD_TARGET), false),
            Ok(cmd::ADD_TARGET)
        );
        assert_eq!(command(&Message::new(cmd::NOOP), true), Ok(cmd::NOOP));
    }
}
