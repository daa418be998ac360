//! Commands written to `/proc/rtpengine/control` (`add N`, `del N`) and the text that the
//! small /proc files print. Rules follow rtpengine 10.5: the write is 6..=20 bytes, the id
//! is decimal and below 64; anything else is EINVAL. Unlike 10.5 we also refuse trailing
//! junk after the number (only whitespace such as the newline from `echo` may follow).

use super::abi::MAX_TABLES;

/// A parsed `/proc/rtpengine/control` command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MainCommand {
    Add(u32),
    Del(u32),
}

/// Why a control write was refused (the module maps every variant to EINVAL).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MainCommandError {
    /// Shorter than 6 or longer than 20 bytes.
    Length,
    /// Neither `add ` nor `del `.
    UnknownVerb,
    /// No digits, junk after the digits, or an id of 64 or more.
    BadId,
}

/// Shortest and longest accepted write, as in 10.5.
pub const MIN_WRITE: usize = 6;
pub const MAX_WRITE: usize = 20;

pub fn parse_main_command(buf: &[u8]) -> Result<MainCommand, MainCommandError> {
    if buf.len() < MIN_WRITE || buf.len() > MAX_WRITE {
        return Err(MainCommandError::Length);
    }
    let (Some(verb), Some(rest)) = (buf.get(..4), buf.get(4..)) else {
        return Err(MainCommandError::Length);
    };
    let make: fn(u32) -> MainCommand = match verb {
        b"add " => MainCommand::Add,
        b"del " => MainCommand::Del,
        _ => return Err(MainCommandError::UnknownVerb),
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(MainCommandError::BadId);
    }
    let (Some(num), Some(tail)) = (rest.get(..digits), rest.get(digits..)) else {
        return Err(MainCommandError::BadId);
    };
    if !tail
        .iter()
        .all(|&b| b == b'\n' || b == b' ' || b == b'\t' || b == b'\r' || b == 0)
    {
        return Err(MainCommandError::BadId);
    }
    let mut id: u32 = 0;
    for &d in num {
        // At most 16 digits fit in a 20-byte write; saturate instead of overflowing.
        id = id
            .saturating_mul(10)
            .saturating_add(u32::from(d.wrapping_sub(b'0')));
    }
    if id >= MAX_TABLES {
        return Err(MainCommandError::BadId);
    }
    Ok(make(id))
}

/// A fixed-capacity text buffer for formatting /proc output without allocation.
/// Writes past the capacity fail with `core::fmt::Error` instead of truncating silently.
pub struct TextBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> TextBuf<N> {
    pub const fn new() -> Self {
        TextBuf {
            buf: [0; N],
            len: 0,
        }
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> Default for TextBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Write for TextBuf<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        if end > N {
            return Err(core::fmt::Error);
        }
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `/proc/rtpengine/N/status`, same text as 10.5.
pub fn format_status(
    out: &mut impl core::fmt::Write,
    refcount: u32,
    control_pid: u32,
    targets: u32,
) -> core::fmt::Result {
    write!(
        out,
        "Refcount:    {}\nControl PID: {}\nTargets:     {}\n",
        refcount, control_pid, targets
    )
}

/// The part of a text file that a read at `offset` of at most `len` bytes returns.
pub fn read_window(text: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    let end = start.saturating_add(len).min(text.len());
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn accepts_add_and_del_in_range() {
        assert_eq!(parse_main_command(b"add 0\n"), Ok(MainCommand::Add(0)));
        assert_eq!(parse_main_command(b"add 42"), Ok(MainCommand::Add(42)));
        assert_eq!(parse_main_command(b"del 63\n"), Ok(MainCommand::Del(63)));
        assert_eq!(parse_main_command(b"add 007\n"), Ok(MainCommand::Add(7)));
    }

    #[test]
    fn refuses_what_10_5_refuses() {
        // 10.5 wants 6..=20 bytes: `echo -n "add 0"` is 5 bytes.
        assert_eq!(parse_main_command(b"add 0"), Err(MainCommandError::Length));
        assert_eq!(
            parse_main_command(b"add 1                 \n"),
            Err(MainCommandError::Length)
        );
        assert_eq!(
            parse_main_command(b"add 64\n"),
            Err(MainCommandError::BadId)
        );
        assert_eq!(
            parse_main_command(b"add 99999999999\n"),
            Err(MainCommandError::BadId)
        );
        assert_eq!(
            parse_main_command(b"add -1\n"),
            Err(MainCommandError::BadId)
        );
        assert_eq!(
            parse_main_command(b"add x1\n"),
            Err(MainCommandError::BadId)
        );
        assert_eq!(
            parse_main_command(b"put 1\n"),
            Err(MainCommandError::UnknownVerb)
        );
        assert_eq!(
            parse_main_command(b"ADD 1\n"),
            Err(MainCommandError::UnknownVerb)
        );
        assert_eq!(
            parse_main_command(b"add  1\n"),
            Err(MainCommandError::BadId)
        );
    }

    #[test]
    fn refuses_trailing_junk() {
        assert_eq!(
            parse_main_command(b"add 4x\n"),
            Err(MainCommandError::BadId)
        );
        assert_eq!(
            parse_main_command(b"del 1 2\n"),
            Err(MainCommandError::BadId)
        );
    }

    #[test]
    fn status_text_matches_10_5() {
        let mut t = TextBuf::<128>::new();
        format_status(&mut t, 1, 4242, 3).unwrap();
        assert_eq!(
            t.as_bytes(),
            b"Refcount:    1\nControl PID: 4242\nTargets:     3\n"
        );
    }

    #[test]
    fn text_buffer_refuses_overflow() {
        let mut t = TextBuf::<4>::new();
        assert!(write!(t, "abcd").is_ok());
        assert!(write!(t, "e").is_err());
        assert_eq!(t.as_bytes(), b"abcd");
    }

    #[test]
    fn read_window_clamps() {
        assert_eq!(read_window(b"hello", 0, 3), b"hel");
        assert_eq!(read_window(b"hello", 3, 10), b"lo");
        assert_eq!(read_window(b"hello", 9, 10), b"");
        assert_eq!(read_window(b"hello", u64::MAX, usize::MAX), b"");
    }
}
