//! The documents of one user on one device: typed edits that are committed to the local store
//! before the call returns, documents created offline, changes received from the server.

use std::collections::HashMap;
use std::path::Path;

use automerge::{ActorId, Automerge, ChangeHash};

use super::{Durability, LocalStore, StoreError, unacknowledged};
use crate::DomainError;
use crate::doc::{Applied, NachbarDoc};
use crate::ids::DocumentId;
use crate::model::TypedDoc;

/// Why a replica operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// The edit was refused by the domain rules; nothing changed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The local store failed; the edit was not kept.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such document on this device.
    #[error("document {0} is not on this device")]
    Missing(DocumentId),
    /// Only a document set aside (the server no longer lists it, or refused it) can be
    /// discarded; a listed one syncs, and one created here waits for its first upload.
    #[error("document {0} is not set aside (it syncs with the server): it cannot be discarded")]
    NotSetAside(DocumentId),
}

/// What [`Replica::settle_withdrawn`] did with the documents the server no longer lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Removed from the device: the server had acknowledged everything they held.
    pub purged: Vec<DocumentId>,
    /// Kept aside with their count of changes the server has not acknowledged.
    pub kept: Vec<(DocumentId, usize)>,
}

/// What a typed edit returns; the replica persists the change itself and hands back the rest.
pub trait EditResult {
    /// What the caller gets.
    type Output;

    /// Drops the change (already persisted by the replica).
    fn into_output(self) -> Self::Output;
}

impl EditResult for Applied {
    type Output = ();

    fn into_output(self) -> Self::Output {}
}

impl<T> EditResult for (T, Applied) {
    type Output = T;

    fn into_output(self) -> Self::Output {
        self.0
    }
}

/// The user's documents on this device, loaded on first use and kept in memory.
#[derive(Debug)]
pub struct Replica {
    store: LocalStore,
    docs: HashMap<DocumentId, Automerge>,
}

impl Replica {
    /// Opens the user's database at `path`.
    ///
    /// # Errors
    /// When the store cannot be opened.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, ReplicaError> {
        Ok(Replica {
            store: LocalStore::open(path, durability)?,
            docs: HashMap::new(),
        })
    }

    /// The store underneath.
    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    /// The store underneath, for sync bookkeeping.
    pub fn store_mut(&mut self) -> &mut LocalStore {
        &mut self.store
    }

    /// This device's actor id for this user.
    pub fn actor(&self) -> ActorId {
        self.store.actor().clone()
    }

    /// Unwraps the store (to wipe it).
    pub fn into_store(self) -> LocalStore {
        self.store
    }

    /// The Automerge document `id`, loaded from the store on first use.
    ///
    /// # Errors
    /// [`ReplicaError::Missing`] when it is not on this device; store errors.
    pub fn automerge(&mut self, id: &DocumentId) -> Result<&mut Automerge, ReplicaError> {
        if !self.docs.contains_key(id) {
            let doc = self.store.load(id)?.ok_or(ReplicaError::Missing(*id))?;
            self.store.note_loaded_heads(id, &doc.get_heads())?;
            self.docs.insert(*id, doc);
        }
        self.docs.get_mut(id).ok_or(ReplicaError::Missing(*id))
    }

    /// Whether `id` is in memory (tests of lazy loading).
    #[cfg(test)]
    pub(crate) fn is_loaded(&self, id: &DocumentId) -> bool {
        self.docs.contains_key(id)
    }

    /// Whether `id` is on this device.
    ///
    /// # Errors
    /// Store errors.
    pub fn contains(&mut self, id: &DocumentId) -> Result<bool, ReplicaError> {
        match self.automerge(id) {
            Ok(_) => Ok(true),
            Err(ReplicaError::Missing(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates a document with `make` (given this device's actor) and commits it.
    ///
    /// # Errors
    /// Whatever `make` returns; store errors (nothing is kept then).
    pub fn create<T: TypedDoc>(
        &mut self,
        make: impl FnOnce(ActorId) -> Result<(T, Applied), DomainError>,
    ) -> Result<DocumentId, ReplicaError> {
        // The whole document is persisted below, not only its first change.
        let (typed, _first) = make(self.actor())?;
        let id = DocumentId::random();
        let doc = typed.into_inner().automerge().clone();
        self.store.append(&id, &doc.save(), &[], &doc.get_heads())?;
        self.docs.insert(id, doc);
        Ok(id)
    }

    /// Reads document `id` as `T`.
    ///
    /// # Errors
    /// When it is missing or of another kind.
    pub fn read<T: TypedDoc>(&mut self, id: &DocumentId) -> Result<T, ReplicaError> {
        let doc = self.automerge(id)?.clone();
        Ok(T::open(NachbarDoc::from_automerge(doc)?)?)
    }

    /// Runs one typed edit on document `id` and commits its change to the store before
    /// returning: one call, one change, one local commit. When the store fails the edit is
    /// undone in memory too.
    ///
    /// # Errors
    /// Domain errors (nothing changed), store errors (nothing kept), a missing document.
    pub fn edit<T: TypedDoc, R: EditResult>(
        &mut self,
        id: &DocumentId,
        f: impl FnOnce(&mut T) -> Result<R, DomainError>,
    ) -> Result<R::Output, ReplicaError> {
        let doc = self.automerge(id)?.clone();
        let before = doc.get_heads();
        let mut typed = T::open(NachbarDoc::from_automerge(doc)?)?;
        let out = f(&mut typed)?;
        let after = typed.into_inner().automerge().clone();
        let bytes = after.save_after(&before);
        self.store.append(id, &bytes, &before, &after.get_heads())?;
        self.docs.insert(*id, after);
        self.compact_if_due(id)?;
        Ok(out.into_output())
    }

    /// Applies changes received for `id` (creating the document when it is new here) and
    /// commits them; returns the heads before and after.
    ///
    /// # Errors
    /// When the bytes do not apply; store errors (nothing kept).
    pub fn apply(
        &mut self,
        id: &DocumentId,
        bytes: &[u8],
    ) -> Result<(Vec<ChangeHash>, Vec<ChangeHash>), ReplicaError> {
        let mut doc = match self.automerge(id) {
            Ok(doc) => doc.clone(),
            Err(ReplicaError::Missing(_)) => Automerge::new().with_actor(self.actor()),
            Err(e) => return Err(e),
        };
        let before = doc.get_heads();
        doc.load_incremental(bytes).map_err(DomainError::from)?;
        let after = doc.get_heads();
        if after != before {
            self.store
                .append(id, &doc.save_after(&before), &before, &after)?;
            self.docs.insert(*id, doc);
            self.compact_if_due(id)?;
        }
        Ok((before, after))
    }

    /// Commits what Automerge's sync put into the in-memory document `id` since `before`.
    ///
    /// # Errors
    /// Store errors: the in-memory copy is dropped then (it reloads from the store).
    pub fn commit_received(
        &mut self,
        id: &DocumentId,
        before: &[ChangeHash],
    ) -> Result<(), ReplicaError> {
        let Some(doc) = self.docs.get(id) else {
            return Ok(());
        };
        if doc.get_heads() == before {
            return Ok(());
        }
        let bytes = doc.save_after(before);
        if let Err(e) = self.store.append(id, &bytes, before, &doc.get_heads()) {
            self.docs.remove(id);
            return Err(e.into());
        }
        self.compact_if_due(id)
    }

    /// Inserts a document received from the server that was not on this device (the caller
    /// commits it with [`Replica::commit_received`]).
    pub fn adopt(&mut self, id: DocumentId) -> &mut Automerge {
        let actor = self.actor();
        self.docs
            .entry(id)
            .or_insert_with(|| Automerge::new().with_actor(actor))
    }

    /// Local changes of `id` the server has not acknowledged.
    ///
    /// # Errors
    /// Store errors.
    pub fn unacknowledged(&mut self, id: &DocumentId) -> Result<usize, ReplicaError> {
        let acked = self.store.status(id)?.acked_heads;
        Ok(unacknowledged(self.automerge(id)?, &acked))
    }

    /// Local changes of `id` that the server with `storage_id` has not acknowledged (every
    /// change counts when the acknowledgement is of another server, or there is none).
    ///
    /// # Errors
    /// Store errors; a missing document.
    pub fn unacknowledged_by(
        &mut self,
        id: &DocumentId,
        storage_id: &str,
    ) -> Result<usize, ReplicaError> {
        let status = self.store.status(id)?;
        let acked = if status.acked_storage.as_deref() == Some(storage_id) {
            status.acked_heads
        } else {
            Vec::new()
        };
        Ok(unacknowledged(self.automerge(id)?, &acked))
    }

    /// Decides the documents the server no longer lists, once connected to the server with
    /// `storage_id`: one whose every change that server acknowledged is removed; one with
    /// changes it lacks is kept aside (never removed silently) until it is listed again,
    /// delivered, or discarded by the user.
    ///
    /// # Errors
    /// Store errors; the undecided documents stay withdrawn then.
    pub fn settle_withdrawn(&mut self, storage_id: &str) -> Result<Settled, ReplicaError> {
        let mut settled = Settled::default();
        for id in self.store.withdrawn()? {
            let pending = match self.contains(&id) {
                Ok(true) => match self.unacknowledged_by(&id, storage_id) {
                    Ok(n) => n,
                    // A document that does not load is kept (never removed unread).
                    Err(ReplicaError::Store(StoreError::Corrupt { .. })) => usize::MAX,
                    Err(e) => return Err(e),
                },
                Ok(false) => 0,
                Err(ReplicaError::Store(StoreError::Corrupt { .. })) => usize::MAX,
                Err(e) => return Err(e),
            };
            if pending == 0 {
                self.purge(&id)?;
                settled.purged.push(id);
            } else {
                settled.kept.push((id, pending));
            }
        }
        Ok(settled)
    }

    /// The whole document `id` as Automerge bytes (an `.automerge` file), to export work the
    /// server would not take.
    ///
    /// # Errors
    /// A missing document; store errors.
    pub fn export(&mut self, id: &DocumentId) -> Result<Vec<u8>, ReplicaError> {
        Ok(self.automerge(id)?.save())
    }

    /// Removes a set-aside document (withdrawn or refused, not listed), unacknowledged changes
    /// and all, on the user's explicit request.
    ///
    /// # Errors
    /// [`ReplicaError::NotSetAside`] for any other document; a missing one; store errors.
    pub fn discard(&mut self, id: &DocumentId) -> Result<(), ReplicaError> {
        if !self.contains(id)? {
            return Err(ReplicaError::Missing(*id));
        }
        let status = self.store.status(id)?;
        if status.listed || !(status.withdrawn || status.refused) {
            return Err(ReplicaError::NotSetAside(*id));
        }
        self.purge(id)
    }

    /// Removes `id` from memory and from the device.
    fn purge(&mut self, id: &DocumentId) -> Result<(), ReplicaError> {
        self.docs.remove(id);
        self.store.purge(id)?;
        Ok(())
    }

    fn compact_if_due(&mut self, id: &DocumentId) -> Result<(), ReplicaError> {
        if self.store.chunk_stats(id)?.wants_compaction()
            && let Some(doc) = self.docs.get(id)
        {
            self.store.compact(id, doc)?;
        }
        Ok(())
    }
}
