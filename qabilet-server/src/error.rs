//! The binary's errors and their exit codes, in one place: 1 for a failure of the machine
//! (I/O), 2 for bad input (norm files, CSV structure, a bad row under `--strict`).

use std::path::PathBuf;

use thiserror::Error;

/// What can stop a command.
#[derive(Debug, Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A norm file is invalid.
    #[error("{dir}/{source}")]
    Norms {
        /// The battery folder.
        dir: String,
        /// File, line and reason.
        source: qabilet_core::NormError,
    },
    /// The input file is unusable as a whole (header, encoding).
    #[error("{path}:{line}: {reason}")]
    Input {
        /// Input name (`-` for stdin).
        path: String,
        /// 1-based line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// A row is bad and `--strict` was given.
    #[error("{path}:{line}: {reason} (stopped by --strict)")]
    StrictRow {
        /// Input name.
        path: String,
        /// 1-based line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// Anything else the user asked for that cannot be done.
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Io { .. } => 1,
            CliError::Norms { .. }
            | CliError::Input { .. }
            | CliError::StrictRow { .. }
            | CliError::Usage(_) => 2,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }
}
