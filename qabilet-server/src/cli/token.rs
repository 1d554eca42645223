//! `qabilet token …`: create, list and revoke the bearer tokens of the gRPC service, directly
//! in its database (no running server needed).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::app::{App, AppError, AppParts, BatchLimits, Caller, fields};
use crate::auth;
use crate::error::CliError;
use crate::grpc::registry::Registry;
use crate::guidance_dir::Guidance;
use crate::store::{PageRequest, Role, open_store};

/// What each role may do, one line each (shown by `qabilet token --help`).
pub(super) const ROLES: &str = "\
ROLES (what a token of each may do through the gRPC service):
  psychologist  register children and test them; sees only the children and sessions it owns
  supervisor    reads every child, session and result of its centre; changes nothing
  integrator    a centre's service account: registers, tests and reads within its centre
  researcher    reads the children, sessions and results of its centre, de-identified
                (no names or notes, birth date as year-month); a centre of * means all
  admin         everything, in every centre, and manages tokens
Every role may read the catalog and use stateless scoring.";

/// `qabilet token --help`.
pub(super) const LONG_ABOUT: &str = "\
Create, list and revoke the bearer tokens callers of the gRPC service authenticate with
(`authorization: Bearer <secret>`), directly in the service's database.

A secret is shown once, when its token is created: the database keeps only its SHA-256, so a
lost secret cannot be recovered (revoke the token and create another). A revoked token is
refused by running servers within 5 seconds. When the server starts on a database with no
token at all it creates an admin token and prints its secret once.

A token may expire (--expires-in): from then on it is refused like a revoked one.

Exit codes: 0 done; 1 the database failed while writing; 2 bad input (an unknown role, an
empty subject, a malformed duration, an unknown token id, a database that cannot be opened).

Example:
  qabilet token create --role psychologist --centre almaty-1 --subject psy-aliya --expires-in 90d";

/// `qabilet token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret on standard output (once: keep it).
    #[command(after_help = ROLES)]
    Create(CreateArgs),
    /// List the tokens: id, role, centre, subject, created, revoked, expires (never secrets).
    List(DbArgs),
    /// Revoke a token: running servers refuse it within 5 seconds.
    Revoke(RevokeArgs),
}

/// The database the tokens are in.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The service's database: sqlite://FILE (created if missing) or postgres://…
    #[arg(
        long,
        value_name = "URL",
        default_value = "sqlite://qabilet.db",
        env = "QABILET_DB"
    )]
    pub db: String,
}

/// Arguments of `qabilet token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// What the token may do: psychologist, supervisor, integrator, researcher or admin (see
    /// below).
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    /// The centre it belongs to, e.g. almaty-1; * for every centre.
    #[arg(long, value_name = "CENTRE")]
    pub centre: String,
    /// Who uses it, e.g. psy-aliya: the owner of the children it registers and the examiner of
    /// the sessions it starts.
    #[arg(long, value_name = "SUBJECT")]
    pub subject: String,
    /// How long the token is valid: a whole number and a unit, s, m, h or d (e.g. 90d, 12h);
    /// without it the token never expires.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
}

/// Arguments of `qabilet token revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Id of the token (as `qabilet token list` shows it).
    #[arg(long, value_name = "ID")]
    pub id: String,
}

/// A validated `qabilet token …` command.
enum Op<'a> {
    Create {
        role: Role,
        centre: &'a str,
        subject: &'a str,
        expires_in: Option<Duration>,
    },
    List,
    Revoke {
        id: &'a str,
    },
}

/// Runs `qabilet token …`.
pub fn run(command: &TokenCommand) -> Result<(), CliError> {
    // Validate everything before touching the database.
    let (op, db) = match command {
        TokenCommand::Create(args) => {
            let role = args.role.parse::<Role>().map_err(|_| {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                CliError::Usage(format!(
                    "--role: unknown role {:?}; expected one of: {}",
                    args.role,
                    roles.join(", ")
                ))
            })?;
            let centre = name("--centre", &args.centre)?;
            let subject = name("--subject", &args.subject)?;
            let expires_in = args.expires_in.as_deref().map(duration).transpose()?;
            (
                Op::Create {
                    role,
                    centre,
                    subject,
                    expires_in,
                },
                &args.db.db,
            )
        }
        TokenCommand::List(args) => (Op::List, &args.db),
        TokenCommand::Revoke(args) => (Op::Revoke { id: &args.id }, &args.db.db),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let store = open_store(db)
            .await
            .map_err(|e| CliError::Usage(format!("--db {}: {e}", redacted(db))))?;
        // Token administration goes through the application layer like every other
        // operation (audited, as the machine's operator); no batteries are needed for it.
        let app = App::new(AppParts {
            registry: Arc::new(Registry::default()),
            guidance: Guidance::Missing(String::new()),
            store: store.clone(),
            token_cache: std::time::Duration::ZERO,
            batches: BatchLimits::default(),
            iin_key: None,
        });
        let operator = Caller::operator();
        let result = match op {
            Op::Create {
                role,
                centre,
                subject,
                expires_in,
            } => create_token(&app, &operator, db, role, centre, subject, expires_in).await,
            Op::List => list(&app, &operator, db).await,
            Op::Revoke { id } => revoke(&app, &operator, db, id).await,
        };
        store.close().await;
        result
    })
}

/// A duration of `--expires-in`: a whole number (at least 1) and a unit, `s`, `m`, `h` or `d`.
fn duration(value: &str) -> Result<Duration, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--expires-in: {value:?} is not a duration: a whole number and a unit, s, m, h or d (e.g. 90d, 12h)"
        ))
    };
    let (unit_at, _) = value.char_indices().last().ok_or_else(bad)?;
    let (number, unit) = value.split_at(unit_at);
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = number.parse().map_err(|_| bad())?;
    // Up to 100 years: far enough for any token, and well inside the timestamps' range.
    let total = n
        .checked_mul(seconds)
        .filter(|t| (1..=100 * 366 * 86_400).contains(t))
        .ok_or_else(bad)?;
    Ok(Duration::from_secs(total))
}

/// A centre or subject: not empty, no surrounding spaces, no control characters.
fn name<'a>(flag: &str, value: &'a str) -> Result<&'a str, CliError> {
    fields::token_name(flag, value).map_err(|e| CliError::Usage(e.to_string()))
}

async fn create_token(
    app: &App,
    operator: &Caller,
    db: &str,
    role: Role,
    centre: &str,
    subject: &str,
    expires_in: Option<Duration>,
) -> Result<(), CliError> {
    let expires_at = expires_in.map(|d| crate::store::now_ms() + d.as_millis() as i64);
    let (token, secret) = app
        .create_token(operator, role, centre, subject, expires_at)
        .await
        .map_err(|e| app_error(db, e))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{secret}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::write("standard output", e))?;
    let expiry = token.expires_at.map_or_else(
        || "never expires".to_owned(),
        |at| format!("expires {}", time(at)),
    );
    eprintln!(
        "qabilet: created token {} ({role}, centre {centre}, subject {subject}; {expiry}). Keep the secret \
         printed above somewhere safe: it is shown only this once and cannot be recovered.",
        token.id
    );
    Ok(())
}

async fn revoke(app: &App, operator: &Caller, db: &str, id: &str) -> Result<(), CliError> {
    let token = app
        .revoke_token(operator, id)
        .await
        .map_err(|e| app_error(db, e))?;
    eprintln!(
        "qabilet: revoked token {} ({}, centre {}, subject {}); running servers refuse it within {} s",
        token.id,
        token.role,
        token.centre,
        token.subject,
        auth::CACHE_TTL.as_secs()
    );
    Ok(())
}

/// A store timestamp in RFC 3339, UTC (the milliseconds themselves if out of range).
fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |ts| ts.to_string())
}

/// Writes `id,role,centre,subject,created,revoked,expires` (times in RFC 3339, UTC; `expires`
/// empty for a token that never expires).
async fn list(app: &App, operator: &Caller, db: &str) -> Result<(), CliError> {
    let stdout = std::io::stdout().lock();
    let mut out = csv::Writer::from_writer(stdout);
    let write_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => CliError::write("standard output", e),
        other => CliError::write("standard output", std::io::Error::other(format!("{other:?}"))),
    };
    out.write_record(["id", "role", "centre", "subject", "created", "revoked", "expires"])
        .map_err(write_err)?;
    let mut page = PageRequest::first(crate::store::MAX_PAGE_SIZE);
    loop {
        let tokens = app
            .list_tokens(operator, page.clone())
            .await
            .map_err(|e| app_error(db, e))?;
        for t in &tokens.items {
            out.write_record([
                t.id.as_str(),
                t.role.as_str(),
                &t.centre,
                &t.subject,
                &time(t.created_at),
                if t.revoked { "true" } else { "false" },
                &t.expires_at.map(time).unwrap_or_default(),
            ])
            .map_err(write_err)?;
        }
        match tokens.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    out.flush().map_err(|e| CliError::write("standard output", e))
}

/// An error of the operation: what the user named wrongly is exit 2, a failing database exit 1.
fn app_error(db: &str, e: AppError) -> CliError {
    match e {
        AppError::Unavailable(_) | AppError::Internal(_) => {
            CliError::write(redacted(db), std::io::Error::other(e.to_string()))
        }
        other => CliError::Usage(other.to_string()),
    }
}

/// The database URL without a password (`postgres://user:secret@host` → `postgres://user:…@host`).
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:…@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    match path {
        Some(p) => format!("{scheme}://{authority}/{p}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            redacted("postgres://qab:s3cret@db.local:5432/qabilet"),
            "postgres://qab:…@db.local:5432/qabilet"
        );
        assert_eq!(redacted("postgres://qab@db/q"), "postgres://qab@db/q");
        assert_eq!(redacted("sqlite://qabilet.db"), "sqlite://qabilet.db");
        assert_eq!(redacted("sqlite:x.db"), "sqlite:x.db");
    }

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(duration("90d").unwrap(), Duration::from_secs(90 * 86_400));
        assert_eq!(duration("12h").unwrap(), Duration::from_secs(12 * 3600));
        assert_eq!(duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(duration("45s").unwrap(), Duration::from_secs(45));
        for bad in [
            "",
            "d",
            "90",
            "0d",
            "-1d",
            "1.5h",
            "90 d",
            "1w",
            "+3d",
            "99999999999999d",
            "9д",
        ] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(name("--subject", "psy-aliya").is_ok());
        assert!(name("--centre", "*").is_ok());
        for bad in ["", " x", "x ", "a\nb"] {
            assert!(name("--subject", bad).is_err(), "{bad:?}");
        }
    }
}
