//! Denied looks like missing for every message: a session opened on a document that is not
//! stored yet is ruled on once its header is known, and a peer id belongs to the user who
//! joined with it.

use automerge::ReadDoc;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId};

use super::tests::{Client, Net, sandbox};
use super::*;

/// Whether `m` tells anything about a document's content: a sync message with heads or
/// changes, or a relayed ephemeral message.
fn carries_content(m: &Message) -> bool {
    match m {
        Message::Sync { data, .. } | Message::Request { data, .. } => {
            let msg = automerge::sync::Message::decode(data).unwrap();
            // (A V2 message may carry an empty document: no content.)
            let mut carried = automerge::Automerge::new();
            for chunk in msg.changes.iter() {
                carried.load_incremental(chunk).unwrap();
            }
            !msg.heads.is_empty() || !carried.get_heads().is_empty()
        }
        Message::Ephemeral { .. } => true,
        _ => false,
    }
}

#[test]
fn a_sync_for_an_unknown_document_opens_no_session_that_receives_it_once_created() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    // Eve has no role: she may not read a generic document.
    let mut eve = Client::connect(&mut net, 3, sandbox("eve"));

    // Eve and Bob name the document with `sync` (not `request`) before it exists.
    eve.push(&mut net, doc);
    bob.push(&mut net, doc);
    let mut to_eve = net.take(3);
    bob.receive(&mut net);

    // Alice creates it, and keeps editing.
    alice.edit("secret", 42);
    alice.sync(&mut net, doc);
    to_eve.extend(net.take(3));
    alice.edit("secret", 43);
    alice.sync(&mut net, doc);
    to_eve.extend(net.take(3));
    // Eve asks again.
    eve.push(&mut net, doc);
    to_eve.extend(net.take(3));

    assert!(
        !to_eve.iter().any(carries_content),
        "eve was sent the document: {to_eve:?}"
    );
    assert!(
        to_eve.iter().any(
            |m| matches!(m, Message::DocUnavailable { document_id, .. } if *document_id == doc)
        ),
        "{to_eve:?}"
    );
    assert!(
        net.hub
            .stats()
            .refusals
            .get("access")
            .is_some_and(|n| *n >= 1)
    );
    // Bob, who may read it, was ruled on at the same moment and has it.
    bob.sync(&mut net, doc);
    assert_eq!(bob.doc.get_heads(), alice.doc.get_heads());
    let value = bob.doc.get(automerge::ROOT, "secret").unwrap().unwrap().0;
    assert_eq!(value.as_i64(), Some(43));
}

#[test]
fn a_peer_id_held_by_another_user_is_refused_to_the_newcomer_only() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("a", 1);
    alice.sync(&mut net, doc);

    // Bob joins with Alice's peer id: he is refused, she is not disturbed.
    Client::join(&mut net, 2, sandbox("bob"), alice.peer.clone());
    let to_bob = net.take(2);
    assert!(
        matches!(&to_bob[..], [Message::Error { message, .. }] if message.contains("in use")),
        "{to_bob:?}"
    );
    let closes: Vec<(ConnId, CloseCode)> = net.closed.iter().map(|c| (c.conn, c.code)).collect();
    assert_eq!(closes, [(2, CloseCode::Policy)]);
    assert!(net.take(1).is_empty(), "nothing to alice");
    alice.edit("a", 2);
    alice.sync(&mut net, doc);
    assert_eq!(net.closed.len(), 1, "alice keeps her connection");
    let mut carol = Client::connect(&mut net, 4, sandbox("carol"));
    carol.sync(&mut net, doc);
    assert_eq!(
        carol.doc.get_heads(),
        alice.doc.get_heads(),
        "alice's edit was served"
    );

    // Alice herself reconnecting with the same peer id replaces her old connection.
    Client::join(&mut net, 3, sandbox("alice"), PeerId(alice.peer.0.clone()));
    assert!(matches!(net.take(3)[..], [Message::Peer { .. }]));
    let last = net.closed.last().unwrap();
    assert_eq!((last.conn, last.code), (1, CloseCode::Normal));
}

#[test]
fn access_revoked_while_a_document_reloads_ends_the_session_once_loaded() {
    use crate::access::{DirectoryPolicy, roles};
    let mut net = Net::new();
    let (doc, mut alice, _bob) = super::tests::alice_and_bob_share_a_document(&mut net);
    // The document reloads (as after a refused change) …
    let mut fx = Effects::default();
    net.hub.reload(doc, &mut fx);
    assert_eq!(fx.load, vec![doc]);
    // … and meanwhile bob loses his role (the re-check skips a document being loaded).
    let mut dir = crate::storage::Directory::default();
    dir.roles.insert(
        "alice".to_owned(),
        vec![(roles::SANDBOX.to_owned(), String::new())],
    );
    for user in ["alice", "bob"] {
        dir.active_tokens.insert(format!("token-{user}"));
    }
    let fx = net.hub.set_policy(Arc::new(DirectoryPolicy::new(dir)));
    assert!(fx.send.is_empty(), "{:?}", fx.send);
    let stored = net.stored(doc);
    net.input(HubInput::Loaded {
        doc,
        result: Ok(stored),
    });
    let to_bob = net.take(2);
    assert!(
        to_bob
            .iter()
            .any(|m| matches!(m, Message::DocUnavailable { .. })),
        "bob is told the document is gone: {to_bob:?}"
    );
    alice.edit("secret", 9);
    alice.sync(&mut net, doc);
    let to_bob = net.take(2);
    assert!(
        !to_bob.iter().any(carries_content),
        "bob gets nothing more: {to_bob:?}"
    );
}
