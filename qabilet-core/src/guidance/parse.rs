//! Reading guidance files: TOML with line numbers from spans, and CSV with `#` comment lines,
//! every problem turned into a [`GuidanceError`] naming file, line and field.

use serde::de::DeserializeOwned;

use super::GuidanceError;
use crate::source::line_at;

/// An error in `file` at an optional line.
pub(super) fn error(
    file: &'static str,
    line: Option<usize>,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> GuidanceError {
    GuidanceError {
        file,
        line,
        field: field.into(),
        reason: reason.into(),
    }
}

/// Deserialises a TOML file; a syntax or shape error names the line and the key.
pub(super) fn toml_file<T: DeserializeOwned>(file: &'static str, text: &str) -> Result<T, GuidanceError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start));
        // The message names the key (e.g. "missing field `cut`").
        error(file, line, "-", e.message().trim())
    })
}

/// A CSV file's data rows as (line, fields by header name), `#` lines skipped.
pub(super) struct CsvRows {
    /// (1-based line, cells).
    pub rows: Vec<(usize, Vec<String>)>,
}

impl CsvRows {
    /// Splits `text` into rows; the header must be exactly `expected`.
    pub(super) fn parse(file: &'static str, text: &str, expected: &[&str]) -> Result<Self, GuidanceError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let mut header_seen = false;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map(|p| p.line() as usize);
                error(file, line, "-", e.to_string())
            })?;
            let line = record
                .position()
                .map(|p| line_at(text, p.byte() as usize))
                .unwrap_or(0);
            let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
            match header_seen {
                false => {
                    if cells != expected {
                        return Err(error(
                            file,
                            Some(line),
                            "header",
                            format!("expected '{}', found '{}'", expected.join(","), cells.join(",")),
                        ));
                    }
                    header_seen = true;
                }
                true => rows.push((line, cells)),
            }
        }
        if !header_seen {
            return Err(error(file, None, "header", "the file has no header"));
        }
        Ok(CsvRows { rows })
    }
}

/// Splits a `;`-joined cell into its non-empty parts.
pub(super) fn list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}
