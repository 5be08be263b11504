//! rustls client configuration: system roots, an extra CA bundle, client certificates,
//! and the explicit opt-out of verification (`verify: false` / `OS_INSECURE`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::CloudConfig;
use crate::error::{Error, Result};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn bad_file(what: &str, path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("cannot use {what} {}: {e}", path.display()))
}

/// Builds the TLS client configuration for a cloud.
///
/// # Errors
/// [`Error::InvalidArgument`] naming an unreadable or invalid `cacert`, `cert` or `key`.
pub(crate) fn client_config(cfg: &CloudConfig) -> Result<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidArgument(format!("TLS setup: {e}")))?;
    let builder = if cfg.verify {
        let mut roots = RootCertStore::empty();
        // A machine without a system store still works with an explicit `cacert`.
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = &cfg.cacert {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad_file("cacert", path, e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| bad_file("cacert", path, e))?;
            if certs.is_empty() {
                return Err(bad_file("cacert", path, "no PEM certificate in it"));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad_file("cacert", path, e))?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
    };
    match (&cfg.cert, &cfg.key) {
        (Some(cert), key) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| bad_file("cert", cert, e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| bad_file("cert", cert, e))?;
            let key_path = key.as_ref().unwrap_or(cert);
            let key =
                PrivateKeyDer::from_pem_file(key_path).map_err(|e| bad_file("key", key_path, e))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| bad_file("cert", cert, e))
        }
        (None, Some(key)) => Err(bad_file("key", key, "a client key needs `cert` too")),
        (None, None) => Ok(builder.with_no_client_auth()),
    }
}

/// Accepts any server certificate (still checks handshake signatures). Only for `verify: false`.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
