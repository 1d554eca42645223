//! The application as the machine's operator runs it from the command line, directly on the
//! service's database: the batteries of `--norms`, the IIN key of `--iin-key-file`, every
//! operation audited as `operator:<login>`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::app::{App, AppError, AppParts, BatchLimits};
use crate::error::CliError;
use crate::grpc::registry::Registry;
use crate::guidance_dir::Guidance;
use crate::store::Store;

/// Where the operator's commands find the service's data.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// The service's database: sqlite://FILE (created if missing) or postgres://…
    #[arg(
        long,
        value_name = "URL",
        default_value = "sqlite://qabilet.db",
        env = "QABILET_DB"
    )]
    pub db: String,
    /// Folder of battery folders the service serves.
    #[arg(long, value_name = "DIR", default_value = "norms", env = "QABILET_NORMS")]
    pub norms: PathBuf,
    /// The secret key of IIN hashes (64 hex digits), shared by every server of the database;
    /// created when missing. Without the same key, the same IIN would not find the same child.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "qabilet-iin.key",
        env = "QABILET_IIN_KEY_FILE"
    )]
    pub iin_key_file: PathBuf,
}

/// Runs `work` with the operator's application on a current-thread runtime, closing the
/// store after.
pub fn with_app<T>(
    args: &OperatorArgs,
    work: impl AsyncFnOnce(&App) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let registry = Arc::new(Registry::load(&args.norms)?);
    let iin_key = super::iin_key::load_or_create(&args.iin_key_file)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let store: Arc<dyn Store> = crate::store::open_store(&args.db)
            .await
            .map_err(|e| CliError::Usage(format!("--db: {e}")))?;
        let app = App::new(AppParts {
            registry,
            guidance: Guidance::Missing(String::new()),
            store: store.clone(),
            token_cache: std::time::Duration::ZERO,
            batches: BatchLimits::default(),
            iin_key: Some(Arc::new(iin_key)),
        });
        let result = work(&app).await;
        store.close().await;
        result
    })
}

/// An error of an operation: what the user named wrongly is exit 2 (every problem of a
/// rejected input on its own line, prefixed with `input`), a failing database exit 1.
pub fn app_error(input: &Path, e: AppError) -> CliError {
    match e {
        AppError::Unavailable(_) | AppError::Internal(_) => {
            CliError::write("the database", std::io::Error::other(e.to_string()))
        }
        AppError::Rejected { what, problems } => {
            let mut message = format!(
                "{}: the {what} has {} problem(s); nothing was imported",
                input.display(),
                problems.len()
            );
            for p in problems {
                message.push_str(&format!("\n{}: {p}", input.display()));
            }
            CliError::Usage(message)
        }
        other => CliError::Usage(other.to_string()),
    }
}
