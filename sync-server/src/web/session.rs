//! The signed-in user of a page: the session cookie looked up on every request (so a deleted
//! user, a revoked session or an expired one ends at the next request), with the current access
//! rules and the request's language.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use nachbar_core::label::Lang;

use crate::access::{DirectoryPolicy, Principal, roles};
use crate::routes::AppState;
use crate::storage::SessionUser;

use super::{cookies, i18n, read};

/// The session cookie.
pub const SESSION_COOKIE: &str = "nachbar_session";

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user and the session.
    pub user: SessionUser,
    /// The access rules at this request.
    pub policy: Arc<DirectoryPolicy>,
    /// The page language.
    pub lang: Lang,
}

impl SignedIn {
    /// The user as the access rules know users.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.user.user_id.clone(),
            token_hash: String::new(),
        }
    }

    /// The user's id.
    pub fn id(&self) -> &str {
        &self.user.user_id
    }

    /// Whether the user has `role` in `scope`.
    pub fn has(&self, role: &str, scope: &str) -> bool {
        self.policy
            .roles_of(self.id())
            .any(|(r, s)| r == role && s == scope)
    }

    /// Whether the user is an admin.
    pub fn is_admin(&self) -> bool {
        self.has(roles::ADMIN, "")
    }

    /// Whether the user runs neighbourhood `n`: its coordinator, or an admin.
    pub fn runs(&self, n: &str) -> bool {
        self.is_admin() || self.has(roles::COORDINATOR, n)
    }

    /// Neighbourhoods the user coordinates.
    pub fn coordinated(&self) -> Vec<String> {
        self.policy
            .roles_of(self.id())
            .filter(|(r, _)| *r == roles::COORDINATOR)
            .map(|(_, s)| s.to_owned())
            .collect()
    }

    /// Businesses the user has `role` in.
    pub fn businesses_as(&self, role: &str) -> Vec<String> {
        self.policy
            .roles_of(self.id())
            .filter(|(r, _)| *r == role)
            .map(|(_, s)| s.to_owned())
            .collect()
    }
}

/// Why there is no signed-in user: the answer is a redirect to the sign-in page.
#[derive(Debug)]
pub struct NotSignedIn {
    next: String,
    htmx: bool,
    error: bool,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        if self.error {
            return super::pages::errors::unavailable(Lang::De);
        }
        let to = format!("/login?next={}", urlencode(&self.next));
        if self.htmx {
            // htmx follows a redirect inside the fragment; make it load the page instead.
            let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&to) {
                r.headers_mut().insert("hx-redirect", v);
            }
            return r;
        }
        super::see_other(&to)
    }
}

/// Percent-encodes a path for a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A safe place to go after sign-in: a local path only (never another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // Printable ASCII only: browsers drop tabs and line breaks from a URL, which would
        // turn `/\t/evil.example` into `//evil.example`.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| (0x21..0x7f).contains(&b))
                && n.len() < 512 =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The user of a session secret at this moment, with the current rules.
pub async fn lookup(
    state: &AppState,
    secret: String,
) -> Result<Option<SessionUser>, read::ReadError> {
    let now = nachbar_core::time::Timestamp::now().millis();
    Ok(state.web.data.session_user(&secret, now).await?)
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let htmx = super::is_htmx(&parts.headers);
        let reject = |error| NotSignedIn {
            next: next.clone(),
            htmx,
            error,
        };
        let Some(secret) = cookies::get(&parts.headers, SESSION_COOKIE) else {
            return Err(reject(false));
        };
        match lookup(state, secret).await {
            Ok(Some(user)) => Ok(SignedIn {
                user,
                policy: state.web.policy.current(),
                lang: i18n::lang_of(&parts.headers),
            }),
            Ok(None) => Err(reject(false)),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(reject(true))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/n/abc")), "/n/abc");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        for hidden in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r//evil",
            "/ /x",
            "/\u{7f}/x",
        ] {
            assert_eq!(safe_next(Some(hidden)), "/", "{hidden:?}");
        }
        assert_eq!(safe_next(Some("/n/ä")), "/", "not ASCII");
        assert_eq!(safe_next(None), "/");
        assert_eq!(urlencode("/n/a b?x=1"), "/n/a%20b%3Fx%3D1");
    }
}
