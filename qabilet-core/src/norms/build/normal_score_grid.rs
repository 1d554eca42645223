//! The fitted norms of one subtest before any rounding: P(X ≤ r | age) as probits on a
//! half-month age grid, monotone in raw score and in age, and the midpoint normal score
//! z = Φ⁻¹(P(X < x) + ½·P(X = x)) of every raw score at every grid age (norms/SCORING.md, "z ↔ score").

use crate::normal;

/// Spacing of the grid, months: whole months' mid-points (m + ½) and the mid-ages of age
/// bands of any whole width ((lo + hi)/2 + ½ = lo + width/2) all lie on it.
pub const GRID_MONTHS: f64 = 0.5;

/// Probits η[a][r] = Φ⁻¹(P(X ≤ r | age a)) for r = 0 … raw_max − 1.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalScoreGrid {
    /// Youngest grid age, months.
    pub age_min: f64,
    /// Highest raw score.
    pub raw_max: u16,
    /// Row-major ages × thresholds.
    pub eta: Vec<f64>,
}

impl NormalScoreGrid {
    /// Number of grid ages.
    pub fn ages(&self) -> usize {
        if self.raw_max == 0 {
            0
        } else {
            self.eta.len() / usize::from(self.raw_max)
        }
    }

    /// Grid age of row `a`, months.
    pub fn age(&self, a: usize) -> f64 {
        self.age_min + a as f64 * GRID_MONTHS
    }

    /// The row of an age on the grid (`None` off the grid).
    pub fn row_of(&self, age: f64) -> Option<usize> {
        let a = (age - self.age_min) / GRID_MONTHS;
        let i = a.round();
        ((a - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < self.ages()).then_some(i as usize)
    }

    /// Midpoint normal score of raw `x` at grid row `a`. With η_{−1} = −∞ and η_max = +∞:
    /// Φ⁻¹((Φ(η_{x−1}) + Φ(η_x))/2), computed from the upper tail where it is above ½ so that
    /// neither tail loses precision.
    pub fn z(&self, a: usize, x: u16) -> f64 {
        let t = usize::from(self.raw_max);
        let row = &self.eta[a * t..(a + 1) * t];
        let lo = if x == 0 {
            f64::NEG_INFINITY
        } else {
            row[usize::from(x) - 1]
        };
        let hi = if x == self.raw_max {
            f64::INFINITY
        } else {
            row[usize::from(x)]
        };
        if lo + hi > 0.0 || (lo.is_finite() && hi == f64::INFINITY && lo > 0.0) {
            let upper = (normal::cdf(-lo) + normal::cdf(-hi)) / 2.0;
            -normal::quantile(upper.max(f64::MIN_POSITIVE))
        } else {
            let lower = (normal::cdf(lo) + normal::cdf(hi)) / 2.0;
            normal::quantile(lower.max(f64::MIN_POSITIVE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midpoint_z_of_a_single_threshold_at_zero() {
        // P(X ≤ 0) = ½ with raw_max 1: z(0) = Φ⁻¹(¼), z(1) = Φ⁻¹(¾).
        let g = NormalScoreGrid {
            age_min: 60.0,
            raw_max: 1,
            eta: vec![0.0],
        };
        assert!((g.z(0, 0) - normal::quantile(0.25)).abs() < 1e-15);
        assert!((g.z(0, 1) - normal::quantile(0.75)).abs() < 1e-12);
    }

    #[test]
    fn the_upper_tail_keeps_its_precision() {
        // Φ(η) for η = 9 and 10 rounds to 1; the midpoint of the last score must still be
        // Φ⁻¹(1 − Φ(−10)/2), about 10.1, not infinity.
        let g = NormalScoreGrid {
            age_min: 60.0,
            raw_max: 2,
            eta: vec![9.0, 10.0],
        };
        let expected = -normal::quantile(normal::cdf(-10.0) / 2.0);
        assert!((g.z(0, 2) - expected).abs() < 1e-9, "{}", g.z(0, 2));
        assert!(g.z(0, 1) < g.z(0, 2));
    }
}
