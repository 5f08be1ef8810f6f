//! Convergence properties: 2–5 replicas apply random valid operations, exchange single
//! changes in random order (with partitions: pairs that never meet until the end), merge,
//! restart from saved bytes, and finally heal. Every replica must then have identical heads
//! and read models, with the invariants intact.

use std::collections::BTreeSet;

use nachbar_core::doc::{Applied, EditContext, NachbarDoc};
use nachbar_core::model::action_plan::{
    ActionPlanDoc, ActionPlanView, MeasurePatch, MeasureStatus, NewMeasure,
};
use nachbar_core::model::workshop::{
    BlockKind, BlockPatch, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind, WorkshopView,
};
use proptest::prelude::*;
use proptest::sample::Index;

use super::support::{actor, ctx, sync_all};

/// How replicas exchange work between edits.
#[derive(Debug, Clone)]
enum Exchange {
    /// One change the sender made, delivered alone (possibly before its dependencies).
    Deliver {
        from: Index,
        to: Index,
        change: Index,
    },
    /// A full merge in both directions.
    Sync { a: Index, b: Index },
    /// The replica is closed and reopened from its saved bytes.
    Restart { replica: Index },
}

#[derive(Debug, Clone)]
enum Step<Op> {
    Edit { replica: Index, op: Op },
    Exchange(Exchange),
}

fn exchange() -> impl Strategy<Value = Exchange> {
    prop_oneof![
        4 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(from, to, change)| Exchange::Deliver { from, to, change }),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Exchange::Sync { a, b }),
        1 => any::<Index>().prop_map(|replica| Exchange::Restart { replica }),
    ]
}

fn steps<Op: std::fmt::Debug + Clone>(
    op: impl Strategy<Value = Op>,
) -> impl Strategy<Value = Vec<Step<Op>>> {
    let step = prop_oneof![
        3 => (any::<Index>(), op).prop_map(|(replica, op)| Step::Edit { replica, op }),
        2 => exchange().prop_map(Step::Exchange),
    ];
    proptest::collection::vec(step, 1..45)
}

/// A replica: its document and every change it made itself, in order.
struct Replica {
    doc: NachbarDoc,
    outbox: Vec<Vec<u8>>,
    device: u8,
}

impl Replica {
    fn record(&mut self, applied: &Applied) {
        if let Some(change) = &applied.change {
            self.outbox.push(change.bytes.clone());
        }
    }
}

fn run_exchange(replicas: &mut [Replica], exchange: &Exchange) {
    let n = replicas.len();
    match exchange {
        Exchange::Deliver { from, to, change } => {
            let (from, to) = (from.index(n), to.index(n));
            if from == to || replicas[from].outbox.is_empty() {
                return;
            }
            let bytes = replicas[from].outbox[change.index(replicas[from].outbox.len())].clone();
            replicas[to]
                .doc
                .apply_changes(&bytes)
                .expect("a peer's change applies");
        }
        Exchange::Sync { a, b } => {
            let (a, b) = (a.index(n), b.index(n));
            if a != b {
                let (x, y) = if a < b {
                    replicas.split_at_mut(b)
                } else {
                    replicas.split_at_mut(a)
                };
                let (p, q) = if a < b {
                    (&mut x[a], &mut y[0])
                } else {
                    (&mut y[0], &mut x[b])
                };
                p.doc.merge(&mut q.doc).expect("merge");
                q.doc.merge(&mut p.doc).expect("merge");
            }
        }
        Exchange::Restart { replica } => {
            let r = &mut replicas[replica.index(n)];
            r.doc = NachbarDoc::load(&r.doc.save(), actor(r.device)).expect("saved bytes load");
        }
    }
}

fn person(replica: usize) -> String {
    format!("person-{replica}")
}

fn edit_ctx(replica: usize, step: usize) -> EditContext {
    ctx(&person(replica), i64::try_from(step).unwrap_or(0) * 60_000)
}

fn heal(replicas: &mut [Replica]) {
    let mut docs: Vec<&mut NachbarDoc> = replicas.iter_mut().map(|r| &mut r.doc).collect();
    sync_all(&mut docs);
}

// ---------------------------------------------------------------- action plans

#[derive(Debug, Clone)]
enum PlanOp {
    Add {
        title: u8,
        finding: Option<u8>,
    },
    Status {
        measure: Index,
        status: Index,
    },
    Move {
        measure: Index,
        after: Option<Index>,
    },
    Update {
        measure: Index,
        owner: u8,
        due_day: u8,
    },
    Remove {
        measure: Index,
    },
    Restore {
        measure: Index,
    },
    Merge {
        duplicate: Index,
        into: Index,
    },
}

fn plan_op() -> impl Strategy<Value = PlanOp> {
    prop_oneof![
        3 => (0u8..6, proptest::option::of(0u8..3)).prop_map(|(title, finding)| PlanOp::Add { title, finding }),
        4 => (any::<Index>(), any::<Index>()).prop_map(|(measure, status)| PlanOp::Status { measure, status }),
        2 => (any::<Index>(), proptest::option::of(any::<Index>())).prop_map(|(measure, after)| PlanOp::Move { measure, after }),
        2 => (any::<Index>(), 0u8..4, 1u8..28).prop_map(|(measure, owner, due_day)| PlanOp::Update { measure, owner, due_day }),
        1 => any::<Index>().prop_map(|measure| PlanOp::Remove { measure }),
        1 => any::<Index>().prop_map(|measure| PlanOp::Restore { measure }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(duplicate, into)| PlanOp::Merge { duplicate, into }),
    ]
}

const TITLES: [&str; 6] = [
    "Funktionspostfach rechnung@ einrichten",
    "E-Rechnungsempfang einrichten",
    "Backup testen",
    "Passwortmanager einführen",
    "Arbeitszeiterfassung per App",
    "Verfahrensdokumentation schreiben",
];

fn all_measure_ids(view: &ActionPlanView) -> Vec<String> {
    let mut ids: Vec<String> = view
        .measures
        .iter()
        .chain(&view.removed)
        .chain(&view.merged)
        .map(|m| m.id.clone())
        .collect();
    ids.sort();
    ids
}

/// A status transition some replica made: (measure, status, note token).
type Transition = (String, String, String);

fn apply_plan_op(
    plan: &mut ActionPlanDoc,
    c: &EditContext,
    op: &PlanOp,
    token: &str,
    transitions: &mut Vec<Transition>,
) -> Option<Applied> {
    let ids = all_measure_ids(&plan.view().expect("a replica's plan reads"));
    let pick = |i: &Index| (!ids.is_empty()).then(|| ids[i.index(ids.len())].clone());
    let heads = plan.inner().heads();
    let result = match op {
        PlanOp::Add { title, finding } => {
            let new = NewMeasure {
                title: TITLES[usize::from(*title)].to_owned(),
                findings: finding.iter().map(|f| format!("finding-{f}")).collect(),
                ..NewMeasure::default()
            };
            plan.add_measure(c, &new).map(|(_, a)| a)
        }
        PlanOp::Status { measure, status } => {
            let id = pick(measure)?;
            let status = MeasureStatus::ALL[status.index(MeasureStatus::ALL.len())];
            let result = plan.set_measure_status(c, &id, status, token);
            if result.is_ok() {
                transitions.push((id, status.code().to_owned(), token.to_owned()));
            }
            result
        }
        PlanOp::Move { measure, after } => {
            let id = pick(measure)?;
            let view = plan.view().expect("reads");
            let order: Vec<&str> = view
                .measures
                .iter()
                .map(|m| m.id.as_str())
                .filter(|m| *m != id)
                .collect();
            let (a, b) = match after {
                None => (None, order.first().copied()),
                Some(i) if !order.is_empty() => {
                    let k = i.index(order.len());
                    (Some(order[k]), order.get(k + 1).copied())
                }
                Some(_) => (None, None),
            };
            plan.move_measure(c, &id, a, b)
        }
        PlanOp::Update {
            measure,
            owner,
            due_day,
        } => {
            let patch = MeasurePatch {
                owner: Some(format!("owner-{owner}")),
                due: Some(format!("2027-01-{due_day:02}")),
                ..MeasurePatch::default()
            };
            plan.update_measure(c, &pick(measure)?, &patch)
        }
        PlanOp::Remove { measure } => plan.remove_measure(c, &pick(measure)?),
        PlanOp::Restore { measure } => plan.restore_measure(c, &pick(measure)?),
        PlanOp::Merge { duplicate, into } => {
            plan.merge_measures(c, &pick(duplicate)?, &pick(into)?)
        }
    };
    match result {
        Ok(applied) => Some(applied),
        Err(err) => {
            assert_eq!(
                plan.inner().heads(),
                heads,
                "a refused edit ({err}) changed the document"
            );
            None
        }
    }
}

fn check_plan_invariants(
    view: &ActionPlanView,
    adds: usize,
    transitions: &[Transition],
) -> Result<(), TestCaseError> {
    let ids = all_measure_ids(view);
    let unique: BTreeSet<&String> = ids.iter().collect();
    prop_assert_eq!(unique.len(), ids.len(), "measure ids are unique");
    prop_assert_eq!(ids.len(), adds, "every added measure exists exactly once");
    let keys: Vec<(&str, &str)> = view
        .measures
        .iter()
        .map(|m| (m.position.as_str(), m.id.as_str()))
        .collect();
    prop_assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "positions give a strict total order: {:?}",
        keys
    );
    for (measure, status, token) in transitions {
        let m = view
            .measures
            .iter()
            .chain(&view.removed)
            .chain(&view.merged)
            .find(|m| &m.id == measure)
            .expect("measure exists");
        prop_assert!(
            m.status_history
                .iter()
                .any(|h| &h.to == status && &h.note == token),
            "transition {} → {} ({}) is in the history",
            measure,
            status,
            token
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn action_plan_replicas_converge(n in 2usize..=5, steps in steps(plan_op())) {
        let (first, created) = ActionPlanDoc::create(actor(1), &edit_ctx(0, 0), "n", "b").expect("create");
        let mut replicas: Vec<Replica> = (0..n)
            .map(|i| Replica { doc: NachbarDoc::load(&first.inner().save(), actor(i as u8 + 1)).expect("load"), outbox: Vec::new(), device: i as u8 + 1 })
            .collect();
        replicas[0].record(&created);
        let (mut adds, mut transitions) = (0, Vec::new());
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Edit { replica, op } => {
                    let r = replica.index(n);
                    let mut plan = ActionPlanDoc::open(replicas[r].doc.clone()).expect("kind");
                    let token = format!("step-{i}");
                    if let Some(applied) = apply_plan_op(&mut plan, &edit_ctx(r, i), op, &token, &mut transitions) {
                        adds += usize::from(matches!(op, PlanOp::Add { .. }));
                        replicas[r].doc = plan.into_inner();
                        replicas[r].record(&applied);
                    }
                }
                Step::Exchange(e) => run_exchange(&mut replicas, e),
            }
        }
        heal(&mut replicas);
        let views: Vec<ActionPlanView> = replicas.iter().map(|r| ActionPlanDoc::open(r.doc.clone()).and_then(|p| p.view()).expect("view")).collect();
        for v in &views[1..] {
            prop_assert_eq!(v, &views[0]);
        }
        check_plan_invariants(&views[0], adds, &transitions)?;
        let reloaded = ActionPlanDoc::load(&replicas[0].doc.save(), actor(9)).expect("save → load");
        prop_assert_eq!(reloaded.inner().heads(), replicas[0].doc.heads());
        prop_assert_eq!(&reloaded.view().expect("view"), &views[0]);
    }
}

// ---------------------------------------------------------------- workshop agendas

#[derive(Debug, Clone)]
enum AgendaOp {
    Add { minutes: u8, after: Option<Index> },
    Move { block: Index, after: Option<Index> },
    Duration { block: Index, minutes: u8 },
    Materials { block: Index, text: u8 },
    Actual { block: Index, minutes: u8 },
    Remove { block: Index },
    Restore { block: Index },
}

fn agenda_op() -> impl Strategy<Value = AgendaOp> {
    prop_oneof![
        3 => (5u8..90, proptest::option::of(any::<Index>())).prop_map(|(minutes, after)| AgendaOp::Add { minutes, after }),
        3 => (any::<Index>(), proptest::option::of(any::<Index>())).prop_map(|(block, after)| AgendaOp::Move { block, after }),
        2 => (any::<Index>(), 0u8..120).prop_map(|(block, minutes)| AgendaOp::Duration { block, minutes }),
        2 => (any::<Index>(), 0u8..4).prop_map(|(block, text)| AgendaOp::Materials { block, text }),
        1 => (any::<Index>(), 0u8..120).prop_map(|(block, minutes)| AgendaOp::Actual { block, minutes }),
        1 => any::<Index>().prop_map(|block| AgendaOp::Remove { block }),
        1 => any::<Index>().prop_map(|block| AgendaOp::Restore { block }),
    ]
}

fn apply_agenda_op(w: &mut WorkshopDoc, c: &EditContext, op: &AgendaOp) -> Option<Applied> {
    let view = w.view().expect("reads");
    let active: Vec<String> = view.agenda.iter().map(|b| b.id.clone()).collect();
    let mut all: Vec<String> = view
        .agenda
        .iter()
        .chain(&view.removed_blocks)
        .map(|b| b.id.clone())
        .collect();
    all.sort();
    let pick =
        |ids: &[String], i: &Index| (!ids.is_empty()).then(|| ids[i.index(ids.len())].clone());
    let neighbours = |id: Option<&str>, after: &Option<Index>| {
        let order: Vec<&str> = active
            .iter()
            .map(String::as_str)
            .filter(|b| Some(*b) != id)
            .collect();
        match after {
            Some(i) if !order.is_empty() => {
                let k = i.index(order.len());
                (
                    Some(order[k].to_owned()),
                    order.get(k + 1).map(|s| (*s).to_owned()),
                )
            }
            _ => (None, order.first().map(|s| (*s).to_owned())),
        }
    };
    let heads = w.inner().heads();
    let result = match op {
        AgendaOp::Add { minutes, after } => {
            let after_id = after.as_ref().and_then(|i| pick(&active, i));
            let block = NewBlock {
                title: format!("Block {minutes}"),
                kind: BlockKind::Method,
                duration_min: u32::from(*minutes),
                method: None,
                goal: String::new(),
                materials: String::new(),
                expected_output: String::new(),
            };
            w.add_block(c, &block, after_id.as_deref()).map(|(_, a)| a)
        }
        AgendaOp::Move { block, after } => {
            let id = pick(&active, block)?;
            let (a, b) = neighbours(Some(&id), after);
            w.move_block(c, &id, a.as_deref(), b.as_deref())
        }
        AgendaOp::Duration { block, minutes } => {
            w.set_block_duration(c, &pick(&active, block)?, i64::from(*minutes))
        }
        AgendaOp::Materials { block, text } => {
            let patch = BlockPatch {
                materials: Some(
                    ["Flipchart", "Karten", "Beamer", ""][usize::from(*text)].to_owned(),
                ),
                ..BlockPatch::default()
            };
            w.update_block(c, &pick(&all, block)?, &patch)
        }
        AgendaOp::Actual { block, minutes } => w.record_actual(
            c,
            &pick(&all, block)?,
            Some(i64::from(*minutes)),
            Some("notiert"),
        ),
        AgendaOp::Remove { block } => w.remove_block(c, &pick(&active, block)?),
        AgendaOp::Restore { block } => w.restore_block(c, &pick(&all, block)?),
    };
    match result {
        Ok(applied) => Some(applied),
        Err(err) => {
            assert_eq!(
                w.inner().heads(),
                heads,
                "a refused edit ({err}) changed the document"
            );
            None
        }
    }
}

fn check_agenda_invariants(view: &WorkshopView, adds: usize) -> Result<(), TestCaseError> {
    let ids: BTreeSet<&String> = view
        .agenda
        .iter()
        .chain(&view.removed_blocks)
        .map(|b| &b.id)
        .collect();
    prop_assert_eq!(ids.len(), adds, "every added block exists exactly once");
    let keys: Vec<(&str, &str)> = view
        .agenda
        .iter()
        .map(|b| (b.position.as_str(), b.id.as_str()))
        .collect();
    prop_assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "strict total order: {:?}",
        keys
    );
    let mut minute = 9 * 60;
    for b in &view.agenda {
        prop_assert_eq!(
            b.planned_start.clone(),
            Some(format!("{:02}:{:02}", (minute / 60) % 24, minute % 60))
        );
        minute += b.duration_min;
    }
    prop_assert_eq!(view.planned_min, minute - 9 * 60);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn workshop_replicas_converge(n in 2usize..=5, steps in steps(agenda_op())) {
        let new = NewWorkshop {
            title: "Werkstatt".to_owned(),
            kind: WorkshopKind::TopicWorkshop,
            date: "2026-11-12".to_owned(),
            start: "09:00".to_owned(),
            end: "12:00".to_owned(),
            place: String::new(),
            host: None,
            goal: String::new(),
        };
        let (first, created) = WorkshopDoc::create(actor(1), &edit_ctx(0, 0), "n", &new).expect("create");
        let mut replicas: Vec<Replica> = (0..n)
            .map(|i| Replica { doc: NachbarDoc::load(&first.inner().save(), actor(i as u8 + 1)).expect("load"), outbox: Vec::new(), device: i as u8 + 1 })
            .collect();
        replicas[0].record(&created);
        let mut adds = 0;
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Edit { replica, op } => {
                    let r = replica.index(n);
                    let mut w = WorkshopDoc::open(replicas[r].doc.clone()).expect("kind");
                    if let Some(applied) = apply_agenda_op(&mut w, &edit_ctx(r, i), op) {
                        adds += usize::from(matches!(op, AgendaOp::Add { .. }));
                        replicas[r].doc = w.into_inner();
                        replicas[r].record(&applied);
                    }
                }
                Step::Exchange(e) => run_exchange(&mut replicas, e),
            }
        }
        heal(&mut replicas);
        let views: Vec<WorkshopView> = replicas.iter().map(|r| WorkshopDoc::open(r.doc.clone()).and_then(|w| w.view()).expect("view")).collect();
        for v in &views[1..] {
            prop_assert_eq!(v, &views[0]);
        }
        check_agenda_invariants(&views[0], adds)?;
        let reloaded = WorkshopDoc::load(&replicas[0].doc.save(), actor(9)).expect("save → load");
        prop_assert_eq!(&reloaded.view().expect("view"), &views[0]);
    }
}
