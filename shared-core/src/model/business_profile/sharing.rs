//! What a business shares from its confidential documents: good-practice stories, reduced
//! copies of findings, a progress summary; and its seat interest in joint offerings.

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, EditContext};
use crate::ids::new_record_id;
use crate::model::action_plan::ActionPlanView;
use crate::model::assessment::{Finding, ShareLevel};
use crate::model::common;

use super::{BusinessProfileDoc, NewGoodPractice, check_areas};

impl BusinessProfileDoc {
    /// Publishes a good-practice story; returns its id.
    ///
    /// # Errors
    /// Empty title or unknown area.
    pub fn publish_good_practice(
        &mut self,
        ctx: &EditContext,
        story: &NewGoodPractice,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &story.title)?;
        check_areas(&story.areas)?;
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("problem", story.problem.as_str())
            .with("solution", story.solution.as_str())
            .with("tools", story.tools.as_str())
            .with("lessons", story.lessons.as_str())
            .with_opt("cost_band", story.cost_band.as_deref())
            .with("named", story.named)
            .with("areas", Node::set(story.areas.iter().map(String::as_str)));
        let applied = common::insert_record(
            &mut self.doc,
            ctx,
            "practice.publish",
            "good_practices",
            &id,
            node,
        )?;
        Ok((id, applied))
    }

    /// Revokes a good-practice story: it leaves the current state (history keeps it, see
    /// domain.md §8.6).
    ///
    /// # Errors
    /// Unknown story.
    pub fn revoke_good_practice(
        &mut self,
        ctx: &EditContext,
        id: &str,
    ) -> Result<Applied, DomainError> {
        self.delete_record(
            ctx,
            "practice.revoke",
            "good_practices",
            id,
            "good practice",
        )
    }

    /// Shares a reduced copy of an assessment finding: anonymised (title and area only) or
    /// named (with description); returns the copy's id.
    ///
    /// # Errors
    /// Sharing at level "private".
    pub fn share_finding(
        &mut self,
        ctx: &EditContext,
        finding: &Finding,
        level: ShareLevel,
    ) -> Result<(String, Applied), DomainError> {
        if level == ShareLevel::Private {
            return Err(DomainError::NotAllowed(
                "a private finding is not shared".to_owned(),
            ));
        }
        let id = new_record_id(ctx.now);
        let description = if level == ShareLevel::Named {
            finding.description.as_str()
        } else {
            ""
        };
        let node = Node::map()
            .with("area", finding.area.as_str())
            .with("title", finding.title.as_str())
            .with("description", description)
            .with("kind", finding.kind.code())
            .with("severity", finding.severity)
            .with("share_level", level.code());
        let applied = common::insert_record(
            &mut self.doc,
            ctx,
            "finding.share",
            "shared_findings",
            &id,
            node,
        )?;
        Ok((id, applied))
    }

    /// Revokes a shared finding.
    ///
    /// # Errors
    /// Unknown shared finding.
    pub fn revoke_shared_finding(
        &mut self,
        ctx: &EditContext,
        id: &str,
    ) -> Result<Applied, DomainError> {
        self.delete_record(
            ctx,
            "finding.revoke",
            "shared_findings",
            id,
            "shared finding",
        )
    }

    fn delete_record(
        &mut self,
        ctx: &EditContext,
        op: &str,
        collection: &str,
        id: &str,
        kind: &'static str,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, op, |tx| {
            let map = write::map_at(tx, &ROOT, collection)?;
            if tx.get(&map, id)?.is_none() {
                return Err(DomainError::unknown(kind, id));
            }
            Ok(tx.delete(&map, id)?)
        })?;
        Ok(applied)
    }

    /// Publishes a progress summary from the business's action plan: counts per status and
    /// the titles of measures shared by name.
    ///
    /// # Errors
    /// [`DomainError::NotAllowed`] while a status in the plan has unresolved concurrent values.
    pub fn publish_progress(
        &mut self,
        ctx: &EditContext,
        plan: &ActionPlanView,
    ) -> Result<Applied, DomainError> {
        if plan.has_status_conflicts() {
            return Err(DomainError::NotAllowed(
                "resolve the conflicting statuses in the action plan before publishing progress"
                    .to_owned(),
            ));
        }
        if plan.header.business.as_deref() != Some(self.business()) {
            return Err(DomainError::NotAllowed(
                "the action plan belongs to another business".to_owned(),
            ));
        }
        let counts = Node::Map(
            plan.counts
                .iter()
                .map(|(k, v)| (k.clone(), Node::from(*v)))
                .collect(),
        );
        let titles = plan
            .measures
            .iter()
            .filter(|m| m.visibility == ShareLevel::Named)
            .map(|m| Node::from(m.title.as_str()))
            .collect();
        let node = Node::map()
            .with("as_of", ctx.now.millis())
            .with("counts", counts)
            .with("titles", Node::List(titles));
        let (_, applied) = self.doc.edit(ctx, "progress.publish", |tx| {
            write::create(tx, &ROOT, "progress_summary", node)?;
            Ok(())
        })?;
        Ok(applied)
    }

    /// Adds `delta` seats (negative to withdraw) of interest in a joint offering. Each device
    /// keeps its own counter, so concurrent entries add up instead of overwriting each other.
    ///
    /// # Errors
    /// Empty offering id or a delta of more than 1,000 seats.
    pub fn change_seat_interest(
        &mut self,
        ctx: &EditContext,
        offering: &str,
        delta: i64,
    ) -> Result<Applied, DomainError> {
        let offering = write::required("offering", offering)?;
        if offering.contains('/') {
            return Err(DomainError::InvalidValue {
                field: "offering",
                value: offering,
            });
        }
        let delta = write::in_range("seats", delta, -1000, 1000)?;
        let key = format!("{offering}/{}", self.doc.actor_hex());
        let (_, applied) = self.doc.edit(ctx, "seats", |tx| {
            let map = match write::map_at(tx, &ROOT, "seat_interest") {
                Ok(map) => map,
                Err(_) => tx.put_object(&ROOT, "seat_interest", ObjType::Map)?,
            };
            match tx.get(&map, key.as_str())? {
                Some((v, _)) if v.is_counter() => tx.increment(&map, key.as_str(), delta)?,
                _ => tx.put(&map, key.as_str(), automerge::ScalarValue::counter(delta))?,
            }
            Ok(())
        })?;
        Ok(applied)
    }
}
