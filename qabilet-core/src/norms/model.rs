//! Demonstration norm tables computed from a stated developmental model (the `[model]` table
//! of `provenance.toml`), so that anyone can rebuild them byte for byte. The model describes
//! no population of children; tables built from it are demonstration norms.
//!
//! Raw score of subtest t at age a months: a normal with median m(a) = raw_max / (1 +
//! exp(−(a − a50)/tau)) and SD s(a) = sd_at_60 + (sd_at_143 − sd_at_60)·(a − 60)/83,
//! discretised to 0 … raw_max (tails piled on the ends). A table band is evaluated at its
//! mid-age (min + max)/2 + 0.5 months. Scaled score of raw x: z = Φ⁻¹(P(X < x) + ½P(X = x)),
//! then 10 + 3z rounded half away from zero and clipped to 1–19.
//!
//! Scaled scores are taken as multivariate normal (SD 3) with correlation ρ_w within a CHC
//! domain and ρ_b between domains. A composite of k subtests: sum S has mean k·mean and
//! SD_S = SD·√(Σᵢⱼ ρᵢⱼ); index = round(100 + 15·(s − k·mean)/SD_S), clipped; percentile =
//! 100·Φ((index − 100)/15) to one decimal, kept within [0.1, 99.9] (the tables' "<0.1" and
//! ">99.9"). Composite reliability: Mosier (1943), 1 − Σᵢ SDᵢ²(1 − rᵢ)/SD_S². Reliabilities are
//! written to two decimals. Base rates, 100·P(|D| ≥ d) to one decimal for d = 0 … scale
//! width, with D normal with mean 0 and SD
//! - 15·√(2(1 − ρ_AB)) for two index composites, ρ_AB = Σ_{i∈A,j∈B} ρᵢⱼ / √(Σ_A ρ · Σ_B ρ),
//!   with a continuity correction of ½ (whole differences): 200·(1 − Φ((d − ½)/SD));
//! - SD·√(1 − (2/k)·Σⱼ ρᵢⱼ + (1/k²)·Σⱼₗ ρⱼₗ) for subtest i against the mean of all k core
//!   subtests (sums over the core subtests, ρᵢᵢ = 1), without correction: 200·(1 − Φ(d/SD)).

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

use super::{CompositeRow, ReliabilityRow, SubtestRow};
use crate::battery::{Battery, CompositeKind};
use crate::normal;
use crate::scale::round_half_away;

/// A problem with the stated model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("[model]: {0}")]
pub struct ModelError(pub String);

/// The `[model]` table of `provenance.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DevelopmentalModel {
    /// The model in words.
    pub description: String,
    /// Width of the subtest tables' age bands, months.
    pub band_months: u16,
    /// Width of the reliability table's age bands, months.
    pub reliability_band_months: u16,
    /// Correlation of two subtests of one CHC domain.
    pub within_domain_correlation: f64,
    /// Correlation of two subtests of different domains.
    pub between_domain_correlation: f64,
    /// Per subtest id.
    pub subtest: BTreeMap<String, SubtestModel>,
}

/// Growth of one subtest's raw-score distribution with age.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtestModel {
    /// Age (months) at which the median is half the raw maximum.
    pub a50: f64,
    /// Growth rate of the median, months.
    pub tau: f64,
    /// Raw-score SD at 60 months.
    pub sd_at_60: f64,
    /// Raw-score SD at 143 months.
    pub sd_at_143: f64,
    /// Reliability at 60 months.
    pub reliability_at_60: f64,
    /// Reliability at 143 months.
    pub reliability_at_143: f64,
}

impl SubtestModel {
    /// Median raw score at `age` months for a subtest with maximum `raw_max`.
    pub fn median(&self, raw_max: f64, age: f64) -> f64 {
        raw_max / (1.0 + (-(age - self.a50) / self.tau).exp())
    }

    /// Raw-score SD at `age` months.
    pub fn sd(&self, age: f64) -> f64 {
        linear(self.sd_at_60, self.sd_at_143, age)
    }

    /// Reliability at `age` months.
    pub fn reliability(&self, age: f64) -> f64 {
        linear(self.reliability_at_60, self.reliability_at_143, age)
    }

    /// The normal score of raw `x` at `age` (midpoint convention): Φ⁻¹(P(X < x) + ½P(X = x)).
    pub fn z(&self, raw_max: u16, age: f64, x: u16) -> f64 {
        let (m, s) = (self.median(f64::from(raw_max), age), self.sd(age));
        let below = |x: u16| {
            if x == 0 {
                0.0
            } else {
                normal::cdf((f64::from(x) - 0.5 - m) / s)
            }
        };
        let at_or_below = |x: u16| {
            if x == raw_max {
                1.0
            } else {
                normal::cdf((f64::from(x) + 0.5 - m) / s)
            }
        };
        normal::midpoint_z(below(x), at_or_below(x) - below(x))
    }
}

fn linear(at_60: f64, at_143: f64, age: f64) -> f64 {
    at_60 + (at_143 - at_60) * (age - 60.0) / 83.0
}

/// The tables a model yields, as file text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTables {
    /// `subtests.csv`.
    pub subtests_csv: String,
    /// `composites.csv`.
    pub composites_csv: String,
    /// `reliability.csv`.
    pub reliability_csv: String,
    /// `base_rates.csv`.
    pub base_rates_csv: String,
}

#[derive(Deserialize)]
struct ProvenanceWithModel {
    model: DevelopmentalModel,
}

impl DevelopmentalModel {
    /// Reads the `[model]` table of `provenance.toml` and checks it covers `battery`.
    ///
    /// # Errors
    /// [`ModelError`] when the table is missing or malformed, or a subtest has no model.
    pub fn from_provenance(battery: &Battery, provenance_toml: &str) -> Result<Self, ModelError> {
        let p: ProvenanceWithModel =
            toml::from_str(provenance_toml).map_err(|e| ModelError(e.message().to_owned()))?;
        let m = p.model;
        for s in &battery.subtests {
            let sm = m
                .subtest
                .get(&s.id)
                .ok_or_else(|| ModelError(format!("no [model.subtest.{}]", s.id)))?;
            let ok = sm.a50.is_finite()
                && sm.tau.is_finite()
                && sm.sd_at_60.is_finite()
                && sm.sd_at_143.is_finite()
                && sm.tau > 0.0
                && sm.sd_at_60 > 0.0
                && sm.sd_at_143 > 0.0
                && (0.0..1.0).contains(&sm.reliability_at_60)
                && (0.0..1.0).contains(&sm.reliability_at_143);
            if !ok {
                return Err(ModelError(format!(
                    "subtest '{}': tau and SDs must be > 0, reliabilities in (0, 1)",
                    s.id
                )));
            }
        }
        if let Some(extra) = m.subtest.keys().find(|k| battery.subtest_index(k).is_none()) {
            return Err(ModelError(format!(
                "[model.subtest.{extra}] names no subtest of the battery"
            )));
        }
        let span = battery.age_max.0 - battery.age_min.0 + 1;
        if !(1..=span).contains(&m.band_months) || !(1..=span).contains(&m.reliability_band_months) {
            return Err(ModelError(format!(
                "band widths must be between 1 and {span} months (the battery's age range)"
            )));
        }
        // Equicorrelated blocks are a valid correlation matrix when 0 ≤ ρ_b ≤ ρ_w < 1.
        let (w, b) = (m.within_domain_correlation, m.between_domain_correlation);
        if !(0.0 <= b && b <= w && w < 1.0) {
            return Err(ModelError(format!(
                "correlations need 0 ≤ between_domain ({b}) ≤ within_domain ({w}) < 1"
            )));
        }
        Ok(m)
    }

    fn of(&self, battery: &Battery, s: usize) -> &SubtestModel {
        // Checked in `from_provenance`.
        &self.subtest[&battery.subtests[s].id]
    }

    /// Correlation of two subtests (battery positions) under the model.
    pub fn correlation(&self, battery: &Battery, i: usize, j: usize) -> f64 {
        if i == j {
            1.0
        } else if battery.subtests[i].domain == battery.subtests[j].domain {
            self.within_domain_correlation
        } else {
            self.between_domain_correlation
        }
    }

    /// Σᵢⱼ ρᵢⱼ over two sets of subtests: Cov(S_A, S_B) / SD² of the scaled scale.
    fn sum_corr(&self, battery: &Battery, a: &[usize], b: &[usize]) -> f64 {
        a.iter()
            .flat_map(|&i| b.iter().map(move |&j| (i, j)))
            .map(|(i, j)| self.correlation(battery, i, j))
            .sum()
    }

    fn bands(battery: &Battery, width: u16) -> Vec<(u16, u16)> {
        let (lo, hi) = (battery.age_min.0, battery.age_max.0);
        (lo..=hi)
            .step_by(usize::from(width))
            .map(|start| (start, start.saturating_add(width - 1).min(hi)))
            .collect()
    }

    /// Computes all tables for `battery`.
    pub fn tables(&self, battery: &Battery) -> ModelTables {
        ModelTables {
            subtests_csv: super::subtest_norms::write_rows(&self.subtest_rows(battery)),
            composites_csv: super::composite_norms::write_rows(&self.composite_rows(battery)),
            reliability_csv: super::reliability::write_rows(&self.reliability_rows(battery)),
            base_rates_csv: self.base_rates_csv(battery),
        }
    }

    /// `subtests.csv` rows: for every subtest and band, runs of raw scores with one scaled score.
    pub fn subtest_rows(&self, battery: &Battery) -> Vec<SubtestRow> {
        let scale = battery.scaled_scale;
        let mut rows = Vec::new();
        for (s, subtest) in battery.subtests.iter().enumerate() {
            let model = self.of(battery, s);
            for (lo, hi) in Self::bands(battery, self.band_months) {
                let age = f64::from(lo + hi) / 2.0 + 0.5;
                let scaled: Vec<i32> = (0..=subtest.raw_max)
                    .map(|x| scale.score_for_z(model.z(subtest.raw_max, age, x)))
                    .collect();
                rows.extend(super::subtest_norms::band_rows(&subtest.id, lo, hi, &scaled));
            }
        }
        rows
    }

    /// `composites.csv` rows.
    pub fn composite_rows(&self, battery: &Battery) -> Vec<CompositeRow> {
        let (scaled, index) = (battery.scaled_scale, battery.index_scale);
        let mut rows: Vec<CompositeRow> = Vec::new();
        for c in &battery.composites {
            let k = c.subtests.len() as i32;
            let sd_sum = scaled.sd * self.sum_corr(battery, &c.subtests, &c.subtests).sqrt();
            let mean_sum = f64::from(k) * scaled.mean;
            for sum in k * scaled.min..=k * scaled.max {
                let idx = index.score_for_z((f64::from(sum) - mean_sum) / sd_sum);
                let pct = percentile_of(index.z_of(f64::from(idx)));
                match rows.last_mut() {
                    Some(last) if last.composite == c.id && last.index == idx => last.sum_max = sum,
                    _ => rows.push(CompositeRow {
                        composite: c.id.clone(),
                        sum_min: sum,
                        sum_max: sum,
                        index: idx,
                        percentile: pct,
                    }),
                }
            }
        }
        rows
    }

    /// `reliability.csv` rows: subtests (linear in age), then composites (Mosier).
    pub fn reliability_rows(&self, battery: &Battery) -> Vec<ReliabilityRow> {
        let bands = Self::bands(battery, self.reliability_band_months);
        let mut rows = Vec::new();
        let subtest_r = |s: usize, age: f64| two_decimals(self.of(battery, s).reliability(age));
        for (s, subtest) in battery.subtests.iter().enumerate() {
            for &(lo, hi) in &bands {
                rows.push(ReliabilityRow {
                    scale: subtest.id.clone(),
                    age_min_months: lo,
                    age_max_months: hi,
                    reliability: subtest_r(s, mid(lo, hi)),
                });
            }
        }
        for c in &battery.composites {
            let var_sum = self.sum_corr(battery, &c.subtests, &c.subtests);
            for &(lo, hi) in &bands {
                let error: f64 = c.subtests.iter().map(|&s| 1.0 - subtest_r(s, mid(lo, hi))).sum();
                rows.push(ReliabilityRow {
                    scale: c.id.clone(),
                    age_min_months: lo,
                    age_max_months: hi,
                    reliability: two_decimals(1.0 - error / var_sum),
                });
            }
        }
        rows
    }

    /// `base_rates.csv` text: index-composite pairs, then core subtests against the core mean.
    pub fn base_rates_csv(&self, battery: &Battery) -> String {
        let mut out = String::from("comparison,abs_difference,percent\n");
        let index = battery.index_scale;
        let indexes: Vec<usize> = (0..battery.composites.len())
            .filter(|&c| battery.composites[c].kind == CompositeKind::Index)
            .collect();
        let span = index.max - index.min;
        for (n, &a) in indexes.iter().enumerate() {
            for &b in &indexes[n + 1..] {
                let (sa, sb) = (&battery.composites[a].subtests, &battery.composites[b].subtests);
                let rho = self.sum_corr(battery, sa, sb)
                    / (self.sum_corr(battery, sa, sa) * self.sum_corr(battery, sb, sb)).sqrt();
                let sd = index.sd * (2.0 * (1.0 - rho)).sqrt();
                for d in 0..=span {
                    let p = if d == 0 {
                        100.0
                    } else {
                        200.0 * (1.0 - normal::cdf((f64::from(d) - 0.5) / sd))
                    };
                    out.push_str(&format!(
                        "{}:{},{d},{}\n",
                        battery.composites[a].id,
                        battery.composites[b].id,
                        super::decimal(one_decimal(p))
                    ));
                }
            }
        }
        let core: Vec<usize> = (0..battery.subtests.len())
            .filter(|&s| battery.subtests[s].core)
            .collect();
        let k = core.len() as f64;
        let scaled = battery.scaled_scale;
        let all = self.sum_corr(battery, &core, &core);
        for &i in &core {
            let with_i = self.sum_corr(battery, &[i], &core);
            let var = scaled.sd * scaled.sd * (1.0 - 2.0 * with_i / k + all / (k * k));
            let sd = var.sqrt();
            for d in 0..=(scaled.max - scaled.min) {
                let p = if d == 0 {
                    100.0
                } else {
                    200.0 * (1.0 - normal::cdf(f64::from(d) / sd))
                };
                out.push_str(&format!(
                    "{}:{},{d},{}\n",
                    battery.subtests[i].id,
                    super::CORE_MEAN,
                    super::decimal(one_decimal(p))
                ));
            }
        }
        out
    }
}

fn mid(lo: u16, hi: u16) -> f64 {
    f64::from(lo + hi) / 2.0 + 0.5
}

fn two_decimals(x: f64) -> f64 {
    round_half_away(x * 100.0) / 100.0
}

fn one_decimal(x: f64) -> f64 {
    round_half_away(x * 10.0) / 10.0
}

/// 100·Φ(z) to one decimal, kept within [0.1, 99.9].
fn percentile_of(z: f64) -> f64 {
    one_decimal(100.0 * normal::cdf(z)).clamp(0.1, 99.9)
}
