//! ICE restarts in re-INVITEs: which of our credentials the party gets back.
//! 10.5 (`ice_update` with `allow_reset` on an offer) renews ours toward a
//! party whose offer brings a new ice-ufrag or ice-pwd, as RFC 8445 section 9
//! asks of the answerer; a new one in an answer changes nothing of ours.
//! Measured with Debian's 10.5 (10.5.3.5): same re-offer, same credentials;
//! new ufrag and pwd in the re-offer, new credentials in the answer.

use super::tests::{clock, configs, flags, reg};
use crate::ng::flags::IceMode;

fn browser(ufrag: &str, pwd: &str, version: u32) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nc=IN IP4 0.0.0.0\r\n\
         m=audio 9 RTP/AVP 0\r\na=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n\
         a=candidate:1 1 udp 2122260223 192.0.2.10 46243 typ host\r\na=rtcp-mux\r\n"
    )
}

const PHONE: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

/// Our ice-ufrag and ice-pwd in an SDP.
fn ours(sdp: &str) -> (String, String) {
    let attr = |name: &str| {
        sdp.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {sdp}"))
            .to_owned()
    };
    (attr("a=ice-ufrag:"), attr("a=ice-pwd:"))
}

#[test]
fn a_party_restarting_ice_in_an_offer_gets_new_credentials_of_ours() {
    let mut r = reg();
    let now = clock();
    let mut round = |ufrag: &str, pwd: &str, version: u32| {
        let mut o = flags("c", "browser", None, browser(ufrag, pwd, version));
        o.ice = IceMode::Remove;
        r.offer(&o, &now).unwrap();
        let out = r
            .answer(&flags("c", "browser", Some("phone"), PHONE.into()), &now)
            .unwrap();
        let sdp = out.sdp.unwrap();
        let cfg = configs(&out.effects)
            .into_iter()
            .find(|c| c.tag == "browser" && !c.is_rtcp)
            .and_then(|c| c.ice.clone())
            .expect("ICE toward the browser");
        assert_eq!(
            (cfg.ufrag.clone(), cfg.pwd.clone()),
            ours(&sdp),
            "streams use what we wrote"
        );
        ours(&sdp)
    };
    let first = round("aaaa", "aaaaaaaaaaaaaaaaaaaaaaaa", 1);
    assert_eq!(
        round("aaaa", "aaaaaaaaaaaaaaaaaaaaaaaa", 2),
        first,
        "no restart: kept"
    );
    let restarted = round("bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb", 3);
    assert!(
        restarted.0 != first.0 && restarted.1 != first.1,
        "{first:?} {restarted:?}"
    );
    // A new password alone is a restart too (10.5's ice_is_restart).
    let again = round("bbbb", "cccccccccccccccccccccccc", 4);
    assert!(again.0 != restarted.0 && again.1 != restarted.1);
}

#[test]
fn a_party_restarting_ice_in_an_answer_keeps_ours() {
    let mut r = reg();
    let now = clock();
    let mut round = |ufrag: &str, pwd: &str, version: u32| {
        let mut o = flags("c", "phone", None, PHONE.into());
        o.ice = IceMode::Force;
        let sdp = r.offer(&o, &now).unwrap().sdp.unwrap();
        let a = flags("c", "phone", Some("browser"), browser(ufrag, pwd, version));
        r.answer(&a, &now).unwrap();
        ours(&sdp)
    };
    let first = round("aaaa", "aaaaaaaaaaaaaaaaaaaaaaaa", 1);
    round("bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb", 2);
    assert_eq!(round("bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb", 3), first);
}
