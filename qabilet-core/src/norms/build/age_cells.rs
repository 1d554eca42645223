//! A subtest's sample reduced to weighted counts of each raw score in narrow age bins: the
//! sufficient data of every fit in the builder. With half-month bins the fits cost the same
//! for 1,000 or 100,000 children; placing a child at its bin's centre moves its age by at
//! most a week, far below what any norm curve resolves.

use super::age_curve::AgeScale;

/// Width of an age bin, months.
pub const BIN_MONTHS: f64 = 0.5;

/// One child's score on one subtest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Exact age in months, 12·Y + M + D/30.4375.
    pub age_months: f64,
    /// Raw score.
    pub raw: u16,
    /// Sampling weight.
    pub weight: f64,
    /// Cross-validation fold.
    pub fold: u8,
}

/// Weighted counts per (age bin, raw score).
#[derive(Debug, Clone, PartialEq)]
pub struct AgeCells {
    /// Highest raw score.
    pub raw_max: u16,
    /// Scaled age of each bin's centre.
    pub t: Vec<f64>,
    /// Row-major bins × (raw_max + 1) weighted counts.
    pub counts: Vec<f64>,
    /// Weighted count per bin.
    pub totals: Vec<f64>,
    /// Σw² per (bin, raw) cell, for standard errors of weighted means.
    pub squares: Vec<f64>,
}

impl AgeCells {
    /// Bins the observations for which `keep` holds over `[age_min, age_max)` months.
    pub fn new(
        observations: &[Observation],
        raw_max: u16,
        age_min: f64,
        age_max: f64,
        scale: &AgeScale,
        keep: impl Fn(&Observation) -> bool,
    ) -> Self {
        let bins = ((age_max - age_min) / BIN_MONTHS).round() as usize;
        let width = usize::from(raw_max) + 1;
        let mut counts = vec![0.0; bins * width];
        let mut totals = vec![0.0; bins];
        let mut squares = vec![0.0; bins * width];
        for o in observations.iter().filter(|o| keep(o)) {
            let b = (((o.age_months - age_min) / BIN_MONTHS).floor().max(0.0) as usize).min(bins - 1);
            counts[b * width + usize::from(o.raw)] += o.weight;
            squares[b * width + usize::from(o.raw)] += o.weight * o.weight;
            totals[b] += o.weight;
        }
        let t = (0..bins)
            .map(|b| scale.t(age_min + (b as f64 + 0.5) * BIN_MONTHS))
            .collect();
        AgeCells {
            raw_max,
            t,
            counts,
            totals,
            squares,
        }
    }

    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.t.len()
    }

    /// The counts of bin `b`, raw 0 … raw_max.
    pub fn row(&self, b: usize) -> &[f64] {
        let w = usize::from(self.raw_max) + 1;
        &self.counts[b * w..(b + 1) * w]
    }

    /// Total weight.
    pub fn total(&self) -> f64 {
        self.totals.iter().sum()
    }
}
