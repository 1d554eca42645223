//! The binary's errors and their exit codes, in one place: 2 for anything the user can fix
//! in what they gave us (a missing or invalid file, a bad header, a bad row under
//! `--strict`, an output that is one of the inputs), 1 for a failure while writing results.

use std::path::PathBuf;

use thiserror::Error;

use crate::files::Named;

/// What can stop a command.
#[derive(Debug, Error)]
pub enum CliError {
    /// An input file (norms, sample) could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Results could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file (or "standard output").
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
    /// The input file is unusable as a whole (header, encoding, CSV structure).
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
    #[error("{path}:{line}: {reason} (stopped by --strict; the rows before it were written)")]
    StrictRow {
        /// Input name.
        path: String,
        /// 1-based line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// An output is the same file as an input: writing it would destroy the input.
    #[error("{output} and {input} are the same file: write the output to another file")]
    SameFile {
        /// The output, with its flag.
        output: Named,
        /// The input, with its flag.
        input: Named,
    },
    /// Anything else the user asked for that cannot be done.
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Write { .. } => 1,
            CliError::Read { .. }
            | CliError::Norms { .. }
            | CliError::Input { .. }
            | CliError::StrictRow { .. }
            | CliError::SameFile { .. }
            | CliError::Usage(_) => 2,
        }
    }

    /// The problems of a standardisation sample, one per line as `name:line, column N (name):
    /// reason`.
    pub fn sample(name: &str, e: &qabilet_core::norms::SampleErrors) -> Self {
        let count = e.errors.len() + e.more;
        let mut message = format!(
            "{name}: {count} {}",
            if count == 1 { "problem" } else { "problems" }
        );
        for err in &e.errors {
            message.push_str(&format!("\n{name}:{}", err.line));
            if let Some((column, column_name)) = &err.column {
                message.push_str(&format!(", column {column} ({column_name})"));
            }
            message.push_str(&format!(": {}", err.reason));
        }
        if e.more > 0 {
            message.push_str(&format!("\n… and {} more", e.more));
        }
        CliError::Usage(message)
    }

    /// A file that could not be read.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Read {
            path: path.into(),
            source,
        }
    }

    /// A file that could not be written.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Write {
            path: path.into(),
            source,
        }
    }
}
