//! Who may do what with a document: the policy the hub asks for every (connection, document).
//!
//! A denied document is answered exactly like a missing one (`doc-unavailable`).

use nachbar_core::doc::Header;

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
    /// A nachbar document with its header.
    Nachbar(Header),
}

/// The authenticated user of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The directory id of the user.
    pub user_id: String,
    /// Role assignments: (role, scope).
    pub roles: Vec<(String, String)>,
}

impl Principal {
    /// Whether the user holds `role` in any scope.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|(r, _)| r == role)
    }
}

/// The access rules.
pub trait Policy: Send + Sync + std::fmt::Debug {
    /// What `who` may do with an existing document.
    fn access(&self, who: &Principal, doc: &DocInfo) -> Access;

    /// Whether `who` may create (register) a new document like `doc`.
    fn may_create(&self, who: &Principal, doc: &DocInfo) -> bool;
}

/// The rules of decisions.md for the sandbox role: generic documents, shared among sandbox
/// users, and nothing else. Every other role is answered by [`Policy`] implementations over the
/// directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxPolicy;

impl Policy for SandboxPolicy {
    fn access(&self, who: &Principal, doc: &DocInfo) -> Access {
        match doc {
            DocInfo::Generic if who.has_role("sandbox") => Access::Write,
            _ => Access::None,
        }
    }

    fn may_create(&self, who: &Principal, doc: &DocInfo) -> bool {
        self.access(who, doc) == Access::Write
    }
}
