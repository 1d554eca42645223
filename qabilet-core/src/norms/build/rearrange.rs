//! Monotone repair by rearrangement (Chernozhukov, Fernández-Val & Galichon 2009, "Improving
//! point and interval estimators of monotone functions by rearrangement"): sorting the values
//! of a fitted function along an argument makes it monotone in that argument and never
//! increases its distance (in any Lᵖ norm) to a monotone truth.
//!
//! The grid holds probits η[a][r] = Φ⁻¹(P(X ≤ r | age a)). First each age's thresholds are
//! sorted ascending in r (a distribution function cannot fall as r rises); then each
//! threshold's values are sorted descending in age (an older child is never less likely to
//! exceed a given raw score). The second sort keeps the first: if u ≤ v elementwise, the
//! sorted u is ≤ the sorted v elementwise, so η stays ascending in r at every age.

use serde::Serialize;

/// How much the repair moved the fitted grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Repair {
    /// Cells (age, threshold) whose probit changed when sorting in raw score.
    pub cells_moved_in_raw: usize,
    /// Largest change of a probit when sorting in raw score.
    pub max_shift_in_raw: f64,
    /// Cells whose probit changed when sorting in age.
    pub cells_moved_in_age: usize,
    /// Largest change of a probit when sorting in age.
    pub max_shift_in_age: f64,
}

/// Rearranges `eta` (row-major ages × thresholds) in place; ages ascend with the row index.
pub fn rearrange(eta: &mut [f64], thresholds: usize) -> Repair {
    let mut repair = Repair::default();
    if thresholds == 0 {
        return repair;
    }
    let ages = eta.len() / thresholds;
    for row in eta.chunks_mut(thresholds) {
        let before = row.to_vec();
        row.sort_by(f64::total_cmp);
        tally(
            &before,
            row,
            &mut repair.cells_moved_in_raw,
            &mut repair.max_shift_in_raw,
        );
    }
    let mut column = vec![0.0; ages];
    for r in 0..thresholds {
        for (a, v) in column.iter_mut().enumerate() {
            *v = eta[a * thresholds + r];
        }
        let before = column.clone();
        column.sort_by(|x, y| y.total_cmp(x));
        tally(
            &before,
            &column,
            &mut repair.cells_moved_in_age,
            &mut repair.max_shift_in_age,
        );
        for (a, v) in column.iter().enumerate() {
            eta[a * thresholds + r] = *v;
        }
    }
    repair
}

fn tally(before: &[f64], after: &[f64], moved: &mut usize, max_shift: &mut f64) {
    for (b, a) in before.iter().zip(after) {
        let d = (a - b).abs();
        if d > 0.0 {
            *moved += 1;
            *max_shift = max_shift.max(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_is_monotone_in_both_arguments_and_keeps_the_values_of_each_row() {
        // 3 ages × 4 thresholds, crossing in both directions.
        let mut eta = vec![0.0, -1.0, 1.0, 2.0, 0.5, 0.2, 1.5, 1.0, -0.5, 0.1, 0.3, 3.0];
        let repair = rearrange(&mut eta, 4);
        for a in 0..3 {
            for r in 1..4 {
                assert!(eta[a * 4 + r] >= eta[a * 4 + r - 1]);
            }
        }
        for r in 0..4 {
            for a in 1..3 {
                assert!(eta[a * 4 + r] <= eta[(a - 1) * 4 + r]);
            }
        }
        assert!(repair.cells_moved_in_raw > 0 && repair.cells_moved_in_age > 0);
    }

    #[test]
    fn a_monotone_grid_is_left_alone() {
        let mut eta = vec![-1.0, 0.0, 1.0, -1.5, -0.5, 0.5];
        let before = eta.clone();
        assert_eq!(rearrange(&mut eta, 3), Repair::default());
        assert_eq!(eta, before);
    }
}
