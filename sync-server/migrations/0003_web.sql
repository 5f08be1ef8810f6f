-- The web app: sign-in names and passwords, browser sessions, the last use of device tokens,
-- and the audit of directory acts made in the web app or by admin commands.

-- A login name per user (unique among users that have one) and an argon2id password hash
-- (PHC string); a user without a password signs in nowhere but on devices.
ALTER TABLE users ADD COLUMN login TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
CREATE UNIQUE INDEX users_by_login ON users(login) WHERE login IS NOT NULL;

-- Browser sessions: the cookie's secret is stored as SHA-256 only.
CREATE TABLE web_sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    label      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX web_sessions_by_user ON web_sessions(user_id);

-- When a device token last opened a connection or called the API.
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;

-- Directory acts (businesses added, invitations, coach assignments, sessions revoked …):
-- who did what to which subject, and when.
CREATE TABLE acts (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
) STRICT;
