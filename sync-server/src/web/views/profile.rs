//! What a business shares with its neighbourhood, for the business itself: topic states,
//! needs with the offers other businesses made for them, its own offers, good practices,
//! shared findings and seat interest in joint offerings; every item says who can see it.

use std::collections::BTreeMap;

use nachbar_core::catalogue::CatalogueRelease;
use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::assessment::ShareLevel;
use nachbar_core::model::business_profile::{BusinessProfileView, RecordRef, TopicState};
use nachbar_core::model::neighbourhood::NeighbourhoodView;

use super::Choice;
use crate::web::i18n_business::BusinessTexts;

/// A topic area with the state shared for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRow {
    /// Area code.
    pub code: String,
    /// Area name.
    pub label: String,
    /// State choices ("" = not shared), the current one selected.
    pub choices: Vec<Choice>,
}

/// An offer another business made for one of this business's needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferForNeed {
    /// `<business>/<offer>`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// The offering business and the format, in words.
    pub from: String,
    /// It is the accepted one.
    pub accepted: bool,
}

/// A need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedRow {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// State in words.
    pub state: String,
    /// Offers made for it.
    pub offers: Vec<OfferForNeed>,
}

/// A shared item (own offer, good practice, shared finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRow {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// What it is, in words (area, format).
    pub what: String,
    /// Who can see it, in words.
    pub visible_to: String,
}

/// A joint offering with this business's seat interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRow {
    /// Offering id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Status in words.
    pub status: String,
    /// Seats of interest.
    pub seats: i64,
}

/// The profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePage {
    /// Who sees the profile as a whole, in words.
    pub visible_to: String,
    /// Topic states per area.
    pub topics: Vec<TopicRow>,
    /// Needs with the offers made for them.
    pub needs: Vec<NeedRow>,
    /// The business's own offers.
    pub offers: Vec<SharedRow>,
    /// Good practices.
    pub practices: Vec<SharedRow>,
    /// Shared findings.
    pub findings: Vec<SharedRow>,
    /// Joint offerings with the seats of interest.
    pub seats: Vec<SeatRow>,
}

/// A list of shared items with the action that takes one back.
#[derive(Debug, Clone, Copy)]
pub struct SharedSection<'a> {
    /// Heading.
    pub heading: &'static str,
    /// Path segment of the items (`offers`, `practices`, `findings`).
    pub kind: &'static str,
    /// Path segment of the action (`withdraw`, `revoke`).
    pub action: &'static str,
    /// The action's label.
    pub action_label: &'static str,
    /// The items.
    pub rows: &'a [SharedRow],
}

impl ProfilePage {
    /// The business's offers, good practices and shared findings, each with its action.
    pub fn sections(&self, t: &BusinessTexts) -> Vec<SharedSection<'_>> {
        vec![
            SharedSection {
                heading: t.offers,
                kind: "offers",
                action: "withdraw",
                action_label: t.withdraw,
                rows: &self.offers,
            },
            SharedSection {
                heading: t.good_practices,
                kind: "practices",
                action: "revoke",
                action_label: t.revoke,
                rows: &self.practices,
            },
            SharedSection {
                heading: t.shared_findings,
                kind: "findings",
                action: "revoke",
                action_label: t.revoke,
                rows: &self.findings,
            },
        ]
    }
}

/// Builds the page of `profile`; `others` are the other profiles of the neighbourhood (offers
/// for this business's needs), `names` the businesses' names by id.
pub fn page(
    profile: &BusinessProfileView,
    others: &[&BusinessProfileView],
    hood: Option<&NeighbourhoodView>,
    names: &BTreeMap<String, String>,
    release: &CatalogueRelease,
    lang: Lang,
) -> ProfilePage {
    let t = BusinessTexts::of(lang);
    let area_name = |code: &str| {
        release
            .area(code)
            .map_or_else(|| code.to_owned(), |a| a.label.get(lang).to_owned())
    };
    let topics = release
        .areas
        .iter()
        .map(|a| {
            let current = profile.topic_states.get(&a.id).copied();
            let mut choices = vec![Choice {
                code: String::new(),
                label: t.not_shared_state.to_owned(),
                selected: current.is_none(),
            }];
            choices.extend(super::choices(TopicState::ALL, |s| s.code(), current, lang));
            TopicRow {
                code: a.id.clone(),
                label: format!("{} {}", a.id, a.label.get(lang)),
                choices,
            }
        })
        .collect();
    let needs = profile
        .needs
        .iter()
        .map(|n| NeedRow {
            id: n.id.clone(),
            title: n.title.clone(),
            state: n.state.label().get(lang).to_owned(),
            offers: others
                .iter()
                .flat_map(|p| p.offers.iter().map(move |o| (p, o)))
                .filter(|(_, o)| {
                    o.for_need
                        .as_ref()
                        .is_some_and(|r| r.business == profile.business && r.id == n.id)
                })
                .map(|(p, o)| {
                    let reference = RecordRef {
                        business: p.business.clone(),
                        id: o.id.clone(),
                    };
                    OfferForNeed {
                        accepted: n.accepted_offer.as_ref() == Some(&reference),
                        reference: reference.encode(),
                        title: o.title.clone(),
                        from: format!(
                            "{}, {}",
                            names
                                .get(&p.business)
                                .cloned()
                                .unwrap_or_else(|| p.display_name.clone()),
                            o.format.label().get(lang)
                        ),
                    }
                })
                .collect(),
        })
        .collect();
    let whole = t.neighbourhood_wide.to_owned();
    ProfilePage {
        visible_to: whole.clone(),
        topics,
        needs,
        offers: profile
            .offers
            .iter()
            .map(|o| SharedRow {
                id: o.id.clone(),
                title: o.title.clone(),
                what: o.format.label().get(lang).to_owned(),
                visible_to: whole.clone(),
            })
            .collect(),
        practices: profile
            .good_practices
            .iter()
            .map(|g| SharedRow {
                id: g.id.clone(),
                title: g.title.clone(),
                what: g
                    .areas
                    .iter()
                    .map(|a| area_name(a))
                    .collect::<Vec<_>>()
                    .join(", "),
                visible_to: if g.named {
                    whole.clone()
                } else {
                    t.anonymous.to_owned()
                },
            })
            .collect(),
        findings: profile
            .shared_findings
            .iter()
            .map(|f| SharedRow {
                id: f.id.clone(),
                title: f.title.clone(),
                what: area_name(&f.area),
                visible_to: match f.share_level {
                    ShareLevel::Named => whole.clone(),
                    ShareLevel::Anonymised => t.anonymous.to_owned(),
                    ShareLevel::Private => t.private.to_owned(),
                },
            })
            .collect(),
        seats: hood
            .map(|h| {
                h.joint_offerings
                    .iter()
                    .map(|o| SeatRow {
                        id: o.id.clone(),
                        title: o.title.clone(),
                        status: o.status.label().get(lang).to_owned(),
                        seats: profile.seat_interest.get(&o.id).copied().unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use nachbar_core::catalogue;
    use nachbar_core::doc::EditContext;
    use nachbar_core::model::business_profile::OfferFormat;
    use nachbar_core::model::business_profile::{BusinessProfileDoc, NewGoodPractice, Topic};
    use nachbar_core::time::Timestamp;

    use super::*;

    fn ctx() -> EditContext {
        EditContext::new("u", Timestamp(1_767_225_600_000))
    }

    fn profile(business: &str) -> BusinessProfileDoc {
        BusinessProfileDoc::create(ActorId::random(), &ctx(), "n", business, business, "", None)
            .unwrap()
            .0
    }

    #[test]
    fn needs_show_the_offers_made_for_them_and_items_say_who_sees_them() {
        let mut mine = profile("glazier");
        let topic = |title: &str| Topic {
            title: title.to_owned(),
            areas: vec!["D".to_owned()],
            tags: vec![],
            description: String::new(),
        };
        let (need, _) = mine
            .add_need(&ctx(), &topic("E-Rechnung empfangen"), 2)
            .unwrap();
        let _in_memory = mine
            .set_topic_state(&ctx(), "D", Some(TopicState::NeedHelp))
            .unwrap();
        let story = NewGoodPractice {
            title: "Funktionspostfach".to_owned(),
            problem: String::new(),
            solution: String::new(),
            tools: String::new(),
            lessons: String::new(),
            cost_band: None,
            named: false,
            areas: vec!["B".to_owned()],
        };
        let _in_memory = mine.publish_good_practice(&ctx(), &story).unwrap();
        let mut printer = profile("printer");
        let for_need = RecordRef {
            business: "glazier".to_owned(),
            id: need,
        };
        let _in_memory = printer
            .add_offer(
                &ctx(),
                &topic("ZUGFeRD zeigen"),
                OfferFormat::SiteVisit,
                Some(&for_need),
            )
            .unwrap();
        let (mine_v, printer_v) = (mine.view().unwrap(), printer.view().unwrap());
        let names = BTreeMap::from([("printer".to_owned(), "Druckerei Lange".to_owned())]);
        let p = page(
            &mine_v,
            &[&printer_v],
            None,
            &names,
            catalogue::release_1_0(),
            Lang::De,
        );
        assert_eq!(p.needs.len(), 1);
        let offer = &p.needs[0].offers[0];
        assert_eq!(offer.title, "ZUGFeRD zeigen");
        assert_eq!(offer.from, "Druckerei Lange, Besuch vor Ort");
        assert!(!offer.accepted);
        assert!(offer.reference.starts_with("printer/"));
        let d = p.topics.iter().find(|r| r.code == "D").unwrap();
        assert!(
            d.choices
                .iter()
                .any(|c| c.selected && c.code == "need_help")
        );
        assert_eq!(p.practices[0].visible_to, "die Nachbarschaft, ohne Namen");
        assert_eq!(p.visible_to, "die ganze Nachbarschaft");
        // Another business's profile lists no offers for needs it does not have.
        let other = page(
            &printer_v,
            &[&mine_v],
            None,
            &names,
            catalogue::release_1_0(),
            Lang::En,
        );
        assert!(other.needs.is_empty());
        assert_eq!(other.offers[0].visible_to, "the whole neighbourhood");
    }
}
