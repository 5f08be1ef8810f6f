-- The device's local store: one database per user on a device.

-- Facts of this database: the device's actor id, the user, the server's storage id.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- Every document on the device, with what the server said of it.
CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY,
    -- From GET /api/documents (NULL until listed): kind, title, business, writable.
    kind        TEXT,
    title       TEXT,
    business    TEXT,
    listed      INTEGER NOT NULL DEFAULT 0,
    writable    INTEGER NOT NULL DEFAULT 1,
    -- The server syncs this document read-only with us: our changes stay on this device.
    read_only   INTEGER NOT NULL DEFAULT 0,
    -- The server refused the document (unavailable, or a creation it did not accept).
    refused     INTEGER NOT NULL DEFAULT 0,
    -- The heads the server last acknowledged (concatenated 32-byte hashes), per storage id.
    acked_storage TEXT,
    acked_heads BLOB NOT NULL DEFAULT x'',
    -- Milliseconds since the epoch of the last completed sync of this document.
    synced_at   INTEGER
) STRICT;

-- A document's history: incremental change chunks and compacted snapshots.
CREATE TABLE chunks (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id   TEXT NOT NULL,
    snapshot INTEGER NOT NULL,
    bytes    BLOB NOT NULL
) STRICT;
CREATE INDEX chunks_by_doc ON chunks (doc_id, seq);

-- The encoded Automerge sync state per (document, server storage id): a reconnect resumes.
CREATE TABLE sync_states (
    doc_id     TEXT NOT NULL,
    storage_id TEXT NOT NULL,
    state      BLOB NOT NULL,
    PRIMARY KEY (doc_id, storage_id)
) STRICT;

-- Cached answers of the server's HTTP API (/api/me, /api/people), for offline use.
CREATE TABLE cache (
    key        TEXT PRIMARY KEY,
    json       TEXT NOT NULL,
    fetched_at INTEGER NOT NULL
) STRICT;
