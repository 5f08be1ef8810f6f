-- The date of each event with a SEQUENCE: rows of events past the feed's window (and so of
-- events long deleted) are removed, which keeps the table bounded.
ALTER TABLE calendar_sequences ADD COLUMN event_date TEXT NOT NULL DEFAULT '';
CREATE INDEX calendar_sequences_by_date ON calendar_sequences(event_date);
