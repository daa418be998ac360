//! Splitting an SDP body into lines kept as byte spans over the original text, so
//! that everything we do not rewrite is copied back exactly (including its own
//! line ending: CRLF, LF or none on the last line).

use std::ops::Range;

use super::SdpError;

/// One SDP line: `kind` is the letter before `=`, `value` the text after it,
/// `eol` the line terminator as it appeared (may be empty on the last line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub kind: u8,
    /// Whole line without its terminator.
    pub text: Range<usize>,
    /// After `<kind>=`.
    pub value: Range<usize>,
    pub eol: Range<usize>,
    /// 1-based, for error messages.
    pub number: usize,
}

/// The line types of RFC 4566; rtpengine refuses any other (`x=`, `A=`).
const SDP_LINE_TYPES: &[u8] = b"vosiuepcbzkatrm";

/// Splits `text` into lines. Blank lines are accepted only at the very end
/// (some clients add a trailing empty line); anywhere else they are an error.
pub(crate) fn split_lines(text: &str) -> Result<Vec<Line>, SdpError> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut number = 0;
    while start < bytes.len() {
        number += 1;
        let newline = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| start + p);
        let (content_end, eol) = match newline {
            Some(nl) if nl > start && bytes[nl - 1] == b'\r' => (nl - 1, nl - 1..nl + 1),
            Some(nl) => (nl, nl..nl + 1),
            None => (bytes.len(), bytes.len()..bytes.len()),
        };
        let next = eol.end;
        if content_end == start {
            // A blank line: only trailing blank lines are tolerated.
            if bytes[next..].iter().all(|b| b.is_ascii_whitespace()) {
                break;
            }
            return Err(SdpError::MalformedLine { line: number });
        }
        if content_end - start < 2
            || bytes[start + 1] != b'='
            || !SDP_LINE_TYPES.contains(&bytes[start])
        {
            return Err(SdpError::MalformedLine { line: number });
        }
        lines.push(Line {
            kind: bytes[start],
            text: start..content_end,
            value: start + 2..content_end,
            eol,
            number,
        });
        start = next;
    }
    Ok(lines)
}

/// Byte ranges of the whitespace-separated tokens of `text[range]`.
pub(crate) fn tokens(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = range.start;
    while i < range.end {
        while i < range.end && bytes[i] == b' ' {
            i += 1;
        }
        let begin = i;
        while i < range.end && bytes[i] != b' ' {
            i += 1;
        }
        if begin < i {
            out.push(begin..i);
        }
    }
    out
}
