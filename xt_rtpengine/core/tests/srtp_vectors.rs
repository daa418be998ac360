//! Published test vectors: RFC 3711 Appendix B (f8, AES-CM keystream, key derivation),
//! RFC 7714 §16 (AEAD_AES_128_GCM / AEAD_AES_256_GCM), libsrtp's reference packets for
//! AES_CM_128 and AES_256_CM with HMAC-SHA1-80.

mod common;

use common::{hex, params, SUITES};
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{
    aes_cm, aes_f8, kdf, CipherKind, CryptoBackend, IndexState, SessionKeys, SrtpContext, Suite,
};

#[test]
fn rfc3711_b1_aes_f8() {
    let key = hex("234829008467be186c3de14aae72d62c");
    let salt = hex("32f2870d");
    let header: [u8; 12] = hex("806e5cba50681de55c621599").try_into().unwrap();
    let plain =
        hex("70736575646f72616e646f6d6e657373 20697320746865206e65787420626573 74207468696e67");
    let want =
        hex("019ce7a26e7854014a6366aa95d4eefd 1ad4172a14f9faf455b7f1d4b62bd08f 562c0eef7c4802");

    let mut mask_key = [0u8; 16];
    aes_f8::iv_key(&key, &salt, &mut mask_key).unwrap();
    assert_eq!(mask_key.to_vec(), hex("11baae0dd132eb4d3968b41ffb278379"));
    let iv = aes_f8::srtp_iv(&header, 0xd462564a);
    assert_eq!(iv.to_vec(), hex("006e5cba50681de55c621599d462564a"));

    let data_aes = RustCrypto.aes(&key).unwrap();
    let iv_aes = RustCrypto.aes(&mask_key).unwrap();
    let mut buf = plain.clone();
    aes_f8::apply_keystream(&data_aes, &iv_aes, &iv, &mut buf);
    assert_eq!(buf, want);
    // f8 is its own inverse.
    aes_f8::apply_keystream(&data_aes, &iv_aes, &iv, &mut buf);
    assert_eq!(buf, plain);
}

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let aes = RustCrypto
        .aes(&hex("2B7E151628AED2A6ABF7158809CF4F3C"))
        .unwrap();
    let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
    let iv = aes_cm::srtp_iv(&salt, [0; 4], 0);
    assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    // Keystream segment of 65282 blocks; check the blocks the RFC lists.
    let mut ks = vec![0u8; 65282 * 16];
    aes_cm::apply_keystream(&aes, &iv, &mut ks).unwrap();
    let block = |i: usize| ks[i * 16..i * 16 + 16].to_vec();
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
    assert_eq!(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(block(0xfeff), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    assert_eq!(block(0xff00), hex("362B7C3C6773516318A077D7FC5073AE"));
    assert_eq!(block(0xff01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

#[test]
fn rfc3711_b3_key_derivation() {
    let master = RustCrypto
        .aes(&hex("E1F97A0D3E018BE0D64FA32C06DE4139"))
        .unwrap();
    let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
    let mut cipher_key = [0u8; 16];
    kdf::derive(&master, &salt, kdf::label::RTP_ENCRYPTION, &mut cipher_key).unwrap();
    assert_eq!(cipher_key.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut cipher_salt = [0u8; 14];
    kdf::derive(&master, &salt, kdf::label::RTP_SALT, &mut cipher_salt).unwrap();
    assert_eq!(cipher_salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    let mut auth_key = [0u8; 94];
    kdf::derive(&master, &salt, kdf::label::RTP_AUTH, &mut auth_key).unwrap();
    let want = hex(
        "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098
         6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2",
    );
    assert_eq!(auth_key.to_vec(), want);
    // Bad master salt lengths are refused, not read past.
    assert!(kdf::derive(&master, &salt[..13], 0, &mut cipher_key).is_none());
}

#[test]
fn rfc6188_aes256_key_derivation() {
    // AES-256 master key: the PRF runs AES-256 (values as published with libsrtp's tests).
    let master = RustCrypto
        .aes(&hex(
            "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
        ))
        .unwrap();
    let salt = hex("3b04803de51ee7c96423ab5b78d2");
    let mut k = [0u8; 32];
    kdf::derive(&master, &salt, 0, &mut k).unwrap();
    assert_eq!(
        k.to_vec(),
        hex("5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4")
    );
    let mut s = [0u8; 14];
    kdf::derive(&master, &salt, 2, &mut s).unwrap();
    assert_eq!(s.to_vec(), hex("fa31791685ca444a9e07c6c64e93"));
    let mut a = [0u8; 20];
    kdf::derive(&master, &salt, 1, &mut a).unwrap();
    assert_eq!(a.to_vec(), hex("fd9c32d39ed5fbb5a9dc96b30818454d1313dc05"));
}

fn roundtrip_reference_packet(
    suite_index: usize,
    key: &str,
    salt: &str,
    plain: &str,
    protected: &str,
) {
    let p = params(&SUITES[suite_index], &hex(key), &hex(salt), &[]);
    let tx = SrtpContext::new(&RustCrypto, &p).unwrap();
    let mut state = IndexState::new(&p.last_index);
    let plain = hex(plain);
    let mut buf = plain.clone();
    buf.resize(plain.len() + tx.overhead(), 0);
    let out = tx
        .encrypt_rtp(&mut state, 0, &mut buf, plain.len())
        .unwrap();
    assert_eq!(buf[..out.len].to_vec(), hex(protected));
    assert_eq!(out.index, 0x1234);

    let rx = SrtpContext::new(&RustCrypto, &p).unwrap();
    let mut state = IndexState::new(&p.last_index);
    let got = rx.decrypt_rtp(&mut state, 0, &mut buf, out.len).unwrap();
    assert_eq!(buf[..got.len].to_vec(), plain);
    assert_eq!(state.last_index()[0], 0x1234);
}

#[test]
fn libsrtp_reference_packet_aes_cm_128_hmac_sha1_80() {
    roundtrip_reference_packet(
        0,
        "e1f97a0d3e018be0d64fa32c06de4139",
        "0ec675ad498afeebb6960b3aabe6",
        "800f1234decafbadcafebabe abababababababababababababababab",
        "800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb",
    );
}

#[test]
fn libsrtp_reference_packet_aes_256_cm_hmac_sha1_80() {
    let mut spec = SUITES[4];
    spec.mki_len = 0;
    let p = params(
        &spec,
        &hex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6"),
        &hex("3b04803de51ee7c96423ab5b78d2"),
        &[],
    );
    let ctx = SrtpContext::new(&RustCrypto, &p).unwrap();
    let mut state = IndexState::new(&p.last_index);
    let plain = hex("800f1234decafbadcafebabe abababababababababababababababab");
    let mut buf = plain.clone();
    buf.resize(plain.len() + 10, 0);
    let out = ctx
        .encrypt_rtp(&mut state, 0, &mut buf, plain.len())
        .unwrap();
    assert_eq!(
        buf,
        hex("800f1234decafbadcafebabe f1d9de17ff251ff1aa007774b0b4b40d a08d9d9a5b3a55d8873b")
    );
    let mut rx_state = IndexState::new(&p.last_index);
    let got = ctx
        .decrypt_rtp(&mut rx_state, 0, &mut buf, out.len)
        .unwrap();
    assert_eq!(buf[..got.len].to_vec(), plain);
}

const RFC7714_PLAIN: &str = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e697320646976697361 20696e207061727465732074726573";

fn gcm_context(key: &str, cipher_id: u32) -> SrtpContext<RustCrypto> {
    let spec = SUITES.iter().find(|s| s.cipher == cipher_id).unwrap();
    let mut p = params(spec, &hex(key), &[0; 12], &[]);
    p.mki_len = 0;
    let suite = Suite::from_abi(&p).unwrap();
    assert_eq!(suite.cipher, CipherKind::AesGcm);
    let mut keys = SessionKeys {
        key: [0; 32],
        key_len: hex(key).len(),
        salt: [0; 14],
        auth: [0; 20],
    };
    keys.key[..keys.key_len].copy_from_slice(&hex(key));
    keys.salt[..12].copy_from_slice(b"Quid pro quo");
    SrtpContext::with_session_keys(&RustCrypto, &suite, &keys, &[]).unwrap()
}

fn rfc7714_case(key: &str, cipher_id: u32, protected: &str) {
    let ctx = gcm_context(key, cipher_id);
    let plain = hex(RFC7714_PLAIN);
    let mut buf = plain.clone();
    buf.resize(plain.len() + 16, 0);
    let mut state = IndexState::default();
    let out = ctx
        .encrypt_rtp(&mut state, 0, &mut buf, plain.len())
        .unwrap();
    assert_eq!(buf[..out.len].to_vec(), hex(protected));

    let mut rx = IndexState::default();
    let got = ctx.decrypt_rtp(&mut rx, 0, &mut buf, out.len).unwrap();
    assert_eq!(buf[..got.len].to_vec(), plain);
    assert_eq!(got.index, 0xf17b);
    assert!(!got.roc_resynced);
}

#[test]
fn rfc7714_16_1_aead_aes_128_gcm() {
    rfc7714_case(
        "000102030405060708090a0b0c0d0e0f",
        rtpengine_core::abi::cipher::AEAD_AES_GCM_128,
        "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833 899d7f27beb16a9152cf765ee4390cce",
    );
}

#[test]
fn rfc7714_16_2_aead_aes_256_gcm() {
    rfc7714_case(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        rtpengine_core::abi::cipher::AEAD_AES_GCM_256,
        "8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b 7aa3db36dfffd6b0f9bb7878d7a76c13",
    );
}

#[test]
fn rfc7714_tampered_packet_fails_and_is_left_alone() {
    let ctx = gcm_context(
        "000102030405060708090a0b0c0d0e0f",
        rtpengine_core::abi::cipher::AEAD_AES_GCM_128,
    );
    let mut buf = hex("8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833 899d7f27beb16a9152cf765ee4390cce");
    let len = buf.len();
    for at in [1, 5, 12, 30, len - 1] {
        buf[at] ^= 0x20;
        let before = buf.clone();
        let mut state = IndexState::default();
        assert!(
            ctx.decrypt_rtp(&mut state, 0, &mut buf, len).is_err(),
            "byte {at}"
        );
        assert_eq!(buf, before);
        assert_eq!(state, IndexState::default());
        buf[at] ^= 0x20;
    }
}
