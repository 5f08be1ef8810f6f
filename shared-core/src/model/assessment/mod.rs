//! The `assessment` document: one assessment of one business, pinned to a catalogue release.
//!
//! Confidential to the business and its coach. The document is created with an answer record
//! (and its note text) for every question of the release, so concurrent first answers on two
//! devices edit the same objects instead of creating rival ones.

mod answer;
mod answering;
mod comparison;
mod findings;
mod scoring;
mod view;

use automerge::transaction::Transactable;
use automerge::{ActorId, ROOT, ReadDoc};

pub use answer::{Answer, ComplianceValue, DEFAULT_RELEVANCE};
pub use comparison::{Comparison, ComparisonRow, compare};
pub use scoring::{AreaScore, Band, PriorityGap, Scores, TrafficLight};
pub use view::{AssessmentItem, AssessmentView, Finding, FindingKind, ShareLevel, TopPain};

use crate::DomainError;
use crate::catalogue::{self, CatalogueRelease};
use crate::doc::write::{self, Node};
use crate::doc::{
    Applied, DocKind, EditContext, Header, NachbarDoc, NeedsReview, check_conflict,
    check_conflicts, tree,
};
use crate::label::Lang;
use crate::model::common;
use crate::model::review::{self, ReviewStatus, SignOffRole};
use crate::model::typed_doc;

use view::StoredAssessment;

typed_doc! {
    /// An assessment document.
    AssessmentDoc, DocKind::Assessment
}

/// What a new assessment starts with.
#[derive(Debug, Clone)]
pub struct NewAssessment<'a> {
    /// The neighbourhood.
    pub neighbourhood: &'a str,
    /// The assessed business.
    pub business: &'a str,
    /// The catalogue release to pin.
    pub release: &'a CatalogueRelease,
    /// Stage, e.g. `T0`.
    pub stage: &'a str,
    /// The coach (person id).
    pub coach: Option<&'a str>,
    /// Session language.
    pub language: Lang,
}

/// A new finding.
#[derive(Debug, Clone)]
pub struct NewFinding {
    /// Area code.
    pub area: String,
    /// Related questions.
    pub questions: Vec<String>,
    /// Kind.
    pub kind: FindingKind,
    /// Title (required).
    pub title: String,
    /// Description.
    pub description: String,
    /// 1–3.
    pub severity: u8,
    /// Barrier codes.
    pub barriers: Vec<String>,
}

/// The most a business names as top pains.
pub const MAX_TOP_PAINS: usize = 3;

/// The fields of an assessment that may carry concurrent values, addressed by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssessmentField {
    /// `answers/<q>/level`
    Level(String),
    /// `answers/<q>/value`
    Value(String),
    /// `answers/<q>/relevance`
    Relevance(String),
    /// `status`
    Status,
}

impl AssessmentField {
    /// Parses a field path as listed in `needs_review`.
    ///
    /// # Errors
    /// [`DomainError::InvalidValue`] for any other path.
    pub fn parse(path: &str) -> Result<Self, DomainError> {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["status"] => Ok(Self::Status),
            ["answers", q, "level"] => Ok(Self::Level((*q).to_owned())),
            ["answers", q, "value"] => Ok(Self::Value((*q).to_owned())),
            ["answers", q, "relevance"] => Ok(Self::Relevance((*q).to_owned())),
            _ => Err(DomainError::InvalidValue {
                field: "field",
                value: path.to_owned(),
            }),
        }
    }
}

fn parse_int(field: &'static str, value: &str) -> Result<i64, DomainError> {
    value.trim().parse().map_err(|_| DomainError::InvalidValue {
        field,
        value: value.to_owned(),
    })
}

impl AssessmentDoc {
    /// Starts an assessment: header, pinned release, and an empty answer for every question.
    ///
    /// # Errors
    /// [`DomainError::Empty`] for a blank stage or business.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        new: &NewAssessment<'_>,
    ) -> Result<(Self, Applied), DomainError> {
        let stage = write::required("stage", new.stage)?;
        let business = write::required("business", new.business)?;
        let header = Header::new(
            DocKind::Assessment,
            new.neighbourhood,
            Some(business),
            &ctx.person,
            ctx.now,
        );
        let (doc, applied) = NachbarDoc::create(actor, ctx, header, |tx| {
            let answers = Node::Map(
                new.release
                    .questions
                    .iter()
                    .map(|q| (q.id.clone(), Node::map().with("note", Node::text(""))))
                    .collect(),
            );
            let root = Node::map()
                .with("catalogue_release", new.release.release.as_str())
                .with("stage", stage.as_str())
                .with_opt("coach", new.coach)
                .with(
                    "language",
                    if new.language == Lang::De { "de" } else { "en" },
                )
                .with("participants", Node::map())
                .with("context", Node::map())
                .with("status", ReviewStatus::Draft.code())
                .with("status_history", Node::List(vec![]))
                .with("sign_offs", Node::map())
                .with("answers", answers)
                .with("findings", Node::map())
                .with("barriers", Node::map())
                .with("top_pains", Node::map())
                .with("session_notes", Node::text(""));
            if let Node::Map(entries) = root {
                for (key, node) in entries {
                    write::create(tx, &ROOT, &key, node)?;
                }
            }
            Ok(())
        })?;
        Ok((Self { doc }, applied))
    }

    fn stored(&self) -> Result<StoredAssessment, DomainError> {
        tree::hydrate_root(self.doc.automerge())
    }

    /// The pinned catalogue release (from the releases built into this app).
    ///
    /// # Errors
    /// [`DomainError::UnknownRelease`] when this app does not know it.
    pub fn release(&self) -> Result<&'static CatalogueRelease, DomainError> {
        let release =
            write::get_str(self.doc.automerge(), &ROOT, "catalogue_release")?.unwrap_or_default();
        catalogue::builtin(&release)
    }

    /// The read model, using the built-in pinned release.
    ///
    /// # Errors
    /// [`DomainError::UnknownRelease`] or a shape error.
    pub fn view(&self) -> Result<AssessmentView, DomainError> {
        self.view_with(self.release()?)
    }

    /// The read model against an explicitly given release (e.g. read from a catalogue
    /// document).
    ///
    /// # Errors
    /// [`DomainError::Shape`] when the document does not have the assessment's shape.
    pub fn view_with(&self, release: &CatalogueRelease) -> Result<AssessmentView, DomainError> {
        let stored = self.stored()?;
        if stored.catalogue_release != release.release {
            return Err(DomainError::UnknownRelease(stored.catalogue_release));
        }
        let items = view::items(release, &stored)?;
        let stored_status = stored.stored_status()?;
        let (sign_offs, agreed) = review::sign_offs(&self.doc, &stored.sign_offs);
        let mut findings = Vec::with_capacity(stored.findings.len());
        for (id, f) in &stored.findings {
            findings.push(f.view(id)?);
        }
        let mut pains: Vec<(String, String, String)> = stored
            .top_pains
            .iter()
            .filter(|(_, p)| !p.removal_view().deleted)
            .map(|(id, p)| (p.position().to_owned(), id.clone(), p.text().to_owned()))
            .collect();
        pains.sort();
        let scores = scoring::scores(release, &items);
        let priority_gaps = scoring::priority_gaps(&items);
        let to_clarify = items
            .iter()
            .filter(|i| i.applicable && i.answer.unknown)
            .map(|i| i.id.clone())
            .collect();
        let unknown_answers = stored
            .answers
            .keys()
            .filter(|k| release.question(k).is_err())
            .cloned()
            .collect();
        Ok(AssessmentView {
            header: self.doc.header().clone(),
            catalogue_release: stored.catalogue_release.clone(),
            stage: stored.stage.clone(),
            date: stored.date.clone(),
            coach: stored.coach.clone(),
            participants: common::set_members(&stored.participants),
            language: stored.language.unwrap_or_default(),
            context: stored.context.clone(),
            status: review::effective_status(stored_status, agreed),
            stored_status,
            status_history: stored.status_history.clone(),
            sign_offs,
            agreed,
            items,
            unknown_answers,
            findings,
            barriers: common::set_members(&stored.barriers),
            top_pains: pains
                .into_iter()
                .map(|(position, id, text)| TopPain { id, text, position })
                .collect(),
            session_notes: stored.session_notes.clone(),
            scores,
            priority_gaps,
            to_clarify,
            needs_review: self.needs_review()?,
            last_edited: self.doc.last_edited(),
        })
    }

    /// Fields with concurrent values.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn needs_review(&self) -> Result<Vec<NeedsReview>, DomainError> {
        let doc = self.doc.automerge();
        let mut out = Vec::new();
        check_conflict(doc, &ROOT, "status", || "status".to_owned(), &mut out)?;
        let answers = write::map_at(doc, &ROOT, "answers")?;
        for item in doc.map_range(&answers, ..) {
            let prefix = format!("answers/{}", item.key);
            check_conflicts(
                doc,
                &item.id(),
                &["level", "value", "relevance"],
                &prefix,
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// Sets the session date (ISO `YYYY-MM-DD`).
    ///
    /// # Errors
    /// A malformed date.
    pub fn set_date(&mut self, ctx: &EditContext, date: &str) -> Result<Applied, DomainError> {
        let date = crate::model::common::iso_date("date", date)?;
        let (_, applied) = self.doc.edit(ctx, "date", |tx| {
            Ok(tx.put(&ROOT, "date", date.as_str())?)
        })?;
        Ok(applied)
    }

    /// Adds or removes a participant.
    ///
    /// # Errors
    /// Empty person id.
    pub fn set_participant(
        &mut self,
        ctx: &EditContext,
        person: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        let person = write::required("person", person)?;
        let (_, applied) = self.doc.edit(ctx, "participant", |tx| {
            common::set_member(tx, &ROOT, "participants", &person, present)
        })?;
        Ok(applied)
    }

    /// Sets the review status by hand ("agreed" only comes from sign-offs).
    ///
    /// # Errors
    /// [`DomainError::NotAllowed`] for "agreed".
    pub fn set_status(
        &mut self,
        ctx: &EditContext,
        status: ReviewStatus,
        note: &str,
    ) -> Result<Applied, DomainError> {
        let from = self.stored()?.stored_status()?;
        review::set_status(&mut self.doc, ctx, from, status, note)
    }

    /// Signs off the current content as `role`.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn sign_off(
        &mut self,
        ctx: &EditContext,
        role: SignOffRole,
    ) -> Result<Applied, DomainError> {
        let stored = self.stored()?;
        let status = stored.stored_status()?;
        review::sign_off(&mut self.doc, ctx, role, &stored.sign_offs, status)
    }

    /// Signs off, as `role`, the version at `seen` (the heads the signer was shown).
    ///
    /// # Errors
    /// [`DomainError::ChangedSince`] when anything but sign-offs and status changed since
    /// `seen` (or `seen` is unknown here).
    pub fn sign_off_seen(
        &mut self,
        ctx: &EditContext,
        role: SignOffRole,
        seen: &[automerge::ChangeHash],
    ) -> Result<Applied, DomainError> {
        let stored = self.stored()?;
        let status = stored.stored_status()?;
        review::sign_off_seen(&mut self.doc, ctx, role, &stored.sign_offs, status, seen)
    }

    /// Settles a field listed in `needs_review` by writing the chosen value.
    ///
    /// # Errors
    /// Unknown field path, or a value invalid for the field.
    pub fn resolve(
        &mut self,
        ctx: &EditContext,
        field: &str,
        value: &str,
    ) -> Result<Applied, DomainError> {
        match AssessmentField::parse(field)? {
            AssessmentField::Level(q) => self.set_level(ctx, &q, parse_int("level", value)?),
            AssessmentField::Value(q) => {
                self.set_compliance(ctx, &q, ComplianceValue::parse(value)?)
            }
            AssessmentField::Relevance(q) => {
                self.set_relevance(ctx, &q, parse_int("relevance", value)?)
            }
            AssessmentField::Status => {
                let from = self.stored()?.stored_status()?;
                review::resolve_status(&mut self.doc, ctx, from, value)
            }
        }
    }
}
