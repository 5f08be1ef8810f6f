//! The async shell around the hub: one task owns the [`Hub`], receives inputs over a channel,
//! and performs the effects in order: persist (writer thread), load (blocking reads), send,
//! close.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nachbar_core::protocol::Message;
use tokio::sync::{mpsc, oneshot};

use crate::hub::{Close, ConnId, Hub, HubInput, HubStats, PersistRequest};
use crate::storage::Store;

/// What a connection task receives from the hub.
#[derive(Debug)]
pub enum Outbound {
    /// Send this message.
    Message(Message),
    /// Close with this code and reason.
    Close(Close),
}

/// Commands to the hub task.
#[derive(Debug)]
pub enum Command {
    /// A new connection's outbound queue.
    Register {
        /// The connection.
        conn: ConnId,
        /// Its queue.
        outbound: mpsc::Sender<Outbound>,
    },
    /// An input for the hub.
    Input(HubInput),
    /// Current counters.
    Stats(oneshot::Sender<HubStats>),
}

/// A handle to send commands to the hub task.
pub type HubSender = mpsc::UnboundedSender<Command>;

/// Runs the hub until every sender is dropped.
pub async fn run_hub(
    mut hub: Hub,
    mut commands: mpsc::UnboundedReceiver<Command>,
    self_sender: HubSender,
    writer: std::sync::mpsc::Sender<PersistRequest>,
    reader: Arc<Mutex<Store>>,
) {
    let start = Instant::now();
    let mut conns: HashMap<ConnId, mpsc::Sender<Outbound>> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let command = tokio::select! {
            c = commands.recv() => match c { Some(c) => c, None => break },
            _ = tick.tick() => Command::Input(HubInput::Tick),
        };
        let input = match command {
            Command::Register { conn, outbound } => {
                conns.insert(conn, outbound);
                continue;
            }
            Command::Stats(reply) => {
                let _ = reply.send(hub.stats());
                continue;
            }
            Command::Input(input) => input,
        };
        if let HubInput::Disconnect { conn } = &input {
            conns.remove(conn);
        }
        let now = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let fx = hub.handle(now, input);
        for request in fx.persist {
            if writer.send(request).is_err() {
                tracing::error!("writer thread is gone");
            }
        }
        for doc in fx.load {
            let reader = Arc::clone(&reader);
            let back = self_sender.clone();
            tokio::task::spawn_blocking(move || {
                let result = match reader.lock() {
                    Ok(store) => store
                        .load(&doc.to_string())
                        .map(|found| found.map(|d| (d.bytes, d.record)))
                        .map_err(|e| format!("{e:#}")),
                    Err(_) => Err("reader lock poisoned".to_owned()),
                };
                let _ = back.send(Command::Input(HubInput::Loaded { doc, result }));
            });
        }
        for (conn, message) in fx.send {
            deliver(&mut conns, &self_sender, conn, Outbound::Message(message));
        }
        for close in fx.close {
            let conn = close.conn;
            deliver(&mut conns, &self_sender, conn, Outbound::Close(close));
            conns.remove(&conn);
        }
    }
    tracing::info!("hub stopped");
}

/// Queues an outbound item; a connection that does not keep up is closed (its queue is full).
fn deliver(
    conns: &mut HashMap<ConnId, mpsc::Sender<Outbound>>,
    hub: &HubSender,
    conn: ConnId,
    item: Outbound,
) {
    let Some(tx) = conns.get(&conn) else { return };
    if tx.try_send(item).is_err() {
        tracing::warn!(
            conn_id = conn,
            "outbound queue full or closed: dropping the connection"
        );
        conns.remove(&conn);
        let _ = hub.send(Command::Input(HubInput::Disconnect { conn }));
    }
}
