//! The `catalogue` document: a published release as an immutable, read-only document.

use automerge::{ActorId, ROOT};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, DocKind, EditContext, Header, NachbarDoc, tree};
use crate::model::typed_doc;

use super::CatalogueRelease;

typed_doc! {
    /// A published catalogue release (read-only for everyone but admins).
    CatalogueDoc, DocKind::Catalogue
}

impl CatalogueDoc {
    /// Publishes `release` as a new catalogue document of `neighbourhood` (or `*` for all).
    ///
    /// # Errors
    /// When the release is inconsistent.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        neighbourhood: &str,
        release: &CatalogueRelease,
    ) -> Result<(Self, Applied), DomainError> {
        release.validate()?;
        let json = serde_json::to_value(release).map_err(|e| DomainError::shape("release", e))?;
        let header = Header::new(
            DocKind::Catalogue,
            neighbourhood,
            None,
            &ctx.person,
            ctx.now,
        );
        let (doc, applied) = NachbarDoc::create(actor, ctx, header, |tx| {
            write::create(tx, &ROOT, "release", Node::from_json(&json))?;
            Ok(())
        })?;
        Ok((Self { doc }, applied))
    }

    /// The release this document publishes.
    ///
    /// # Errors
    /// [`DomainError::Shape`] when the content is not a release.
    pub fn release(&self) -> Result<CatalogueRelease, DomainError> {
        let json = tree::read_key(self.doc.automerge(), &ROOT, "release")?
            .ok_or_else(|| DomainError::shape("release", "missing"))?;
        let release: CatalogueRelease = tree::from_json("release", json)?;
        release.validate()?;
        Ok(release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    #[test]
    fn a_published_release_reads_back_identically() {
        let ctx = EditContext::new("admin", Timestamp(1_764_000_000_000));
        let (doc, applied) =
            CatalogueDoc::create(ActorId::random(), &ctx, "*", super::super::release_1_1())
                .unwrap();
        assert!(applied.change.is_some());
        let loaded = NachbarDoc::load(&doc.inner().save(), ActorId::random()).unwrap();
        let loaded = CatalogueDoc::open(loaded).unwrap();
        assert_eq!(&loaded.release().unwrap(), super::super::release_1_1());
    }
}
