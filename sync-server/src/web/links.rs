//! Absolute links the app hands out to be used elsewhere (an invitation on paper, a calendar
//! feed in another app): the scheme and host the browser used, as the request tells them.

use axum::http::{HeaderMap, header};

/// `scheme://host` of the request: `https` when a reverse proxy says so
/// (`X-Forwarded-Proto: https`), the `Host` header (or this server's default address).
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:8787");
    let scheme = if headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v == "https")
    {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}
