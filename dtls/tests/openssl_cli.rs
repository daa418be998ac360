//! A handshake against an implementation we did not drive: the `openssl`
//! command-line tool, over loopback UDP, once as client (s_client) and once
//! as server (s_server). Both sides' exported SRTP keys must agree.

use rtpengine_dtls::{
    CertParams, Certificate, Config, Dtls, Event, Fingerprint, HashFunc, Role, SrtpProfile,
};
use std::io::Read;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A scratch directory for the tool's certificate, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rtpengine-dtls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The tool's certificate (made by us, used by it) as PEM files.
fn tool_cert(dir: &Scratch) -> (Certificate, PathBuf, PathBuf) {
    let cert = Certificate::generate(&CertParams::default(), SystemTime::now()).unwrap();
    let (cert_pem, key_pem) = cert.pem().unwrap();
    let (c, k) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&c, cert_pem).unwrap();
    std::fs::write(&k, key_pem).unwrap();
    (cert, c, k)
}

/// "Keying material: HEX" from the tool's output.
fn keying_material(output: &str) -> Vec<u8> {
    let line = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Keying material: "))
        .unwrap_or_else(|| panic!("no keying material in:\n{output}"));
    (0..line.len() / 2)
        .map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Runs our endpoint on `sock` until it is connected and the tool has exited;
/// `peer` is where to send (None: learnt from the first datagram).
fn run(
    dtls: &mut Dtls,
    sock: &UdpSocket,
    mut peer: Option<std::net::SocketAddr>,
    tool: &mut Child,
) -> Event {
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 2048];
    let mut connected = None;
    loop {
        assert!(
            Instant::now() < deadline,
            "handshake with openssl timed out"
        );
        if let Some(to) = peer {
            while let Some(d) = dtls.poll_transmit() {
                sock.send_to(&d, to).unwrap();
            }
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            peer.get_or_insert(from);
            dtls.handle_datagram(Instant::now(), &buf[..n]);
        }
        if dtls.poll_timeout().is_some_and(|t| t <= Instant::now()) {
            dtls.handle_timeout(Instant::now());
        }
        while let Some(e) = dtls.poll_event() {
            match e {
                Event::Connected { .. } => connected = Some(e),
                Event::Closed => {}
                other => panic!("handshake with openssl failed: {other:?}"),
            }
        }
        if let Some(event) = &connected {
            if tool.try_wait().unwrap().is_some() {
                return event.clone();
            }
        }
    }
}

fn output(tool: &mut Child) -> String {
    let mut out = String::new();
    tool.stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn openssl_s_client_agrees_on_exported_keys() {
    let dir = Scratch::new("s_client");
    let (tool, cert_path, key_path) = tool_cert(&dir);
    let ours = Certificate::generate(&CertParams::default(), SystemTime::now()).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut server = Dtls::new(
        Role::Server,
        &ours,
        tool.fingerprint(HashFunc::Sha256),
        &Config::default(),
        Instant::now(),
    )
    .unwrap();
    // stdin at EOF: s_client closes (close_notify) right after the handshake.
    let mut child = Command::new("openssl")
        .args(["s_client", "-dtls1_2", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-use_srtp", "SRTP_AES128_CM_SHA1_80"])
        .args([
            "-keymatexport",
            "EXTRACTOR-dtls_srtp",
            "-keymatexportlen",
            "60",
        ])
        .arg("-cert")
        .arg(&cert_path)
        .arg("-key")
        .arg(&key_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl command (scripts/install-deps installs it)");
    let event = run(&mut server, &sock, None, &mut child);
    let material = keying_material(&output(&mut child));
    let Event::Connected {
        profile,
        local_key_salt,
        remote_key_salt,
    } = event
    else {
        unreachable!()
    };
    assert_eq!(profile, SrtpProfile::AesCm128HmacSha1_80);
    let (client, server_keys) = profile.split(&material).unwrap();
    assert_eq!(remote_key_salt, client, "s_client's key is our remote key");
    assert_eq!(
        local_key_salt, server_keys,
        "our key is s_client's server key"
    );
}

#[test]
fn openssl_s_server_agrees_on_exported_keys() {
    let dir = Scratch::new("s_server");
    let (tool, cert_path, key_path) = tool_cert(&dir);
    let ours = Certificate::generate(&CertParams::default(), SystemTime::now()).unwrap();
    // A free port for s_server: bind, note, release (it binds right after). Taken
    // below the kernel's ephemeral range, so that no bind to port 0 elsewhere in
    // this run can be handed the same port in between.
    let port = (24000..24500)
        .find(|p| UdpSocket::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free UDP port in 24000..24500");
    let mut child = Command::new("openssl")
        .args(["s_server", "-dtls1_2", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-use_srtp", "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_32"])
        .args([
            "-keymatexport",
            "EXTRACTOR-dtls_srtp",
            "-keymatexportlen",
            "56",
        ])
        .arg("-cert")
        .arg(&cert_path)
        .arg("-key")
        .arg(&key_path)
        .args(["-naccept", "1", "-verify", "1"])
        // stdin kept open: at EOF s_server would quit before anyone connects.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl command (scripts/install-deps installs it)");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut client = Dtls::new(
        Role::Client,
        &ours,
        tool.fingerprint(HashFunc::Sha256),
        &Config::default(),
        Instant::now(),
    )
    .unwrap();
    // Our ClientHello is retransmitted (1 s, 2 s, ...) until s_server listens.
    // Close once connected so that s_server (-naccept 1) exits.
    let peer: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 2048];
    let event = loop {
        assert!(
            Instant::now() < deadline,
            "handshake with s_server timed out"
        );
        while let Some(d) = client.poll_transmit() {
            let _ = sock.send_to(&d, peer);
        }
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            client.handle_datagram(Instant::now(), &buf[..n]);
        }
        if client.poll_timeout().is_some_and(|t| t <= Instant::now()) {
            client.handle_timeout(Instant::now());
        }
        if let Some(e) = client.poll_event() {
            break e;
        }
    };
    client.close();
    while let Some(d) = client.poll_transmit() {
        sock.send_to(&d, peer).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "s_server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let material = keying_material(&output(&mut child));
    let Event::Connected {
        profile,
        local_key_salt,
        remote_key_salt,
    } = event
    else {
        panic!("handshake with s_server failed: {event:?}")
    };
    // Server preference picks the first of its list that we offer.
    assert_eq!(profile, SrtpProfile::AeadAes128Gcm);
    let (client_keys, server_keys) = profile.split(&material).unwrap();
    assert_eq!(local_key_salt, client_keys);
    assert_eq!(remote_key_salt, server_keys);
    let _ = Fingerprint::parse(&tool.fingerprint(HashFunc::Sha1).to_string()).unwrap();
}
