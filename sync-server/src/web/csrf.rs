//! Cross-site request refusal for the web app's forms: a POST must come from a page of this
//! site, as the browser tells us by `Origin` (matching `Host`) or `Sec-Fetch-Site:
//! same-origin`. Anything else is refused with 403 before the handler runs.

use axum::http::{HeaderMap, Method, header};

/// Whether a request with `method` and `headers` may change state.
pub fn same_origin(method: &Method, headers: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers
            .get("x-forwarded-host")
            .or_else(|| headers.get(header::HOST))
            .and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host.is_some_and(|h| h.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let post = Method::POST;
        assert!(same_origin(&Method::GET, &h(&[])));
        assert!(!same_origin(&post, &h(&[])), "no evidence is refused");
        assert!(same_origin(&post, &h(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&post, &h(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&post, &h(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(
            &post,
            &h(&[
                ("origin", "http://127.0.0.1:8787"),
                ("host", "127.0.0.1:8787")
            ])
        ));
        assert!(!same_origin(
            &post,
            &h(&[
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:8787")
            ])
        ));
        assert!(!same_origin(
            &post,
            &h(&[("origin", "null"), ("host", "127.0.0.1:8787")])
        ));
        // Cross-site evidence wins over a matching Origin.
        assert!(!same_origin(
            &post,
            &h(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:8787"),
                ("host", "127.0.0.1:8787")
            ])
        ));
    }
}
