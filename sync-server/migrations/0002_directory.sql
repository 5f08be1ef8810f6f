-- The directory: neighbourhoods and their member businesses. Access decisions read it
-- together with `roles` (scope = neighbourhood or business id).

CREATE TABLE neighbourhoods (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    location   TEXT NOT NULL DEFAULT '',
    -- The neighbourhood document the server keeps for display (members, calendar …).
    doc_id     TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE businesses (
    id              TEXT PRIMARY KEY,
    neighbourhood   TEXT NOT NULL REFERENCES neighbourhoods(id),
    name            TEXT NOT NULL,
    trade           TEXT NOT NULL DEFAULT '',
    -- The business's public profile document, created with the business.
    profile_doc     TEXT,
    joined_at       INTEGER NOT NULL,
    left_at         INTEGER
) STRICT;

-- A display title per document (for document lists), set when it is registered.
ALTER TABLE documents ADD COLUMN title TEXT NOT NULL DEFAULT '';

-- Invite codes: a new user enrols a device with one and receives a token.
CREATE TABLE invites (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- Bumped by every directory change (also by other processes, e.g. admin commands), so the
-- server notices and re-checks open sessions.
INSERT INTO meta(key, value) VALUES ('directory_version', '0');
-- Bumped when another process appends document changes, so the server reads the change feed.
INSERT INTO meta(key, value) VALUES ('feed_version', '0');
