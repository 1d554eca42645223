//! `subtests.csv`: raw score → scaled score for every subtest and age band, checked to cover
//! every age and every raw score exactly once and never to fall as the raw score rises.

use serde::Serialize;

use super::NormError;
use super::csv_table::{self, Span, check_partition};
use crate::battery::Battery;

const FILE: &str = "subtests.csv";
const HEADER: [&str; 6] = [
    "subtest",
    "age_min_months",
    "age_max_months",
    "raw_min",
    "raw_max",
    "scaled",
];

/// One line of `subtests.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubtestRow {
    /// Subtest id.
    pub subtest: String,
    /// Youngest age of the band, whole months.
    pub age_min_months: u16,
    /// Oldest age of the band, whole months.
    pub age_max_months: u16,
    /// Lowest raw score of the range.
    pub raw_min: u16,
    /// Highest raw score of the range.
    pub raw_max: u16,
    /// Scaled score for every raw score in the range.
    pub scaled: i32,
}

/// A band's (age_min, age_max).
type AgeKey = (u16, u16);
/// A row with the line it came from.
type Numbered = (usize, SubtestRow);

/// Raw → scaled conversion of one subtest in one age band, dense by raw score.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Band {
    age_min: u16,
    age_max: u16,
    scaled_by_raw: Vec<i16>,
}

/// The validated `subtests.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtestNorms {
    /// Per subtest (battery order): bands in ascending age.
    bands: Vec<Vec<Band>>,
    /// Per subtest: band position for each age from the battery's minimum age.
    band_by_age: Vec<Vec<u16>>,
    age_min: u16,
}

impl SubtestNorms {
    /// Parses and checks `subtests.csv` against `battery`.
    ///
    /// # Errors
    /// A [`NormError`] with the line and reason: unknown subtest, raw ranges or age bands
    /// with gaps or overlaps, scaled scores outside the scale or falling as raw rises.
    pub fn parse(battery: &Battery, text: &str) -> Result<Self, NormError> {
        let mut rows = Vec::new();
        for row in csv_table::read(FILE, text, &HEADER)? {
            let parsed = SubtestRow {
                subtest: row.text(0).to_owned(),
                age_min_months: row.field(FILE, 1, HEADER[1], "a whole number of months")?,
                age_max_months: row.field(FILE, 2, HEADER[2], "a whole number of months")?,
                raw_min: row.field(FILE, 3, HEADER[3], "a whole raw score")?,
                raw_max: row.field(FILE, 4, HEADER[4], "a whole raw score")?,
                scaled: row.field(FILE, 5, HEADER[5], "a whole scaled score")?,
            };
            rows.push((row.line, parsed));
        }
        Self::from_rows(battery, rows)
    }

    /// Checks rows (each with the line it came from, or a sequence number) against `battery`.
    ///
    /// # Errors
    /// As [`SubtestNorms::parse`].
    pub fn from_rows(battery: &Battery, rows: Vec<(usize, SubtestRow)>) -> Result<Self, NormError> {
        let n = battery.subtests.len();
        let mut per_subtest: Vec<Vec<(usize, SubtestRow)>> = vec![Vec::new(); n];
        for (line, row) in rows {
            let Some(s) = battery.subtest_index(&row.subtest) else {
                return Err(NormError::at(
                    FILE,
                    line,
                    format!("unknown subtest '{}'", row.subtest),
                ));
            };
            let scale = &battery.scaled_scale;
            if row.scaled < scale.min || row.scaled > scale.max {
                return Err(NormError::at(
                    FILE,
                    line,
                    format!(
                        "scaled score {} is outside {}–{}",
                        row.scaled, scale.min, scale.max
                    ),
                ));
            }
            per_subtest[s].push((line, row));
        }
        let (age_lo, age_hi) = (battery.age_min.0, battery.age_max.0);
        let mut bands = Vec::with_capacity(n);
        let mut band_by_age = Vec::with_capacity(n);
        for (s, rows) in per_subtest.into_iter().enumerate() {
            let subtest = &battery.subtests[s];
            if rows.is_empty() {
                return Err(NormError::in_file(
                    FILE,
                    format!("no rows for subtest '{}'", subtest.id),
                ));
            }
            // Group rows by age band; bands are identified by their (min, max).
            let mut groups: Vec<(AgeKey, Vec<Numbered>)> = Vec::new();
            for (line, row) in rows {
                let key = (row.age_min_months, row.age_max_months);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, g)) => g.push((line, row)),
                    None => groups.push((key, vec![(line, row)])),
                }
            }
            let mut age_spans: Vec<Span> = groups
                .iter()
                .map(|((lo, hi), g)| Span {
                    min: i64::from(*lo),
                    max: i64::from(*hi),
                    line: g[0].0,
                })
                .collect();
            check_partition(
                FILE,
                &format!("age bands of '{}'", subtest.id),
                &mut age_spans,
                i64::from(age_lo),
                i64::from(age_hi),
            )?;
            groups.sort_by_key(|(k, _)| *k);
            let mut subtest_bands = Vec::with_capacity(groups.len());
            let mut by_age = vec![0u16; usize::from(age_hi - age_lo) + 1];
            for (b, ((lo, hi), mut g)) in groups.into_iter().enumerate() {
                let what = format!("raw ranges of '{}' at ages {lo}–{hi}", subtest.id);
                let mut spans: Vec<Span> = g
                    .iter()
                    .map(|(line, r)| Span {
                        min: i64::from(r.raw_min),
                        max: i64::from(r.raw_max),
                        line: *line,
                    })
                    .collect();
                check_partition(FILE, &what, &mut spans, 0, i64::from(subtest.raw_max))?;
                g.sort_by_key(|(_, r)| r.raw_min);
                let mut scaled_by_raw = Vec::with_capacity(usize::from(subtest.raw_max) + 1);
                let mut previous: Option<i32> = None;
                for (line, r) in &g {
                    if previous.is_some_and(|p| r.scaled < p) {
                        return Err(NormError::at(
                            FILE,
                            *line,
                            format!("{what}: scaled score falls to {} at raw {}", r.scaled, r.raw_min),
                        ));
                    }
                    previous = Some(r.scaled);
                    // The scale check above bounds `scaled` well inside i16.
                    let scaled = r.scaled as i16;
                    scaled_by_raw.extend(std::iter::repeat_n(
                        scaled,
                        usize::from(r.raw_max - r.raw_min) + 1,
                    ));
                }
                for age in lo..=hi {
                    by_age[usize::from(age - age_lo)] = b as u16;
                }
                subtest_bands.push(Band {
                    age_min: lo,
                    age_max: hi,
                    scaled_by_raw,
                });
            }
            bands.push(subtest_bands);
            band_by_age.push(by_age);
        }
        Ok(SubtestNorms {
            bands,
            band_by_age,
            age_min: age_lo,
        })
    }

    /// The scaled score of `raw` on subtest `subtest` (battery position) at `age_months`.
    /// Both must be within the battery: callers validate them at the boundary.
    #[inline]
    pub fn scaled(&self, subtest: usize, age_months: u16, raw: u16) -> i32 {
        let band = self.band_by_age[subtest][usize::from(age_months - self.age_min)];
        i32::from(self.bands[subtest][usize::from(band)].scaled_by_raw[usize::from(raw)])
    }

    /// The rows, in canonical order (battery order, then age, then raw), adjacent raw scores
    /// with the same scaled score merged.
    pub fn rows(&self, battery: &Battery) -> Vec<SubtestRow> {
        let mut rows = Vec::new();
        for (s, bands) in self.bands.iter().enumerate() {
            for band in bands {
                let mut start = 0usize;
                for raw in 1..=band.scaled_by_raw.len() {
                    if raw == band.scaled_by_raw.len() || band.scaled_by_raw[raw] != band.scaled_by_raw[start]
                    {
                        rows.push(SubtestRow {
                            subtest: battery.subtests[s].id.clone(),
                            age_min_months: band.age_min,
                            age_max_months: band.age_max,
                            raw_min: start as u16,
                            raw_max: (raw - 1) as u16,
                            scaled: i32::from(band.scaled_by_raw[start]),
                        });
                        start = raw;
                    }
                }
            }
        }
        rows
    }

    /// `subtests.csv` text in canonical order.
    pub fn to_csv(&self, battery: &Battery) -> String {
        write_rows(&self.rows(battery))
    }
}

/// The rows of one subtest and band from the scaled score of every raw score 0, 1, …:
/// runs of raw scores with one scaled score become one row.
pub fn band_rows(subtest: &str, age_min_months: u16, age_max_months: u16, scaled: &[i32]) -> Vec<SubtestRow> {
    let mut rows = Vec::new();
    let mut start = 0usize;
    for x in 1..=scaled.len() {
        if x == scaled.len() || scaled[x] != scaled[start] {
            rows.push(SubtestRow {
                subtest: subtest.to_owned(),
                age_min_months,
                age_max_months,
                raw_min: start as u16,
                raw_max: (x - 1) as u16,
                scaled: scaled[start],
            });
            start = x;
        }
    }
    rows
}

/// Writes rows as `subtests.csv` text, in the order given.
pub fn write_rows(rows: &[SubtestRow]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.subtest, r.age_min_months, r.age_max_months, r.raw_min, r.raw_max, r.scaled
        ));
    }
    out
}
