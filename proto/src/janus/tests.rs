use super::*;

/// Ids counting up from 1000; calls and parties kept as names.
#[derive(Default)]
struct Fake {
    next: u64,
    calls: HashMap<String, Vec<String>>,
    log: Vec<String>,
}

impl Host for Fake {
    fn random(&mut self) -> u64 {
        self.next += 1;
        1000 + self.next
    }
    fn create_call(&mut self, call: &str) -> bool {
        self.calls.insert(call.to_owned(), Vec::new()).is_none()
    }
    fn call_exists(&self, call: &str) -> bool {
        self.calls.contains_key(call)
    }
    fn destroy_call(&mut self, call: &str) {
        self.calls.remove(call);
    }
    fn has_party(&self, call: &str, tag: &str) -> bool {
        self.calls
            .get(call)
            .is_some_and(|p| p.iter().any(|t| t == tag))
    }
    fn remove_party(&mut self, call: &str, tag: &str) {
        self.log.push(format!("remove {call} {tag}"));
        if let Some(p) = self.calls.get_mut(call) {
            p.retain(|t| t != tag);
        }
    }
    fn publish(&mut self, call: &str, tag: &str, _sdp: &str) -> Result<Published, bool> {
        self.calls.get_mut(call).unwrap().push(tag.to_owned());
        Ok(Published {
            sdp: "v=0\r\n".into(),
            codecs: vec![("audio".into(), "opus".into())],
        })
    }
    fn subscribe(&mut self, call: &str, source: &str, tag: &str) -> Result<String, String> {
        self.log.push(format!("subscribe {tag} to {source}"));
        self.calls.get_mut(call).unwrap().push(tag.to_owned());
        Ok("v=0\r\n".into())
    }
    fn subscribe_answer(&mut self, _call: &str, tag: &str, _sdp: &str) -> Result<(), bool> {
        self.log.push(format!("answer {tag}"));
        Ok(())
    }
    fn trickle(&mut self, _call: &str, tag: &str, t: &Trickle<'_>) -> Result<(), HostError> {
        self.log.push(format!("trickle {tag} {}", t.candidate));
        Ok(())
    }
}

fn run(j: &mut Janus, h: &mut Fake, req: &str) -> Vec<Value> {
    j.process(req.as_bytes(), 1, 100, h)
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

fn one(j: &mut Janus, h: &mut Fake, req: &str) -> Value {
    run(j, h, req).pop().unwrap()
}

fn setup() -> (Janus, Fake) {
    (Janus::new(Some("sekrit".into()), "1.0"), Fake::default())
}

#[test]
fn top_level_errors_carry_10_5_codes() {
    let (mut j, mut h) = setup();
    let err = |v: &Value| (v["error"]["code"].as_i64().unwrap(), v["janus"].clone());
    assert_eq!(err(&one(&mut j, &mut h, "{x")).0, 454);
    assert_eq!(err(&one(&mut j, &mut h, "")).0, 455);
    assert_eq!(err(&one(&mut j, &mut h, " \n")).0, 455);
    assert_eq!(err(&one(&mut j, &mut h, "[1]")).0, 455);
    assert_eq!(err(&one(&mut j, &mut h, r#"{"transaction":"t"}"#)).0, 456);
    let r = one(&mut j, &mut h, r#"{"janus":"ping"}"#);
    assert_eq!(
        r["error"]["reason"],
        "JSON object does not contain 'transaction' key"
    );
    let r = one(&mut j, &mut h, r#"{"janus":"nope","transaction":"t"}"#);
    assert_eq!(r["error"]["code"], 457);
    assert_eq!(r["transaction"], "t");
    let r = one(
        &mut j,
        &mut h,
        r#"{"janus":"keepalive","transaction":"t","session_id":5}"#,
    );
    assert_eq!(r["error"]["code"], 458);
    assert_eq!(r["session_id"], 5);
    let r = one(
        &mut j,
        &mut h,
        r#"{"janus":"add_token","transaction":"t","admin_secret":"no","token":"x"}"#,
    );
    assert_eq!(r["error"]["code"], 403);
    assert_eq!(j.tokens(), 0);
}

#[test]
fn reply_members_are_in_10_5_order() {
    let (mut j, mut h) = setup();
    let t = j.process(
        br#"{"janus":"ping","transaction":"t","session_id":"7","handle_id":8}"#,
        1,
        0,
        &mut h,
    );
    assert_eq!(
        t,
        [r#"{"janus":"pong","transaction":"t","session_id":7,"sender":8}"#]
    );
    let t = j.process(
        br#"{"janus":"add_token","transaction":"t","admin_secret":"sekrit","token":"x"}"#,
        1,
        0,
        &mut h,
    );
    assert_eq!(
        t,
        [r#"{"data":{"plugins":["janus.plugin.videoroom"]},"janus":"success","transaction":"t"}"#]
    );
    assert_eq!(j.tokens(), 1);
}

#[test]
fn sessions_and_handles() {
    let (mut j, mut h) = setup();
    let r = one(
        &mut j,
        &mut h,
        r#"{"janus":"create","transaction":"a","id":77}"#,
    );
    assert_eq!(r["data"]["id"], 77);
    assert!(r.get("session_id").is_none());
    let r = one(
        &mut j,
        &mut h,
        r#"{"janus":"create","transaction":"a","id":77}"#,
    );
    assert_eq!(r["data"]["id"], 1001, "a taken id gets a random one");
    let r = one(
        &mut j,
        &mut h,
        r#"{"janus":"attach","transaction":"b","session_id":77,"plugin":"x"}"#,
    );
    assert_eq!(r["error"]["code"], 460);
    let r = one(
        &mut j,
        &mut h,
        r#"{"janus":"attach","transaction":"b","session_id":77,"plugin":"janus.plugin.videoroom"}"#,
    );
    let handle = r["data"]["id"].as_u64().unwrap();
    assert_eq!(r["session_id"], 77);
    let detach =
        format!(r#"{{"janus":"detach","transaction":"c","session_id":77,"handle_id":{handle}}}"#);
    let r = one(&mut j, &mut h, &detach);
    assert_eq!(r["janus"], "success");
    assert_eq!(r["sender"], handle);
    let r = one(&mut j, &mut h, &detach);
    assert_eq!(r["error"]["code"], 463);
}

fn msg(session: u64, handle: u64, body: &str, jsep: &str) -> String {
    format!(
        r#"{{"janus":"message","transaction":"m","session_id":{session},"handle_id":{handle},"body":{body}{jsep}}}"#
    )
}

fn attach(j: &mut Janus, h: &mut Fake, s: u64) -> u64 {
    let req = format!(
        r#"{{"janus":"attach","transaction":"b","session_id":{s},"plugin":"janus.plugin.videoroom"}}"#
    );
    one(j, h, &req)["data"]["id"].as_u64().unwrap()
}

#[test]
fn videoroom_publisher_and_subscriber() {
    let (mut j, mut h) = setup();
    one(
        &mut j,
        &mut h,
        r#"{"janus":"create","transaction":"a","id":9}"#,
    );
    let ctl = attach(&mut j, &mut h, 9);
    let r = one(&mut j, &mut h, &msg(9, ctl, r#"{"request":"create"}"#, ""));
    let data = &r["plugindata"]["data"];
    assert_eq!(data["videoroom"], "created");
    let room = data["room"].as_u64().unwrap();
    assert!(h.call_exists(&format!("janus {room}")));
    let r = one(
        &mut j,
        &mut h,
        &msg(
            9,
            ctl,
            &format!(r#"{{"request":"exists","room":{room}}}"#),
            "",
        ),
    );
    assert_eq!(r["plugindata"]["data"]["exists"], true);

    // A publisher joins: an ack, then the event.
    let p = attach(&mut j, &mut h, 9);
    let join = format!(r#"{{"request":"join","ptype":"publisher","room":{room}}}"#);
    let out = run(&mut j, &mut h, &msg(9, p, &join, ""));
    assert_eq!(out[0]["janus"], "ack");
    assert_eq!(out[1]["janus"], "event");
    let feed = out[1]["plugindata"]["data"]["id"].as_u64().unwrap();
    assert_eq!(
        out[1]["plugindata"]["data"]["publishers"],
        serde_json::json!([])
    );

    // A subscriber before the publisher configured: no feed party yet,
    // and 10.5 keeps it as a subscriber nonetheless.
    let s = attach(&mut j, &mut h, 9);
    let sub = format!(r#"{{"request":"join","ptype":"subscriber","room":{room},"feed":{feed}}}"#);
    let r = one(&mut j, &mut h, &msg(9, s, &sub, ""));
    assert_eq!(r["error"]["reason"], "Feed not found");
    let r = one(&mut j, &mut h, &msg(9, s, &sub, ""));
    assert_eq!(
        r["error"]["reason"],
        "User already exists in the room as a subscriber"
    );

    let conf = format!(r#"{{"request":"configure","room":{room},"feed":{feed}}}"#);
    let offer = r#","jsep":{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"}"#;
    let r = one(&mut j, &mut h, &msg(9, p, &conf, offer));
    assert_eq!(r["janus"], "event");
    assert_eq!(r["plugindata"]["data"]["configured"], "ok");
    assert_eq!(r["plugindata"]["data"]["audio_codec"], "opus");
    assert_eq!(r["jsep"]["type"], "answer");

    let s2 = attach(&mut j, &mut h, 9);
    let r = one(&mut j, &mut h, &msg(9, s2, &sub, ""));
    assert_eq!(r["plugindata"]["data"]["videoroom"], "attached");
    assert_eq!(r["jsep"]["type"], "offer");
    let start = format!(r#"{{"request":"start","room":{room},"feed":{feed}}}"#);
    let answer = r#","jsep":{"type":"answer","sdp":"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"}"#;
    let r = one(&mut j, &mut h, &msg(9, s2, &start, answer));
    assert_eq!(r["plugindata"]["data"]["started"], "ok");
    assert!(h.log.contains(&format!("answer {s2}")));

    let trickle = format!(
        r#"{{"janus":"trickle","transaction":"t","session_id":9,"handle_id":{s2},"candidate":{{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0"}}}}"#
    );
    let r = one(&mut j, &mut h, &trickle);
    assert_eq!(r["janus"], "ack");
    assert!(r.get("sender").is_none());
    assert!(h
        .log
        .contains(&format!("trickle {s2} 1 1 udp 1 1.2.3.4 5 typ host")));

    // A second publisher's configure tells the first.
    let p2 = attach(&mut j, &mut h, 9);
    let out = run(&mut j, &mut h, &msg(9, p2, &join, ""));
    let feed2 = out[1]["plugindata"]["data"]["id"].as_u64().unwrap();
    assert_eq!(
        out[1]["plugindata"]["data"]["publishers"],
        serde_json::json!([{ "id": feed }])
    );
    let conf2 = format!(r#"{{"request":"configure","room":{room},"feed":{feed2}}}"#);
    let out = run(&mut j, &mut h, &msg(9, p2, &conf2, offer));
    assert_eq!(out.len(), 3);
    assert_eq!(out[1]["sender"], p);
    assert_eq!(
        out[1]["plugindata"]["data"]["publishers"],
        serde_json::json!([{ "id": feed2 }])
    );

    // The first publisher leaves: the second hears of it.
    let detach =
        format!(r#"{{"janus":"detach","transaction":"c","session_id":9,"handle_id":{p}}}"#);
    let out = run(&mut j, &mut h, &detach);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["plugindata"]["data"]["unpublished"], feed);
    assert_eq!(out[1]["plugindata"]["data"]["leaving"], feed);
    assert!(h.log.contains(&format!("remove janus {room} {p}")));

    let destroy = format!(r#"{{"request":"destroy","room":{room}}}"#);
    let r = one(&mut j, &mut h, &msg(9, ctl, &destroy, ""));
    assert_eq!(r["plugindata"]["data"]["videoroom"], "destroyed");
    let r = one(&mut j, &mut h, &msg(9, ctl, &destroy, ""));
    assert_eq!(r["error"]["code"], 426);
    assert_eq!(r["plugindata"]["data"], serde_json::json!({}));
    assert!(!h.call_exists(&format!("janus {room}")));
}

#[test]
fn webrtcup_goes_to_the_sessions_connections() {
    let (mut j, mut h) = setup();
    j.process(
        br#"{"janus":"create","transaction":"a","id":9}"#,
        4,
        0,
        &mut h,
    );
    let ctl = attach(&mut j, &mut h, 9);
    let r = one(&mut j, &mut h, &msg(9, ctl, r#"{"request":"create"}"#, ""));
    let room = r["plugindata"]["data"]["room"].as_u64().unwrap();
    let (conns, text) = j.media_up(&format!("janus {room}"), "55").unwrap();
    assert_eq!(conns, [4]);
    assert_eq!(text, r#"{"janus":"webrtcup","session_id":9,"sender":55}"#);
    j.conn_closed(4);
    assert!(j
        .media_up(&format!("janus {room}"), "55")
        .unwrap()
        .0
        .is_empty());
    assert!(j.media_up("other", "55").is_none());
}
