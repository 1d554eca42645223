-- Qabilet store, SQLite schema. Ids are store-generated 26-char base32 strings; times are
-- Unix milliseconds (INTEGER). Responses and the audit log are append-only (triggers).

CREATE TABLE tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    role        TEXT    NOT NULL
                CHECK (role IN ('psychologist', 'supervisor', 'integrator', 'researcher', 'admin')),
    centre      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE children (
    id            TEXT    NOT NULL PRIMARY KEY,
    code          TEXT    NOT NULL,
    birth_date    TEXT    NOT NULL,
    sex           TEXT,
    test_language TEXT    NOT NULL,
    centre        TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    given_name    TEXT,
    family_name   TEXT,
    notes         TEXT,
    request_id    TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE (centre, code),
    UNIQUE (owner, request_id)
) STRICT;

CREATE INDEX children_centre_id ON children (centre, id);
CREATE INDEX children_owner_id ON children (owner, id);

CREATE TABLE sessions (
    id            TEXT    NOT NULL PRIMARY KEY,
    child_id      TEXT    NOT NULL REFERENCES children (id),
    battery_id    TEXT    NOT NULL,
    norm_set_hash TEXT    NOT NULL,
    test_date     TEXT    NOT NULL,
    examiner      TEXT    NOT NULL,
    request_id    TEXT,
    state         TEXT    NOT NULL CHECK (state IN ('active', 'paused', 'finished')),
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    UNIQUE (examiner, request_id)
) STRICT;

CREATE INDEX sessions_child_id ON sessions (child_id, id);
CREATE INDEX sessions_examiner_id ON sessions (examiner, id);

CREATE TABLE responses (
    session_id  TEXT    NOT NULL REFERENCES sessions (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    subtest     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    request_id  TEXT,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, request_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER responses_no_update BEFORE UPDATE ON responses
BEGIN
    SELECT RAISE(ABORT, 'responses are append-only');
END;

CREATE TRIGGER responses_no_delete BEFORE DELETE ON responses
BEGIN
    SELECT RAISE(ABORT, 'responses are append-only');
END;

CREATE TABLE audit_log (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    principal TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    resource  TEXT    NOT NULL,
    child_id  TEXT
) STRICT;

CREATE INDEX audit_log_child_id ON audit_log (child_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
