//! Helpers: fixed actors, edit contexts, replicas and full sync by merging.

use nachbar_core::automerge::ActorId;
use nachbar_core::doc::{EditContext, NachbarDoc};
use nachbar_core::time::Timestamp;

/// 2026-11-02 09:00 UTC, the morning of the first workshop.
pub(crate) const T0: i64 = 1_793_610_000_000;
/// One day in milliseconds.
pub(crate) const DAY: i64 = 86_400_000;

/// A fixed actor id per device number, so merges are reproducible.
pub(crate) fn actor(device: u8) -> ActorId {
    ActorId::from(vec![device; 16])
}

/// An edit by `person` at `T0 + offset_ms`.
pub(crate) fn ctx(person: &str, offset_ms: i64) -> EditContext {
    EditContext::new(person, Timestamp(T0 + offset_ms))
}

/// A replica of `doc` on another device.
pub(crate) fn replica(doc: &NachbarDoc, device: u8) -> NachbarDoc {
    NachbarDoc::load(&doc.save(), actor(device)).expect("a saved document loads")
}

/// Exchanges everything between all replicas until they have the same heads.
pub(crate) fn sync_all(docs: &mut [&mut NachbarDoc]) {
    for _ in 0..2 {
        for i in 0..docs.len() {
            for j in 0..docs.len() {
                if i != j {
                    let (a, b) = pick_two(docs, i, j);
                    a.merge(b).expect("merge succeeds");
                }
            }
        }
    }
    let heads = docs[0].heads();
    assert!(
        docs.iter().all(|d| d.heads() == heads),
        "replicas did not converge"
    );
}

fn pick_two<'a>(
    docs: &'a mut [&mut NachbarDoc],
    i: usize,
    j: usize,
) -> (&'a mut NachbarDoc, &'a mut NachbarDoc) {
    assert_ne!(i, j);
    if i < j {
        let (left, right) = docs.split_at_mut(j);
        (&mut *left[i], &mut *right[0])
    } else {
        let (left, right) = docs.split_at_mut(i);
        (&mut *right[0], &mut *left[j])
    }
}
