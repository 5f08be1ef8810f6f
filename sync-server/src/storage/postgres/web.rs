//! [`WebStore`] on PostgreSQL: the same statements as SQLite's in PostgreSQL's dialect, so
//! every node serves the web app and the API from the shared database. Names sort in the `C`
//! collation (byte order, as SQLite's), null times last; a user's text never carries NUL
//! into a `text` column; writes that end a token move the directory version and ring every
//! node (like every access change).

use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::documents::{pg_text, unstorable};
use super::web_accounts;
use crate::auth::{new_invite_code, new_token, token_hash};
use crate::auth_gate::token_shaped;
use crate::storage::listing::{BusinessRow, DemoRow, DocVersion, PersonRole};
use crate::storage::web::{CredentialsOutcome, WebStore};
use crate::storage::{
    Access, Account, BusinessPerson, DocRecord, InviteOutcome, SequenceKey, SessionUser,
    StoreError, StoredDoc,
};
use crate::tokens::{ID_LEN, TokenInfo};

/// The web app's storage in one PostgreSQL database, shared by every node on it.
#[derive(Debug, Clone)]
pub struct PgWeb {
    pool: Pool,
}

impl PgWeb {
    /// The web storage behind `pool` (from [`super::connect`]).
    pub fn new(pool: Pool) -> Self {
        PgWeb { pool }
    }

    /// The rows of one query.
    async fn rows(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        Ok(self.pool.get().await?.query(sql, params).await?)
    }

    /// The one row of a query, if any.
    async fn row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.pool.get().await?.query_opt(sql, params).await?)
    }

    /// The rows an update changed.
    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        Ok(self.pool.get().await?.execute(sql, params).await?)
    }
}

/// The columns of a document record, in [`doc_record`]'s order.
const RECORD: &str = "doc_id, kind, neighbourhood, business, created_by, title";

fn doc_record(r: &Row) -> DocRecord {
    DocRecord {
        doc_id: r.get(0),
        kind: r.get(1),
        neighbourhood: r.get(2),
        business: r.get(3),
        created_by: r.get(4),
        title: r.get(5),
    }
}

/// A document's version: 64 bits of the MD5 of its chunks' sequence numbers. Rows are never
/// changed, only added (a commit) or replaced (a compaction), so the set of sequence numbers
/// names the content exactly. The newest sequence number alone would not: two nodes' commits
/// may become visible out of sequence order, and a page cached at the higher one would miss
/// the lower one that committed later.
const VERSION: &str = "(SELECT ('x' || substr(md5(string_agg(c.seq::text, ',' ORDER BY c.seq)), 1, 16))::bit(64)::bigint
     FROM chunks c WHERE c.doc_id = d.doc_id)";

fn versions(rows: &[Row]) -> Vec<DocVersion> {
    rows.iter()
        .map(|r| (r.get(0), r.get::<_, Option<i64>>(1).unwrap_or(0)))
        .collect()
}

fn account(r: &Row) -> Account {
    Account {
        user_id: r.get(0),
        name: r.get(1),
        login: r.get(2),
        password_hash: r.get(3),
    }
}

#[async_trait::async_trait]
impl WebStore for PgWeb {
    async fn record(&self, doc_id: &str) -> Result<Option<DocRecord>, StoreError> {
        if unstorable(&[doc_id]) {
            return Ok(None);
        }
        let sql = format!("SELECT {RECORD} FROM documents WHERE doc_id = $1");
        Ok(self.row(&sql, &[&doc_id]).await?.as_ref().map(doc_record))
    }

    async fn records(&self) -> Result<Vec<DocRecord>, StoreError> {
        let sql = format!("SELECT {RECORD} FROM documents ORDER BY created_at, doc_id");
        Ok(self.rows(&sql, &[]).await?.iter().map(doc_record).collect())
    }

    async fn load_many(&self, ids: Vec<String>) -> Result<Vec<StoredDoc>, StoreError> {
        let mut client = self.pool.get().await?;
        // One snapshot for records and chunks: a compaction between two reads cannot drop a
        // chunk the snapshot read before it does not hold.
        let tx = super::read_snapshot(&mut client).await?;
        let record_sql = format!("SELECT {RECORD} FROM documents WHERE doc_id = $1");
        let mut out = Vec::with_capacity(ids.len());
        for id in ids.iter().filter(|id| !unstorable(&[id])) {
            let Some(row) = tx.query_opt(&record_sql, &[id]).await? else {
                continue;
            };
            let mut bytes = Vec::new();
            // Snapshots first, as on SQLite.
            for chunk in tx
                .query(
                    "SELECT bytes FROM chunks WHERE doc_id = $1 ORDER BY is_snapshot DESC, seq",
                    &[id],
                )
                .await?
            {
                bytes.extend_from_slice(chunk.get::<_, &[u8]>(0));
            }
            out.push(StoredDoc {
                record: doc_record(&row),
                bytes,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn hood_doc_versions(&self, n: &str) -> Result<Option<Vec<DocVersion>>, StoreError> {
        if unstorable(&[n])
            || self
                .row("SELECT 1 FROM neighbourhoods WHERE id = $1", &[&n])
                .await?
                .is_none()
        {
            return Ok(None);
        }
        let sql = format!(
            "SELECT d.doc_id, {VERSION} FROM documents d
             WHERE d.neighbourhood = $1 AND d.kind IN ('neighbourhood', 'business-profile', 'workshop')
             ORDER BY d.created_at, d.doc_id"
        );
        Ok(Some(versions(&self.rows(&sql, &[&n]).await?)))
    }

    async fn business_doc_versions(&self, b: &str) -> Result<Vec<DocVersion>, StoreError> {
        if unstorable(&[b]) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.doc_id, {VERSION} FROM documents d
             WHERE d.business = $1 AND d.kind IN ('action-plan', 'assessment')
             ORDER BY d.created_at, d.doc_id"
        );
        Ok(versions(&self.rows(&sql, &[&b]).await?))
    }

    async fn doc_ids_of_kind(&self, n: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        if unstorable(&[n, kind]) {
            return Ok(Vec::new());
        }
        Ok(self
            .rows(
                "SELECT doc_id FROM documents WHERE neighbourhood = $1 AND kind = $2
                 ORDER BY created_at, doc_id",
                &[&n, &kind],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    async fn neighbourhood_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .rows(
                "SELECT id, name FROM neighbourhoods ORDER BY name COLLATE \"C\", id",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    async fn businesses_in(&self, n: &str) -> Result<Vec<BusinessRow>, StoreError> {
        if unstorable(&[n]) {
            return Ok(Vec::new());
        }
        Ok(self
            .rows(
                "SELECT id, name, trade, left_at IS NULL FROM businesses WHERE neighbourhood = $1
                 ORDER BY joined_at, id",
                &[&n],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    async fn people_in(&self, n: &str) -> Result<Vec<PersonRole>, StoreError> {
        if unstorable(&[n]) {
            return Ok(Vec::new());
        }
        Ok(self
            .rows(
                "SELECT r.scope, r.role, u.id, u.name FROM roles r JOIN users u ON u.id = r.user_id
                 JOIN businesses b ON b.id = r.scope
                 WHERE b.neighbourhood = $1 AND u.deleted_at IS NULL
                   AND r.role IN ('owner', 'staff', 'coach')
                 ORDER BY r.role COLLATE \"C\" DESC, u.name COLLATE \"C\"",
                &[&n],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    async fn people_of_business(&self, b: &str) -> Result<Vec<BusinessPerson>, StoreError> {
        if unstorable(&[b]) {
            return Ok(Vec::new());
        }
        Ok(self
            .rows(
                "SELECT u.id, u.name, r.role FROM roles r JOIN users u ON u.id = r.user_id
                 WHERE r.scope = $1 AND u.deleted_at IS NULL AND r.role IN ('owner', 'staff', 'coach')
                 ORDER BY CASE r.role WHEN 'owner' THEN 0 WHEN 'staff' THEN 1 ELSE 2 END,
                          u.name COLLATE \"C\"",
                &[&b],
            )
            .await?
            .iter()
            .map(|r| BusinessPerson {
                user: r.get(0),
                name: r.get(1),
                role: r.get(2),
            })
            .collect())
    }

    async fn user_name(&self, id: &str) -> Result<Option<String>, StoreError> {
        if unstorable(&[id]) {
            return Ok(None);
        }
        Ok(self
            .row("SELECT name FROM users WHERE id = $1", &[&id])
            .await?
            .map(|r| r.get(0)))
    }

    async fn live_users(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .rows(
                "SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY name COLLATE \"C\", id",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    async fn account_by_login(&self, login: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .row(
                "SELECT id, name, login, password_hash FROM users
                 WHERE login = $1 AND deleted_at IS NULL",
                &[&pg_text(login.to_owned())],
            )
            .await?
            .as_ref()
            .map(account))
    }

    async fn set_credentials(
        &self,
        user_id: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<CredentialsOutcome, StoreError> {
        web_accounts::set_credentials(&self.pool, user_id, login, password_hash, now_ms).await
    }

    async fn create_session(
        &self,
        user_id: &str,
        label: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let secret = new_token();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO web_sessions(hash, user_id, label, created_at, expires_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, $4)",
            &[
                &token_hash(&secret),
                &user_id,
                &pg_text(label.to_owned()),
                &now_ms,
                &expires_at,
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO acts(at, user_id, action, subject, detail)
             VALUES ($1, $2, 'session.start', $2, '')",
            &[&now_ms, &user_id],
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    async fn session_user(
        &self,
        secret: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        if !token_shaped(secret) {
            return Ok(None);
        }
        let hash = token_hash(secret);
        let client = self.pool.get().await?;
        let Some(row) = client
            .query_opt(
                "SELECT u.id, u.name, s.last_seen FROM web_sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
                   AND u.deleted_at IS NULL",
                &[&hash, &now_ms],
            )
            .await?
        else {
            return Ok(None);
        };
        // One write a minute at most per session, not one per page.
        if now_ms - row.get::<_, i64>(2) > 60_000 {
            client
                .execute(
                    "UPDATE web_sessions SET last_seen = $2 WHERE hash = $1",
                    &[&hash, &now_ms],
                )
                .await?;
        }
        Ok(Some(SessionUser {
            user_id: row.get(0),
            name: row.get(1),
            session_hash: hash,
        }))
    }

    async fn revoke_session(&self, hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .execute(
                "UPDATE web_sessions SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL",
                &[&hash, &now_ms],
            )
            .await?
            > 0)
    }

    async fn accesses_of(&self, user_id: &str, now_ms: i64) -> Result<Vec<Access>, StoreError> {
        if unstorable(&[user_id]) {
            return Ok(Vec::new());
        }
        Ok(self
            .rows(
                "SELECT 'device', label, created_at, last_used_at, hash FROM tokens
                   WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                 UNION ALL
                 SELECT 'web', label, created_at, last_seen, hash FROM web_sessions
                   WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
                 ORDER BY 4 DESC NULLS LAST",
                &[&user_id, &now_ms],
            )
            .await?
            .iter()
            .map(|r| Access {
                kind: if r.get::<_, &str>(0) == "web" {
                    "web"
                } else {
                    "device"
                },
                label: r.get(1),
                created_at: r.get(2),
                last_used: r.get(3),
                handle: r.get(4),
            })
            .collect())
    }

    async fn revoke_access(
        &self,
        user_id: &str,
        handle: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        if !token_shaped(handle) {
            return Ok(false);
        }
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&handle, &user_id, &now_ms];
        // A device token is access data: the directory moves and every node closes it.
        let ended = web_accounts::end_accesses(
            &self.pool,
            Some((
                "UPDATE web_sessions SET revoked_at = $3
                 WHERE hash = $1 AND user_id = $2 AND revoked_at IS NULL",
                &params,
            )),
            (
                "UPDATE tokens SET revoked_at = $3
                 WHERE hash = $1 AND user_id = $2 AND revoked_at IS NULL",
                &params,
            ),
        )
        .await?;
        Ok(ended > 0)
    }

    async fn record_act(
        &self,
        user_id: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO acts(at, user_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            &[
                &now_ms,
                &user_id,
                &action,
                &pg_text(subject.to_owned()),
                &pg_text(detail.to_owned()),
            ],
        )
        .await?;
        Ok(())
    }

    async fn create_invite(
        &self,
        user_id: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let code = new_invite_code();
        self.execute(
            "INSERT INTO invites(code_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash(&code), &user_id, &now_ms, &expires_at],
        )
        .await?;
        Ok(code)
    }

    async fn invite_user(
        &self,
        code: &str,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .row(
                "SELECT u.id, u.name FROM invites i JOIN users u ON u.id = i.user_id
                 WHERE i.code_hash = $1 AND i.used_at IS NULL AND i.expires_at > $2
                   AND u.deleted_at IS NULL",
                &[&token_hash(code.trim()), &now_ms],
            )
            .await?
            .map(|r| (r.get(0), r.get(1))))
    }

    async fn accept_invite(
        &self,
        code: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<InviteOutcome, StoreError> {
        web_accounts::accept_invite(&self.pool, code, login, password_hash, now_ms).await
    }

    async fn enroll(
        &self,
        code: &str,
        label: &str,
        token_expires_at: i64,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        web_accounts::enroll(&self.pool, code, label, token_expires_at, now_ms).await
    }

    async fn tokens_of(&self, user_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        if unstorable(&[user_id]) {
            return Ok(Vec::new());
        }
        let id_len = ID_LEN as i32;
        Ok(self
            .rows(
                "SELECT substr(hash, 1, $2), label, created_at, last_used_at, expires_at, revoked_at
                 FROM tokens WHERE user_id = $1 ORDER BY created_at DESC, hash",
                &[&user_id, &id_len],
            )
            .await?
            .iter()
            .map(|r| TokenInfo {
                id: r.get(0),
                label: r.get(1),
                created_at: r.get(2),
                last_used_at: r.get(3),
                expires_at: r.get(4),
                revoked_at: r.get(5),
            })
            .collect())
    }

    async fn revoke_token_id(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        if id.len() != ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let (id, id_len) = (id.to_ascii_lowercase(), ID_LEN as i32);
        Ok(web_accounts::end_accesses(
            &self.pool,
            None,
            (
                "UPDATE tokens SET revoked_at = $2
                 WHERE substr(hash, 1, $3) = $1 AND revoked_at IS NULL",
                &[&id, &now_ms, &id_len],
            ),
        )
        .await?
            > 0)
    }

    async fn create_calendar_feed(&self, user_id: &str, now_ms: i64) -> Result<String, StoreError> {
        let secret = new_token();
        self.execute(
            "INSERT INTO calendar_feeds(user_id, hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
            &[&user_id, &token_hash(&secret), &now_ms],
        )
        .await?;
        Ok(secret)
    }

    async fn revoke_calendar_feed(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .execute("DELETE FROM calendar_feeds WHERE user_id = $1", &[&user_id])
            .await?
            > 0)
    }

    async fn calendar_feed_since(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .row(
                "SELECT created_at FROM calendar_feeds WHERE user_id = $1",
                &[&user_id],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn calendar_feed_user(&self, secret: &str) -> Result<Option<String>, StoreError> {
        if !token_shaped(secret) {
            return Ok(None);
        }
        Ok(self
            .row(
                "SELECT f.user_id FROM calendar_feeds f JOIN users u ON u.id = f.user_id
                 WHERE f.hash = $1 AND u.deleted_at IS NULL",
                &[&token_hash(secret)],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn calendar_sequences(
        &self,
        events: Vec<SequenceKey>,
        oldest: String,
    ) -> Result<Vec<i64>, StoreError> {
        web_accounts::calendar_sequences(&self.pool, &events, &oldest).await
    }

    async fn neighbourhood_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .row(
                "SELECT id FROM neighbourhoods WHERE name = $1 ORDER BY created_at, id LIMIT 1",
                &[&pg_text(name.to_owned())],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn mark_demo_user(&self, id: &str, order: u32) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO meta(key, value) VALUES ($1, $2)",
            &[&format!("demo_user:{id}"), &format!("{order:04}")],
        )
        .await?;
        Ok(())
    }

    async fn demo_users(&self) -> Result<Vec<DemoRow>, StoreError> {
        Ok(self
            .rows(
                "SELECT u.id, u.name,
                        (SELECT role FROM roles WHERE user_id = u.id ORDER BY role LIMIT 1),
                        (SELECT b.name FROM roles r JOIN businesses b ON b.id = r.scope
                          WHERE r.user_id = u.id ORDER BY b.name LIMIT 1)
                 FROM users u JOIN meta m ON m.key = 'demo_user:' || u.id
                 WHERE u.deleted_at IS NULL ORDER BY m.value",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    async fn integrity(&self) -> Result<String, StoreError> {
        let one: i32 = self
            .pool
            .get()
            .await?
            .query_one("SELECT 1", &[])
            .await?
            .get(0);
        Ok(if one == 1 { "ok" } else { "unexpected answer" }.to_owned())
    }
}
