//! The demo neighbourhood: a fictional industrial estate with twelve businesses of the trades
//! of the mission, a coach, a coordinator, owners and staff, assessments, a workshop and action
//! plans in several states. Loaded once; on an existing data directory the data is kept and
//! fresh tokens are issued.
// Documents are built in memory and stored whole (`create_document` saves them), so the single
// changes of the edits need no persisting.
#![allow(unused_must_use)]

use std::path::Path;

use anyhow::Context;
use automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::label::Lang;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasurePatch, MeasureStatus, NewMeasure};
use nachbar_core::model::assessment::{
    AssessmentDoc, ComplianceValue, FindingKind, NewAssessment, NewFinding,
};
use nachbar_core::model::business_profile::{SizeBand, TopicState};
use nachbar_core::model::workshop::{BlockKind, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind};
use nachbar_core::time::Timestamp;
use serde::Serialize;

use crate::access::roles;
use crate::admin;
use crate::config::ServeConfig;
use crate::documents::{create_in, edit_in};
use crate::storage::backend::Storage;
use crate::storage::web::{CredentialsOutcome, WebStore};

/// The demo neighbourhood's name (also how an existing demo is recognised).
pub const NEIGHBOURHOOD: &str = "Gewerbepark Lindenfeld";

const BUSINESSES: [(&str, &str, SizeBand); 12] = [
    ("Glaserei Brandt", "Glaser", SizeBand::Small),
    (
        "Metall- und Rohrleitungsbau Vogt",
        "Metallbau",
        SizeBand::Medium,
    ),
    ("Druckerei Lange", "Druckerei", SizeBand::Small),
    ("Steuerkanzlei Kaya", "Steuerberatung", SizeBand::Micro),
    (
        "Schilder & Etiketten Schmidt",
        "Schilder- und Lichtreklame",
        SizeBand::Small,
    ),
    ("Elektro Hansen", "Elektrotechnik", SizeBand::Small),
    ("Tischlerei Weber", "Tischler", SizeBand::Micro),
    (
        "Malerbetrieb Yilmaz",
        "Maler und Lackierer",
        SizeBand::Small,
    ),
    ("Kfz-Technik Becker", "Kfz-Techniker", SizeBand::Small),
    (
        "Sanitär Novak",
        "Installateur und Heizungsbauer",
        SizeBand::Small,
    ),
    ("Bäckerei Krüger", "Bäcker", SizeBand::Medium),
    ("Zimmerei Albers", "Zimmerer", SizeBand::Micro),
];

/// One person of the demo with a fresh token.
#[derive(Debug, Clone, Serialize)]
pub struct DemoPerson {
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Business name, for business roles.
    pub business: Option<String>,
    /// The user id.
    pub user: String,
    /// A fresh device token.
    pub token: String,
    /// The login name for the web app.
    pub login: String,
    /// A fresh password for the web app.
    pub password: String,
}

fn ctx(person: &str, now: Timestamp) -> EditContext {
    EditContext::new(person, now)
}

/// Loads the demo unless present, issues a fresh token per person, prints them and writes
/// `demo-tokens.json` into the data directory.
///
/// # Errors
/// On a storage or file error.
pub async fn prepare(config: &ServeConfig) -> anyhow::Result<Vec<DemoPerson>> {
    std::fs::create_dir_all(&config.data_dir)?;
    let opened =
        crate::storage::node::for_admin(config.database.as_deref(), &config.database_path())
            .await?;
    let (storage, web) = (&opened.storage, opened.web.as_ref());
    let now = Timestamp::now();
    if web.neighbourhood_named(NEIGHBOURHOOD).await?.is_none() {
        load(storage, web, now)
            .await
            .context("loading the demo neighbourhood")?;
    }
    let people = tokens(storage, web, now).await?;
    write_tokens(&config.data_dir, &people)?;
    println!(
        "demo neighbourhood \"{NEIGHBOURHOOD}\": sign in at http://{}/ with a login and password below; one device token per person (all in demo-tokens.json)",
        config.listen
    );
    for p in &people {
        println!(
            "{:<34} {:<12} {:<34} login {:<22} password {:<16} token {}",
            p.name,
            p.role,
            p.business.as_deref().unwrap_or("-"),
            p.login,
            p.password,
            p.token
        );
    }
    Ok(people)
}

fn write_tokens(dir: &Path, people: &[DemoPerson]) -> anyhow::Result<()> {
    let path = dir.join("demo-tokens.json");
    std::fs::write(&path, serde_json::to_vec_pretty(people)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// Issues a fresh token and password for every demo person.
async fn tokens(
    storage: &Storage,
    web: &dyn WebStore,
    now: Timestamp,
) -> anyhow::Result<Vec<DemoPerson>> {
    // The demo users are marked in `meta` (key `demo_user:<id>`, value their order).
    let mut people = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for (user, name, role, business) in web.demo_users().await? {
        let expires = now.millis() + crate::tokens::days_ms(crate::tokens::DEFAULT_TTL_DAYS);
        let token = storage
            .access
            .issue_token(&user, "demo", Some(expires), now.millis())
            .await?;
        let login = login_for(&name, &mut taken);
        let password = demo_password();
        let hash = crate::web::password::hash(&password)?;
        match web
            .set_credentials(&user, &login, &hash, now.millis())
            .await?
        {
            CredentialsOutcome::Set => {}
            other => anyhow::bail!("setting the demo login {login} failed: {other:?}"),
        }
        people.push(DemoPerson {
            name,
            role: role.unwrap_or_default(),
            business,
            user,
            token,
            login,
            password,
        });
    }
    Ok(people)
}

/// A login name from a person's name: lower case, umlauts spelled out, words joined by dots;
/// a number appended when taken.
pub fn login_for(name: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let mut base = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'ä' => base.push_str("ae"),
            'ö' => base.push_str("oe"),
            'ü' => base.push_str("ue"),
            'ß' => base.push_str("ss"),
            c if c.is_ascii_alphanumeric() => base.push(c),
            _ if !base.is_empty() && !base.ends_with('.') => base.push('.'),
            _ => {}
        }
    }
    let base = base.trim_end_matches('.').to_owned();
    let mut login = base.clone();
    let mut n = 2;
    while !taken.insert(login.clone()) {
        login = format!("{base}{n}");
        n += 1;
    }
    login
}

/// A fresh demo password: 15 characters from an alphabet without look-alikes.
fn demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes: [u8; 12] = rand::random();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

struct Demo<'a> {
    storage: &'a Storage,
    web: &'a dyn WebStore,
    now: Timestamp,
    order: u32,
}

impl Demo<'_> {
    async fn person(&mut self, name: &str, role: &str, scope: &str) -> anyhow::Result<String> {
        let id = self
            .storage
            .access
            .add_user_with_role(name, role, scope, self.now.millis())
            .await?;
        self.order += 1;
        self.web.mark_demo_user(&id, self.order).await?;
        Ok(id)
    }

    async fn create(&self, doc: &nachbar_core::doc::NachbarDoc) -> anyhow::Result<()> {
        create_in(self.storage.documents.as_ref(), doc).await?;
        Ok(())
    }
}

async fn load(storage: &Storage, web: &dyn WebStore, now: Timestamp) -> anyhow::Result<()> {
    admin::init(storage, now).await?;
    let (hood, _) = admin::add_neighbourhood(
        storage,
        NEIGHBOURHOOD,
        "Musterstadt, Lindenfelder Ring",
        now,
    )
    .await?;
    let mut ids = Vec::new();
    for (name, trade, size) in BUSINESSES {
        ids.push(admin::add_business(storage, &hood, name, trade, Some(size), now).await?);
    }
    let (glazier, printer, metal) = (ids[0].0.clone(), ids[2].0.clone(), ids[1].0.clone());
    let mut demo = Demo {
        storage,
        web,
        now,
        order: 0,
    };
    let coordinator = demo
        .person("Nadine Koordinatorin", roles::COORDINATOR, &hood)
        .await?;
    let coach = demo
        .person("Carsten Coach (HWK)", roles::COACH, &glazier)
        .await?;
    for (business, _) in &ids[1..] {
        storage
            .access
            .grant_role(&coach, roles::COACH, business)
            .await?;
    }
    let mut owners = Vec::new();
    for ((business, _), (name, _, _)) in ids.iter().zip(BUSINESSES) {
        let owner = format!(
            "Inhaber/in {}",
            name.split_whitespace().last().unwrap_or(name)
        );
        owners.push(demo.person(&owner, roles::OWNER, business).await?);
    }
    demo.person("Olga Büro (Glaserei Brandt)", roles::STAFF, &glazier)
        .await?;
    demo.person("Hanna Personal (Vogt)", roles::STAFF, &metal)
        .await?;
    demo.person("Sandra Sandbox", roles::SANDBOX, "").await?;
    admin::show_staff(storage, &hood, &coordinator, false, now).await?;
    admin::show_staff(storage, &hood, &coach, true, now).await?;

    // The glazier: an assessment in review, an action plan with measures in several states.
    let c = ctx(&coach, now);
    let new = NewAssessment {
        neighbourhood: &hood,
        business: &glazier,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some(&coach),
        language: Lang::De,
    };
    let (mut a, _) = AssessmentDoc::create(ActorId::random(), &c, &new)?;
    for (q, level) in [
        ("A1", 1),
        ("A2", 2),
        ("B1", 1),
        ("B2", 1),
        ("C1", 0),
        ("C2", 1),
        ("C3", 1),
        ("G1", 2),
        ("G2", 3),
        ("G3", 1),
        ("G5", 0),
        ("H1", 1),
        ("I1", 2),
    ] {
        a.set_level(&c, q, level)?;
    }
    for (q, v) in [
        ("D1", ComplianceValue::Partly),
        ("D2", ComplianceValue::No),
        ("E1", ComplianceValue::Partly),
        ("E4", ComplianceValue::No),
        ("F1", ComplianceValue::Yes),
        ("F2", ComplianceValue::Partly),
        ("F4", ComplianceValue::Yes),
        ("H4", ComplianceValue::Partly),
    ] {
        a.set_compliance(&c, q, v)?;
    }
    a.set_relevance(&c, "C2", 3)?;
    a.set_answer_note(
        &c,
        "C2",
        "Angebote werden in Word zusammengestellt; drei Rückfragen pro Auftrag.",
    )?;
    let finding = NewFinding {
        area: "B".to_owned(),
        questions: vec!["B1".to_owned()],
        kind: FindingKind::PainPoint,
        title: "Rechnungen landen in persönlichen Postfächern".to_owned(),
        description: "Eingangsrechnungen kommen an drei verschiedene Adressen.".to_owned(),
        severity: 3,
        barriers: vec!["time".to_owned()],
    };
    let (finding_id, _) = a.add_finding(&c, &finding)?;
    a.set_barrier(&c, "staff", true)?;
    a.add_top_pain(&c, "Überquellende Postfächer")?;
    a.add_top_pain(&c, "Angebote brauchen zu lange")?;
    a.set_status(&c, nachbar_core::model::ReviewStatus::InReview, "")?;
    demo.create(a.inner()).await?;

    let (mut plan, _) = ActionPlanDoc::create(ActorId::random(), &c, &hood, &glazier)?;
    let (goal, _) = plan.add_goal(
        &c,
        "E-Rechnungen sicher empfangen",
        "Alle Eingangsrechnungen über rechnung@",
        Some("2027-03-31"),
    )?;
    let measures = [
        (
            "Funktionspostfach rechnung@ einrichten",
            MeasureStatus::Done,
            4,
            1,
        ),
        (
            "E-Rechnungsempfang in der Branchensoftware einrichten",
            MeasureStatus::InProgress,
            5,
            3,
        ),
        (
            "Angebotsvorlagen mit Textbausteinen",
            MeasureStatus::Planned,
            4,
            2,
        ),
        (
            "Datensicherung mit Wiederherstellungstest",
            MeasureStatus::Idea,
            5,
            2,
        ),
        (
            "Zeiterfassung per App für Monteure",
            MeasureStatus::Blocked,
            3,
            3,
        ),
    ];
    for (title, status, impact, effort) in measures {
        let m = NewMeasure {
            title: title.to_owned(),
            goal: Some(goal.clone()),
            findings: if title.contains("rechnung@") {
                vec![finding_id.clone()]
            } else {
                vec![]
            },
            owner: Some(owners[0].clone()),
            impact: Some(impact),
            effort_score: Some(effort),
            ..NewMeasure::default()
        };
        let (id, _) = plan.add_measure(&c, &m)?;
        if status != MeasureStatus::Idea {
            let note = if status == MeasureStatus::Blocked {
                "Software-Update fehlt"
            } else {
                ""
            };
            plan.set_measure_status(&c, &id, status, note)?;
        }
        if status == MeasureStatus::InProgress {
            plan.update_measure(
                &c,
                &id,
                &MeasurePatch {
                    due: Some("2027-01-31".to_owned()),
                    ..MeasurePatch::default()
                },
            )?;
        }
    }
    demo.create(plan.inner()).await?;

    // The printer: a fresh assessment.
    let new = NewAssessment {
        neighbourhood: &hood,
        business: &printer,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some(&coach),
        language: Lang::De,
    };
    let (mut p, _) = AssessmentDoc::create(ActorId::random(), &c, &new)?;
    p.set_level(&c, "B1", 3)?;
    p.set_compliance(&c, "D1", ComplianceValue::Yes)?;
    demo.create(p.inner()).await?;
    let (plan_p, _) = ActionPlanDoc::create(ActorId::random(), &c, &hood, &printer)?;
    demo.create(plan_p.inner()).await?;

    // A workshop planned by the coordinator.
    let cc = ctx(&coordinator, now);
    let ws = NewWorkshop {
        title: "Werkstatt: E-Mail-Flut und E-Rechnung".to_owned(),
        kind: WorkshopKind::TopicWorkshop,
        date: "2027-01-20".to_owned(),
        start: "16:00".to_owned(),
        end: "18:30".to_owned(),
        place: "Schilder & Etiketten Schmidt, Halle 2".to_owned(),
        host: Some(ids[4].0.clone()),
        goal: "Funktionspostfächer und E-Rechnungsempfang in jedem Betrieb".to_owned(),
    };
    let (mut w, _) = WorkshopDoc::create(ActorId::random(), &cc, &hood, &ws)?;
    for (title, kind, min) in [
        ("Begrüßung und Check-in", BlockKind::Welcome, 15),
        ("Impuls: Funktionspostfächer", BlockKind::Input, 20),
        (
            "Kollegiale Beratung: Angebotsprozess Glaserei",
            BlockKind::Method,
            50,
        ),
        ("Pause", BlockKind::Break, 15),
        (
            "Impuls E-Rechnung: ZUGFeRD bei der Druckerei",
            BlockKind::Input,
            20,
        ),
        ("Vereinbarungen und Check-out", BlockKind::CheckOut, 20),
    ] {
        let b = NewBlock {
            title: title.to_owned(),
            kind,
            duration_min: min,
            method: None,
            goal: String::new(),
            materials: String::new(),
            expected_output: String::new(),
        };
        w.add_block(&cc, &b, None)?;
    }
    for owner in &owners[..5] {
        w.invite(&cc, owner, None, None)?;
    }
    demo.create(w.inner()).await?;

    // What businesses share with the neighbourhood.
    for ((_, profile), state) in ids.iter().zip([
        TopicState::NeedHelp,
        TopicState::WorkingOnIt,
        TopicState::Solved,
        TopicState::Solved,
    ]) {
        let owner_ctx = ctx(&coach, now);
        edit_in(storage.documents.as_ref(), &profile.to_string(), |doc| {
            let mut p = nachbar_core::model::business_profile::BusinessProfileDoc::open(doc)?;
            let _in_the_returned_document = p.set_topic_state(&owner_ctx, "D", Some(state))?;
            Ok(((), p.into_inner()))
        })
        .await?;
    }
    Ok(())
}
