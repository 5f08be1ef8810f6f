//! The hub driven in memory: simulated clients with their own Automerge documents, storage as
//! a map, persists committed when the test says so.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId, StorageId};

use super::*;
use crate::access::{DirectoryPolicy, Principal, roles};
use crate::storage::Directory;

pub(super) const SERVER: &str = "server";

pub(super) fn sandbox(user: &str) -> Principal {
    Principal {
        user_id: user.to_owned(),
        token_hash: format!("token-{user}"),
    }
}

/// Every test user is a sandbox user, except `eve`.
fn policy() -> Arc<DirectoryPolicy> {
    let mut dir = Directory::default();
    for user in ["u1", "u2", "u3", "u4", "alice", "bob", "carol"] {
        dir.roles.insert(
            user.to_owned(),
            vec![(roles::SANDBOX.to_owned(), String::new())],
        );
        dir.active_tokens.insert(format!("token-{user}"));
    }
    dir.active_tokens.insert("token-eve".to_owned());
    Arc::new(DirectoryPolicy::new(dir))
}

fn hub() -> Hub {
    hub_with_window(0)
}

pub(super) fn hub_with_window(fanout_window_ms: Millis) -> Hub {
    let config = HubConfig {
        max_ephemeral_bytes: 1024,
        fanout_window_ms,
        ..HubConfig::new(PeerId(SERVER.to_owned()), StorageId("storage-1".to_owned()))
    };
    Hub::new(config, policy())
}

/// The hub with an in-memory store; persists are held until `commit` unless `auto_commit`.
pub(super) struct Net {
    pub(super) hub: Hub,
    store: HashMap<DocumentId, (Vec<u8>, DocRecord)>,
    pending: Vec<PersistRequest>,
    outbox: Vec<(ConnId, Message)>,
    pub(super) closed: Vec<Close>,
    /// Handshakes passed, as the shell hears of them.
    pub(super) joined: Vec<(ConnId, Identity)>,
    pub(super) auto_commit: bool,
    pub(super) now: Millis,
}

impl Net {
    pub(super) fn new() -> Self {
        Net {
            hub: hub(),
            store: HashMap::new(),
            pending: Vec::new(),
            outbox: Vec::new(),
            closed: Vec::new(),
            joined: Vec::new(),
            auto_commit: true,
            now: 0,
        }
    }

    /// What the store holds of `doc`, as storage reads it back.
    pub(super) fn stored(&self, doc: DocumentId) -> Option<crate::durable::StoredDoc> {
        self.store
            .get(&doc)
            .map(|(bytes, record)| crate::durable::StoredDoc {
                bytes: bytes.clone(),
                record: record.clone(),
            })
    }

    pub(super) fn input(&mut self, input: HubInput) {
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let fx = self.hub.handle(self.now, input);
            self.pending.extend(fx.persist);
            for doc in fx.load {
                let result = Ok(self.stored(doc));
                queue.push(HubInput::Loaded { doc, result });
            }
            self.joined.extend(fx.joined);
            self.outbox.extend(fx.send);
            self.closed.extend(fx.close);
            if self.auto_commit {
                for p in std::mem::take(&mut self.pending) {
                    self.write(&p);
                    queue.push(HubInput::Persisted {
                        id: p.id,
                        result: Ok(()),
                    });
                }
            }
        }
    }

    fn write(&mut self, p: &PersistRequest) {
        let doc: DocumentId = p.append.doc_id.parse().unwrap();
        let entry = self.store.entry(doc).or_insert_with(|| {
            (
                Vec::new(),
                p.append.register.clone().expect("first write registers"),
            )
        });
        entry.0.extend_from_slice(&p.append.bytes);
    }

    pub(super) fn commit_all(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            self.write(&p);
            self.input(HubInput::Persisted {
                id: p.id,
                result: Ok(()),
            });
        }
    }

    /// Takes the messages sent to `conn`.
    pub(super) fn take(&mut self, conn: ConnId) -> Vec<Message> {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.outbox)
            .into_iter()
            .partition(|(c, _)| *c == conn);
        self.outbox = rest;
        mine.into_iter().map(|(_, m)| m).collect()
    }
}

/// A client with its own replica of one document.
pub(super) struct Client {
    conn: ConnId,
    pub(super) peer: PeerId,
    pub(super) doc: Automerge,
    state: State,
}

impl Client {
    pub(super) fn connect(net: &mut Net, conn: ConnId, principal: Principal) -> Client {
        Client::connect_with(net, conn, principal, None)
    }

    /// Connects as a peer with durable storage `storage`.
    pub(super) fn connect_durable(
        net: &mut Net,
        conn: ConnId,
        principal: Principal,
        storage: &str,
    ) -> Client {
        let metadata = PeerMetadata {
            storage_id: Some(StorageId(storage.to_owned())),
            is_ephemeral: false,
        };
        Client::connect_with(net, conn, principal, Some(metadata))
    }

    fn connect_with(
        net: &mut Net,
        conn: ConnId,
        principal: Principal,
        metadata: Option<PeerMetadata>,
    ) -> Client {
        let peer = PeerId(format!("peer-{conn}"));
        let client = Client::join_with(net, conn, principal, peer, metadata);
        let reply = net.take(conn);
        assert!(
            matches!(&reply[..], [Message::Peer { selected_protocol_version, .. }] if selected_protocol_version == "1"),
            "{reply:?}"
        );
        client
    }

    /// Connects and joins as `peer`, leaving the hub's answer in the outbox.
    pub(super) fn join(net: &mut Net, conn: ConnId, principal: Principal, peer: PeerId) -> Client {
        Client::join_with(net, conn, principal, peer, None)
    }

    fn join_with(
        net: &mut Net,
        conn: ConnId,
        principal: Principal,
        peer: PeerId,
        peer_metadata: Option<PeerMetadata>,
    ) -> Client {
        net.input(HubInput::Connect { conn, principal });
        net.input(HubInput::Receive {
            conn,
            message: Message::Join {
                sender_id: peer.clone(),
                supported_protocol_versions: Some(vec!["1".to_owned()]),
                peer_metadata,
            },
        });
        Client {
            conn,
            peer,
            doc: Automerge::new().with_actor(ActorId::from(vec![conn as u8; 16])),
            state: State::new(),
        }
    }

    pub(super) fn edit(&mut self, key: &str, value: i64) {
        self.doc
            .transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, value).map(drop))
            .unwrap();
    }

    /// Sends our next sync message (as `request` when we have nothing).
    pub(super) fn send(&mut self, net: &mut Net, doc: DocumentId) -> bool {
        let request = self.doc.get_heads().is_empty();
        self.send_as(net, doc, request)
    }

    /// Sends our next sync message as `sync`, even when we have nothing.
    pub(super) fn push(&mut self, net: &mut Net, doc: DocumentId) -> bool {
        self.send_as(net, doc, false)
    }

    fn send_as(&mut self, net: &mut Net, doc: DocumentId, request: bool) -> bool {
        let Some(msg) = self.doc.generate_sync_message(&mut self.state) else {
            return false;
        };
        let (sender_id, target_id, data) =
            (self.peer.clone(), PeerId(SERVER.to_owned()), msg.encode());
        let message = if request {
            Message::Request {
                sender_id,
                target_id,
                document_id: doc,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id: doc,
                data,
            }
        };
        net.input(HubInput::Receive {
            conn: self.conn,
            message,
        });
        true
    }

    /// Applies what the hub sent us; returns the other messages.
    pub(super) fn receive(&mut self, net: &mut Net) -> Vec<Message> {
        let mut other = Vec::new();
        for m in net.take(self.conn) {
            match m {
                Message::Sync { data, .. } => {
                    let msg = automerge::sync::Message::decode(&data).unwrap();
                    self.doc.receive_sync_message(&mut self.state, msg).unwrap();
                }
                m => other.push(m),
            }
        }
        other
    }

    /// Applies what the hub sent us and answers as a real peer does; returns how many sync
    /// messages arrived.
    pub(super) fn answer(&mut self, net: &mut Net, doc: DocumentId) -> usize {
        let arrived = net
            .outbox
            .iter()
            .filter(|(c, m)| *c == self.conn && matches!(m, Message::Sync { .. }))
            .count();
        self.receive(net);
        self.send(net, doc);
        arrived
    }

    /// Exchanges messages until quiet.
    pub(super) fn sync(&mut self, net: &mut Net, doc: DocumentId) -> Vec<Message> {
        let mut other = Vec::new();
        for _ in 0..20 {
            let sent = self.send(net, doc);
            let before = net.outbox.iter().filter(|(c, _)| *c == self.conn).count();
            other.extend(self.receive(net));
            if !sent && before == 0 {
                break;
            }
        }
        other
    }
}

#[test]
fn handshake_replies_peer_and_refuses_out_of_order_messages() {
    let mut net = Net::new();
    let c = Client::connect(&mut net, 1, sandbox("u1"));
    assert_eq!(net.hub.stats().peers, 1);
    // A second join closes the connection with a protocol error.
    net.input(HubInput::Receive {
        conn: 1,
        message: Message::Join {
            sender_id: c.peer,
            supported_protocol_versions: None,
            peer_metadata: None,
        },
    });
    assert!(matches!(net.take(1)[..], [Message::Error { .. }]));
    assert_eq!(net.closed.pop().unwrap().code, CloseCode::Protocol);

    // Anything before join.
    net.input(HubInput::Connect {
        conn: 2,
        principal: sandbox("u2"),
    });
    net.input(HubInput::Receive {
        conn: 2,
        message: Message::Leave {
            sender_id: PeerId("x".into()),
        },
    });
    assert_eq!(net.closed.pop().unwrap().code, CloseCode::Protocol);

    // An unsupported version.
    net.input(HubInput::Connect {
        conn: 3,
        principal: sandbox("u3"),
    });
    net.input(HubInput::Receive {
        conn: 3,
        message: Message::Join {
            sender_id: PeerId("p3".into()),
            supported_protocol_versions: Some(vec!["2".into()]),
            peer_metadata: None,
        },
    });
    match &net.take(3)[..] {
        [Message::Error { message, .. }] => assert_eq!(message, "unsupported protocol version"),
        other => panic!("{other:?}"),
    }

    // A senderId that is not the handshake's.
    let mut d = Client::connect(&mut net, 4, sandbox("u4"));
    d.peer = PeerId("someone-else".into());
    d.edit("x", 1);
    d.send(&mut net, DocumentId::random());
    let close = net.closed.pop().unwrap();
    assert_eq!((close.conn, close.code), (4, CloseCode::Policy));
    assert!(close.reason.contains("peer ID mismatch"));
    assert_eq!(net.hub.stats().refusals.get("protocol"), Some(&4));
}

#[test]
fn a_pushed_document_is_stored_and_served_to_another_peer() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("greeting", 1);
    let other = alice.sync(&mut net, doc);
    assert!(other.is_empty(), "{other:?}");
    assert!(net.store.contains_key(&doc), "stored on first push");
    assert!(
        alice.doc.has_our_changes(&alice.state),
        "the hub acknowledged everything"
    );

    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    bob.sync(&mut net, doc);
    assert_eq!(bob.doc.get_heads(), alice.doc.get_heads());
    assert_eq!(
        bob.doc.get(ROOT, "greeting").unwrap().unwrap().0.as_i64(),
        Some(1)
    );
}

#[test]
fn nothing_is_advertised_before_it_is_durable() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("a", 1);
    alice.sync(&mut net, doc);
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    bob.sync(&mut net, doc);
    net.auto_commit = false;

    alice.edit("a", 2);
    alice.send(&mut net, doc);
    assert_eq!(net.pending.len(), 1, "one append waits for the writer");
    let new_head = alice.doc.get_heads()[0];
    // Until the commit, no message to anyone mentions the new head.
    for (_, m) in &net.outbox {
        if let Message::Sync { data, .. } = m {
            let msg = automerge::sync::Message::decode(data).unwrap();
            assert!(!msg.heads.contains(&new_head), "advertised before durable");
        }
    }
    assert!(
        net.outbox.is_empty(),
        "no reply at all while the write is in flight"
    );
    // A second change while the first is in flight is batched behind it.
    alice.edit("b", 3);
    alice.send(&mut net, doc);
    net.commit_all();
    let to_bob = net.outbox.iter().filter(|(c, _)| *c == 2).count();
    assert_eq!(to_bob, 1, "one fan-out message for the whole batch");
    bob.receive(&mut net);
    alice.receive(&mut net);
    net.auto_commit = true;
    bob.sync(&mut net, doc);
    alice.sync(&mut net, doc);
    assert_eq!(bob.doc.get_heads(), alice.doc.get_heads());
}

#[test]
fn unavailable_documents_arrive_late_and_strangers_cannot_create() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    let other = bob.sync(&mut net, doc);
    assert!(
        matches!(other[..], [Message::DocUnavailable { .. }]),
        "{other:?}"
    );
    assert!(!net.store.contains_key(&doc));

    // A user without the sandbox role may not create a generic document.
    let stranger = sandbox("eve");
    let mut eve = Client::connect(&mut net, 3, stranger);
    eve.edit("x", 1);
    let other = eve.sync(&mut net, doc);
    assert!(
        other
            .iter()
            .any(|m| matches!(m, Message::DocUnavailable { .. })),
        "{other:?}"
    );
    assert!(!net.store.contains_key(&doc), "stored nowhere");
    assert_eq!(net.hub.stats().refusals.get("create"), Some(&1));

    // Alice creates it: Bob, who asked earlier, receives it without asking again.
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("x", 7);
    alice.sync(&mut net, doc);
    bob.receive(&mut net);
    bob.sync(&mut net, doc);
    assert_eq!(bob.doc.get_heads(), alice.doc.get_heads());
}

#[test]
fn a_failed_write_is_never_advertised_and_closes_the_sessions() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("a", 1);
    alice.sync(&mut net, doc);
    net.auto_commit = false;
    alice.edit("a", 2);
    alice.send(&mut net, doc);
    let p = net.pending.pop().unwrap();
    net.input(HubInput::Persisted {
        id: p.id,
        result: Err(crate::durable::StorageFailure("disk full".into())),
    });
    assert!(net.take(1).is_empty());
    assert_eq!(net.closed.pop().unwrap().code, CloseCode::Unavailable);
    assert_eq!(net.hub.stats().docs_loaded, 0);
}

/// Alice creates a document and Bob syncs it.
pub(super) fn alice_and_bob_share_a_document(net: &mut Net) -> (DocumentId, Client, Client) {
    let doc = DocumentId::random();
    let mut alice = Client::connect(net, 1, sandbox("alice"));
    alice.edit("a", 1);
    alice.sync(net, doc);
    let mut bob = Client::connect(net, 2, sandbox("bob"));
    bob.sync(net, doc);
    (doc, alice, bob)
}

/// A small ephemeral message of `client` on `doc`.
pub(super) fn ephemeral(client: &Client, doc: DocumentId, count: u64) -> Message {
    Message::Ephemeral {
        sender_id: client.peer.clone(),
        target_id: PeerId(SERVER.into()),
        document_id: doc,
        session_id: "s".into(),
        count,
        data: vec![0xa0],
    }
}

#[test]
fn idle_documents_are_evicted_and_ephemera_relayed_once() {
    let mut net = Net::new();
    let (doc, alice, _bob) = alice_and_bob_share_a_document(&mut net);
    let eph = |count| ephemeral(&alice, doc, count);
    net.input(HubInput::Receive {
        conn: 1,
        message: eph(1),
    });
    net.input(HubInput::Receive {
        conn: 1,
        message: eph(1),
    });
    net.input(HubInput::Receive {
        conn: 1,
        message: eph(2),
    });
    let relayed: Vec<u64> = net
        .take(2)
        .iter()
        .filter_map(|m| match m {
            Message::Ephemeral { count, .. } => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(relayed, [1, 2], "duplicates dropped");
    assert!(net.take(1).is_empty(), "not echoed to the sender");

    net.input(HubInput::Disconnect { conn: 1 });
    net.input(HubInput::Disconnect { conn: 2 });
    net.now = 59_000;
    net.input(HubInput::Tick);
    assert_eq!(net.hub.stats().docs_loaded, 1);
    net.now = 61_000;
    net.input(HubInput::Tick);
    assert_eq!(net.hub.stats().docs_loaded, 0);
    assert_eq!(net.hub.stats().evictions, 1);
    // It loads again from storage on the next request.
    let mut carol = Client::connect(&mut net, 3, sandbox("carol"));
    carol.sync(&mut net, doc);
    assert_eq!(carol.doc.get_heads(), alice.doc.get_heads());
}

#[test]
fn a_request_queued_before_a_push_of_a_new_document_does_not_lose_the_push() {
    // Both arrive while the document is being looked up in storage: the request first.
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut reader = Client::connect(&mut net, 1, sandbox("u1"));
    let mut writer = Client::connect(&mut net, 2, sandbox("u2"));
    writer.edit("title", 1);
    let request = {
        let msg = reader.doc.generate_sync_message(&mut reader.state).unwrap();
        Message::Request {
            sender_id: reader.peer.clone(),
            target_id: PeerId(SERVER.into()),
            document_id: doc,
            data: msg.encode(),
        }
    };
    let push = {
        let msg = writer.doc.generate_sync_message(&mut writer.state).unwrap();
        Message::Sync {
            sender_id: writer.peer.clone(),
            target_id: PeerId(SERVER.into()),
            document_id: doc,
            data: msg.encode(),
        }
    };
    // Hold the storage lookup: both messages wait for the same load.
    let fx = net.hub.handle(
        0,
        HubInput::Receive {
            conn: 1,
            message: request,
        },
    );
    assert_eq!(fx.load, [doc]);
    let fx = net.hub.handle(
        0,
        HubInput::Receive {
            conn: 2,
            message: push,
        },
    );
    assert!(
        fx.load.is_empty(),
        "the second message waits for the same load"
    );
    net.input(HubInput::Loaded {
        doc,
        result: Ok(None),
    });
    assert!(matches!(
        reader.receive(&mut net)[..],
        [Message::DocUnavailable { .. }]
    ));
    writer.receive(&mut net);
    writer.sync(&mut net, doc);
    assert!(net.store.contains_key(&doc), "the push was not lost");
    // The earlier requester gets the document when it arrives.
    reader.receive(&mut net);
    reader.sync(&mut net, doc);
    assert_eq!(reader.doc.get_heads(), writer.doc.get_heads());
}

#[test]
fn a_burst_of_commits_goes_out_in_one_round_and_a_single_edit_at_once() {
    let mut net = Net::new();
    net.hub = hub_with_window(10);
    let (doc, mut alice, mut bob) = alice_and_bob_share_a_document(&mut net);

    // A single edit long after the last round goes out at once.
    net.now = 1_000;
    alice.edit("a", 11);
    alice.send(&mut net, doc);
    assert_eq!(bob.answer(&mut net, doc), 1, "immediately to bob");
    alice.receive(&mut net);

    // Two more commits inside the window: nothing until the wake-up, then one round.
    net.now = 1_002;
    alice.edit("a", 2);
    alice.send(&mut net, doc);
    net.now = 1_004;
    alice.edit("a", 3);
    alice.send(&mut net, doc);
    assert!(
        net.outbox.iter().all(|(c, _)| *c != 2),
        "held back within the window"
    );
    let fx = net.hub.handle(1_004, HubInput::Tick);
    assert!(fx.send.is_empty(), "not due yet");
    net.now = 1_010;
    net.input(HubInput::Wake);
    let to_bob = net.take(2);
    assert_eq!(to_bob.len(), 1, "one message for both commits");
    // The server's share of the latency: the first change of the round waited 8 ms.
    let latency = net.hub.stats().fanout_latency;
    assert!(latency.count() >= 2);
    assert!(
        (latency.sum() - 0.008).abs() < 1e-9,
        "8 ms waited in all, at the hub's microsecond clock: {}",
        latency.sum()
    );
    for m in to_bob {
        net.outbox.push((2, m));
    }
    bob.receive(&mut net);
    alice.receive(&mut net);
    bob.sync(&mut net, doc);
    alice.sync(&mut net, doc);
    assert_eq!(bob.doc.get_heads(), alice.doc.get_heads());
}

#[test]
fn a_lasting_burst_widens_the_window_and_a_quiet_edit_goes_out_at_once() {
    let mut net = Net::new();
    net.hub = hub_with_window(10);
    let (doc, mut alice, mut bob) = alice_and_bob_share_a_document(&mut net);
    // Each commit uploads 16 changes, as a phone back from a workshop does.
    let commit = |net: &mut Net, alice: &mut Client, at: Millis, value: i64| {
        net.now = at;
        for key in 0..16 {
            alice.edit(&format!("k{key}"), value);
        }
        alice.send(net, doc);
        alice.receive(net);
    };
    let wake = |net: &mut Net, bob: &mut Client, at: Millis| {
        net.now = at;
        net.input(HubInput::Wake);
        bob.answer(net, doc)
    };
    commit(&mut net, &mut alice, 1_000, 1);
    assert_eq!(
        bob.answer(&mut net, doc),
        1,
        "a quiet edit goes out at once"
    );
    // Uploads keep coming: each busy round doubles the window (10 → 20 → 40).
    commit(&mut net, &mut alice, 1_005, 2);
    assert_eq!(
        wake(&mut net, &mut bob, 1_010),
        1,
        "owed round at the end of the first window"
    );
    commit(&mut net, &mut alice, 1_015, 3);
    assert_eq!(
        wake(&mut net, &mut bob, 1_020),
        0,
        "the window is 20 ms now"
    );
    assert_eq!(wake(&mut net, &mut bob, 1_030), 1);
    commit(&mut net, &mut alice, 1_035, 4);
    assert_eq!(
        wake(&mut net, &mut bob, 1_060),
        0,
        "the window is 40 ms now"
    );
    assert_eq!(wake(&mut net, &mut bob, 1_070), 1);
    // After a quiet spell a single edit goes out at once, and the window is narrow again.
    commit(&mut net, &mut alice, 2_000, 5);
    assert_eq!(bob.answer(&mut net, doc), 1);
    commit(&mut net, &mut alice, 2_004, 6);
    assert_eq!(wake(&mut net, &mut bob, 2_010), 1, "back to 10 ms");
}

#[test]
fn a_panic_on_one_document_closes_its_sessions_only() {
    let mut net = Net::new();
    let (bad, good) = (DocumentId::random(), DocumentId::random());
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("a", 1);
    alice.sync(&mut net, bad);
    let mut bob = Client::connect(&mut net, 2, sandbox("bob"));
    let mut bob_good = Automerge::new();
    let mut bob_state = State::new();
    bob_good
        .transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "b", 2).map(drop))
        .unwrap();
    std::mem::swap(&mut bob.doc, &mut bob_good);
    std::mem::swap(&mut bob.state, &mut bob_state);
    bob.sync(&mut net, good);
    net.hub.panic_on(bad);
    alice.edit("a", 2);
    let msg = alice.doc.generate_sync_message(&mut alice.state).unwrap();
    let message = Message::Sync {
        sender_id: alice.peer.clone(),
        target_id: PeerId(SERVER.into()),
        document_id: bad,
        data: msg.encode(),
    };
    let fx = net
        .hub
        .handle_contained(0, HubInput::Receive { conn: 1, message });
    assert!(
        fx.close
            .iter()
            .any(|c| c.conn == 1 && c.code == CloseCode::Internal),
        "{fx:?}"
    );
    assert!(
        fx.close.iter().all(|c| c.conn != 2),
        "bob's other document is untouched"
    );
    assert_eq!(net.hub.stats().refusals.get("panic"), Some(&1));
    bob.edit("b", 3);
    bob.sync(&mut net, good);
    assert!(bob.doc.has_our_changes(&bob.state), "the hub keeps serving");
}

#[test]
fn in_a_burst_a_peer_that_has_not_answered_waits_for_the_next_round() {
    let mut net = Net::new();
    net.hub = hub_with_window(10);
    let (doc, mut alice, mut bob) = alice_and_bob_share_a_document(&mut net);
    let mut carol = Client::connect(&mut net, 3, sandbox("carol"));
    carol.sync(&mut net, doc);
    let mut upload = |net: &mut Net, at: Millis, from: i64| {
        net.now = at;
        for i in from..from + 20 {
            alice.edit(&format!("k{i}"), i);
        }
        alice.send(net, doc);
        alice.answer(net, doc);
    };
    // 20 changes after a quiet spell go out at once; bob answers, carol is busy.
    upload(&mut net, 1_000, 0);
    assert_eq!(bob.answer(&mut net, doc), 1);
    let carol_first = net.take(3);
    assert_eq!(carol_first.len(), 1);
    // 20 more changes inside the window: a burst. Bob gets them; carol, who has not answered,
    // waits.
    upload(&mut net, 1_005, 20);
    net.now = 1_010;
    net.input(HubInput::Wake);
    assert_eq!(
        bob.answer(&mut net, doc),
        1,
        "bob answered: he gets the round"
    );
    assert!(net.take(3).is_empty(), "carol has not answered: she waits");
    // Carol answers: her next message comes with the next round, carrying everything.
    for m in carol_first {
        net.outbox.push((3, m));
    }
    carol.answer(&mut net, doc);
    assert!(net.take(3).is_empty(), "not at once during a burst");
    net.now = 1_030;
    net.input(HubInput::Wake);
    assert_eq!(carol.answer(&mut net, doc), 1);
    carol.sync(&mut net, doc);
    assert_eq!(carol.doc.get_heads(), alice.doc.get_heads());
}

#[test]
fn a_busy_peer_gets_what_arrived_meanwhile_in_one_message_when_it_answers() {
    let mut net = Net::new();
    let (doc, mut alice, mut bob) = alice_and_bob_share_a_document(&mut net);
    // Three single edits, far apart (no burst): bob, busy, answers none of them.
    for (i, at) in [(1, 1_000), (2, 1_100), (3, 1_200)] {
        net.now = at;
        alice.edit("k", i);
        alice.sync(&mut net, doc);
    }
    let to_bob = net.take(2);
    assert_eq!(to_bob.len(), 1, "one message until bob answers: {to_bob:?}");
    for m in to_bob {
        net.outbox.push((2, m));
    }
    // His answer is answered at once, with everything since.
    net.now = 1_300;
    bob.answer(&mut net, doc);
    assert_eq!(bob.answer(&mut net, doc), 1);
    assert_eq!(bob.doc.get_heads(), alice.doc.get_heads());
    // A peer that never answers still gets news once the wait has run out.
    net.now = 2_000;
    alice.edit("k", 4);
    alice.sync(&mut net, doc);
    alice.edit("k", 5);
    alice.sync(&mut net, doc);
    assert_eq!(net.take(2).len(), 1, "the second waits for bob");
    net.now = 2_000 + super::sync::ANSWER_WAIT_MS;
    net.input(HubInput::Wake);
    assert_eq!(net.take(2).len(), 1, "the wait ran out");
}

#[test]
fn a_submission_that_depends_on_missing_changes_is_refused_and_stores_nothing() {
    let mut net = Net::new();
    let doc = DocumentId::random();
    let mut alice = Client::connect(&mut net, 1, sandbox("alice"));
    alice.edit("greeting", 1);
    alice.sync(&mut net, doc);
    let stored = net.store[&doc].0.len();
    // Two changes on top; only the second is submitted (its parent never reaches the hub).
    let mut web = alice.doc.fork();
    web.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "a", 1).map(drop))
        .unwrap();
    web.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "b", 2).map(drop))
        .unwrap();
    let orphan = web.get_last_local_change().unwrap().raw_bytes().to_vec();
    let submit = |net: &mut Net, id: u64, bytes: Vec<u8>| {
        let fx = net.hub.handle(
            net.now,
            HubInput::Submit(Submission {
                id,
                doc,
                user: "alice".to_owned(),
                bytes,
                register: None,
            }),
        );
        (fx.submitted, fx.persist.len(), fx.load)
    };
    let (answers, persists, reload) = submit(&mut net, 7, orphan);
    assert_eq!(persists, 0, "nothing to store");
    assert!(
        matches!(&answers[..], [(7, Err(SubmitError::Invalid(_)))]),
        "{answers:?}"
    );
    assert_eq!(net.store[&doc].0.len(), stored);
    assert_eq!(reload, vec![doc], "the document is read again from storage");
    let result = Ok(net.stored(doc));
    net.input(HubInput::Loaded { doc, result });
    // Both changes together apply.
    let both = web.save_after(&alice.doc.get_heads());
    let (answers, persists, _) = submit(&mut net, 8, both);
    assert!(answers.is_empty(), "answered once committed: {answers:?}");
    assert_eq!(persists, 1);
}
