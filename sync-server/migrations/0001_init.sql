-- nachbar server schema, version 1. Never edit after release: add a new numbered file.

-- Settings of this database; `storage_id` identifies it to clients (a restore gets a new one).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Every document the server stores, with the header fields access decisions use.
-- `kind` is NULL for a generic (sandbox) document.
CREATE TABLE documents (
    doc_id        TEXT PRIMARY KEY,
    kind          TEXT,
    neighbourhood TEXT,
    business      TEXT,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

-- Incremental change chunks and compacted snapshots; a document loads with one `load` of the
-- concatenation in `seq` order. `seq` never repeats (AUTOINCREMENT), so it is a gap-free
-- change feed cursor even though compaction deletes rows.
CREATE TABLE chunks (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      TEXT NOT NULL REFERENCES documents(doc_id),
    is_snapshot INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX chunks_by_doc ON chunks(doc_id, seq);

-- Who uploaded which change.
CREATE TABLE audit (
    change_hash TEXT PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
) STRICT;

-- Role assignments; `scope` is a neighbourhood or business id, or '' for global roles.
CREATE TABLE roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL,
    scope   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, role, scope)
) STRICT;

-- Device tokens, stored as SHA-256 of the 256-bit secret.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    label      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
) STRICT;
