//! Benchmark, not a test (ignored): userspace SRTP protect + unprotect per
//! 172-byte RTP packet (12-byte header, 160 bytes PCMU) with the relay's
//! transform (`relay::srtp`, rtpengine_core + RustCrypto), per suite.
//! Run: cargo test --release -p rtpengined --test sdes_bench -- --ignored --nocapture

use std::time::Instant;

use rtpengined::relay::srtp::SrtpDirection;
use rtpengined::sdp::crypto::CryptoAttribute;
use rtpengined::srtp::SUITES;

/// RustCrypto baseline on the same machine: AES-128 counter keystream over
/// the payload plus HMAC-SHA1 (keyed state cloned per packet), both ways.
fn baseline_ns(packets: u32) -> u128 {
    use aes::cipher::{BlockEncrypt, KeyInit};
    use hmac::{Hmac, Mac};
    let aes = aes::Aes128::new(&[7u8; 16].into());
    let keyed = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&[9u8; 20]).unwrap();
    let mut pkt = vec![0xd5u8; 172];
    let start = Instant::now();
    for seq in 0..packets {
        for _direction in 0..2 {
            for (i, chunk) in pkt[12..].chunks_mut(16).enumerate() {
                let mut block = [0u8; 16];
                block[..4].copy_from_slice(&seq.to_be_bytes());
                block[15] = i as u8;
                let mut b = block.into();
                aes.encrypt_block(&mut b);
                chunk.iter_mut().zip(b.iter()).for_each(|(p, k)| *p ^= k);
            }
            let mut mac = keyed.clone();
            mac.update(&pkt);
            mac.update(&[0, 0, 0, 0]);
            std::hint::black_box(mac.finalize());
        }
    }
    start.elapsed().as_nanos() / u128::from(packets)
}

#[test]
#[ignore]
fn srtp_protect_unprotect_ns_per_packet() {
    println!(
        "{:<24} {:>6} ns per packet (RustCrypto AES-CM-128 + HMAC-SHA1, both ways)",
        "baseline",
        baseline_ns(200_000)
    );
    const PACKETS: u32 = 200_000;
    for suite in SUITES {
        let crypto = CryptoAttribute {
            tag: 1,
            suite: suite.name.into(),
            key_salt: (0..suite.key_salt_len() as u8).collect(),
            lifetime: None,
            mki: None,
            session_params: vec![],
        };
        let params = suite.srtp_params(&crypto);
        let mut tx = SrtpDirection::new(&params).unwrap();
        let mut rx = SrtpDirection::new(&params).unwrap();
        let mut header = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
        header.extend([0xd5u8; 160]);
        let mut buf = Vec::with_capacity(256);
        let start = Instant::now();
        for seq in 0..PACKETS {
            buf.clear();
            buf.extend_from_slice(&header);
            buf[2..4].copy_from_slice(&(seq as u16).to_be_bytes());
            buf[4..8].copy_from_slice(&seq.to_be_bytes());
            tx.protect(&mut buf).unwrap();
            rx.unprotect(&mut buf).unwrap();
        }
        let ns = start.elapsed().as_nanos() / u128::from(PACKETS);
        println!(
            "{:<24} {ns:>6} ns per packet (protect + unprotect, 172 bytes)",
            suite.name
        );
    }
}
