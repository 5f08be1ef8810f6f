//! The session against a server simulated with Automerge's own sync (the real server is in
//! the end-to-end tests of the tests crate).

use automerge::sync::{State, SyncDoc};
use automerge::{ActorId, Automerge};

use super::*;
use crate::model::assessment::AssessmentDoc;
use crate::store::Durability;
use crate::test_support::{ctx, new_assessment};

/// One document on a simulated server.
struct Server {
    peer: PeerId,
    storage: StorageId,
    doc: Automerge,
    state: State,
}

impl Server {
    fn new(storage: &str, read_only: bool) -> Self {
        Server {
            peer: PeerId("server".into()),
            storage: StorageId(storage.into()),
            doc: Automerge::new().with_actor(ActorId::from(vec![9; 16])),
            state: if read_only {
                State::new_read_only()
            } else {
                State::new()
            },
        }
    }

    fn peer_message(&self) -> Message {
        Message::Peer {
            sender_id: self.peer.clone(),
            target_id: PeerId("device".into()),
            selected_protocol_version: "1".into(),
            peer_metadata: Some(PeerMetadata {
                storage_id: Some(self.storage.clone()),
                is_ephemeral: false,
            }),
        }
    }

    /// Answers one client message; `None` when it has nothing to say.
    fn answer(&mut self, message: &Message) -> Option<Message> {
        let (doc, data) = match message {
            Message::Sync {
                document_id, data, ..
            }
            | Message::Request {
                document_id, data, ..
            } => (*document_id, data),
            other => panic!("unexpected {other:?}"),
        };
        let msg = automerge::sync::Message::decode(data).unwrap();
        self.doc.receive_sync_message(&mut self.state, msg).unwrap();
        self.doc
            .generate_sync_message(&mut self.state)
            .map(|m| Message::Sync {
                sender_id: self.peer.clone(),
                target_id: PeerId("device".into()),
                document_id: doc,
                data: m.encode(),
            })
    }
}

/// Exchanges messages between the session and the server until both are quiet; returns the
/// session's events.
fn converse(
    session: &mut SyncSession,
    replica: &mut Replica,
    server: &mut Server,
    first: Option<Message>,
) -> Vec<SessionEvent> {
    let mut events = Vec::new();
    let mut outbox: Vec<Message> = first.into_iter().collect();
    for _ in 0..20 {
        let Some(out) = outbox.pop() else { break };
        let Some(reply) = server.answer(&out) else {
            continue;
        };
        let (more, evs) = session.receive(replica, reply, 1_000).unwrap();
        outbox.extend(more);
        events.extend(evs);
    }
    events
}

fn connected(replica: &mut Replica, server: &Server) -> (SyncSession, Vec<SessionEvent>) {
    let mut session = SyncSession::new(PeerId("device".into()));
    assert!(matches!(session.join(), Message::Join { .. }));
    let (out, events) = session.receive(replica, server.peer_message(), 0).unwrap();
    assert!(out.is_empty());
    (session, events)
}

#[test]
fn offline_work_is_uploaded_and_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut replica = Replica::open(dir.path().join("db"), Durability::Normal).unwrap();
    let doc = new_assessment(&mut replica);
    replica
        .edit(&doc, |a: &mut AssessmentDoc| a.set_level(&ctx(), "C2", 3))
        .unwrap();
    assert_eq!(replica.unacknowledged(&doc).unwrap(), 2);

    let mut server = Server::new("storage-1", false);
    let (mut session, events) = connected(&mut replica, &server);
    assert_eq!(
        events,
        vec![SessionEvent::Connected {
            storage: StorageId("storage-1".into()),
            restored: false
        }]
    );
    let first = session.open(&mut replica, doc).unwrap();
    assert!(matches!(first, Some(Message::Sync { .. })), "{first:?}");
    let events = converse(&mut session, &mut replica, &mut server, first);
    assert!(events.contains(&SessionEvent::Acknowledged(doc)));
    assert_eq!(
        server.doc.get_heads(),
        replica.automerge(&doc).unwrap().get_heads()
    );
    assert_eq!(replica.unacknowledged(&doc).unwrap(), 0);

    // A restored server (new storage id): the acknowledgement is forgotten, the next session
    // uploads again.
    let mut restored = Server::new("storage-2", false);
    let (mut session, events) = connected(&mut replica, &restored);
    assert!(matches!(
        events[..],
        [SessionEvent::Connected { restored: true, .. }]
    ));
    assert_eq!(replica.unacknowledged(&doc).unwrap(), 2);
    let first = session.open(&mut replica, doc).unwrap();
    converse(&mut session, &mut replica, &mut restored, first);
    assert_eq!(
        restored.doc.get_heads(),
        replica.automerge(&doc).unwrap().get_heads()
    );
    assert_eq!(replica.unacknowledged(&doc).unwrap(), 0);
}

#[test]
fn a_document_from_the_server_is_requested_stored_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut coach = Replica::open(dir.path().join("coach"), Durability::Normal).unwrap();
    let doc = new_assessment(&mut coach);
    let mut server = Server::new("storage-1", false);
    server
        .doc
        .load_incremental(&coach.automerge(&doc).unwrap().save())
        .unwrap();

    let path = dir.path().join("owner");
    let mut owner = Replica::open(&path, Durability::Normal).unwrap();
    let (mut session, _) = connected(&mut owner, &server);
    let first = session.open(&mut owner, doc).unwrap();
    assert!(matches!(first, Some(Message::Request { .. })), "{first:?}");
    let events = converse(&mut session, &mut owner, &mut server, first);
    assert!(
        events.contains(&SessionEvent::DocChanged(doc)),
        "{events:?}"
    );
    assert_eq!(owner.unacknowledged(&doc).unwrap(), 0);
    drop(owner);
    // Committed: it is there after a restart, with the sync state to resume from.
    let mut owner = Replica::open(&path, Durability::Normal).unwrap();
    assert_eq!(
        owner.automerge(&doc).unwrap().get_heads(),
        server.doc.get_heads()
    );
    assert!(
        owner
            .store()
            .sync_state(&doc, "storage-1")
            .unwrap()
            .is_some()
    );

    // Unavailable: flagged as refused.
    let missing = DocumentId::random();
    let (_, events) = session
        .receive(
            &mut owner,
            Message::DocUnavailable {
                sender_id: server.peer.clone(),
                target_id: PeerId("device".into()),
                document_id: missing,
            },
            0,
        )
        .unwrap();
    assert_eq!(events, vec![SessionEvent::Unavailable(missing)]);
    assert!(owner.store().status(&missing).unwrap().refused);
}

#[test]
fn a_read_only_document_keeps_local_changes_on_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut coach = Replica::open(dir.path().join("coach"), Durability::Normal).unwrap();
    let doc = new_assessment(&mut coach);
    let mut server = Server::new("storage-1", true);
    server
        .doc
        .load_incremental(&coach.automerge(&doc).unwrap().save())
        .unwrap();

    let mut staff = Replica::open(dir.path().join("staff"), Durability::Normal).unwrap();
    let (mut session, _) = connected(&mut staff, &server);
    let first = session.open(&mut staff, doc).unwrap();
    let events = converse(&mut session, &mut staff, &mut server, first);
    assert!(events.contains(&SessionEvent::ReadOnly(doc)), "{events:?}");
    assert!(staff.store().status(&doc).unwrap().read_only);

    staff
        .edit(&doc, |a: &mut AssessmentDoc| a.set_level(&ctx(), "C2", 1))
        .unwrap();
    let nudge = session.open(&mut staff, doc).unwrap();
    converse(&mut session, &mut staff, &mut server, nudge);
    assert_eq!(
        staff.unacknowledged(&doc).unwrap(),
        1,
        "stays on this device"
    );
    assert_ne!(
        server.doc.get_heads(),
        staff.automerge(&doc).unwrap().get_heads()
    );
}

#[test]
fn protocol_violations_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut replica = Replica::open(dir.path().join("db"), Durability::Normal).unwrap();
    let server = Server::new("storage-1", false);
    let mut session = SyncSession::new(PeerId("device".into()));
    let sync = Message::Sync {
        sender_id: server.peer.clone(),
        target_id: PeerId("device".into()),
        document_id: DocumentId::random(),
        data: vec![0x42, 1, 2],
    };
    assert!(matches!(
        session.receive(&mut replica, sync.clone(), 0),
        Err(SessionError::Protocol(_))
    ));
    session
        .receive(&mut replica, server.peer_message(), 0)
        .unwrap();
    assert!(matches!(
        session.receive(&mut replica, sync, 0),
        Err(SessionError::Protocol(m)) if m.contains("invalid sync message")
    ));
}

#[test]
fn only_heads_the_server_sent_count_as_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut replica = Replica::open(dir.path().join("db"), Durability::Normal).unwrap();
    let doc = new_assessment(&mut replica);
    let mut server = Server::new("storage-1", false);
    let (mut session, _) = connected(&mut replica, &server);
    // The first exchange: the server answers before it has our changes.
    let first = session.open(&mut replica, doc).unwrap().unwrap();
    let reply = server.answer(&first).unwrap();
    let (upload, _) = session.receive(&mut replica, reply, 1).unwrap();
    assert_eq!(
        replica.unacknowledged(&doc).unwrap(),
        1,
        "the server's heads do not include our change yet"
    );
    // Our upload reaches it; its answer carries heads that do.
    let ack = server.answer(&upload[0]).unwrap();
    session.receive(&mut replica, ack, 2).unwrap();
    assert_eq!(replica.unacknowledged(&doc).unwrap(), 0);
}
