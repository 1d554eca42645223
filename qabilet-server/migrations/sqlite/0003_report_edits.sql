-- Psychologists' edits to the items of a session's consultation report: an append-only log
-- beside the generated report (which is derived, never stored, never overwritten). The
-- latest edit of an item (highest id) is the one in effect; earlier ones stay.
CREATE TABLE report_edits (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    item       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    request_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (author, request_id)
) STRICT;

CREATE INDEX report_edits_session_id ON report_edits (session_id, id);

CREATE TRIGGER report_edits_no_update BEFORE UPDATE ON report_edits
BEGIN
    SELECT RAISE(ABORT, 'report edits are append-only');
END;

CREATE TRIGGER report_edits_no_delete BEFORE DELETE ON report_edits
BEGIN
    SELECT RAISE(ABORT, 'report edits are append-only');
END;
