//! From the repaired normal-score grid of each subtest to the files: `subtests.csv` (scaled
//! score of every raw score per age band, evaluated at the band's mid-age
//! (min + max)/2 + ½ months as the model-based tables are) and `continuous.csv` (the unrounded
//! z of every raw score at every whole month, taken at mid-month m + ½).

use std::fmt::Write as _;

use super::normal_score_grid::NormalScoreGrid;
use crate::battery::Battery;
use crate::norms::SubtestRow;
use crate::stats::age_bands;

/// `subtests.csv` rows of subtest `s` from its grid, bands of `band_months`.
pub fn subtest_rows(
    battery: &Battery,
    s: usize,
    grid: &NormalScoreGrid,
    band_months: u16,
) -> Vec<SubtestRow> {
    let subtest = &battery.subtests[s];
    let scale = battery.scaled_scale;
    let mut rows = Vec::new();
    for (lo, hi) in age_bands(battery, band_months) {
        let mid = f64::from(lo + hi) / 2.0 + 0.5;
        let a = grid
            .row_of(mid)
            .unwrap_or_else(|| unreachable!("band mid-ages lie on the half-month grid"));
        let scaled: Vec<i32> = (0..=subtest.raw_max)
            .map(|x| scale.score_for_z(grid.z(a, x)))
            .collect();
        rows.extend(crate::norms::subtest_norms::band_rows(
            &subtest.id,
            lo,
            hi,
            &scaled,
        ));
    }
    rows
}

/// Header of `continuous.csv`.
pub const CONTINUOUS_HEADER: &str = "subtest,age_months,raw,z\n";

/// Appends subtest `id`'s rows of `continuous.csv`: every whole month of the battery's range
/// at mid-month, every raw score, z to six decimals (each tail computed from its own side, so
/// large |z| stays exact; beyond the data it is the fitted model's extrapolation).
pub fn append_continuous(out: &mut String, battery: &Battery, id: &str, grid: &NormalScoreGrid) {
    for m in battery.age_min.0..=battery.age_max.0 {
        let a = grid
            .row_of(f64::from(m) + 0.5)
            .unwrap_or_else(|| unreachable!("mid-months lie on the grid"));
        for x in 0..=grid.raw_max {
            let _ = writeln!(out, "{id},{m},{x},{:.6}", grid.z(a, x));
        }
    }
}

/// Checks the written grid: z never falls as the raw score rises at any grid age, and never
/// rises with age at any raw score. Returns the first violation found.
pub fn monotonicity_violation(grid: &NormalScoreGrid) -> Option<String> {
    let ages = grid.ages();
    for a in 0..ages {
        for x in 1..=grid.raw_max {
            if grid.z(a, x) < grid.z(a, x - 1) - TOLERANCE {
                return Some(format!(
                    "at age {} months z falls from raw {} to raw {x}",
                    grid.age(a),
                    x - 1
                ));
            }
        }
    }
    for x in 0..=grid.raw_max {
        for a in 1..ages {
            if grid.z(a, x) > grid.z(a - 1, x) + TOLERANCE {
                return Some(format!(
                    "at raw {x} z rises from age {} to {} months",
                    grid.age(a - 1),
                    grid.age(a)
                ));
            }
        }
    }
    None
}

/// Rounding noise allowed in the check (the midpoint z switches between tail formulas).
const TOLERANCE: f64 = 1e-12;
