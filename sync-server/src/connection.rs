//! One WebSocket connection: frames in → decoded messages to the hub; hub output → frames out.
//!
//! Every bad input gets an `error` message and a close code for this connection alone.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use nachbar_core::protocol::{Limits, Message};
use tokio::sync::mpsc;

use crate::access::Principal;
use crate::hub::{Close, CloseCode, ConnId, HubInput};
use crate::shell::{Command, HubSender, Outbound};

/// Per-connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionConfig {
    /// Message limits.
    pub limits: Limits,
    /// Time to send `join`.
    pub handshake_timeout: Duration,
    /// Ping interval.
    pub ping: Duration,
}

/// Tells connection tasks that the server is shutting down.
pub type Shutdown = tokio_util::sync::CancellationToken;

/// How many outbound items may wait for a slow client before it is dropped.
const OUTBOUND_QUEUE: usize = 1024;

fn close_frame(code: CloseCode, reason: &str) -> WsMessage {
    // Close reasons are limited to 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    WsMessage::Close(Some(CloseFrame {
        code: code.code(),
        reason: reason[..end].into(),
    }))
}

/// Serves one upgraded socket until it closes.
pub async fn serve(
    socket: WebSocket,
    conn: ConnId,
    principal: Principal,
    hub: HubSender,
    config: ConnectionConfig,
    shutdown: Shutdown,
) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(OUTBOUND_QUEUE);
    if hub
        .send(Command::Register {
            conn,
            outbound: out_tx,
        })
        .is_err()
        || hub
            .send(Command::Input(HubInput::Connect { conn, principal }))
            .is_err()
    {
        return;
    }
    let deadline = tokio::time::sleep(config.handshake_timeout);
    tokio::pin!(deadline);
    let mut joined = false;
    let mut ping = tokio::time::interval(config.ping);
    ping.tick().await;
    let fail = |code: CloseCode, message: String| -> Vec<WsMessage> {
        let error = Message::Error {
            message: message.clone(),
            sender_id: None,
            target_id: None,
        };
        vec![
            WsMessage::Binary(error.encode().into()),
            close_frame(code, &message),
        ]
    };
    loop {
        let outgoing: Vec<WsMessage> = tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(WsMessage::Binary(bytes))) => match Message::decode(&bytes, &config.limits) {
                    Ok(message) => {
                        joined |= matches!(message, Message::Join { .. });
                        if hub.send(Command::Input(HubInput::Receive { conn, message })).is_err() {
                            break;
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(conn_id = conn, error = %e, "refused a message");
                        let code = if e.is_too_large() { CloseCode::TooBig } else { CloseCode::Invalid };
                        let frames = fail(code, e.to_string());
                        let _ = send_all(&mut sink, frames).await;
                        break;
                    }
                },
                Some(Ok(WsMessage::Text(_))) => {
                    let _ = send_all(&mut sink, fail(CloseCode::Unsupported, "text frames are not supported".to_owned())).await;
                    break;
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Err(e)) => {
                    // A message beyond the transport's hard cap ends the stream with a
                    // capacity error; say so before the socket goes (best effort).
                    let text = format!("{e:#}");
                    if text.contains("Space limit exceeded") || text.contains("too long") {
                        let frames = fail(CloseCode::TooBig, "message too large".to_owned());
                        if let Err(e) = send_all(&mut sink, frames).await {
                            tracing::debug!(conn_id = conn, error = %e, "could not send the close frame");
                        }
                    }
                    tracing::debug!(conn_id = conn, error = %e, "socket error");
                    break;
                }
            },
            out = out_rx.recv() => match out {
                Some(Outbound::Message(m)) => vec![WsMessage::Binary(m.encode().into())],
                Some(Outbound::Close(Close { code, reason, .. })) => {
                    let _ = send_all(&mut sink, vec![close_frame(code, &reason)]).await;
                    break;
                }
                None => break,
            },
            () = &mut deadline, if !joined => {
                let _ = send_all(&mut sink, fail(CloseCode::Policy, "no join within the handshake timeout".to_owned())).await;
                break;
            }
            _ = ping.tick() => vec![WsMessage::Ping(Vec::new().into())],
            () = shutdown.cancelled() => {
                // Tells clients to reconnect (possibly to another node).
                let _ = send_all(&mut sink, vec![close_frame(CloseCode::Restart, "server restarting")]).await;
                break;
            }
        };
        if send_all(&mut sink, outgoing).await.is_err() {
            break;
        }
    }
    let _ = hub.send(Command::Input(HubInput::Disconnect { conn }));
}

async fn send_all(
    sink: &mut futures_util::stream::SplitSink<WebSocket, WsMessage>,
    frames: Vec<WsMessage>,
) -> Result<(), axum::Error> {
    for frame in frames {
        sink.feed(frame).await?;
    }
    sink.flush().await
}
