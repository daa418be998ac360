//! The codec against RFC 5769's test vectors, and arbitrary input.

use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;

/// RFC 5769's password for the short-term vectors.
const PASSWORD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";
const TRANSACTION: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];

/// RFC 5769 section 2.1: sample request.
const REQUEST: [u8; 108] = [
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
];

/// RFC 5769 section 2.2: sample IPv4 response.
const RESPONSE_V4: [u8; 80] = [
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
];

/// RFC 5769 section 2.3: sample IPv6 response.
const RESPONSE_V6: [u8; 92] = [
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
];

fn attrs(msg: &[u8]) -> Vec<Attribute<'_>> {
    Attributes::new(msg).collect::<Result<_, _>>().unwrap()
}

fn find<'a>(list: &[Attribute<'a>], kind: u16) -> Attribute<'a> {
    *list.iter().find(|a| a.kind == kind).unwrap()
}

/// Integrity and fingerprint of a whole message verify.
fn verifies(msg: &[u8], key: &[u8]) -> bool {
    let list = attrs(msg);
    let mi = find(&list, attr::MESSAGE_INTEGRITY);
    let fp = find(&list, attr::FINGERPRINT);
    integrity_matches(msg, mi.at, mi.value, key)
        && fingerprint_matches(msg, fp.at, fp.u32().unwrap())
}

#[test]
fn rfc5769_request_parses_and_verifies() {
    let h = Header::parse(&REQUEST).unwrap();
    assert_eq!((h.method, h.class), (BINDING, Class::Request));
    assert_eq!((h.length, h.transaction), (0x58, TRANSACTION));
    let list = attrs(&REQUEST);
    let kinds: Vec<u16> = list.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            attr::SOFTWARE,
            attr::PRIORITY,
            attr::ICE_CONTROLLED,
            attr::USERNAME,
            attr::MESSAGE_INTEGRITY,
            attr::FINGERPRINT
        ]
    );
    assert_eq!(find(&list, attr::USERNAME).value, b"evtj:h6vY");
    assert_eq!(find(&list, attr::PRIORITY).u32(), Ok(0x6e0001ff));
    assert_eq!(
        find(&list, attr::ICE_CONTROLLED).u64(),
        Ok(0x932f_f9b1_5126_3b36)
    );
    assert!(verifies(&REQUEST, PASSWORD));
    assert!(!verifies(&REQUEST, b"VOkJxbRl1RmTxUk/WvJxBu"), "wrong key");
    let mut flipped = REQUEST;
    flipped[45] ^= 1;
    assert!(!verifies(&flipped, PASSWORD), "changed body");
}

#[test]
fn rfc5769_responses_decode_their_addresses() {
    for (msg, addr) in [
        (&RESPONSE_V4[..], "192.0.2.1:32853"),
        (
            &RESPONSE_V6[..],
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
        ),
    ] {
        let h = Header::parse(msg).unwrap();
        assert_eq!((h.method, h.class), (BINDING, Class::Success));
        let list = attrs(msg);
        let xma = find(&list, attr::XOR_MAPPED_ADDRESS);
        assert_eq!(
            xor_address(xma.value, &h.transaction),
            Ok(addr.parse().unwrap())
        );
        assert!(verifies(msg, PASSWORD));
    }
}

/// Our writer rebuilds the vectors (RFC 5769 pads SOFTWARE with spaces where
/// we pad with zeros, so that byte is patched before integrity is added).
#[test]
fn writer_rebuilds_the_rfc5769_responses() {
    for (vector, addr) in [
        (&RESPONSE_V4[..], "192.0.2.1:32853"),
        (
            &RESPONSE_V6[..],
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
        ),
    ] {
        let mut buf = [0u8; 128];
        let mut w =
            Writer::new(&mut buf, message_type(BINDING, Class::Success), TRANSACTION).unwrap();
        w.attribute(attr::SOFTWARE, b"test vector").unwrap();
        w.xor_mapped_address(addr.parse::<SocketAddr>().unwrap())
            .unwrap();
        let body = w.finish();
        assert_eq!(buf[35], 0, "zero padding");
        buf[35] = 0x20;
        let mut w = Writer::resume(&mut buf, body).unwrap();
        w.message_integrity(PASSWORD).unwrap();
        w.fingerprint().unwrap();
        let n = w.finish();
        assert_eq!(&buf[..n], vector);
    }
}

#[test]
fn message_type_interleaves_method_and_class() {
    assert_eq!(message_type(BINDING, Class::Request), 0x0001);
    assert_eq!(message_type(BINDING, Class::Indication), 0x0011);
    assert_eq!(message_type(BINDING, Class::Success), 0x0101);
    assert_eq!(message_type(BINDING, Class::Error), 0x0111);
    for method in [1u16, 0x003, 0x0fff, 0x0abc] {
        for class in [
            Class::Request,
            Class::Indication,
            Class::Success,
            Class::Error,
        ] {
            let mut m = [0u8; 20];
            m[..2].copy_from_slice(&message_type(method, class).to_be_bytes());
            m[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
            let h = Header::parse(&m).unwrap();
            assert_eq!((h.method, h.class), (method, class));
        }
    }
}

#[test]
fn error_code_round_trips() {
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Error), TRANSACTION).unwrap();
    w.error_code(487, "Role conflict").unwrap();
    let n = w.finish();
    let list = attrs(&buf[..n]);
    assert_eq!(
        error_code(find(&list, attr::ERROR_CODE).value),
        Ok((487, "Role conflict"))
    );
    assert!(error_code(&[0, 0, 7, 0]).is_err(), "class 7");
    assert!(error_code(&[0, 0, 4, 100]).is_err(), "number 100");
    assert!(error_code(&[0, 0, 4]).is_err(), "short");
}

#[test]
fn malformed_input_is_an_error() {
    assert_eq!(Header::parse(&REQUEST[..19]), Err(StunError::ShortHeader));
    let mut m = REQUEST;
    m[0] = 0x40;
    assert_eq!(Header::parse(&m), Err(StunError::NotStun));
    let mut m = REQUEST;
    m[4] = 0;
    assert_eq!(Header::parse(&m), Err(StunError::NotStun));
    // An attribute claiming more than is there, and a lone half header.
    let cut = &REQUEST[..REQUEST.len() - 2];
    let last = Attributes::new(cut).last().unwrap();
    assert_eq!(last, Err(StunError::TruncatedAttribute(100)));
    let stub = &REQUEST[..22];
    assert_eq!(
        Attributes::new(stub).collect::<Vec<_>>(),
        [Err(StunError::TruncatedAttribute(20))]
    );
    assert!(xor_address(&[0, 3, 0, 0, 1, 2, 3, 4], &TRANSACTION).is_err());
    assert!(xor_address(&[0, 1, 0, 0, 1, 2, 3], &TRANSACTION).is_err());
    let mut tiny = [0u8; 24];
    assert!(Writer::new(&mut tiny[..10], 1, TRANSACTION).is_err());
    let mut w = Writer::new(&mut tiny, 1, TRANSACTION).unwrap();
    assert_eq!(
        w.attribute(attr::USERNAME, b"12345"),
        Err(StunError::NoRoom)
    );
    assert_eq!(
        w.finish(),
        HEADER_LEN,
        "a refused attribute leaves no trace"
    );
}

proptest! {
    /// Any bytes: parsing ends with a value or an error, never a panic, and the
    /// walk stays inside the input.
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Header::parse(&bytes);
        for a in Attributes::new(&bytes) {
            let Ok(a) = a else { break };
            prop_assert!(a.at + 4 + a.value.len() <= bytes.len());
            let _ = a.u32();
            let _ = a.u64();
            let _ = xor_address(a.value, &TRANSACTION);
            let _ = error_code(a.value);
            let _ = integrity_matches(&bytes, a.at, a.value, b"k");
            let _ = fingerprint_matches(&bytes, a.at, 0);
        }
    }

    /// What the writer writes reads back the same, and verifies. (The random
    /// attributes are never MESSAGE-INTEGRITY or its SHA-256 form: a receiver
    /// checks the first one, which would then be the random one.)
    #[test]
    fn written_attributes_read_back(
        values in proptest::collection::vec((
            (1u16..0x7fff).prop_filter("not an integrity attribute", |k| *k != 0x0008 && *k != 0x001c),
            proptest::collection::vec(any::<u8>(), 0..40),
        ), 0..8),
        key in proptest::collection::vec(any::<u8>(), 0..30),
    ) {
        let mut buf = [0u8; 1024];
        let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), TRANSACTION).unwrap();
        for (kind, value) in &values {
            w.attribute(*kind, value).unwrap();
        }
        w.message_integrity(&key).unwrap();
        w.fingerprint().unwrap();
        let n = w.finish();
        let msg = &buf[..n];
        let h = Header::parse(msg).unwrap();
        prop_assert_eq!(usize::from(h.length) + HEADER_LEN, n);
        let list = attrs(msg);
        prop_assert_eq!(list.len(), values.len() + 2);
        for (a, (kind, value)) in list.iter().zip(&values) {
            prop_assert_eq!(a.kind, *kind);
            prop_assert_eq!(a.value, &value[..]);
        }
        prop_assert!(verifies(msg, &key));
    }
}
