//! Which hub worker each of a connection's messages goes to, and attaching the connection to
//! a worker when it first sends that worker a message (see [`crate::hubs`]).

use std::sync::Arc;

use crate::access::Principal;
use crate::backlog::Backlog;
use crate::hub::{ConnId, HubInput, Identity};
use crate::hubs::{HubStopped, Hubs, Route};
use crate::rate::TokenBucket;
use crate::shell::{Command, Outbound, Outlet};
use nachbar_core::protocol::Message;

/// A connection's way to the hub workers.
#[derive(Debug)]
pub struct Routing {
    hubs: Hubs,
    conn: ConnId,
    /// The workers were told the connection ended.
    closed: bool,
    /// Only with several workers (boxed: an idle connection of a one-worker hub pays a word).
    links: Option<Box<Links>>,
}

/// What attaching the connection to another worker takes.
#[derive(Debug)]
struct Links {
    principal: Principal,
    /// The connection's queue (a sender held here too: with several workers the connection
    /// ends on a close from one of them, on a failed send to one, or on shutdown, not when
    /// they all let go of the queue).
    queue: futures_channel::mpsc::UnboundedSender<Outbound>,
    backlog: Arc<Backlog>,
    overflowed: tokio_util::sync::CancellationToken,
    /// Who the handshake said the connection is (none before it passed).
    identity: Option<Identity>,
    /// A `join` went to the primary and its answer has not come back.
    awaiting_join: bool,
    /// Bit `i`: worker `i` knows the connection (the primary always does).
    attached: u64,
    /// The rate of its `remote-subscription-change` messages (each goes to every worker).
    subscription_rate: TokenBucket,
    /// When the connection opened (the rate's clock).
    opened: std::time::Instant,
}

/// Where one of a connection's messages goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// To the primary worker.
    Primary,
    /// To the worker at this index (not the primary).
    Worker(usize),
    /// A copy to each of this many workers.
    All(usize),
}

impl Plan {
    /// How many workers get the message.
    pub fn copies(self) -> usize {
        match self {
            Plan::All(n) => n,
            Plan::Primary | Plan::Worker(_) => 1,
        }
    }
}

/// Why a peer's message was not handed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// The hub has stopped, or has let go of the connection.
    #[error("the hub has stopped")]
    Stopped,
    /// Over a bound of the connection: it is closed with this reason (1008).
    #[error("{0}")]
    Limit(String),
}

impl From<HubStopped> for RoutingError {
    fn from(_: HubStopped) -> Self {
        RoutingError::Stopped
    }
}

impl Routing {
    /// Registers connection `conn` of `principal` with the primary worker.
    ///
    /// # Errors
    /// When the hub has stopped.
    pub fn open(
        hubs: Hubs,
        conn: ConnId,
        principal: Principal,
        outlet: Outlet,
    ) -> Result<Self, HubStopped> {
        let links = (hubs.count() > 1).then(|| {
            Box::new(Links {
                principal: principal.clone(),
                queue: outlet.queue.clone(),
                backlog: Arc::clone(&outlet.backlog),
                overflowed: outlet.overflowed.clone(),
                identity: None,
                awaiting_join: false,
                attached: 1,
                subscription_rate: TokenBucket::per_minute(
                    hubs.subscription_bounds().per_minute,
                    0,
                ),
                opened: std::time::Instant::now(),
            })
        });
        let primary = hubs.primary();
        primary
            .send(Command::Register {
                conn,
                outbound: outlet,
            })
            .map_err(|_| HubStopped)?;
        primary
            .send(Command::Input(HubInput::Connect { conn, principal }))
            .map_err(|_| HubStopped)?;
        Ok(Routing {
            hubs,
            conn,
            closed: false,
            links,
        })
    }

    /// Where `message` goes: decided once, before its inbound credit is taken (a message for
    /// every worker takes one share per worker).
    pub fn plan(&self, message: &Message) -> Plan {
        let Some(links) = &self.links else {
            return Plan::Primary;
        };
        if links.identity.is_none() {
            // Before the handshake everything goes to the primary (which refuses all but
            // `join`).
            return Plan::Primary;
        }
        match self.hubs.route(message) {
            Route::Worker(0) => Plan::Primary,
            Route::Worker(i) => Plan::Worker(i),
            // Too large: the primary alone refuses it.
            Route::All if !self.within_size(message) => Plan::Primary,
            Route::All => Plan::All(self.hubs.count()),
        }
    }

    /// Whether a subscription change names no more storage ids than one may.
    fn within_size(&self, message: &Message) -> bool {
        match message {
            Message::RemoteSubscriptionChange { add, remove, .. } => {
                add.len() + remove.len() <= self.hubs.subscription_bounds().max_ids
            }
            _ => true,
        }
    }

    /// Whether the connection waits for its handshake's answer before it reads on (only with
    /// several workers: its next message may be for another worker, which must learn who it
    /// is first).
    pub fn awaiting_join(&self) -> bool {
        self.links.as_ref().is_some_and(|l| l.awaiting_join)
    }

    /// The handshake passed: the connection is `identity`.
    pub fn joined(&mut self, identity: Identity) {
        if let Some(l) = &mut self.links {
            l.identity = Some(identity);
            l.awaiting_join = false;
        }
    }

    /// Hands a peer's message where `plan` (from [`Routing::plan`]) says, with the credit it
    /// took (shared out over the copies of a message for every worker).
    ///
    /// # Errors
    /// When the hub has stopped, or has let go of the connection; when the peer changes its
    /// subscriptions more often than it may.
    pub fn inbound(
        &mut self,
        message: Message,
        plan: Plan,
        credit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<(), RoutingError> {
        let conn = self.conn;
        let Some(links) = &mut self.links else {
            return Ok(send_inbound(self.hubs.primary(), conn, message, credit)?);
        };
        match plan {
            Plan::Primary => {
                if links.identity.is_none() {
                    links.awaiting_join |= matches!(message, Message::Join { .. });
                }
                Ok(send_inbound(self.hubs.primary(), conn, message, credit)?)
            }
            Plan::Worker(i) => {
                attach(&self.hubs, conn, links, i)?;
                Ok(send_inbound(self.hubs.worker(i), conn, message, credit)?)
            }
            Plan::All(n) => {
                let now = u64::try_from(links.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
                if !links.subscription_rate.take(now) {
                    let per_minute = self.hubs.subscription_bounds().per_minute;
                    return Err(RoutingError::Limit(format!(
                        "more than {per_minute} remote-subscription-change a minute"
                    )));
                }
                let mut credit = credit;
                let share = credit.num_permits() / n;
                for i in 1..n {
                    attach(&self.hubs, conn, links, i)?;
                    let copy = credit.split(share).ok_or(HubStopped)?;
                    send_inbound(self.hubs.worker(i), conn, message.clone(), copy)?;
                }
                Ok(send_inbound(self.hubs.primary(), conn, message, credit)?)
            }
        }
    }

    /// The connection ended (`refused` for what it was closed for): every worker that knows
    /// it forgets it, the primary last (so that what it frees, a peer id or a storage-id
    /// claim, is free on every worker); a refusal is counted once, by the primary.
    pub fn close(&mut self, refused: Option<&'static str>) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let conn = self.conn;
        let attached = self.links.as_ref().map_or(1, |l| l.attached);
        for i in 1..self.hubs.count() {
            if attached & (1 << i) != 0 {
                let _ = self
                    .hubs
                    .worker(i)
                    .send(Command::Input(HubInput::Disconnect { conn }));
            }
        }
        let _ = self.hubs.primary().send(Command::Input(match refused {
            Some(kind) => HubInput::Refused { conn, kind },
            None => HubInput::Disconnect { conn },
        }));
    }
}

impl Drop for Routing {
    /// However the connection's task ends (a panic, a dropped future), the workers forget it.
    fn drop(&mut self) {
        self.close(None);
    }
}

fn send_inbound(
    worker: &crate::shell::HubSender,
    conn: ConnId,
    message: Message,
    credit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), HubStopped> {
    worker
        .send(Command::Inbound {
            conn,
            message,
            credit,
        })
        .map_err(|_| HubStopped)
}

/// Makes worker `i` know the connection, established as its handshake said.
fn attach(hubs: &Hubs, conn: ConnId, links: &mut Links, i: usize) -> Result<(), HubStopped> {
    if links.attached & (1 << i) != 0 {
        return Ok(());
    }
    let Some(identity) = links.identity.clone() else {
        return Err(HubStopped);
    };
    let worker = hubs.worker(i);
    worker
        .send(Command::Register {
            conn,
            outbound: Outlet {
                queue: links.queue.clone(),
                backlog: Arc::clone(&links.backlog),
                overflowed: links.overflowed.clone(),
            },
        })
        .map_err(|_| HubStopped)?;
    worker
        .send(Command::Input(HubInput::Attach {
            conn,
            principal: links.principal.clone(),
            identity,
        }))
        .map_err(|_| HubStopped)?;
    links.attached |= 1 << i;
    Ok(())
}
