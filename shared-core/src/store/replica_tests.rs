use crate::model::assessment::AssessmentDoc;
use crate::test_support::{ctx, new_assessment};

use super::*;

fn level(replica: &mut Replica, id: &DocumentId, question: &str) -> Option<u8> {
    let view = replica.read::<AssessmentDoc>(id).unwrap().view().unwrap();
    view.items
        .iter()
        .find(|i| i.id == question)
        .and_then(|i| i.answer.level)
}

#[test]
fn an_edit_is_in_the_store_when_the_call_returns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coach.sqlite3");
    let id = {
        let mut replica = Replica::open(&path, Durability::Full).unwrap();
        let id = new_assessment(&mut replica);
        replica
            .edit(&id, |a: &mut AssessmentDoc| a.set_level(&ctx(), "C2", 3))
            .unwrap();
        assert_eq!(replica.unacknowledged(&id).unwrap(), 2, "create + edit");
        id
        // Dropped without any shutdown step: nothing but the commits keeps the edits.
    };
    let mut replica = Replica::open(&path, Durability::Full).unwrap();
    assert_eq!(level(&mut replica, &id, "C2"), Some(3));
    assert_eq!(replica.unacknowledged(&id).unwrap(), 2);
}

#[test]
fn a_refused_edit_changes_nothing_in_memory_or_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coach.sqlite3");
    let mut replica = Replica::open(&path, Durability::Normal).unwrap();
    let id = new_assessment(&mut replica);
    let heads = replica.automerge(&id).unwrap().get_heads();
    let refused = replica.edit(&id, |a: &mut AssessmentDoc| a.set_level(&ctx(), "C2", 9));
    assert!(
        matches!(refused, Err(ReplicaError::Domain(_))),
        "{refused:?}"
    );
    assert_eq!(replica.automerge(&id).unwrap().get_heads(), heads);
    drop(replica);
    let mut replica = Replica::open(&path, Durability::Normal).unwrap();
    assert_eq!(replica.automerge(&id).unwrap().get_heads(), heads);
    assert!(matches!(
        replica.read::<crate::model::action_plan::ActionPlanDoc>(&id),
        Err(ReplicaError::Domain(_))
    ));
    assert!(matches!(
        replica.automerge(&DocumentId::random()),
        Err(ReplicaError::Missing(_))
    ));
}

#[test]
fn received_changes_are_committed_and_acknowledged_heads_clear_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut coach = Replica::open(dir.path().join("coach"), Durability::Normal).unwrap();
    let mut owner = Replica::open(dir.path().join("owner"), Durability::Normal).unwrap();
    let id = new_assessment(&mut coach);
    let all = coach.automerge(&id).unwrap().save();
    let (before, after) = owner.apply(&id, &all).unwrap();
    assert!(before.is_empty() && !after.is_empty());
    owner
        .edit(&id, |a: &mut AssessmentDoc| a.set_level(&ctx(), "C2", 2))
        .unwrap();
    // The owner's create was received, not made here, but until a server acknowledges the
    // heads both changes count.
    assert_eq!(owner.unacknowledged(&id).unwrap(), 2);
    let heads = owner.automerge(&id).unwrap().get_heads();
    owner
        .store_mut()
        .set_acked(&id, "server", &heads, 1)
        .unwrap();
    assert_eq!(owner.unacknowledged(&id).unwrap(), 0);
    // Many edits compact the stored history; it reloads the same.
    for i in 0..40 {
        owner
            .edit(&id, |a: &mut AssessmentDoc| {
                a.set_level(&ctx(), "C2", i % 5)
            })
            .unwrap();
    }
    assert!(owner.store().chunk_stats(&id).unwrap().chunks <= COMPACT_AFTER_CHUNKS);
    let heads = owner.automerge(&id).unwrap().get_heads();
    let path = owner.store().path().to_path_buf();
    drop(owner);
    let mut again = Replica::open(&path, Durability::Normal).unwrap();
    assert_eq!(again.automerge(&id).unwrap().get_heads(), heads);
    assert_eq!(level(&mut again, &id, "C2"), Some(4));
}

fn listing(ids: &[DocumentId]) -> Vec<super::Listed> {
    ids.iter()
        .map(|id| super::Listed {
            doc_id: *id,
            kind: Some("assessment".into()),
            title: None,
            business: Some("b1".into()),
            writable: true,
        })
        .collect()
}

#[test]
fn a_withdrawn_document_is_removed_only_when_the_server_acknowledged_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut replica = Replica::open(dir.path().join("coach.sqlite3"), Durability::Normal).unwrap();
    let (done, pending) = (new_assessment(&mut replica), new_assessment(&mut replica));
    for id in [done, pending] {
        let heads = replica.automerge(&id).unwrap().get_heads();
        replica
            .store_mut()
            .set_acked(&id, "server-a", &heads, 1)
            .unwrap();
    }
    replica
        .edit(&pending, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(), "C2", 3)
        })
        .unwrap();
    replica
        .store_mut()
        .set_listing(&listing(&[done, pending]))
        .unwrap();
    assert_eq!(
        replica.store_mut().set_listing(&[]).unwrap().len(),
        2,
        "both withdrawn (access revoked)"
    );

    // Acknowledgements of another server (a restored one) count for nothing.
    let restored = replica.settle_withdrawn("server-b").unwrap();
    assert!(restored.purged.is_empty(), "{restored:?}");
    assert_eq!(restored.kept.len(), 2);

    let settled = replica.settle_withdrawn("server-a").unwrap();
    assert_eq!(settled.purged, vec![done]);
    assert_eq!(
        settled.kept,
        vec![(pending, 1)],
        "the offline answer is kept"
    );
    assert!(!replica.contains(&done).unwrap());
    assert_eq!(level(&mut replica, &pending, "C2"), Some(3));

    // The export holds the undelivered answer; listed again it is no longer withdrawn.
    let exported = automerge::Automerge::load(&replica.export(&pending).unwrap()).unwrap();
    assert_eq!(
        exported.get_heads(),
        replica.automerge(&pending).unwrap().get_heads()
    );
    replica
        .store_mut()
        .set_listing(&listing(&[pending]))
        .unwrap();
    assert!(
        replica
            .settle_withdrawn("server-a")
            .unwrap()
            .kept
            .is_empty()
    );
    assert!(replica.contains(&pending).unwrap());
}

#[test]
fn only_a_set_aside_document_can_be_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let mut replica = Replica::open(dir.path().join("coach.sqlite3"), Durability::Normal).unwrap();
    let id = new_assessment(&mut replica);
    assert!(
        matches!(replica.discard(&id), Err(ReplicaError::NotSetAside(_))),
        "created here, waiting for its upload"
    );
    replica.store_mut().set_listing(&listing(&[id])).unwrap();
    assert!(matches!(
        replica.discard(&id),
        Err(ReplicaError::NotSetAside(_))
    ));
    assert!(replica.contains(&id).unwrap());
    replica.store_mut().set_listing(&[]).unwrap();
    replica.discard(&id).unwrap();
    assert!(!replica.contains(&id).unwrap());
    assert!(matches!(
        replica.discard(&id),
        Err(ReplicaError::Missing(_))
    ));
}
