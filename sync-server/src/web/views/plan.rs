//! The action plan page of a business: measures grouped by status and by impact–effort
//! quadrant, due dates with the overdue ones marked, owner, helpers, costs, funding,
//! dependencies and each measure's status history; what needs review with every concurrent
//! value; duplicate hints; removed measures; the sign-offs with whether they still cover the
//! plan, and the heads the page shows (the sign-off form carries them).

use std::collections::BTreeMap;

use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::action_plan::{
    ActionPlanView, DuplicateReason, FundingState, Measure, MeasureStatus, Quadrant,
};
use nachbar_core::model::{ReviewStatus, SignOffRole};

use super::signers::Signers;
use super::{Choice, choices, date, moment};
use crate::web::i18n_business::BusinessTexts;

/// Who looks at the plan, as far as the page is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// May edit the plan.
    pub writable: bool,
    /// Signs off in this role (owner or coach of the business); `None` for staff.
    pub signs_as: Option<SignOffRole>,
}

/// One status transition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryRow {
    /// The transition in words ("Planned → In progress, Name, date").
    pub text: String,
    /// The note given with it.
    pub note: String,
}

/// A concurrent value to choose.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewValue {
    /// The stored value (what `resolve` writes).
    pub value: String,
    /// In words.
    pub label: String,
    /// It is the value shown now.
    pub current: bool,
}

/// A field with concurrent values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewRow {
    /// The field path for `resolve`.
    pub field: String,
    /// What it is, in words ("Status: Title").
    pub label: String,
    /// Every concurrent value.
    pub values: Vec<ReviewValue>,
}

/// A measure as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeasureRow {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status code.
    pub status_code: String,
    /// Status in words.
    pub status: String,
    /// Status choices.
    #[serde(skip)]
    pub statuses: Vec<Choice>,
    /// Due date in words ("" when none).
    pub due: String,
    /// Due date ISO (form value).
    pub due_iso: String,
    /// Past due and not finished.
    pub overdue: bool,
    /// Owner's name ("" when none).
    pub owner: String,
    /// Owner choices (the business's people), the current one selected.
    #[serde(skip)]
    pub owners: Vec<Choice>,
    /// Helpers by name.
    pub helpers: Vec<String>,
    /// Costs in words ("" when none).
    pub costs: String,
    /// Funding in words ("" when none).
    pub funding: String,
    /// Titles of the measures it depends on.
    pub depends_on: Vec<String>,
    /// Goal title ("" when none).
    pub goal: String,
    /// Impact / effort in words ("" when unrated).
    pub rating: String,
    /// Quadrant in words ("" when unrated).
    pub quadrant: String,
    /// Progress note.
    pub progress_note: String,
    /// Form values of the edit form: impact, effort score, one-off and recurring cost, funding
    /// programme ("" when unset).
    #[serde(skip)]
    pub values: MeasureValues,
    /// Funding state choices, the current one selected.
    #[serde(skip)]
    pub funding_states: Vec<Choice>,
    /// Status history, oldest first.
    pub history: Vec<HistoryRow>,
    /// Moving up places it between these (after, before); `None` for the first.
    #[serde(skip)]
    pub up: Option<(String, String)>,
    /// Moving down places it between these (after, before); `None` for the last.
    #[serde(skip)]
    pub down: Option<(String, String)>,
}

/// The current values of a measure's edit form ("" when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MeasureValues {
    /// Impact 1–5.
    pub impact: String,
    /// Effort score 1–5.
    pub effort: String,
    /// One-off cost in euros.
    pub cost_once: String,
    /// Recurring cost in euros per year.
    pub cost_recurring: String,
    /// Funding programme.
    pub funding_programme: String,
}

fn text_of<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Measures of one status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusGroup {
    /// Status code.
    pub code: String,
    /// Status in words.
    pub label: String,
    /// The measures.
    pub measures: Vec<MeasureRow>,
}

/// A measure in the quadrant table: (anchor id, title).
pub type QuadrantEntry = (String, String);

/// A duplicate hint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DuplicateRow {
    /// The measure kept.
    pub first: String,
    /// Its title.
    pub first_title: String,
    /// The probable duplicate.
    pub second: String,
    /// Its title.
    pub second_title: String,
    /// Why, in words.
    pub reasons: String,
}

/// A removed measure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemovedRow {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Edited after it was removed (the page suggests restoring it).
    pub edited_after_removal: bool,
}

/// A goal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoalRow {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Success criterion.
    pub kpi: String,
    /// Target date in words.
    pub target: String,
}

/// A sign-off.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignOffRow {
    /// "Signed off on … by … (role)".
    pub text: String,
    /// Still covers the plan.
    pub valid: bool,
    /// The heads it covers, each shortened to 8 hex digits, comma-separated.
    pub heads: String,
}

/// The action plan page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanPage {
    /// The business's name.
    pub business: String,
    /// Plan status in words.
    pub status: String,
    /// Owner and coach signed this version.
    pub agreed: bool,
    /// A sign-off no longer covers the plan.
    pub lapsed: bool,
    /// The sign-offs.
    pub sign_offs: Vec<SignOffRow>,
    /// The viewer signs off as (in words); `None`: may not sign off.
    pub sign_as: Option<String>,
    /// The heads this page shows, comma-separated hex (the sign-off form's hidden field).
    pub heads: String,
    /// Goals.
    pub goals: Vec<GoalRow>,
    /// Measures grouped by status (only statuses that have measures), in status order.
    pub groups: Vec<StatusGroup>,
    /// Measures by quadrant: quick wins, major projects, fill-ins, thankless tasks.
    pub quadrants: Vec<(String, Vec<QuadrantEntry>)>,
    /// Measures without both ratings.
    pub unrated: Vec<QuadrantEntry>,
    /// Number of active measures.
    pub measure_count: usize,
    /// Fields with concurrent values.
    pub review: Vec<ReviewRow>,
    /// Probable duplicates.
    pub duplicates: Vec<DuplicateRow>,
    /// Removed measures.
    pub removed: Vec<RemovedRow>,
    /// Measures merged into another one (restorable): (row, title of the one kept).
    pub merged: Vec<(RemovedRow, String)>,
    /// Goal choices for a new measure.
    #[serde(skip)]
    pub goal_choices: Vec<(String, String)>,
    /// Owner choices for a new measure.
    #[serde(skip)]
    pub people: Vec<(String, String)>,
    /// Findings of the business's assessments a new measure can address: (id, title).
    #[serde(skip)]
    pub findings: Vec<(String, String)>,
    /// The viewer may edit.
    pub writable: bool,
}

/// What the page needs besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The business's name.
    pub business: &'a str,
    /// Names of people by user id (the business's people and its coaches).
    pub names: &'a BTreeMap<String, String>,
    /// The business's owners and staff (user id, name): who can own a measure.
    pub people: &'a [(String, String)],
    /// Findings of the business's assessments: (id, title).
    pub findings: &'a [(String, String)],
    /// Today, ISO.
    pub today: &'a str,
    /// Who may sign off for the business.
    pub signers: Signers<'a>,
    /// The viewer.
    pub viewer: Viewer,
    /// The page's language.
    pub lang: Lang,
}

fn name_of(names: &BTreeMap<String, String>, id: &str, t: &BusinessTexts) -> String {
    names
        .get(id)
        .cloned()
        .unwrap_or_else(|| t.someone.to_owned())
}

/// A whole number of euros as the language writes amounts ("1.200 €" / "€1,200").
pub fn euros(amount: i64, lang: Lang) -> String {
    let digits = amount.unsigned_abs().to_string();
    let sep = if lang == Lang::De { '.' } else { ',' };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    match lang {
        Lang::De => format!("{sign}{grouped} €"),
        Lang::En => format!("{sign}€{grouped}"),
    }
}

fn costs(m: &Measure, t: &BusinessTexts, lang: Lang) -> String {
    let mut parts = Vec::new();
    if let Some(c) = m.cost_once_eur {
        parts.push(format!("{} {}", euros(c, lang), t.once));
    }
    if let Some(c) = m.cost_recurring_eur {
        parts.push(format!("{} {}", euros(c, lang), t.per_year));
    }
    parts.join(", ")
}

fn funding(m: &Measure, lang: Lang) -> String {
    let f = &m.funding;
    let mut parts = Vec::new();
    if let Some(p) = &f.programme {
        parts.push(p.clone());
    }
    if let Some(s) = f.state {
        parts.push(s.label().get(lang).to_owned());
    }
    if let Some(a) = f.amount_eur {
        parts.push(euros(a, lang));
    }
    parts.join(", ")
}

fn status_label(code: &str, lang: Lang) -> String {
    MeasureStatus::parse(code)
        .map(|s| s.label().get(lang).to_owned())
        .unwrap_or_else(|_| code.to_owned())
}

fn finished(status: MeasureStatus) -> bool {
    matches!(status, MeasureStatus::Done | MeasureStatus::Dropped)
}

/// Builds the page of `plan` as it stands at `heads`.
pub fn page(plan: &ActionPlanView, heads: &[String], cx: &PlanContext<'_>) -> PlanPage {
    let lang = cx.lang;
    let t = BusinessTexts::of(lang);
    let names = cx.names;
    let titles: BTreeMap<&str, &str> = plan
        .measures
        .iter()
        .chain(&plan.removed)
        .chain(&plan.merged)
        .map(|m| (m.id.as_str(), m.title.as_str()))
        .collect();
    let goal_titles: BTreeMap<&str, &str> = plan
        .goals
        .iter()
        .map(|g| (g.id.as_str(), g.title.as_str()))
        .collect();
    let ids: Vec<&str> = plan.measures.iter().map(|m| m.id.as_str()).collect();
    let rows: Vec<MeasureRow> = plan
        .measures
        .iter()
        .enumerate()
        .map(|(i, m)| MeasureRow {
            id: m.id.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            status_code: m.status.code().to_owned(),
            status: m.status.label().get(lang).to_owned(),
            statuses: choices(MeasureStatus::ALL, |s| s.code(), Some(m.status), lang),
            due: m.due.as_deref().map(|d| date(d, lang)).unwrap_or_default(),
            due_iso: m.due.clone().unwrap_or_default(),
            overdue: m
                .due
                .as_deref()
                .is_some_and(|d| d < cx.today && !finished(m.status)),
            owner: m
                .owner
                .as_deref()
                .map(|o| name_of(names, o, t))
                .unwrap_or_default(),
            owners: cx
                .people
                .iter()
                .map(|(id, name)| Choice {
                    code: id.clone(),
                    label: name.clone(),
                    selected: m.owner.as_deref() == Some(id),
                })
                .collect(),
            helpers: m.helpers.iter().map(|h| name_of(names, h, t)).collect(),
            costs: costs(m, t, lang),
            funding: funding(m, lang),
            depends_on: m
                .depends_on
                .iter()
                .map(|d| titles.get(d.as_str()).copied().unwrap_or(d).to_owned())
                .collect(),
            goal: m
                .goal
                .as_deref()
                .and_then(|g| goal_titles.get(g))
                .map(|g| (*g).to_owned())
                .unwrap_or_default(),
            rating: match (m.impact, m.effort_score) {
                (Some(i), Some(e)) => format!("{} {i}/5, {} {e}/5", t.impact, t.effort),
                (Some(i), None) => format!("{} {i}/5", t.impact),
                (None, Some(e)) => format!("{} {e}/5", t.effort),
                (None, None) => String::new(),
            },
            quadrant: m
                .quadrant
                .map(|q| q.label().get(lang).to_owned())
                .unwrap_or_default(),
            progress_note: m.progress_note.clone(),
            values: MeasureValues {
                impact: text_of(m.impact),
                effort: text_of(m.effort_score),
                cost_once: text_of(m.cost_once_eur),
                cost_recurring: text_of(m.cost_recurring_eur),
                funding_programme: m.funding.programme.clone().unwrap_or_default(),
            },
            funding_states: choices(FundingState::ALL, |f| f.code(), m.funding.state, lang),
            history: m
                .status_history
                .iter()
                .map(|h| HistoryRow {
                    text: t
                        .history_entry
                        .replace(
                            "{from}",
                            &h.from
                                .as_deref()
                                .map(|f| status_label(f, lang))
                                .unwrap_or_else(|| "–".to_owned()),
                        )
                        .replace("{to}", &status_label(&h.to, lang))
                        .replace("{by}", &name_of(names, &h.by, t))
                        .replace("{at}", &moment(h.at, lang)),
                    note: h.note.clone(),
                })
                .collect(),
            up: i.checked_sub(1).map(|p| {
                let after = p.checked_sub(1).map_or("", |pp| ids[pp]);
                (after.to_owned(), ids[p].to_owned())
            }),
            down: ids.get(i + 1).map(|n| {
                let before = ids.get(i + 2).copied().unwrap_or("");
                ((*n).to_owned(), before.to_owned())
            }),
        })
        .collect();
    let groups = MeasureStatus::ALL
        .iter()
        .filter_map(|s| {
            let measures: Vec<MeasureRow> = rows
                .iter()
                .filter(|r| r.status_code == s.code())
                .cloned()
                .collect();
            (!measures.is_empty()).then(|| StatusGroup {
                code: s.code().to_owned(),
                label: s.label().get(lang).to_owned(),
                measures,
            })
        })
        .collect();
    let entry = |m: &Measure| (format!("m-{}", m.id), m.title.clone());
    let quadrants = Quadrant::ALL
        .iter()
        .map(|q| {
            (
                q.label().get(lang).to_owned(),
                plan.measures
                    .iter()
                    .filter(|m| m.quadrant == Some(*q))
                    .map(entry)
                    .collect(),
            )
        })
        .collect();
    let review = plan
        .needs_review
        .iter()
        .map(|n| review_row(n, &titles, names, lang))
        .collect();
    let duplicates = plan
        .duplicate_hints
        .iter()
        .map(|d| DuplicateRow {
            first: d.first.clone(),
            first_title: titles
                .get(d.first.as_str())
                .copied()
                .unwrap_or("")
                .to_owned(),
            second: d.second.clone(),
            second_title: titles
                .get(d.second.as_str())
                .copied()
                .unwrap_or("")
                .to_owned(),
            reasons: d
                .reasons
                .iter()
                .map(|r| match r {
                    DuplicateReason::SameFinding => t.same_finding,
                    DuplicateReason::SimilarTitle => t.similar_title,
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let signers = cx.signers;
    let sign_offs: Vec<SignOffRow> = plan
        .sign_offs
        .iter()
        .map(|s| SignOffRow {
            text: {
                let text = t
                    .signed_by
                    .replace("{at}", &moment(s.at, lang))
                    .replace("{by}", &name_of(names, &s.by, t))
                    .replace("{role}", s.role.label().get(lang));
                if signers.holds(&s.by, s.role) {
                    text
                } else {
                    format!("{text} ({})", t.not_entitled)
                }
            },
            valid: signers.counts(s),
            heads: s
                .heads
                .iter()
                .map(|h| h.get(..8).unwrap_or(h))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    PlanPage {
        business: cx.business.to_owned(),
        status: signers
            .status(plan.status, &plan.sign_offs)
            .label()
            .get(lang)
            .to_owned(),
        agreed: signers.agreed(&plan.sign_offs),
        lapsed: sign_offs.iter().any(|s| !s.valid),
        sign_offs,
        sign_as: cx
            .viewer
            .signs_as
            .filter(|_| plan.status != ReviewStatus::Superseded)
            .map(|r| r.label().get(lang).to_owned()),
        heads: heads.join(","),
        goals: plan
            .goals
            .iter()
            .map(|g| GoalRow {
                id: g.id.clone(),
                title: g.title.clone(),
                kpi: g.kpi.clone(),
                target: g
                    .target_date
                    .as_deref()
                    .map(|d| date(d, lang))
                    .unwrap_or_default(),
            })
            .collect(),
        groups,
        quadrants,
        unrated: plan
            .measures
            .iter()
            .filter(|m| m.quadrant.is_none())
            .map(entry)
            .collect(),
        measure_count: plan.measures.len(),
        review,
        duplicates,
        removed: plan
            .removed
            .iter()
            .map(|m| RemovedRow {
                id: m.id.clone(),
                title: m.title.clone(),
                edited_after_removal: m.removal.edited_after_removal,
            })
            .collect(),
        merged: plan
            .merged
            .iter()
            .map(|m| {
                let into = m
                    .merged_into
                    .as_deref()
                    .and_then(|i| titles.get(i))
                    .copied()
                    .unwrap_or("")
                    .to_owned();
                (
                    RemovedRow {
                        id: m.id.clone(),
                        title: m.title.clone(),
                        edited_after_removal: false,
                    },
                    into,
                )
            })
            .collect(),
        goal_choices: plan
            .goals
            .iter()
            .map(|g| (g.id.clone(), g.title.clone()))
            .collect(),
        people: cx.people.to_vec(),
        findings: cx.findings.to_vec(),
        writable: cx.viewer.writable,
    }
}

fn review_row(
    n: &nachbar_core::doc::NeedsReview,
    titles: &BTreeMap<&str, &str>,
    names: &BTreeMap<String, String>,
    lang: Lang,
) -> ReviewRow {
    let t = BusinessTexts::of(lang);
    let parts: Vec<&str> = n.field.split('/').collect();
    let (what, title, values_are) = match parts.as_slice() {
        ["measures", id, field] => (
            match *field {
                "status" => t.status,
                "owner" => t.owner,
                _ => t.due,
            },
            titles.get(id).copied().unwrap_or(id),
            *field,
        ),
        _ => (t.plan_status, "", "plan_status"),
    };
    let label_of = |v: &str| -> String {
        match values_are {
            "status" => status_label(v, lang),
            "owner" => name_of(names, v, t),
            "due" => date(v, lang),
            _ => ReviewStatus::parse(v)
                .map(|s| s.label().get(lang).to_owned())
                .unwrap_or_else(|_| v.to_owned()),
        }
    };
    let mut seen = Vec::new();
    let values = n
        .values
        .iter()
        .filter(|v| {
            let fresh = !seen.contains(v);
            seen.push(v);
            fresh
        })
        .map(|v| ReviewValue {
            value: v.clone(),
            label: label_of(v),
            current: *v == n.current,
        })
        .collect();
    ReviewRow {
        field: n.field.clone(),
        label: if title.is_empty() {
            what.to_owned()
        } else {
            format!("{what}: {title}")
        },
        values,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

/// The column heads of the measures CSV in `lang`.
pub fn csv_head(lang: Lang) -> Vec<&'static str> {
    let t = BusinessTexts::of(lang);
    vec![
        t.title,
        t.status,
        t.owner,
        t.due,
        t.impact,
        t.effort,
        t.quadrant,
        t.cost_once,
        t.cost_recurring,
        t.funding_programme,
        t.funding_state,
        t.goal,
        t.progress_note,
    ]
}

/// The active measures of `plan` as CSV rows (dates ISO, amounts as plain numbers, so a
/// spreadsheet can sort and sum them).
pub fn csv_rows(
    plan: &ActionPlanView,
    names: &BTreeMap<String, String>,
    lang: Lang,
) -> Vec<Vec<String>> {
    let t = BusinessTexts::of(lang);
    let goals: BTreeMap<&str, &str> = plan
        .goals
        .iter()
        .map(|g| (g.id.as_str(), g.title.as_str()))
        .collect();
    plan.measures
        .iter()
        .map(|m| {
            vec![
                m.title.clone(),
                m.status.label().get(lang).to_owned(),
                m.owner
                    .as_deref()
                    .map(|o| name_of(names, o, t))
                    .unwrap_or_default(),
                m.due.clone().unwrap_or_default(),
                text_of(m.impact),
                text_of(m.effort_score),
                m.quadrant
                    .map(|q| q.label().get(lang).to_owned())
                    .unwrap_or_default(),
                text_of(m.cost_once_eur),
                text_of(m.cost_recurring_eur),
                m.funding.programme.clone().unwrap_or_default(),
                m.funding
                    .state
                    .map(|s| s.label().get(lang).to_owned())
                    .unwrap_or_default(),
                m.goal
                    .as_deref()
                    .and_then(|g| goals.get(g))
                    .map(|g| (*g).to_owned())
                    .unwrap_or_default(),
                m.progress_note.clone(),
            ]
        })
        .collect()
}
