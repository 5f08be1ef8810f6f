//! Arrangements shared by the unit tests of the store and the session.

use crate::catalogue;
use crate::doc::EditContext;
use crate::ids::DocumentId;
use crate::label::Lang;
use crate::model::assessment::{AssessmentDoc, NewAssessment};
use crate::store::Replica;
use crate::time::Timestamp;

/// The coach editing at a fixed time.
pub(crate) fn ctx() -> EditContext {
    EditContext::new("coach", Timestamp(1_700_000_000_000))
}

/// A new T0 assessment of the glazier, created on `replica`.
pub(crate) fn new_assessment(replica: &mut Replica) -> DocumentId {
    let new = NewAssessment {
        neighbourhood: "hood",
        business: "glaserei",
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some("coach"),
        language: Lang::De,
    };
    replica
        .create(|actor| AssessmentDoc::create(actor, &ctx(), &new))
        .expect("created")
}
