//! Route tests of the calendar feed: a user makes a secret link, a calendar app (no cookie)
//! reads the user's meetings and the workshops the user is invited to, parsed back with the
//! `icalendar` crate's parser, with the Europe/Berlin VTIMEZONE; a moved workshop keeps its
//! UID and raises SEQUENCE; a replaced or revoked secret is 404 like one never made, and so is
//! every malformed one.

use std::str::FromStr;

use axum::http::StatusCode;
use icalendar::{Calendar, CalendarComponent, Component, EventLike};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::neighbourhood::NeighbourhoodDoc;
use nachbar_core::model::workshop::{NewWorkshop, WorkshopDoc, WorkshopKind};
use nachbar_core::time::Timestamp;

use super::tests::Fixture;

/// A workshop on 2027-01-20 from 16:00 to 18:00 made by the coordinator, inviting `invited`.
async fn workshop(f: &Fixture, title: &str, invited: &[&str]) -> DocumentId {
    let ctx = EditContext::new(f.users["coordinator"].clone(), Timestamp::now());
    let new = NewWorkshop {
        title: title.to_owned(),
        kind: WorkshopKind::TopicWorkshop,
        date: "2027-01-20".to_owned(),
        start: "16:00".to_owned(),
        end: "18:00".to_owned(),
        place: "Halle 2, Süßstraße 1".to_owned(),
        host: None,
        goal: "Weniger Papier".to_owned(),
    };
    let (mut w, _) = WorkshopDoc::create(Fixture::actor(), &ctx, &f.hood, &new).unwrap();
    for who in invited {
        let _in_memory = w.invite(&ctx, &f.users[who], Some(&f.b1), None).unwrap();
    }
    super::edit::create(f.state(), &f.signed_in("coordinator"), w.inner())
        .await
        .unwrap()
}

/// The link the calendar page shows after "create".
fn link_in(body: &str) -> String {
    let start = body.find("/cal/").expect("a feed link");
    let end = start + body[start..].find(".ics").expect(".ics") + 4;
    body[start..end].to_owned()
}

fn parsed(body: &str) -> Calendar {
    Calendar::from_str(body).unwrap_or_else(|e| panic!("the feed parses: {e}\n{body}"))
}

fn event<'a>(cal: &'a Calendar, summary: &str) -> Option<&'a icalendar::Event> {
    cal.components.iter().find_map(|c| match c {
        CalendarComponent::Event(e) if e.get_summary() == Some(summary) => Some(e),
        _ => None,
    })
}

#[tokio::test]
async fn a_calendar_app_reads_the_invited_workshops_and_sees_a_move_by_sequence() {
    let f = Fixture::new().await;
    let invited = workshop(&f, "Werkstatt E-Rechnung", &["owner1"]).await;
    let _not_invited = workshop(&f, "Nur für Vogt", &["owner2"]).await;
    // A network meeting of the neighbourhood.
    let hood_doc = super::pages::neighbourhood::hood_doc(f.state(), &f.hood)
        .await
        .unwrap()
        .unwrap();
    super::edit::edit(
        f.state(),
        &f.signed_in("coordinator"),
        hood_doc,
        |doc: &mut NeighbourhoodDoc, ctx| {
            let (_, applied) = doc.add_meeting(
                ctx,
                "Netzwerktreffen",
                "2027-02-03",
                Some("18:30"),
                "Kammer",
                None,
            )?;
            Ok(((), applied))
        },
    )
    .await
    .unwrap();

    let owner = f.sign_in("owner1").await;
    let page = f.get("/me/calendar", &owner).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("noch keinen Kalender-Link"),
        "{}",
        page.body
    );
    let made = f.post("/me/calendar", &owner, "").await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let link = link_in(&made.body);
    assert!(
        made.body
            .contains(&format!("webcal://127.0.0.1:8787{link}"))
    );
    let again = f.get("/me/calendar", &owner).await;
    assert!(!again.body.contains(&link), "the secret is shown only once");
    assert!(again.body.contains("aktiv seit"));

    // The calendar app: no cookie.
    let feed = f.call("GET", &link, None, None, &[]).await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
    assert_eq!(feed.header("content-type"), "text/calendar; charset=utf-8");
    assert!(
        feed.body.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"),
        "{}",
        feed.body
    );
    assert!(
        feed.body
            .contains("DTSTART;TZID=Europe/Berlin:20270120T160000"),
        "{}",
        feed.body
    );
    let cal = parsed(&feed.body);
    assert!(
        cal.components
            .iter()
            .any(|c| matches!(c, CalendarComponent::Other(o) if o.component_kind() == "VTIMEZONE"))
    );
    let w = event(&cal, "Werkstatt E-Rechnung").expect("the invited workshop");
    assert_eq!(
        w.get_uid(),
        Some(format!("workshop-{invited}@nachbar").as_str())
    );
    assert_eq!(w.get_sequence(), Some(0));
    assert_eq!(w.get_location(), Some("Halle 2, Süßstraße 1"));
    assert_eq!(
        w.get_url(),
        Some(format!("http://127.0.0.1:8787/w/{invited}").as_str())
    );
    assert!(
        event(&cal, "Nur für Vogt").is_none(),
        "not invited: not in the feed"
    );
    let m = event(&cal, "Netzwerktreffen").expect("the network meeting");
    assert!(
        feed.body
            .contains("DTSTART;TZID=Europe/Berlin:20270203T183000")
    );
    assert_eq!(m.get_sequence(), Some(0));

    // The coordinator moves the workshop: same UID, SEQUENCE 1, and it stays 1.
    let coordinator = f.sign_in("coordinator").await;
    let moved = f
        .post(
            &format!("/w/{invited}/plan"),
            &coordinator,
            "guiding_question=Wie&start=17%3A00&end=19%3A00",
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    for _ in 0..2 {
        let feed = f.call("GET", &link, None, None, &[]).await;
        let cal = parsed(&feed.body);
        let w = event(&cal, "Werkstatt E-Rechnung").unwrap();
        assert_eq!(
            w.get_uid(),
            Some(format!("workshop-{invited}@nachbar").as_str())
        );
        assert_eq!(w.get_sequence(), Some(1), "{}", feed.body);
        assert!(
            feed.body
                .contains("DTSTART;TZID=Europe/Berlin:20270120T170000")
        );
        assert_eq!(
            event(&cal, "Netzwerktreffen").unwrap().get_sequence(),
            Some(0)
        );
    }

    // A new link replaces the old one; revoking ends the new one; both are 404 like a guess.
    let guess = f
        .call(
            "GET",
            &format!("/cal/{}.ics", "a".repeat(64)),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(guess.status, StatusCode::NOT_FOUND);
    let replaced = link_in(&f.post("/me/calendar", &owner, "").await.body);
    assert_ne!(replaced, link);
    let old = f.call("GET", &link, None, None, &[]).await;
    assert_eq!((old.status, &old.body), (guess.status, &guess.body));
    assert_eq!(
        f.call("GET", &replaced, None, None, &[]).await.status,
        StatusCode::OK
    );
    let revoked = f.post("/me/calendar/revoke", &owner, "").await;
    assert!(revoked.body.contains("widerrufen"));
    let gone = f.call("GET", &replaced, None, None, &[]).await;
    assert_eq!((gone.status, &gone.body), (guess.status, &guess.body));
    for bad in [
        "/cal/abc.ics".to_owned(),
        format!("{}x", replaced.trim_end_matches(".ics")),
        replaced.trim_end_matches(".ics").to_owned(),
        format!("/cal/{}.ics", "Z".repeat(64)),
        "/cal/%2e%2e.ics".to_owned(),
    ] {
        let a = f.call("GET", &bad, None, None, &[]).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{bad}");
    }
    // Signed out, the page itself is not shown.
    let anonymous = f.call("GET", "/me/calendar", None, None, &[]).await;
    assert!(!anonymous.body.contains("Kalender-Link erstellen"));
    f.server.stop().await;
}
