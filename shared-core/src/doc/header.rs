//! The header every nachbar document carries at the root key `nachbar`, written in its first
//! change and never changed afterwards (decisions.md, "Documents").

use automerge::{ObjType, ROOT, ReadDoc, transaction::Transactable};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::label::coded_enum;
use crate::time::Timestamp;

use super::tree;

/// The root key that holds the header.
pub const HEADER_KEY: &str = "nachbar";

/// The schema this build writes. Readers read older versions; a newer major version is
/// readable on a best-effort basis but refuses edits.
pub const SCHEMA_VERSION: &str = "1.0";

/// The newest major schema version this build can edit.
pub const SUPPORTED_MAJOR: u32 = 1;

coded_enum! {
    /// What a document is; one confidentiality level and one writer group per kind.
    DocKind, "document kind" {
        /// The neighbourhood: members, calendar, joint offerings.
        Neighbourhood = "neighbourhood", "Nachbarschaft", "Neighbourhood";
        /// A business's public profile inside the neighbourhood.
        BusinessProfile = "business-profile", "Betriebsprofil", "Business profile";
        /// One assessment of one business (confidential: business and coach).
        Assessment = "assessment", "Bestandsaufnahme", "Assessment";
        /// The action plan of one business (confidential: business and coach).
        ActionPlan = "action-plan", "Maßnahmenplan", "Action plan";
        /// One workshop: plan, agenda, outcomes.
        Workshop = "workshop", "Workshop", "Workshop";
        /// A published catalogue release (read-only).
        Catalogue = "catalogue", "Katalog", "Catalogue";
    }
}

/// The fixed header of a nachbar document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// What the document is.
    pub kind: DocKind,
    /// The schema version the document was written with, `major.minor`.
    pub schema: String,
    /// The neighbourhood the document belongs to.
    pub neighbourhood: String,
    /// The business the document belongs to, for business-owned kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<String>,
    /// The person who created the document.
    pub created_by: String,
    /// When it was created (device clock; display only).
    pub created_at: Timestamp,
}

impl Header {
    /// A header for a new document written with the current schema.
    pub fn new(
        kind: DocKind,
        neighbourhood: impl Into<String>,
        business: Option<String>,
        created_by: impl Into<String>,
        created_at: Timestamp,
    ) -> Self {
        Self {
            kind,
            schema: SCHEMA_VERSION.to_owned(),
            neighbourhood: neighbourhood.into(),
            business,
            created_by: created_by.into(),
            created_at,
        }
    }

    /// Reads the header of a document.
    ///
    /// # Errors
    /// [`DomainError::MissingHeader`] when there is none, [`DomainError::Shape`] when it is
    /// malformed.
    pub fn read(doc: &impl ReadDoc) -> Result<Self, DomainError> {
        let Some((value, id)) = doc.get(ROOT, HEADER_KEY)? else {
            return Err(DomainError::MissingHeader);
        };
        if value.to_objtype() != Some(ObjType::Map) {
            return Err(DomainError::shape(HEADER_KEY, "header is not a map"));
        }
        let json = tree::read_object(doc, &id, ObjType::Map)?;
        serde_json::from_value(json).map_err(|e| DomainError::shape(HEADER_KEY, e))
    }

    /// The major part of the schema version.
    pub fn schema_major(&self) -> Option<u32> {
        self.schema.split('.').next()?.parse().ok()
    }

    /// Whether this build may edit a document with this header.
    ///
    /// # Errors
    /// [`DomainError::NewerSchema`] for a newer (or unreadable) major version.
    pub fn ensure_editable(&self) -> Result<(), DomainError> {
        match self.schema_major() {
            Some(major) if major <= SUPPORTED_MAJOR => Ok(()),
            _ => Err(DomainError::NewerSchema {
                found: self.schema.clone(),
                supported: SCHEMA_VERSION.to_owned(),
            }),
        }
    }

    /// Writes the header into a new document.
    pub(crate) fn write(&self, tx: &mut impl Transactable) -> Result<(), DomainError> {
        let obj = tx.put_object(ROOT, HEADER_KEY, ObjType::Map)?;
        tx.put(&obj, "kind", self.kind.code())?;
        tx.put(&obj, "schema", self.schema.as_str())?;
        tx.put(&obj, "neighbourhood", self.neighbourhood.as_str())?;
        if let Some(business) = &self.business {
            tx.put(&obj, "business", business.as_str())?;
        }
        tx.put(&obj, "created_by", self.created_by.as_str())?;
        tx.put(&obj, "created_at", self.created_at.millis())?;
        Ok(())
    }
}
