-- Qabilet store, PostgreSQL schema. Ids are store-generated 26-char base32 strings compared
-- bytewise (COLLATE "C", so cursor order does not depend on the database collation); times
-- are Unix milliseconds (BIGINT). Responses and the audit log are append-only (triggers).
-- Several server replicas may share this database: nothing relies on in-process state.

CREATE TABLE tokens (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    role        TEXT   NOT NULL
                CONSTRAINT tokens_role_check
                CHECK (role IN ('psychologist', 'supervisor', 'integrator', 'researcher', 'admin')),
    centre      TEXT   NOT NULL,
    subject     TEXT   NOT NULL,
    secret_hash TEXT   NOT NULL CONSTRAINT tokens_secret_hash_key UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE children (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    code          TEXT   NOT NULL,
    birth_date    TEXT   NOT NULL,
    sex           TEXT,
    test_language TEXT   NOT NULL,
    centre        TEXT   NOT NULL,
    owner         TEXT   NOT NULL,
    given_name    TEXT,
    family_name   TEXT,
    notes         TEXT,
    request_id    TEXT,
    created_at    BIGINT NOT NULL,
    CONSTRAINT children_centre_code_key UNIQUE (centre, code),
    CONSTRAINT children_owner_request_id_key UNIQUE (owner, request_id)
);

CREATE INDEX children_centre_id ON children (centre, id);
CREATE INDEX children_owner_id ON children (owner, id);

CREATE TABLE sessions (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    child_id      TEXT COLLATE "C" NOT NULL REFERENCES children (id),
    battery_id    TEXT   NOT NULL,
    norm_set_hash TEXT   NOT NULL,
    test_date     TEXT   NOT NULL,
    examiner      TEXT   NOT NULL,
    request_id    TEXT,
    state         TEXT   NOT NULL CHECK (state IN ('active', 'paused', 'finished')),
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    CONSTRAINT sessions_examiner_request_id_key UNIQUE (examiner, request_id)
);

CREATE INDEX sessions_child_id ON sessions (child_id, id);
CREATE INDEX sessions_examiner_id ON sessions (examiner, id);

CREATE TABLE responses (
    session_id  TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    subtest     TEXT   NOT NULL,
    payload     TEXT   NOT NULL,
    request_id  TEXT,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq),
    CONSTRAINT responses_session_request_id_key UNIQUE (session_id, request_id)
);

CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    principal TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    resource  TEXT   NOT NULL,
    child_id  TEXT COLLATE "C"
);

CREATE INDEX audit_log_child_id ON audit_log (child_id, id);

CREATE FUNCTION qabilet_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER responses_append_only BEFORE UPDATE OR DELETE ON responses
    FOR EACH ROW EXECUTE FUNCTION qabilet_reject_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION qabilet_reject_change();
