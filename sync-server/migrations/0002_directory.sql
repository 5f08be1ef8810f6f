-- The directory: neighbourhoods and their member businesses. Access decisions read it
-- together with `roles` (scope = neighbourhood or business id).

CREATE TABLE neighbourhoods (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    location   TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE businesses (
    id              TEXT PRIMARY KEY,
    neighbourhood   TEXT NOT NULL REFERENCES neighbourhoods(id),
    name            TEXT NOT NULL,
    trade           TEXT NOT NULL DEFAULT '',
    joined_at       INTEGER NOT NULL,
    left_at         INTEGER
) STRICT;

-- Bumped by every directory change (also by other processes, e.g. admin commands), so the
-- server notices and re-checks open sessions.
INSERT INTO meta(key, value) VALUES ('directory_version', '0');
