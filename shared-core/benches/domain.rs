//! Domain benchmarks: prints the figures the README quotes (issue 2 goals).
//!
//! Run with `cargo bench -p nachbar-core --bench domain`. Each figure is the median of
//! repeated runs in the release profile on this machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use nachbar_core::automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::doc::{EditContext, NachbarDoc};
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::time::Timestamp;

fn ctx(person: &str, i: usize) -> EditContext {
    EditContext::new(person, Timestamp(1_793_610_000_000 + i as i64 * 1000))
}

fn assessment(device: u8) -> AssessmentDoc {
    let new = NewAssessment {
        neighbourhood: "n",
        business: "b",
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some("coach"),
        language: Lang::De,
    };
    AssessmentDoc::create(ActorId::from(vec![device; 16]), &ctx("coach", 0), &new)
        .expect("create")
        .0
}

fn level_questions() -> Vec<&'static str> {
    catalogue::release_1_0()
        .questions
        .iter()
        .filter(|q| q.kind == catalogue::QuestionKind::Level)
        .map(|q| q.id.as_str())
        .collect()
}

/// One edit: alternate levels so every call writes a real change.
fn edit(doc: &mut AssessmentDoc, questions: &[&str], i: usize, person: &str) {
    let q = questions[i % questions.len()];
    let level = ((i / questions.len()) % 5) as i64;
    let applied = doc.set_level(&ctx(person, i), q, level).expect("edit");
    let _ = black_box(applied);
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    median((0..runs).map(|_| f()).collect())
}

fn report(name: &str, value: Duration, goal: Duration) {
    let verdict = if value <= goal {
        "ok".to_owned()
    } else {
        format!("MISSED by {:.2?}", value - goal)
    };
    println!("| {name} | {value:.2?} | ≤ {goal:.0?} | {verdict} |");
}

fn main() {
    let questions = level_questions();
    println!("| figure | median | goal | |");
    println!("|---|---|---|---|");

    // One answer edit in memory (through the doorway, change bytes included).
    let mut doc = assessment(1);
    let mut i = 0;
    let edit_time = measure(5_000, || {
        i += 1;
        let start = Instant::now();
        edit(&mut doc, &questions, i, "coach");
        start.elapsed()
    });
    report(
        "one answer edit in memory",
        edit_time,
        Duration::from_micros(100),
    );

    // Hydrating an assessment with 22 answers (the core set), scores and all.
    let mut core = assessment(2);
    for (k, q) in catalogue::release_1_0().core_questions().enumerate() {
        let c = ctx("coach", k);
        match q.kind {
            catalogue::QuestionKind::Level => core.set_level(&c, &q.id, (k % 5) as i64).map(drop),
            catalogue::QuestionKind::Compliance => core
                .set_compliance(
                    &c,
                    &q.id,
                    nachbar_core::model::assessment::ComplianceValue::Partly,
                )
                .map(drop),
        }
        .expect("answer");
    }
    let hydrate = measure(2_000, || {
        let start = Instant::now();
        black_box(core.view().expect("view"));
        start.elapsed()
    });
    report(
        "hydrate an assessment with 22 answers",
        hydrate,
        Duration::from_millis(1),
    );

    // Loading an assessment with 10,000 changes: one `load` of the saved document, and of the
    // concatenated change chunks as the store keeps them before compaction.
    let mut long = assessment(3);
    let mut chunks = long.inner().save();
    for k in 0..10_000 {
        let q = questions[k % questions.len()];
        let applied = long
            .set_level(&ctx("coach", k), q, ((k / questions.len()) % 5) as i64)
            .expect("edit");
        if let Some(change) = applied.change {
            chunks.extend_from_slice(&change.bytes);
        }
    }
    let saved = long.inner().save();
    let load = measure(15, || {
        let start = Instant::now();
        black_box(AssessmentDoc::load(&saved, ActorId::random()).expect("load"));
        start.elapsed()
    });
    report(
        "load an assessment with 10,000 changes (saved)",
        load,
        Duration::from_millis(60),
    );
    let load_chunks = measure(15, || {
        let start = Instant::now();
        black_box(AssessmentDoc::load(&chunks, ActorId::random()).expect("load"));
        start.elapsed()
    });
    report(
        "load an assessment with 10,000 changes (10,000 uncompacted chunks, worst case)",
        load_chunks,
        Duration::from_millis(60),
    );
    println!(
        "|   saved size: {} bytes, chunks: {} bytes | | | |",
        saved.len(),
        chunks.len()
    );

    // Merging two replicas with 1,000 concurrent edits each.
    let base = assessment(4);
    let mut left = AssessmentDoc::open(
        NachbarDoc::load(&base.inner().save(), ActorId::from(vec![5; 16])).expect("load"),
    )
    .expect("kind");
    let mut right = AssessmentDoc::open(
        NachbarDoc::load(&base.inner().save(), ActorId::from(vec![6; 16])).expect("load"),
    )
    .expect("kind");
    for k in 0..1_000 {
        edit(&mut left, &questions, k, "coach");
        edit(&mut right, &questions, k + 7, "owner");
    }
    let merge = measure(15, || {
        let mut a = left.inner().clone();
        let mut b = right.inner().clone();
        let start = Instant::now();
        a.merge(&mut b).expect("merge");
        let elapsed = start.elapsed();
        black_box(a.heads());
        elapsed
    });
    report(
        "merge two replicas with 1,000 concurrent edits each",
        merge,
        Duration::from_millis(50),
    );
}
