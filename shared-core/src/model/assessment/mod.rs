//! The `assessment` document: one assessment of one business, pinned to a catalogue release.
//!
//! Confidential to the business and its coach. The document is created with an answer record
//! (and its note text) for every question of the release, so concurrent first answers on two
//! devices edit the same objects instead of creating rival ones.

mod answer;
mod comparison;
mod scoring;
mod view;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, ObjId, ROOT, ReadDoc};

pub use answer::{Answer, ComplianceValue, DEFAULT_RELEVANCE};
pub use comparison::{Comparison, ComparisonRow, compare};
pub use scoring::{AreaScore, Band, PriorityGap, Scores, TrafficLight};
pub use view::{AssessmentItem, AssessmentView, Finding, FindingKind, ShareLevel, TopPain};

use crate::DomainError;
use crate::catalogue::{self, BusinessContext, CatalogueRelease, QuestionKind};
use crate::doc::write::{self, Node};
use crate::doc::{
    Applied, DocKind, EditContext, Header, NachbarDoc, NeedsReview, check_conflict, tree,
};
use crate::ids::new_record_id;
use crate::label::Lang;
use crate::model::common::{self, count_edit};
use crate::model::review::{self, ReviewStatus, SignOffRole};
use crate::model::typed_doc;
use crate::position;

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
            let q = item.key.to_string();
            let obj = item.id();
            for key in ["level", "value", "relevance"] {
                check_conflict(doc, &obj, key, || format!("answers/{q}/{key}"), &mut out)?;
            }
        }
        Ok(out)
    }

    fn answer_edit(
        &mut self,
        ctx: &EditContext,
        op: &str,
        question: &str,
        expected: Option<QuestionKind>,
        f: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), DomainError>,
    ) -> Result<Applied, DomainError> {
        let q = self.release()?.question(question)?;
        if let Some(kind) = expected
            && q.kind != kind
        {
            return Err(DomainError::NotAllowed(format!(
                "question {question} is not a {kind:?} question"
            )));
        }
        let (_, applied) = self.doc.edit(ctx, op, |tx| {
            let answers = write::map_at(tx, &ROOT, "answers")?;
            let obj = match write::map_at(tx, &answers, question) {
                Ok(obj) => obj,
                Err(_) => tx.put_object(&answers, question, automerge::ObjType::Map)?,
            };
            f(tx, &obj)?;
            tx.put(&obj, "answered_by", ctx.person.as_str())?;
            tx.put(&obj, "answered_at", ctx.now.millis())?;
            Ok(())
        })?;
        Ok(applied)
    }

    /// Sets the level (0–4) of a level question; clears "don't know" and "not applicable".
    ///
    /// # Errors
    /// Level outside 0–4, unknown question, or a compliance question.
    pub fn set_level(
        &mut self,
        ctx: &EditContext,
        question: &str,
        level: i64,
    ) -> Result<Applied, DomainError> {
        let level = write::in_range("level", level, 0, 4)?;
        self.answer_edit(
            ctx,
            "answer.level",
            question,
            Some(QuestionKind::Level),
            |tx, obj| {
                tx.put(obj, "level", level)?;
                clear_flags(tx, obj)
            },
        )
    }

    /// Sets the value of a compliance question; clears "don't know" and "not applicable".
    ///
    /// # Errors
    /// Unknown question, or a level question.
    pub fn set_compliance(
        &mut self,
        ctx: &EditContext,
        question: &str,
        value: ComplianceValue,
    ) -> Result<Applied, DomainError> {
        self.answer_edit(
            ctx,
            "answer.value",
            question,
            Some(QuestionKind::Compliance),
            |tx, obj| {
                tx.put(obj, "value", value.code())?;
                clear_flags(tx, obj)
            },
        )
    }

    /// Sets how relevant the question is to the business (1–3).
    ///
    /// # Errors
    /// Relevance outside 1–3 or unknown question.
    pub fn set_relevance(
        &mut self,
        ctx: &EditContext,
        question: &str,
        relevance: i64,
    ) -> Result<Applied, DomainError> {
        let relevance = write::in_range("relevance", relevance, 1, 3)?;
        self.answer_edit(ctx, "answer.relevance", question, None, |tx, obj| {
            tx.put(obj, "relevance", relevance)?;
            Ok(())
        })
    }

    /// Marks a question as not applicable (or applicable again).
    ///
    /// # Errors
    /// Unknown question.
    pub fn set_not_applicable(
        &mut self,
        ctx: &EditContext,
        question: &str,
        not_applicable: bool,
    ) -> Result<Applied, DomainError> {
        self.answer_edit(ctx, "answer.not_applicable", question, None, |tx, obj| {
            tx.put(obj, "not_applicable", not_applicable)?;
            Ok(())
        })
    }

    /// Marks a question as "don't know" (or known again).
    ///
    /// # Errors
    /// Unknown question.
    pub fn set_unknown(
        &mut self,
        ctx: &EditContext,
        question: &str,
        unknown: bool,
    ) -> Result<Applied, DomainError> {
        self.answer_edit(ctx, "answer.unknown", question, None, |tx, obj| {
            tx.put(obj, "unknown", unknown)?;
            Ok(())
        })
    }

    /// Replaces the note of an answer; the text is merged character-wise with concurrent
    /// edits.
    ///
    /// # Errors
    /// Unknown question.
    pub fn set_answer_note(
        &mut self,
        ctx: &EditContext,
        question: &str,
        note: &str,
    ) -> Result<Applied, DomainError> {
        self.answer_edit(ctx, "answer.note", question, None, |tx, obj| {
            write::set_text(tx, obj, "note", note)
        })
    }

    /// Records business facts; only the given facts are written.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_context(
        &mut self,
        ctx: &EditContext,
        facts: &BusinessContext,
    ) -> Result<Applied, DomainError> {
        if facts
            .field_staff
            .is_some_and(|f| !(0.0..=100_000.0).contains(&f))
            || facts
                .office_staff
                .is_some_and(|f| !(0.0..=100_000.0).contains(&f))
        {
            return Err(DomainError::InvalidValue {
                field: "staff",
                value: "negative or too large".to_owned(),
            });
        }
        let (_, applied) = self.doc.edit(ctx, "context", |tx| {
            let obj = write::map_at(tx, &ROOT, "context")?;
            if let Some(n) = facts.staff_count {
                tx.put(&obj, "staff_count", i64::from(n))?;
            }
            if let Some(f) = facts.field_staff {
                tx.put(&obj, "field_staff", f)?;
            }
            if let Some(f) = facts.office_staff {
                tx.put(&obj, "office_staff", f)?;
            }
            if let Some(b) = facts.turnover_band {
                tx.put(&obj, "turnover_band", b.code())?;
            }
            for (key, value) in [
                ("uses_ai", facts.uses_ai),
                ("public_customers", facts.public_customers),
                ("has_website", facts.has_website),
                ("nis2_in_scope", facts.nis2_in_scope),
            ] {
                if let Some(v) = value {
                    tx.put(&obj, key, v)?;
                }
            }
            Ok(())
        })?;
        Ok(applied)
    }

    /// Records a finding; returns its id.
    ///
    /// # Errors
    /// Empty title, severity outside 1–3, unknown area, question or barrier.
    pub fn add_finding(
        &mut self,
        ctx: &EditContext,
        finding: &NewFinding,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &finding.title)?;
        let severity = write::in_range("severity", i64::from(finding.severity), 1, 3)?;
        let release = self.release()?;
        if release.area(&finding.area).is_none() {
            return Err(DomainError::InvalidValue {
                field: "area",
                value: finding.area.clone(),
            });
        }
        for q in &finding.questions {
            release.question(q)?;
        }
        if let Some(b) = finding.barriers.iter().find(|b| !release.has_barrier(b)) {
            return Err(DomainError::InvalidValue {
                field: "barrier",
                value: b.clone(),
            });
        }
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("area", finding.area.as_str())
            .with(
                "questions",
                Node::set(finding.questions.iter().map(String::as_str)),
            )
            .with("kind", finding.kind.code())
            .with("title", title.as_str())
            .with("description", Node::text(&finding.description))
            .with("severity", severity)
            .with(
                "barriers",
                Node::set(finding.barriers.iter().map(String::as_str)),
            )
            .with("proposed_for_workshop", false)
            .with("share_level", ShareLevel::Private.code())
            .with("created_by", ctx.person.as_str())
            .with("created_at", ctx.now.millis())
            .with("deleted", false)
            .with("edits", Node::counter(0));
        let (_, applied) = self.doc.edit(ctx, "finding.add", |tx| {
            let findings = write::map_at(tx, &ROOT, "findings")?;
            write::create(tx, &findings, &id, node)?;
            Ok(())
        })?;
        Ok((id, applied))
    }

    fn finding_edit(
        &mut self,
        ctx: &EditContext,
        op: &str,
        id: &str,
        f: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), DomainError>,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, op, |tx| {
            let obj = write::record(tx, "findings", id, "finding")?;
            f(tx, &obj)?;
            count_edit(tx, &obj)
        })?;
        Ok(applied)
    }

    /// Changes a finding's title.
    ///
    /// # Errors
    /// Empty title or unknown finding.
    pub fn set_finding_title(
        &mut self,
        ctx: &EditContext,
        id: &str,
        title: &str,
    ) -> Result<Applied, DomainError> {
        let title = write::required("title", title)?;
        self.finding_edit(ctx, "finding.title", id, |tx, obj| {
            Ok(tx.put(obj, "title", title.as_str())?)
        })
    }

    /// Replaces a finding's description (collaborative text).
    ///
    /// # Errors
    /// Unknown finding.
    pub fn set_finding_description(
        &mut self,
        ctx: &EditContext,
        id: &str,
        text: &str,
    ) -> Result<Applied, DomainError> {
        self.finding_edit(ctx, "finding.description", id, |tx, obj| {
            write::set_text(tx, obj, "description", text)
        })
    }

    /// Proposes a finding for a workshop (or withdraws the proposal).
    ///
    /// # Errors
    /// Unknown finding.
    pub fn propose_for_workshop(
        &mut self,
        ctx: &EditContext,
        id: &str,
        proposed: bool,
    ) -> Result<Applied, DomainError> {
        self.finding_edit(ctx, "finding.propose", id, |tx, obj| {
            Ok(tx.put(obj, "proposed_for_workshop", proposed)?)
        })
    }

    /// Records how far a finding is shared (the copy itself lives in the business profile).
    ///
    /// # Errors
    /// Unknown finding.
    pub fn set_finding_share_level(
        &mut self,
        ctx: &EditContext,
        id: &str,
        level: ShareLevel,
    ) -> Result<Applied, DomainError> {
        self.finding_edit(ctx, "finding.share", id, |tx, obj| {
            Ok(tx.put(obj, "share_level", level.code())?)
        })
    }

    /// Removes a finding softly.
    ///
    /// # Errors
    /// Unknown finding.
    pub fn remove_finding(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "finding.remove", |tx| {
            let obj = write::record(tx, "findings", id, "finding")?;
            common::soft_delete(tx, &obj, ctx)
        })?;
        Ok(applied)
    }

    /// Restores a removed finding.
    ///
    /// # Errors
    /// Unknown finding.
    pub fn restore_finding(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "finding.restore", |tx| {
            let obj = write::record(tx, "findings", id, "finding")?;
            common::restore(tx, &obj)
        })?;
        Ok(applied)
    }

    /// Records or clears a barrier.
    ///
    /// # Errors
    /// A barrier code the release does not know.
    pub fn set_barrier(
        &mut self,
        ctx: &EditContext,
        barrier: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        if !self.release()?.has_barrier(barrier) {
            return Err(DomainError::InvalidValue {
                field: "barrier",
                value: barrier.to_owned(),
            });
        }
        let (_, applied) = self.doc.edit(ctx, "barrier", |tx| {
            common::set_member(tx, &ROOT, "barriers", barrier, present)
        })?;
        Ok(applied)
    }

    /// Adds a top pain at the end; returns its id.
    ///
    /// # Errors
    /// Empty text, or already three top pains.
    pub fn add_top_pain(
        &mut self,
        ctx: &EditContext,
        text: &str,
    ) -> Result<(String, Applied), DomainError> {
        let text = write::required("text", text)?;
        let view = self.stored()?;
        let active: Vec<&str> = view
            .top_pains
            .values()
            .filter(|p| !p.removal_view().deleted)
            .map(|p| p.position())
            .collect();
        if active.len() >= MAX_TOP_PAINS {
            return Err(DomainError::NotAllowed(format!(
                "at most {MAX_TOP_PAINS} top pains"
            )));
        }
        let last = active.iter().max().copied();
        let position = position::between(last, None);
        let id = new_record_id(ctx.now);
        let (_, applied) = self.doc.edit(ctx, "pain.add", |tx| {
            let pains = write::map_at(tx, &ROOT, "top_pains")?;
            let node = Node::map()
                .with("text", text.as_str())
                .with("position", position.as_str())
                .with("deleted", false);
            write::create(tx, &pains, &id, node)?;
            Ok(())
        })?;
        Ok((id, applied))
    }

    /// Moves a top pain between two others (ids; `None` for the start or end).
    ///
    /// # Errors
    /// Unknown pain.
    pub fn move_top_pain(
        &mut self,
        ctx: &EditContext,
        id: &str,
        after: Option<&str>,
        before: Option<&str>,
    ) -> Result<Applied, DomainError> {
        let stored = self.stored()?;
        let pos = |other: Option<&str>| -> Result<Option<String>, DomainError> {
            other
                .map(|o| {
                    stored
                        .top_pains
                        .get(o)
                        .map(|p| p.position().to_owned())
                        .ok_or_else(|| DomainError::unknown("top pain", o))
                })
                .transpose()
        };
        let position = position::between(pos(after)?.as_deref(), pos(before)?.as_deref());
        let (_, applied) = self.doc.edit(ctx, "pain.move", |tx| {
            let obj = write::record(tx, "top_pains", id, "top pain")?;
            Ok(tx.put(&obj, "position", position.as_str())?)
        })?;
        Ok(applied)
    }

    /// Removes a top pain softly.
    ///
    /// # Errors
    /// Unknown pain.
    pub fn remove_top_pain(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "pain.remove", |tx| {
            let obj = write::record(tx, "top_pains", id, "top pain")?;
            common::soft_delete(tx, &obj, ctx)
        })?;
        Ok(applied)
    }

    /// Replaces the session notes (collaborative text).
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_session_notes(
        &mut self,
        ctx: &EditContext,
        text: &str,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "session_notes", |tx| {
            write::set_text(tx, &ROOT, "session_notes", text)
        })?;
        Ok(applied)
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
                let to = ReviewStatus::parse(value)?;
                let from = self.stored()?.stored_status()?;
                let (_, applied) = self.doc.edit(ctx, "resolve.status", |tx| {
                    tx.put(&ROOT, "status", to.code())?;
                    common::append_status(tx, &ROOT, Some(from.code()), to.code(), ctx, "resolved")
                })?;
                Ok(applied)
            }
        }
    }
}

fn clear_flags(tx: &mut Transaction<'_>, obj: &ObjId) -> Result<(), DomainError> {
    for flag in ["unknown", "not_applicable"] {
        if tx.get(obj, flag)?.and_then(|(v, _)| v.as_bool()) == Some(true) {
            tx.put(obj, flag, false)?;
        }
    }
    Ok(())
}
