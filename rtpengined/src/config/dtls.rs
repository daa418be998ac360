//! `--dtls-*` options, checked as rtpengine 10.5 checks them: a bad value is
//! a fatal start-up error (10.5: `Fatal error: Invalid --dtls-mtu (100)`,
//! exit status 255).

use rtpengine_dtls::{CertCipher, CertParams, Config, SignatureHash, DEFAULT_CIPHERS};

use super::{Cli, ConfigError};

/// The DTLS part of the daemon configuration.
#[derive(Debug, Clone)]
pub struct DtlsOptions {
    /// What the certificate generated at start is made of.
    pub cert: CertParams,
    /// Ciphers and MTU of every handshake.
    pub handshake: Config,
    /// `--dtls-passive`: prefer the server role (default of the ng `DTLS`
    /// and `DTLS-reverse` keys).
    pub passive: bool,
}

fn fatal(text: String) -> ConfigError {
    ConfigError::Fatal(text)
}

/// Validates the `--dtls-*` options; `common_name` is the sanitised
/// `--software-id` (10.5 puts it into the certificate's CN).
pub fn dtls_options(cli: &Cli, common_name: &str) -> Result<DtlsOptions, ConfigError> {
    let mut cert = CertParams {
        common_name: common_name.to_owned(),
        ..CertParams::default()
    };
    if let Some(sig) = cli.dtls_signature.as_deref() {
        cert.signature = match sig.to_ascii_lowercase().as_str() {
            "sha-1" | "sha1" => SignatureHash::Sha1,
            "sha-256" | "sha256" => SignatureHash::Sha256,
            _ => return Err(fatal(format!("Invalid --dtls-signature option ('{sig}')"))),
        };
    }
    if let Some(size) = cli.dtls_rsa_key_size.as_deref() {
        let n: i64 = size
            .trim()
            .parse()
            .map_err(|_| fatal(format!("Invalid --dtls-rsa-key-size ('{size}')")))?;
        if n < 0 {
            return Err(fatal(format!("Invalid --dtls-rsa-key-size ({n})")));
        }
        cert.rsa_key_size =
            u32::try_from(n).map_err(|_| fatal(format!("Invalid --dtls-rsa-key-size ({n})")))?;
    }
    let mut handshake = Config::default();
    if let Some(mtu) = cli.dtls_mtu.as_deref() {
        let n: i64 = mtu
            .trim()
            .parse()
            .map_err(|_| fatal(format!("Invalid --dtls-mtu ('{mtu}')")))?;
        if n < 576 {
            return Err(fatal(format!("Invalid --dtls-mtu ({n})")));
        }
        handshake.mtu = u32::try_from(n).map_err(|_| fatal(format!("Invalid --dtls-mtu ({n})")))?;
    }
    if let Some(cipher) = cli.dtls_cert_cipher.as_deref() {
        cert.cipher = match cipher.to_ascii_lowercase().as_str() {
            "rsa" => CertCipher::Rsa,
            "prime256v1" | "ec_prime256v1" | "ec-prime256v1" => CertCipher::Prime256v1,
            _ => {
                return Err(fatal(format!(
                    "Invalid --dtls-cert-cipher option ('{cipher}')"
                )))
            }
        };
    }
    handshake.ciphers = cli
        .dtls_ciphers
        .clone()
        .unwrap_or_else(|| DEFAULT_CIPHERS.to_owned());
    Ok(DtlsOptions {
        cert,
        handshake,
        passive: cli.dtls_passive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use openssl::x509::X509;
    use std::time::SystemTime;

    fn options(args: &[&str]) -> Result<DtlsOptions, ConfigError> {
        let mut v = vec!["rtpengined", "--config-file=none"];
        v.extend_from_slice(args);
        dtls_options(&Cli::parse_from(v), "rtpengine-test")
    }

    fn cert(args: &[&str]) -> X509 {
        let o = options(args).unwrap();
        let c = rtpengine_dtls::Certificate::generate(&o.cert, SystemTime::now()).unwrap();
        X509::from_der(&c.der()).unwrap()
    }

    #[test]
    fn each_option_reaches_the_certificate() {
        // 10.5's defaults: EC prime256v1, SHA-256 signature, CN = software id.
        let x = cert(&[]);
        let key = x.public_key().unwrap();
        assert_eq!(key.id(), openssl::pkey::Id::EC);
        assert_eq!(
            x.signature_algorithm().object().nid(),
            openssl::nid::Nid::ECDSA_WITH_SHA256
        );
        let cn = x.subject_name().entries().next().unwrap().data().as_slice();
        assert_eq!(cn, b"rtpengine-test");

        let x = cert(&[
            "--dtls-cert-cipher=RSA",
            "--dtls-rsa-key-size=1024",
            "--dtls-signature=sha-1",
        ]);
        let key = x.public_key().unwrap();
        assert_eq!(key.id(), openssl::pkey::Id::RSA);
        assert_eq!(key.bits(), 1024);
        assert_eq!(
            x.signature_algorithm().object().nid(),
            openssl::nid::Nid::SHA1WITHRSAENCRYPTION
        );
        assert_eq!(
            cert(&["--dtls-cert-cipher=rsa"])
                .public_key()
                .unwrap()
                .bits(),
            2048
        );

        let o = options(&["--dtls-mtu=1400", "--dtls-ciphers=HIGH", "--dtls-passive"]).unwrap();
        assert_eq!(o.handshake.mtu, 1400);
        assert_eq!(o.handshake.ciphers, "HIGH");
        assert!(o.passive);
        let o = options(&[]).unwrap();
        assert_eq!((o.handshake.mtu, o.passive), (1200, false));
        assert_eq!(o.handshake.ciphers, DEFAULT_CIPHERS);
    }

    #[test]
    fn bad_values_fail_as_in_10_5() {
        for (arg, text) in [
            ("--dtls-mtu=100", "Invalid --dtls-mtu (100)"),
            (
                "--dtls-signature=md5",
                "Invalid --dtls-signature option ('md5')",
            ),
            (
                "--dtls-cert-cipher=dsa",
                "Invalid --dtls-cert-cipher option ('dsa')",
            ),
            ("--dtls-rsa-key-size=-5", "Invalid --dtls-rsa-key-size (-5)"),
        ] {
            match options(&[arg]) {
                Err(ConfigError::Fatal(t)) => assert_eq!(t, text),
                other => panic!("{arg}: {other:?}"),
            }
        }
        for ok in [
            "--dtls-signature=SHA1",
            "--dtls-cert-cipher=ec-prime256v1",
            "--dtls-mtu=576",
        ] {
            assert!(options(&[ok]).is_ok(), "{ok}");
        }
    }
}
