//! One connection task on a real socket, with a stand-in for the hub task that holds what it
//! receives: the task stops reading while the hub is behind on its input.

use std::time::Duration;

use futures_util::SinkExt;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Limits, Message, PeerId};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::*;
use crate::hub::HubInput;
use crate::shell::Command;

fn config() -> ConnectionConfig {
    ConnectionConfig {
        limits: Limits {
            max_message_bytes: 64 * 1024,
            max_depth: 16,
        },
        handshake_timeout: Duration::from_secs(30),
        ping: Duration::from_secs(30),
        max_messages_per_second: 1_000_000,
        max_outbound_bytes: 1 << 20,
        outbound_grace: Duration::from_secs(30),
    }
}

/// Serves connections at a local address on `hubs`; returns the address.
async fn serve_on(hubs: crate::hubs::Hubs) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move |upgrade: axum::extract::ws::WebSocketUpgrade| {
            let hubs = hubs.clone();
            async move {
                upgrade.on_upgrade(move |socket| {
                    let principal = Principal {
                        user_id: "u".to_owned(),
                        token_hash: "t".to_owned(),
                    };
                    serve(socket, 1, principal, hubs, config(), Shutdown::new())
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Serves one connection at a local address; the hub's commands come out of the receiver.
async fn serve_one() -> (String, mpsc::UnboundedReceiver<Command>) {
    let (hub, commands) = mpsc::unbounded_channel();
    let hubs = crate::hubs::Hubs::new(vec![hub], crate::hubs::tests::bounds());
    (serve_on(hubs).await, commands)
}

thread_local! {
    static KEPT: std::cell::RefCell<Vec<Command>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Inputs the stand-in hub received within `wait`, kept (with their credit) in `held`;
/// returns how many.
async fn drain(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    held: &mut Vec<Command>,
    wait: Duration,
) -> usize {
    let mut n = 0;
    while let Ok(Some(c)) = tokio::time::timeout(wait, commands.recv()).await {
        match c {
            Command::Inbound { .. } => {
                n += 1;
                held.push(c);
            }
            // The registration holds the connection's outbound queue: kept to the end.
            other => KEPT.with(|k| k.borrow_mut().push(other)),
        }
    }
    n
}

#[tokio::test]
async fn a_connection_stops_reading_while_the_hub_holds_its_input() {
    let (url, mut commands) = serve_one().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let message = Message::Ephemeral {
        sender_id: PeerId("p".to_owned()),
        target_id: PeerId("server".to_owned()),
        document_id: DocumentId::from_bytes([1; 16]),
        session_id: "s".to_owned(),
        count: 1,
        data: vec![0xa0],
    }
    .encode();
    let sender = tokio::spawn(async move {
        for _ in 0..1000 {
            if socket
                .send(WsMessage::Binary(message.clone().into()))
                .await
                .is_err()
            {
                break;
            }
        }
        socket
    });
    let mut held = Vec::new();
    let first = drain(&mut commands, &mut held, Duration::from_millis(500)).await;
    // What the credit allows: one largest message and a megabyte, small ones at 16 KiB each.
    let allowed = config().max_inbound_bytes() / (16 * 1024);
    assert_eq!(first, allowed, "read while the hub is behind");
    // The hub catches up (drops what it held): reading resumes.
    held.clear();
    let second = drain(&mut commands, &mut held, Duration::from_millis(500)).await;
    assert_eq!(second, allowed, "as much again, no more");
    held.clear();
    let mut rest = 0;
    loop {
        let n = drain(&mut commands, &mut held, Duration::from_millis(300)).await;
        held.clear();
        if n == 0 {
            break;
        }
        rest += n;
    }
    assert_eq!(first + second + rest, 1000, "nothing lost");
    drop(sender.await.unwrap());
}

/// Serves one connection with two stand-in hub workers.
async fn serve_on_two_workers() -> (
    String,
    crate::hubs::Hubs,
    mpsc::UnboundedReceiver<Command>,
    mpsc::UnboundedReceiver<Command>,
) {
    let (primary, primary_rx) = mpsc::unbounded_channel();
    let (second, second_rx) = mpsc::unbounded_channel();
    let hubs = crate::hubs::Hubs::new(vec![primary, second], crate::hubs::tests::bounds());
    let url = serve_on(hubs.clone()).await;
    (url, hubs, primary_rx, second_rx)
}

/// What a stand-in worker received within `wait`, as short names.
async fn received(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    wait: Duration,
    outlets: &mut Vec<crate::shell::Outlet>,
) -> Vec<String> {
    let mut names = Vec::new();
    while let Ok(Some(c)) = tokio::time::timeout(wait, commands.recv()).await {
        names.push(match c {
            Command::Register { outbound, .. } => {
                outlets.push(outbound);
                "register".to_owned()
            }
            Command::Input(HubInput::Connect { .. }) => "connect".to_owned(),
            Command::Input(HubInput::Attach { identity, .. }) => {
                format!("attach {}", identity.peer)
            }
            Command::Input(HubInput::Receive { message, .. }) => {
                format!("input {}", message.type_name())
            }
            Command::Input(HubInput::Disconnect { .. }) => "disconnect".to_owned(),
            Command::Inbound { message, .. } => message.type_name().to_owned(),
            _ => "other".to_owned(),
        });
    }
    names
}

/// A peer's `join`.
fn join_of(peer: &PeerId) -> Message {
    Message::Join {
        sender_id: peer.clone(),
        supported_protocol_versions: Some(vec!["1".to_owned()]),
        peer_metadata: None,
    }
}

/// The primary's handshake passes: the connection learns it is `peer`.
fn pass_handshake(primary: &crate::shell::Outlet, peer: &PeerId) {
    let identity = crate::hub::Identity {
        peer: peer.clone(),
        storage_id: None,
    };
    primary
        .queue
        .unbounded_send(Outbound::Joined(Box::new(identity)))
        .unwrap();
}

#[tokio::test]
async fn with_two_workers_a_document_message_waits_for_the_handshake_then_goes_to_its_worker() {
    let (url, hubs, mut primary, mut second) = serve_on_two_workers().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let peer = PeerId("phone".to_owned());
    let server = PeerId("server".to_owned());
    let doc = std::iter::repeat_with(DocumentId::random)
        .find(|d| hubs.index_of(d) == 1)
        .unwrap();
    let frames = [
        join_of(&peer),
        // Sent at once after the join (as an eager peer may).
        Message::Request {
            sender_id: peer.clone(),
            target_id: server.clone(),
            document_id: doc,
            data: vec![0x42],
        },
        Message::RemoteSubscriptionChange {
            sender_id: peer.clone(),
            target_id: server,
            add: vec![],
            remove: vec![],
        },
    ];
    for m in &frames {
        socket
            .send(WsMessage::Binary(m.encode().into()))
            .await
            .unwrap();
    }
    let wait = Duration::from_millis(300);
    let mut outlets = Vec::new();
    assert_eq!(
        received(&mut primary, wait, &mut outlets).await,
        ["register", "connect", "join"]
    );
    assert!(
        received(&mut second, wait, &mut outlets).await.is_empty(),
        "nothing read on before the handshake's answer"
    );
    pass_handshake(&outlets[0], &peer);
    assert_eq!(
        received(&mut second, wait, &mut outlets).await,
        [
            "register",
            "attach phone",
            "request",
            "remote-subscription-change"
        ]
    );
    assert_eq!(
        received(&mut primary, wait, &mut outlets).await,
        ["remote-subscription-change"]
    );
    // A worker queues the connection's close: what the peer sends on reaches no worker.
    outlets[0].backlog.close();
    socket
        .send(WsMessage::Binary(frames[1].encode().into()))
        .await
        .unwrap();
    assert!(received(&mut second, wait, &mut outlets).await.is_empty());
    assert!(received(&mut primary, wait, &mut outlets).await.is_empty());
    drop(outlets);
    socket.close(None).await.unwrap();
    assert_eq!(
        received(&mut primary, wait, &mut Vec::new()).await,
        ["disconnect"]
    );
    assert_eq!(
        received(&mut second, wait, &mut Vec::new()).await,
        ["disconnect"]
    );
}

#[tokio::test]
async fn with_two_workers_subscription_changes_are_bounded_before_they_are_copied() {
    let (url, hubs, mut primary, mut second) = serve_on_two_workers().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let peer = PeerId("phone".to_owned());
    socket
        .send(WsMessage::Binary(join_of(&peer).encode().into()))
        .await
        .unwrap();
    let wait = Duration::from_millis(300);
    let mut outlets = Vec::new();
    received(&mut primary, wait, &mut outlets).await;
    pass_handshake(&outlets[0], &peer);
    let change = |ids: usize| Message::RemoteSubscriptionChange {
        sender_id: peer.clone(),
        target_id: PeerId("server".to_owned()),
        add: (0..ids)
            .map(|i| nachbar_core::protocol::StorageId(format!("s{i}")))
            .collect(),
        remove: vec![],
    };
    // Too many ids: to the primary alone (which refuses it).
    let max = hubs.subscription_bounds().max_ids;
    socket
        .send(WsMessage::Binary(change(max + 1).encode().into()))
        .await
        .unwrap();
    assert_eq!(
        received(&mut primary, wait, &mut outlets).await,
        ["remote-subscription-change"]
    );
    assert!(received(&mut second, wait, &mut outlets).await.is_empty());
    // Over the rate: the connection task closes it (the burst is the rate a minute). The
    // stand-in workers take in what comes meanwhile (releasing its credit).
    let rate = hubs.subscription_bounds().per_minute;
    drop(outlets);
    let copied = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&copied);
    tokio::spawn(async move {
        while let Some(c) = second.recv().await {
            if matches!(c, Command::Inbound { .. }) {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    tokio::spawn(async move { while primary.recv().await.is_some() {} });
    for _ in 0..=rate {
        socket
            .send(WsMessage::Binary(change(1).encode().into()))
            .await
            .unwrap();
    }
    let mut error = false;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(WsMessage::Binary(b)))) => {
                error |= matches!(
                    Message::decode(&b, &Limits::default()),
                    Ok(Message::Error { .. })
                );
            }
            Ok(Some(Ok(WsMessage::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            other => panic!("no close: {other:?}"),
        }
    };
    assert!(error, "an error message first");
    assert_eq!(code, Some(1008));
    tokio::time::sleep(wait).await;
    let copies = copied.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(copies, rate as usize, "the rate's worth copied, no more");
}
