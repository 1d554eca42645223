//! Row decoding shared by both backends (the column names are the same in both schemas, and
//! the select lists are those of `sql.rs`).

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{
    AuditRecord, Child, ConsoleSession, Personal, ReportEdit, RequestKey, Response, Session, SessionChange,
    StoreError, SubtestContext, Token,
};

/// Typed column access on a row of either backend.
pub(crate) trait Get {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;

    /// A text column parsed into one of the store's enums.
    fn parsed<T: std::str::FromStr>(&self, col: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.text(col)?
            .parse()
            .map_err(|e| StoreError::backend(&format!("decoding column {col}"), e))
    }

    /// An optional text column parsed into one of the store's enums.
    fn opt_parsed<T: std::str::FromStr>(&self, col: &str) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_text(col)?
            .map(|v| {
                v.parse()
                    .map_err(|e| StoreError::backend(&format!("decoding column {col}"), e))
            })
            .transpose()
    }
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

/// The idempotency key stored in the `token_id`, `request_id` and `fingerprint` columns
/// (`None` for a write that carried none).
pub(crate) fn request_key(r: &impl Get) -> Result<Option<RequestKey>, StoreError> {
    Ok(
        match (
            r.opt_text("token_id")?,
            r.opt_text("request_id")?,
            r.opt_text("fingerprint")?,
        ) {
            (Some(token_id), Some(request_id), Some(fingerprint)) => Some(RequestKey {
                token_id,
                request_id,
                fingerprint,
            }),
            _ => None,
        },
    )
}

/// The columns of a token, in the order of [`Token`]'s fields.
type TokenColumns = [&'static str; 7];

const TOKEN: TokenColumns = [
    "id",
    "role",
    "centre",
    "subject",
    "created_at",
    "revoked_at",
    "expires_at",
];

/// The token's columns in a console session row (aliased: the session's come first).
const CONSOLE_TOKEN: TokenColumns = [
    "t_id",
    "t_role",
    "t_centre",
    "t_subject",
    "t_created_at",
    "t_revoked_at",
    "t_expires_at",
];

fn token_in(r: &impl Get, c: &TokenColumns) -> Result<Token, StoreError> {
    Ok(Token {
        id: r.text(c[0])?,
        role: r.parsed(c[1])?,
        centre: r.text(c[2])?,
        subject: r.text(c[3])?,
        created_at: r.int(c[4])?,
        revoked: r.opt_int(c[5])?.is_some(),
        expires_at: r.opt_int(c[6])?,
    })
}

pub(crate) fn token(r: &impl Get) -> Result<Token, StoreError> {
    token_in(r, &TOKEN)
}

pub(crate) fn console_session(r: &impl Get) -> Result<ConsoleSession, StoreError> {
    Ok(ConsoleSession {
        secret_hash: r.text("secret_hash")?,
        token_id: r.text("token_id")?,
        created_at: r.int("created_at")?,
        last_seen_at: r.int("last_seen_at")?,
        expires_at: r.int("expires_at")?,
    })
}

/// A console session and its token from a row of `CONSOLE_SESSION_WITH_TOKEN`.
pub(crate) fn console_session_with_token(r: &impl Get) -> Result<(ConsoleSession, Token), StoreError> {
    Ok((console_session(r)?, token_in(r, &CONSOLE_TOKEN)?))
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
    let personal = |col| Ok::<_, StoreError>(r.opt_text(col)?.map(Personal::new));
    Ok(Child {
        id: r.text(c[0])?,
        code: r.text(c[1])?,
        birth_date: r.text(c[2])?,
        sex: r.opt_text(c[3])?,
        test_language: r.text(c[4])?,
        centre: r.text(c[5])?,
        owner: r.text(c[6])?,
        given_name: personal(c[7])?,
        family_name: personal(c[8])?,
        notes: personal(c[9])?,
        created_at: r.int(c[10])?,
    })
}

pub(crate) fn child(r: &impl Get) -> Result<Child, StoreError> {
    child_in(r, &CHILD)
}

/// A subtest context from a row selected with `session_child_cols!` and a `last_seq`
/// column, and the responses.
pub(crate) fn subtest_context(
    session_child: &impl Get,
    responses: Vec<Response>,
) -> Result<SubtestContext, StoreError> {
    Ok(SubtestContext {
        session: session(session_child)?,
        child: child_in(session_child, &CONTEXT_CHILD)?,
        responses,
        last_seq: session_child.int("last_seq")?,
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
        state: r.parsed("state")?,
        created_at: r.int("created_at")?,
        finished_at: r.opt_int("finished_at")?,
    })
}

pub(crate) fn session_change(r: &impl Get) -> Result<SessionChange, StoreError> {
    Ok(SessionChange {
        id: r.int("id")?,
        session_id: r.text("session_id")?,
        from_state: r.parsed("from_state")?,
        to_state: r.parsed("to_state")?,
        request: request_key(r)?,
        at: r.int("at")?,
    })
}

pub(crate) fn response(r: &impl Get) -> Result<Response, StoreError> {
    Ok(Response {
        session_id: r.text("session_id")?,
        seq: r.int("seq")?,
        subtest: r.text("subtest")?,
        payload: r.text("payload")?,
        request: request_key(r)?,
        recorded_at: r.int("recorded_at")?,
    })
}

pub(crate) fn report_edit(r: &impl Get) -> Result<ReportEdit, StoreError> {
    Ok(ReportEdit {
        id: r.int("id")?,
        session_id: r.text("session_id")?,
        item: r.text("item")?,
        text: Personal::new(r.text("text")?),
        author: r.text("author")?,
        request: request_key(r)?,
        created_at: r.int("created_at")?,
    })
}

pub(crate) fn audit(r: &impl Get) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: r.int("id")?,
        at: r.int("at")?,
        token_id: r.opt_text("token_id")?,
        role: r.opt_parsed("role")?,
        centre: r.text("centre")?,
        subject: r.text("subject")?,
        action: r.text("action")?,
        resource: r.text("resource")?,
        child_id: r.opt_text("child_id")?,
        outcome: r.parsed("outcome")?,
        peer: r.opt_text("peer")?,
        detail: r.opt_text("detail")?,
    })
}
