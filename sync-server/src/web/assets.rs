//! Static assets compiled into the binary (htmx 4.0.1, the stylesheet, the live-page script),
//! served under a path that carries a hash of their content, so they can be cached forever
//! (`immutable`) and a new build never meets a stale copy.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One asset.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/htmx-4.0.1.min.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/app.css"),
    },
    Asset {
        name: "live.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/live.js"),
    },
];

/// The version segment of asset paths: the first 12 hex digits of a hash of every asset.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        for a in ASSETS {
            h.update(a.name.as_bytes());
            h.update(a.body.as_bytes());
        }
        hex::encode(h.finalize())[..12].to_owned()
    })
}

/// The path of asset `name` (e.g. `app.css`).
pub fn path(name: &str) -> String {
    format!("/assets/{}/{name}", version())
}

/// `GET /assets/{version}/{name}`: the asset, cached for a year; an old version is 404.
pub async fn serve(Path((v, name)): Path<(String, String)>) -> Response {
    let found = ASSETS.iter().find(|a| a.name == name);
    match found {
        Some(a) if v == version() => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.body,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
