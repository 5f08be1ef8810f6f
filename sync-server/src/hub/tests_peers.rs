//! What the hub refuses and owes each peer: bounds on what one peer may make it hold or relay
//! (reliability.md F4 16, 19, 20), and the acknowledgement of every upload.

use automerge::ReadDoc;
use automerge::sync::MessageVersion;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId, StorageId};

use super::tests::{
    Client, Net, SERVER, alice_and_bob_share_a_document, ephemeral, hub_with_window, sandbox,
};
use super::*;

fn sync_with_changes(client: &Client, doc: DocumentId, changes: Vec<Vec<u8>>) -> Message {
    let message = automerge::sync::Message {
        heads: client.doc.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.into(),
        flags: None,
        version: MessageVersion::V1,
    };
    Message::Sync {
        sender_id: client.peer.clone(),
        target_id: PeerId(SERVER.to_owned()),
        document_id: doc,
        data: message.encode(),
    }
}

fn closed_with(net: &Net, conn: ConnId) -> Option<(u16, String)> {
    net.closed
        .iter()
        .find(|c| c.conn == conn)
        .map(|c| (c.code.code(), c.reason.clone()))
}

#[test]
fn changes_waiting_for_missing_dependencies_are_capped() {
    let mut net = Net::new();
    net.hub.config.max_queued_changes = 10;
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("base", 0);
    alice.sync(&mut net, doc);
    for i in 0..30 {
        alice.edit("k", i);
    }
    let new: Vec<Vec<u8>> = alice
        .doc
        .get_changes(&[])
        .iter()
        .skip(2)
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    // 29 changes, none applicable: the first new change is left out.
    let message = sync_with_changes(&alice, doc, new);
    net.input(HubInput::Receive { conn: 1, message });
    let (code, reason) = closed_with(&net, 1).expect("closed");
    assert_eq!(code, 1008);
    assert!(reason.contains("missing dependencies"), "{reason}");

    // The durable document is intact, and a complete upload of more than the cap passes.
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    bob.sync(&mut net, doc);
    assert_eq!(bob.doc.get_heads().len(), 1);
    assert!(bob.doc.get(automerge::ROOT, "base").unwrap().is_some());
    for i in 0..30 {
        bob.edit("k", i);
    }
    bob.sync(&mut net, doc);
    assert!(closed_with(&net, 2).is_none(), "{:?}", net.closed);
    let mut carol = Client::connect(&mut net, 3, sandbox("carol"));
    carol.sync(&mut net, doc);
    assert_eq!(carol.doc.get_heads(), bob.doc.get_heads());
}

#[test]
fn ephemeral_floods_and_oversized_subscription_changes_close_the_connection() {
    let mut net = Net::new();
    net.hub = hub_with_window(0);
    net.hub.config.ephemeral_per_second = 5;
    let (doc, alice, bob) = alice_and_bob_share_a_document(&mut net);
    let eph = |count| ephemeral(&alice, doc, count);
    // A burst of twice the rate passes, a steady rate passes, a flood does not.
    for count in 1..=10 {
        net.input(HubInput::Receive {
            conn: 1,
            message: eph(count),
        });
    }
    for count in 11..=20 {
        net.now += 200;
        net.input(HubInput::Receive {
            conn: 1,
            message: eph(count),
        });
    }
    assert!(closed_with(&net, 1).is_none());
    let relayed = net
        .take(2)
        .iter()
        .filter(|m| matches!(m, Message::Ephemeral { .. }))
        .count();
    assert_eq!(relayed, 20);
    for count in 21..=40 {
        net.input(HubInput::Receive {
            conn: 1,
            message: eph(count),
        });
    }
    let (code, reason) = closed_with(&net, 1).expect("closed");
    assert_eq!(code, 1008);
    assert!(reason.contains("ephemeral"), "{reason}");
    let relayed = net
        .take(2)
        .iter()
        .filter(|m| matches!(m, Message::Ephemeral { .. }))
        .count();
    assert!(relayed < 20, "the flood is not relayed: {relayed}");

    let ids = |n: usize| {
        (0..n)
            .map(|i| StorageId(format!("s{i}")))
            .collect::<Vec<_>>()
    };
    let change = |n| Message::RemoteSubscriptionChange {
        sender_id: bob.peer.clone(),
        target_id: PeerId(SERVER.into()),
        add: ids(n),
        remove: Vec::new(),
    };
    net.input(HubInput::Receive {
        conn: 2,
        message: change(3),
    });
    assert!(closed_with(&net, 2).is_none());
    net.input(HubInput::Receive {
        conn: 2,
        message: change(10_000),
    });
    let (code, reason) = closed_with(&net, 2).expect("closed");
    assert_eq!(code, 1008);
    assert!(reason.contains("storage ids"), "{reason}");
}

#[test]
fn an_upload_is_acknowledged_even_when_the_uploaders_heads_crossed_ours() {
    let mut net = Net::new();
    let (doc, mut alice, _bob) = super::tests::alice_and_bob_share_a_document(&mut net);
    net.auto_commit = false;
    alice.edit("k", 7);
    alice.send(&mut net, doc);
    // Before the commit, a message from alice arrives whose heads are the server's new heads
    // and which carries nothing (as when her answer to an earlier message crosses ours):
    // Automerge then believes she knows our heads.
    let crossing = automerge::sync::Message {
        heads: alice.doc.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: Vec::<Vec<u8>>::new().into(),
        flags: None,
        version: MessageVersion::V1,
    };
    net.input(HubInput::Receive {
        conn: 1,
        message: Message::Sync {
            sender_id: alice.peer.clone(),
            target_id: PeerId(SERVER.to_owned()),
            document_id: doc,
            data: crossing.encode(),
        },
    });
    assert!(net.take(1).is_empty(), "nothing before the commit");
    net.commit_all();
    let acks: Vec<Vec<automerge::ChangeHash>> = net
        .take(1)
        .into_iter()
        .filter_map(|m| match m {
            Message::Sync { data, .. } => {
                Some(automerge::sync::Message::decode(&data).unwrap().heads)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        acks,
        vec![alice.doc.get_heads()],
        "one message acknowledges the upload"
    );
}
