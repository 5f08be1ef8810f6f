//! Web app figures (issues 9 and 11): server time to render the neighbourhood home for 12 and
//! 200 businesses (p50/p99, through the router: session lookup, storage reads, view model,
//! template), the weight of a first load (HTML, stylesheet and scripts, gzip), and the PDF
//! reports: the action plan with 40 measures and the neighbourhood summary of 12 businesses
//! (warm p50/p99 through the router, size).
//!
//! `cargo bench -p nachbar-server --bench web`

use std::io::Write;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, header};
use clap::Parser;
use http_body_util::BodyExt;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::model::business_profile::{BusinessProfileDoc, TopicState};
use nachbar_core::time::Timestamp;
use nachbar_server::config::ServeConfig;
use nachbar_server::storage::Store;
use tower::ServiceExt;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeConfig,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn gzip(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip").len()
}

/// An action plan of 40 measures for `business` and a session of its owner: (plan, secret).
fn seed_plan(store: &mut Store, hood: &str, business: &str) -> (String, String) {
    use nachbar_core::model::action_plan::{ActionPlanDoc, NewMeasure};
    let now = Timestamp::now();
    let owner = store.add_user("Änne Weiß", now.millis()).expect("user");
    store.grant_role(&owner, "owner", business).expect("role");
    let ctx = EditContext::new(owner.clone(), now);
    let (mut plan, _) =
        ActionPlanDoc::create(automerge::ActorId::random(), &ctx, hood, business).expect("plan");
    for i in 0..40 {
        let new = NewMeasure {
            title: format!("Maßnahme {i:02}: Funktionspostfach und E-Rechnung für Größe {i}"),
            description: "Anbieter auswählen, Zugänge einrichten, Übergabe an das Büro".to_owned(),
            owner: Some(owner.clone()),
            due: Some("2027-06-30".to_owned()),
            impact: Some(1 + (i % 5) as u8),
            effort_score: Some(1 + (i % 4) as u8),
            ..NewMeasure::default()
        };
        let _in_memory = plan.add_measure(&ctx, &new).expect("measure");
    }
    let id = store.create_document(plan.inner()).expect("stored");
    let secret = store
        .create_session(&owner, "bench", now.millis() + 86_400_000, now.millis())
        .expect("session");
    (id.to_string(), secret)
}

/// Warm render times (ms, sorted) and the last body of `runs` GETs of `path`.
async fn timed(
    router: &axum::Router,
    path: &str,
    secret: &str,
    runs: usize,
) -> (Vec<f64>, Vec<u8>) {
    let mut times = Vec::with_capacity(runs);
    let mut body = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (s, b) = get(router, path, secret).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(s, 200, "{path}");
        body = b;
    }
    times.sort_by(f64::total_cmp);
    (times, body)
}

/// A neighbourhood of `n` businesses, each sharing a topic state in every area; returns
/// (data dir, neighbourhood id, a session secret of its coordinator).
async fn seed(n: usize) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Timestamp::now();
    let conn = std::sync::Arc::new(std::sync::Mutex::new(
        Store::open(&dir.path().join("nachbar.sqlite3")).expect("store"),
    ));
    let storage = nachbar_server::storage::backend::Storage::sqlite(std::sync::Arc::clone(&conn));
    nachbar_server::admin::init(&storage, now)
        .await
        .expect("init");
    let (hood, _) = nachbar_server::admin::add_neighbourhood(&storage, "Benchpark", "", now)
        .await
        .expect("hood");
    let areas: Vec<String> = catalogue::release_1_0()
        .areas
        .iter()
        .map(|a| a.id.clone())
        .collect();
    for i in 0..n {
        let (business, profile) = nachbar_server::admin::add_business(
            &storage,
            &hood,
            &format!("Betrieb {i:03}"),
            "Handwerk",
            None,
            now,
        )
        .await
        .expect("business");
        let mut store = conn.lock().expect("lock");
        let ctx = EditContext::new(business.clone(), now);
        // One stored change per edit.
        for (j, area) in areas.iter().enumerate() {
            let state = TopicState::ALL[(i + j) % TopicState::ALL.len()];
            store
                .edit_document(&profile.to_string(), |doc| {
                    let mut p = BusinessProfileDoc::open(doc)?;
                    let _in_the_returned_document = p.set_topic_state(&ctx, area, Some(state))?;
                    Ok(((), p.into_inner()))
                })
                .expect("topic state");
        }
    }
    let mut store = conn.lock().expect("lock");
    if n == 12 {
        let first = store.directory(now.millis()).expect("directory");
        let business = first.businesses.keys().min().expect("a business").clone();
        let (plan, owner) = seed_plan(&mut store, &hood, &business);
        std::fs::write(dir.path().join("bench-plan"), format!("{plan} {owner}")).expect("note");
    }
    let coordinator = store.add_user("Koordination", now.millis()).expect("user");
    store
        .grant_role(&coordinator, "coordinator", &hood)
        .expect("role");
    let secret = store
        .create_session(
            &coordinator,
            "bench",
            now.millis() + 86_400_000,
            now.millis(),
        )
        .expect("session");
    (dir, hood, secret)
}

async fn get(router: &axum::Router, path: &str, secret: &str) -> (u16, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header(header::COOKIE, format!("nachbar_session={secret}"))
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(req).await.expect("response");
    let status = response.status().as_u16();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("web app figures (release build, in-process router, {} cores)", std::thread::available_parallelism().map_or(0, |n| n.get()));
        for n in [12usize, 200] {
            let (dir, hood, secret) = seed(n).await;
            let config = Cli::parse_from(["nachbar-server", "--data-dir", dir.path().to_str().expect("path")]).serve;
            let server = nachbar_server::server::start(&config).await.expect("start");
            let router = server.router();
            let path = format!("/n/{hood}");
            let cold = Instant::now();
            let (status, html) = get(&router, &path, &secret).await;
            let cold_ms = cold.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(status, 200);
            for _ in 0..20 {
                let _ = get(&router, &path, &secret).await;
            }
            let runs = if n > 100 { 200 } else { 1000 };
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let t = Instant::now();
                let (s, _) = get(&router, &path, &secret).await;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(s, 200);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "neighbourhood home, {n} businesses: p50 {:.2} ms, p99 {:.2} ms ({runs} renders, read models cached; first render {cold_ms:.1} ms; HTML {} KB, {} KB gzip)",
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                html.len() / 1024,
                gzip(&html) / 1024
            );
            if n == 12 {
                let mut total = gzip(&html);
                let mut parts = vec![format!("HTML {} B", gzip(&html))];
                for asset in ["app.css", "htmx.min.js", "live.js"] {
                    let (s, body) = get(&router, &nachbar_server::web::assets::path(asset), &secret).await;
                    assert_eq!(s, 200);
                    total += gzip(&body);
                    parts.push(format!("{asset} {} B", gzip(&body)));
                }
                println!("first load of the home, gzip: {:.1} KB ({})", total as f64 / 1024.0, parts.join(", "));
                if nachbar_server::reports::ENABLED {
                    let note = std::fs::read_to_string(dir.path().join("bench-plan")).expect("note");
                    let (plan, owner) = note.split_once(' ').expect("plan and owner");
                    for (what, path, who) in [
                        ("action plan, 40 measures", format!("/p/{plan}/plan.pdf"), owner),
                        ("action plan, 40 measures, with history", format!("/p/{plan}/plan.pdf?history=1"), owner),
                        ("neighbourhood summary, 12 businesses", format!("/n/{hood}/summary.pdf"), secret.as_str()),
                    ] {
                        let cold = Instant::now();
                        let _ = get(&router, &path, who).await;
                        let cold_ms = cold.elapsed().as_secs_f64() * 1000.0;
                        let (times, pdf) = timed(&router, &path, who, 50).await;
                        println!(
                            "PDF {what}: p50 {:.1} ms, p99 {:.1} ms (50 renders; first {cold_ms:.0} ms); {} KB",
                            percentile(&times, 0.5),
                            percentile(&times, 0.99),
                            pdf.len() / 1024
                        );
                        // The same report with typst's memo cache emptied before each render:
                        // what a report costs whose every part changed since the last one.
                        let mut fresh = Vec::with_capacity(20);
                        for _ in 0..20 {
                            nachbar_server::reports::forget_layouts();
                            let t = Instant::now();
                            let (s, _) = get(&router, &path, who).await;
                            fresh.push(t.elapsed().as_secs_f64() * 1000.0);
                            assert_eq!(s, 200);
                        }
                        fresh.sort_by(f64::total_cmp);
                        println!(
                            "PDF {what}, nothing memoised: p50 {:.1} ms, p99 {:.1} ms (20 renders)",
                            percentile(&fresh, 0.5),
                            percentile(&fresh, 0.99)
                        );
                    }
                }
            }
            server.stop().await;
        }
    });
}
