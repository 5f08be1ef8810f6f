//! The web app's writes on PostgreSQL that must hold together: an invitation used up exactly
//! once (by enrolment or by setting a password), credentials set with the login name checked
//! in the same transaction, and the calendar's SEQUENCE numbers written under one lock so two
//! nodes answering feeds at once cannot both raise the same event.

use deadpool_postgres::{GenericClient, Pool};

use super::documents::pg_text;
use crate::auth::{new_token, token_hash};
use crate::storage::web::CredentialsOutcome;
use crate::storage::{InviteOutcome, SequenceKey, StoreError};

/// Ends every open browser session of `user_id` (its credentials changed).
const END_SESSIONS: &str =
    "UPDATE web_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";

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
    let set = tx
        .execute(
            "UPDATE users SET login = $2, password_hash = $3 WHERE id = $1 AND deleted_at IS NULL",
            &[&user_id, &login, &password_hash],
        )
        .await?;
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
    tx.execute(
        "UPDATE users SET login = $2, password_hash = $3 WHERE id = $1",
        &[&user, &login, &password_hash],
    )
    .await?;
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

async fn stored_sequences(
    client: &impl GenericClient,
    events: &[SequenceKey],
) -> Result<Vec<Option<StoredSequence>>, StoreError> {
    let uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
    let rows = client
        .query(
            "SELECT uid, fingerprint, sequence, event_date FROM calendar_sequences
             WHERE uid = ANY($1)",
            &[&uids],
        )
        .await?;
    let mut by_uid: std::collections::HashMap<String, StoredSequence> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    Ok(events.iter().map(|e| by_uid.remove(&e.uid)).collect())
}

/// Whether a stored row is current for `event` (fingerprint and date).
fn is_of(row: &StoredSequence, event: &SequenceKey) -> bool {
    row.0 == event.fingerprint && row.2 == event.date
}

/// See [`crate::storage::web::WebStore::calendar_sequences`]: reads only while nothing
/// changed; otherwise one transaction under a lock every node takes for these rows.
pub(super) async fn calendar_sequences(
    pool: &Pool,
    events: &[SequenceKey],
    oldest: &str,
) -> Result<Vec<i64>, StoreError> {
    let mut client = pool.get().await?;
    let current = stored_sequences(&client, events).await?;
    let unchanged: Option<Vec<i64>> = current
        .iter()
        .zip(events)
        .map(|(row, e)| row.as_ref().filter(|r| is_of(r, e)).map(|r| r.1))
        .collect();
    if let Some(sequences) = unchanged {
        return Ok(sequences);
    }
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('nachbar_calendar_sequences'))",
        &[],
    )
    .await?;
    let rows = stored_sequences(&tx, events).await?;
    let mut out = Vec::with_capacity(events.len());
    for (row, e) in rows.iter().zip(events) {
        let sequence = match row {
            Some(r) if r.0 == e.fingerprint => r.1,
            Some(r) => r.1 + 1,
            None => 0,
        };
        if !row.as_ref().is_some_and(|r| is_of(r, e)) {
            tx.execute(
                "INSERT INTO calendar_sequences(uid, fingerprint, sequence, event_date)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (uid) DO UPDATE SET fingerprint = excluded.fingerprint,
                   sequence = excluded.sequence, event_date = excluded.event_date",
                &[
                    &pg_text(e.uid.clone()),
                    &pg_text(e.fingerprint.clone()),
                    &sequence,
                    &pg_text(e.date.clone()),
                ],
            )
            .await?;
        }
        out.push(sequence);
    }
    tx.execute(
        "DELETE FROM calendar_sequences WHERE event_date < $1",
        &[&oldest],
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
