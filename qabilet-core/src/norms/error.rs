//! The error every norm file reports: which file, which line, and why.

use thiserror::Error;

use crate::battery::BatteryError;

/// A problem in a norm file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct NormError {
    /// File name within the battery folder, e.g. `subtests.csv`.
    pub file: String,
    /// 1-based line, when the problem can be pinned to one.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl NormError {
    /// A problem at a line of a file.
    pub fn at(file: &str, line: usize, reason: impl Into<String>) -> Self {
        NormError {
            file: file.to_owned(),
            line: Some(line),
            reason: reason.into(),
        }
    }

    /// A problem with a whole file.
    pub fn in_file(file: &str, reason: impl Into<String>) -> Self {
        NormError {
            file: file.to_owned(),
            line: None,
            reason: reason.into(),
        }
    }
}

impl From<BatteryError> for NormError {
    fn from(e: BatteryError) -> Self {
        NormError {
            file: "battery.toml".into(),
            line: e.line,
            reason: e.reason,
        }
    }
}
