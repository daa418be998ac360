//! The rtpproxy command line grammar as rtpengine 10.5 reads it:
//! `COOKIE CMD[FLAGS] ARGS...`, case-insensitive commands, whitespace
//! separated, an optional `\r\n` at the end.
//!
//! | command | arguments |
//! |---------|-----------|
//! | `U`/`L` | `CALLID[;BRANCH] ADDR PORT FROMTAG;NUM [TOTAG;NUM [anything]]` |
//! | `D`/`Q` | `CALLID[;BRANCH] FROMTAG[;NUM] [TOTAG[;NUM]]` |
//! | `V`     | `[PARAM]` (`VF DATE` asks for a capability) |
//!
//! A line that fits none of them still gets an answer when it starts with a
//! cookie: an update or lookup with at least five words gets its own fourth
//! and fifth word back swapped (so a caller's media goes direct), anything
//! else `E8`. Such fallback answers are not cached.

/// One parsed datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Nothing to answer: no cookie (empty or leading whitespace).
    Silent,
    /// A line outside the grammar; `reply` is the whole answer.
    Fallback { cookie: &'a [u8], reply: Vec<u8> },
    /// A command of the grammar.
    Command { cookie: &'a [u8], command: Command },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `V`: the protocol version.
    Version,
    /// `VF DATE`: is the capability of that date supported?
    Capability(Option<String>),
    /// `U`: an offer.
    Update(Stream),
    /// `L`: an answer.
    Lookup(Stream),
    Delete(Tags),
    Query(Tags),
}

/// The arguments of `U`/`L`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The letters after the command (only `E`/`I` mean something in 10.5).
    pub flags: String,
    pub call_id: String,
    pub via_branch: Option<String>,
    /// The address exactly as written (checked when used).
    pub addr: String,
    pub port: String,
    pub from_tag: String,
    /// The media number after the from-tag's `;`.
    pub num: String,
    pub to_tag: Option<String>,
}

impl Stream {
    /// The interface directions the flags ask for: `E` external, `I`
    /// internal, the first two of them.
    pub fn directions(&self) -> Vec<String> {
        self.flags
            .chars()
            .filter_map(|c| match c.to_ascii_uppercase() {
                'E' => Some("external".to_owned()),
                'I' => Some("internal".to_owned()),
                _ => None,
            })
            .take(2)
            .collect()
    }

    /// The media index (`NUM`, 1 when 0 or unreadable), as 10.5 takes it.
    pub fn index(&self) -> u32 {
        match atoi(&self.num) {
            0 => 1,
            n => n as u32,
        }
    }
}

/// The arguments of `D`/`Q`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tags {
    pub flags: String,
    pub call_id: String,
    pub via_branch: Option<String>,
    pub from_tag: String,
    pub to_tag: Option<String>,
}

/// C's `atoi` on a string of digits: leading digits, wrapping as a 32-bit int.
pub fn atoi(s: &str) -> i64 {
    let mut n: i32 = 0;
    for c in s.bytes().take_while(u8::is_ascii_digit) {
        n = n.wrapping_mul(10).wrapping_add(i32::from(c - b'0'));
    }
    i64::from(n)
}

/// PCRE's `\s` without UTF: space, tab, LF, VT, FF, CR.
fn ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A cursor over the bytes of a line.
#[derive(Clone, Copy)]
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    /// One or more whitespace bytes.
    fn spaces(&mut self) -> bool {
        let start = self.i;
        while self.i < self.s.len() && ws(self.s[self.i]) {
            self.i += 1;
        }
        self.i > start
    }

    /// A maximal run of non-whitespace (may be empty).
    fn word(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.i < self.s.len() && !ws(self.s[self.i]) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// The line ends here, after an optional `\r` and an optional `\n`.
    fn at_end(&self) -> bool {
        matches!(&self.s[self.i..], b"" | b"\r" | b"\n" | b"\r\n")
    }

    fn rest(&self) -> &'a [u8] {
        &self.s[self.i..]
    }
}

/// Parse one datagram.
pub fn parse(line: &[u8]) -> Parsed<'_> {
    match parse_command(line) {
        Some((cookie, command)) => Parsed::Command { cookie, command },
        None => fallback(line),
    }
}

fn parse_command(line: &[u8]) -> Option<(&[u8], Command)> {
    let mut c = Cur { s: line, i: 0 };
    let cookie = c.word();
    if cookie.is_empty() || !c.spaces() {
        return None;
    }
    let cmd = c.word();
    let (&letter, flags) = cmd.split_first()?;
    let flags = text(flags);
    let command = match letter.to_ascii_lowercase() {
        b'u' | b'l' => {
            let stream = update_args(c, flags)?;
            if letter.eq_ignore_ascii_case(&b'u') {
                Command::Update(stream)
            } else {
                Command::Lookup(stream)
            }
        }
        b'd' | b'q' => {
            let tags = tag_args(c, flags)?;
            if letter.eq_ignore_ascii_case(&b'd') {
                Command::Delete(tags)
            } else {
                Command::Query(tags)
            }
        }
        b'v' => {
            // Whatever follows the first parameter is ignored.
            let mut p = c;
            let param = (p.spaces() && p.i < line.len()).then(|| text(p.word()));
            if flags.starts_with(['f', 'F']) {
                Command::Capability(param)
            } else {
                Command::Version
            }
        }
        _ => return None,
    };
    Some((cookie, command))
}

/// `U`/`L` arguments from `c` (just after the command word). The call-id
/// runs up to a `;` and may hold whitespace: the longest call-id after which
/// the rest parses is taken.
fn update_args(mut c: Cur<'_>, flags: String) -> Option<Stream> {
    if !c.spaces() {
        return None;
    }
    let rest = c.rest();
    let limit = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    (1..=limit).rev().find_map(|end| {
        let after = Cur {
            s: c.s,
            i: c.i + end,
        };
        update_tail(after, &rest[..end], &flags)
    })
}

fn update_tail(mut c: Cur<'_>, call_id: &[u8], flags: &str) -> Option<Stream> {
    let via_branch = branch(&mut c)?;
    if !c.spaces() {
        return None;
    }
    let addr = c.word();
    if !is_addr(addr) || !c.spaces() {
        return None;
    }
    let port = c.word();
    if port.is_empty() || !port.iter().all(u8::is_ascii_digit) || !c.spaces() {
        return None;
    }
    let (from_tag, num) = tag_num(c.word())?;
    let to_tag = if c.at_end() {
        None
    } else {
        if !c.spaces() {
            return None;
        }
        let (to, _) = tag_num(c.word())?;
        // After the to-tag anything may follow a space.
        if !c.at_end() && !c.spaces() {
            return None;
        }
        Some(to)
    };
    Some(Stream {
        flags: flags.to_owned(),
        call_id: text(call_id),
        via_branch,
        addr: text(addr),
        port: text(port),
        from_tag,
        num,
        to_tag,
    })
}

/// `;BRANCH` right after a call-id: `None` when a `;` has nothing after it.
fn branch(c: &mut Cur<'_>) -> Option<Option<String>> {
    if c.rest().first() != Some(&b';') {
        return Some(None);
    }
    c.i += 1;
    let b = c.word();
    (!b.is_empty()).then(|| Some(text(b)))
}

/// `TAG;NUM` (both required, NUM digits): split at the last `;`.
fn tag_num(word: &[u8]) -> Option<(String, String)> {
    let at = word.iter().rposition(|&b| b == b';')?;
    let (tag, num) = (&word[..at], &word[at + 1..]);
    if tag.is_empty() || num.is_empty() || !num.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((text(tag), text(num)))
}

/// `TAG` with an optional `;NUM` dropped.
fn tag_opt_num(word: &[u8]) -> String {
    match tag_num(word) {
        Some((tag, _)) => tag,
        None => text(word),
    }
}

/// Digits and dots, or hex digits and colons with an optional IPv4 tail
/// after `:ffff:`. Linear in the word (it may be 64 KiB of garbage).
fn is_addr(w: &[u8]) -> bool {
    let dotted = |b: &u8| b.is_ascii_digit() || *b == b'.';
    let hex = |b: &u8| b.is_ascii_hexdigit() || *b == b':';
    if w.is_empty() || w.iter().all(dotted) || w.iter().all(hex) {
        return !w.is_empty();
    }
    // HEX:ffff:DOTTED: the head is hex up to the first other byte (`h`),
    // the tail dotted from `q` on, so `:ffff:` starts between them.
    let h = w.iter().position(|b| !hex(b)).unwrap_or(w.len());
    let q = w.iter().rposition(|b| !dotted(b)).map_or(0, |p| p + 1);
    let first = q.saturating_sub(6).max(1);
    let last = h.min(w.len().saturating_sub(7));
    (first..=last).any(|at| w[at..at + 6].eq_ignore_ascii_case(b":ffff:"))
}

/// `D`/`Q` arguments: `CALLID[;BRANCH] FROMTAG[;NUM] [TOTAG[;NUM]]`.
fn tag_args(mut c: Cur<'_>, flags: String) -> Option<Tags> {
    if !c.spaces() {
        return None;
    }
    let start = c.i;
    while c.i < c.s.len() && !ws(c.s[c.i]) && c.s[c.i] != b';' {
        c.i += 1;
    }
    let call_id = &c.s[start..c.i];
    if call_id.is_empty() {
        return None;
    }
    let via_branch = branch(&mut c)?;
    if !c.spaces() {
        return None;
    }
    let from_tag = c.word();
    if from_tag.is_empty() {
        return None;
    }
    let to_tag = if c.at_end() {
        None
    } else {
        if !c.spaces() {
            return None;
        }
        let to = c.word();
        if to.is_empty() || !c.at_end() {
            return None;
        }
        Some(tag_opt_num(to))
    };
    Some(Tags {
        flags,
        call_id: text(call_id),
        via_branch,
        from_tag: tag_opt_num(from_tag),
        to_tag,
    })
}

/// The answer to a line outside the grammar (see the module doc).
fn fallback(line: &[u8]) -> Parsed<'_> {
    let mut c = Cur { s: line, i: 0 };
    let cookie = c.word();
    if cookie.is_empty() {
        return Parsed::Silent;
    }
    let mut reply = cookie.to_vec();
    // cookie, command, call-id, then the two words echoed with the
    // whitespace before each.
    let mut words: Vec<&[u8]> = Vec::new();
    let mut cmd = None;
    for n in 0..4 {
        let from = c.i;
        if !c.spaces() {
            break;
        }
        let w = c.word();
        if w.is_empty() {
            break;
        }
        if n == 0 {
            cmd = w.first().copied();
        }
        words.push(&line[from..c.i]);
    }
    match (words.len(), cmd.map(|b| b.to_ascii_uppercase())) {
        (4, Some(b'U' | b'L')) => {
            reply.extend_from_slice(words[3]);
            reply.extend_from_slice(words[2]);
        }
        _ => reply.extend_from_slice(b" E8"),
    }
    reply.push(b'\n');
    Parsed::Fallback { cookie, reply }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Command {
        match parse(line.as_bytes()) {
            Parsed::Command { cookie, command } => {
                assert_eq!(cookie, line.split_whitespace().next().unwrap().as_bytes());
                command
            }
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn fallback_reply(line: &str) -> String {
        match parse(line.as_bytes()) {
            Parsed::Fallback { reply, .. } => String::from_utf8(reply).unwrap(),
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn stream(line: &str) -> Stream {
        match cmd(line) {
            Command::Update(s) | Command::Lookup(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn update_as_kamailio_sends_it() {
        let s = stream("123_4 Uc0,8,101 abc@host 192.0.2.1 4000 ft1;1\n");
        assert_eq!(s.flags, "c0,8,101");
        assert_eq!(s.call_id, "abc@host");
        assert_eq!(s.addr, "192.0.2.1");
        assert_eq!(s.port, "4000");
        assert_eq!((s.from_tag.as_str(), s.num.as_str()), ("ft1", "1"));
        assert_eq!(s.to_tag, None);
        assert_eq!(s.index(), 1);
        let l = cmd("c2 L cid;z9hG4bK.1 2001:db8::1 5000 ft;2 tt;2\r\n");
        let Command::Lookup(l) = l else { panic!() };
        assert_eq!(l.via_branch.as_deref(), Some("z9hG4bK.1"));
        assert_eq!(l.addr, "2001:db8::1");
        assert_eq!(l.to_tag.as_deref(), Some("tt"));
        assert_eq!(l.index(), 2);
    }

    #[test]
    fn lowercase_and_mapped_v4_addresses() {
        let s = stream("c u cid ::ffff:10.0.0.1 0 a;b;1 t;1 anything at all");
        assert_eq!(s.addr, "::ffff:10.0.0.1");
        assert_eq!(s.from_tag, "a;b");
        assert_eq!(s.to_tag.as_deref(), Some("t"));
    }

    #[test]
    fn call_ids_may_hold_spaces() {
        let s = stream("c U my call 1.2.3.4 5000 ft;1");
        assert_eq!(s.call_id, "my call");
        // The longest call-id after which the rest fits.
        let s = stream("c U cid 1.2.3.4 5000 1.2.3.5 6000 ft;1");
        assert_eq!(
            (s.call_id.as_str(), s.addr.as_str()),
            ("cid 1.2.3.4 5000", "1.2.3.5")
        );
        let s = stream("c U cid  1.2.3.4 5000 ft;1");
        assert_eq!(s.call_id, "cid ");
    }

    #[test]
    fn interface_flags() {
        assert_eq!(
            stream("c UeI cid 1.1.1.1 1 f;1").directions(),
            ["external", "internal"]
        );
        assert_eq!(
            stream("c UIEE cid 1.1.1.1 1 f;1").directions(),
            ["internal", "external"]
        );
        assert!(stream("c Uc0 cid 1.1.1.1 1 f;1").directions().is_empty());
    }

    #[test]
    fn delete_and_query() {
        let Command::Delete(d) = cmd("c D cid ft") else {
            panic!()
        };
        assert_eq!(
            (d.call_id.as_str(), d.from_tag.as_str(), d.to_tag),
            ("cid", "ft", None)
        );
        let Command::Query(q) = cmd("c q cid;br ft;1 tt;1\n") else {
            panic!()
        };
        assert_eq!(q.via_branch.as_deref(), Some("br"));
        assert_eq!(
            (q.from_tag.as_str(), q.to_tag.as_deref()),
            ("ft", Some("tt"))
        );
    }

    #[test]
    fn version() {
        assert_eq!(cmd("c V"), Command::Version);
        assert_eq!(cmd("c v whatever follows"), Command::Version);
        assert_eq!(
            cmd("c VF 20050322 x"),
            Command::Capability(Some("20050322".into()))
        );
        assert_eq!(cmd("c vf"), Command::Capability(None));
    }

    #[test]
    fn lines_outside_the_grammar() {
        assert_eq!(parse(b""), Parsed::Silent);
        assert_eq!(parse(b" c V"), Parsed::Silent);
        assert_eq!(fallback_reply("c"), "c E8\n");
        assert_eq!(fallback_reply("c "), "c E8\n");
        assert_eq!(fallback_reply("c X"), "c E8\n");
        assert_eq!(fallback_reply("c D cid"), "c E8\n");
        assert_eq!(fallback_reply("c D cid ft "), "c E8\n");
        assert_eq!(fallback_reply("c D cid ft tt x"), "c E8\n");
        // An update missing its tag: its address and port come back, swapped.
        assert_eq!(fallback_reply("c U cid 1.2.3.4  5000"), "c  5000 1.2.3.4\n");
        assert_eq!(
            fallback_reply("c U cid 1.2.3.4 5000 ft;1 "),
            "c 5000 1.2.3.4\n"
        );
        assert_eq!(fallback_reply("c U cid x.y 5000 ft;1"), "c 5000 x.y\n");
        assert_eq!(fallback_reply("c U cid 1.2.3.4"), "c E8\n");
        assert_eq!(fallback_reply("c U cid; 1.2.3.4 5 f;1"), "c 5 1.2.3.4\n");
        assert_eq!(fallback_reply("c \u{fffd}\u{fffd}"), "c E8\n");
    }

    #[test]
    fn invalid_utf8_is_no_problem() {
        let mut line = b"c U ".to_vec();
        line.extend_from_slice(&[0xff, 0xfe]);
        line.extend_from_slice(b" 1.2.3.4 5 f;1");
        let Parsed::Command {
            command: Command::Update(s),
            ..
        } = parse(&line)
        else {
            panic!()
        };
        assert_eq!(s.call_id, "\u{fffd}\u{fffd}");
    }

    proptest::proptest! {
        /// Any datagram parses without a panic; an answer always starts with
        /// the cookie and ends with a newline.
        #[test]
        fn any_bytes_parse(line in proptest::collection::vec(
            proptest::sample::select(b"uUlLdDqQvVfF0123456789.:;abcdef \t\r\n\xff".to_vec()),
            0..80,
        )) {
            match parse(&line) {
                Parsed::Silent => proptest::prop_assert!(line.first().is_none_or(|b| ws(*b))),
                Parsed::Fallback { cookie, reply } => {
                    proptest::prop_assert!(line.starts_with(cookie) && reply.starts_with(cookie));
                    proptest::prop_assert!(reply.ends_with(b"\n"));
                }
                Parsed::Command { cookie, .. } => proptest::prop_assert!(line.starts_with(cookie)),
            }
        }
    }

    #[test]
    fn addresses() {
        for ok in [
            "1.2.3.4",
            "999.1",
            "::1",
            "FE80::a",
            "::ffff:1.2.3.4",
            "a:FFFF:1.2",
            "1::ffff:2",
        ] {
            assert!(is_addr(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "x",
            "1.2.3.4:5",
            ":ffff:1.2",
            "::fff:1.2",
            "::ffff:1.x",
            "g::1",
        ] {
            assert!(!is_addr(bad.as_bytes()), "{bad}");
        }
        // Long garbage costs linear time.
        let mut w = b"ffff:".repeat(13_000);
        w.push(b'x');
        let t = std::time::Instant::now();
        assert!(!is_addr(&w));
        assert!(t.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn atoi_as_c() {
        assert_eq!(atoi("0"), 0);
        assert_eq!(atoi("00"), 0);
        assert_eq!(atoi("65536"), 65536);
        assert_eq!(atoi("4294967297"), 1);
    }
}
