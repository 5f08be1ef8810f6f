//! Reading the `Cookie` header and writing `Set-Cookie` values for the web app's two cookies
//! (session and language).

use axum::http::{HeaderMap, header};

/// The value of cookie `name` in the request, if present.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// Whether the request reached us over HTTPS: directly, or through a reverse proxy that says
/// so (`X-Forwarded-Proto: https`, as in the README's nginx example). Believing the header is
/// safe: it can only make a browser's own cookie stricter.
pub fn is_https(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    uri.scheme_str() == Some("https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure over HTTPS; `max_age`
/// in seconds (0 deletes the cookie).
pub fn set(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_several_headers_and_pairs() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        h.append(
            header::COOKIE,
            HeaderValue::from_static("nachbar_session=abc"),
        );
        assert_eq!(get(&h, "b").as_deref(), Some("2"));
        assert_eq!(get(&h, "nachbar_session").as_deref(), Some("abc"));
        assert_eq!(get(&h, "c"), None);
    }

    #[test]
    fn cookies_are_strict_and_secure_over_https() {
        let c = set("s", "v", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!set("s", "v", 60, false).contains("Secure"));
        let mut h = HeaderMap::new();
        let uri: axum::http::Uri = "/x".parse().unwrap();
        assert!(!is_https(&h, &uri));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(is_https(&h, &uri));
    }
}
