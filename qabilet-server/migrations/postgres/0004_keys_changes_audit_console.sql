-- Idempotency keys belong to the caller's token and are compared with the stored request; a
-- session's state changes are logged; tokens may expire; an audit row says who called, with
-- what outcome and from where; console sessions are held here.
--
-- Keys. In children, sessions, responses and report_edits the key is (token_id, request_id),
-- unique per table, stored with the request's fingerprint. The earlier uniqueness rules on
-- (owner | examiner | session_id | author, request_id) are dropped; rows stored before keep
-- their request_id without a token, so their keys are not honoured.

ALTER TABLE children DROP CONSTRAINT children_owner_request_id_key;
ALTER TABLE children ADD COLUMN token_id TEXT COLLATE "C";
ALTER TABLE children ADD COLUMN fingerprint TEXT;
ALTER TABLE children ADD CONSTRAINT children_token_request_key UNIQUE (token_id, request_id);

ALTER TABLE sessions DROP CONSTRAINT sessions_examiner_request_id_key;
ALTER TABLE sessions ADD COLUMN token_id TEXT COLLATE "C";
ALTER TABLE sessions ADD COLUMN fingerprint TEXT;
ALTER TABLE sessions ADD CONSTRAINT sessions_token_request_key UNIQUE (token_id, request_id);

ALTER TABLE responses DROP CONSTRAINT responses_session_request_id_key;
ALTER TABLE responses ADD COLUMN token_id TEXT COLLATE "C";
ALTER TABLE responses ADD COLUMN fingerprint TEXT;
ALTER TABLE responses ADD CONSTRAINT responses_token_request_key UNIQUE (token_id, request_id);

ALTER TABLE report_edits DROP CONSTRAINT report_edits_author_request_id_key;
ALTER TABLE report_edits ADD COLUMN token_id TEXT COLLATE "C";
ALTER TABLE report_edits ADD COLUMN fingerprint TEXT;
ALTER TABLE report_edits ADD CONSTRAINT report_edits_token_request_key UNIQUE (token_id, request_id);

-- Tokens: when each stops authenticating (NULL: never).
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;

-- The audit log: `principal` always held the caller's token subject and is renamed
-- `subject`. Rows written before have no token, role or centre, and were all successful calls.
ALTER TABLE audit_log RENAME COLUMN principal TO subject;
ALTER TABLE audit_log ADD COLUMN token_id TEXT COLLATE "C";
ALTER TABLE audit_log ADD COLUMN role TEXT
    CONSTRAINT audit_log_role_check
    CHECK (role IN ('psychologist', 'supervisor', 'integrator', 'researcher', 'admin'));
ALTER TABLE audit_log ADD COLUMN centre TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok'
    CONSTRAINT audit_log_outcome_check
    CHECK (outcome IN ('ok', 'denied', 'invalid', 'not_found', 'conflict', 'unauthenticated',
                       'unavailable', 'error', 'cancelled'));
ALTER TABLE audit_log ADD COLUMN peer TEXT;
ALTER TABLE audit_log ADD COLUMN detail TEXT;
CREATE INDEX audit_log_token_id ON audit_log (token_id, id);

-- Each change of a session's state, append-only, with the key of the request that made it.
CREATE TABLE session_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    from_state  TEXT   NOT NULL CHECK (from_state IN ('active', 'paused', 'finished')),
    to_state    TEXT   NOT NULL CHECK (to_state IN ('active', 'paused', 'finished')),
    token_id    TEXT COLLATE "C",
    request_id  TEXT,
    fingerprint TEXT,
    at          BIGINT NOT NULL,
    CONSTRAINT session_changes_token_request_key UNIQUE (token_id, request_id)
);

CREATE INDEX session_changes_session_id ON session_changes (session_id, id);

CREATE TRIGGER session_changes_append_only BEFORE UPDATE OR DELETE ON session_changes
    FOR EACH ROW EXECUTE FUNCTION qabilet_reject_change();

-- Console sign-ins: the hash of the browser's secret, the token it acts with, and its idle
-- (last seen) and absolute expiry. Updated as used, deleted at sign-out or expiry.
CREATE TABLE console_sessions (
    secret_hash  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    token_id     TEXT COLLATE "C" NOT NULL REFERENCES tokens (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
