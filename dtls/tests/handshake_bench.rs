//! Benchmark, not a test (ignored; see docs/benchmarks.md): in-memory
//! DTLS-SRTP handshakes per second and CPU time per handshake, both ends in
//! this thread, certificates made once as the daemon makes its one at start.
//!
//! cargo test --release -p rtpengine-dtls --test handshake_bench -- --ignored --nocapture

use rtpengine_dtls::{CertParams, Certificate, Config, Dtls, Event, HashFunc, Role};
use std::time::{Duration, Instant, SystemTime};

/// CPU time this thread has used (the scheduler's nanosecond count).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

fn handshake(client_cert: &Certificate, server_cert: &Certificate, config: &Config) {
    let now = Instant::now();
    let mut c = Dtls::new(
        Role::Client,
        client_cert,
        server_cert.fingerprint(HashFunc::Sha256),
        config,
        now,
    )
    .unwrap();
    let mut s = Dtls::new(
        Role::Server,
        server_cert,
        client_cert.fingerprint(HashFunc::Sha256),
        config,
        now,
    )
    .unwrap();
    loop {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            s.handle_datagram(now, &d);
            any = true;
        }
        while let Some(d) = s.poll_transmit() {
            c.handle_datagram(now, &d);
            any = true;
        }
        if !any {
            break;
        }
    }
    assert!(matches!(c.poll_event(), Some(Event::Connected { .. })));
    assert!(matches!(s.poll_event(), Some(Event::Connected { .. })));
}

#[test]
#[ignore]
fn handshakes_per_second() {
    for (label, params) in [
        ("prime256v1 (default)", CertParams::default()),
        (
            "RSA 2048",
            CertParams {
                cipher: rtpengine_dtls::CertCipher::Rsa,
                ..CertParams::default()
            },
        ),
    ] {
        let t = Instant::now();
        let a = Certificate::generate(&params, SystemTime::now()).unwrap();
        let b = Certificate::generate(&params, SystemTime::now()).unwrap();
        let gen = t.elapsed() / 2;
        let config = Config::default();
        handshake(&a, &b, &config); // warm-up
        let n = 300;
        let (wall, cpu) = (Instant::now(), thread_cpu());
        for _ in 0..n {
            handshake(&a, &b, &config);
        }
        let (wall, cpu) = (wall.elapsed(), thread_cpu() - cpu);
        println!(
            "{label}: {:.0} handshakes/s, {:.2} ms CPU per handshake (both ends), certificate {:.1} ms",
            n as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / n as f64,
            gen.as_secs_f64() * 1000.0,
        );
    }
}
