//! TLS to a PostgreSQL server, with its certificate checked. A connection
//! URL says how in libpq's words: `sslmode=verify-full` checks the
//! certificate's chain and that it names the host connected to,
//! `verify-ca` the chain alone; `sslrootcert=FILE` names the PEM file of
//! the authority to trust (else the system's authorities are trusted).
//! `disable`, `allow` and `prefer` (the default) connect without TLS, for a
//! server on the same machine or a private network; `require`, which
//! encrypts without checking who answers, is refused: an attacker in
//! between would be trusted.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// How a connection is secured.
#[derive(Clone)]
pub(crate) enum Tls {
    Plain,
    Verified(MakeRustlsConnect),
}

/// Takes the TLS settings out of a connection URL (the client library knows
/// only some of them); returns the rest of the URL and how to connect.
pub(crate) fn split(url: &str) -> Result<(String, Tls), StoreError> {
    let (rest, settings) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        split_query(url)
    } else {
        split_words(url)
    };
    let mode = settings.mode.as_deref().unwrap_or("prefer");
    let check_host = match mode {
        "disable" | "allow" | "prefer" => return Ok((rest, Tls::Plain)),
        "verify-full" => true,
        "verify-ca" => false,
        "require" => {
            return Err(refused(
                "sslmode=require encrypts without checking the server's certificate; write \
                 sslmode=verify-full (and sslrootcert=FILE, the PEM file of the authority that \
                 signed it)",
            ));
        }
        other => {
            return Err(refused(&format!(
                "sslmode={other} is not a mode: use verify-full, verify-ca, prefer or disable"
            )));
        }
    };
    let mut roots = RootCertStore::empty();
    match &settings.root {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|found| found.collect::<Result<Vec<_>, _>>())
                .map_err(|e| refused(&format!("cannot read the certificates in {path} ({e})")))?;
            if certificates.is_empty() {
                return Err(refused(&format!("{path} holds no PEM certificate")));
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|e| refused(&format!("{path} holds a bad certificate ({e})")))?;
            }
        }
        None => {
            for certificate in rustls_native_certs::load_native_certs().certs {
                // One unusable authority of the system's does not stop the others.
                let _ = roots.add(certificate);
            }
            if roots.is_empty() {
                return Err(refused(
                    "this machine trusts no certificate authority: give sslrootcert=FILE",
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| refused(&format!("cannot check certificates ({e})")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if check_host {
        verifier
    } else {
        Arc::new(AnyHost(verifier))
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(&format!("cannot set up TLS ({e})")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // The client library is told to insist on TLS; the verifier checks the rest.
    let rest = append(&rest, url, "sslmode", "require");
    Ok((rest, Tls::Verified(MakeRustlsConnect::new(config))))
}

fn refused(reason: &str) -> StoreError {
    StoreError::Connect {
        target: "the PostgreSQL server".into(),
        reason: format!("the connection's TLS settings: {reason}"),
    }
}

#[derive(Default)]
struct Settings {
    mode: Option<String>,
    root: Option<String>,
}

impl Settings {
    /// Keeps a TLS setting; whether it was one.
    fn take(&mut self, key: &str, value: &str) -> bool {
        match key {
            "sslmode" => self.mode = Some(value.to_string()),
            "sslrootcert" => self.root = Some(value.to_string()),
            _ => return false,
        }
        true
    }
}

/// `postgresql://…?sslmode=…&sslrootcert=…`: the query's TLS parameters.
fn split_query(url: &str) -> (String, Settings) {
    let mut settings = Settings::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), settings);
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            !settings.take(key, &percent_decoded(value))
        })
        .collect();
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, settings)
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `host=… sslmode=… sslrootcert='…'`: libpq's key=value words, a value
/// quoted with single quotes and backslashes as libpq writes them.
fn split_words(url: &str) -> (String, Settings) {
    let mut settings = Settings::default();
    let mut kept = Vec::new();
    let mut chars = url.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        if key.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut raw = String::new();
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if chars.next_if_eq(&'\'').is_some() {
                raw.push('\'');
                while let Some(c) = chars.next() {
                    raw.push(c);
                    match c {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                raw.push(escaped);
                                value.push(escaped);
                            }
                        }
                        '\'' => break,
                        other => value.push(other),
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    raw.push(c);
                    value.push(c);
                }
            }
        }
        if !settings.take(&key, &value) {
            kept.push(format!("{key}={raw}"));
        }
    }
    (kept.join(" "), settings)
}

/// `rest` with one more setting, in the form `original` was written in.
fn append(rest: &str, original: &str, key: &str, value: &str) -> String {
    if original.starts_with("postgres://") || original.starts_with("postgresql://") {
        let joiner = if rest.contains('?') { '&' } else { '?' };
        format!("{rest}{joiner}{key}={value}")
    } else {
        format!("{rest} {key}={value}")
    }
}

/// verify-ca: the chain is checked, the name the certificate gives is not.
#[derive(Debug)]
struct AnyHost(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHost {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            outcome => outcome,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_are_taken_out_of_either_form_and_the_rest_kept() {
        let (rest, settings) = split_query(
            "postgresql://girok@db/girok?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5",
        );
        assert_eq!(rest, "postgresql://girok@db/girok?connect_timeout=5");
        assert_eq!(settings.mode.as_deref(), Some("verify-full"));
        assert_eq!(settings.root.as_deref(), Some("/etc/ca.pem"));
        let (rest, settings) = split_words(
            "host=db user=girok password='it\\'s secret' sslmode = verify-ca sslrootcert='/etc/my ca.pem'",
        );
        assert_eq!(rest, "host=db user=girok password='it\\'s secret'");
        assert_eq!(settings.mode.as_deref(), Some("verify-ca"));
        assert_eq!(settings.root.as_deref(), Some("/etc/my ca.pem"));
        assert_eq!(split_query("postgres://db/girok").0, "postgres://db/girok");
    }

    #[test]
    fn require_and_unknown_modes_are_refused_and_plain_modes_stay_plain() {
        for url in [
            "host=db sslmode=require",
            "postgresql://db/girok?sslmode=verify",
        ] {
            let Err(StoreError::Connect { reason, .. }) = split(url) else {
                panic!("{url} was taken");
            };
            assert!(reason.contains("sslmode"), "{reason}");
        }
        for url in [
            "host=db",
            "host=db sslmode=disable",
            "postgresql://db/g?sslmode=prefer",
        ] {
            assert!(matches!(split(url), Ok((_, Tls::Plain))), "{url}");
        }
        let Err(StoreError::Connect { reason, .. }) =
            split("host=db sslmode=verify-full sslrootcert=/nonexistent/ca.pem")
        else {
            panic!("a missing authority file was taken");
        };
        assert!(reason.contains("/nonexistent/ca.pem"), "{reason}");
    }
}
