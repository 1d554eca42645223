//! Every statement both backends run, written once: portable SQL with `$N` parameters (which
//! sqlx binds by number in SQLite too), `CAST($N AS TEXT) IS NULL` for optional filters and
//! `RETURNING` for the written row. The column lists live here too, in the order `rows.rs`
//! decodes them. What stays per backend: the SQLite group commit of responses and its
//! two-statement reads (`sqlite.rs`), and PostgreSQL's row locks and one-statement joins
//! (`postgres.rs`).

/// The columns of a token.
macro_rules! token_cols {
    () => {
        "id, role, centre, subject, created_at, revoked_at, expires_at"
    };
}
/// The columns of a child.
macro_rules! child_cols {
    () => {
        "id, code, birth_date, sex, test_language, centre, owner, given_name, family_name, notes, created_at"
    };
}
/// The columns of a session.
macro_rules! session_cols {
    () => {
        "id, child_id, battery_id, norm_set_hash, test_date, examiner, state, created_at, finished_at"
    };
}
/// The columns of a response.
macro_rules! response_cols {
    () => {
        "session_id, seq, subtest, payload, token_id, request_id, fingerprint, recorded_at"
    };
}
/// The columns of a report edit.
macro_rules! report_edit_cols {
    () => {
        "id, session_id, item, text, author, token_id, request_id, fingerprint, created_at"
    };
}
/// The columns of a session's state change.
macro_rules! session_change_cols {
    () => {
        "id, session_id, from_state, to_state, token_id, request_id, fingerprint, at"
    };
}
/// The columns an audit entry is written to, in the order of the binds of every audit insert:
/// `at` first, then the fields of `AuditEntry`.
macro_rules! audit_insert_cols {
    () => {
        "at, token_id, role, centre, subject, action, resource, child_id, outcome, peer, detail"
    };
}
/// The columns of an audit record.
macro_rules! audit_cols {
    () => {
        concat!("id, ", audit_insert_cols!())
    };
}
/// The columns of a console session.
macro_rules! console_session_cols {
    () => {
        "secret_hash, token_id, created_at, last_seen_at, expires_at"
    };
}
/// The select list of a session joined with its child (`sessions s`, `children c`): the
/// session's columns, then the child's aliased `c_…`.
macro_rules! session_child_cols {
    () => {
        "s.id, s.child_id, s.battery_id, s.norm_set_hash, s.test_date, s.examiner, s.state, \
         s.created_at, s.finished_at, c.id AS c_id, c.code AS c_code, c.birth_date AS c_birth_date, \
         c.sex AS c_sex, c.test_language AS c_test_language, c.centre AS c_centre, \
         c.owner AS c_owner, c.given_name AS c_given_name, c.family_name AS c_family_name, \
         c.notes AS c_notes, c.created_at AS c_created_at"
    };
}
pub(crate) use {audit_insert_cols, response_cols, session_change_cols, session_child_cols};

// Tokens.

/// Binds: id, role, centre, subject, secret_hash, created_at, expires_at.
pub(crate) const INSERT_TOKEN: &str = concat!(
    "INSERT INTO tokens (id, role, centre, subject, secret_hash, created_at, expires_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
    token_cols!()
);
pub(crate) const TOKEN_BY_HASH: &str =
    concat!("SELECT ", token_cols!(), " FROM tokens WHERE secret_hash = $1");
pub(crate) const TOKEN_BY_ID: &str = concat!("SELECT ", token_cols!(), " FROM tokens WHERE id = $1");
/// Binds: id, now. Keeps the first revocation time.
pub(crate) const REVOKE_TOKEN: &str = concat!(
    "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ",
    token_cols!()
);
pub(crate) const ANY_TOKEN: &str = "SELECT 1 AS one FROM tokens LIMIT 1";
/// Binds: after (cursor), limit.
pub(crate) const TOKENS_PAGE: &str = concat!(
    "SELECT ",
    token_cols!(),
    " FROM tokens WHERE (CAST($1 AS TEXT) IS NULL OR id > $1) ORDER BY id LIMIT $2"
);

// Console sessions.

/// Binds: secret_hash, token_id, now, expires_at. Inserts nothing for an unknown token.
pub(crate) const INSERT_CONSOLE_SESSION: &str = concat!(
    "INSERT INTO console_sessions (secret_hash, token_id, created_at, last_seen_at, expires_at) ",
    "SELECT $1, id, $3, $3, $4 FROM tokens WHERE id = $2 RETURNING ",
    console_session_cols!()
);
/// The console session and its token, the token's columns aliased `t_…`.
pub(crate) const CONSOLE_SESSION_WITH_TOKEN: &str = concat!(
    "SELECT cs.secret_hash, cs.token_id, cs.created_at, cs.last_seen_at, cs.expires_at, ",
    "t.id AS t_id, t.role AS t_role, t.centre AS t_centre, t.subject AS t_subject, ",
    "t.created_at AS t_created_at, t.revoked_at AS t_revoked_at, t.expires_at AS t_expires_at ",
    "FROM console_sessions cs JOIN tokens t ON t.id = cs.token_id WHERE cs.secret_hash = $1"
);
/// Binds: secret_hash, at. The last use only moves forward.
pub(crate) const TOUCH_CONSOLE_SESSION: &str =
    "UPDATE console_sessions SET last_seen_at = $2 WHERE secret_hash = $1 AND last_seen_at < $2";
pub(crate) const DELETE_CONSOLE_SESSION: &str = "DELETE FROM console_sessions WHERE secret_hash = $1";
/// Binds: idle_before, now.
pub(crate) const PURGE_CONSOLE_SESSIONS: &str =
    "DELETE FROM console_sessions WHERE last_seen_at < $1 OR expires_at < $2";

// Children.

/// The child stored under a key, with the key's fingerprint. Binds: token_id, request_id.
pub(crate) const CHILD_BY_KEY: &str = concat!(
    "SELECT ",
    child_cols!(),
    ", fingerprint FROM children WHERE token_id = $1 AND request_id = $2"
);
/// Inserts nothing when the key is taken. Binds: id, code, birth_date, sex, test_language,
/// centre, owner, given_name, family_name, notes, token_id, request_id, fingerprint,
/// created_at.
pub(crate) const INSERT_CHILD: &str = concat!(
    "INSERT INTO children (id, code, birth_date, sex, test_language, centre, owner, given_name, ",
    "family_name, notes, token_id, request_id, fingerprint, created_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING ",
    child_cols!()
);
pub(crate) const CHILD_BY_ID: &str = concat!("SELECT ", child_cols!(), " FROM children WHERE id = $1");
/// Binds: centre, owner, code prefix (literal, not a pattern), after (cursor), limit.
pub(crate) const CHILDREN_PAGE: &str = concat!(
    "SELECT ",
    child_cols!(),
    " FROM children WHERE (CAST($1 AS TEXT) IS NULL OR centre = $1) ",
    "AND (CAST($2 AS TEXT) IS NULL OR owner = $2) ",
    "AND (CAST($3 AS TEXT) IS NULL OR substr(code, 1, length(CAST($3 AS TEXT))) = $3) ",
    "AND (CAST($4 AS TEXT) IS NULL OR id > $4) ORDER BY id LIMIT $5"
);

// Sessions.

/// The session stored under a key, with the key's fingerprint. Binds: token_id, request_id.
pub(crate) const SESSION_BY_KEY: &str = concat!(
    "SELECT ",
    session_cols!(),
    ", fingerprint FROM sessions WHERE token_id = $1 AND request_id = $2"
);
/// Inserts nothing when the child does not exist or the key is taken. Binds: id, child_id,
/// battery_id, norm_set_hash, test_date, examiner, token_id, request_id, fingerprint,
/// created_at.
pub(crate) const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (id, child_id, battery_id, norm_set_hash, test_date, examiner, ",
    "token_id, request_id, fingerprint, state, created_at) ",
    "SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, 'active', $10 FROM children WHERE id = $2 ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING ",
    session_cols!()
);
pub(crate) const CHILD_EXISTS: &str = "SELECT 1 AS one FROM children WHERE id = $1";
pub(crate) const SESSION_BY_ID: &str = concat!("SELECT ", session_cols!(), " FROM sessions WHERE id = $1");
/// PostgreSQL only: the session, its row locked until the transaction ends.
pub(crate) const SESSION_BY_ID_FOR_UPDATE: &str = concat!(
    "SELECT ",
    session_cols!(),
    " FROM sessions WHERE id = $1 FOR UPDATE"
);
/// Binds: child_id, examiner, centre, after (cursor), limit.
pub(crate) const SESSIONS_PAGE: &str = concat!(
    "SELECT ",
    session_cols!(),
    " FROM sessions WHERE (CAST($1 AS TEXT) IS NULL OR child_id = $1) ",
    "AND (CAST($2 AS TEXT) IS NULL OR examiner = $2) ",
    "AND (CAST($3 AS TEXT) IS NULL OR child_id IN (SELECT id FROM children WHERE centre = $3)) ",
    "AND (CAST($4 AS TEXT) IS NULL OR id > $4) ORDER BY id LIMIT $5"
);

// State changes.

/// The change stored under a key. Binds: token_id, request_id.
pub(crate) const SESSION_CHANGE_BY_KEY: &str = concat!(
    "SELECT ",
    session_change_cols!(),
    " FROM session_changes WHERE token_id = $1 AND request_id = $2"
);
/// Inserts nothing when the key is taken. Binds: session_id, from_state, to_state,
/// token_id, request_id, fingerprint, at.
pub(crate) const INSERT_SESSION_CHANGE: &str = concat!(
    "INSERT INTO session_changes (session_id, from_state, to_state, token_id, request_id, ",
    "fingerprint, at) VALUES ($1, $2, $3, $4, $5, $6, $7) ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING id"
);
/// Moving to `finished` sets `finished_at` (kept if already set); moving to another state
/// clears it. Binds: id, state, now.
pub(crate) const SET_SESSION_STATE: &str = concat!(
    "UPDATE sessions SET state = $2, ",
    "finished_at = CASE WHEN $2 = 'finished' THEN COALESCE(finished_at, $3) ELSE NULL END ",
    "WHERE id = $1 RETURNING ",
    session_cols!()
);
pub(crate) const SESSION_CHANGES: &str = concat!(
    "SELECT ",
    session_change_cols!(),
    " FROM session_changes WHERE session_id = $1 ORDER BY id"
);

// Responses.

pub(crate) const RESPONSES: &str = concat!(
    "SELECT ",
    response_cols!(),
    " FROM responses WHERE session_id = $1 ORDER BY seq"
);
/// Why an append inserted nothing: the session's state (NULL: no such session), its last
/// seq, and the response stored under the key, if any (NULL columns otherwise). Binds:
/// session_id, token_id, request_id.
pub(crate) const APPEND_REFUSAL: &str = concat!(
    "SELECT (SELECT state FROM sessions WHERE id = $1) AS state, ",
    "(SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = $1) AS last_seq, ",
    "r.session_id, r.seq, r.subtest, r.payload, r.token_id, r.request_id, r.fingerprint, r.recorded_at ",
    "FROM (SELECT 1 AS one) AS o LEFT JOIN responses r ON r.token_id = $2 AND r.request_id = $3"
);

// Report edits.

/// The edit stored under a key. Binds: token_id, request_id.
pub(crate) const REPORT_EDIT_BY_KEY: &str = concat!(
    "SELECT ",
    report_edit_cols!(),
    " FROM report_edits WHERE token_id = $1 AND request_id = $2"
);
/// Inserts nothing when the session does not exist or the key is taken. Binds: session_id,
/// item, text, author, token_id, request_id, fingerprint, created_at.
pub(crate) const INSERT_REPORT_EDIT: &str = concat!(
    "INSERT INTO report_edits (session_id, item, text, author, token_id, request_id, fingerprint, ",
    "created_at) SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM sessions WHERE id = $1 ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING ",
    report_edit_cols!()
);
pub(crate) const SESSION_EXISTS: &str = "SELECT 1 AS one FROM sessions WHERE id = $1";
/// Binds: session_id, after (cursor), limit.
pub(crate) const REPORT_EDITS_PAGE: &str = concat!(
    "SELECT ",
    report_edit_cols!(),
    " FROM report_edits WHERE session_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR id > $2) ",
    "ORDER BY id LIMIT $3"
);

// The audit log.

/// Binds: at, then the entry's fields in [`audit_insert_cols`] order.
pub(crate) const INSERT_AUDIT: &str = concat!(
    "INSERT INTO audit_log (",
    audit_insert_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
    audit_cols!()
);
/// Binds: child_id, token_id, outcome, after (cursor), limit.
pub(crate) const AUDIT_PAGE: &str = concat!(
    "SELECT ",
    audit_cols!(),
    " FROM audit_log WHERE (CAST($1 AS TEXT) IS NULL OR child_id = $1) ",
    "AND (CAST($2 AS TEXT) IS NULL OR token_id = $2) ",
    "AND (CAST($3 AS TEXT) IS NULL OR outcome = $3) ",
    "AND (CAST($4 AS BIGINT) IS NULL OR id > $4) ORDER BY id LIMIT $5"
);
