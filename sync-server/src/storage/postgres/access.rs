//! The access data in PostgreSQL: the directory snapshot every node reads, token checks and
//! renewal, and the writes that set a neighbourhood up; each write that changes access moves
//! the directory version in the same transaction, so no node sees the change without the bump.

use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use crate::access::Principal;
use crate::auth::{TokenRejection, new_token, token_hash, token_verdict};
use crate::storage::backend::AccessStore;
use crate::storage::{Directory, NewBusiness, NewNeighbourhood, StoreError};

use super::documents::{pg_text, unstorable};

/// The access data of one PostgreSQL database, shared by every node on it.
#[derive(Debug, Clone)]
pub struct PgAccess {
    pool: Pool,
}

impl PgAccess {
    /// The access data behind `pool` (from [`super::connect`]).
    pub fn new(pool: Pool) -> Self {
        PgAccess { pool }
    }

    /// Runs `statements` in order and moves the directory version, in one transaction, then
    /// rings every node's doorbell; the rows the first one changed.
    async fn changing_access(&self, statements: &[Statement<'_>]) -> Result<u64, StoreError> {
        changing_access(&self.pool, statements).await
    }
}

/// Runs `statements` in order and moves the directory version, in one transaction, then
/// rings every node's doorbell (every node reads the directory again now, not at its next
/// timer); the rows the first one changed.
pub(super) async fn changing_access(
    pool: &Pool,
    statements: &[Statement<'_>],
) -> Result<u64, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let mut first = None;
    for (sql, params) in statements {
        let changed = tx.execute(*sql, params).await?;
        first.get_or_insert(changed);
    }
    tx.execute(BUMP, &[]).await?;
    tx.commit().await?;
    super::doorbell::ring_every_node(&client).await;
    Ok(first.unwrap_or(0))
}

/// One SQL statement with its parameters.
pub(super) type Statement<'a> = (&'a str, &'a [&'a (dyn ToSql + Sync)]);

/// Moves the directory version (inside the transaction of the change).
pub(super) const BUMP: &str =
    "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'directory_version'";

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[async_trait::async_trait]
impl AccessStore for PgAccess {
    async fn directory_version(&self) -> Result<i64, StoreError> {
        let client = self.pool.get().await?;
        let v: String = client
            .query_one(
                "SELECT value FROM meta WHERE key = 'directory_version'",
                &[],
            )
            .await?
            .get(0);
        Ok(v.parse().unwrap_or(0))
    }

    async fn directory(&self, now_ms: i64) -> Result<Directory, StoreError> {
        let mut client = self.pool.get().await?;
        // One snapshot for the version and every row, so they belong together.
        let tx = super::read_snapshot(&mut client).await?;
        let version: String = tx
            .query_one(
                "SELECT value FROM meta WHERE key = 'directory_version'",
                &[],
            )
            .await?
            .get(0);
        let businesses = tx
            .query(
                "SELECT id, neighbourhood, name, left_at IS NULL FROM businesses",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect::<Vec<_>>();
        let neighbourhoods = tx
            .query("SELECT id FROM neighbourhoods", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect::<Vec<String>>();
        let roles = tx
            .query(
                "SELECT r.user_id, r.role, r.scope FROM roles r JOIN users u ON u.id = r.user_id
                 WHERE u.deleted_at IS NULL",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect::<Vec<_>>();
        let tokens = tx
            .query(
                "SELECT t.hash FROM tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.revoked_at IS NULL AND u.deleted_at IS NULL
                   AND (t.expires_at IS NULL OR t.expires_at > $1)",
                &[&now_ms],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect::<Vec<String>>();
        tx.commit().await?;
        Ok(Directory::of_rows(
            version.parse().unwrap_or(0),
            businesses,
            neighbourhoods,
            roles,
            tokens,
        ))
    }

    async fn principal_for_token(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Result<Principal, TokenRejection>, StoreError> {
        if !crate::auth_gate::token_shaped(token) {
            return Ok(Err(TokenRejection::Unknown));
        }
        let hash = token_hash(token);
        let client = self.pool.get().await?;
        let Some(row) = client
            .query_opt(
                "SELECT t.user_id, t.expires_at, t.revoked_at, u.deleted_at
                 FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
                &[&hash],
            )
            .await?
        else {
            return Ok(Err(TokenRejection::Unknown));
        };
        Ok(token_verdict(
            row.get(0),
            hash,
            row.get(1),
            row.get(2),
            row.get(3),
            now_ms,
        ))
    }

    async fn token_used(
        &self,
        token_hash: &str,
        now_ms: i64,
        renew_until: i64,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE tokens SET last_used_at = $2::bigint,
                        expires_at = CASE WHEN expires_at IS NULL THEN NULL
                                          ELSE GREATEST(expires_at, $3::bigint) END
                 WHERE hash = $1 AND revoked_at IS NULL
                   AND (last_used_at IS NULL OR last_used_at < $2::bigint - 60000)",
                &[&token_hash, &now_ms, &renew_until],
            )
            .await?;
        Ok(())
    }

    async fn add_neighbourhood(
        &self,
        n: &NewNeighbourhood<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.changing_access(&[(
            "INSERT INTO neighbourhoods(id, name, location, created_at, doc_id)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &n.id,
                &pg_text(n.name.to_owned()),
                &pg_text(n.location.to_owned()),
                &now_ms,
                &n.doc,
            ],
        )])
        .await?;
        Ok(())
    }

    async fn add_business(&self, b: &NewBusiness<'_>, now_ms: i64) -> Result<(), StoreError> {
        self.changing_access(&[(
            "INSERT INTO businesses(id, neighbourhood, name, trade, joined_at, profile_doc)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &b.id,
                &b.neighbourhood,
                &pg_text(b.name.to_owned()),
                &pg_text(b.trade.to_owned()),
                &now_ms,
                &b.profile_doc,
            ],
        )])
        .await?;
        Ok(())
    }

    async fn business_left(&self, b: &str, now_ms: i64) -> Result<bool, StoreError> {
        let left = self
            .changing_access(&[(
                "UPDATE businesses SET left_at = $2 WHERE id = $1 AND left_at IS NULL",
                &[&b, &now_ms],
            )])
            .await?;
        Ok(left > 0)
    }

    async fn neighbourhood_doc(&self, n: &str) -> Result<Option<String>, StoreError> {
        if unstorable(&[n]) {
            return Ok(None);
        }
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT doc_id FROM neighbourhoods WHERE id = $1", &[&n])
            .await?;
        Ok(row.and_then(|r| r.get(0)))
    }

    async fn neighbourhood_of_business(&self, b: &str) -> Result<Option<String>, StoreError> {
        if unstorable(&[b]) {
            return Ok(None);
        }
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT neighbourhood FROM businesses WHERE id = $1", &[&b])
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn user_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        if unstorable(&[name]) {
            return Ok(None);
        }
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT id FROM users WHERE name = $1 AND deleted_at IS NULL
                 ORDER BY created_at, id LIMIT 1",
                &[&name],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn add_user(&self, name: &str, now_ms: i64) -> Result<String, StoreError> {
        // A user without roles changes no access: no version to move.
        let id = new_id();
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO users(id, name, created_at) VALUES ($1, $2, $3)",
                &[&id, &name, &now_ms],
            )
            .await?;
        Ok(id)
    }

    async fn add_user_with_role(
        &self,
        name: &str,
        role: &str,
        scope: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let id = new_id();
        let name = pg_text(name.to_owned());
        self.changing_access(&[
            (
                "INSERT INTO users(id, name, created_at) VALUES ($1, $2, $3)",
                &[&id, &name, &now_ms],
            ),
            (
                "INSERT INTO roles(user_id, role, scope) VALUES ($1, $2, $3)",
                &[&id, &role, &scope],
            ),
        ])
        .await?;
        Ok(id)
    }

    async fn grant_role(&self, user_id: &str, role: &str, scope: &str) -> Result<(), StoreError> {
        self.changing_access(&[(
            "INSERT INTO roles(user_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&user_id, &role, &scope],
        )])
        .await?;
        Ok(())
    }

    async fn revoke_role(
        &self,
        user_id: &str,
        role: &str,
        scope: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .changing_access(&[(
                "DELETE FROM roles WHERE user_id = $1 AND role = $2 AND scope = $3",
                &[&user_id, &role, &scope],
            )])
            .await?
            > 0)
    }

    async fn issue_token(
        &self,
        user_id: &str,
        label: &str,
        expires_at: Option<i64>,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let token = new_token();
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO tokens(hash, user_id, label, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&token_hash(&token), &user_id, &label, &now_ms, &expires_at],
            )
            .await?;
        Ok(token)
    }

    async fn revoke_token(&self, token: &str, now_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .changing_access(&[(
                "UPDATE tokens SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL",
                &[&token_hash(token), &now_ms],
            )])
            .await?
            > 0)
    }

    async fn delete_user(&self, user_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .changing_access(&[
                (
                    "UPDATE users SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
                    &[&user_id, &now_ms],
                ),
                ("DELETE FROM calendar_feeds WHERE user_id = $1", &[&user_id]),
            ])
            .await?
            > 0)
    }
}
