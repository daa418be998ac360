//! The codec lists of one media side and the decisions rtpengine 10.5's codec
//! handlers make over them, for what they change in the SDP: which payload
//! types an offer or answer lists, and whether the media needs a transcoder.
//!
//! We have no transcoder. This model exists so that codec options (`codec`
//! strip/offer/transcode/mask/consume/accept/except, `ptime`, `ptime-reverse`)
//! print what 10.5 prints, and so that the daemon can tell when 10.5 would
//! decode and re-encode (then it refuses the answer, see `registry`).
//!
//! The steps follow 10.5's `codecs_offer_answer`: each side keeps an ordered
//! store of payload types; an offer fills the receiver's store from the SDP
//! and applies the options; 10.5's handlers then pair every payload type the
//! receiver may send with one its peer takes, passthrough where both match,
//! else a transcoder; with any transcoder, payload types 10.5's codec library
//! cannot handle are dropped and comfort noise / DTMF event types are added or
//! removed to match the clock rates left (its "codec tracker").

use std::collections::BTreeSet;

pub use crate::ng::flags::CodecOps;
use crate::sdp::{rtpmap_value, static_payload_type, MediaSection};

/// A codec 10.5's library (as Debian builds it) both decodes and encodes.
#[derive(Debug)]
struct CodecDef {
    name: &'static str,
    /// Telephone events and comfort noise ride along with the audio codecs.
    supplemental: bool,
    clock_rate: u32,
    channels: u32,
    ptime: u32,
    fmtp: Option<&'static str>,
    /// RFC 3551 payload type, used when all parameters match.
    rfc: Option<(i32, u32, u32)>,
    /// Format parameters do not make two payload types differ.
    ignore_format: bool,
}

const fn def(name: &'static str, clock_rate: u32, channels: u32, ptime: u32) -> CodecDef {
    CodecDef {
        name,
        supplemental: false,
        clock_rate,
        channels,
        ptime,
        fmtp: None,
        rfc: None,
        ignore_format: false,
    }
}

/// The audio codecs 10.5 transcodes (the decode-only ones, like AMR and
/// iLBC, count as unsupported there too).
static DEFS: &[CodecDef] = &[
    CodecDef {
        rfc: Some((8, 8000, 1)),
        ..def("PCMA", 8000, 1, 20)
    },
    CodecDef {
        rfc: Some((0, 8000, 1)),
        ..def("PCMU", 8000, 1, 20)
    },
    CodecDef {
        rfc: Some((4, 8000, 1)),
        ..def("G723", 8000, 1, 30)
    },
    CodecDef {
        rfc: Some((9, 8000, 1)),
        ..def("G722", 8000, 1, 20)
    },
    CodecDef {
        rfc: Some((18, 8000, 1)),
        fmtp: Some("annexb=no"),
        ..def("G729", 8000, 1, 20)
    },
    def("G729a", 8000, 1, 20),
    def("speex", 16000, 1, 20),
    CodecDef {
        rfc: Some((3, 8000, 1)),
        ..def("GSM", 8000, 1, 20)
    },
    CodecDef {
        ignore_format: true,
        ..def("opus", 48000, 2, 20)
    },
    def("vorbis", 48000, 2, 20),
    def("ac3", 48000, 2, 20),
    def("eac3", 48000, 2, 20),
    def("PCM-S16LE", 8000, 1, 20),
    def("PCM-U8", 8000, 1, 20),
    def("MP3", 44100, 2, 20),
    CodecDef {
        supplemental: true,
        fmtp: Some("0-15"),
        ignore_format: true,
        ..def("telephone-event", 8000, 1, 0)
    },
    CodecDef {
        supplemental: true,
        rfc: Some((13, 8000, 1)),
        ignore_format: true,
        ..def("CN", 8000, 1, 20)
    },
];

/// The supplemental codecs, in the order 10.5's tracker adds them.
const SUPPLEMENTAL: [&str; 2] = ["CN", "telephone-event"];

fn find_def(encoding: &str) -> Option<&'static CodecDef> {
    DEFS.iter().find(|d| d.name.eq_ignore_ascii_case(encoding))
}

/// One payload type of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadType {
    pub number: i32,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: u32,
    /// Format parameters (the `a=fmtp` value).
    pub fmtp: Option<String>,
    /// The `a=rtpmap` value printed for it.
    pub rtpmap: String,
    /// `a=rtcp-fb` values printed for it.
    pub rtcp_fb: Vec<String>,
    pub ptime: u32,
    pub for_transcoding: bool,
    pub accepted: bool,
    /// Audio media (codec definitions are audio only).
    audio: bool,
}

impl PayloadType {
    fn def(&self) -> Option<&'static CodecDef> {
        if !self.audio {
            return None;
        }
        find_def(&self.encoding)
    }

    fn supplemental(&self) -> bool {
        self.def().is_some_and(|d| d.supplemental)
    }

    fn with_params(&self) -> String {
        if self.channels > 1 {
            self.full_params()
        } else {
            format!("{}/{}", self.encoding, self.clock_rate)
        }
    }

    fn full_params(&self) -> String {
        format!("{}/{}/{}", self.encoding, self.clock_rate, self.channels)
    }

    /// 10.5's codec names: the encoding, with clock rate (and channels if
    /// more than one), and with clock rate and channels; case-insensitive.
    fn named(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(&self.encoding)
            || name.eq_ignore_ascii_case(&self.with_params())
            || name.eq_ignore_ascii_case(&self.full_params())
    }

    /// Same payload type number, encoding, clock rate and channels.
    fn same_nf(&self, other: &PayloadType) -> bool {
        self.number == other.number
            && self.clock_rate == other.clock_rate
            && self.channels == other.channels
            && self.encoding.eq_ignore_ascii_case(&other.encoding)
    }

    /// `same_nf` plus the format parameters, for codecs where they matter.
    fn same(&self, other: &PayloadType) -> bool {
        if !self.same_nf(other) {
            return false;
        }
        match self.def() {
            None => true,
            Some(d) if d.ignore_format => true,
            Some(_) => self.fmtp == other.fmtp,
        }
    }

    /// The payload types of an SDP media section (RTP only; `None` if a
    /// format is not a payload type number).
    pub fn from_section(section: &MediaSection) -> Option<Vec<PayloadType>> {
        let audio = section.media_type == "audio";
        let mut out = Vec::new();
        for pt in &section.formats {
            let number: i32 = pt.parse().ok().filter(|n| (0..128).contains(n))?;
            let (encoding, clock_rate, channels) = match section.rtpmap(pt) {
                Some(map) => (
                    map.encoding.clone(),
                    map.clock_rate,
                    map.channels
                        .as_deref()
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                ),
                None => match static_payload_type(pt) {
                    Some((enc, rate, ch)) => (
                        enc.to_string(),
                        rate,
                        ch.and_then(|c| c.parse().ok()).unwrap_or(1),
                    ),
                    None => (String::new(), 0, 0),
                },
            };
            let fmtp = section
                .fmtps
                .iter()
                .rev()
                .find(|(p, _)| p == pt)
                .map(|(_, v)| v.clone());
            let rtcp_fb = section
                .rtcp_fbs
                .iter()
                .filter(|(p, _)| p == pt)
                .map(|(_, v)| v.clone())
                .collect();
            let mut p = PayloadType {
                number,
                encoding,
                clock_rate,
                channels,
                fmtp,
                rtpmap: rtpmap_value(pt, section.rtpmap(pt)),
                rtcp_fb,
                ptime: section.ptime.unwrap_or(0),
                for_transcoding: false,
                accepted: false,
                audio,
            };
            p.init_ptime();
            out.push(p);
        }
        Some(out)
    }

    /// 10.5's opus accepts only some packet times and rounds the others down.
    fn init_ptime(&mut self) {
        if self.audio && self.encoding.eq_ignore_ascii_case("opus") && self.ptime > 0 {
            self.ptime = match self.ptime {
                5 | 10 | 20 | 40 | 60 => self.ptime,
                p if p < 10 => 5,
                p if p < 20 => 10,
                p if p < 40 => 20,
                p if p < 60 => 40,
                _ => 60,
            };
        }
    }

    /// A payload type 10.5 makes up from a codec name such as
    /// `opus/48000/2` (for `transcode`, and comfort noise / DTMF the
    /// tracker adds). `None` for codecs it cannot encode and decode.
    fn synthesise(name: &str, audio: bool) -> Option<PayloadType> {
        let mut parts = name.split('/');
        let encoding = parts.next().filter(|e| !e.is_empty())?;
        let num = |s: Option<&str>| s.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
        let mut clock_rate = num(parts.next());
        let mut channels = num(parts.next());
        let _bitrate = parts.next();
        let ptime = num(parts.next());
        let fmtp = parts.next().filter(|f| !f.is_empty()).map(str::to_string);
        if clock_rate != 0 && channels == 0 {
            channels = 1;
        }
        let d = find_def(encoding).filter(|_| audio)?;
        if clock_rate == 0 {
            clock_rate = d.clock_rate;
        }
        if channels == 0 {
            channels = d.channels;
        }
        let mut number = -1;
        if let Some((rfc, rate, ch)) = d.rfc {
            if rate == clock_rate && ch == channels {
                number = rfc;
            }
        }
        let mut pt = PayloadType {
            number,
            encoding: encoding.to_string(),
            clock_rate,
            channels,
            fmtp: fmtp.or(d.fmtp.map(str::to_string)),
            rtpmap: String::new(),
            rtcp_fb: Vec::new(),
            ptime: if ptime > 0 { ptime } else { d.ptime },
            for_transcoding: false,
            accepted: false,
            audio,
        };
        if pt.encoding.eq_ignore_ascii_case("opus") {
            pt.clock_rate = 48000;
        }
        pt.init_ptime();
        Some(pt)
    }

    fn set_number(&mut self, number: i32) {
        self.number = number;
        let mut value = format!("{number} {}/{}", self.encoding, self.clock_rate);
        if self.channels > 1 {
            value.push_str(&format!("/{}", self.channels));
        }
        self.rtpmap = value;
    }
}

/// One side's codec store (10.5's `codec_store` of a `call_media`).
#[derive(Debug, Clone, Default)]
pub struct CodecStore {
    pub pts: Vec<PayloadType>,
    touched: BTreeSet<u32>,
    all_touched: bool,
    strip_full: bool,
    /// 10.5's `supp_link`: the payload type before which "ordered" additions
    /// go (the first supplemental one added, moved on when it is removed).
    supp_link: Option<i32>,
    /// The media's packet time (10.5's `media->ptime`); 0 if none.
    pub ptime: u32,
    /// `ptime`/`ptime-reverse` was given for this media.
    pub ptime_override: bool,
    /// 10.5's monologue flag `inject_dtmf` (flag `inject-DTMF` on an offer
    /// or answer this side sent; it stays): every payload type sent to this
    /// side goes through a transcoder.
    pub inject_dtmf: bool,
    /// 10.5's `transcoding` media flag: a handler of this side transcodes.
    pub transcoding: bool,
    /// An offer or answer used codec or ptime options on this media: our SDP
    /// follows the store from then on.
    pub engaged: bool,
    /// The media is RTP (a non-RTP store stays empty).
    pub rtp: bool,
    /// The media is audio (10.5's codec library is audio only).
    pub audio: bool,
}

/// `except` names a payload type (encoding, with clock rate, with channels).
fn excepted(ops: &CodecOps, pt: &PayloadType) -> bool {
    ops.except.iter().any(|e| pt.named(e))
}

/// What 10.5's codec handlers do to the media of one direction (ordered:
/// the most that any payload type needs wins).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Media {
    /// Every payload type passes through unchanged.
    #[default]
    Passthrough,
    /// 10.5 sets up a transcoder that re-encodes each payload type into
    /// itself, same number, same codec: to re-packetise for the other side's
    /// ptime, or to be able to inject DTMF (`inject-DTMF`). Relaying the
    /// packets as they are delivers the same media (a receiver takes any
    /// packet length); the SDP is 10.5's.
    SameCodec,
    /// A codec, DTMF or comfort noise conversion: needs a real transcoder.
    Transcode,
}

/// What 10.5 does with the packets of one payload type a side sends.
#[derive(Debug, Clone)]
struct Handler {
    source: i32,
    /// Passthrough: the same payload type goes out.
    passthrough: bool,
    /// Transcoding: the peer's payload type it is re-encoded to.
    dest: Option<PayloadType>,
    dtmf: Option<i32>,
    cn: Option<i32>,
}

impl CodecStore {
    pub fn new(rtp: bool, audio: bool) -> CodecStore {
        CodecStore {
            rtp,
            audio,
            ..CodecStore::default()
        }
    }

    fn get(&self, number: i32) -> Option<&PayloadType> {
        self.pts.iter().find(|p| p.number == number)
    }

    fn has_name(&self, name: &str) -> bool {
        self.pts.iter().any(|p| p.named(name))
    }

    fn touch(&mut self, pt: &PayloadType) {
        if pt.supplemental() {
            self.all_touched = true;
        } else {
            self.touched.insert(pt.clock_rate);
        }
    }

    fn is_touched(&self, pt: &PayloadType) -> bool {
        self.all_touched || self.touched.contains(&pt.clock_rate)
    }

    /// Resets the store for a new fill, keeping the media's settings.
    fn take_fresh(&mut self) -> CodecStore {
        let fresh = CodecStore {
            ptime: self.ptime,
            ptime_override: self.ptime_override,
            inject_dtmf: self.inject_dtmf,
            transcoding: self.transcoding,
            engaged: self.engaged,
            rtp: self.rtp,
            audio: self.audio,
            ..CodecStore::default()
        };
        std::mem::replace(self, fresh)
    }

    /// Appends (`before_supp`: before the first supplemental payload type).
    fn add(&mut self, mut pt: PayloadType, before_supp: bool) {
        if !self.rtp {
            return;
        }
        pt.audio = self.audio;
        if self.ptime > 0 {
            pt.ptime = self.ptime;
        }
        let at = match self.supp_link.filter(|_| before_supp) {
            Some(n) => self
                .pts
                .iter()
                .position(|p| p.number == n)
                .unwrap_or(self.pts.len()),
            None => self.pts.len(),
        };
        if self.supp_link.is_none() && pt.supplemental() {
            self.supp_link = Some(pt.number);
        }
        self.pts.insert(at, pt);
    }

    fn remove_at(&mut self, i: usize) {
        let pt = self.pts.remove(i);
        if self.supp_link == Some(pt.number) {
            self.supp_link = self.pts.get(i).map(|p| p.number);
        }
    }

    /// 10.5's `codec_store_populate`: the list of `src`, keeping what this
    /// store knew about the same payload types (`answer_only`: only those).
    pub fn populate(&mut self, src: &[PayloadType], answer_only: bool) {
        let orig = self.take_fresh();
        for pt in src {
            let known = orig.get(pt.number);
            if answer_only && known.is_none() {
                continue;
            }
            let mut pt = pt.clone();
            if let Some(o) = known {
                pt.ptime = o.ptime;
                pt.for_transcoding = o.for_transcoding;
                pt.accepted = o.accepted;
                if pt.for_transcoding {
                    self.touch(&pt);
                }
            }
            self.add(pt, false);
        }
    }

    /// 10.5's `codec_store_populate_reuse` (flags `reuse-codecs`,
    /// `no-codec-renegotiation`): payload types already known stay where
    /// they are, new ones go to the end (not in an answer), and those
    /// `src` no longer has go.
    pub fn populate_reuse(&mut self, src: &[PayloadType], answer_only: bool) {
        for pt in src {
            if self.get(pt.number).is_none() && !answer_only {
                self.add(pt.clone(), false);
            }
        }
        let mut i = 0;
        while i < self.pts.len() {
            if src.iter().any(|p| p.number == self.pts[i].number) {
                i += 1;
            } else {
                self.remove_at(i);
            }
        }
    }

    fn fill(&mut self, src: &[PayloadType], answer_only: bool, reuse: bool) {
        if reuse {
            self.populate_reuse(src, answer_only);
        } else {
            self.populate(src, answer_only);
        }
    }

    /// `strip` (and `consume`, `mask` on the receiving side).
    fn strip(&mut self, names: &[String], ops: &CodecOps) {
        for name in names {
            let all = name == "all";
            let full = name == "full";
            if full {
                self.strip_full = true;
            }
            let mut i = 0;
            while i < self.pts.len() {
                let pt = &self.pts[i];
                let hit = if all || full {
                    !excepted(ops, pt)
                } else {
                    pt.named(name)
                };
                if hit {
                    let pt = pt.clone();
                    self.touch(&pt);
                    self.remove_at(i);
                } else {
                    i += 1;
                }
            }
        }
    }

    /// Re-adds payload types of `orig` named in `names` (10.5's `offer`).
    fn offer(&mut self, names: &[String], orig: &[PayloadType]) {
        for name in names {
            if self.has_name(name) {
                continue;
            }
            for o in orig.iter().filter(|o| o.named(name)) {
                if self.get(o.number).is_some() {
                    continue;
                }
                self.touch(o);
                self.add(o.clone(), true);
            }
        }
    }

    /// `transcode`: like `offer`, and codecs the SDP lacks are made up.
    fn transcode(&mut self, names: &[String], orig: &[PayloadType]) {
        for name in names {
            if self.has_name(name) {
                continue;
            }
            if !orig.iter().any(|o| o.named(name)) || self.strip_full {
                let Some(mut pt) = PayloadType::synthesise(name, self.audio) else {
                    continue;
                };
                let Some(number) = self.unused_number(&pt, orig) else {
                    continue;
                };
                pt.set_number(number);
                pt.for_transcoding = true;
                self.touch(&pt);
                self.add(pt, true);
                continue;
            }
            self.offer(std::slice::from_ref(name), orig);
        }
    }

    /// 10.5's `__unused_pt_number`: the payload type's own number if free
    /// (or taken by the same codec), else the first free dynamic one. A
    /// number other than its own is never "the same" (10.5 compares the
    /// numbers too), so a made-up type (no number) gets a free one even
    /// where the same codec is listed already (gen/1258).
    fn unused_number(&self, pt: &PayloadType, extra: &[PayloadType]) -> Option<i32> {
        let mut num = if pt.number < 0 { 96 } else { pt.number };
        loop {
            let taken = self
                .get(num)
                .or_else(|| extra.iter().find(|p| p.number == num));
            match taken {
                None => return Some(num),
                Some(t) if pt.same_nf(t) => return Some(num),
                Some(_) => {}
            }
            num += 1;
            if num < 96 {
                num = 96;
            } else if num >= 128 {
                return None;
            }
        }
    }

    fn check_empty(&mut self, src: &[PayloadType]) {
        if self.pts.is_empty() {
            self.populate(src, false);
        }
    }

    /// `accept`/`consume`: mark for transcoding (re-adding from `orig`).
    fn accept(&mut self, names: &[String], orig: Option<&[PayloadType]>) {
        for name in names {
            let numbers: Vec<i32> = if name == "all" || name == "full" {
                self.pts.iter().map(|p| p.number).collect()
            } else {
                if !self.has_name(name) {
                    let Some(orig) = orig.filter(|o| o.iter().any(|p| p.named(name))) else {
                        continue;
                    };
                    for o in orig.iter().filter(|o| o.named(name)) {
                        if self.get(o.number).is_some() {
                            continue;
                        }
                        self.touch(o);
                        self.add(o.clone(), true);
                    }
                }
                self.pts
                    .iter()
                    .filter(|p| p.named(name))
                    .map(|p| p.number)
                    .collect()
            };
            for n in numbers {
                if let Some(i) = self.pts.iter().position(|p| p.number == n) {
                    self.pts[i].for_transcoding = true;
                    self.pts[i].accepted = true;
                    let pt = self.pts[i].clone();
                    self.touch(&pt);
                }
            }
        }
    }

    /// `mask` on the sending side: remembered as touched.
    fn track(&mut self, names: &[String]) {
        for name in names {
            if name == "all" || name == "full" {
                self.all_touched = true;
                continue;
            }
            let hits: Vec<PayloadType> =
                self.pts.iter().filter(|p| p.named(name)).cloned().collect();
            for pt in hits {
                self.touch(&pt);
            }
        }
    }

    /// 10.5's codec tracker: for the clock rates touched, add comfort noise
    /// and DTMF event types the store has at other rates, and drop those
    /// left without an audio codec at their rate.
    fn tracker_update(&mut self) {
        if !self.rtp {
            return;
        }
        let clock_rates: BTreeSet<u32> = self
            .pts
            .iter()
            .filter(|p| !p.supplemental())
            .map(|p| p.clock_rate)
            .collect();
        for supp in SUPPLEMENTAL {
            let present: BTreeSet<u32> = self
                .pts
                .iter()
                .filter(|p| p.supplemental() && p.encoding.eq_ignore_ascii_case(supp))
                .map(|p| p.clock_rate)
                .collect();
            if present.is_empty() {
                continue;
            }
            for &rate in &clock_rates {
                if present.contains(&rate) || !(self.all_touched || self.touched.contains(&rate)) {
                    continue;
                }
                let Some(mut pt) = PayloadType::synthesise(&format!("{supp}/{rate}"), self.audio)
                else {
                    continue;
                };
                let Some(number) = self.unused_number(&pt, &[]) else {
                    continue;
                };
                pt.set_number(number);
                pt.for_transcoding = true;
                self.add(pt, true);
            }
            for rate in present.difference(&clock_rates) {
                if !(self.all_touched || self.touched.contains(rate)) {
                    continue;
                }
                while let Some(i) = self.pts.iter().position(|p| {
                    p.supplemental()
                        && p.encoding.eq_ignore_ascii_case(supp)
                        && p.clock_rate == *rate
                }) {
                    self.remove_at(i);
                }
            }
        }
    }

    /// 10.5's `__check_codec_list`: packet times filled in, the preferred
    /// payload type to send, and the supplemental types by clock rate.
    fn check_list(&mut self) -> (Option<PayloadType>, Vec<PayloadType>) {
        let mut preferred: Option<PayloadType> = None;
        let mut first_accepted: Option<PayloadType> = None;
        let mut supp: Vec<PayloadType> = Vec::new();
        let media_ptime = self.ptime;
        for pt in &mut self.pts {
            let Some(d) = pt.def() else { continue };
            if pt.ptime == 0 {
                pt.ptime = d.ptime;
            }
            if media_ptime > 0 {
                pt.ptime = media_ptime;
            }
            if preferred.is_none() && !d.supplemental {
                preferred = Some(pt.clone());
            }
            if pt.accepted && first_accepted.is_none() && !d.supplemental {
                first_accepted = Some(pt.clone());
            }
            if d.supplemental
                && !supp.iter().any(|s| {
                    s.encoding.eq_ignore_ascii_case(d.name) && s.clock_rate == pt.clock_rate
                })
            {
                supp.push(pt.clone());
            }
        }
        (first_accepted.or(preferred), supp)
    }
}

fn supp_at(supp: &[PayloadType], name: &str, rate: u32) -> Option<PayloadType> {
    supp.iter()
        .find(|p| p.encoding.eq_ignore_ascii_case(name) && p.clock_rate == rate)
        .cloned()
}

/// 10.5's `codec_handlers_update` for what `receiver` sends to `sink`:
/// what the handlers do to the media (10.5 sets up a transcoder unless
/// `Media::Passthrough`), and the handlers.
/// `second_pass`: the re-check of the offerer's side during an answer (10.5
/// passes no flags then); `inject_dtmf`: the request's flag `inject-DTMF`.
fn handlers_update(
    receiver: &mut CodecStore,
    sink: &mut CodecStore,
    second_pass: bool,
    inject_dtmf: bool,
) -> (Media, Vec<Handler>) {
    receiver.transcoding = false;
    if !receiver.rtp || !sink.rtp {
        return (Media::Passthrough, Vec::new());
    }
    let ptime_override = receiver.ptime_override || sink.ptime_override;
    // 10.5 reads the flag before it sets it for this request.
    let force = sink.inject_dtmf;
    let (preferred, supp_sinks) = sink.check_list();
    let (_, supp_recvs) = receiver.check_list();
    let mut handlers = Vec::new();
    let mut media = Media::Passthrough;
    let recv_ptime = receiver.ptime;
    for pt in &mut receiver.pts {
        if let Some(d) = pt.def() {
            if pt.ptime == 0 {
                pt.ptime = d.ptime;
            }
        }
        if recv_ptime > 0 {
            pt.ptime = recv_ptime;
        }
        let Some(d) = pt.def() else {
            handlers.push(Handler {
                source: pt.number,
                passthrough: true,
                dest: Some(pt.clone()),
                dtmf: None,
                cn: None,
            });
            continue;
        };
        let recv_dtmf = supp_at(&supp_recvs, "telephone-event", pt.clock_rate);
        let recv_cn = supp_at(&supp_recvs, "CN", pt.clock_rate);
        let mut sink_pt = sink.get(pt.number).filter(|s| pt.same(s)).cloned();
        if sink_pt.is_none() {
            sink_pt = sink
                .pts
                .iter()
                .filter(|s| s.encoding.eq_ignore_ascii_case(&pt.encoding))
                .find(|s| s.clock_rate == pt.clock_rate && s.channels == pt.channels)
                .cloned();
        }
        if sink_pt.is_some() && !d.supplemental {
            if let Some(p) = preferred.as_ref().filter(|p| p.for_transcoding) {
                sink_pt = Some(p.clone());
            }
        }
        let Some(sink_pt) = sink_pt.or_else(|| preferred.clone()) else {
            handlers.push(Handler {
                source: pt.number,
                passthrough: true,
                dest: Some(pt.clone()),
                dtmf: recv_dtmf.map(|p| p.number),
                cn: recv_cn.map(|p| p.number),
            });
            continue;
        };
        let mut sink_dtmf = supp_at(&supp_sinks, "telephone-event", sink_pt.clock_rate);
        let mut sink_cn = supp_at(&supp_sinks, "CN", sink_pt.clock_rate);
        if !second_pass && inject_dtmf {
            sink.inject_dtmf = true;
        }
        if second_pass {
            if sink_dtmf.as_ref().is_some_and(|s| !s.for_transcoding) && recv_dtmf.is_none() {
                sink_dtmf = None;
            }
            if sink_cn.as_ref().is_some_and(|s| !s.for_transcoding) && recv_cn.is_none() {
                sink_cn = None;
            }
        }
        let pcm_dtmf_detect = !d.supplemental
            && recv_dtmf.is_none()
            && sink_dtmf.as_ref().is_some_and(|s| s.for_transcoding);
        // 10.5 checks the packet time first, but a transcoder it sets up for
        // that also does the DTMF and comfort noise work checked after it.
        let this = if !pt.same_nf(&sink_pt) {
            Media::Transcode
        } else if d.supplemental {
            Media::Passthrough
        } else if pcm_dtmf_detect
            || (recv_dtmf.as_ref().is_some_and(|r| r.for_transcoding) && sink_dtmf.is_none())
            || (recv_cn.is_none() && sink_cn.as_ref().is_some_and(|s| s.for_transcoding))
            || (recv_cn.as_ref().is_some_and(|r| r.for_transcoding) && sink_cn.is_none())
        {
            Media::Transcode
        } else if force
            || (ptime_override && sink_pt.ptime != 0 && pt.ptime != 0 && sink_pt.ptime != pt.ptime)
        {
            Media::SameCodec
        } else {
            Media::Passthrough
        };
        let transcode = this != Media::Passthrough;
        media = media.max(this);
        handlers.push(Handler {
            source: pt.number,
            passthrough: !transcode,
            dest: Some(if transcode { sink_pt } else { pt.clone() }),
            dtmf: sink_dtmf.map(|p| p.number),
            cn: sink_cn.map(|p| p.number),
        });
    }
    let transcoding = media != Media::Passthrough;
    if transcoding {
        let mut i = 0;
        while i < receiver.pts.len() {
            if receiver.pts[i].def().is_some() {
                i += 1;
            } else {
                let pt = receiver.pts[i].clone();
                receiver.touch(&pt);
                receiver.remove_at(i);
            }
        }
    }
    receiver.transcoding = transcoding;
    (media, handlers)
}

/// 10.5's `codec_store_answer`: the offerer's store rebuilt from what the
/// answerer's handlers send it.
/// `single_codec` (flag `single-codec`): only the first audio codec.
fn answer_store(dst: &mut CodecStore, src: &CodecStore, handlers: &[Handler], single_codec: bool) {
    let orig = dst.take_fresh();
    let mut supp_later: Vec<PayloadType> = Vec::new();
    let mut codecs = 0;
    for pt in &src.pts {
        let add_codec = !(single_codec && codecs >= 1);
        let h = handlers.iter().find(|h| h.source == pt.number);
        let is_supp = pt.supplemental();
        let Some((h, dest)) = h.and_then(|h| h.dest.as_ref().map(|d| (h, d))) else {
            if !pt.for_transcoding && add_codec {
                if !is_supp {
                    codecs += 1;
                }
                dst.add(pt.clone(), false);
            }
            continue;
        };
        if is_supp
            && (pt.for_transcoding
                || dst.is_touched(pt)
                || src.is_touched(pt)
                || orig.is_touched(pt))
        {
            continue;
        }
        if !add_codec && !is_supp {
            continue;
        }
        if dst.get(dest.number).is_none() {
            if !is_supp {
                codecs += 1;
            }
            dst.add(
                if h.passthrough {
                    pt.clone()
                } else {
                    dest.clone()
                },
                false,
            );
        }
        for n in [h.cn, h.dtmf].into_iter().flatten() {
            if let Some(p) = orig.get(n) {
                supp_later.push(p.clone());
            }
        }
    }
    for pt in supp_later {
        if dst.get(pt.number).is_none() {
            dst.add(pt, false);
        }
    }
}

/// Packet times of an offer or answer (10.5's `__update_media` part).
fn update_ptimes(
    sender: &mut CodecStore,
    receiver: &mut CodecStore,
    sdp_ptime: Option<u32>,
    ptime: Option<u32>,
    reverse: Option<u32>,
) {
    if let Some(p) = sdp_ptime.filter(|p| *p > 0) {
        if !receiver.ptime_override {
            receiver.ptime = p;
        }
        if !sender.ptime_override {
            sender.ptime = p;
        }
    }
    if let Some(p) = ptime.filter(|p| *p > 0) {
        receiver.ptime = p;
        receiver.ptime_override = true;
        sender.ptime_override = true;
    }
    if let Some(p) = reverse.filter(|p| *p > 0) {
        sender.ptime = p;
        receiver.ptime_override = true;
        sender.ptime_override = true;
    }
}

/// The codec-related flags of one offer or answer besides the `codec` lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodecFlags {
    /// `ptime` and `ptime-reverse` (offers only).
    pub ptime: Option<u32>,
    pub ptime_reverse: Option<u32>,
    /// `reuse-codecs` / `no-codec-renegotiation`.
    pub reuse: bool,
    /// `single-codec` (answers).
    pub single_codec: bool,
    /// `inject-DTMF`.
    pub inject_dtmf: bool,
}

/// An offer from the side of `sender` to that of `receiver`: both stores
/// updated as 10.5 does. Returns what the receiver's handlers do.
pub fn offer(
    sender: &mut CodecStore,
    receiver: &mut CodecStore,
    sdp: &[PayloadType],
    sdp_ptime: Option<u32>,
    ops: &CodecOps,
    flags: CodecFlags,
) -> Media {
    update_ptimes(
        sender,
        receiver,
        sdp_ptime,
        flags.ptime,
        flags.ptime_reverse,
    );
    sender.fill(sdp, false, flags.reuse);
    sender.strip(&ops.strip, ops);
    sender.offer(&ops.offer, sdp);
    if !sender.strip_full {
        sender.offer(&ops.transcode, sdp);
    }
    sender.check_empty(sdp);
    sender.accept(&ops.accept, None);
    sender.accept(&ops.consume, Some(sdp));
    sender.track(&ops.mask);

    receiver.fill(sdp, false, flags.reuse);
    receiver.strip(&ops.strip, ops);
    receiver.strip(&ops.consume, ops);
    receiver.strip(&ops.mask, ops);
    receiver.offer(&ops.offer, sdp);
    receiver.transcode(&ops.transcode, sdp);
    receiver.check_empty(sdp);

    receiver.tracker_update();
    handlers_update(receiver, sender, false, flags.inject_dtmf);
    receiver.tracker_update();
    handlers_update(receiver, sender, false, flags.inject_dtmf).0
}

/// An answer from `answerer` to `offerer` (`rejected`: the answer's media has
/// port 0 or the offer's had none). Returns the most either side's handlers
/// do.
pub fn answer(
    offerer: &mut CodecStore,
    answerer: &mut CodecStore,
    sdp: &[PayloadType],
    sdp_ptime: Option<u32>,
    ops: &CodecOps,
    flags: CodecFlags,
    rejected: bool,
) -> Media {
    update_ptimes(answerer, offerer, sdp_ptime, None, None);
    answerer.fill(sdp, !rejected, flags.reuse);
    answerer.strip(&ops.strip, ops);
    answerer.offer(&ops.offer, sdp);
    answerer.check_empty(sdp);
    let (_, handlers) = handlers_update(answerer, offerer, true, false);
    answer_store(offerer, answerer, &handlers, flags.single_codec);
    handlers_update(offerer, answerer, false, flags.inject_dtmf);
    offerer.tracker_update();
    answerer.tracker_update();
    let a = handlers_update(offerer, answerer, false, flags.inject_dtmf).0;
    let b = handlers_update(answerer, offerer, true, false).0;
    a.max(b)
}

#[cfg(test)]
#[path = "codecs_tests.rs"]
mod tests;
