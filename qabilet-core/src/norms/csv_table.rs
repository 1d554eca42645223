//! Reading the long-format CSV norm tables: exact headers, typed fields, line numbers in
//! every error, and the partition check (no gap, no overlap) that every table needs.

use std::str::FromStr;

use super::NormError;

/// One data row with its 1-based line number.
pub(crate) struct Row {
    pub line: usize,
    pub record: csv::StringRecord,
}

/// Reads `text` as CSV whose header must be exactly `header`.
pub(crate) fn read(file: &str, text: &str, header: &[&str]) -> Result<Vec<Row>, NormError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let found = reader
        .headers()
        .map_err(|e| NormError::at(file, 1, format!("unreadable header: {e}")))?
        .clone();
    if found.iter().ne(header.iter().copied()) {
        return Err(NormError::at(
            file,
            1,
            format!(
                "header is '{}', expected '{}'",
                found.iter().collect::<Vec<_>>().join(","),
                header.join(",")
            ),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            NormError::at(file, line, format!("malformed CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        rows.push(Row { line, record });
    }
    Ok(rows)
}

impl Row {
    /// Field `index` (named `name` in messages) parsed as `T`.
    pub fn field<T: FromStr>(
        &self,
        file: &str,
        index: usize,
        name: &str,
        kind: &str,
    ) -> Result<T, NormError> {
        let text = self.record.get(index).unwrap_or("");
        text.parse().map_err(|_| {
            NormError::at(
                file,
                self.line,
                format!("column '{name}': '{text}' is not {kind}"),
            )
        })
    }

    /// Field `index` as text.
    pub fn text(&self, index: usize) -> &str {
        self.record.get(index).unwrap_or("")
    }
}

/// An inclusive range read from a line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub min: i64,
    pub max: i64,
    pub line: usize,
}

/// Checks that `spans` (any order) partition `lo ..= hi`: every value covered exactly once.
/// `what` names the ranges in messages ("age bands of 'voc'"). A gap is reported at the line
/// of the range after it, an overlap at the line of the later range, naming the range and
/// line it overlaps.
pub(crate) fn check_partition(
    file: &str,
    what: &str,
    spans: &mut [Span],
    lo: i64,
    hi: i64,
) -> Result<(), NormError> {
    spans.sort_by_key(|s| (s.min, s.max));
    let mut expected = lo;
    let mut previous: Option<Span> = None;
    for s in spans.iter() {
        if s.min > s.max {
            return Err(NormError::at(
                file,
                s.line,
                format!("{what}: range {}–{} runs backwards", s.min, s.max),
            ));
        }
        if s.min > expected {
            return Err(NormError::at(
                file,
                s.line,
                format!("{what}: gap — nothing covers {}–{}", expected, s.min - 1),
            ));
        }
        if s.min < expected {
            let reason = match previous {
                Some(p) => format!(
                    "{what}: range {}–{} overlaps {}–{} on line {}",
                    s.min, s.max, p.min, p.max, p.line
                ),
                None => format!("{what}: range {}–{} starts below {lo}", s.min, s.max),
            };
            return Err(NormError::at(file, s.line, reason));
        }
        expected = s.max + 1;
        previous = Some(*s);
    }
    if expected <= hi {
        let line = spans.last().map_or(1, |s| s.line);
        return Err(NormError::at(
            file,
            line,
            format!("{what}: gap — nothing covers {}–{}", expected, hi),
        ));
    }
    if expected > hi + 1 {
        let line = spans.last().map_or(1, |s| s.line);
        return Err(NormError::at(file, line, format!("{what}: ranges run past {hi}")));
    }
    Ok(())
}
