-- Psychologists' edits to the items of a session's consultation report: an append-only log
-- beside the generated report (which is derived, never stored, never overwritten). The
-- latest edit of an item (highest id) is the one in effect; earlier ones stay.
CREATE TABLE report_edits (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    item       TEXT   NOT NULL,
    text       TEXT   NOT NULL,
    author     TEXT   NOT NULL,
    request_id TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT report_edits_author_request_id_key UNIQUE (author, request_id)
);

CREATE INDEX report_edits_session_id ON report_edits (session_id, id);

CREATE TRIGGER report_edits_append_only BEFORE UPDATE OR DELETE ON report_edits
    FOR EACH ROW EXECUTE FUNCTION qabilet_reject_change();
