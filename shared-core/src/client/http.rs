//! The few HTTP calls of the client (`/api/me`, `/api/documents`, `/api/people`,
//! `/api/enroll`): one HTTP/1.1 request per connection through hyper's connection API.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;

use super::transport;
use super::{ClientError, ServerUrl};

/// How long one request may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An HTTP answer: status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body as JSON of a 2xx answer; 401/403 as [`ClientError::Unauthorized`].
    pub(crate) fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, ClientError> {
        match self.status {
            200..=299 => serde_json::from_slice(&self.body)
                .map_err(|e| ClientError::Server(format!("unexpected answer: {e}"))),
            401 | 403 => Err(ClientError::Unauthorized),
            status => Err(ClientError::Server(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&self.body)
            ))),
        }
    }
}

/// Sends one request; `body` is JSON.
pub(crate) async fn request(
    url: &ServerUrl,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<Answer, ClientError> {
    let exchange = async {
        let net = |e: hyper::Error| ClientError::Network(format!("{method} {path}: {e}"));
        let stream = transport::connect(url).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(net)?;
        let driver = tokio::spawn(connection);
        let mut builder = Request::builder()
            .method(method)
            .uri(url.path(path))
            .header(HOST, url.authority());
        if let Some(token) = token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Config(format!("request {path}: {e}")))?;
        let response = sender.send_request(request).await.map_err(net)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(net)?
            .to_bytes();
        driver.abort();
        Ok(Answer { status, body })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| ClientError::Network(format!("{method} {path} timed out")))?
}
