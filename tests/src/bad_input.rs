//! Every row of bad input gets an `error` message and a close code for that connection
//! alone; a sentinel client on the same server keeps syncing throughout.

use std::time::Duration;

use automerge::sync::State;
use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId, StorageId};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::client::{self, Client, Received};
use crate::support::server::TestServer;

/// How a row's connection starts.
#[derive(Clone, Copy)]
enum Start {
    /// Upgraded, no join sent.
    Raw,
    /// Joined as `peer-bad`.
    Joined,
}

struct Row {
    name: &'static str,
    start: Start,
    frames: Vec<WsMessage>,
    code: u16,
}

/// The message rate the test server allows (bursts of twice as many).
const MESSAGES_PER_SECOND: &str = "500";

/// Sync messages carrying `count` changes each, none of which can apply: the first change of
/// the history they build on is never sent.
fn changes_missing_their_dependencies(count: usize, messages: usize) -> Vec<Vec<u8>> {
    let mut doc = Automerge::new();
    for i in 0..=count * messages {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "k", i as i64).map(drop))
            .unwrap();
    }
    let changes: Vec<Vec<u8>> = doc
        .get_changes(&[])
        .iter()
        .skip(1)
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    changes
        .chunks(count)
        .map(|chunk| {
            let mut msg = automerge::sync::SyncDoc::generate_sync_message(
                &Automerge::new(),
                &mut State::new(),
            )
            .expect("a first message");
            msg.changes = automerge::sync::ChunkList::from(chunk.to_vec());
            msg.heads = doc.get_heads();
            msg.encode()
        })
        .collect()
}

/// Beyond the transport's hard cap (twice the message limit) the server stops reading at the
/// cap; its close frame can be lost when the peer is still writing (TCP reset), so that row
/// accepts the end of the connection as well.
const BEYOND_CAP: &str = "message beyond the transport cap";

fn msg(m: &Message) -> WsMessage {
    WsMessage::Binary(m.encode().into())
}

/// A deflate "bomb": a compressed change chunk of ~8 KiB that inflates to 16 MiB.
fn bomb() -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..16 {
        enc.write_all(&zeros).unwrap();
    }
    let data = enc.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut len = data.len() as u64;
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            chunk.push(b);
            break;
        }
        chunk.push(b | 0x80);
    }
    chunk.extend(data);
    chunk
}

/// A sync message carrying `changes` and `heads`.
fn sync_message(changes: Vec<u8>, heads: usize) -> Vec<u8> {
    let doc = automerge::Automerge::new();
    let mut msg =
        automerge::sync::SyncDoc::generate_sync_message(&doc, &mut automerge::sync::State::new())
            .expect("a first message");
    msg.changes = automerge::sync::ChunkList::from(changes);
    msg.heads = (0..heads as u32)
        .map(|i| {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&i.to_be_bytes());
            automerge::ChangeHash(h)
        })
        .collect();
    msg.encode()
}

fn rows(server: &PeerId) -> Vec<Row> {
    let me = PeerId("peer-bad".to_owned());
    let doc = DocumentId::random();
    let join = Message::Join {
        sender_id: me.clone(),
        supported_protocol_versions: Some(vec!["1".into()]),
        peer_metadata: None,
    };
    let sync = |data: Vec<u8>| Message::Sync {
        sender_id: me.clone(),
        target_id: server.clone(),
        document_id: doc,
        data,
    };
    let ephemeral = |count: u64, data: Vec<u8>| Message::Ephemeral {
        sender_id: me.clone(),
        target_id: server.clone(),
        document_id: doc,
        session_id: "session".to_owned(),
        count,
        data,
    };
    let mut bad_doc_id = Message::DocUnavailable {
        sender_id: me.clone(),
        target_id: server.clone(),
        document_id: doc,
    }
    .encode();
    // Corrupt the checksum of the bs58check document id in place.
    let text = doc.to_string();
    let at = bad_doc_id
        .windows(text.len())
        .position(|w| w == text.as_bytes())
        .expect("id in frame")
        + text.len()
        - 1;
    bad_doc_id[at] = if bad_doc_id[at] == b'2' { b'3' } else { b'2' };
    let mut deep = vec![0x81u8; 100];
    deep.push(0);
    vec![
        Row {
            name: "text frame",
            start: Start::Joined,
            frames: vec![WsMessage::Text("hello".into())],
            code: 1003,
        },
        Row {
            name: "truncated cbor",
            start: Start::Joined,
            frames: vec![WsMessage::Binary(vec![0xa2, 0x64, b't'].into())],
            code: 1007,
        },
        Row {
            name: "deep nesting",
            start: Start::Joined,
            frames: vec![WsMessage::Binary(deep.into())],
            code: 1007,
        },
        Row {
            name: "array of 2^62 in 9 bytes",
            start: Start::Joined,
            frames: vec![WsMessage::Binary(
                vec![0x9b, 0x40, 0, 0, 0, 0, 0, 0, 0].into(),
            )],
            code: 1007,
        },
        Row {
            name: "not a map",
            start: Start::Joined,
            frames: vec![WsMessage::Binary(vec![0x83, 1, 2, 3].into())],
            code: 1007,
        },
        Row {
            name: "message before join",
            start: Start::Raw,
            frames: vec![msg(&sync(vec![0x42]))],
            code: 1002,
        },
        Row {
            name: "second join",
            start: Start::Joined,
            frames: vec![msg(&join)],
            code: 1002,
        },
        Row {
            name: "wrong version",
            start: Start::Raw,
            frames: vec![msg(&Message::Join {
                sender_id: me.clone(),
                supported_protocol_versions: Some(vec!["2".into()]),
                peer_metadata: None,
            })],
            code: 1002,
        },
        Row {
            name: "senderId mismatch",
            start: Start::Joined,
            frames: vec![msg(&Message::Sync {
                sender_id: PeerId("mallory".into()),
                target_id: server.clone(),
                document_id: doc,
                data: vec![0x42],
            })],
            code: 1008,
        },
        Row {
            name: "targetId not the server",
            start: Start::Joined,
            frames: vec![msg(&Message::Sync {
                sender_id: me.clone(),
                target_id: PeerId("elsewhere".into()),
                document_id: doc,
                data: vec![0x42],
            })],
            code: 1008,
        },
        Row {
            name: "bad document id",
            start: Start::Joined,
            frames: vec![WsMessage::Binary(bad_doc_id.into())],
            code: 1007,
        },
        Row {
            name: "data that is not a sync message",
            start: Start::Joined,
            frames: vec![msg(&sync(vec![0x42, 0xff, 0xff]))],
            code: 1007,
        },
        Row {
            name: "decompression bomb in changes",
            start: Start::Joined,
            frames: vec![msg(&sync(sync_message(bomb(), 0)))],
            code: 1009,
        },
        Row {
            name: "excessive heads",
            start: Start::Joined,
            frames: vec![msg(&sync(sync_message(Vec::new(), 2000)))],
            code: 1009,
        },
        Row {
            name: "oversized message",
            start: Start::Joined,
            frames: vec![msg(&sync(vec![0x42; 3 * 1024 * 1024 / 2]))],
            code: 1009,
        },
        Row {
            name: "10,000 small valid messages at once",
            start: Start::Joined,
            frames: (0..10_000)
                .map(|_| {
                    msg(&Message::RemoteSubscriptionChange {
                        sender_id: me.clone(),
                        target_id: server.clone(),
                        add: Vec::new(),
                        remove: Vec::new(),
                    })
                })
                .collect(),
            code: 1008,
        },
        Row {
            name: "ephemeral flood",
            start: Start::Joined,
            frames: (1..=300)
                .map(|count| msg(&ephemeral(count, vec![0xa0])))
                .collect(),
            code: 1008,
        },
        Row {
            name: "oversized ephemeral payload",
            start: Start::Joined,
            frames: vec![msg(&ephemeral(1, vec![0x40; 200 * 1024]))],
            code: 1009,
        },
        Row {
            name: "remote-subscription-change with 10,000 storage ids",
            start: Start::Joined,
            frames: vec![msg(&Message::RemoteSubscriptionChange {
                sender_id: me.clone(),
                target_id: server.clone(),
                add: (0..10_000)
                    .map(|i| StorageId(format!("storage-{i}")))
                    .collect(),
                remove: Vec::new(),
            })],
            code: 1008,
        },
        Row {
            name: "12,000 changes whose dependencies are missing",
            start: Start::Joined,
            frames: changes_missing_their_dependencies(6_000, 2)
                .into_iter()
                .map(|data| msg(&sync(data)))
                .collect(),
            code: 1008,
        },
        Row {
            name: BEYOND_CAP,
            start: Start::Joined,
            frames: vec![msg(&sync(vec![0x42; 3 * 1024 * 1024]))],
            code: 1009,
        },
    ]
}

#[tokio::test]
async fn every_bad_input_closes_only_its_own_connection() {
    let server = TestServer::start_with(&[
        "--max-message-bytes",
        "1048576",
        "--handshake-timeout-secs",
        "2",
        "--max-decompressed-bytes",
        "4194304",
        "--max-messages-per-second",
        MESSAGES_PER_SECOND,
    ])
    .await;
    let token = server.user_token("Tester", "sandbox");
    // The sentinel keeps a document in sync between rows.
    let id = DocumentId::random();
    let mut sentinel = Client::join(&server.url(), &token, "peer-sentinel").await;
    let mut s_doc = Automerge::new();
    let mut s_state = State::new();
    let server_id = sentinel.server.clone();

    for (i, row) in rows(&server_id).into_iter().enumerate() {
        let mut bad = match row.start {
            Start::Joined => Client::join(&server.url(), &token, "peer-bad").await,
            Start::Raw => Client::raw(
                client::open(&server.url(), Some(&token))
                    .await
                    .expect("upgrade"),
            ),
        };
        for frame in row.frames {
            bad.send_frame(frame).await;
        }
        let mut saw_error = false;
        let closed = loop {
            match bad.recv(crate::support::TIMEOUT).await {
                Some(Received::Message(Message::Error { .. })) => saw_error = true,
                Some(Received::Message(_)) => continue,
                Some(Received::Closed(1006, _)) if row.name == BEYOND_CAP => break None,
                Some(Received::Closed(code, reason)) => break Some((code, reason)),
                None => panic!("{}: no close frame", row.name),
            }
        };
        if let Some((code, reason)) = closed {
            assert!(
                saw_error,
                "{}: an error message precedes the close",
                row.name
            );
            assert_eq!(code, row.code, "{}: close code ({reason})", row.name);
        }

        s_doc
            .transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, "row", i as i64).map(drop)
            })
            .unwrap();
        sentinel.sync(id, &mut s_doc, &mut s_state).await;
        assert!(
            s_doc.has_our_changes(&s_state),
            "{}: the sentinel keeps syncing",
            row.name
        );
    }

    // No join within the handshake timeout.
    let mut silent = Client::raw(
        client::open(&server.url(), Some(&token))
            .await
            .expect("upgrade"),
    );
    match silent.recv(Duration::from_secs(10)).await {
        Some(Received::Message(Message::Error { message, .. })) => {
            assert!(message.contains("handshake"))
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert!(matches!(
        silent.recv(Duration::from_secs(10)).await,
        Some(Received::Closed(1008, _))
    ));
}

/// A subscriber that never reads a busy document is closed once more than the outbound limit
/// waits for it longer than the grace period (reliability.md F4 18); the writer and the
/// server carry on.
#[tokio::test]
async fn a_subscriber_that_never_reads_is_closed_at_the_outbound_limit() {
    let server = TestServer::start_with(&[
        "--max-outbound-bytes",
        "262144",
        "--outbound-grace-secs",
        "2",
    ])
    .await;
    let token = server.user_token("Tester", "sandbox");
    let id = DocumentId::random();
    let mut writer = Client::join(&server.url(), &token, "peer-writer").await;
    let (mut w_doc, mut w_state) = (Automerge::new(), State::new());
    w_doc
        .transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "start", 1).map(drop))
        .unwrap();
    writer.sync(id, &mut w_doc, &mut w_state).await;

    let mut sleeper = Client::join(&server.url(), &token, "peer-sleeper").await;
    let (mut s_doc, mut s_state) = (Automerge::new(), State::new());
    sleeper.sync(id, &mut s_doc, &mut s_state).await;
    assert_eq!(s_doc.get_heads(), w_doc.get_heads(), "subscribed");

    // ~24 MiB of incompressible text, more than the socket buffers of both ends hold; the
    // sleeper reads nothing meanwhile.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..48 {
        let text = crate::support::noise(&mut seed, 512 * 1024);
        w_doc
            .transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, format!("blob-{round}"), text).map(drop)
            })
            .unwrap();
        let deadline = tokio::time::Instant::now() + crate::support::TIMEOUT;
        while !w_doc.has_our_changes(&w_state) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: the writer keeps syncing"
            );
            writer.sync(id, &mut w_doc, &mut w_state).await;
        }
    }

    // Now the sleeper reads: whatever was buffered, then the end of its connection.
    let deadline = tokio::time::Instant::now() + crate::support::TIMEOUT;
    let closed = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sleeper was never closed"
        );
        match sleeper.recv(crate::support::TIMEOUT).await {
            Some(Received::Closed(code, _)) => break code,
            Some(Received::Message(_)) => continue,
            None => panic!("the sleeper was never closed"),
        }
    };
    // 1008 when the close frame got through the full buffers, 1006 when it did not.
    assert!(closed == 1008 || closed == 1006, "close code {closed}");
    let (_, body) = crate::support::http::request(server.port, "GET", "/metrics", None, None).await;
    assert!(
        body.lines()
            .any(|l| l.starts_with("nachbar_refusals_total{kind=\"overflow\"} ")),
        "{body}"
    );
}
