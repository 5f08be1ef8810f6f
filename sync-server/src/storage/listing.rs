//! What the web app, the API and the admin commands list from the database besides documents
//! and the access directory: documents by neighbourhood, kind or business with their versions,
//! neighbourhoods and their documents, businesses and the people in them, user names, the demo
//! users. Every query of the server lives in `storage`; these are the ones callers name.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A document id with its version: the sequence number of its newest chunk, which every commit
/// and compaction moves (the web app's read models are cached by it).
pub type DocVersion = (String, i64);

/// A business as listed for a neighbourhood's people page: id, name, trade, still a member.
pub type BusinessRow = (String, String, String, bool);

/// A role held in a business of a neighbourhood: (business, role, user id, user name).
pub type PersonRole = (String, String, String, String);

/// A demo person: (user id, name, first role, first business name).
pub type DemoRow = (String, String, Option<String>, Option<String>);

impl Store {
    fn versions(&self, sql: &str, key: &str) -> Result<Vec<DocVersion>, StoreError> {
        let mut stmt = self.conn().prepare_cached(sql)?;
        let rows = stmt.query_map(params![key], |r| {
            Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The neighbourhood, profile and workshop documents of neighbourhood `n` with their
    /// versions, oldest first; `None` when the neighbourhood does not exist.
    ///
    /// # Errors
    /// On a database error.
    pub fn hood_doc_versions(&self, n: &str) -> Result<Option<Vec<DocVersion>>, StoreError> {
        let exists: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM neighbourhoods WHERE id = ?1",
            params![n],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(None);
        }
        self.versions(
            "SELECT d.doc_id, (SELECT MAX(seq) FROM chunks c WHERE c.doc_id = d.doc_id)
             FROM documents d
             WHERE d.neighbourhood = ?1 AND d.kind IN ('neighbourhood', 'business-profile', 'workshop')
             ORDER BY d.created_at",
            n,
        )
        .map(Some)
    }

    /// The action plans and assessments of business `b` with their versions, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub fn business_doc_versions(&self, b: &str) -> Result<Vec<DocVersion>, StoreError> {
        self.versions(
            "SELECT d.doc_id, (SELECT MAX(seq) FROM chunks c WHERE c.doc_id = d.doc_id)
             FROM documents d
             WHERE d.business = ?1 AND d.kind IN ('action-plan', 'assessment')
             ORDER BY d.created_at",
            b,
        )
    }

    /// The ids of neighbourhood `n`'s documents of `kind`, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub fn doc_ids_of_kind(&self, n: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT doc_id FROM documents WHERE neighbourhood = ?1 AND kind = ?2 ORDER BY created_at",
        )?;
        let rows = stmt.query_map(params![n, kind], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The first document of `kind`, if there is one.
    ///
    /// # Errors
    /// On a database error.
    pub fn first_of_kind(&self, kind: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY created_at LIMIT 1",
                [kind],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Neighbourhood `n`'s document, if the neighbourhood exists and has one.
    ///
    /// # Errors
    /// On a database error.
    pub fn neighbourhood_doc(&self, n: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT doc_id FROM neighbourhoods WHERE id = ?1",
                params![n],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// The id of the neighbourhood named `name`, if there is one.
    ///
    /// # Errors
    /// On a database error.
    pub fn neighbourhood_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM neighbourhoods WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every neighbourhood: (id, name), by name.
    ///
    /// # Errors
    /// On a database error.
    pub fn neighbourhood_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, name FROM neighbourhoods ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The neighbourhood business `b` belongs to, if it exists.
    ///
    /// # Errors
    /// On a database error.
    pub fn neighbourhood_of_business(&self, b: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT neighbourhood FROM businesses WHERE id = ?1",
                params![b],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The businesses of neighbourhood `n`, members and those that left.
    ///
    /// # Errors
    /// On a database error.
    pub fn businesses_in(&self, n: &str) -> Result<Vec<BusinessRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, name, trade, left_at IS NULL FROM businesses WHERE neighbourhood = ?1",
        )?;
        let rows = stmt.query_map(params![n], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The owners, staff and coaches of neighbourhood `n`'s businesses (users not deleted),
    /// coaches first, by name.
    ///
    /// # Errors
    /// On a database error.
    pub fn people_in(&self, n: &str) -> Result<Vec<PersonRole>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT r.scope, r.role, u.id, u.name FROM roles r JOIN users u ON u.id = r.user_id
             JOIN businesses b ON b.id = r.scope
             WHERE b.neighbourhood = ?1 AND u.deleted_at IS NULL AND r.role IN ('owner', 'staff', 'coach')
             ORDER BY r.role DESC, u.name",
        )?;
        let rows = stmt.query_map(params![n], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The name of user `id` (deleted or not), if the user exists.
    ///
    /// # Errors
    /// On a database error.
    pub fn user_name(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT name FROM users WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Every user not deleted: (id, name), by name.
    ///
    /// # Errors
    /// On a database error.
    pub fn live_users(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks user `id` as the demo's person number `order` (for the demo's token list).
    ///
    /// # Errors
    /// On a database error.
    pub fn mark_demo_user(&self, id: &str, order: u32) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)",
            params![format!("demo_user:{id}"), format!("{order:04}")],
        )?;
        Ok(())
    }

    /// The demo's people in their order, not deleted.
    ///
    /// # Errors
    /// On a database error.
    pub fn demo_users(&self) -> Result<Vec<DemoRow>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT u.id, u.name, (SELECT role FROM roles WHERE user_id = u.id ORDER BY role LIMIT 1),
                    (SELECT b.name FROM roles r JOIN businesses b ON b.id = r.scope WHERE r.user_id = u.id LIMIT 1)
             FROM users u JOIN meta m ON m.key = 'demo_user:' || u.id WHERE u.deleted_at IS NULL ORDER BY m.value",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
