//! Answering questions: levels, compliance values, relevance, flags, notes and the business
//! facts that decide applicability.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ROOT, ReadDoc};

use crate::DomainError;
use crate::catalogue::{BusinessContext, QuestionKind};
use crate::doc::write;
use crate::doc::{Applied, EditContext};

use super::{AssessmentDoc, ComplianceValue};

impl AssessmentDoc {
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
}

fn clear_flags(tx: &mut Transaction<'_>, obj: &ObjId) -> Result<(), DomainError> {
    for flag in ["unknown", "not_applicable"] {
        if tx.get(obj, flag)?.and_then(|(v, _)| v.as_bool()) == Some(true) {
            tx.put(obj, flag, false)?;
        }
    }
    Ok(())
}
