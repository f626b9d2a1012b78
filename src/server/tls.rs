//! The server's TLS identity (`serve --tls-cert PEM --tls-key PEM`): a
//! certificate chain and its private key, checked to belong together when
//! loaded, as a rustls configuration offering HTTP/1.1.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why a certificate or key could not be used. Never quotes a key.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: String },
    #[error("{path}: no PEM certificate (`-----BEGIN CERTIFICATE-----`) in it")]
    NoCertificate { path: String },
    #[error("{path}: no PEM private key (PKCS#8, PKCS#1 or SEC1) in it")]
    NoKey { path: String },
    #[error("the certificate and the key cannot be used together: {0}")]
    Mismatch(String),
}

/// A certificate chain and its key, ready to serve.
#[derive(Clone)]
pub struct TlsIdentity {
    pub(super) config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity { .. }")
    }
}

impl TlsIdentity {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| TlsError::Read {
                path: p.display().to_string(),
                cause: e.to_string(),
            })
        };
        Self::parse(
            &read(cert)?,
            &cert.display().to_string(),
            &read(key)?,
            &key.display().to_string(),
        )
    }

    fn parse(cert_pem: &[u8], cert_name: &str, key_pem: &[u8], key_name: &str) -> Result<Self, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .filter_map(Result::ok)
            .collect();
        if chain.is_empty() {
            return Err(TlsError::NoCertificate {
                path: cert_name.to_string(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsError::NoKey {
            path: key_name.to_string(),
        })?;
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Mismatch(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| TlsError::Mismatch(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            config: Arc::new(config),
        })
    }
}
