//! The directory as stored: neighbourhoods, businesses, users, roles and tokens, read as one
//! snapshot for access decisions.

use std::collections::{HashMap, HashSet};

use rusqlite::params;

use super::{Store, StoreError};

/// A business of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessEntry {
    /// Its neighbourhood.
    pub neighbourhood: String,
    /// Display name.
    pub name: String,
    /// Still a member (not left).
    pub active: bool,
}

/// A person working for or coaching a business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessPerson {
    /// User id.
    pub user: String,
    /// Name.
    pub name: String,
    /// Role code (`owner`, `staff` or `coach`).
    pub role: String,
}

/// Everything access decisions need, read in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// The version this snapshot was read at.
    pub version: i64,
    /// Businesses by id.
    pub businesses: HashMap<String, BusinessEntry>,
    /// Neighbourhood ids.
    pub neighbourhoods: HashSet<String>,
    /// Role assignments of users that are not deleted: user → (role, scope).
    pub roles: HashMap<String, Vec<(String, String)>>,
    /// Hashes of tokens that authenticate at the time of reading.
    pub active_tokens: HashSet<String>,
}

impl Directory {
    /// The directory at `version` of its rows: businesses (id, neighbourhood, name, still a
    /// member), neighbourhood ids, roles of users not deleted (user, role, scope), and the
    /// hashes of tokens that authenticate.
    pub fn of_rows(
        version: i64,
        businesses: impl IntoIterator<Item = (String, String, String, bool)>,
        neighbourhoods: impl IntoIterator<Item = String>,
        roles: impl IntoIterator<Item = (String, String, String)>,
        active_tokens: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut dir = Directory {
            version,
            businesses: businesses
                .into_iter()
                .map(|(id, neighbourhood, name, active)| {
                    (
                        id,
                        BusinessEntry {
                            neighbourhood,
                            name,
                            active,
                        },
                    )
                })
                .collect(),
            neighbourhoods: neighbourhoods.into_iter().collect(),
            active_tokens: active_tokens.into_iter().collect(),
            ..Directory::default()
        };
        for (user, role, scope) in roles {
            dir.roles.entry(user).or_default().push((role, scope));
        }
        dir
    }
}

/// A neighbourhood to add: its id is chosen first, so its document (which names it) is stored
/// before the directory entry, which never exists without it.
#[derive(Debug, Clone, Copy)]
pub struct NewNeighbourhood<'a> {
    /// The new id.
    pub id: &'a str,
    /// The name.
    pub name: &'a str,
    /// Where it is.
    pub location: &'a str,
    /// Its stored neighbourhood document.
    pub doc: &'a str,
}

/// A member business to add, with its stored profile document (see [`NewNeighbourhood`]).
#[derive(Debug, Clone, Copy)]
pub struct NewBusiness<'a> {
    /// The new id.
    pub id: &'a str,
    /// The neighbourhood it joins.
    pub neighbourhood: &'a str,
    /// The name.
    pub name: &'a str,
    /// The trade.
    pub trade: &'a str,
    /// Its stored profile document.
    pub profile_doc: &'a str,
}

impl Store {
    /// The directory version (bumped by every directory change).
    ///
    /// # Errors
    /// On a database error.
    pub fn directory_version(&self) -> Result<i64, StoreError> {
        let v: String = self.conn().query_row(
            "SELECT value FROM meta WHERE key = 'directory_version'",
            [],
            |r| r.get(0),
        )?;
        Ok(v.parse().unwrap_or(0))
    }

    pub(crate) fn bump_directory(&self) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'directory_version'",
            [],
        )?;
        Ok(())
    }

    /// Reads the whole directory at `now_ms` (token expiry is judged at that time).
    ///
    /// # Errors
    /// On a database error.
    pub fn directory(&self, now_ms: i64) -> Result<Directory, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT id, neighbourhood, name, left_at IS NULL FROM businesses")?;
        let businesses = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = conn.prepare_cached("SELECT id FROM neighbourhoods")?;
        let neighbourhoods = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT r.user_id, r.role, r.scope FROM roles r JOIN users u ON u.id = r.user_id WHERE u.deleted_at IS NULL",
        )?;
        let roles = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT t.hash FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.revoked_at IS NULL AND u.deleted_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?1)",
        )?;
        let tokens = stmt
            .query_map(params![now_ms], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Directory::of_rows(
            self.directory_version()?,
            businesses,
            neighbourhoods,
            roles,
            tokens,
        ))
    }

    /// Adds a neighbourhood with its (already stored) document.
    ///
    /// # Errors
    /// On a database error (e.g. the id is taken).
    pub fn add_neighbourhood(
        &self,
        n: &NewNeighbourhood<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO neighbourhoods(id, name, location, created_at, doc_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![n.id, n.name, n.location, now_ms, n.doc],
        )?;
        self.bump_directory()?;
        Ok(())
    }

    /// Adds a member business with its (already stored) profile document.
    ///
    /// # Errors
    /// On a database error (e.g. unknown neighbourhood).
    pub fn add_business(&self, b: &NewBusiness<'_>, now_ms: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO businesses(id, neighbourhood, name, trade, joined_at, profile_doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![b.id, b.neighbourhood, b.name, b.trade, now_ms, b.profile_doc],
        )?;
        self.bump_directory()?;
        Ok(())
    }

    /// The owners, staff and coaches of a business who are not deleted, owners first, then
    /// staff, then coaches, each by name.
    ///
    /// # Errors
    /// On a database error.
    pub fn people_of_business(&self, business: &str) -> Result<Vec<BusinessPerson>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT u.id, u.name, r.role FROM roles r JOIN users u ON u.id = r.user_id
             WHERE r.scope = ?1 AND u.deleted_at IS NULL AND r.role IN ('owner', 'staff', 'coach')
             ORDER BY CASE r.role WHEN 'owner' THEN 0 WHEN 'staff' THEN 1 ELSE 2 END, u.name",
        )?;
        let rows = stmt
            .query_map(params![business], |r| {
                Ok(BusinessPerson {
                    user: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Records that a business left its neighbourhood; returns whether it was a member.
    ///
    /// # Errors
    /// On a database error.
    pub fn business_left(&self, business: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE businesses SET left_at = ?2 WHERE id = ?1 AND left_at IS NULL",
            params![business, now_ms],
        )?;
        self.bump_directory()?;
        Ok(n > 0)
    }

    /// Removes a role assignment; returns whether it existed.
    ///
    /// # Errors
    /// On a database error.
    pub fn revoke_role(&self, user_id: &str, role: &str, scope: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "DELETE FROM roles WHERE user_id = ?1 AND role = ?2 AND scope = ?3",
            params![user_id, role, scope],
        )?;
        self.bump_directory()?;
        Ok(n > 0)
    }

    /// Marks a user deleted: tokens stop working, roles no longer count, the calendar feed is
    /// removed.
    ///
    /// # Errors
    /// On a database error.
    pub fn delete_user(&self, user_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE users SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
            params![user_id, now_ms],
        )?;
        self.conn().execute(
            "DELETE FROM calendar_feeds WHERE user_id = ?1",
            params![user_id],
        )?;
        self.bump_directory()?;
        Ok(n > 0)
    }
}
