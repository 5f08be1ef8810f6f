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
