//! `reliability.csv`: the reliability of every subtest and composite by age band, from which
//! standard errors of measurement and confidence intervals follow; and the same format for
//! reliabilities stated for some subtests only (the input of a norm build), read by the same
//! code with the same checks of each row.

use serde::Serialize;

use super::NormError;
use super::csv_table::{self, Span, check_partition};
use crate::battery::Battery;
use crate::ci::Precision;

const FILE: &str = "reliability.csv";
const HEADER: [&str; 4] = ["scale", "age_min_months", "age_max_months", "reliability"];

/// One line of `reliability.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityRow {
    /// Subtest or composite id.
    pub scale: String,
    /// Youngest age of the band, whole months.
    pub age_min_months: u16,
    /// Oldest age of the band, whole months.
    pub age_max_months: u16,
    /// Reliability coefficient, in (0, 1).
    pub reliability: f64,
}

/// The validated `reliability.csv`, dense by age.
#[derive(Debug, Clone, PartialEq)]
pub struct Reliabilities {
    /// Per scale (subtests in battery order, then composites): reliability by age from the
    /// battery's minimum, with its roots precomputed.
    by_age: Vec<Vec<Precision>>,
    /// Per scale: the bands as read, for writing back.
    bands: Vec<Vec<(u16, u16, f64)>>,
    age_min: u16,
    subtests: usize,
}

impl Reliabilities {
    /// Parses and checks `reliability.csv` against `battery`.
    ///
    /// # Errors
    /// A [`NormError`] with line and reason: unknown scale, reliability outside (0, 1), age
    /// bands with gaps or overlaps, a subtest or composite without rows.
    pub fn parse(battery: &Battery, text: &str) -> Result<Self, NormError> {
        Self::from_rows(battery, typed_rows(FILE, text)?)
    }

    /// Checks rows (each with its line) against `battery`.
    ///
    /// # Errors
    /// As [`Reliabilities::parse`].
    pub fn from_rows(battery: &Battery, rows: Vec<(usize, ReliabilityRow)>) -> Result<Self, NormError> {
        let subtests = battery.subtests.len();
        let n = subtests + battery.composites.len();
        let mut per: Vec<Vec<(usize, ReliabilityRow)>> = vec![Vec::new(); n];
        for (line, row) in rows {
            let s = check_row(battery, FILE, line, &row)?;
            per[s].push((line, row));
        }
        let (lo, hi) = (battery.age_min.0, battery.age_max.0);
        let mut by_age = Vec::with_capacity(n);
        let mut bands = Vec::with_capacity(n);
        for (s, mut rows) in per.into_iter().enumerate() {
            let id = if s < subtests {
                &battery.subtests[s].id
            } else {
                &battery.composites[s - subtests].id
            };
            if rows.is_empty() {
                return Err(NormError::in_file(FILE, format!("no rows for '{id}'")));
            }
            let mut spans: Vec<Span> = rows
                .iter()
                .map(|(line, r)| Span {
                    min: i64::from(r.age_min_months),
                    max: i64::from(r.age_max_months),
                    line: *line,
                })
                .collect();
            check_partition(
                FILE,
                &format!("age bands of '{id}'"),
                &mut spans,
                i64::from(lo),
                i64::from(hi),
            )?;
            rows.sort_by_key(|(_, r)| r.age_min_months);
            let mut dense = vec![Precision::new(0.0); usize::from(hi - lo) + 1];
            for (_, r) in &rows {
                for age in r.age_min_months..=r.age_max_months {
                    dense[usize::from(age - lo)] = Precision::new(r.reliability);
                }
            }
            by_age.push(dense);
            bands.push(
                rows.into_iter()
                    .map(|(_, r)| (r.age_min_months, r.age_max_months, r.reliability))
                    .collect(),
            );
        }
        Ok(Reliabilities {
            by_age,
            bands,
            age_min: lo,
            subtests,
        })
    }

    /// Reliability of subtest `subtest` (battery position) at `age_months`.
    #[inline]
    pub fn subtest(&self, subtest: usize, age_months: u16) -> &Precision {
        &self.by_age[subtest][usize::from(age_months - self.age_min)]
    }

    /// Reliability of composite `composite` (battery position) at `age_months`.
    #[inline]
    pub fn composite(&self, composite: usize, age_months: u16) -> &Precision {
        &self.by_age[self.subtests + composite][usize::from(age_months - self.age_min)]
    }

    /// `reliability.csv` text in canonical order (subtests, then composites; by age).
    pub fn to_csv(&self, battery: &Battery) -> String {
        let mut rows = Vec::new();
        for (s, bands) in self.bands.iter().enumerate() {
            let id = if s < self.subtests {
                &battery.subtests[s].id
            } else {
                &battery.composites[s - self.subtests].id
            };
            for &(lo, hi, r) in bands {
                rows.push(ReliabilityRow {
                    scale: id.clone(),
                    age_min_months: lo,
                    age_max_months: hi,
                    reliability: r,
                });
            }
        }
        write_rows(&rows)
    }
}

/// The rows of a text in the `reliability.csv` format with their lines, typed.
fn typed_rows(file: &str, text: &str) -> Result<Vec<(usize, ReliabilityRow)>, NormError> {
    csv_table::read(file, text, &HEADER)?
        .into_iter()
        .map(|row| {
            Ok((
                row.line,
                ReliabilityRow {
                    scale: row.text(0).to_owned(),
                    age_min_months: row.field(file, 1, HEADER[1], "a whole number of months")?,
                    age_max_months: row.field(file, 2, HEADER[2], "a whole number of months")?,
                    reliability: row.field(file, 3, HEADER[3], "a number")?,
                },
            ))
        })
        .collect()
}

/// The checks of one row: its scale is a subtest or composite of `battery` (the scale's
/// position is returned: subtests, then composites) and its reliability lies strictly
/// between 0 and 1.
fn check_row(battery: &Battery, file: &str, line: usize, row: &ReliabilityRow) -> Result<usize, NormError> {
    let s = battery
        .subtest_index(&row.scale)
        .or_else(|| {
            battery
                .composite_index(&row.scale)
                .map(|c| battery.subtests.len() + c)
        })
        .ok_or_else(|| {
            NormError::at(
                file,
                line,
                format!("unknown subtest or composite '{}'", row.scale),
            )
        })?;
    if !(row.reliability > 0.0 && row.reliability < 1.0) {
        return Err(NormError::at(
            file,
            line,
            format!(
                "reliability {} must lie strictly between 0 and 1",
                row.reliability
            ),
        ));
    }
    Ok(s)
}

/// Reliabilities stated for some subtests, in the `reliability.csv` format (the `--reliability`
/// input of a norm build, for subtests whose items the sample lacks), read from `text` named
/// `file` in errors. Each row is checked as in `reliability.csv` — a known scale, a
/// reliability strictly between 0 and 1 — and must name a subtest (composites' reliabilities
/// are computed by the build) and an ascending band of ages within the battery's range; the
/// rows need not cover every subtest or age.
///
/// # Errors
/// The first row that fails, with its line.
pub fn stated_rows(battery: &Battery, file: &str, text: &str) -> Result<Vec<ReliabilityRow>, NormError> {
    let (lo, hi) = (battery.age_min.0, battery.age_max.0);
    typed_rows(file, text)?
        .into_iter()
        .map(|(line, row)| {
            if check_row(battery, file, line, &row)? >= battery.subtests.len() {
                return Err(NormError::at(
                    file,
                    line,
                    format!("'{}' is not a subtest of battery '{}'", row.scale, battery.id),
                ));
            }
            let (min, max) = (row.age_min_months, row.age_max_months);
            if min > max || min < lo || max > hi {
                return Err(NormError::at(
                    file,
                    line,
                    format!(
                        "ages {min}–{max} must be an ascending range within the battery's {lo}–{hi} months"
                    ),
                ));
            }
            Ok(row)
        })
        .collect()
}

/// Writes rows as `reliability.csv` text.
pub fn write_rows(rows: &[ReliabilityRow]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.scale,
            r.age_min_months,
            r.age_max_months,
            super::decimal(r.reliability)
        ));
    }
    out
}
