use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};

use super::*;

fn doc_with_edits(n: usize) -> (Automerge, Vec<Vec<u8>>) {
    let mut doc = Automerge::new().with_actor(ActorId::from(vec![1; 16]));
    let mut chunks = Vec::new();
    for i in 0..n {
        let before = doc.get_heads();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "n", i as i64).map(drop))
            .unwrap();
        chunks.push(doc.save_after(&before));
    }
    (doc, chunks)
}

pub(super) fn append(doc_id: &str, bytes: Vec<u8>, register: bool) -> Append {
    Append {
        doc_id: doc_id.to_owned(),
        bytes,
        change_hashes: vec![],
        user_id: "u".to_owned(),
        register: register.then(|| DocRecord {
            doc_id: doc_id.to_owned(),
            kind: None,
            neighbourhood: None,
            business: None,
            created_by: "u".to_owned(),
            title: String::new(),
        }),
    }
}

#[test]
fn opens_with_wal_full_and_a_stable_storage_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let store = Store::open(&path).unwrap();
    let id = store.storage_id().unwrap();
    assert_eq!(
        store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
            .unwrap(),
        migrate::latest()
    );
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(
        again.storage_id().unwrap(),
        id,
        "the storage id survives a restart"
    );
    assert_ne!(again.renew_storage_id().unwrap(), id);
    assert_eq!(again.integrity_check().unwrap(), "ok");
}

#[test]
fn appended_chunks_load_as_one_document_and_compact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let (doc, chunks) = doc_with_edits(40);
    for (i, chunk) in chunks.iter().enumerate() {
        store
            .commit(&[append("d1", chunk.clone(), i == 0)])
            .unwrap();
    }
    let stats = store.chunk_stats("d1").unwrap();
    assert_eq!(stats.chunks, 40);
    assert!(stats.wants_compaction());
    let loaded = Automerge::load(&store.load("d1").unwrap().unwrap().bytes).unwrap();
    assert_eq!(loaded.get_heads(), doc.get_heads());
    store.compact("d1").unwrap();
    let stats = store.chunk_stats("d1").unwrap();
    assert_eq!((stats.chunks, stats.snapshot_bytes > 0), (0, true));
    assert!(!stats.wants_compaction());
    let reloaded = Automerge::load(&store.load("d1").unwrap().unwrap().bytes).unwrap();
    assert_eq!(reloaded.get_heads(), doc.get_heads());
    // Appending the same change again is harmless.
    store
        .commit(&[append("d1", chunks[3].clone(), false)])
        .unwrap();
    let again = Automerge::load(&store.load("d1").unwrap().unwrap().bytes).unwrap();
    assert_eq!(again.get_heads(), doc.get_heads());
    assert!(store.load("unknown").unwrap().is_none());
}

#[test]
fn a_failing_batch_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let (_, chunks) = doc_with_edits(2);
    // The second append refers to an unregistered document: the foreign key fails.
    let batch = [
        append("d1", chunks[0].clone(), true),
        append("ghost", chunks[1].clone(), false),
    ];
    assert!(store.commit(&batch).is_err());
    assert!(
        store.load("d1").unwrap().is_none(),
        "the whole batch rolled back"
    );
}

#[test]
fn processes_opening_a_new_database_at_once_migrate_it_once() {
    // The server starting while an admin command runs: both migrate the same new file.
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let opened: Vec<Result<Store, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| Store::open(&path).map_err(|e| format!("{e:?}"))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for store in opened {
            let store = store.unwrap();
            assert_eq!(
                store.storage_id().unwrap(),
                Store::open(&path).unwrap().storage_id().unwrap(),
                "one storage id"
            );
        }
    }
}

#[test]
fn the_feed_cursor_moves_with_every_commit_and_reads_only_what_others_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let mut admin = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let (_, chunks) = doc_with_edits(4);
    let feed = server.feed_version().unwrap();
    // A long uptime of the server's own commits: nothing to read, the cursor follows.
    server
        .commit(&[append("d", chunks[0].clone(), true)])
        .unwrap();
    server
        .commit(&[append("d", chunks[1].clone(), false)])
        .unwrap();
    let cursor = match server.feed_since(feed, 0, usize::MAX).unwrap() {
        FeedRead::Unchanged { cursor } => cursor,
        other => panic!("{other:?}"),
    };
    assert_eq!(cursor, server.max_seq().unwrap());
    // Another process writes (and bumps the feed in the same transaction): only its chunk
    // is read.
    admin
        .commit_external(&[append("d", chunks[2].clone(), false)])
        .unwrap();
    match server.feed_since(feed, cursor, usize::MAX).unwrap() {
        FeedRead::Changed {
            feed: now,
            chunks: read,
        } => {
            assert_eq!(now, feed + 1);
            assert_eq!(read.len(), 1, "only what is new");
            assert_eq!(read[0].2, chunks[2]);
        }
        other => panic!("{other:?}"),
    }
    server
        .commit(&[append("d", chunks[3].clone(), false)])
        .unwrap();
    assert_eq!(
        server.feed_since(feed + 1, cursor + 1, usize::MAX).unwrap(),
        FeedRead::Unchanged {
            cursor: server.max_seq().unwrap()
        }
    );
}

#[test]
fn a_transaction_of_several_steps_lands_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let (_, chunks) = doc_with_edits(2);
    let failed: Result<(), StoreError> = store.in_transaction(|s| {
        s.add_user("Half", 0)?;
        s.commit_external(&[append("d", chunks[0].clone(), true)])?;
        Err(StoreError::Configure("the last step fails".to_owned()))
    });
    assert!(failed.is_err());
    assert!(store.user_named("Half").unwrap().is_none(), "rolled back");
    assert!(store.load("d").unwrap().is_none(), "the document too");
    store
        .in_transaction(|s| -> Result<(), StoreError> {
            s.add_user("Whole", 0)?;
            s.commit_external(&[append("d", chunks[0].clone(), true)])
        })
        .unwrap();
    assert!(store.user_named("Whole").unwrap().is_some());
    assert!(store.load("d").unwrap().is_some());
    // Outside a transaction a commit is its own.
    store
        .commit(&[append("d", chunks[1].clone(), false)])
        .unwrap();
}
