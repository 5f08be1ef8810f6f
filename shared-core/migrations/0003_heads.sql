-- The document's heads as of its last stored chunk, written in the same transaction as the
-- chunk: a document whose heads the server has acknowledged holds nothing unacknowledged, so
-- opening the store need not load it to count (NULL for documents stored before this column:
-- they are loaded once, and their heads noted then).
ALTER TABLE documents ADD COLUMN heads BLOB;
