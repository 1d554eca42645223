//! `base_rates.csv` (optional): how often a difference of a given size occurred in the norm
//! sample — for pairs of index composites and for subtests against the core mean. A
//! statistically significant difference may still be common; base rates say how common.

use serde::{Deserialize, Serialize};

use super::NormError;
use super::csv_table;
use crate::battery::{Battery, CompositeKind};

const FILE: &str = "base_rates.csv";
const HEADER: [&str; 3] = ["comparison", "abs_difference", "percent"];

/// Suffix naming the core-subtest mean in a comparison id (`voc:core_mean`).
pub const CORE_MEAN: &str = "core_mean";

/// One comparison of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// Two index composites (battery positions, first before second).
    Composites(usize, usize),
    /// A subtest (battery position) against the child's core-subtest mean.
    SubtestToCoreMean(usize),
}

/// The base rate of a difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaseRate {
    /// Percent of the norm sample with an absolute difference at least this large.
    pub percent: f64,
    /// True when the difference lies beyond the table, so the rate is at most `percent`.
    pub at_most: bool,
}

/// The validated `base_rates.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BaseRates {
    tables: Vec<(Comparison, String, Vec<f64>)>,
    /// Table position of each composite pair, at `a · composites + b`.
    pair_slot: Vec<Option<usize>>,
    /// Table position of each subtest's comparison with the core mean.
    core_slot: Vec<Option<usize>>,
    composites: usize,
}

impl BaseRates {
    /// Parses and checks `base_rates.csv` against `battery`.
    ///
    /// # Errors
    /// A [`NormError`] with line and reason: a comparison that names unknown or non-index
    /// composites or a non-core subtest, differences that skip a value, percentages outside
    /// 0–100 or rising with the difference.
    pub fn parse(battery: &Battery, text: &str) -> Result<Self, NormError> {
        let mut tables: Vec<(Comparison, String, Vec<f64>)> = Vec::new();
        for row in csv_table::read(FILE, text, &HEADER)? {
            let id = row.text(0);
            let comparison =
                parse_comparison(battery, id).map_err(|reason| NormError::at(FILE, row.line, reason))?;
            let diff: usize = row.field(FILE, 1, HEADER[1], "a whole difference")?;
            let percent: f64 = row.field(FILE, 2, HEADER[2], "a number")?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(NormError::at(
                    FILE,
                    row.line,
                    format!("percent {percent} is outside 0–100"),
                ));
            }
            let table = match tables.iter_mut().find(|(c, _, _)| *c == comparison) {
                Some((_, _, t)) => t,
                None => {
                    tables.push((comparison, id.to_owned(), Vec::new()));
                    &mut tables.last_mut().expect("just pushed").2
                }
            };
            if diff != table.len() {
                return Err(NormError::at(
                    FILE,
                    row.line,
                    format!(
                        "'{id}': expected abs_difference {} next (rows run 0, 1, 2, … in order)",
                        table.len()
                    ),
                ));
            }
            if table.last().is_some_and(|&p| percent > p) {
                return Err(NormError::at(
                    FILE,
                    row.line,
                    format!("'{id}': percent rises at difference {diff}"),
                ));
            }
            table.push(percent);
        }
        let composites = battery.composites.len();
        let mut pair_slot = vec![None; composites * composites];
        let mut core_slot = vec![None; battery.subtests.len()];
        for (t, (comparison, _, _)) in tables.iter().enumerate() {
            match *comparison {
                Comparison::Composites(a, b) => pair_slot[a * composites + b] = Some(t),
                Comparison::SubtestToCoreMean(s) => core_slot[s] = Some(t),
            }
        }
        Ok(BaseRates {
            tables,
            pair_slot,
            core_slot,
            composites,
        })
    }

    /// The base rate of `difference` for `comparison`, looked up at ⌊|difference|⌋; `None`
    /// when the table has no such comparison.
    pub fn rate(&self, comparison: Comparison, difference: f64) -> Option<BaseRate> {
        let slot = match comparison {
            Comparison::Composites(a, b) => self.pair_slot.get(a * self.composites + b),
            Comparison::SubtestToCoreMean(s) => self.core_slot.get(s),
        };
        let (_, _, table) = &self.tables[(*slot?)?];
        let at = difference.abs().floor() as usize;
        Some(match table.get(at) {
            Some(&percent) => BaseRate {
                percent,
                at_most: false,
            },
            None => BaseRate {
                percent: *table.last()?,
                at_most: true,
            },
        })
    }

    /// `base_rates.csv` text, in the order read.
    pub fn to_csv(&self) -> String {
        let mut out = HEADER.join(",");
        out.push('\n');
        for (_, id, table) in &self.tables {
            for (d, p) in table.iter().enumerate() {
                out.push_str(&format!("{id},{d},{}\n", super::decimal(*p)));
            }
        }
        out
    }

    /// Builds the table from (comparison id, percent by difference) pairs.
    ///
    /// # Errors
    /// As [`BaseRates::parse`].
    pub fn from_tables(battery: &Battery, tables: Vec<(String, Vec<f64>)>) -> Result<Self, NormError> {
        let mut text = HEADER.join(",");
        text.push('\n');
        for (id, t) in &tables {
            for (d, p) in t.iter().enumerate() {
                text.push_str(&format!("{id},{d},{}\n", super::decimal(*p)));
            }
        }
        Self::parse(battery, &text)
    }
}

fn parse_comparison(battery: &Battery, id: &str) -> Result<Comparison, String> {
    let (a, b) = id
        .split_once(':')
        .ok_or_else(|| format!("comparison '{id}' must be '<a>:<b>' or '<subtest>:{CORE_MEAN}'"))?;
    if b == CORE_MEAN {
        let s = battery
            .subtest_index(a)
            .ok_or_else(|| format!("comparison '{id}': unknown subtest '{a}'"))?;
        if !battery.subtests[s].core {
            return Err(format!("comparison '{id}': '{a}' is not a core subtest"));
        }
        return Ok(Comparison::SubtestToCoreMean(s));
    }
    let index = |x: &str| {
        battery
            .composite_index(x)
            .filter(|&c| battery.composites[c].kind == CompositeKind::Index)
            .ok_or_else(|| format!("comparison '{id}': '{x}' is not an index composite"))
    };
    let (ca, cb) = (index(a)?, index(b)?);
    if ca >= cb {
        return Err(format!("comparison '{id}': name the composites in battery order"));
    }
    Ok(Comparison::Composites(ca, cb))
}
