//! Who may do what with a document: the policy the hub asks for every (connection, document),
//! built from a snapshot of the directory (decisions.md "Access", domain.md §7.2).
//!
//! A denied document is answered exactly like a missing one (`doc-unavailable`).

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use automerge::{Automerge, ROOT, ReadDoc};
use nachbar_core::doc::{DocKind, Header};

use crate::storage::Directory;

/// What a connection may do with one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Nothing: the document is answered as unavailable.
    None,
    /// Sync in read-only mode: changes from the peer are not applied.
    Read,
    /// Read and write.
    Write,
}

/// What a document is, as far as access rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocInfo {
    /// A generic automerge document without a nachbar header (sandbox only).
    Generic,
    /// A nachbar document with its header and, for a workshop, the invited people.
    Nachbar(Header, BTreeSet<String>),
}

impl DocInfo {
    /// What `doc` is: its header (a document without one is generic) and, for a workshop, the
    /// person ids of its `participants`.
    pub fn read(doc: &Automerge) -> DocInfo {
        match Header::read(doc) {
            Ok(header) => {
                let invited = if header.kind == DocKind::Workshop {
                    match doc.get(ROOT, "participants") {
                        Ok(Some((_, obj))) => doc.keys(&obj).collect(),
                        _ => BTreeSet::new(),
                    }
                } else {
                    BTreeSet::new()
                };
                DocInfo::Nachbar(header, invited)
            }
            Err(_) => DocInfo::Generic,
        }
    }

    /// The header, for nachbar documents.
    pub fn header(&self) -> Option<&Header> {
        match self {
            DocInfo::Generic => None,
            DocInfo::Nachbar(h, _) => Some(h),
        }
    }
}

/// The authenticated user of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The directory id of the user.
    pub user_id: String,
    /// SHA-256 of the token the connection was opened with (to notice revocation).
    pub token_hash: String,
}

/// The access rules.
pub trait Policy: Send + Sync + std::fmt::Debug {
    /// What `who` may do with an existing document.
    fn access(&self, who: &Principal, doc: &DocInfo) -> Access;

    /// Whether `who` may create (register) a new document like `doc`.
    fn may_create(&self, who: &Principal, doc: &DocInfo) -> bool;

    /// Whether the token of `who` still authenticates.
    fn token_active(&self, who: &Principal) -> bool;

    /// Whether `who` may record a sign-off in `role` (a role code) on a document with
    /// `header`: an owner of its business as owner, a coach of it as coach.
    fn may_sign_as(&self, who: &Principal, header: &Header, role: &str) -> bool {
        let _ = (who, header, role);
        false
    }
}

/// The roles of decisions.md over a directory snapshot.
#[derive(Debug, Clone, Default)]
pub struct DirectoryPolicy {
    dir: Directory,
}

/// The role names of the directory.
pub mod roles {
    /// Runs the server: catalogue and neighbourhood documents.
    pub const ADMIN: &str = "admin";
    /// Guides a neighbourhood (scope: neighbourhood).
    pub const COORDINATOR: &str = "coordinator";
    /// Coaches assigned businesses (scope: business).
    pub const COACH: &str = "coach";
    /// Owns a business (scope: business).
    pub const OWNER: &str = "owner";
    /// Staff delegated by the owner (scope: business).
    pub const STAFF: &str = "staff";
    /// Generic documents only (no scope).
    pub const SANDBOX: &str = "sandbox";
    /// Every role.
    pub const ALL: &[&str] = &[ADMIN, COORDINATOR, COACH, OWNER, STAFF, SANDBOX];
}

impl DirectoryPolicy {
    /// The policy of a directory snapshot.
    pub fn new(dir: Directory) -> Self {
        DirectoryPolicy { dir }
    }

    /// The directory version it was built from.
    pub fn version(&self) -> i64 {
        self.dir.version
    }

    /// The directory snapshot it decides on.
    pub fn directory(&self) -> &Directory {
        &self.dir
    }

    /// The roles of `user`: (role, scope) pairs.
    pub fn roles_of<'a>(&'a self, user: &str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.dir
            .roles
            .get(user)
            .into_iter()
            .flatten()
            .map(|(r, s)| (r.as_str(), s.as_str()))
    }

    fn roles<'a>(&'a self, who: &Principal) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.roles_of(&who.user_id)
    }

    fn has(&self, who: &Principal, role: &str, scope: &str) -> bool {
        self.roles(who).any(|(r, s)| r == role && s == scope)
    }

    fn business_in(&self, business: &str, neighbourhood: &str) -> bool {
        self.dir
            .businesses
            .get(business)
            .is_some_and(|b| b.active && b.neighbourhood == neighbourhood)
    }

    /// Owner or staff of `business`.
    fn of_business(&self, who: &Principal, business: &str) -> bool {
        self.has(who, roles::OWNER, business) || self.has(who, roles::STAFF, business)
    }

    /// Works in the neighbourhood: coordinator, coach of one of its businesses, or owner/staff
    /// of an active member business.
    fn in_neighbourhood(&self, who: &Principal, n: &str) -> bool {
        self.roles(who).any(|(role, scope)| match role {
            roles::COORDINATOR => scope == n,
            roles::COACH | roles::OWNER | roles::STAFF => self.business_in(scope, n),
            _ => false,
        })
    }

    /// Reads (and edits) every workshop of neighbourhood `n`: its coordinator or a coach of one
    /// of its businesses.
    pub fn sees_every_workshop(&self, who: &Principal, n: &str) -> bool {
        self.has(who, roles::COORDINATOR, n) || self.coach_in(who, n)
    }

    fn coach_in(&self, who: &Principal, n: &str) -> bool {
        self.roles(who)
            .any(|(role, scope)| role == roles::COACH && self.business_in(scope, n))
    }

    fn nachbar_access(&self, who: &Principal, h: &Header, invited: &BTreeSet<String>) -> Access {
        let n = h.neighbourhood.as_str();
        let write_if = |ok: bool| if ok { Access::Write } else { Access::None };
        match h.kind {
            DocKind::Catalogue => {
                if self.has(who, roles::ADMIN, "") {
                    Access::Write
                } else if self.roles(who).any(|(r, _)| r != roles::SANDBOX) {
                    Access::Read
                } else {
                    Access::None
                }
            }
            DocKind::Neighbourhood => {
                if self.has(who, roles::ADMIN, "")
                    || self.has(who, roles::COORDINATOR, n)
                    || self.coach_in(who, n)
                {
                    Access::Write
                } else if self.in_neighbourhood(who, n) {
                    Access::Read
                } else {
                    Access::None
                }
            }
            DocKind::BusinessProfile => {
                let Some(b) = h.business.as_deref() else {
                    return Access::None;
                };
                let own = self.of_business(who, b) || self.has(who, roles::COACH, b);
                let member = self
                    .dir
                    .businesses
                    .get(b)
                    .is_some_and(|e| e.neighbourhood == n);
                if own && member {
                    Access::Write
                } else if self.business_in(b, n) && self.in_neighbourhood(who, n) {
                    Access::Read
                } else {
                    Access::None
                }
            }
            DocKind::Assessment | DocKind::ActionPlan => {
                // Confidential: the business and its coach only; never coordinators or admins.
                let Some(b) = h.business.as_deref() else {
                    return Access::None;
                };
                let member = self
                    .dir
                    .businesses
                    .get(b)
                    .is_some_and(|e| e.neighbourhood == n);
                write_if(member && (self.of_business(who, b) || self.has(who, roles::COACH, b)))
            }
            DocKind::Workshop => {
                if self.sees_every_workshop(who, n) {
                    Access::Write
                } else if self.in_neighbourhood(who, n) && invited.contains(&who.user_id) {
                    // Members read the workshops they are invited to.
                    Access::Read
                } else {
                    Access::None
                }
            }
        }
    }
}

impl Policy for DirectoryPolicy {
    fn access(&self, who: &Principal, doc: &DocInfo) -> Access {
        match doc {
            DocInfo::Generic if self.has(who, roles::SANDBOX, "") => Access::Write,
            DocInfo::Generic => Access::None,
            DocInfo::Nachbar(h, invited) => self.nachbar_access(who, h, invited),
        }
    }

    fn may_create(&self, who: &Principal, doc: &DocInfo) -> bool {
        let ok = self.access(who, doc) == Access::Write;
        match doc {
            DocInfo::Generic => ok,
            DocInfo::Nachbar(h, _) => {
                let place_exists = match (h.kind, h.business.as_deref()) {
                    (DocKind::Catalogue, _) => true,
                    (_, Some(b)) => self.business_in(b, &h.neighbourhood),
                    (_, None) => self.dir.neighbourhoods.contains(&h.neighbourhood),
                };
                ok && place_exists && h.created_by == who.user_id
            }
        }
    }

    fn token_active(&self, who: &Principal) -> bool {
        self.dir.active_tokens.contains(&who.token_hash)
    }

    fn may_sign_as(&self, who: &Principal, header: &Header, role: &str) -> bool {
        let Some(business) = header.business.as_deref() else {
            return false;
        };
        let needed = match role {
            "owner" => roles::OWNER,
            "coach" => roles::COACH,
            _ => return false,
        };
        self.business_in(business, &header.neighbourhood) && self.has(who, needed, business)
    }
}

/// The current access rules, shared by the hub task (which replaces them when the directory
/// changes) and the web app (which decides pages by the same rules).
#[derive(Debug, Clone, Default)]
pub struct PolicyCell(Arc<RwLock<Arc<DirectoryPolicy>>>);

impl PolicyCell {
    /// A cell holding `policy`.
    pub fn new(policy: Arc<DirectoryPolicy>) -> Self {
        PolicyCell(Arc::new(RwLock::new(policy)))
    }

    /// The rules now.
    pub fn current(&self) -> Arc<DirectoryPolicy> {
        match self.0.read() {
            Ok(p) => Arc::clone(&p),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the rules (a newer directory version only).
    pub fn set(&self, policy: Arc<DirectoryPolicy>) {
        let mut slot = match self.0.write() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if policy.version() >= slot.version() {
            *slot = policy;
        }
    }
}

#[cfg(test)]
mod tests;
