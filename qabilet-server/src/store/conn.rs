//! A statement with its arguments ([`Statement`]) and the connection of either backend that
//! runs it ([`Conn`]): what lets `ops.rs` write every plain read and write once for both.

use async_trait::async_trait;

use super::rows::Get;

/// One bound argument: text or a 64-bit integer, either of which may be NULL.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

/// A statement of `sql.rs` and its arguments, `$1`, `$2`, … in order.
#[derive(Debug)]
pub(crate) struct Statement<'a> {
    pub(crate) sql: &'static str,
    pub(crate) args: Vec<Arg<'a>>,
}

impl<'a> Statement<'a> {
    pub(crate) fn new(sql: &'static str) -> Self {
        Statement {
            sql,
            args: Vec::new(),
        }
    }

    pub(crate) fn text(self, v: &'a str) -> Self {
        self.opt_text(Some(v))
    }

    pub(crate) fn opt_text(mut self, v: Option<&'a str>) -> Self {
        self.args.push(Arg::Text(v));
        self
    }

    pub(crate) fn int(self, v: i64) -> Self {
        self.opt_int(Some(v))
    }

    pub(crate) fn opt_int(mut self, v: Option<i64>) -> Self {
        self.args.push(Arg::Int(v));
        self
    }
}

/// A connection (or a transaction) of one backend.
#[async_trait]
pub(crate) trait Conn: Send {
    /// The backend's row.
    type Row: Get + Send + Sync;

    /// Whether `SELECT … FOR UPDATE` locks a row until the transaction ends (PostgreSQL).
    /// Without it (SQLite) a write transaction already excludes every other writer.
    const ROW_LOCKS: bool;

    /// Runs `s` and returns its first row, if any.
    async fn fetch_optional(&mut self, s: Statement<'_>) -> Result<Option<Self::Row>, sqlx::Error>;

    /// Runs `s` and returns all its rows.
    async fn fetch_all(&mut self, s: Statement<'_>) -> Result<Vec<Self::Row>, sqlx::Error>;

    /// Runs `s` and returns how many rows it changed.
    async fn execute(&mut self, s: Statement<'_>) -> Result<u64, sqlx::Error>;
}

/// Binds a statement's arguments to a query of backend `$db`: the one place each backend's
/// [`Conn`] impl turns [`Arg`]s into sqlx binds.
macro_rules! impl_conn {
    ($conn:ty, $db:ty, $row:ty, row_locks = $locks:expr) => {
        fn bound(
            s: $crate::store::conn::Statement<'_>,
        ) -> sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments> {
            s.args
                .into_iter()
                .fold(sqlx::query(s.sql), |q, arg| match arg {
                    $crate::store::conn::Arg::Text(v) => q.bind(v),
                    $crate::store::conn::Arg::Int(v) => q.bind(v),
                })
        }

        #[async_trait::async_trait]
        impl $crate::store::conn::Conn for $conn {
            type Row = $row;
            const ROW_LOCKS: bool = $locks;

            async fn fetch_optional(
                &mut self,
                s: $crate::store::conn::Statement<'_>,
            ) -> Result<Option<$row>, sqlx::Error> {
                bound(s).fetch_optional(self).await
            }

            async fn fetch_all(
                &mut self,
                s: $crate::store::conn::Statement<'_>,
            ) -> Result<Vec<$row>, sqlx::Error> {
                bound(s).fetch_all(self).await
            }

            async fn execute(&mut self, s: $crate::store::conn::Statement<'_>) -> Result<u64, sqlx::Error> {
                Ok(bound(s).execute(self).await?.rows_affected())
            }
        }
    };
}
pub(crate) use impl_conn;
