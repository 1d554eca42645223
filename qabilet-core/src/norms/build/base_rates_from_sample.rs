//! The sample's own base rates: how often differences of each size occur among its children,
//! in the shape [`BaseRates::from_tables`](crate::norms::BaseRates::from_tables) takes.
//!
//! Rules (norms/FORMATS.md, `base_rates.csv`):
//! - Every pair of index composites a, b (kind `index`, battery order, id `a:b`): the
//!   children with every member of both scored; D = index_a − index_b, each index looked up
//!   in the built composite tables from the complete sum (no proration or substitution).
//! - Every core subtest i (battery order, id `i:core_mean`): the children with every core
//!   subtest scored; D = scaled_i − mean of their core scaled scores, a fraction. |D| ≥ d is
//!   decided exactly, as |k·scaled_i − Σ core| ≥ k·d in whole numbers (k core subtests).
//! - percent(d) = 100 · Σ{w : |D| ≥ d} / Σw for d = 0 … (index max − index min) for pairs and
//!   0 … (scaled max − scaled min) for subtests, rounded half away from zero to one decimal.
//!   A fractional difference counts at every d up to ⌊|D|⌋, which is where a child's
//!   difference is looked up.

use super::composite_tables::ScaledChild;
use crate::battery::{Battery, CompositeKind};
use crate::norms::{CORE_MEAN, CompositeNorms};
use crate::scale::round_half_away;

/// Percent of the total weight at or above each whole `d`, from weights bucketed by an
/// integer magnitude `t` (|D| ≥ d ⇔ t ≥ step·d): d = 0 … `last`.
fn percents(weight_by_t: &[f64], step: usize, last: usize) -> Vec<f64> {
    // at_least[t] = Σ weights of magnitudes ≥ t.
    let mut at_least = vec![0.0; weight_by_t.len() + 1];
    for t in (0..weight_by_t.len()).rev() {
        at_least[t] = at_least[t + 1] + weight_by_t[t];
    }
    let total = at_least[0];
    (0..=last)
        .map(|d| {
            let w = at_least.get(d * step).copied().unwrap_or(0.0);
            round_half_away(1000.0 * w / total) / 10.0
        })
        .collect()
}

/// The sample's base rates: for every pair of index composites (`a:b`) and every core
/// subtest against the core mean (`<subtest>:core_mean`), the percent of the sample's weight
/// with an absolute difference of at least d, d = 0, 1, 2, … (see the module documentation).
///
/// # Errors
/// The reason, as text for the build's diagnostics, when a comparison has fewer than
/// `min_children` children: the build then writes no `base_rates.csv` (it is optional).
pub fn base_rates(
    battery: &Battery,
    children: &[ScaledChild],
    composites: &CompositeNorms,
    min_children: usize,
) -> Result<Vec<(String, Vec<f64>)>, String> {
    let mut tables = Vec::new();
    let too_few = |id: &str, n: usize, who: &str| {
        format!(
            "base rates: comparison '{id}' has {n} children with {who}, at least {min_children} are needed"
        )
    };
    let index = battery.index_scale;
    let span = (index.max - index.min) as usize;
    let indexes: Vec<usize> = (0..battery.composites.len())
        .filter(|&c| battery.composites[c].kind == CompositeKind::Index)
        .collect();
    for (at, &a) in indexes.iter().enumerate() {
        for &b in &indexes[at + 1..] {
            let (ca, cb) = (&battery.composites[a], &battery.composites[b]);
            let id = format!("{}:{}", ca.id, cb.id);
            let mut by_diff = vec![0.0; span + 1];
            let mut n = 0;
            for child in children {
                if let (Some(sa), Some(sb)) = (child.sum(&ca.subtests), child.sum(&cb.subtests)) {
                    let d = composites.lookup(a, sa).0 - composites.lookup(b, sb).0;
                    by_diff[d.unsigned_abs() as usize] += child.weight;
                    n += 1;
                }
            }
            if n < min_children {
                return Err(too_few(&id, n, "both indexes computable"));
            }
            tables.push((id, percents(&by_diff, 1, span)));
        }
    }
    let core: Vec<usize> = (0..battery.subtests.len())
        .filter(|&s| battery.subtests[s].core)
        .collect();
    let k = core.len();
    let scaled = battery.scaled_scale;
    let width = (scaled.max - scaled.min) as usize;
    let complete: Vec<(&ScaledChild, Vec<i32>)> = children
        .iter()
        .filter_map(|c| {
            let s: Option<Vec<i32>> = core.iter().map(|&s| c.score(s)).collect();
            s.map(|s| (c, s))
        })
        .collect();
    for (i, &s) in core.iter().enumerate() {
        let id = format!("{}:{CORE_MEAN}", battery.subtests[s].id);
        if complete.len() < min_children {
            return Err(too_few(&id, complete.len(), "every core subtest scored"));
        }
        // |k·x_i − Σx| is at most (k − 1)·width.
        let mut by_t = vec![0.0; k * width + 1];
        for (child, scores) in &complete {
            let total: i32 = scores.iter().sum();
            let t = (k as i32 * scores[i] - total).unsigned_abs() as usize;
            by_t[t] += child.weight;
        }
        tables.push((id, percents(&by_t, k, width)));
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::super::composite_tables::composite_rows;
    use super::super::composite_tables::tests::{battery, children};
    use super::*;
    use crate::norms::{BaseRates, Comparison};

    fn norms(b: &Battery, kids: &[ScaledChild]) -> CompositeNorms {
        let (rows, _) = composite_rows(b, kids, 10).unwrap();
        CompositeNorms::from_rows(b, rows.into_iter().enumerate().collect()).unwrap()
    }

    #[test]
    fn tables_pass_validation_and_have_the_expected_shape() {
        let b = battery();
        let kids = children(&b, 2000, 9);
        let cn = norms(&b, &kids);
        let tables = base_rates(&b, &kids, &cn, 100).expect("enough children");
        // 6 index composites: 15 pairs; 12 core subtests.
        assert_eq!(tables.len(), 15 + 12);
        assert_eq!(tables[0].0, "vci:fri");
        assert_eq!(tables[15].0, "sim:core_mean");
        assert!(tables.iter().all(|(_, t)| t[0] == 100.0));
        assert!(tables[..15].iter().all(|(_, t)| t.len() == 121));
        assert!(tables[15..].iter().all(|(_, t)| t.len() == 19));
        let rates = BaseRates::from_tables(&b, tables.clone()).expect("valid base_rates.csv");
        // Look one value up through the validated table.
        let (vci, fri) = (
            b.composite_index("vci").unwrap(),
            b.composite_index("fri").unwrap(),
        );
        let r = rates.rate(Comparison::Composites(vci, fri), 15.7).unwrap();
        assert_eq!(r.percent, tables[0].1[15]);
        assert!(r.percent > 5.0 && r.percent < 60.0, "{r:?}");
    }

    #[test]
    fn counts_by_hand() {
        // Four children, core subtests all scored; sim's difference from the core mean of the
        // 12 core subtests. Child A: sim 13, others 10 → mean 10.25, D = 2.75. Child B: all
        // 10, D = 0. Child C: sim 7, others 10 → D = −2.75. Child D (weight 2): sim 10,
        // voc 16, others 10 → mean 10.5, D = −0.5.
        let b = battery();
        let (sim, voc) = (b.subtest_index("sim").unwrap(), b.subtest_index("voc").unwrap());
        let child = |id: &str, w: f64, set: &[(usize, i32)]| {
            let mut scaled = vec![Some(10); b.subtests.len()];
            for &(s, x) in set {
                scaled[s] = Some(x);
            }
            ScaledChild {
                id: id.to_owned(),
                age_months: 70,
                weight: w,
                scaled,
            }
        };
        let kids = vec![
            child("a", 1.0, &[(sim, 13)]),
            child("b", 1.0, &[]),
            child("c", 1.0, &[(sim, 7)]),
            child("d", 2.0, &[(voc, 16)]),
        ];
        let mut only_core = b.clone();
        only_core.composites.clear();
        let cn = CompositeNorms::from_rows(&only_core, Vec::new()).unwrap();
        let tables = base_rates(&only_core, &kids, &cn, 4).unwrap();
        let sim_rates = &tables[0].1;
        assert_eq!(tables[0].0, "sim:core_mean");
        // |D|: 2.75, 0, 2.75, 0.5 (weight 2) of total weight 5.
        assert_eq!(&sim_rates[..4], &[100.0, 40.0, 40.0, 0.0]);
        // voc: D = −0.25, −0, −0.25, 5.5 (weight 2): ≥ 1 … 5 only the last.
        let voc_rates = &tables[1].1;
        assert_eq!(&voc_rates[..7], &[100.0, 40.0, 40.0, 40.0, 40.0, 40.0, 0.0]);
        assert_eq!(
            base_rates(&only_core, &kids, &cn, 5).unwrap_err(),
            "base rates: comparison 'sim:core_mean' has 4 children with every core subtest scored, at least 5 are needed"
        );
    }

    #[test]
    fn pairs_use_only_children_with_both_indexes() {
        let b = battery();
        let mut kids = children(&b, 600, 4);
        let mr = b.subtest_index("mr").unwrap();
        for k in kids.iter_mut().take(550) {
            k.scaled[mr] = None;
        }
        let cn = norms(&b, &kids[550..]);
        let err = base_rates(&b, &kids, &cn, 60).unwrap_err();
        assert!(
            err.contains("'vci:fri' has 50 children with both indexes computable"),
            "{err}"
        );
        // The core comparisons, too, count only the 50 children with mr (a core subtest).
        let ok = base_rates(&b, &kids, &cn, 50).unwrap();
        assert_eq!(ok.len(), 15 + 12);
        // vci:vsi uses all 600 children: every percent is a multiple of 100/600 before rounding.
        let vci_vsi = &ok.iter().find(|(id, _)| id == "vci:vsi").unwrap().1;
        assert!(vci_vsi[1] < 100.0 && vci_vsi[1] > 50.0);
    }
}
