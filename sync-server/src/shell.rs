//! The async shell around the hub: one task owns the [`Hub`], receives inputs over a channel,
//! and performs the effects in order: persist (writer task), load (the documents' storage),
//! send, close.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::Message;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::access::{DirectoryPolicy, PolicyCell};
use crate::backlog::{Backlog, Verdict};
use crate::durable::StorageFailure;
use crate::hub::{
    Close, ConnId, Effects, Hub, HubInput, HubStats, Identity, Submission, SubmitError,
};
use crate::storage::backend::{AccessStore, DocumentStore};

/// What a connection task receives from the hub.
#[derive(Debug)]
pub enum Outbound {
    /// Send this message (boxed: the queue's slots stay small, and every idle connection has
    /// one).
    Message(Box<Message>),
    /// Close with this code and reason (boxed too: every queue allocates its first block of
    /// slots up front, so the slot size is memory per idle connection).
    Close(Box<Close>),
    /// The handshake passed: who the connection is, for the other hub workers (comes before
    /// the `peer` answer; nothing goes on the wire).
    Joined(Box<Identity>),
}

/// What a message's ids, type and keys take on the wire, about.
const ENVELOPE: usize = 160;

/// About how many bytes `message` takes on the wire: what counts against a connection's
/// outbound buffer.
pub fn size_hint(message: &Message) -> usize {
    match message {
        Message::Sync { data, .. }
        | Message::Request { data, .. }
        | Message::Ephemeral { data, .. } => data.len() + ENVELOPE,
        Message::Error { message, .. } => message.len() + ENVELOPE,
        _ => ENVELOPE,
    }
}

impl Outbound {
    /// About how many bytes this item takes on the wire.
    pub fn size_hint(&self) -> usize {
        match self {
            Outbound::Message(m) => size_hint(m),
            Outbound::Close(_) => ENVELOPE,
            Outbound::Joined(_) => 0,
        }
    }
}

/// Where the hub's output for one connection goes: its queue, the bytes waiting in it, and a
/// signal that closes the connection at once (without waiting for the queue to drain).
#[derive(Debug, Clone)]
pub struct Outlet {
    /// The queue (futures' unbounded channel: an idle one takes about a tenth of tokio's,
    /// which allocates a block of 32 slots up front).
    pub queue: futures_channel::mpsc::UnboundedSender<Outbound>,
    /// Bytes queued and not yet written to the socket (the connection task subtracts).
    pub backlog: Arc<Backlog>,
    /// Cancelled when the connection must close because it does not keep up.
    pub overflowed: tokio_util::sync::CancellationToken,
}

/// Commands to the hub task.
#[derive(Debug)]
pub enum Command {
    /// A new connection's outbound queue.
    Register {
        /// The connection.
        conn: ConnId,
        /// Its queue.
        outbound: Outlet,
    },
    /// An input for the hub.
    Input(HubInput),
    /// A peer's message, with the credit its connection took for it: released once the hub
    /// has handled it, so a connection stops reading while the hub is behind on its input.
    Inbound {
        /// The connection.
        conn: ConnId,
        /// The message.
        message: Message,
        /// Held until the message is handled.
        credit: tokio::sync::OwnedSemaphorePermit,
    },
    /// Current counters.
    Stats(oneshot::Sender<HubStats>),
    /// The directory changed: new access rules (they carry their directory version).
    SetPolicy(Arc<DirectoryPolicy>),
    /// A change the server made for a user (a web edit; its id is assigned here): answered
    /// once durable.
    Submit {
        /// The change.
        submission: Submission,
        /// The answer.
        done: oneshot::Sender<Result<(), SubmitError>>,
    },
    /// Make sure the rules are at least at this directory version before answering (a new
    /// connection's user may have been added a moment ago by an admin command).
    EnsureDirectory {
        /// The version the caller saw.
        version: i64,
        /// Answered when the rules are current.
        done: oneshot::Sender<()>,
    },
}

/// A handle to send commands to the hub task.
pub type HubSender = mpsc::UnboundedSender<Command>;

/// What the hub task needs besides the hub: where effects go.
#[derive(Debug)]
pub struct HubShell {
    /// Commands back to the hub task (loads answer through it).
    pub self_sender: HubSender,
    /// The writer task (shared by the hub workers; answers come back to `self_sender`).
    pub writer: mpsc::UnboundedSender<crate::writer::Queued<HubSender>>,
    /// The documents' storage, for loads.
    pub documents: Arc<dyn DocumentStore>,
    /// The access data, for the directory.
    pub access: Arc<dyn AccessStore>,
    /// The current access rules, shared with the web app.
    pub policy: PolicyCell,
    /// Documents with newly durable changes, for the web app's live pages.
    pub committed: broadcast::Sender<DocumentId>,
}

/// Connections and waiting web edits of the hub task.
#[derive(Debug, Default)]
struct Outlets {
    conns: HashMap<ConnId, Outlet>,
    submits: HashMap<u64, oneshot::Sender<Result<(), SubmitError>>>,
    next_submit: u64,
}

/// Runs the hub until every sender is dropped.
pub async fn run_hub(
    mut hub: Hub,
    mut commands: mpsc::UnboundedReceiver<Command>,
    shell: HubShell,
) {
    let start = Instant::now();
    let mut out = Outlets::default();
    let mut policy_version = shell.policy.current().version();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // The earliest wake-up the hub asked for (owed fan-outs).
    let mut next_wake: Option<tokio::time::Instant> = None;
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let command = tokio::select! {
            c = commands.recv() => match c { Some(c) => c, None => break },
            _ = tick.tick() => Command::Input(HubInput::Tick),
            () = async {
                match next_wake {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                next_wake = None;
                Command::Input(HubInput::Wake)
            }
        };
        let input = match command {
            Command::Register { conn, outbound } => {
                out.conns.insert(conn, outbound);
                continue;
            }
            Command::Stats(reply) => {
                let _ = reply.send(hub.stats());
                continue;
            }
            Command::SetPolicy(policy) => {
                if policy.version() >= policy_version {
                    policy_version = policy.version();
                    shell.policy.set(Arc::clone(&policy));
                    let fx = hub.set_policy(policy);
                    perform(fx, &mut out, &shell);
                }
                continue;
            }
            Command::EnsureDirectory { version, done } => {
                if version > policy_version {
                    let now = nachbar_core::time::Timestamp::now().millis();
                    match shell.access.directory(now).await {
                        Ok(dir) => {
                            policy_version = dir.version;
                            let policy = Arc::new(DirectoryPolicy::new(dir));
                            shell.policy.set(Arc::clone(&policy));
                            let fx = hub.set_policy(policy);
                            perform(fx, &mut out, &shell);
                        }
                        Err(e) => tracing::error!(error = %e, "reading the directory failed"),
                    }
                }
                let _ = done.send(());
                continue;
            }
            Command::Submit {
                mut submission,
                done,
            } => {
                out.next_submit += 1;
                submission.id = out.next_submit;
                out.submits.insert(submission.id, done);
                HubInput::Submit(submission)
            }
            Command::Input(input) => input,
            Command::Inbound {
                conn,
                message,
                credit,
            } => {
                let now = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                let fx = hub.handle_contained_micros(now, HubInput::Receive { conn, message });
                drop(credit);
                if let Some(at) = fx.wake_at {
                    let at = tokio::time::Instant::from_std(start) + Duration::from_millis(at);
                    next_wake = Some(next_wake.map_or(at, |w| w.min(at)));
                }
                perform(fx, &mut out, &shell);
                continue;
            }
        };
        if let HubInput::Disconnect { conn } | HubInput::Refused { conn, .. } = &input {
            out.conns.remove(conn);
        }
        let now = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        let fx = hub.handle_contained_micros(now, input);
        if let Some(at) = fx.wake_at {
            let at = tokio::time::Instant::from_std(start) + Duration::from_millis(at);
            next_wake = Some(next_wake.map_or(at, |w| w.min(at)));
        }
        perform(fx, &mut out, &shell);
    }
    tracing::info!("hub stopped");
}

/// Performs the hub's effects in order: joined, persist, load, send, close, then the answers
/// to web edits and the notices of durable changes.
fn perform(fx: Effects, out: &mut Outlets, shell: &HubShell) {
    let conns = &mut out.conns;
    let hub = &shell.self_sender;
    for (conn, identity) in fx.joined {
        // Not counted against the backlog: nothing goes on the wire.
        if let Some(outlet) = conns.get(&conn) {
            let _ = outlet
                .queue
                .unbounded_send(Outbound::Joined(Box::new(identity)));
        }
    }
    for request in fx.persist {
        if let Err(refused) = shell.writer.send((hub.clone(), request)) {
            // Nothing will commit it: the hub hears so at once (its sessions close with 1013)
            // instead of waiting for an answer that never comes.
            tracing::error!("writer task is gone");
            let _ = hub.send(Command::Input(HubInput::Persisted {
                id: refused.0.1.id,
                result: Err(StorageFailure("the writer has stopped".to_owned())),
            }));
        }
    }
    for doc in fx.load {
        let documents = Arc::clone(&shell.documents);
        let back = hub.clone();
        tokio::spawn(async move {
            let result = documents
                .load(&doc.to_string())
                .await
                .map_err(|e| StorageFailure::of(&e));
            let _ = back.send(Command::Input(HubInput::Loaded { doc, result }));
        });
    }
    for (conn, message) in fx.send {
        deliver(conns, hub, conn, Outbound::Message(Box::new(message)));
    }
    for close in fx.close {
        let conn = close.conn;
        if let Some(outlet) = conns.get(&conn) {
            outlet.backlog.close();
        }
        deliver(conns, hub, conn, Outbound::Close(Box::new(close)));
        conns.remove(&conn);
    }
    for (id, answer) in fx.submitted {
        if let Some(done) = out.submits.remove(&id) {
            let _ = done.send(answer);
        }
    }
    for doc in fx.committed {
        // Nobody listening is fine: live pages are optional.
        let _ = shell.committed.send(doc);
    }
}

/// Queues an outbound item; a connection that stays behind its byte limit for longer than the
/// grace period, or passes the hard limit (a peer that does not read), is closed
/// (reliability.md F4 18).
fn deliver(conns: &mut HashMap<ConnId, Outlet>, hub: &HubSender, conn: ConnId, item: Outbound) {
    let Some(outlet) = conns.get(&conn) else {
        return;
    };
    let size = item.size_hint();
    let verdict = outlet.backlog.add(size, Instant::now());
    let overflow = verdict == Verdict::Overflow && matches!(item, Outbound::Message(_));
    if overflow || outlet.queue.unbounded_send(item).is_err() {
        if overflow {
            tracing::warn!(
                conn_id = conn,
                queued = outlet.backlog.queued(),
                "outbound backlog over its limit: closing the connection"
            );
            outlet.backlog.close();
            outlet.overflowed.cancel();
        }
        conns.remove(&conn);
        // Forgotten here at once; the refusal is counted once, when the connection task
        // reports its end to the primary worker.
        let _ = hub.send(Command::Input(HubInput::Disconnect { conn }));
    }
}
