//! Two hubs as two workers: a connection's handshake on the primary, its documents' messages
//! on the worker that owns them after an `Attach` with the identity the handshake gave it.

use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId};

use super::tests::{Client, Net, sandbox};
use super::*;

/// Alice joins the primary as a durable peer; the second worker learns who she is.
fn alice_on_two_workers() -> (Net, Net, Client) {
    let mut primary = Net::new();
    let mut worker = Net::new();
    let alice = Client::connect_durable(&mut primary, 1, sandbox("alice"), "alice-phone");
    let [(conn, identity)] = &primary.joined[..] else {
        panic!("one handshake: {:?}", primary.joined);
    };
    assert_eq!(*conn, 1);
    assert_eq!(identity.peer, alice.peer);
    assert_eq!(identity.storage_id, Some(StorageId("alice-phone".into())));
    worker.input(HubInput::Attach {
        conn: 1,
        principal: sandbox("alice"),
        identity: identity.clone(),
    });
    (primary, worker, alice)
}

#[test]
fn an_attached_connection_syncs_on_its_worker_without_a_second_handshake() {
    let (mut primary, mut worker, mut alice) = alice_on_two_workers();
    assert!(
        worker.take(1).is_empty(),
        "no `peer` answer from the worker"
    );
    assert_eq!(worker.hub.stats().peers, 1, "established there");
    let doc = DocumentId::random();
    alice.edit("a", 1);
    let other = alice.sync(&mut worker, doc);
    assert!(other.is_empty(), "{other:?}");
    assert!(worker.stored(doc).is_some(), "the worker stored it");
    assert!(primary.stored(doc).is_none(), "the primary never saw it");
    assert!(worker.closed.is_empty() && primary.closed.is_empty());
    // A second client on the worker gets alice's change.
    let mut bob = Client::connect(&mut primary, 2, sandbox("bob"));
    let identity = primary.joined[1].1.clone();
    worker.input(HubInput::Attach {
        conn: 2,
        principal: sandbox("bob"),
        identity,
    });
    bob.sync(&mut worker, doc);
    let value = automerge::ReadDoc::get(&bob.doc, automerge::ROOT, "a").unwrap();
    assert_eq!(value.and_then(|(v, _)| v.as_i64()), Some(1));
}

#[test]
fn an_attached_connection_is_still_held_to_its_identity() {
    let (_primary, mut worker, alice) = alice_on_two_workers();
    // A message under another peer id is refused on the worker as on the primary.
    worker.input(HubInput::Receive {
        conn: 1,
        message: Message::Request {
            sender_id: PeerId("someone-else".into()),
            target_id: PeerId(super::tests::SERVER.into()),
            document_id: DocumentId::random(),
            data: Vec::new(),
        },
    });
    assert_eq!(worker.closed.pop().map(|c| c.code), Some(CloseCode::Policy));
    // A second join on the worker is refused too: the handshake happened.
    worker.input(HubInput::Attach {
        conn: 3,
        principal: sandbox("alice"),
        identity: Identity {
            peer: alice.peer.clone(),
            storage_id: None,
        },
    });
    worker.input(HubInput::Receive {
        conn: 3,
        message: Message::Join {
            sender_id: alice.peer,
            supported_protocol_versions: None,
            peer_metadata: None,
        },
    });
    assert_eq!(
        worker.closed.pop().map(|c| c.code),
        Some(CloseCode::Protocol)
    );
}

#[test]
fn a_storage_id_another_user_claimed_is_not_handed_to_the_workers() {
    let (mut primary, _worker, _alice) = alice_on_two_workers();
    let _mallory = Client::connect_durable(&mut primary, 2, sandbox("bob"), "alice-phone");
    let (conn, identity) = &primary.joined[1];
    assert_eq!(*conn, 2);
    assert_eq!(identity.storage_id, None, "alice's claim came first");
}

#[test]
fn a_worker_forgets_a_connection_that_ended() {
    let (_primary, mut worker, mut alice) = alice_on_two_workers();
    let doc = DocumentId::random();
    alice.edit("a", 1);
    alice.sync(&mut worker, doc);
    worker.input(HubInput::Disconnect { conn: 1 });
    assert_eq!(worker.hub.stats().peers, 0);
    // What a late message of the ended connection does: nothing.
    alice.edit("b", 2);
    alice.send(&mut worker, doc);
    assert!(worker.take(1).is_empty());
}

#[test]
fn a_revoked_token_closes_the_connection_on_every_worker_and_counts_once() {
    let (mut primary, mut worker, mut alice) = alice_on_two_workers();
    let doc = DocumentId::random();
    alice.edit("a", 1);
    alice.sync(&mut worker, doc);
    let revoked = Arc::new(crate::access::DirectoryPolicy::new(
        crate::storage::Directory::default(),
    ));
    let mut closed = Vec::new();
    for net in [&mut primary, &mut worker] {
        let fx = net.hub.set_policy(Arc::clone(&revoked) as Arc<dyn Policy>);
        closed.extend(fx.close.into_iter().map(|c| (c.conn, c.code)));
    }
    assert_eq!(
        closed,
        [(1, CloseCode::TokenExpired), (1, CloseCode::TokenExpired)]
    );
    let mut total = primary.hub.stats();
    total.add_worker(&worker.hub.stats());
    assert_eq!(total.refusals.get("revoked"), Some(&1));
    assert_eq!(total.peers, 0);
}

fn subscription(alice: &Client, ids: usize) -> HubInput {
    HubInput::Receive {
        conn: 1,
        message: Message::RemoteSubscriptionChange {
            sender_id: alice.peer.clone(),
            target_id: PeerId(super::tests::SERVER.into()),
            add: (0..ids).map(|i| StorageId(format!("s{i}"))).collect(),
            remove: vec![],
        },
    }
}

fn errors(net: &mut Net) -> usize {
    net.take(1)
        .iter()
        .filter(|m| matches!(m, Message::Error { .. }))
        .count()
}

#[test]
fn a_subscription_flood_is_refused_by_the_primary_alone() {
    let (mut primary, mut worker, alice) = alice_on_two_workers();
    for _ in 0..100 {
        primary.input(subscription(&alice, 1));
        worker.input(subscription(&alice, 1));
    }
    assert_eq!(primary.closed.len(), 1, "over the rate");
    assert_eq!(errors(&mut primary), 1, "the primary says why");
    assert!(worker.closed.is_empty(), "the rate is the primary's");
    assert_eq!(errors(&mut worker), 0);
    let mut total = primary.hub.stats();
    total.add_worker(&worker.hub.stats());
    assert_eq!(total.refusals.get("limits"), Some(&1));
}

#[test]
fn an_oversized_subscription_is_refused_once_and_forgotten_on_every_worker() {
    let (mut primary, mut worker, alice) = alice_on_two_workers();
    let max = primary.hub.config.max_subscription_ids;
    primary.input(subscription(&alice, max + 1));
    worker.input(subscription(&alice, max + 1));
    assert_eq!(primary.closed.len(), 1);
    assert_eq!(errors(&mut primary), 1, "one error, from the primary");
    assert!(worker.closed.is_empty() && errors(&mut worker) == 0);
    assert_eq!(worker.hub.stats().peers, 0, "the worker forgot it");
    let mut total = primary.hub.stats();
    total.add_worker(&worker.hub.stats());
    assert_eq!(total.refusals.get("limits"), Some(&1));
}

#[test]
fn per_connection_bounds_are_shared_out_over_the_workers_with_slack() {
    let one = HubConfig::new(PeerId("s".into()), StorageId("t".into()));
    let two = one.clone().per_worker(2);
    // 10,000 documents: 5,000 each and three standard deviations (3 × 70).
    assert_eq!(one.max_docs_per_connection, 10_000);
    assert_eq!(two.max_docs_per_connection, 5_210);
    assert_eq!(one.max_unavailable_per_minute, 100);
    assert_eq!(two.max_unavailable_per_minute, 71);
    assert!(two.max_new_docs_per_connection < one.max_new_docs_per_connection);
    assert!(two.max_wanted_per_connection < one.max_wanted_per_connection);
    assert_eq!(two.ephemeral_per_second, one.ephemeral_per_second);
    // Never more than the whole bound, and one worker keeps it whole.
    let many = one.clone().per_worker(64);
    assert!(many.max_unavailable_per_minute <= one.max_unavailable_per_minute);
    let same = one.clone().per_worker(1);
    assert_eq!(same.max_docs_per_connection, one.max_docs_per_connection);
    assert_eq!(
        same.max_unavailable_per_minute,
        one.max_unavailable_per_minute
    );
}
