//! Score scales (scaled: mean 10, SD 3, 1–19; index: mean 100, SD 15, 40–160) and the
//! conversion of a normal deviate z to a score on them.

use serde::{Deserialize, Serialize};

/// A normed score scale: mean, standard deviation and the whole-number range it reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Mean of the norm population.
    pub mean: f64,
    /// Standard deviation of the norm population.
    pub sd: f64,
    /// Lowest reported score.
    pub min: i32,
    /// Highest reported score.
    pub max: i32,
}

impl Scale {
    /// The subtest scale of Wechsler-type batteries: mean 10, SD 3, 1–19.
    pub const SCALED: Scale = Scale {
        mean: 10.0,
        sd: 3.0,
        min: 1,
        max: 19,
    };

    /// The composite scale: mean 100, SD 15, 40–160.
    pub const INDEX: Scale = Scale {
        mean: 100.0,
        sd: 15.0,
        min: 40,
        max: 160,
    };

    /// The score for normal deviate `z`: mean + SD·z, rounded half away from zero, then
    /// clipped to the scale's range (norms/SCORING.md, "z ↔ score").
    ///
    /// ```
    /// use qabilet_core::scale::Scale;
    /// assert_eq!(Scale::SCALED.score_for_z(0.5 / 3.0), 11); // 10.5 rounds up
    /// assert_eq!(Scale::INDEX.score_for_z(-9.0), 40);       // clipped
    /// ```
    pub fn score_for_z(&self, z: f64) -> i32 {
        self.clip(round_half_away(self.mean + self.sd * z))
    }

    /// `score` limited to the scale's range.
    pub fn clip(&self, score: f64) -> i32 {
        // Callers pass finite results: scales, reliabilities and models are checked at load.
        score.clamp(f64::from(self.min), f64::from(self.max)) as i32
    }

    /// The z of a score: (score − mean) / SD.
    pub fn z_of(&self, score: f64) -> f64 {
        (score - self.mean) / self.sd
    }

    /// Standard error of measurement at reliability `r`: SD·√(1 − r).
    pub fn sem(&self, reliability: f64) -> f64 {
        self.sd * (1.0 - reliability).sqrt()
    }

    /// The scores a whole number of SDs from the mean, mean + k·SD, that lie within the
    /// scale's range, ascending: where a profile chart of this scale marks its axis (1, 4, 7,
    /// 10, 13, 16, 19 on the scaled scale; 40, 55, …, 160 on the index scale).
    pub fn sd_ticks(&self) -> impl Iterator<Item = f64> + use<> {
        let (mean, sd) = (self.mean, self.sd);
        let k_min = ((f64::from(self.min) - mean) / sd).ceil() as i32;
        let k_max = ((f64::from(self.max) - mean) / sd).floor() as i32;
        (k_min..=k_max).map(move |k| mean + f64::from(k) * sd)
    }
}

/// A percentile rank as written in output: one decimal, round(10·p) half away from zero,
/// kept within 0.1 … 99.9 (the tables' "<0.1" and ">99.9"; norms/SCORING.md).
pub fn percentile_one_decimal(p: f64) -> f64 {
    (round_half_away(p * 10.0) / 10.0).clamp(0.1, 99.9)
}

/// Rounds half away from zero: 10.5 → 11, −10.5 → −11 (Rust's `f64::round`).
pub fn round_half_away(x: f64) -> f64 {
    x.round()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_every_sd_from_the_mean_within_the_range() {
        let ticks: Vec<f64> = Scale::SCALED.sd_ticks().collect();
        assert_eq!(ticks, [1.0, 4.0, 7.0, 10.0, 13.0, 16.0, 19.0]);
        let ticks: Vec<f64> = Scale::INDEX.sd_ticks().collect();
        assert_eq!(ticks, [40.0, 55.0, 70.0, 85.0, 100.0, 115.0, 130.0, 145.0, 160.0]);
        // A range that is not a whole number of SDs from the mean: 50 ± 10 on 25–80.
        let t = Scale {
            mean: 50.0,
            sd: 10.0,
            min: 25,
            max: 80,
        };
        assert_eq!(
            t.sd_ticks().collect::<Vec<_>>(),
            [30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
        );
    }

    #[test]
    fn halves_round_away_from_zero_on_both_scales() {
        assert_eq!(round_half_away(2.5), 3.0);
        assert_eq!(round_half_away(-2.5), -3.0);
        assert_eq!(Scale::INDEX.score_for_z(0.5 / 15.0), 101);
        // The score (99.5) is rounded, not the deviation: 99.5 → 100.
        assert_eq!(Scale::INDEX.score_for_z(-0.5 / 15.0), 100);
        assert_eq!(Scale::SCALED.score_for_z(8.0), 19);
    }
}
