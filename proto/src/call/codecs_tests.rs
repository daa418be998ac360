//! Unit tests of `codecs`.

use super::*;
use crate::sdp::Session;

/// The payload types and `a=ptime` of a media section (`m=` line and attributes).
fn section(m: &str) -> (Vec<PayloadType>, Option<u32>) {
    let sdp =
        format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{m}");
    let s = Session::parse(&sdp).unwrap();
    (
        PayloadType::from_section(&s.media[0]).unwrap(),
        s.media[0].ptime,
    )
}

fn ptime(p: u32) -> CodecFlags {
    CodecFlags {
        ptime: Some(p),
        ..CodecFlags::default()
    }
}

fn ops(f: impl FnOnce(&mut CodecOps)) -> CodecOps {
    let mut o = CodecOps::default();
    f(&mut o);
    o
}

fn lines(store: &CodecStore) -> Vec<String> {
    store.pts.iter().map(|p| p.rtpmap.clone()).collect()
}

/// One audio media section's two sides: `a` offers, `b` answers.
struct Pair {
    a: CodecStore,
    b: CodecStore,
}

impl Pair {
    fn new() -> Pair {
        Pair {
            a: CodecStore::new(true, true),
            b: CodecStore::new(true, true),
        }
    }

    fn offer(&mut self, m: &str, ops: &CodecOps, flags: CodecFlags) -> Media {
        let (sdp, sdp_ptime) = section(m);
        offer(&mut self.a, &mut self.b, &sdp, sdp_ptime, ops, flags)
    }

    /// An answer without options.
    fn answer(&mut self, m: &str) -> Media {
        let (sdp, sdp_ptime) = section(m);
        let none = CodecOps::default();
        answer(
            &mut self.a,
            &mut self.b,
            &sdp,
            sdp_ptime,
            &none,
            CodecFlags::default(),
            false,
        )
    }
}

const OPUS_RED: &str = "m=audio 5000 RTP/AVP 111 63 9 0 8 13 110 126\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n";
const PCM_DTMF_RED: &str = "m=audio 5000 RTP/AVP 0 8 101 63\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:63 red/8000\r\n";
const ANSWER_PCMU_DTMF: &str =
    "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

#[test]
fn ptime_change_transcodes_drops_red_and_adds_comfort_noise() {
    let mut p = Pair::new();
    assert_eq!(
        p.offer(OPUS_RED, &CodecOps::default(), ptime(30)),
        Media::Transcode
    );
    assert_eq!(
        lines(&p.b),
        [
            "111 opus/48000/2",
            "9 G722/8000",
            "0 PCMU/8000",
            "8 PCMA/8000",
            "96 CN/48000",
            "13 CN/8000",
            "110 telephone-event/48000",
            "126 telephone-event/8000"
        ]
    );
    assert_eq!(p.b.ptime, 30);
}

#[test]
fn ptime_equal_to_the_codecs_own_needs_no_transcoder() {
    let mut p = Pair::new();
    let m = "m=audio 5000 RTP/AVP 0 101 63\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:63 red/8000\r\n";
    assert_eq!(
        p.offer(m, &CodecOps::default(), ptime(20)),
        Media::Passthrough
    );
    assert_eq!(p.b.pts.len(), 3);
}

#[test]
fn transcode_adds_the_codec_and_an_answer_without_it_passes_through() {
    let g722 = ops(|o| o.transcode = vec!["G722".into()]);
    let mut p = Pair::new();
    assert_eq!(
        p.offer(PCM_DTMF_RED, &g722, CodecFlags::default()),
        Media::Transcode
    );
    assert_eq!(
        lines(&p.b),
        [
            "0 PCMU/8000",
            "8 PCMA/8000",
            "9 G722/8000",
            "101 telephone-event/8000"
        ]
    );
    assert_eq!(p.answer(ANSWER_PCMU_DTMF), Media::Passthrough);
    assert_eq!(lines(&p.a), ["0 PCMU/8000", "101 telephone-event/8000"]);
    assert_eq!(p.a.pts[1].fmtp, None);
    // The answerer picking the added codec needs a transcoder.
    let mut p = Pair::new();
    p.offer(PCM_DTMF_RED, &g722, CodecFlags::default());
    assert_eq!(p.answer("m=audio 6000 RTP/AVP 9\r\n"), Media::Transcode);
}

#[test]
fn mask_keeps_the_offerers_dtmf_format_in_the_answer() {
    let mut p = Pair::new();
    let mask = ops(|o| o.mask = vec!["PCMU".into()]);
    assert_eq!(
        p.offer(PCM_DTMF_RED, &mask, CodecFlags::default()),
        Media::Passthrough
    );
    assert_eq!(
        lines(&p.b),
        ["8 PCMA/8000", "101 telephone-event/8000", "63 red/8000"]
    );
    p.answer("m=audio 6000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n");
    assert_eq!(lines(&p.a), ["8 PCMA/8000", "101 telephone-event/8000"]);
    assert_eq!(p.a.pts[1].fmtp.as_deref(), Some("0-16"));
}

#[test]
fn stripping_the_only_codec_of_a_rate_drops_its_dtmf_type() {
    let mut p = Pair::new();
    let m = "m=audio 5000 RTP/AVP 111 0 110 126\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n";
    let strip = ops(|o| o.strip = vec!["opus".into()]);
    assert_eq!(
        p.offer(m, &strip, CodecFlags::default()),
        Media::Passthrough
    );
    assert_eq!(lines(&p.b), ["0 PCMU/8000", "126 telephone-event/8000"]);
}

#[test]
fn accept_makes_the_answer_transcode() {
    let mut p = Pair::new();
    let m = "m=audio 5000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let accept = ops(|o| o.accept = vec!["PCMA".into()]);
    assert_eq!(p.offer(m, &accept, CodecFlags::default()), Media::Transcode);
    assert_eq!(p.answer(ANSWER_PCMU_DTMF), Media::Transcode);
    assert_eq!(lines(&p.a), ["8 PCMA/8000", "101 telephone-event/8000"]);
}

const PCMU_DTMF: &str =
    "m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n";

#[test]
fn a_ptime_change_of_the_same_codec_only_repacketises() {
    // `ptime` on the offer: the answerer's 20 ms packets go to a side that
    // asked for 30 ms. 10.5 re-packetises; the codec and number stay.
    let mut p = Pair::new();
    assert_eq!(
        p.offer(PCMU_DTMF, &CodecOps::default(), ptime(30)),
        Media::SameCodec
    );
    assert_eq!(p.answer(PCMU_DTMF), Media::SameCodec);
    assert_eq!(lines(&p.a), ["0 PCMU/8000", "101 telephone-event/8000"]);
    assert!(p.a.transcoding && p.b.transcoding);
    // The answerer's own a=ptime differing from the offer's, with
    // `ptime-reverse` on the offer.
    let mut p = Pair::new();
    let reverse = CodecFlags {
        ptime_reverse: Some(30),
        ..CodecFlags::default()
    };
    p.offer("m=audio 5000 RTP/AVP 0\r\n", &CodecOps::default(), reverse);
    assert_eq!(
        p.answer("m=audio 6000 RTP/AVP 0\r\na=ptime:20\r\n"),
        Media::SameCodec
    );
}

#[test]
fn without_ptime_options_differing_packet_times_pass_through() {
    let mut p = Pair::new();
    p.offer(
        "m=audio 5000 RTP/AVP 0\r\na=ptime:30\r\n",
        &CodecOps::default(),
        CodecFlags::default(),
    );
    assert_eq!(
        p.answer("m=audio 6000 RTP/AVP 0\r\na=ptime:20\r\n"),
        Media::Passthrough
    );
}

#[test]
fn a_ptime_change_with_a_codec_or_dtmf_conversion_transcodes() {
    // Another codec at another packet time.
    let mut p = Pair::new();
    p.offer(
        "m=audio 5000 RTP/AVP 0 8\r\n",
        &ops(|o| o.accept = vec!["PCMA".into()]),
        ptime(30),
    );
    assert_eq!(p.answer("m=audio 6000 RTP/AVP 0\r\n"), Media::Transcode);
    // Same codec, but the offerer's DTMF events are masked from the
    // answerer and marked for transcoding (`always-transcode`): 10.5's
    // transcoder (set up for the packet time) also turns them into tones.
    let mut p = Pair::new();
    let mask = ops(|o| {
        o.mask = vec!["telephone-event".into()];
        o.accept = vec!["all".into()];
    });
    p.offer(PCMU_DTMF, &mask, ptime(30));
    assert_eq!(lines(&p.b), ["0 PCMU/8000"]);
    assert_eq!(p.answer("m=audio 6000 RTP/AVP 0\r\n"), Media::Transcode);
}

#[test]
fn inject_dtmf_runs_the_same_codecs_through_a_transcoder_from_then_on() {
    let inject = CodecFlags {
        inject_dtmf: true,
        ..CodecFlags::default()
    };
    let mut p = Pair::new();
    assert_eq!(
        p.offer(PCM_DTMF_RED, &CodecOps::default(), inject),
        Media::SameCodec
    );
    // Red, which 10.5's codec library cannot handle, goes once it transcodes.
    assert_eq!(
        lines(&p.b),
        ["0 PCMU/8000", "8 PCMA/8000", "101 telephone-event/8000"]
    );
    assert!(p.a.inject_dtmf && !p.b.inject_dtmf);
    // The offerer keeps the flag: the answer without it still goes through
    // the transcoder, and no codec changes.
    assert_eq!(p.answer(ANSWER_PCMU_DTMF), Media::SameCodec);
    assert_eq!(lines(&p.a), ["0 PCMU/8000", "101 telephone-event/8000"]);
}

/// gen/1258: a type the tracker makes up gets a free number even where the
/// same codec is listed (10.5's `__unused_pt_number` counts a number as the
/// same codec's only when it is the type's own). Here the tracker adds
/// DTMF for the clock rate of the unknown codecs (0, made 8000), after
/// `transcode` added it at 98: 10.5 lists both, the second at 99.
#[test]
fn a_made_up_type_never_shares_a_number_with_a_listed_one() {
    let te = ops(|o| o.transcode = vec!["telephone-event".into()]);
    let mut p = Pair::new();
    let m =
        "m=audio 5000 RTP/AVP 96 0 97\r\na=rtpmap:96 foo\r\na=rtpmap:0\r\na=rtpmap:97 bar/fast\r\n";
    p.offer(m, &te, CodecFlags::default());
    assert_eq!(
        lines(&p.b),
        [
            "0 PCMU/8000",
            "99 telephone-event/8000",
            "98 telephone-event/8000"
        ]
    );
}
