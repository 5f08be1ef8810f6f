-- A document the server listed for this user and lists no more (access revoked, or a server
-- restored from a backup that predates it). It stays on the device while it holds changes the
-- server has not acknowledged: set aside, reported, exportable, discarded only on request.
ALTER TABLE documents ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
