//! The statements of the screening operations (`screening_ops.rs`), the same text for both
//! backends (PostgreSQL's `$n` placeholders, which SQLite accepts too).

/// The columns of a cohort.
macro_rules! cohort_cols {
    () => {
        "id, centre, owner, name, region, district, institution, institution_kind, locality, grade, \
         language, battery_id, starts_on, ends_on, created_at"
    };
}
/// The columns of a ticket.
macro_rules! ticket_cols {
    () => {
        "secret_hash, cohort_id, child_id, issued_at, expires_at, revoked_at, device_hash, session_id, claimed_at"
    };
}
pub(crate) use ticket_cols;

/// The cohort stored under a key, with the key's fingerprint. Binds: token_id, request_id.
pub(crate) const COHORT_BY_KEY: &str = concat!(
    "SELECT ",
    cohort_cols!(),
    ", fingerprint FROM cohorts WHERE token_id = $1 AND request_id = $2"
);
/// Inserts nothing when the key is taken. Binds: id, centre, owner, name, region, district,
/// institution, institution_kind, locality, grade, language, battery_id, starts_on, ends_on,
/// token_id, request_id, fingerprint, created_at.
pub(crate) const INSERT_COHORT: &str = concat!(
    "INSERT INTO cohorts (id, centre, owner, name, region, district, institution, institution_kind, ",
    "locality, grade, language, battery_id, starts_on, ends_on, token_id, request_id, fingerprint, created_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING ",
    cohort_cols!()
);
pub(crate) const COHORT_BY_ID: &str = concat!("SELECT ", cohort_cols!(), " FROM cohorts WHERE id = $1");
/// Binds: centre, owner, after (cursor), limit.
pub(crate) const COHORTS_PAGE: &str = concat!(
    "SELECT ",
    cohort_cols!(),
    " FROM cohorts WHERE (CAST($1 AS TEXT) IS NULL OR centre = $1) ",
    "AND (CAST($2 AS TEXT) IS NULL OR owner = $2) ",
    "AND (CAST($3 AS TEXT) IS NULL OR id > $3) ORDER BY id LIMIT $4"
);

/// A registered child by code, with what a roster row is compared with. Binds: centre, code.
pub(crate) const ROSTER_CHILD_BY_CODE: &str = "SELECT id, owner, birth_date, sex, given_name, family_name, iin_hash \
     FROM children WHERE centre = $1 AND code = $2";
/// Whether a child of a centre holds an IIN hash. Binds: centre, iin_hash.
pub(crate) const IIN_HELD: &str = "SELECT 1 AS one FROM children WHERE centre = $1 AND iin_hash = $2";
/// Registers a child from a roster (no request key). Binds: id, code, birth_date, sex,
/// test_language, centre, owner, given_name, family_name, iin_hash, created_at.
pub(crate) const INSERT_ROSTER_CHILD: &str = concat!(
    "INSERT INTO children (id, code, birth_date, sex, test_language, centre, owner, given_name, ",
    "family_name, iin_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);
/// Fills in what a registered child lacked. Binds: id, given_name, family_name, iin_hash.
pub(crate) const FILL_ROSTER_CHILD: &str = "UPDATE children SET given_name = COALESCE(given_name, $2), \
     family_name = COALESCE(family_name, $3), iin_hash = COALESCE(iin_hash, $4) WHERE id = $1";
/// A child's class in a cohort. Binds: cohort_id, child_id.
pub(crate) const MEMBER_CLASS: &str =
    "SELECT class FROM cohort_members WHERE cohort_id = $1 AND child_id = $2";
/// Binds: cohort_id, child_id, class, line, added_at.
pub(crate) const INSERT_MEMBER: &str =
    "INSERT INTO cohort_members (cohort_id, child_id, class, line, added_at) VALUES ($1, $2, $3, $4, $5)";
/// Binds: cohort_id, child_id, class, line.
pub(crate) const MOVE_MEMBER: &str =
    "UPDATE cohort_members SET class = $3, line = $4 WHERE cohort_id = $1 AND child_id = $2";
/// A cohort's members with their children. Binds: cohort_id.
pub(crate) const ROSTER: &str = "SELECT c.id AS child_id, c.code, c.given_name, c.family_name, c.birth_date, \
     c.sex, c.test_language, m.class, m.line, CAST(CASE WHEN c.iin_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS iin_linked \
     FROM cohort_members m JOIN children c ON c.id = m.child_id WHERE m.cohort_id = $1 \
     ORDER BY m.class, m.line, c.code";

/// Revokes a child's unused tickets in a cohort. Binds: cohort_id, child_id, now.
pub(crate) const REVOKE_UNUSED_TICKETS: &str = "UPDATE tickets SET revoked_at = $3 \
     WHERE cohort_id = $1 AND child_id = $2 AND device_hash IS NULL AND revoked_at IS NULL";
/// Binds: secret_hash, cohort_id, child_id (must be a member with no signed-in ticket in the
/// cohort), issued_at, expires_at.
pub(crate) const INSERT_TICKET: &str = "INSERT INTO tickets (secret_hash, cohort_id, child_id, issued_at, expires_at) \
     SELECT $1, m.cohort_id, m.child_id, $4, $5 FROM cohort_members m WHERE m.cohort_id = $2 AND m.child_id = $3 \
     AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.cohort_id = m.cohort_id AND t.child_id = m.child_id \
     AND t.device_hash IS NOT NULL)";
pub(crate) const TICKET_BY_HASH: &str =
    concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE secret_hash = $1");
/// Binds: secret_hash, device_hash, at.
pub(crate) const CLAIM_TICKET: &str = "UPDATE tickets SET device_hash = $2, claimed_at = $3 \
     WHERE secret_hash = $1 AND device_hash IS NULL AND revoked_at IS NULL";
/// Binds: secret_hash, session_id.
pub(crate) const ATTACH_TICKET_SESSION: &str =
    "UPDATE tickets SET session_id = $2 WHERE secret_hash = $1 AND session_id IS NULL";
/// Binds: cohort_id.
pub(crate) const COHORT_TICKETS: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets WHERE cohort_id = $1 ORDER BY issued_at, secret_hash"
);
pub(crate) const TICKET_BY_DEVICE: &str =
    concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE device_hash = $1");
/// Binds: session_id, subtest, started_at.
pub(crate) const START_CLOCK: &str = "INSERT INTO subtest_clocks (session_id, subtest, started_at) \
     VALUES ($1, $2, $3) ON CONFLICT (session_id, subtest) DO NOTHING";
/// Binds: session_id.
pub(crate) const CLOCKS: &str = "SELECT subtest, started_at, extra_seconds FROM subtest_clocks WHERE session_id = $1 ORDER BY started_at, subtest";
/// Binds: session_id, subtest, seconds.
pub(crate) const EXTEND_CLOCK: &str =
    "UPDATE subtest_clocks SET extra_seconds = extra_seconds + $3 WHERE session_id = $1 AND subtest = $2";
