//! The web app's writes on PostgreSQL that must hold together: an invitation used up exactly
//! once (by enrolment or by setting a password), credentials set with the login name checked
//! in the same transaction (a login taken by a racing node is "taken", not an error), device
//! tokens and sessions ended together (the directory moves only when a token ended), and the
//! calendar's SEQUENCE numbers decided row by row so two nodes answering feeds at once cannot
//! both raise the same event.

use deadpool_postgres::{GenericClient, Pool};

use super::access::BUMP;
use super::documents::pg_text;
use crate::auth::{new_token, token_hash};
use crate::storage::web::CredentialsOutcome;
use crate::storage::{InviteOutcome, SequenceKey, StoreError};

/// Ends every open browser session of `user_id` (its credentials changed).
const END_SESSIONS: &str =
    "UPDATE web_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";

/// Whether `e` is PostgreSQL's unique violation (a login name taken by a racing transaction).
fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Ends the browser sessions and device tokens that `sessions` and `tokens` (each an
/// `UPDATE … SET revoked_at = $now`) match, in one transaction; only when a device token
/// ended does the directory move and every node hear of it. How many ended.
pub(super) async fn end_accesses(
    pool: &Pool,
    sessions: Option<(&str, &[&(dyn tokio_postgres::types::ToSql + Sync)])>,
    tokens: (&str, &[&(dyn tokio_postgres::types::ToSql + Sync)]),
) -> Result<u64, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let ended_sessions = match sessions {
        Some((sql, params)) => tx.execute(sql, params).await?,
        None => 0,
    };
    let ended_tokens = tx.execute(tokens.0, tokens.1).await?;
    if ended_tokens > 0 {
        tx.execute(BUMP, &[]).await?;
    }
    tx.commit().await?;
    if ended_tokens > 0 {
        super::doorbell::ring_every_node(&client).await;
    }
    Ok(ended_sessions + ended_tokens)
}

/// Uses up the unused, unexpired invitation `code` of a live user inside `tx`; its user.
async fn use_invite(
    tx: &impl GenericClient,
    code: &str,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    // One statement: two requests with the same code cannot both find it unused.
    Ok(tx
        .query_opt(
            "UPDATE invites i SET used_at = $2 FROM users u
             WHERE i.code_hash = $1 AND i.used_at IS NULL AND i.expires_at > $2
               AND u.id = i.user_id AND u.deleted_at IS NULL
             RETURNING i.user_id",
            &[&token_hash(code.trim()), &now_ms],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Whether another user than `user_id` has `login`.
async fn login_taken(
    tx: &impl GenericClient,
    login: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM users WHERE login = $1 AND id <> $2",
            &[&login, &user_id],
        )
        .await?
        .is_some())
}

/// See [`crate::storage::web::WebStore::set_credentials`].
pub(super) async fn set_credentials(
    pool: &Pool,
    user_id: &str,
    login: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<CredentialsOutcome, StoreError> {
    let login = pg_text(login.to_owned());
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    if login_taken(&tx, &login, user_id).await? {
        return Ok(CredentialsOutcome::LoginTaken);
    }
    let set = match tx
        .execute(
            "UPDATE users SET login = $2, password_hash = $3 WHERE id = $1 AND deleted_at IS NULL",
            &[&user_id, &login, &password_hash],
        )
        .await
    {
        Ok(set) => set,
        Err(e) if is_unique_violation(&e) => return Ok(CredentialsOutcome::LoginTaken),
        Err(e) => return Err(e.into()),
    };
    if set == 0 {
        return Ok(CredentialsOutcome::NoUser);
    }
    tx.execute(END_SESSIONS, &[&user_id, &now_ms]).await?;
    tx.commit().await?;
    Ok(CredentialsOutcome::Set)
}

/// See [`crate::storage::web::WebStore::accept_invite`].
pub(super) async fn accept_invite(
    pool: &Pool,
    code: &str,
    login: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<InviteOutcome, StoreError> {
    let login = pg_text(login.to_owned());
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let Some(user) = use_invite(&tx, code, now_ms).await? else {
        return Ok(InviteOutcome::Invalid);
    };
    if login_taken(&tx, &login, &user).await? {
        // Rolled back: the invitation stays unused.
        return Ok(InviteOutcome::LoginTaken);
    }
    match tx
        .execute(
            "UPDATE users SET login = $2, password_hash = $3 WHERE id = $1",
            &[&user, &login, &password_hash],
        )
        .await
    {
        Ok(_) => {}
        // Rolled back: the invitation stays unused.
        Err(e) if is_unique_violation(&e) => return Ok(InviteOutcome::LoginTaken),
        Err(e) => return Err(e.into()),
    }
    tx.execute(END_SESSIONS, &[&user, &now_ms]).await?;
    tx.execute(
        "INSERT INTO acts(at, user_id, action, subject, detail)
         VALUES ($1, $2, 'invite.accept', $2, 'web')",
        &[&now_ms, &user],
    )
    .await?;
    tx.commit().await?;
    Ok(InviteOutcome::Done(user))
}

/// See [`crate::storage::web::WebStore::enroll`].
pub(super) async fn enroll(
    pool: &Pool,
    code: &str,
    label: &str,
    token_expires_at: i64,
    now_ms: i64,
) -> Result<Option<(String, String)>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let Some(user) = use_invite(&tx, code, now_ms).await? else {
        return Ok(None);
    };
    let token = new_token();
    tx.execute(
        "INSERT INTO tokens(hash, user_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            &token_hash(&token),
            &user,
            &pg_text(label.to_owned()),
            &now_ms,
            &token_expires_at,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Some((user, token)))
}

/// A stored `calendar_sequences` row: fingerprint, sequence, date.
type StoredSequence = (String, i64, String);

/// See [`crate::storage::web::WebStore::calendar_sequences`]: reads only while nothing
/// changed; otherwise each changed event is one upsert that decides its number from the row
/// it finds (locked), so two nodes answering feeds at once cannot both raise an event. Keys
/// are compared as stored (NUL as U+FFFD), or an event with a NUL in its title would count
/// as changed on every fetch.
pub(super) async fn calendar_sequences(
    pool: &Pool,
    events: &[SequenceKey],
    oldest: &str,
) -> Result<Vec<i64>, StoreError> {
    let events: Vec<SequenceKey> = events
        .iter()
        .map(|e| SequenceKey {
            uid: pg_text(e.uid.clone()),
            fingerprint: pg_text(e.fingerprint.clone()),
            date: pg_text(e.date.clone()),
        })
        .collect();
    let mut client = pool.get().await?;
    let uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
    let stored: std::collections::HashMap<String, StoredSequence> = client
        .query(
            "SELECT uid, fingerprint, sequence, event_date FROM calendar_sequences
             WHERE uid = ANY($1)",
            &[&uids],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    let current = |e: &SequenceKey| {
        stored
            .get(&e.uid)
            .filter(|r| r.0 == e.fingerprint && r.2 == e.date)
            .map(|r| r.1)
    };
    if let Some(sequences) = events.iter().map(current).collect::<Option<Vec<i64>>>() {
        return Ok(sequences);
    }
    let tx = client.transaction().await?;
    // Rows are written in uid order, so two nodes writing the same events cannot deadlock.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|a, b| events[*a].uid.cmp(&events[*b].uid));
    let mut out = vec![0; events.len()];
    for i in order {
        let e = &events[i];
        if let Some(sequence) = current(e) {
            out[i] = sequence;
            continue;
        }
        let row = tx
            .query_one(
                "INSERT INTO calendar_sequences AS s (uid, fingerprint, sequence, event_date)
                 VALUES ($1, $2, 0, $3)
                 ON CONFLICT (uid) DO UPDATE SET
                   sequence = CASE WHEN s.fingerprint = excluded.fingerprint THEN s.sequence
                                   ELSE s.sequence + 1 END,
                   fingerprint = excluded.fingerprint,
                   event_date = excluded.event_date
                 RETURNING sequence",
                &[&e.uid, &e.fingerprint, &e.date],
            )
            .await?;
        out[i] = row.get(0);
    }
    // Byte order, as on SQLite, whatever the database's collation.
    tx.execute(
        "DELETE FROM calendar_sequences WHERE event_date < $1 COLLATE \"C\"",
        &[&oldest],
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
