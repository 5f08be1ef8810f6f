//! A business's home: its action plans and assessments with where they stand, for its
//! owner, its staff and its coach (anyone else: 404, like a business that does not exist).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use nachbar_core::ids::DocumentId;

use crate::access::{Access, DocInfo, Policy};
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::frame::{Frame, ok};
use crate::web::i18n_business::BusinessTexts;
use crate::web::read;
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::business::{
    AssessmentSummary, PlanSummary, assessment_summary, plan_summary,
};
use crate::web::views::today;

/// The business's home page.
#[derive(Debug, Template)]
#[template(path = "business.html")]
pub struct BusinessPage {
    /// The frame.
    pub frame: Frame,
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// Action plans.
    pub plans: Vec<PlanSummary>,
    /// Assessments, newest first.
    pub assessments: Vec<AssessmentSummary>,
    /// Whether the user may edit (answer questions).
    pub writable: bool,
    /// The profile-and-sharing page.
    pub profile: String,
}

/// Whether `who` works for or coaches active business `business`: the access rules decide
/// on a plan of that business, exactly as for the business's confidential documents.
pub fn may_see_business(who: &SignedIn, business: &str) -> bool {
    let dir = who.policy.directory();
    let Some(entry) = dir.businesses.get(business).filter(|b| b.active) else {
        return false;
    };
    let header = nachbar_core::doc::Header::new(
        nachbar_core::doc::DocKind::ActionPlan,
        &entry.neighbourhood,
        Some(business.to_owned()),
        "",
        nachbar_core::time::Timestamp(0),
    );
    who.policy.access(
        &who.principal(),
        &DocInfo::Nachbar(header, Default::default()),
    ) == Access::Write
}

/// The readable plans and assessments of `business` with their views; `None` when the user
/// may not see the business.
async fn data(
    state: &AppState,
    who: &SignedIn,
    business: &str,
) -> Result<Option<Vec<(DocumentId, Arc<crate::web::cache::Hydrated>)>>, read::ReadError> {
    if !may_see_business(who, business) {
        return Ok(None);
    }
    let views = read::business_views(&state.web, business).await?;
    let principal = who.principal();
    Ok(Some(
        views
            .into_iter()
            .filter(|(_, h)| who.policy.access(&principal, &h.info) != Access::None)
            .collect(),
    ))
}

/// `GET /b/{business}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(business): Path<String>,
) -> Response {
    let lang = who.lang;
    let bt = BusinessTexts::of(lang);
    let views = match data(&state, &who, &business).await {
        Ok(Some(v)) => v,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let today = today(nachbar_core::time::Timestamp::now().millis());
    let people = match super::plan::business_people(&state.web, &who, &business).await {
        Ok(p) => p,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let signers = people.signers();
    let mut plans = Vec::new();
    let mut assessments = Vec::new();
    for (id, h) in &views {
        match &h.view {
            View::Plan(p, _) => {
                plans.push(plan_summary(&id.to_string(), p, &signers, &today, lang));
            }
            View::Assessment(a, _) => {
                assessments.push(assessment_summary(&id.to_string(), a, &signers, lang));
            }
            _ => {}
        }
    }
    assessments.reverse();
    let name = who
        .policy
        .directory()
        .businesses
        .get(&business)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let path = format!("/b/{}", urlencode(&business));
    ok(&BusinessPage {
        frame: Frame::new(lang, name, Some(&who), &path, None),
        bt,
        plans,
        assessments,
        writable: true,
        profile: format!("{path}/profile"),
    })
}
