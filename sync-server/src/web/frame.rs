//! The page frame every page shares: language, title, navigation for the user's roles, the
//! language switch and the asset paths; and rendering a template into a response.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nachbar_core::label::Lang;

use super::assets;
use super::i18n::Texts;
use super::session::SignedIn;

/// A navigation link.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Target.
    pub href: String,
    /// Label.
    pub label: &'static str,
    /// Whether it is the current page.
    pub current: bool,
}

/// What the frame of every page shows.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Texts of the page's language.
    pub t: &'static Texts,
    /// Page title (also the `<h1>`).
    pub title: String,
    /// The signed-in user's name.
    pub user: Option<String>,
    /// Navigation.
    pub nav: Vec<NavLink>,
    /// Stylesheet path.
    pub css: String,
    /// htmx path.
    pub htmx: String,
    /// Live-page script path.
    pub live_js: String,
    /// The language switch's link.
    pub switch_href: String,
}

impl Frame {
    /// The frame of a page at `path` titled `title`; `hood` is the neighbourhood the page
    /// belongs to, for the coordinator's navigation.
    pub fn new(
        lang: Lang,
        title: impl Into<String>,
        who: Option<&SignedIn>,
        path: &str,
        hood: Option<&str>,
    ) -> Frame {
        let t = Texts::of(lang);
        let mut nav = Vec::new();
        if let Some(who) = who {
            let hood = hood
                .map(str::to_owned)
                .or_else(|| who.coordinated().into_iter().next());
            match hood {
                Some(n) if who.runs(&n) => {
                    for (href, label) in [
                        (format!("/n/{n}"), t.overview),
                        (format!("/n/{n}/businesses"), t.businesses_and_people),
                        (format!("/n/{n}/workshops"), t.workshops),
                        (format!("/n/{n}/offerings"), t.joint_offerings),
                    ] {
                        nav.push(NavLink {
                            current: href == path,
                            href,
                            label,
                        });
                    }
                }
                _ => nav.push(NavLink {
                    href: "/start".to_owned(),
                    label: t.home,
                    current: path == "/start",
                }),
            }
            nav.push(NavLink {
                href: "/me/calendar".to_owned(),
                label: t.calendar,
                current: path == "/me/calendar",
            });
        }
        Frame {
            t,
            title: title.into(),
            user: who.map(|w| w.user.name.clone()),
            nav,
            css: assets::path("app.css"),
            htmx: assets::path("htmx.min.js"),
            live_js: assets::path("live.js"),
            switch_href: format!(
                "/lang/{}?back={}",
                t.other_lang_code,
                super::session::urlencode(path)
            ),
        }
    }
}

/// Renders a template as an HTML response with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Renders a template as a `200 OK` HTML response.
pub fn ok(page: &impl Template) -> Response {
    render(StatusCode::OK, page)
}
