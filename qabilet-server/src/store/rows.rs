//! Row decoding shared by both backends (the column names are the same in both schemas).

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{AuditRecord, Child, ReportEdit, Response, Session, StoreError, SubtestContext, Token};

/// Typed column access on a row of either backend.
pub(crate) trait Get {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
}

fn column_err(col: &str, e: sqlx::Error) -> StoreError {
    StoreError::backend(&format!("decoding column {col}"), e)
}

impl<R> Get for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.try_get(col).map_err(|e| column_err(col, e))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.try_get(col).map_err(|e| column_err(col, e))
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.try_get(col).map_err(|e| column_err(col, e))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(col).map_err(|e| column_err(col, e))
    }
}

pub(crate) fn token(r: &impl Get) -> Result<Token, StoreError> {
    Ok(Token {
        id: r.text("id")?,
        role: r
            .text("role")?
            .parse()
            .map_err(|e| StoreError::backend("decoding token", e))?,
        centre: r.text("centre")?,
        subject: r.text("subject")?,
        created_at: r.int("created_at")?,
        revoked: r.opt_int("revoked_at")?.is_some(),
    })
}

/// The columns of a child, in the order of [`Child`]'s fields.
type ChildColumns = [&'static str; 11];

const CHILD: ChildColumns = [
    "id",
    "code",
    "birth_date",
    "sex",
    "test_language",
    "centre",
    "owner",
    "given_name",
    "family_name",
    "notes",
    "created_at",
];

/// The child's columns in a [`subtest_context`] row (aliased: the session's come first).
const CONTEXT_CHILD: ChildColumns = [
    "c_id",
    "c_code",
    "c_birth_date",
    "c_sex",
    "c_test_language",
    "c_centre",
    "c_owner",
    "c_given_name",
    "c_family_name",
    "c_notes",
    "c_created_at",
];

fn child_in(r: &impl Get, c: &ChildColumns) -> Result<Child, StoreError> {
    Ok(Child {
        id: r.text(c[0])?,
        code: r.text(c[1])?,
        birth_date: r.text(c[2])?,
        sex: r.opt_text(c[3])?,
        test_language: r.text(c[4])?,
        centre: r.text(c[5])?,
        owner: r.text(c[6])?,
        given_name: r.opt_text(c[7])?,
        family_name: r.opt_text(c[8])?,
        notes: r.opt_text(c[9])?,
        created_at: r.int(c[10])?,
    })
}

pub(crate) fn child(r: &impl Get) -> Result<Child, StoreError> {
    child_in(r, &CHILD)
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
pub(crate) use session_child_cols;

/// A subtest context from a row selected with [`session_child_cols`] and the responses.
pub(crate) fn subtest_context(
    session_child: &impl Get,
    responses: Vec<Response>,
) -> Result<SubtestContext, StoreError> {
    Ok(SubtestContext {
        session: session(session_child)?,
        child: child_in(session_child, &CONTEXT_CHILD)?,
        responses,
    })
}

pub(crate) fn session(r: &impl Get) -> Result<Session, StoreError> {
    Ok(Session {
        id: r.text("id")?,
        child_id: r.text("child_id")?,
        battery_id: r.text("battery_id")?,
        norm_set_hash: r.text("norm_set_hash")?,
        test_date: r.text("test_date")?,
        examiner: r.text("examiner")?,
        state: r
            .text("state")?
            .parse()
            .map_err(|e| StoreError::backend("decoding session", e))?,
        created_at: r.int("created_at")?,
        finished_at: r.opt_int("finished_at")?,
    })
}

pub(crate) fn response(r: &impl Get) -> Result<Response, StoreError> {
    Ok(Response {
        session_id: r.text("session_id")?,
        seq: r.int("seq")?,
        subtest: r.text("subtest")?,
        payload: r.text("payload")?,
        request_id: r.opt_text("request_id")?,
        recorded_at: r.int("recorded_at")?,
    })
}

pub(crate) fn report_edit(r: &impl Get) -> Result<ReportEdit, StoreError> {
    Ok(ReportEdit {
        id: r.int("id")?,
        session_id: r.text("session_id")?,
        item: r.text("item")?,
        text: r.text("text")?,
        author: r.text("author")?,
        request_id: r.opt_text("request_id")?,
        created_at: r.int("created_at")?,
    })
}

pub(crate) fn audit(r: &impl Get) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: r.int("id")?,
        at: r.int("at")?,
        principal: r.text("principal")?,
        action: r.text("action")?,
        resource: r.text("resource")?,
        child_id: r.opt_text("child_id")?,
    })
}
