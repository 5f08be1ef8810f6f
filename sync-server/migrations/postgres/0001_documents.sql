-- nachbar on PostgreSQL, version 1: the documents. Never edit after release: add a new file.

-- Settings of this database; `storage_id` identifies the cluster to clients (every node
-- presents the same one).
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- Every document stored, with the header fields access decisions use.
CREATE TABLE documents (
    doc_id        text PRIMARY KEY,
    kind          text,
    neighbourhood text,
    business      text,
    created_by    text NOT NULL,
    created_at    bigint NOT NULL,
    title         text NOT NULL DEFAULT ''
);
CREATE INDEX documents_by_business ON documents(business, created_at);

-- Incremental change chunks and compacted snapshots, keyed by their content hash so a chunk
-- appended twice (a retried commit whose outcome was unknown) is stored once. `txid` is the
-- inserting transaction: the change feed reads in (txid, seq) order below the oldest running
-- transaction, so it never skips a row that commits late (scale-out.md §3.4). The foreign key
-- refuses a chunk of a document never registered (checked at the end of the append's one
-- statement, which registers a new document beside its first chunk).
CREATE TABLE chunks (
    seq         bigserial PRIMARY KEY,
    doc_id      text NOT NULL REFERENCES documents(doc_id),
    hash        bytea NOT NULL,
    is_snapshot boolean NOT NULL,
    bytes       bytea NOT NULL,
    created_at  bigint NOT NULL,
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (doc_id, hash)
);
CREATE INDEX chunks_by_doc ON chunks(doc_id, seq);
CREATE INDEX chunks_feed ON chunks(txid, seq);

-- Who uploaded which change.
CREATE TABLE audit (
    change_hash text PRIMARY KEY,
    doc_id      text NOT NULL,
    user_id     text NOT NULL,
    received_at bigint NOT NULL
);
