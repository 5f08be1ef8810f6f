//! Opening a client counts unacknowledged changes from the store, loading only the documents
//! that hold some.

use crate::model::assessment::AssessmentDoc;
use crate::store::{Durability, Replica};
use crate::test_support::{ctx, new_assessment};

use super::{Client, ClientConfig};

#[test]
fn opening_counts_from_the_store_and_loads_only_documents_with_unacknowledged_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coach.sqlite3");
    let (acked, edited_after_ack, never_acked) = {
        let mut replica = Replica::open(&path, Durability::Normal).unwrap();
        let acked: Vec<_> = (0..4).map(|_| new_assessment(&mut replica)).collect();
        for id in &acked {
            let mut heads = replica.automerge(id).unwrap().get_heads();
            // The server may be ahead of the device: a head we lack still acknowledges ours.
            heads.push(automerge::ChangeHash([7; 32]));
            replica
                .store_mut()
                .set_acked(id, "server", &heads, 1)
                .unwrap();
        }
        let edited_after_ack = acked[0];
        replica
            .edit(&edited_after_ack, |a: &mut AssessmentDoc| {
                a.set_level(&ctx(), "C2", 3)
            })
            .unwrap();
        let never_acked = new_assessment(&mut replica);
        (acked, edited_after_ack, never_acked)
    };
    let client =
        Client::open(ClientConfig::new(&path, "http://127.0.0.1:9", "token")).expect("opens");
    let status = client.status();
    assert_eq!(
        status.unacknowledged_by_document,
        [(edited_after_ack, 1), (never_acked, 1)].into(),
        "{status:?}"
    );
    assert_eq!(status.unacknowledged, 2);
    let loaded = |id| client.shared.with_replica(|r| Ok(r.is_loaded(id))).unwrap();
    assert!(loaded(&edited_after_ack) && loaded(&never_acked));
    for id in &acked[1..] {
        assert!(
            !loaded(id),
            "an acknowledged document is not loaded to count it"
        );
    }
    // Reading one still loads it.
    assert!(client.read::<AssessmentDoc>(&acked[1]).is_ok());
    assert!(loaded(&acked[1]));
}
