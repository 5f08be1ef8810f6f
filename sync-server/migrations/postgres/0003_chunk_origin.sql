-- nachbar on PostgreSQL, version 3: which node appended a chunk. A node's watcher reads the
-- feed without its own chunks (its hub holds them already); older rows have none and count as
-- another node's.
ALTER TABLE chunks ADD COLUMN origin text;
