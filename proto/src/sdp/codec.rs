//! Payload type descriptions (`a=rtpmap`), the RFC 3551 static table, and how
//! rtpengine 10.5 prints them back.

/// One `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: String,
    pub encoding: String,
    pub clock_rate: u32,
    /// Encoding parameters (channels for audio); `None` when absent.
    pub channels: Option<String>,
}

impl RtpMap {
    /// Parses the value after `a=rtpmap:`. `None` without payload type,
    /// encoding and numeric clock rate.
    pub fn parse(value: &str) -> Option<RtpMap> {
        let (pt, rest) = value.split_once(' ')?;
        // Trailing blanks are fine; a second space before the encoding is not
        // (rtpengine then keeps the line as an unknown attribute).
        let rest = rest.trim_end();
        if pt.is_empty() || rest.is_empty() || rest.starts_with(char::is_whitespace) {
            return None;
        }
        let mut parts = rest.splitn(3, '/');
        let encoding = parts.next()?.to_string();
        // rtpengine requires the clock rate.
        let clock_rate = parts.next()?.parse().ok()?;
        let channels = parts.next().filter(|c| !c.is_empty()).map(str::to_string);
        Some(RtpMap {
            payload_type: pt.to_string(),
            encoding,
            clock_rate,
            channels,
        })
    }

    /// The `a=rtpmap` value rtpengine prints: channel count 1 is omitted.
    pub fn to_value(&self) -> String {
        let mut out = format!(
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        );
        if let Some(channels) = &self.channels {
            if channels != "1" {
                out.push('/');
                out.push_str(channels);
            }
        }
        out
    }
}

/// RFC 3551 static payload types rtpengine knows without an rtpmap.
pub fn static_payload_type(pt: &str) -> Option<(&'static str, u32, Option<&'static str>)> {
    Some(match pt.parse::<u8>().ok()? {
        0 => ("PCMU", 8000, None),
        3 => ("GSM", 8000, None),
        4 => ("G723", 8000, None),
        5 => ("DVI4", 8000, None),
        6 => ("DVI4", 16000, None),
        7 => ("LPC", 8000, None),
        8 => ("PCMA", 8000, None),
        9 => ("G722", 8000, None),
        10 => ("L16", 44100, Some("2")),
        11 => ("L16", 44100, None),
        12 => ("QCELP", 8000, None),
        13 => ("CN", 8000, None),
        14 => ("MPA", 90000, None),
        15 => ("G728", 8000, None),
        16 => ("DVI4", 11025, None),
        17 => ("DVI4", 22050, None),
        18 => ("G729", 8000, None),
        25 => ("CelB", 90000, None),
        26 => ("JPEG", 90000, None),
        28 => ("nv", 90000, None),
        31 => ("H261", 90000, None),
        32 => ("MPV", 90000, None),
        33 => ("MP2T", 90000, None),
        34 => ("H263", 90000, None),
        _ => return None,
    })
}

/// The rtpmap value printed for a payload type: the SDP's own rtpmap if any,
/// else the static table, else rtpengine's placeholder `<pt> /0` (what 10.5
/// prints for a dynamic type that came without an rtpmap).
pub fn rtpmap_value(pt: &str, declared: Option<&RtpMap>) -> String {
    if let Some(map) = declared {
        return map.to_value();
    }
    match static_payload_type(pt) {
        Some((encoding, rate, channels)) => RtpMap {
            payload_type: pt.to_string(),
            encoding: encoding.to_string(),
            clock_rate: rate,
            channels: channels.map(str::to_string),
        }
        .to_value(),
        None => format!("{pt} /0"),
    }
}
