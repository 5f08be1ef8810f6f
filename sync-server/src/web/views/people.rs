//! Businesses and people of a neighbourhood for the coordinator: who works where, who coaches
//! whom, which devices and browser sessions are active and when they were last used.

use nachbar_core::label::Lang;

use crate::storage::Access;

use super::moment;

/// A person as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// User id.
    pub user: String,
    /// Name.
    pub name: String,
    /// Role code (`owner`, `staff`, `coach`).
    pub role: String,
    /// Active devices and sessions.
    pub accesses: Vec<Access>,
}

/// A business with its people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessEntry {
    /// Business id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Trade.
    pub trade: String,
    /// Still a member.
    pub active: bool,
    /// Owners, staff and coaches.
    pub people: Vec<Person>,
}

/// An access as a row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    /// Device or browser, in words, with its label.
    pub what: String,
    /// When last used, in words.
    pub last: String,
    /// The revocation handle.
    pub handle: String,
}

/// A person row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// User id.
    pub user: String,
    /// Name.
    pub name: String,
    /// Role in words.
    pub role: String,
    /// Active devices and sessions.
    pub accesses: Vec<AccessRow>,
}

/// A business card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCard {
    /// Business id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Trade.
    pub trade: String,
    /// Still a member.
    pub active: bool,
    /// People.
    pub people: Vec<PersonRow>,
    /// User ids of its coaches.
    pub coaches: Vec<String>,
}

/// Words the rows need.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    /// Role names: owner, staff, coach.
    pub roles: [&'a str; 3],
    /// "Device", "Browser".
    pub kinds: [&'a str; 2],
    /// "last", "never used".
    pub last: [&'a str; 2],
}

/// The cards, active businesses first, each by name.
pub fn cards(mut entries: Vec<BusinessEntry>, words: Words<'_>, lang: Lang) -> Vec<BusinessCard> {
    entries.sort_by(|a, b| {
        (!a.active, a.name.to_lowercase()).cmp(&(!b.active, b.name.to_lowercase()))
    });
    entries
        .into_iter()
        .map(|b| BusinessCard {
            coaches: b
                .people
                .iter()
                .filter(|p| p.role == "coach")
                .map(|p| p.user.clone())
                .collect(),
            people: b
                .people
                .iter()
                .map(|p| PersonRow {
                    user: p.user.clone(),
                    name: p.name.clone(),
                    role: match p.role.as_str() {
                        "owner" => words.roles[0],
                        "staff" => words.roles[1],
                        _ => words.roles[2],
                    }
                    .to_owned(),
                    accesses: p
                        .accesses
                        .iter()
                        .map(|a| AccessRow {
                            what: format!(
                                "{}{}",
                                if a.kind == "web" {
                                    words.kinds[1]
                                } else {
                                    words.kinds[0]
                                },
                                if a.label.is_empty() {
                                    String::new()
                                } else {
                                    format!(" „{}“", a.label)
                                }
                            ),
                            last: a.last_used.map_or_else(
                                || words.last[1].to_owned(),
                                |t| format!("{} {}", words.last[0], moment(t, lang)),
                            ),
                            handle: a.handle.clone(),
                        })
                        .collect(),
                })
                .collect(),
            id: b.id,
            name: b.name,
            trade: b.trade,
            active: b.active,
        })
        .collect()
}
