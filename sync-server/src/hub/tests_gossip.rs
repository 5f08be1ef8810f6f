//! Remote-heads gossip: followers learn the server's and durable peers' heads of the documents
//! they have open, only once durable, never of documents they may not read, within bounds.

use automerge::ChangeHash;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId, StorageId};

use super::tests::{Client, Net, SERVER, sandbox};
use super::*;

const OURS: &str = "storage-1";
const ALICE_PHONE: &str = "alice-phone";

fn follow(net: &mut Net, client: &Client, conn: ConnId, storages: &[&str]) {
    net.input(HubInput::Receive {
        conn,
        message: Message::RemoteSubscriptionChange {
            sender_id: client.peer.clone(),
            target_id: PeerId(SERVER.into()),
            add: storages
                .iter()
                .map(|s| StorageId((*s).to_owned()))
                .collect(),
            remove: Vec::new(),
        },
    });
}

/// The (heads, timestamp) told about `storage` for `doc` in `messages`.
fn told(messages: &[Message], doc: DocumentId, storage: &str) -> Vec<(Vec<String>, u64)> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::RemoteHeadsChanged {
                document_id,
                new_heads,
                ..
            } if *document_id == doc => new_heads
                .get(storage)
                .map(|h| (h.heads.clone(), h.timestamp)),
            _ => None,
        })
        .collect()
}

/// Alice's phone (a durable peer) creates a document on the server.
fn alice_phone_stores_a_document(net: &mut Net) -> (DocumentId, Client) {
    let doc = DocumentId::random();
    let mut alice = Client::connect_durable(net, 1, sandbox("alice"), ALICE_PHONE);
    alice.edit("a", 1);
    alice.sync(net, doc);
    (doc, alice)
}

fn encoded(heads: &[ChangeHash]) -> Vec<String> {
    heads
        .iter()
        .map(|h| nachbar_core::ids::head_string(&h.0))
        .collect()
}

#[test]
fn a_follower_learns_the_servers_and_a_phones_heads_once_they_are_durable() {
    let mut net = Net::new();
    let (doc, mut alice) = alice_phone_stores_a_document(&mut net);
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    follow(&mut net, &bob, 2, &[OURS, ALICE_PHONE]);
    let other = bob.sync(&mut net, doc);
    let first = encoded(&alice.doc.get_heads());
    let ours = told(&other, doc, OURS);
    let phone = told(&other, doc, ALICE_PHONE);
    assert_eq!(ours.len(), 1, "{other:?}");
    assert_eq!(ours[0].0, first, "the server's heads");
    assert_eq!(phone.len(), 1, "{other:?}");
    assert_eq!(phone[0].0, first, "alice's phone's heads");

    // Alice edits: nothing is told before the commit, the new heads after it.
    net.auto_commit = false;
    alice.edit("a", 2);
    alice.send(&mut net, doc);
    assert!(net.take(2).is_empty(), "nothing before the commit");
    net.commit_all();
    let other = bob.receive(&mut net);
    let second = encoded(&alice.doc.get_heads());
    let ours_after = told(&other, doc, OURS);
    assert_eq!(ours_after.len(), 1, "{other:?}");
    assert_eq!(ours_after[0].0, second);
    assert!(
        ours_after[0].1 > ours[0].1,
        "timestamps grow: {ours_after:?}"
    );
    let phone_after = told(&other, doc, ALICE_PHONE);
    assert_eq!(phone_after.len(), 1, "{other:?}");
    assert_eq!(phone_after[0].0, second);
    assert!(
        told(&alice.receive(&mut net), doc, ALICE_PHONE).is_empty(),
        "nobody is told its own heads"
    );

    // Unchanged heads are not told again.
    bob.sync(&mut net, doc);
    alice.sync(&mut net, doc);
    assert!(told(&bob.receive(&mut net), doc, OURS).is_empty());

    // A disconnected follower is forgotten.
    net.input(HubInput::Disconnect { conn: 2 });
    assert!(net.hub.followers.is_empty());
}

#[test]
fn a_follower_without_access_hears_nothing_and_claims_are_not_relayed() {
    let mut net = Net::new();
    let (doc, mut alice) = alice_phone_stores_a_document(&mut net);
    // Eve has no role: the document is missing to her, and so are its heads.
    let mut eve = Client::connect(&mut net, 3, sandbox("eve"));
    follow(&mut net, &eve, 3, &[OURS, ALICE_PHONE]);
    eve.sync(&mut net, doc);
    alice.edit("a", 2);
    alice.sync(&mut net, doc);
    let to_eve = net.take(3);
    assert!(
        to_eve
            .iter()
            .all(|m| !matches!(m, Message::RemoteHeadsChanged { .. })),
        "{to_eve:?}"
    );

    // A peer's claim about some storage's heads is not passed on.
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    follow(&mut net, &bob, 2, &["made-up"]);
    bob.sync(&mut net, doc);
    net.input(HubInput::Receive {
        conn: 1,
        message: Message::RemoteHeadsChanged {
            sender_id: alice.peer.clone(),
            target_id: PeerId(SERVER.into()),
            document_id: doc,
            new_heads: [(
                "made-up".to_owned(),
                nachbar_core::protocol::RemoteHeads {
                    heads: Vec::new(),
                    timestamp: 1,
                },
            )]
            .into(),
        },
    });
    assert!(told(&net.take(2), doc, "made-up").is_empty());
}

#[test]
fn storage_ids_followed_by_one_connection_are_bounded() {
    let mut net = Net::new();
    net.hub.config.max_subscription_ids = 10;
    let bob = Client::connect(&mut net, 2, sandbox("bob"));
    let names: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
    let first: Vec<&str> = names.iter().map(String::as_str).collect();
    follow(&mut net, &bob, 2, &first);
    follow(&mut net, &bob, 2, &first);
    assert!(
        net.closed.is_empty(),
        "following the same again costs nothing"
    );
    follow(&mut net, &bob, 2, &["t1", "t2", "t3"]);
    let closed = net.closed.iter().find(|c| c.conn == 2).expect("closed");
    assert_eq!(closed.code.code(), 1008);
    assert!(closed.reason.contains("storage ids"), "{}", closed.reason);
    assert!(net.hub.followers.is_empty(), "{:?}", net.hub.followers);
}

#[test]
fn nobody_speaks_for_the_server_or_another_users_device() {
    let mut net = Net::new();
    let (doc, mut alice) = alice_phone_stores_a_document(&mut net);
    // Carol claims the server's storage id, Bob alice's phone's.
    let mut carol = Client::connect_durable(&mut net, 3, sandbox("carol"), OURS);
    let mut bob = Client::connect_durable(&mut net, 2, sandbox("bob"), ALICE_PHONE);
    assert_eq!(net.hub.conns[&3].storage_id, None);
    assert_eq!(net.hub.conns[&2].storage_id, None);
    // Both sync an old state only (their heads lag): followers never see them.
    carol.sync(&mut net, doc);
    bob.sync(&mut net, doc);
    let mut dave = Client::connect(&mut net, 4, sandbox("u4"));
    follow(&mut net, &dave, 4, &[OURS, ALICE_PHONE]);
    let first = dave.sync(&mut net, doc);
    alice.edit("a", 2);
    alice.sync(&mut net, doc);
    let mut told_dave = first;
    told_dave.extend(dave.receive(&mut net));
    let heads = encoded(&alice.doc.get_heads());
    for storage in [OURS, ALICE_PHONE] {
        let told = told(&told_dave, doc, storage);
        assert_eq!(
            told.last().map(|t| &t.0),
            Some(&heads),
            "{storage}: {told:?}"
        );
    }
}

#[test]
fn subscription_changes_are_limited_per_minute() {
    let mut net = Net::new();
    net.hub.config.subscription_changes_per_minute = 5;
    let bob = Client::connect(&mut net, 2, sandbox("bob"));
    for _ in 0..5 {
        follow(&mut net, &bob, 2, &["s"]);
    }
    assert!(net.closed.is_empty());
    follow(&mut net, &bob, 2, &["s"]);
    let closed = net.closed.iter().find(|c| c.conn == 2).expect("closed");
    assert_eq!(closed.code.code(), 1008);
    assert!(closed.reason.contains("a minute"), "{}", closed.reason);
}

#[test]
fn what_was_gossiped_survives_a_reload_so_timestamps_keep_growing() {
    let mut net = Net::new();
    let (doc, mut alice) = alice_phone_stores_a_document(&mut net);
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    follow(&mut net, &bob, 2, &[OURS, ALICE_PHONE]);
    let first = told(&bob.sync(&mut net, doc), doc, OURS);
    assert_eq!(first.len(), 1);
    let gossiped = |net: &Net| match net.hub.docs.get(&doc) {
        Some(DocEntry::Ready(entry)) => entry.gossip.clone(),
        _ => panic!("not ready"),
    };
    let before = gossiped(&net);
    let mut fx = Effects::default();
    net.hub.reload(doc, &mut fx);
    let stored = net.stored(doc);
    net.input(HubInput::Loaded {
        doc,
        result: Ok(stored),
    });
    assert_eq!(gossiped(&net), before, "kept across the reload");
    alice.edit("a", 2);
    alice.sync(&mut net, doc);
    let after = told(&bob.receive(&mut net), doc, OURS);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].1 > first[0].1);
}
