-- Idempotency keys belong to the caller's token and are compared with the stored request; a
-- session's state changes are logged; tokens may expire; an audit row says who called, with
-- what outcome and from where; console sessions are held here.
--
-- Keys. In children, sessions, responses and report_edits the key is (token_id, request_id),
-- unique per table, stored with the request's fingerprint. In children, sessions and
-- report_edits the earlier key column is kept as `legacy_request_id` with its UNIQUE
-- constraint (on owner, examiner or author): dropping a column or a constraint in SQLite needs
-- a table rebuild. It is no longer written (new rows leave it NULL, and NULLs never collide),
-- and keys stored in it are not honoured.

ALTER TABLE children RENAME COLUMN request_id TO legacy_request_id;
ALTER TABLE children ADD COLUMN token_id TEXT;
ALTER TABLE children ADD COLUMN request_id TEXT;
ALTER TABLE children ADD COLUMN fingerprint TEXT;
CREATE UNIQUE INDEX children_token_request ON children (token_id, request_id);

ALTER TABLE sessions RENAME COLUMN request_id TO legacy_request_id;
ALTER TABLE sessions ADD COLUMN token_id TEXT;
ALTER TABLE sessions ADD COLUMN request_id TEXT;
ALTER TABLE sessions ADD COLUMN fingerprint TEXT;
CREATE UNIQUE INDEX sessions_token_request ON sessions (token_id, request_id);

-- Responses, the table every recorded score is appended to, are rebuilt instead: the old
-- UNIQUE (session_id, request_id) would cost every append an index entry for nothing. Their
-- rows are copied (earlier keys are not kept); the append-only triggers go with the old
-- table (DROP TABLE drops a table's triggers before its rows, firing none) and are made again.
CREATE TABLE responses_keyed (
    session_id  TEXT    NOT NULL REFERENCES sessions (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    subtest     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    token_id    TEXT,
    request_id  TEXT,
    fingerprint TEXT,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO responses_keyed (session_id, seq, subtest, payload, recorded_at)
    SELECT session_id, seq, subtest, payload, recorded_at FROM responses;
DROP TABLE responses;
ALTER TABLE responses_keyed RENAME TO responses;
CREATE INDEX responses_session_subtest ON responses (session_id, subtest, seq);
CREATE UNIQUE INDEX responses_token_request ON responses (token_id, request_id);

CREATE TRIGGER responses_no_update BEFORE UPDATE ON responses
BEGIN
    SELECT RAISE(ABORT, 'responses are append-only');
END;

CREATE TRIGGER responses_no_delete BEFORE DELETE ON responses
BEGIN
    SELECT RAISE(ABORT, 'responses are append-only');
END;

ALTER TABLE report_edits RENAME COLUMN request_id TO legacy_request_id;
ALTER TABLE report_edits ADD COLUMN token_id TEXT;
ALTER TABLE report_edits ADD COLUMN request_id TEXT;
ALTER TABLE report_edits ADD COLUMN fingerprint TEXT;
CREATE UNIQUE INDEX report_edits_token_request ON report_edits (token_id, request_id);

-- Tokens: when each stops authenticating (NULL: never).
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;

-- The audit log: `principal` always held the caller's token subject and is renamed `subject`
-- (a rename, not a rebuild). Rows written before have no token, role or centre, and were all
-- successful calls.
ALTER TABLE audit_log RENAME COLUMN principal TO subject;
ALTER TABLE audit_log ADD COLUMN token_id TEXT;
ALTER TABLE audit_log ADD COLUMN role TEXT
    CHECK (role IN ('psychologist', 'supervisor', 'integrator', 'researcher', 'admin'));
ALTER TABLE audit_log ADD COLUMN centre TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok'
    CHECK (outcome IN ('ok', 'denied', 'invalid', 'not_found', 'conflict', 'unauthenticated',
                       'unavailable', 'error', 'cancelled'));
ALTER TABLE audit_log ADD COLUMN peer TEXT;
ALTER TABLE audit_log ADD COLUMN detail TEXT;
CREATE INDEX audit_log_token_id ON audit_log (token_id, id);

-- Each change of a session's state, append-only, with the key of the request that made it.
CREATE TABLE session_changes (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT    NOT NULL REFERENCES sessions (id),
    from_state  TEXT    NOT NULL CHECK (from_state IN ('active', 'paused', 'finished')),
    to_state    TEXT    NOT NULL CHECK (to_state IN ('active', 'paused', 'finished')),
    token_id    TEXT,
    request_id  TEXT,
    fingerprint TEXT,
    at          INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX session_changes_token_request ON session_changes (token_id, request_id);
CREATE INDEX session_changes_session_id ON session_changes (session_id, id);

CREATE TRIGGER session_changes_no_update BEFORE UPDATE ON session_changes
BEGIN
    SELECT RAISE(ABORT, 'session changes are append-only');
END;

CREATE TRIGGER session_changes_no_delete BEFORE DELETE ON session_changes
BEGIN
    SELECT RAISE(ABORT, 'session changes are append-only');
END;

-- Console sign-ins: the hash of the browser's secret, the token it acts with, and its idle
-- (last seen) and absolute expiry. Updated as used, deleted at sign-out or expiry.
CREATE TABLE console_sessions (
    secret_hash  TEXT    NOT NULL PRIMARY KEY,
    token_id     TEXT    NOT NULL REFERENCES tokens (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
