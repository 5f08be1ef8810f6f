//! Streams to the server: TCP, with rustls (ring provider, Mozilla's roots from
//! `webpki-roots`) for `https`/`wss`; no OpenSSL anywhere.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{ClientError, ServerUrl};

/// A byte stream to the server, plain or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How long a TCP connect (and a TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn tls_config(extra_roots: &[Vec<u8>]) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| ClientError::Config(format!("a trusted certificate: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ClientError::Network(format!("TLS setup: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens a stream to the server (TLS for `https`).
pub(crate) async fn connect(url: &ServerUrl) -> Result<Box<dyn Io>, ClientError> {
    let tcp = tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| ClientError::Network("connecting timed out".to_owned()))?
    .map_err(|e| ClientError::Network(format!("connecting to {}: {e}", url.authority())))?;
    let _ = tcp.set_nodelay(true);
    if !url.tls {
        return Ok(Box::new(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(url.host.clone())
        .map_err(|e| ClientError::Config(format!("server name {}: {e}", url.host)))?;
    let tls = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_rustls::TlsConnector::from(tls_config(&url.extra_roots)?).connect(name, tcp),
    )
    .await
    .map_err(|_| ClientError::Network("TLS handshake timed out".to_owned()))?
    .map_err(|e| ClientError::Network(format!("TLS: {e}")))?;
    Ok(Box::new(tls))
}
