-- A user's calendar feed: the secret of its URL, stored hashed like tokens; one per user (a
-- new link replaces the old one, revoking removes it).
CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

-- The SEQUENCE of each calendar event (RFC 5545 §3.8.7.4), raised whenever its time, place
-- or title changes, so a subscribed calendar replaces the copy it has.
CREATE TABLE calendar_sequences (
    uid         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sequence    INTEGER NOT NULL
) STRICT;
