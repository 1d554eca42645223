//! A child's normed profile: scaled scores, composites (with substitution and proration
//! flagged), confidence intervals, classifications, strengths and weaknesses against the
//! child's own mean, and pairwise discrepancies of index scores. Every profile names the
//! norm set it was computed with.

mod composite;
mod discrepancy;
mod scored;
mod strengths;

use serde::{Deserialize, Serialize};

pub use composite::{Basis, CompositeScore, CompositeValue, Substituted, prorate};
pub use discrepancy::{Discrepancy, se_difference};
pub use scored::{AdaptiveScore, RawScores, RecordError, ScoredProfile};
pub use strengths::{Direction, StrengthsWeaknesses, SubtestComparison, davis_se};

use crate::age::ChronologicalAge;
use crate::battery::CompositeKind;
use crate::ci::{CiMethod, ConfidenceInterval, ConfidenceLevel};
use crate::normal;
use crate::norms::{NormSet, NormSetId};
use crate::request::ScoreRequest;

/// Choices a user may make when scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScoringOptions {
    /// Confidence level of intervals (default 95 %).
    pub ci_level: ConfidenceLevel,
    /// Interval method (default true-score).
    pub ci_method: CiMethod,
}

/// Significance levels of profile comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Significance {
    /// Significant at α = .05.
    #[serde(rename = "0.05")]
    P05,
    /// Significant at α = .15 but not .05.
    #[serde(rename = "0.15")]
    P15,
}

impl Significance {
    /// The α it stands for.
    pub fn alpha(self) -> f64 {
        match self {
            Significance::P05 => 0.05,
            Significance::P15 => 0.15,
        }
    }
}

/// One administered subtest's scores (`S`, the type of ids: `&str` borrowed from the norm
/// set in a [`Profile`], `String` in a [`ScoredProfile`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubtestScore<S = String> {
    /// Subtest id.
    pub id: S,
    /// Raw score.
    pub raw: u16,
    /// Scaled score.
    pub scaled: i32,
    /// Percentile rank of the scaled score, 100·Φ((scaled − 10)/3), to one decimal.
    pub percentile: f64,
    /// Confidence interval on the scaled scale.
    pub ci: ConfidenceInterval,
    /// Reliability used, at the child's age.
    pub reliability: f64,
}

impl From<&SubtestScore<&str>> for SubtestScore {
    fn from(s: &SubtestScore<&str>) -> Self {
        SubtestScore {
            id: s.id.to_owned(),
            raw: s.raw,
            scaled: s.scaled,
            percentile: s.percentile,
            ci: s.ci,
            reliability: s.reliability,
        }
    }
}

/// A scored profile, borrowing ids from the norm set it came from: what the scorer fills,
/// reusing its buffers. [`ScoredProfile`] is its owned form, which is also its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile<'n> {
    /// Battery, version and norm-set hash the scores were computed with.
    pub norm_set: &'n NormSetId,
    /// Calendar-exact age on the test date.
    pub age: ChronologicalAge,
    /// Options the scores were computed with.
    pub options: ScoringOptions,
    /// Administered subtests, in battery order.
    pub subtests: Vec<SubtestScore<&'n str>>,
    /// Every composite, in battery order, computed or with the reason it is not.
    pub composites: Vec<CompositeScore<&'n str>>,
    /// Strengths and weaknesses, when enough core subtests were administered.
    pub strengths_weaknesses: Option<StrengthsWeaknesses<&'n str>>,
    /// Pairwise discrepancies of the computed index composites.
    pub discrepancies: Vec<Discrepancy<&'n str>>,
}

/// Critical values that depend only on the options, computed once per batch.
#[derive(Debug, Clone)]
pub struct Scorer<'n> {
    norms: &'n NormSet,
    options: ScoringOptions,
    ci_z: f64,
    /// Φ⁻¹(1 − α/2) for α = .05, .15.
    pair_z: [f64; 2],
    /// Per number of compared subtests k (index k): z for α = .05, .15 under the battery's
    /// multiple-comparison rule.
    sw_z: Vec<[f64; 2]>,
    /// Core subtests and index-composite pairs of the battery: the sizes of a profile's
    /// strengths/weaknesses and discrepancy lists at most.
    core_subtests: usize,
    index_pairs: usize,
}

const ALPHAS: [f64; 2] = [0.05, 0.15];

impl<'n> Scorer<'n> {
    /// Prepares to score many records with the same options.
    pub fn new(norms: &'n NormSet, options: ScoringOptions) -> Self {
        use crate::battery::MultipleComparisons;
        let n = norms.battery.subtests.len();
        let sw_z = (0..=n)
            .map(|k| {
                ALPHAS.map(|alpha| match norms.battery.profile.multiple_comparisons {
                    MultipleComparisons::None => normal::two_sided_z(alpha),
                    MultipleComparisons::Bonferroni => normal::two_sided_z(alpha / k.max(1) as f64),
                })
            })
            .collect();
        Scorer {
            norms,
            options,
            ci_z: options.ci_level.z(),
            pair_z: ALPHAS.map(normal::two_sided_z),
            sw_z,
            core_subtests: norms.battery.subtests.iter().filter(|s| s.core).count(),
            index_pairs: {
                let indexes = norms
                    .battery
                    .composites
                    .iter()
                    .filter(|c| c.kind == CompositeKind::Index)
                    .count();
                indexes * indexes.saturating_sub(1) / 2
            },
        }
    }

    /// The norm set this scorer uses.
    pub fn norms(&self) -> &'n NormSet {
        self.norms
    }

    /// Scores one checked record.
    pub fn score(&self, request: &ScoreRequest) -> Profile<'n> {
        // Sized once, so that filling the profile never reallocates.
        let battery = &self.norms.battery;
        let mut profile = Profile {
            norm_set: &self.norms.id,
            age: request.age,
            options: self.options,
            subtests: Vec::with_capacity(battery.subtests.len()),
            composites: Vec::with_capacity(battery.composites.len()),
            strengths_weaknesses: Some(StrengthsWeaknesses {
                mean: 0.0,
                k: 0,
                subtests: Vec::with_capacity(self.core_subtests),
            }),
            discrepancies: Vec::with_capacity(self.index_pairs),
        };
        self.score_into(request, &mut profile);
        profile
    }

    /// As [`Scorer::score`], writing into `profile` and reusing its buffers, so that batch
    /// scoring allocates nothing per record once the buffers have grown.
    pub fn score_into(&self, request: &ScoreRequest, profile: &mut Profile<'n>) {
        let norms = self.norms;
        let battery = &norms.battery;
        let age = request.age_months().0;
        let scale = &battery.scaled_scale;
        // Scaled scores by battery position; on the stack for batteries of up to 32 subtests.
        let mut stack = [None; 32];
        let mut heap = Vec::new();
        let scaled: &mut [Option<i32>] = if battery.subtests.len() <= stack.len() {
            &mut stack[..battery.subtests.len()]
        } else {
            heap.resize(battery.subtests.len(), None);
            &mut heap
        };
        profile.norm_set = &norms.id;
        profile.age = request.age;
        profile.options = self.options;
        profile.subtests.clear();
        for (s, raw) in request.raw.iter().enumerate() {
            let Some(raw) = *raw else { continue };
            let value = norms.subtests.scaled(s, age, raw);
            scaled[s] = Some(value);
            let precision = norms.reliability.subtest(s, age);
            profile.subtests.push(SubtestScore {
                id: battery.subtests[s].id.as_str(),
                raw,
                scaled: value,
                percentile: norms.scaled_percentiles[(value - scale.min) as usize],
                ci: ConfidenceInterval::with_precision(
                    scale,
                    value,
                    precision,
                    self.ci_z,
                    self.options.ci_method,
                ),
                reliability: precision.r,
            });
        }
        profile.composites.clear();
        profile.composites.extend(
            (0..battery.composites.len())
                .map(|c| composite::score(norms, c, age, scaled, self.ci_z, self.options.ci_method)),
        );
        let buffer = profile
            .strengths_weaknesses
            .take()
            .map(|s| s.subtests)
            .unwrap_or_default();
        profile.strengths_weaknesses = strengths::analyse(norms, age, scaled, &self.sw_z, buffer);
        profile.discrepancies.clear();
        discrepancy::analyse(
            norms,
            age,
            &profile.composites,
            self.pair_z,
            &mut profile.discrepancies,
        );
    }
}

impl NormSet {
    /// Scores one checked record (see [`Scorer`] to score many with the same options).
    pub fn score(&self, request: &ScoreRequest, options: &ScoringOptions) -> Profile<'_> {
        Scorer::new(self, *options).score(request)
    }
}

/// Critical values of a difference at the two significance levels of profile analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CriticalValues {
    /// At α = .05.
    #[serde(rename = "0.05")]
    pub p05: f64,
    /// At α = .15.
    #[serde(rename = "0.15")]
    pub p15: f64,
}

impl CriticalValues {
    /// Both critical values for a difference with standard error `se`, given z at .05, .15.
    fn new(z: [f64; 2], se: f64) -> Self {
        CriticalValues {
            p05: z[0] * se,
            p15: z[1] * se,
        }
    }
}

fn significance(difference: f64, critical: CriticalValues) -> Option<Significance> {
    if difference.abs() >= critical.p05 {
        Some(Significance::P05)
    } else if difference.abs() >= critical.p15 {
        Some(Significance::P15)
    } else {
        None
    }
}
