//! The self-signed certificate generated at start, with 10.5's defaults:
//! an EC prime256v1 key (or RSA, 2048 bits), X.509 version 1, a random 64-bit
//! serial, subject = issuer = CN "rtpengine", valid from one day back for 30
//! days, signed with SHA-256 (or SHA-1).

use crate::fingerprint::{Fingerprint, HashFunc};
use crate::DtlsError;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `--dtls-cert-cipher`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertCipher {
    Prime256v1,
    Rsa,
}

/// `--dtls-signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHash {
    Sha256,
    Sha1,
}

/// What the certificate is made of; `Default` is 10.5's defaults.
#[derive(Debug, Clone)]
pub struct CertParams {
    pub cipher: CertCipher,
    /// `--dtls-rsa-key-size`, used with `CertCipher::Rsa`.
    pub rsa_key_size: u32,
    pub signature: SignatureHash,
    /// The subject and issuer CN (10.5: `--software-id`, else "rtpengine";
    /// cut to 63 bytes).
    pub common_name: String,
    /// How long it is valid from now; 10.5 regenerates it at half of this.
    pub validity: Duration,
}

/// 10.5's certificate lifetime.
pub const CERT_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);

impl Default for CertParams {
    fn default() -> Self {
        CertParams {
            cipher: CertCipher::Prime256v1,
            rsa_key_size: 2048,
            signature: SignatureHash::Sha256,
            common_name: "rtpengine".into(),
            validity: CERT_VALIDITY,
        }
    }
}

/// A certificate with its private key, shared by all calls.
#[derive(Clone)]
pub struct Certificate {
    pub(crate) x509: X509,
    pub(crate) key: PKey<Private>,
    expires: SystemTime,
}

impl Certificate {
    /// Generates a key pair and a self-signed certificate; `now` is the
    /// wall-clock time its validity starts from (minus one day, as 10.5).
    pub fn generate(params: &CertParams, now: SystemTime) -> Result<Certificate, DtlsError> {
        let key = match params.cipher {
            CertCipher::Prime256v1 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                PKey::from_ec_key(EcKey::generate(&group)?)?
            }
            CertCipher::Rsa => {
                if !(512..=16384).contains(&params.rsa_key_size) {
                    return Err(DtlsError::Invalid(format!(
                        "RSA key size {} bits",
                        params.rsa_key_size
                    )));
                }
                PKey::from_rsa(Rsa::generate(params.rsa_key_size)?)?
            }
        };
        let mut cn = params.common_name.as_str();
        while cn.len() > 63 {
            // Cut at a character boundary, as 10.5 cuts the CN to 63 bytes.
            cn = &cn[..cn.char_indices().last().map_or(0, |(i, _)| i)];
        }
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_nid(Nid::COMMONNAME, cn)?;
        let name = name.build();

        let mut serial = BigNum::new()?;
        serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
        let now_unix = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| DtlsError::Invalid("time before 1970".into()))?
            .as_secs() as i64;

        let mut b = X509::builder()?;
        b.set_version(0)?;
        let serial = Asn1Integer::from_bn(&serial)?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        b.set_pubkey(&key)?;
        let not_before = Asn1Time::from_unix(now_unix - 24 * 3600)?;
        let not_after = Asn1Time::from_unix(now_unix + params.validity.as_secs() as i64)?;
        b.set_not_before(&not_before)?;
        b.set_not_after(&not_after)?;
        let md = match params.signature {
            SignatureHash::Sha256 => MessageDigest::sha256(),
            SignatureHash::Sha1 => MessageDigest::sha1(),
        };
        b.sign(&key, md)?;
        Ok(Certificate {
            x509: b.build(),
            key,
            expires: now + params.validity,
        })
    }

    /// The fingerprint for `a=fingerprint` with the given hash.
    pub fn fingerprint(&self, hash: HashFunc) -> Fingerprint {
        Fingerprint::of(&self.x509, hash)
    }

    /// When it stops being valid (10.5 makes a new one when half is left).
    pub fn expires(&self) -> SystemTime {
        self.expires
    }

    /// The certificate, DER-encoded.
    pub fn der(&self) -> Vec<u8> {
        self.x509.to_der().unwrap_or_default()
    }

    /// The certificate and its key in PEM (for tools such as `openssl s_client`).
    pub fn pem(&self) -> Result<(Vec<u8>, Vec<u8>), DtlsError> {
        Ok((self.x509.to_pem()?, self.key.private_key_to_pem_pkcs8()?))
    }
}
