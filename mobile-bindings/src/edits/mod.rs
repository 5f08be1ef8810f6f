//! What coaches, businesses and coordinators do in the app: the typed edits and read models,
//! one file per document kind. Each edit is committed on the device before the call returns
//! and synced by itself.

mod action_plan;
mod assessment;
mod neighbourhood;
mod profile;
mod review;
mod workshop;

pub use neighbourhood::NewOfferingRecord;

use nachbar_core::DomainError;
use nachbar_core::doc::{Applied, EditContext};
use nachbar_core::label::Lang;
use nachbar_core::model::TypedDoc;
use nachbar_core::store::EditResult;

use crate::client::document_id;
use crate::{MobileError, NachbarClient};

pub(crate) fn language(code: &str) -> Result<Lang, MobileError> {
    match code {
        "de" => Ok(Lang::De),
        "en" => Ok(Lang::En),
        other => Err(MobileError::InvalidInput {
            detail: format!("language must be \"de\" or \"en\", got {other:?}"),
        }),
    }
}

impl NachbarClient {
    /// Creates a document with this user's edit context; returns its id.
    pub(crate) fn create<T: TypedDoc>(
        &self,
        make: impl FnOnce(
            nachbar_core::automerge::ActorId,
            &EditContext,
        ) -> Result<(T, Applied), DomainError>,
    ) -> Result<String, MobileError> {
        let ctx = self.ctx();
        Ok(self.client.create(|actor| make(actor, &ctx))?.to_string())
    }

    /// Runs one typed edit of the document `id` with this user's edit context.
    pub(crate) fn edit<T: TypedDoc, R: EditResult>(
        &self,
        id: &str,
        f: impl FnOnce(&mut T, &EditContext) -> Result<R, DomainError>,
    ) -> Result<R::Output, MobileError> {
        let (doc, ctx) = (document_id(id)?, self.ctx());
        Ok(self.client.edit(&doc, |t: &mut T| f(t, &ctx))?)
    }

    /// Reads the document `id` as `T`.
    pub(crate) fn read<T: TypedDoc>(&self, id: &str) -> Result<T, MobileError> {
        Ok(self.client.read::<T>(&document_id(id)?)?)
    }
}
