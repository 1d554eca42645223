-- Stage-1 screening: cohorts (screening campaigns), their rosters, and the one-time tickets a
-- child signs in with. A child may be on the rosters of several cohorts.
--
-- A child's national identity number (IIN) is never stored: only its keyed hash (HMAC-SHA-256
-- under the server's IIN key, lowercase hex), which finds the same child across cohorts and
-- centres. Within a centre one IIN is one child.

ALTER TABLE children ADD COLUMN iin_hash TEXT;
CREATE UNIQUE INDEX children_centre_iin_hash ON children (centre, iin_hash) WHERE iin_hash IS NOT NULL;
CREATE INDEX children_iin_hash ON children (iin_hash) WHERE iin_hash IS NOT NULL;

CREATE TABLE cohorts (
    id               TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
    centre           TEXT    NOT NULL,
    owner            TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    region           TEXT    NOT NULL,
    district         TEXT    NOT NULL,
    institution      TEXT    NOT NULL,
    institution_kind TEXT    NOT NULL
                     CHECK (institution_kind IN ('school', 'kindergarten', 'boarding', 'family_village')),
    locality         TEXT    NOT NULL CHECK (locality IN ('urban', 'rural')),
    grade            BIGINT NOT NULL CHECK (grade BETWEEN 0 AND 11),
    language         TEXT    NOT NULL,
    battery_id       TEXT COLLATE "C"    NOT NULL,
    starts_on        TEXT    NOT NULL,
    ends_on          TEXT    NOT NULL,
    token_id         TEXT COLLATE "C",
    request_id       TEXT,
    fingerprint      TEXT,
    created_at       BIGINT NOT NULL
);

CREATE UNIQUE INDEX cohorts_token_request ON cohorts (token_id, request_id);
CREATE INDEX cohorts_centre_id ON cohorts (centre, id);

CREATE TABLE cohort_members (
    cohort_id  TEXT COLLATE "C"    NOT NULL REFERENCES cohorts (id),
    child_id   TEXT COLLATE "C"    NOT NULL REFERENCES children (id),
    class      TEXT    NOT NULL,
    line       BIGINT NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (cohort_id, child_id)
);

CREATE INDEX cohort_members_child ON cohort_members (child_id);

-- A ticket: the SHA-256 of its code (the code itself is printed, never stored), bound at its
-- first use to one device (the SHA-256 of a random secret the device keeps) and to the
-- screening session it opened.
CREATE TABLE tickets (
    secret_hash  TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
    cohort_id    TEXT COLLATE "C"    NOT NULL REFERENCES cohorts (id),
    child_id     TEXT COLLATE "C"    NOT NULL REFERENCES children (id),
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    device_hash  TEXT,
    session_id   TEXT COLLATE "C"    REFERENCES sessions (id),
    claimed_at   BIGINT
);

CREATE INDEX tickets_cohort_child ON tickets (cohort_id, child_id);
CREATE UNIQUE INDEX tickets_device ON tickets (device_hash) WHERE device_hash IS NOT NULL;

-- The clock of each self-administered subtest of a session: when the child started it (after
-- the worked example and practice) and the extra time the proctor gave.
CREATE TABLE subtest_clocks (
    session_id    TEXT COLLATE "C"    NOT NULL REFERENCES sessions (id),
    subtest       TEXT    NOT NULL,
    started_at    BIGINT NOT NULL,
    extra_seconds BIGINT NOT NULL DEFAULT 0 CHECK (extra_seconds >= 0),
    PRIMARY KEY (session_id, subtest)
);
