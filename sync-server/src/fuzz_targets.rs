//! The entry points of the coverage-guided fuzz targets (`fuzz/`, cargo-fuzz with libFuzzer),
//! here so that `cargo test` replays the saved corpus and every regression input through the
//! same code (`tests/fuzz_corpus.rs`). Each takes arbitrary bytes; none may panic, hang or
//! allocate without bound, and the session target checks what the hub sends whom.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Limits, Message, PeerId, StorageId};

use crate::access::{DirectoryPolicy, Principal, roles};
use crate::hub::{ConnId, Hub, HubConfig, HubInput};
use crate::storage::{Directory, DocRecord};
use crate::sync_limits::{self, SyncLimits};

/// The frame decoder and message validation: CBOR checks, decoding, and for sync messages the
/// bounded pre-parser (no Automerge).
pub fn frame(data: &[u8]) {
    let limits = Limits::default();
    let Ok(message) = Message::decode(data, &limits) else {
        return;
    };
    if let Message::Sync { data, .. } | Message::Request { data, .. } = &message
        && let Ok(sync) = automerge::sync::Message::decode(data)
    {
        let _ = sync_limits::check(&sync, &SyncLimits::default());
    }
    // What decodes encodes again and decodes to the same message.
    let again = Message::decode(&message.encode(), &limits);
    assert_eq!(again.as_ref().ok(), Some(&message), "round trip");
}

/// A document with a little content, as the hub holds one.
fn seeded() -> Automerge {
    let mut doc = Automerge::new().with_actor(ActorId::from([7u8; 16]));
    let _ = doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "title", "Werkstatt")?;
        let list = tx.put_object(ROOT, "items", automerge::ObjType::List)?;
        tx.insert(&list, 0, 1_i64)?;
        Ok(())
    });
    doc
}

/// A sync message through the bounded pre-parser, then Automerge's receive on an empty and on
/// a seeded document (as the hub does after the pre-parser passed it).
pub fn sync_msg(data: &[u8]) {
    let Ok(message) = automerge::sync::Message::decode(data) else {
        return;
    };
    if sync_limits::check(&message, &SyncLimits::default()).is_err() {
        return;
    }
    for mut doc in [Automerge::new(), seeded()] {
        let mut state = State::new();
        if doc
            .receive_sync_message(&mut state, message.clone())
            .is_ok()
        {
            let _ = doc.generate_sync_message(&mut state);
        }
    }
}

/// The stored-document loader: what the hub and the web app do with stored bytes.
pub fn doc_load(data: &[u8]) {
    if let Ok(doc) = crate::storage::load_automerge(data) {
        let _ = crate::access::DocInfo::read(&doc);
    }
    let _ = crate::web::cache::Hydrated::from_bytes(data);
}

/// The users of the session target: two sandbox users, and `eve`, who may read nothing.
const USERS: [&str; 3] = ["alice", "bob", "eve"];
/// The documents the session target names.
const DOCS: u8 = 3;

fn policy() -> Arc<DirectoryPolicy> {
    let mut dir = Directory::default();
    for user in USERS {
        if user != "eve" {
            dir.roles.insert(
                user.to_owned(),
                vec![(roles::SANDBOX.to_owned(), String::new())],
            );
        }
        dir.active_tokens.insert(format!("token-{user}"));
    }
    Arc::new(DirectoryPolicy::new(dir))
}

/// One simulated connection: its user, and its replica and sync state per document.
struct Peer {
    user: usize,
    docs: HashMap<DocumentId, (Automerge, State)>,
}

/// The hub in memory, driven by the bytes as a sequence of protocol actions of three users
/// (connect and join, sync with real or raw messages, answer what the hub sent, ephemera,
/// leave, disconnect, time passing). Checks: nothing that carries a document's content ever
/// reaches `eve`'s connections, and a peer's message closes that peer's connection only.
pub fn session(data: &[u8]) {
    let config = HubConfig::new(PeerId("server".into()), StorageId("s".into()));
    let mut hub = Hub::new(config, policy());
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let docs: Vec<DocumentId> = (0..DOCS).map(|i| DocumentId::from_bytes([i; 16])).collect();
    let mut peers: HashMap<ConnId, Peer> = HashMap::new();
    let mut store: HashMap<DocumentId, (Vec<u8>, DocRecord)> = HashMap::new();
    let mut outbox: Vec<(ConnId, Message)> = Vec::new();
    let mut now = 0;
    while let Some(op) = next() {
        let conn = ConnId::from(next().unwrap_or(0) % 6);
        let doc = docs[usize::from(next().unwrap_or(0) % DOCS)];
        let input = match op % 8 {
            0 if !peers.contains_key(&conn) => {
                let user = usize::from(next().unwrap_or(0) % 3);
                peers.insert(
                    conn,
                    Peer {
                        user,
                        docs: HashMap::new(),
                    },
                );
                let principal = Principal {
                    user_id: USERS[user].to_owned(),
                    token_hash: format!("token-{}", USERS[user]),
                };
                drive(
                    &mut hub,
                    now,
                    HubInput::Connect { conn, principal },
                    &mut store,
                    &mut outbox,
                    &peers,
                    None,
                );
                HubInput::Receive {
                    conn,
                    message: Message::Join {
                        sender_id: PeerId(format!("peer-{conn}")),
                        supported_protocol_versions: Some(vec!["1".into()]),
                        peer_metadata: None,
                    },
                }
            }
            1 => {
                let Some(peer) = peers.get_mut(&conn) else {
                    continue;
                };
                let edit = next().unwrap_or(0);
                let (am, state) = peer.docs.entry(doc).or_insert_with(|| {
                    (
                        Automerge::new().with_actor(ActorId::from([conn as u8 + 1; 16])),
                        State::new(),
                    )
                });
                if edit % 2 == 1 {
                    let _ = am.transact::<_, _, automerge::AutomergeError>(|tx| {
                        tx.put(ROOT, format!("k{}", edit % 5), i64::from(edit))?;
                        Ok(())
                    });
                }
                let Some(message) = am.generate_sync_message(state) else {
                    continue;
                };
                let fields = (PeerId(format!("peer-{conn}")), PeerId("server".into()));
                HubInput::Receive {
                    conn,
                    message: if am.get_heads().is_empty() {
                        Message::Request {
                            sender_id: fields.0,
                            target_id: fields.1,
                            document_id: doc,
                            data: message.encode(),
                        }
                    } else {
                        Message::Sync {
                            sender_id: fields.0,
                            target_id: fields.1,
                            document_id: doc,
                            data: message.encode(),
                        }
                    },
                }
            }
            2 => {
                let len = usize::from(next().unwrap_or(0) % 64) + 1;
                let raw: Vec<u8> = (0..len).map(|_| next().unwrap_or(0)).collect();
                HubInput::Receive {
                    conn,
                    message: Message::Sync {
                        sender_id: PeerId(format!("peer-{conn}")),
                        target_id: PeerId("server".into()),
                        document_id: doc,
                        data: raw,
                    },
                }
            }
            3 => HubInput::Receive {
                conn,
                message: Message::Ephemeral {
                    sender_id: PeerId(format!("peer-{conn}")),
                    target_id: PeerId("server".into()),
                    document_id: doc,
                    session_id: format!("s{}", next().unwrap_or(0) % 4),
                    count: u64::from(next().unwrap_or(0)),
                    data: vec![0xa0],
                },
            },
            4 => {
                peers.remove(&conn);
                HubInput::Disconnect { conn }
            }
            5 => {
                now += u64::from(next().unwrap_or(0)) * 100;
                HubInput::Tick
            }
            6 => {
                // The peer reads what the hub sent it and applies its sync messages.
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut outbox)
                    .into_iter()
                    .partition(|(c, _)| *c == conn);
                outbox = rest;
                if let Some(peer) = peers.get_mut(&conn) {
                    for (_, m) in mine {
                        if let Message::Sync {
                            document_id, data, ..
                        } = m
                            && let Ok(msg) = automerge::sync::Message::decode(&data)
                        {
                            let (am, state) = peer
                                .docs
                                .entry(document_id)
                                .or_insert_with(|| (Automerge::new(), State::new()));
                            let _ = am.receive_sync_message(state, msg);
                        }
                    }
                }
                continue;
            }
            _ => HubInput::Receive {
                conn,
                message: Message::Leave {
                    sender_id: PeerId(format!("peer-{conn}")),
                },
            },
        };
        let sender = match &input {
            HubInput::Receive { conn, .. } => Some(*conn),
            _ => None,
        };
        let closed = drive(
            &mut hub,
            now,
            input,
            &mut store,
            &mut outbox,
            &peers,
            sender,
        );
        for c in closed {
            peers.remove(&c);
        }
    }
}

/// Hands the hub one input and performs its effects (persists commit at once, loads read the
/// in-memory store) until it is quiet; returns the connections it closed. Panics when content
/// reaches `eve` or a close hits a connection other than `sender`'s.
fn drive(
    hub: &mut Hub,
    now: u64,
    input: HubInput,
    store: &mut HashMap<DocumentId, (Vec<u8>, DocRecord)>,
    outbox: &mut Vec<(ConnId, Message)>,
    peers: &HashMap<ConnId, Peer>,
    sender: Option<ConnId>,
) -> Vec<ConnId> {
    let mut closed = Vec::new();
    let mut queue = vec![input];
    while let Some(input) = queue.pop() {
        let fx = hub.handle(now, input);
        for p in fx.persist {
            let Ok(doc) = p.append.doc_id.parse::<DocumentId>() else {
                unreachable!("the hub persists documents by their own ids");
            };
            if let Some(record) = p.append.register.clone() {
                store.entry(doc).or_insert_with(|| (Vec::new(), record));
            }
            if let Some(entry) = store.get_mut(&doc) {
                entry.0.extend_from_slice(&p.append.bytes);
            }
            queue.push(HubInput::Persisted {
                id: p.id,
                result: Ok(()),
            });
        }
        for doc in fx.load {
            queue.push(HubInput::Loaded {
                doc,
                result: Ok(store
                    .get(&doc)
                    .map(|(bytes, record)| crate::durable::StoredDoc {
                        bytes: bytes.clone(),
                        record: record.clone(),
                    })),
            });
        }
        for (conn, message) in fx.send {
            let user = peers.get(&conn).map(|p| USERS[p.user]);
            assert!(
                user != Some("eve") || !carries_content(&message),
                "content reached a user without access: {message:?}"
            );
            outbox.push((conn, message));
        }
        for close in fx.close {
            assert_eq!(
                Some(close.conn),
                sender,
                "a connection other than the sender's was closed: {close:?}"
            );
            closed.push(close.conn);
        }
    }
    closed
}

/// Whether `m` tells anything of a document's content: a sync message with heads or changes,
/// or a relayed ephemeral message.
fn carries_content(m: &Message) -> bool {
    match m {
        Message::Sync { data, .. } | Message::Request { data, .. } => {
            automerge::sync::Message::decode(data).is_ok_and(|msg| {
                let mut carried = Automerge::new();
                for chunk in msg.changes.iter() {
                    let _ = carried.load_incremental(chunk);
                }
                !msg.heads.is_empty() || !carried.get_heads().is_empty()
            })
        }
        Message::Ephemeral { .. } => true,
        _ => false,
    }
}

/// Starting inputs per target (`frame`, `sync_msg`, `doc_load`, `session`): valid messages and
/// documents the fuzzer mutates from, written into the corpus by `scripts/fuzz`.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let doc = seeded();
    let sync = doc
        .generate_sync_message(&mut State::new())
        .map(|m| m.encode())
        .unwrap_or_default();
    let mut full = Automerge::new();
    let mut state = State::new();
    let mut sender = doc.clone();
    let mut sender_state = State::new();
    let mut with_changes = Vec::new();
    for _ in 0..4 {
        if let Some(m) = sender.generate_sync_message(&mut sender_state) {
            with_changes.push(m.clone().encode());
            let _ = full.receive_sync_message(&mut state, m);
        }
        if let Some(m) = full.generate_sync_message(&mut state) {
            let _ = sender.receive_sync_message(&mut sender_state, m);
        }
    }
    let peer = |s: &str| PeerId(s.to_owned());
    let id = DocumentId::from_bytes([1; 16]);
    let messages = [
        Message::Join {
            sender_id: peer("a"),
            supported_protocol_versions: Some(vec!["1".into()]),
            peer_metadata: None,
        },
        Message::Sync {
            sender_id: peer("a"),
            target_id: peer("s"),
            document_id: id,
            data: sync.clone(),
        },
        Message::Request {
            sender_id: peer("a"),
            target_id: peer("s"),
            document_id: id,
            data: sync.clone(),
        },
        Message::Ephemeral {
            sender_id: peer("a"),
            target_id: peer("s"),
            document_id: id,
            session_id: "x".into(),
            count: 3,
            data: vec![0xa0],
        },
        Message::DocUnavailable {
            sender_id: peer("s"),
            target_id: peer("a"),
            document_id: id,
        },
        Message::Leave {
            sender_id: peer("a"),
        },
    ];
    match target {
        "frame" => messages.iter().map(Message::encode).collect(),
        "sync_msg" => std::iter::once(sync).chain(with_changes).collect(),
        "doc_load" => {
            let workshop = nachbar_core::model::workshop::WorkshopDoc::create(
                ActorId::from([3u8; 16]),
                &nachbar_core::doc::EditContext::new("p", nachbar_core::time::Timestamp(0)),
                "n",
                &nachbar_core::model::workshop::NewWorkshop {
                    title: "Werkstatt".into(),
                    kind: nachbar_core::model::workshop::WorkshopKind::TopicWorkshop,
                    date: "2030-01-01".into(),
                    start: "09:00".into(),
                    end: "10:00".into(),
                    place: "Halle 2".into(),
                    host: None,
                    goal: String::new(),
                },
            )
            .map(|(w, _)| nachbar_core::model::TypedDoc::into_inner(w).save())
            .unwrap_or_default();
            vec![doc.save(), workshop]
        }
        _ => vec![
            // alice joins and pushes, bob joins and reads, eve joins and asks.
            vec![
                0, 0, 0, 0, 1, 0, 0, 1, 6, 0, 0, 0, 1, 1, 6, 1, 0, 0, 2, 0, 2, 2, 0, 0, 0, 6, 2,
            ],
            vec![0, 3, 1, 1, 1, 3, 1, 3, 3, 3, 1, 0, 9, 5, 0, 0, 40, 4, 3, 1],
        ],
    }
}
