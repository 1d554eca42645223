//! `composites.csv`: sum of scaled scores → index score and percentile rank, for every
//! composite, checked to cover every possible sum exactly once and never to fall.

use serde::Serialize;

use super::NormError;
use super::csv_table::{self, Span, check_partition};
use crate::battery::Battery;

const FILE: &str = "composites.csv";
const HEADER: [&str; 5] = ["composite", "sum_min", "sum_max", "index", "percentile"];

/// One line of `composites.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompositeRow {
    /// Composite id.
    pub composite: String,
    /// Lowest sum of scaled scores in the range.
    pub sum_min: i32,
    /// Highest sum of scaled scores in the range.
    pub sum_max: i32,
    /// Index score.
    pub index: i32,
    /// Percentile rank of the index score, in (0, 100).
    pub percentile: f64,
}

/// One composite's conversion, dense by sum.
#[derive(Debug, Clone, PartialEq)]
struct Table {
    sum_min: i32,
    index_by_sum: Vec<i16>,
    percentile_by_sum: Vec<f64>,
}

/// The validated `composites.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeNorms {
    tables: Vec<Table>,
}

impl CompositeNorms {
    /// Parses and checks `composites.csv` against `battery`.
    ///
    /// # Errors
    /// A [`NormError`] with line and reason: unknown composite, sum ranges with gaps or
    /// overlaps, index scores off the scale, index or percentile falling as the sum rises.
    pub fn parse(battery: &Battery, text: &str) -> Result<Self, NormError> {
        let mut rows = Vec::new();
        for row in csv_table::read(FILE, text, &HEADER)? {
            let parsed = CompositeRow {
                composite: row.text(0).to_owned(),
                sum_min: row.field(FILE, 1, HEADER[1], "a whole sum")?,
                sum_max: row.field(FILE, 2, HEADER[2], "a whole sum")?,
                index: row.field(FILE, 3, HEADER[3], "a whole index score")?,
                percentile: row.field(FILE, 4, HEADER[4], "a number")?,
            };
            rows.push((row.line, parsed));
        }
        Self::from_rows(battery, rows)
    }

    /// Checks rows (each with its line) against `battery`.
    ///
    /// # Errors
    /// As [`CompositeNorms::parse`].
    pub fn from_rows(battery: &Battery, rows: Vec<(usize, CompositeRow)>) -> Result<Self, NormError> {
        let mut per: Vec<Vec<(usize, CompositeRow)>> = vec![Vec::new(); battery.composites.len()];
        let scale = &battery.index_scale;
        for (line, row) in rows {
            let Some(c) = battery.composite_index(&row.composite) else {
                return Err(NormError::at(
                    FILE,
                    line,
                    format!("unknown composite '{}'", row.composite),
                ));
            };
            if row.index < scale.min || row.index > scale.max {
                return Err(NormError::at(
                    FILE,
                    line,
                    format!("index score {} is outside {}–{}", row.index, scale.min, scale.max),
                ));
            }
            if !(row.percentile > 0.0 && row.percentile < 100.0) {
                return Err(NormError::at(
                    FILE,
                    line,
                    format!(
                        "percentile {} must lie strictly between 0 and 100",
                        row.percentile
                    ),
                ));
            }
            per[c].push((line, row));
        }
        let scaled = &battery.scaled_scale;
        let mut tables = Vec::with_capacity(per.len());
        for (c, mut rows) in per.into_iter().enumerate() {
            let composite = &battery.composites[c];
            if rows.is_empty() {
                return Err(NormError::in_file(
                    FILE,
                    format!("no rows for composite '{}'", composite.id),
                ));
            }
            let k = composite.subtests.len() as i64;
            let (lo, hi) = (k * i64::from(scaled.min), k * i64::from(scaled.max));
            let mut spans: Vec<Span> = rows
                .iter()
                .map(|(line, r)| Span {
                    min: i64::from(r.sum_min),
                    max: i64::from(r.sum_max),
                    line: *line,
                })
                .collect();
            let what = format!("sum ranges of '{}'", composite.id);
            check_partition(FILE, &what, &mut spans, lo, hi)?;
            rows.sort_by_key(|(_, r)| r.sum_min);
            let mut index_by_sum = Vec::with_capacity((hi - lo + 1) as usize);
            let mut percentile_by_sum = Vec::with_capacity((hi - lo + 1) as usize);
            let mut previous: Option<(i32, f64)> = None;
            for (line, r) in &rows {
                let fall = match previous {
                    Some((pi, _)) if r.index < pi => Some(format!("index falls to {}", r.index)),
                    Some((_, pp)) if r.percentile < pp => {
                        Some(format!("percentile falls to {}", r.percentile))
                    }
                    _ => None,
                };
                if let Some(fall) = fall {
                    return Err(NormError::at(
                        FILE,
                        *line,
                        format!("{what}: {fall} at sum {}", r.sum_min),
                    ));
                }
                previous = Some((r.index, r.percentile));
                let n = (r.sum_max - r.sum_min + 1) as usize;
                // Range-checked above against the index scale.
                index_by_sum.extend(std::iter::repeat_n(r.index as i16, n));
                percentile_by_sum.extend(std::iter::repeat_n(r.percentile, n));
            }
            tables.push(Table {
                sum_min: lo as i32,
                index_by_sum,
                percentile_by_sum,
            });
        }
        Ok(CompositeNorms { tables })
    }

    /// Index score and percentile of `sum` on composite `composite` (battery position);
    /// `sum` must be a possible sum (callers compute it from valid scaled scores).
    #[inline]
    pub fn lookup(&self, composite: usize, sum: i32) -> (i32, f64) {
        let t = &self.tables[composite];
        let at = (sum - t.sum_min) as usize;
        (i32::from(t.index_by_sum[at]), t.percentile_by_sum[at])
    }

    /// The rows in canonical order, equal neighbours merged.
    pub fn rows(&self, battery: &Battery) -> Vec<CompositeRow> {
        let mut rows = Vec::new();
        for (c, t) in self.tables.iter().enumerate() {
            let n = t.index_by_sum.len();
            let mut start = 0;
            for at in 1..=n {
                let same = at < n
                    && t.index_by_sum[at] == t.index_by_sum[start]
                    && t.percentile_by_sum[at] == t.percentile_by_sum[start];
                if !same {
                    rows.push(CompositeRow {
                        composite: battery.composites[c].id.clone(),
                        sum_min: t.sum_min + start as i32,
                        sum_max: t.sum_min + at as i32 - 1,
                        index: i32::from(t.index_by_sum[start]),
                        percentile: t.percentile_by_sum[start],
                    });
                    start = at;
                }
            }
        }
        rows
    }

    /// `composites.csv` text in canonical order.
    pub fn to_csv(&self, battery: &Battery) -> String {
        write_rows(&self.rows(battery))
    }
}

/// Writes rows as `composites.csv` text. Numbers are written so they parse back exactly.
pub fn write_rows(rows: &[CompositeRow]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            r.composite,
            r.sum_min,
            r.sum_max,
            r.index,
            super::decimal(r.percentile)
        ));
    }
    out
}
