-- nachbar on PostgreSQL, version 2: the directory and the web app's state, the same tables as
-- SQLite's migrations 0001-0006 (users, roles, tokens, invites, neighbourhoods, businesses,
-- web sessions, the acts log, calendar feeds), in one step since PostgreSQL starts here.

CREATE TABLE users (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    created_at    bigint NOT NULL,
    deleted_at    bigint,
    login         text,
    password_hash text
);
CREATE UNIQUE INDEX users_by_login ON users(login) WHERE login IS NOT NULL;

-- Role assignments; `scope` is a neighbourhood or business id, or '' for global roles.
CREATE TABLE roles (
    user_id text NOT NULL REFERENCES users(id),
    role    text NOT NULL,
    scope   text NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, role, scope)
);

-- Device tokens, stored as SHA-256 of the 256-bit secret.
CREATE TABLE tokens (
    hash         text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users(id),
    label        text NOT NULL DEFAULT '',
    created_at   bigint NOT NULL,
    expires_at   bigint,
    revoked_at   bigint,
    last_used_at bigint
);
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE invites (
    code_hash  text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users(id),
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);

CREATE TABLE neighbourhoods (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    location   text NOT NULL DEFAULT '',
    doc_id     text,
    created_at bigint NOT NULL
);

CREATE TABLE businesses (
    id            text PRIMARY KEY,
    neighbourhood text NOT NULL REFERENCES neighbourhoods(id),
    name          text NOT NULL,
    trade         text NOT NULL DEFAULT '',
    profile_doc   text,
    joined_at     bigint NOT NULL,
    left_at       bigint
);
CREATE INDEX businesses_by_neighbourhood ON businesses(neighbourhood);

CREATE INDEX documents_by_neighbourhood ON documents(neighbourhood, kind, created_at);

CREATE TABLE web_sessions (
    hash       text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users(id),
    label      text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    last_seen  bigint NOT NULL,
    revoked_at bigint
);
CREATE INDEX web_sessions_by_user ON web_sessions(user_id);

-- What people did in the web app and the admin commands (who, when, what, to what).
CREATE TABLE acts (
    seq     bigserial PRIMARY KEY,
    at      bigint NOT NULL,
    user_id text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL,
    detail  text NOT NULL DEFAULT ''
);

CREATE TABLE calendar_feeds (
    user_id    text PRIMARY KEY REFERENCES users(id),
    hash       text NOT NULL UNIQUE,
    created_at bigint NOT NULL
);

CREATE TABLE calendar_sequences (
    uid         text PRIMARY KEY,
    fingerprint text NOT NULL,
    sequence    bigint NOT NULL,
    event_date  text NOT NULL DEFAULT ''
);
CREATE INDEX calendar_sequences_by_date ON calendar_sequences(event_date);

-- Bumped by every change to users, roles, tokens and businesses: every node reads the
-- directory again when it moves.
INSERT INTO meta(key, value) VALUES ('directory_version', '0') ON CONFLICT (key) DO NOTHING;
