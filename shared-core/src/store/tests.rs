use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT, ReadDoc};

use super::*;

fn edit(doc: &mut Automerge, value: i64) -> Vec<u8> {
    let before = doc.get_heads();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "n", value).map(drop))
        .unwrap();
    doc.save_after(&before)
}

fn value(doc: &Automerge) -> i64 {
    match doc.get(ROOT, "n").unwrap() {
        Some((automerge::Value::Scalar(s), _)) => s.as_i64().unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn edits_survive_reopening_with_the_same_actor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user.sqlite3");
    let id = DocumentId::random();
    let actor = {
        let mut store = LocalStore::open(&path, Durability::Full).unwrap();
        let mut doc = Automerge::new().with_actor(store.actor().clone());
        for i in 1..=3 {
            let before = doc.get_heads();
            let bytes = edit(&mut doc, i);
            store
                .append(&id, &bytes, &before, &doc.get_heads())
                .unwrap();
        }
        store.actor().clone()
    };
    let store = LocalStore::open(&path, Durability::Full).unwrap();
    assert_eq!(store.actor(), &actor, "one actor per user and device");
    let doc = store.load(&id).unwrap().expect("stored");
    assert_eq!(value(&doc), 3);
    assert_eq!(doc.get_changes(&[]).len(), 3);
    assert_eq!(store.documents().unwrap(), vec![id]);
    assert!(store.load(&DocumentId::random()).unwrap().is_none());
}

#[test]
fn many_chunks_are_compacted_into_one_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LocalStore::open(dir.path().join("db"), Durability::Normal).unwrap();
    let id = DocumentId::random();
    let mut doc = Automerge::new();
    for i in 0..40 {
        let before = doc.get_heads();
        let bytes = edit(&mut doc, i);
        store
            .append(&id, &bytes, &before, &doc.get_heads())
            .unwrap();
    }
    let stats = store.chunk_stats(&id).unwrap();
    assert_eq!(stats.chunks, 40);
    assert!(stats.wants_compaction());
    let loaded = store.load(&id).unwrap().unwrap();
    store.compact(&id, &loaded).unwrap();
    let stats = store.chunk_stats(&id).unwrap();
    assert_eq!((stats.chunks, stats.chunk_bytes), (0, 0));
    assert!(stats.snapshot_bytes > 0);
    assert!(!stats.wants_compaction());
    // Later changes append to the snapshot and load with it.
    let before = doc.get_heads();
    let bytes = edit(&mut doc, 99);
    store
        .append(&id, &bytes, &before, &doc.get_heads())
        .unwrap();
    let again = store.load(&id).unwrap().unwrap();
    assert_eq!(value(&again), 99);
    assert_eq!(again.get_heads(), doc.get_heads());
}

#[test]
fn unacknowledged_counts_what_the_acknowledged_heads_do_not_cover() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LocalStore::open(dir.path().join("db"), Durability::Normal).unwrap();
    let id = DocumentId::random();
    let mut doc = Automerge::new();
    for i in 0..2 {
        edit(&mut doc, i);
    }
    let acked = doc.get_heads();
    store.set_acked(&id, "storage-a", &acked, 1_000).unwrap();
    edit(&mut doc, 2);
    let status = store.status(&id).unwrap();
    assert_eq!(status.acked_heads, acked);
    assert_eq!(status.acked_storage.as_deref(), Some("storage-a"));
    assert_eq!(status.synced_at, Some(1_000));
    assert_eq!(unacknowledged(&doc, &status.acked_heads), 1);
    assert_eq!(unacknowledged(&doc, &[]), 3);
    assert_eq!(unacknowledged(&doc, &doc.get_heads()), 0);
    // A head we do not know yet counts nothing as acknowledged.
    let unknown = automerge::ChangeHash([7; 32]);
    assert_eq!(unacknowledged(&doc, &[unknown]), 3);

    // A restored server (new storage id): every acknowledgement of the old one is forgotten.
    store.set_sync_state(&id, "storage-a", b"state").unwrap();
    assert_eq!(store.keep_only_storage("storage-b").unwrap(), 1);
    let status = store.status(&id).unwrap();
    assert!(status.acked_heads.is_empty() && status.acked_storage.is_none());
    assert_eq!(store.sync_state(&id, "storage-a").unwrap(), None);
}

#[test]
fn the_listing_marks_unlisted_documents_withdrawn_and_purge_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LocalStore::open(dir.path().join("db"), Durability::Normal).unwrap();
    let (a, b) = (DocumentId::random(), DocumentId::random());
    let listed = |id: DocumentId| Listed {
        doc_id: id,
        kind: Some("assessment".into()),
        title: Some("Glaserei".into()),
        business: Some("b1".into()),
        writable: false,
    };
    assert!(
        store
            .set_listing(&[listed(a), listed(b)])
            .unwrap()
            .is_empty()
    );
    store
        .append(&b, &edit(&mut Automerge::new(), 1), &[], &[])
        .unwrap();
    store.set_sync_state(&b, "s", b"state").unwrap();
    let status = store.status(&b).unwrap();
    assert!(status.listed && !status.writable);
    assert_eq!(status.title.as_deref(), Some("Glaserei"));

    assert_eq!(store.set_listing(&[listed(a)]).unwrap(), vec![b]);
    assert!(store.status(&b).unwrap().withdrawn, "marked, not removed");
    assert!(store.load(&b).unwrap().is_some());
    assert_eq!(store.withdrawn().unwrap(), vec![b]);
    assert!(
        store
            .set_listing(&[listed(a), listed(b)])
            .unwrap()
            .is_empty()
    );
    assert!(!store.status(&b).unwrap().withdrawn, "listed again");
    assert_eq!(store.set_listing(&[listed(a)]).unwrap(), vec![b]);
    store.purge(&b).unwrap();
    assert!(store.withdrawn().unwrap().is_empty());
    assert!(store.load(&b).unwrap().is_none());
    assert_eq!(store.sync_state(&b, "s").unwrap(), None);
    assert!(!store.status(&b).unwrap().listed);
    assert!(store.status(&a).unwrap().listed);

    store.set_flags(&a, true, false).unwrap();
    assert!(store.status(&a).unwrap().read_only);
    store.cache_put("people", "[1]", 5).unwrap();
    store.cache_put("people", "[2]", 6).unwrap();
    assert_eq!(store.cache_get("people").unwrap(), Some(("[2]".into(), 6)));
}

#[test]
fn wipe_removes_the_database_files_and_newer_schemas_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user.sqlite3");
    let mut store = LocalStore::open(&path, Durability::Full).unwrap();
    store
        .append(
            &DocumentId::random(),
            &edit(&mut Automerge::new(), 1),
            &[],
            &[],
        )
        .unwrap();
    assert!(path.exists());
    store.wipe().unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let store = LocalStore::open(&path, Durability::Full).unwrap();
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    match LocalStore::open(&path, Durability::Full) {
        Err(StoreError::NewerSchema { found: 99, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn stored_heads_are_forgotten_when_another_writer_appended_and_noted_again_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LocalStore::open(dir.path().join("db"), Durability::Normal).unwrap();
    let id = DocumentId::random();
    // Two writers start from nothing; the second's copy lacks the first's change.
    let (mut first, mut second) = (Automerge::new(), Automerge::new());
    let bytes = edit(&mut first, 1);
    store.append(&id, &bytes, &[], &first.get_heads()).unwrap();
    let acked = first.get_heads();
    store.set_acked(&id, "server", &acked, 1).unwrap();
    assert!(store.fully_acknowledged().unwrap().contains(&id));
    let bytes = edit(&mut second, 2);
    store.append(&id, &bytes, &[], &second.get_heads()).unwrap();
    store
        .set_acked(&id, "server", &second.get_heads(), 2)
        .unwrap();
    assert!(
        !store.fully_acknowledged().unwrap().contains(&id),
        "the first writer's change is not acknowledged: the heads must not claim otherwise"
    );
    // A load records the heads of everything stored.
    let loaded = store.load(&id).unwrap().unwrap();
    assert_eq!(loaded.get_heads().len(), 2);
    store.note_loaded_heads(&id, &loaded.get_heads()).unwrap();
    assert!(!store.fully_acknowledged().unwrap().contains(&id));
    store
        .set_acked(&id, "server", &loaded.get_heads(), 3)
        .unwrap();
    assert!(store.fully_acknowledged().unwrap().contains(&id));
}
