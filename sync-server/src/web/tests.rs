//! Route tests of the web app on a real server state (SQLite in a temporary directory, the hub
//! task, the writer thread), through the router without a socket (`oneshot`).

use std::collections::HashMap;
use std::sync::Arc;

use automerge::ActorId;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use nachbar_core::time::Timestamp;
use tower::ServiceExt;

use crate::config::ServeConfig;
use crate::server::{Started, start};
use crate::storage::Store;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeConfig,
}

/// A neighbourhood with three businesses, a second neighbourhood, and people with logins.
pub(super) struct Fixture {
    pub(super) server: Started,
    pub(super) hood: String,
    pub(super) other_hood: String,
    pub(super) b1: String,
    pub(super) b2: String,
    /// name → user id; every password is `passwort-<name>`.
    pub(super) users: HashMap<&'static str, String>,
    dir: tempfile::TempDir,
}

/// An answer: status, headers, body.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
    /// The body as it came (a PDF, a zip).
    pub(super) bytes: Vec<u8>,
}

impl Answer {
    pub(super) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Fixture {
    pub(super) async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        let conn = std::sync::Arc::new(std::sync::Mutex::new(
            Store::open(&dir.path().join("nachbar.sqlite3")).unwrap(),
        ));
        let storage = crate::storage::backend::Storage::sqlite(std::sync::Arc::clone(&conn));
        crate::admin::init(&storage, now).await.unwrap();
        let (hood, _) = crate::admin::add_neighbourhood(&storage, "Testpark", "Ort", now)
            .await
            .unwrap();
        let (other_hood, _) = crate::admin::add_neighbourhood(&storage, "Anderswo", "", now)
            .await
            .unwrap();
        let (b1, _) = crate::admin::add_business(&storage, &hood, "Glaserei", "Glaser", None, now)
            .await
            .unwrap();
        let (b2, _) = crate::admin::add_business(
            &storage,
            &hood,
            "<script>alert(1)</script> & Söhne",
            "",
            None,
            now,
        )
        .await
        .unwrap();
        let (b3, _) =
            crate::admin::add_business(&storage, &other_hood, "Fremdbetrieb", "", None, now)
                .await
                .unwrap();
        let mut users = HashMap::new();
        {
            let store = conn.lock().unwrap();
            for (name, role, scope) in [
                ("coordinator", "coordinator", hood.as_str()),
                ("other_coordinator", "coordinator", other_hood.as_str()),
                ("coach", "coach", b1.as_str()),
                ("owner1", "owner", b1.as_str()),
                ("staff1", "staff", b1.as_str()),
                ("owner2", "owner", b2.as_str()),
                ("owner3", "owner", b3.as_str()),
                ("admin", "admin", ""),
            ] {
                let id = store.add_user(name, now.millis()).unwrap();
                store.grant_role(&id, role, scope).unwrap();
                let hash = super::password::hash(&format!("passwort-{name}")).unwrap();
                store
                    .set_credentials(&id, name, &hash, now.millis())
                    .unwrap();
                users.insert(name, id);
            }
        }
        drop(conn);
        let config =
            Cli::parse_from(["nachbar-server", "--data-dir", dir.path().to_str().unwrap()]).serve;
        let server = start(&config).await.unwrap();
        Fixture {
            server,
            hood,
            other_hood,
            b1,
            b2,
            users,
            dir,
        }
    }

    pub(super) fn state(&self) -> &Arc<crate::routes::AppState> {
        &self.server.state
    }

    /// A connection of its own to the server's SQLite file.
    pub(super) fn db(&self) -> Store {
        Store::open(&self.dir.path().join("nachbar.sqlite3")).expect("opening the database")
    }

    /// A request through the router; `cookie` is a session secret; POSTs come from this site.
    pub(super) async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Answer {
        self.call_from(None, method, path, cookie, form, extra)
            .await
    }

    /// [`Fixture::call`] from the peer address `peer` (as a socket would give it).
    pub(super) async fn call_from(
        &self,
        peer: Option<std::net::SocketAddr>,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1:8787");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("nachbar_session={c}"));
        }
        if method == "POST"
            && !extra
                .iter()
                .any(|(k, _)| *k == "origin" || *k == "sec-fetch-site")
        {
            req = req.header(header::ORIGIN, "http://127.0.0.1:8787");
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f.to_owned())
            }
            None => Body::empty(),
        };
        let mut request = req.body(body).unwrap();
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        let response = self.server.router().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub(super) async fn get(&self, path: &str, cookie: &str) -> Answer {
        self.call("GET", path, Some(cookie), None, &[]).await
    }

    pub(super) async fn post(&self, path: &str, cookie: &str, form: &str) -> Answer {
        self.call("POST", path, Some(cookie), Some(form), &[]).await
    }

    /// Signs `name` in; returns the session secret.
    pub(super) async fn sign_in(&self, name: &str) -> String {
        let a = self
            .call(
                "POST",
                "/login",
                None,
                Some(&format!("login={name}&password=passwort-{name}&next=/")),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let cookie = a.header("set-cookie");
        cookie
            .strip_prefix("nachbar_session=")
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }

    /// A fresh actor (for documents made in tests).
    pub(super) fn actor() -> ActorId {
        ActorId::random()
    }

    /// `who` as a page sees them (a session of the fixture's user, German).
    pub(super) fn signed_in(&self, who: &str) -> super::session::SignedIn {
        super::session::SignedIn {
            user: crate::storage::SessionUser {
                user_id: self.users[who].clone(),
                name: who.to_owned(),
                session_hash: String::new(),
            },
            policy: self.state().web.policy.current(),
            lang: nachbar_core::label::Lang::De,
        }
    }

    /// The stored document `id` as it loads.
    pub(super) fn stored_doc(
        &self,
        id: &nachbar_core::ids::DocumentId,
    ) -> nachbar_core::doc::NachbarDoc {
        let bytes = self.db().load(&id.to_string()).unwrap().unwrap().bytes;
        nachbar_core::doc::NachbarDoc::load(&bytes, Self::actor()).unwrap()
    }

    /// What is stored of `id`, as its heads (compaction may rewrite the bytes).
    pub(super) fn stored_heads(
        &self,
        id: &nachbar_core::ids::DocumentId,
    ) -> Vec<automerge::ChangeHash> {
        self.stored_doc(id).heads()
    }
}

#[tokio::test]
async fn a_browser_at_the_root_is_sent_to_sign_in_and_lands_on_its_home() {
    let f = Fixture::new().await;
    let a = f.call("GET", "/", None, None, &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header("location"), "/login?next=/");
    assert_eq!(
        a.header("cache-control"),
        "no-store",
        "the root is a web page too"
    );
    assert!(
        a.header("content-security-policy")
            .contains("script-src 'self'")
    );
    let login = f.call("GET", "/login", None, None, &[]).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("<html lang=\"de\""));
    let en = f
        .call(
            "GET",
            "/login",
            None,
            None,
            &[("accept-language", "en-GB,en;q=0.9")],
        )
        .await;
    assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Sign in"));
    let c = f.sign_in("coordinator").await;
    let home = f.get("/", &c).await;
    assert_eq!(home.header("location"), format!("/n/{}", f.hood));
    let page = f.get(&format!("/n/{}", f.hood), &c).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Testpark"));
    let admin = f.sign_in("admin").await;
    assert_eq!(f.get("/", &admin).await.header("location"), "/start");
    let owner = f.sign_in("owner1").await;
    assert_eq!(f.get("/", &owner).await.header("location"), "/start");
    // Who works for one business only lands on its home.
    let start = f.get("/start", &owner).await;
    assert_eq!(start.header("location"), format!("/b/{}", f.b1));
    let home = f.get(&format!("/b/{}", f.b1), &owner).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Glaserei"), "{}", home.body);
    f.server.stop().await;
}

#[tokio::test]
async fn session_cookies_are_strict_http_only_and_secure_behind_https() {
    let f = Fixture::new().await;
    let a = f
        .call(
            "POST",
            "/login",
            None,
            Some("login=owner1&password=passwort-owner1"),
            &[],
        )
        .await;
    let cookie = a.header("set-cookie");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age=2592000"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let tls = f
        .call(
            "POST",
            "/login",
            None,
            Some("login=owner1&password=passwort-owner1"),
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(tls.header("set-cookie").contains("; Secure"));
    // The database keeps only a hash of the secret.
    let secret = cookie
        .strip_prefix("nachbar_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let stored: i64 = f
        .db()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM web_sessions WHERE hash = ?1",
            [&secret],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);
    f.server.stop().await;
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    let path = format!("/n/{}/businesses", f.hood);
    for extra in [
        vec![("origin", "http://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let a = f
            .call("POST", &path, Some(&c), Some("name=Neu&trade="), &extra)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{extra:?}");
    }
    // Neither Origin nor Sec-Fetch-Site: refused as well.
    let req = Request::builder()
        .method("POST")
        .uri(&path)
        .header(header::COOKIE, format!("nachbar_session={c}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=Neu&trade="))
        .unwrap();
    assert_eq!(
        f.server.router().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let page = f.get(&path, &c).await;
    assert!(!page.body.contains("Neu<"), "nothing was added");
    // A same-origin POST does it.
    let ok = f.post(&path, &c, "name=Neu&trade=").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert!(f.get(&path, &c).await.body.contains(">Neu"));
    f.server.stop().await;
}

#[tokio::test]
async fn pages_are_not_stored_and_carry_the_security_headers() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    for path in [
        format!("/n/{}", f.hood),
        format!("/n/{}/businesses", f.hood),
        "/start".to_owned(),
        "/login".to_owned(),
    ] {
        let a = f.get(&path, &c).await;
        assert_eq!(a.header("cache-control"), "no-store", "{path}");
        assert!(
            a.header("content-security-policy")
                .contains("script-src 'self'"),
            "{path}"
        );
        assert_eq!(a.header("x-frame-options"), "DENY");
        assert!(a.header("vary").contains("HX-Request"));
    }
    let css = f
        .call("GET", &super::assets::path("app.css"), None, None, &[])
        .await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("cache-control").contains("immutable"));
    let stale = f
        .call("GET", "/assets/000000000000/app.css", None, None, &[])
        .await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    f.server.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_login_with_retry_after() {
    let f = Fixture::new().await;
    for _ in 0..crate::limiter::PER_LOGIN {
        let a = f
            .call(
                "POST",
                "/login",
                None,
                Some("login=owner1&password=falsch"),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = f
        .call(
            "POST",
            "/login",
            None,
            Some("login=owner1&password=passwort-owner1"),
            &[],
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let wait: u64 = a.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another login is not blocked by owner1's failures.
    let other = f
        .call(
            "POST",
            "/login",
            None,
            Some("login=owner2&password=passwort-owner2"),
            &[],
        )
        .await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    f.server.stop().await;
}

#[tokio::test]
async fn parallel_guesses_count_before_the_check_and_cannot_lock_out_other_addresses() {
    let f = Fixture::new().await;
    let attacker: std::net::SocketAddr = "10.0.0.66:40000".parse().unwrap();
    let guesses = (0..20).map(|i| {
        let form = format!("login=owner1&password=falsch-{i}");
        let f = &f;
        async move {
            f.call_from(Some(attacker), "POST", "/login", None, Some(&form), &[])
                .await
                .status
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let tried = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (tried, refused),
        (
            crate::limiter::PER_LOGIN as usize,
            20 - crate::limiter::PER_LOGIN as usize
        ),
        "{answers:?}"
    );
    // The owner, from another address, still signs in.
    let owner = f
        .call_from(
            Some("10.0.0.7:50000".parse().unwrap()),
            "POST",
            "/login",
            None,
            Some("login=owner1&password=passwort-owner1"),
            &[],
        )
        .await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.body);
    // Without --trust-proxy-headers a made-up X-Real-IP buys no fresh attempts.
    let local: std::net::SocketAddr = "127.0.0.1:40001".parse().unwrap();
    let mut statuses = Vec::new();
    for i in 0..=crate::limiter::PER_LOGIN {
        let ip = format!("192.0.2.{i}");
        let a = f
            .call_from(
                Some(local),
                "POST",
                "/login",
                None,
                Some("login=coach&password=falsch"),
                &[("x-real-ip", ip.as_str())],
            )
            .await;
        statuses.push(a.status);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    f.server.stop().await;
}

#[tokio::test]
async fn a_stale_forged_or_ended_session_goes_to_sign_in() {
    let f = Fixture::new().await;
    let path = format!("/n/{}", f.hood);
    for forged in [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "nonsense",
        "",
    ] {
        let a = f.get(&path, forged).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{forged}");
        assert!(a.header("location").starts_with("/login?next="));
    }
    // Signing out ends the session at once.
    let c = f.sign_in("coordinator").await;
    assert_eq!(f.get(&path, &c).await.status, StatusCode::OK);
    assert_eq!(
        f.post("/logout", &c, "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(f.get(&path, &c).await.status, StatusCode::SEE_OTHER);
    // A new password (set by an admin, or through a new invitation) ends the open sessions.
    let c = f.sign_in("coordinator").await;
    let hash = super::password::hash("ein neues passwort").unwrap();
    f.db()
        .set_credentials(&f.users["coordinator"], "coordinator", &hash, 1)
        .unwrap();
    assert_eq!(f.get(&path, &c).await.status, StatusCode::SEE_OTHER);
    let hash = super::password::hash("passwort-coordinator").unwrap();
    f.db()
        .set_credentials(&f.users["coordinator"], "coordinator", &hash, 2)
        .unwrap();
    // A deleted user's session ends at the next request.
    let c = f.sign_in("coordinator").await;
    f.db().delete_user(&f.users["coordinator"], 1).unwrap();
    assert_eq!(f.get(&path, &c).await.status, StatusCode::SEE_OTHER);
    // htmx is told to load the sign-in page instead of swapping it in.
    let h = f
        .call("GET", &path, Some(&c), None, &[("hx-request", "true")])
        .await;
    assert!(h.header("hx-redirect").starts_with("/login"));
    f.server.stop().await;
}

#[tokio::test]
async fn the_session_cookie_opens_no_api_or_sync_route() {
    let f = Fixture::new().await;
    let c = f.sign_in("owner1").await;
    for path in ["/api/me", "/api/documents", "/api/people", "/sync"] {
        let a = f.get(path, &c).await;
        assert!(
            a.status == StatusCode::UNAUTHORIZED || a.status.is_client_error(),
            "{path}: {}",
            a.status
        );
        assert_ne!(a.status, StatusCode::OK, "{path}");
    }
    f.server.stop().await;
}

#[tokio::test]
async fn hostile_names_are_escaped_everywhere_they_show() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    for path in [
        format!("/n/{}", f.hood),
        format!("/n/{}/businesses", f.hood),
    ] {
        let a = f.get(&path, &c).await;
        assert!(!a.body.contains("<script>alert(1)</script>"), "{path}");
        assert!(
            a.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || a.body.contains("&lt;script&gt;"),
            "{path}"
        );
    }
    let people = f.get(&format!("/n/{}/businesses", f.hood), &c).await;
    assert!(
        people.body.contains(&format!("id=\"b-{}\"", f.b2)),
        "the hostile business has its card"
    );
    // The CSV guards against formula injection.
    let add = f
        .post(
            &format!("/n/{}/businesses", f.hood),
            &c,
            "name=%3D1%2B1&trade=",
        )
        .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER);
    let csv = f.get(&format!("/n/{}/heatmap.csv", f.hood), &c).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("'=1+1"), "{}", csv.body);
    assert!(!csv.body.contains(";=1+1") && !csv.body.contains("\n=1+1"));
    f.server.stop().await;
}

#[tokio::test]
async fn an_oversized_form_is_refused_with_413() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    let big = format!("name={}&trade=", "x".repeat(super::MAX_FORM_BYTES + 1));
    let a = f.post(&format!("/n/{}/businesses", f.hood), &c, &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    f.server.stop().await;
}
