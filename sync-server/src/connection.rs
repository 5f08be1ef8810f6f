//! One WebSocket connection: frames in → decoded messages to the hub; hub output → frames out.
//!
//! Every bad input gets an `error` message and a close code for this connection alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use nachbar_core::protocol::{Limits, Message};

use crate::access::Principal;
use crate::backlog::Backlog;
use crate::connection_routing::{Routing, RoutingError};
use crate::hub::{Close, CloseCode, ConnId};
use crate::hubs::Hubs;
use crate::rate::TokenBucket;
use crate::shell::{Outbound, Outlet};

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;

/// Per-connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionConfig {
    /// Message limits.
    pub limits: Limits,
    /// Time to send `join`.
    pub handshake_timeout: Duration,
    /// Ping interval.
    pub ping: Duration,
    /// Messages a peer may send per second on average (bursts of twice as many pass).
    pub max_messages_per_second: u32,
    /// Bytes that may wait for a peer for [`ConnectionConfig::outbound_grace`] before it is
    /// closed (a few of the largest messages more close it at once).
    pub max_outbound_bytes: usize,
    /// How long a peer may stay behind, or take to read one message.
    pub outbound_grace: Duration,
}

impl ConnectionConfig {
    /// Bytes of a peer's messages that may wait for the hub before the connection stops
    /// reading: one largest message and a megabyte besides.
    pub fn max_inbound_bytes(&self) -> usize {
        self.limits.max_message_bytes.saturating_add(1 << 20)
    }

    /// What one received message handed to `copies` hub workers costs of
    /// [`ConnectionConfig::max_inbound_bytes`]: its size, at least 16 KiB (so that many small
    /// messages count too), for each copy; at most all of it.
    fn inbound_cost(&self, bytes: usize, copies: usize) -> u32 {
        let cost = bytes
            .clamp(16 * 1024, self.max_inbound_bytes())
            .saturating_mul(copies)
            .min(self.max_inbound_bytes());
        u32::try_from(cost).unwrap_or(u32::MAX)
    }
}

/// Tells connection tasks that the server is shutting down.
pub type Shutdown = tokio_util::sync::CancellationToken;

/// How long a connection that is being closed gets to take its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

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

/// Closes a socket refused before it starts (the user has all their connections open).
pub async fn refuse(socket: WebSocket, message: String) {
    let mut socket = socket;
    let error = Message::Error {
        message: message.clone(),
        sender_id: None,
        target_id: None,
    };
    let frames = vec![
        WsMessage::Binary(error.encode().into()),
        close_frame(CloseCode::Policy, &message),
    ];
    close_with(&mut socket, frames, CLOSE_GRACE).await;
}

/// Serves one upgraded socket until it closes.
pub async fn serve(
    socket: WebSocket,
    conn: ConnId,
    principal: Principal,
    hubs: Hubs,
    config: ConnectionConfig,
    shutdown: Shutdown,
) {
    // Not split into halves: reads and writes take turns in the loop below, and an idle
    // connection saves the halves' lock.
    let mut socket = socket;
    let (out_tx, mut out_rx) = futures_channel::mpsc::unbounded::<Outbound>();
    let backlog = Arc::new(Backlog::new(
        config.max_outbound_bytes,
        // A few of the largest messages beyond the limit, then no grace.
        config
            .max_outbound_bytes
            .saturating_add(config.limits.max_message_bytes.saturating_mul(2)),
        config.outbound_grace,
    ));
    let overflowed = tokio_util::sync::CancellationToken::new();
    let outlet = Outlet {
        queue: out_tx,
        backlog: Arc::clone(&backlog),
        overflowed: overflowed.clone(),
    };
    // Credit for input the hub has not handled yet: when it is used up, the socket is not read.
    let inbound = Arc::new(tokio::sync::Semaphore::new(config.max_inbound_bytes()));
    let mut last_heard = Instant::now();
    let started = Instant::now();
    let mut rate = TokenBucket::new(
        config.max_messages_per_second,
        config.max_messages_per_second.saturating_mul(2),
        0,
    );
    let Ok(mut routing) = Routing::open(hubs, conn, principal, outlet) else {
        return;
    };
    // Boxed, as every timer held across the loop: the task of an idle connection stays small.
    // Until `join` arrives (then freed: an idle connection keeps no timer for it).
    let mut deadline = Some(Box::pin(tokio::time::sleep(config.handshake_timeout)));
    let mut refused: Option<&'static str> = None;
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
    let overflow_frames = || {
        let limit = config.max_outbound_bytes;
        fail(
            CloseCode::Policy,
            format!("more than {limit} bytes wait for this peer"),
        )
    };
    loop {
        let mut sent_bytes = 0;
        let outgoing: Vec<WsMessage> = tokio::select! {
            frame = socket.next(), if !routing.awaiting_join() => {
                if let Some(Ok(_)) = &frame {
                    last_heard = Instant::now();
                }
                match frame {
                    // A hub worker queued the connection's close: nothing more reaches the
                    // workers (the close is on its way), and nothing more is decoded.
                    Some(Ok(WsMessage::Binary(_))) if backlog.is_closing() => continue,
                    Some(Ok(WsMessage::Binary(_))) if !rate.take(elapsed_ms(started)) => {
                        let limit = config.max_messages_per_second;
                        tracing::warn!(conn_id = conn, "message rate over the limit");
                        let frames = fail(CloseCode::Policy, format!("more than {limit} messages per second"));
                        refused = Some("rate");
                        close_with(&mut socket, frames, CLOSE_GRACE).await;
                        break;
                    }
                    Some(Ok(WsMessage::Binary(bytes))) => match Message::decode(&bytes, &config.limits) {
                        Ok(message) => {
                            if matches!(message, Message::Join { .. }) {
                                deadline = None;
                            }
                            // Back-pressure: wait (not reading) while the hub is behind on this
                            // connection's input.
                            let plan = routing.plan(&message);
                            let cost = config.inbound_cost(bytes.len(), plan.copies());
                            let credit = tokio::select! {
                                c = Arc::clone(&inbound).acquire_many_owned(cost) => c,
                                () = shutdown.cancelled() => break,
                            };
                            let Ok(credit) = credit else { break };
                            match routing.inbound(message, plan, credit) {
                                Ok(()) => continue,
                                Err(RoutingError::Limit(why)) => {
                                    tracing::warn!(conn_id = conn, %why, "closing connection");
                                    refused = Some("limits");
                                    close_with(&mut socket, fail(CloseCode::Policy, why), CLOSE_GRACE).await;
                                    break;
                                }
                                Err(RoutingError::Stopped) => break,
                            }
                        }
                        Err(e) => {
                            tracing::warn!(conn_id = conn, error = %e, "refused a message");
                            let code = if e.is_too_large() { CloseCode::TooBig } else { CloseCode::Invalid };
                            let frames = fail(code, e.to_string());
                            refused = Some("protocol");
                            // The peer learns why (it would resend the same otherwise), however
                            // full its link is with what it sent before.
                            close_with(&mut socket, frames, config.outbound_grace).await;
                            break;
                        }
                    },
                    Some(Ok(WsMessage::Text(_))) => {
                        refused = Some("protocol");
                        close_with(&mut socket, fail(CloseCode::Unsupported, "text frames are not supported".to_owned()), config.outbound_grace).await;
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
                            close_with(&mut socket, frames, config.outbound_grace).await;
                        }
                        tracing::debug!(conn_id = conn, error = %e, "socket error");
                        break;
                    }
                }
            },
            // Once over its limit, the peer gets the overflow's error and close, not what waits.
            out = out_rx.next(), if !overflowed.is_cancelled() => match out {
                Some(Outbound::Message(m)) => {
                    sent_bytes = crate::shell::size_hint(&m);
                    vec![WsMessage::Binary(m.encode().into())]
                }
                Some(Outbound::Joined(identity)) => {
                    routing.joined(*identity);
                    // Nothing was read while the handshake's answer was awaited.
                    last_heard = Instant::now();
                    continue;
                }
                Some(Outbound::Close(close)) => {
                    let Close { code, reason, .. } = *close;
                    close_with(&mut socket, vec![close_frame(code, &reason)], CLOSE_GRACE).await;
                    break;
                }
                // The hub let go of the queue when it found the peer over its limit (the
                // overflow signal may be ready at the same time): counted as such.
                None if overflowed.is_cancelled() => {
                    refused = Some("overflow");
                    close_with(&mut socket, overflow_frames(), CLOSE_GRACE).await;
                    break;
                }
                None => break,
            },
            () = overflowed.cancelled() => {
                refused = Some("overflow");
                close_with(&mut socket, overflow_frames(), CLOSE_GRACE).await;
                break;
            }
            () = async { if let Some(d) = &mut deadline { d.await } }, if deadline.is_some() => {
                refused = Some("handshake");
                close_with(&mut socket, fail(CloseCode::Policy, "no join within the handshake timeout".to_owned()), config.outbound_grace).await;
                break;
            }
            _ = ping.tick() => {
                // Nothing heard (not even a pong) for four ping intervals: the peer is gone.
                // (A frame counts once it is whole: four intervals leave a slow phone two
                // minutes for one large upload at the defaults.)
                if last_heard.elapsed() > config.ping.saturating_mul(4) {
                    refused = Some("silent");
                    let frames = fail(CloseCode::Policy, "no answer to ping".to_owned());
                    close_with(&mut socket, frames, CLOSE_GRACE).await;
                    break;
                }
                vec![WsMessage::Ping(Vec::new().into())]
            }
            () = shutdown.cancelled() => {
                // Tells clients to reconnect (possibly to another node).
                close_with(&mut socket, vec![close_frame(CloseCode::Restart, "server restarting")], CLOSE_GRACE).await;
                break;
            }
        };
        // A peer that stops reading blocks this write; the overflow signal, or the grace
        // period for one write, ends the wait.
        let written = tokio::select! {
            r = Box::pin(tokio::time::timeout(config.outbound_grace, send_all(&mut socket, outgoing))) => match r {
                Ok(r) => r.is_ok(),
                Err(_) => {
                    overflowed.cancel();
                    false
                }
            },
            () = overflowed.cancelled() => false,
        };
        backlog.sub(sent_bytes, Instant::now());
        if !written {
            if overflowed.is_cancelled() {
                let frames = fail(
                    CloseCode::Policy,
                    "outbound buffer over its limit".to_owned(),
                );
                refused = Some("overflow");
                close_with(&mut socket, frames, CLOSE_GRACE).await;
            }
            break;
        }
    }
    routing.close(refused);
    // The closing handshake: read (and drop) what the peer still sends until its close frame,
    // so the socket is not reset with unread input (which can destroy our error and close
    // frames before the peer reads them).
    let drain = async {
        while let Some(Ok(frame)) = socket.next().await {
            if matches!(frame, WsMessage::Close(_)) {
                break;
            }
        }
    };
    let _ = Box::pin(tokio::time::timeout(CLOSE_GRACE, drain)).await;
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Sends the last frames of a closing connection, giving the peer `grace` to take them
/// (boxed: a cold path that would otherwise size every connection's task).
async fn close_with(socket: &mut WebSocket, frames: Vec<WsMessage>, grace: Duration) {
    match Box::pin(tokio::time::timeout(grace, send_all(socket, frames))).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "could not send the last frames"),
        Err(_) => tracing::debug!(?grace, "the peer did not take the last frames in time"),
    }
}

async fn send_all(socket: &mut WebSocket, frames: Vec<WsMessage>) -> Result<(), axum::Error> {
    for frame in frames {
        socket.feed(frame).await?;
    }
    socket.flush().await
}
