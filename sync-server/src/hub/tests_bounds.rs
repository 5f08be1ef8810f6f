//! What one connection can make the hub keep is bounded: ephemeral de-duplication entries,
//! sessions on documents not stored yet, unavailable documents remembered for a late arrival,
//! and `doc-unavailable` answers (guessing ids costs only the guesser).

use automerge::sync::{State, SyncDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId};

use super::tests::{Client, Net, SERVER, alice_and_bob_share_a_document, ephemeral, sandbox};
use super::*;

fn closed(net: &Net, conn: ConnId) -> Option<(u16, String)> {
    net.closed
        .iter()
        .find(|c| c.conn == conn)
        .map(|c| (c.code.code(), c.reason.clone()))
}

fn request(client: &Client, doc: DocumentId) -> Message {
    let data = automerge::Automerge::new()
        .generate_sync_message(&mut State::new())
        .expect("a first message")
        .encode();
    Message::Request {
        sender_id: client.peer.clone(),
        target_id: PeerId(SERVER.to_owned()),
        document_id: doc,
        data,
    }
}

#[test]
fn ephemeral_sessions_are_remembered_per_connection_bounded_and_forgotten_with_age() {
    let mut net = Net::new();
    net.hub.config.ephemeral_per_second = 10_000;
    let (doc, alice, _bob) = alice_and_bob_share_a_document(&mut net);
    let bound = net.hub.config.ephemeral_sessions_per_connection;
    for i in 0..(bound * 3) {
        let mut m = ephemeral(&alice, doc, 1);
        if let Message::Ephemeral { session_id, .. } = &mut m {
            *session_id = format!("session-{i}");
        }
        net.now += 1;
        net.input(HubInput::Receive {
            conn: 1,
            message: m,
        });
    }
    assert!(closed(&net, 1).is_none());
    assert_eq!(net.hub.conns[&1].ephemeral_seen.len(), bound);
    // A repeat of a remembered session's count is not relayed again.
    net.take(2);
    let mut repeat = ephemeral(&alice, doc, 1);
    if let Message::Ephemeral { session_id, .. } = &mut repeat {
        *session_id = format!("session-{}", bound * 3 - 1);
    }
    net.input(HubInput::Receive {
        conn: 1,
        message: repeat,
    });
    assert!(net.take(2).is_empty(), "de-duplicated");
    // Unseen for longer than the age limit: forgotten at the next tick.
    net.now += net.hub.config.ephemeral_seen_ttl_ms + 1;
    net.input(HubInput::Tick);
    assert!(net.hub.conns[&1].ephemeral_seen.is_empty());
    // And with the connection.
    net.input(HubInput::Receive {
        conn: 1,
        message: ephemeral(&alice, doc, 2),
    });
    net.input(HubInput::Disconnect { conn: 1 });
    assert!(!net.hub.conns.contains_key(&1));
}

#[test]
fn guessing_document_ids_closes_the_guesser_after_the_minute_limit() {
    let mut net = Net::new();
    let guesser = Client::connect(&mut net, 1, sandbox("alice"));
    let limit = net.hub.config.max_unavailable_per_minute as usize;
    let mut unavailable = 0;
    for _ in 0..=limit {
        net.input(HubInput::Receive {
            conn: 1,
            message: request(&guesser, DocumentId::random()),
        });
        unavailable += net
            .take(1)
            .iter()
            .filter(|m| matches!(m, Message::DocUnavailable { .. }))
            .count();
    }
    assert_eq!(unavailable, limit);
    let (code, reason) = closed(&net, 1).expect("closed");
    assert_eq!(code, 1008);
    assert!(reason.contains("unavailable"), "{reason}");
    // Another connection is not affected.
    let honest = Client::connect(&mut net, 2, sandbox("bob"));
    net.input(HubInput::Receive {
        conn: 2,
        message: request(&honest, DocumentId::random()),
    });
    assert!(closed(&net, 2).is_none());
}

#[test]
fn remembered_wishes_for_unavailable_documents_are_bounded_per_connection() {
    let mut net = Net::new();
    let asker = Client::connect(&mut net, 1, sandbox("alice"));
    let bound = net.hub.config.max_wanted_per_connection;
    let per_minute = net.hub.config.max_unavailable_per_minute as usize;
    let mut asked = 0;
    while asked < bound + 50 {
        for _ in 0..per_minute / 2 {
            net.input(HubInput::Receive {
                conn: 1,
                message: request(&asker, DocumentId::random()),
            });
            asked += 1;
        }
        net.now += 60_000;
    }
    assert!(closed(&net, 1).is_none(), "{:?}", net.closed);
    assert_eq!(net.hub.conns[&1].wanted.len(), bound);
    let total: usize = net.hub.wanted.values().map(BTreeSet::len).sum();
    assert_eq!(total, bound);
    net.input(HubInput::Disconnect { conn: 1 });
    assert!(net.hub.wanted.is_empty(), "forgotten with the connection");
}

#[test]
fn sessions_on_documents_not_stored_yet_are_capped_per_connection() {
    let mut net = Net::new();
    net.hub.config.max_new_docs_per_connection = 64;
    let mut pusher = Client::connect(&mut net, 1, sandbox("alice"));
    pusher.edit("x", 1);
    let max = net.hub.config.max_new_docs_per_connection;
    // A first sync message names heads but carries no changes: the document stays unstored
    // (as every document a device offers again after a restore, at first).
    let mut unavailable = 0;
    for _ in 0..max + 10 {
        let data = pusher
            .doc
            .generate_sync_message(&mut State::new())
            .unwrap()
            .encode();
        net.input(HubInput::Receive {
            conn: 1,
            message: Message::Sync {
                sender_id: pusher.peer.clone(),
                target_id: PeerId(SERVER.to_owned()),
                document_id: DocumentId::random(),
                data,
            },
        });
        unavailable += net
            .take(1)
            .iter()
            .filter(|m| matches!(m, Message::DocUnavailable { .. }))
            .count();
    }
    assert!(closed(&net, 1).is_none(), "the device keeps its connection");
    assert_eq!(
        unavailable, 10,
        "past the bound: unavailable for now, offered again later"
    );
    let placeholders = net
        .hub
        .docs
        .values()
        .filter(|d| matches!(d, DocEntry::Ready(l) if !l.registered))
        .count();
    assert_eq!(placeholders, max);
    net.input(HubInput::Disconnect { conn: 1 });
    net.input(HubInput::Tick);
    assert!(
        net.hub.docs.is_empty(),
        "the placeholders go with the connection at the next tick"
    );
}

#[test]
fn an_unprobeable_bloom_filter_closes_its_sender_only_and_keeps_the_document() {
    let mut net = Net::new();
    let (doc, alice, _bob) = alice_and_bob_share_a_document(&mut net);
    // The fuzzer's finding: a `have` whose filter has entries but no bits.
    let data = include_bytes!("../../../fuzz/regressions/sync_msg/bloom-without-bits").to_vec();
    assert!(
        automerge::sync::Message::decode(&data).is_ok(),
        "a decodable message"
    );
    net.input(HubInput::Receive {
        conn: 1,
        message: Message::Sync {
            sender_id: alice.peer,
            target_id: PeerId(SERVER.to_owned()),
            document_id: doc,
            data,
        },
    });
    let (code, reason) = closed(&net, 1).expect("the sender is closed");
    assert_eq!(code, 1007, "{reason}");
    assert!(
        closed(&net, 2).is_none(),
        "the other peer keeps its connection"
    );
    assert!(
        matches!(net.hub.docs.get(&doc), Some(DocEntry::Ready(_))),
        "the document stays loaded"
    );
}
