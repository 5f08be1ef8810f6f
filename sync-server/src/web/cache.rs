//! Read models of stored documents, kept per document and version (the last chunk sequence
//! number, which every commit and compaction moves), so a page hydrates only what changed
//! since it was last shown. Bounded: past [`MAX_DOCS`] entries the cache starts over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::ActorId;
use nachbar_core::DomainError;
use nachbar_core::doc::{DocKind, NachbarDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::action_plan::{ActionPlanDoc, ActionPlanView};
use nachbar_core::model::assessment::{AssessmentDoc, AssessmentView};
use nachbar_core::model::business_profile::{BusinessProfileDoc, BusinessProfileView};
use nachbar_core::model::neighbourhood::{NeighbourhoodDoc, NeighbourhoodView};
use nachbar_core::model::workshop::{WorkshopDoc, WorkshopView};

use crate::access::DocInfo;

/// Most documents kept.
pub const MAX_DOCS: usize = 4096;

/// A document's read model.
#[derive(Debug)]
pub enum View {
    /// A neighbourhood.
    Neighbourhood(NeighbourhoodView),
    /// A business profile.
    Profile(BusinessProfileView),
    /// A workshop.
    Workshop(WorkshopView),
    /// An action plan, with its heads (hex).
    Plan(Box<ActionPlanView>, Vec<String>),
    /// An assessment, with its heads (hex).
    Assessment(Box<AssessmentView>, Vec<String>),
}

/// A hydrated document: what access rules need and its read model.
#[derive(Debug)]
pub struct Hydrated {
    /// For access decisions.
    pub info: DocInfo,
    /// The read model.
    pub view: View,
}

impl Hydrated {
    /// Hydrates saved bytes of any kind but the catalogue (`None`).
    ///
    /// # Errors
    /// When the bytes do not load or have not the shape of their kind.
    pub fn from_bytes(bytes: &[u8]) -> Result<Option<Hydrated>, DomainError> {
        let doc = NachbarDoc::load(bytes, ActorId::random())?;
        let info = DocInfo::read(doc.automerge());
        let view = match doc.kind() {
            DocKind::Neighbourhood => View::Neighbourhood(NeighbourhoodDoc::open(doc)?.view()?),
            DocKind::BusinessProfile => View::Profile(BusinessProfileDoc::open(doc)?.view()?),
            DocKind::Workshop => View::Workshop(WorkshopDoc::open(doc)?.view()?),
            DocKind::ActionPlan => {
                let heads = doc.heads().iter().map(ToString::to_string).collect();
                View::Plan(Box::new(ActionPlanDoc::open(doc)?.view()?), heads)
            }
            DocKind::Assessment => {
                let heads = doc.heads().iter().map(ToString::to_string).collect();
                View::Assessment(Box::new(AssessmentDoc::open(doc)?.view()?), heads)
            }
            DocKind::Catalogue => return Ok(None),
        };
        Ok(Some(Hydrated { info, view }))
    }
}

/// The cache.
#[derive(Debug, Default)]
pub struct ViewCache {
    entries: Mutex<HashMap<DocumentId, (i64, Arc<Hydrated>)>>,
    /// Documents whose stored version does not hydrate (a peer wrote a shape the model
    /// refuses): left out of pages until they change, and not loaded again meanwhile.
    broken: Mutex<HashMap<DocumentId, i64>>,
}

impl ViewCache {
    /// Whether `doc` at `version` is known not to hydrate.
    pub fn is_broken(&self, doc: &DocumentId, version: i64) -> bool {
        self.broken
            .lock()
            .is_ok_and(|b| b.get(doc) == Some(&version))
    }

    /// Remembers that `doc` at `version` does not hydrate.
    pub fn mark_broken(&self, doc: DocumentId, version: i64) {
        if let Ok(mut b) = self.broken.lock() {
            if b.len() >= MAX_DOCS && !b.contains_key(&doc) {
                b.clear();
            }
            b.insert(doc, version);
        }
    }

    /// The cached read model of `doc` at `version`, if any.
    pub fn get(&self, doc: &DocumentId, version: i64) -> Option<Arc<Hydrated>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(doc)
            .filter(|(v, _)| *v == version)
            .map(|(_, h)| Arc::clone(h))
    }

    /// Keeps the read model of `doc` at `version`.
    pub fn put(&self, doc: DocumentId, version: i64, hydrated: Arc<Hydrated>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_DOCS && !entries.contains_key(&doc) {
                entries.clear();
            }
            entries.insert(doc, (version, hydrated));
        }
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
