//! Composite tables from the sample: sum of scaled scores → index score and percentile rank,
//! from a smoothed distribution of the sums of the children who took every member subtest.
//!
//! Rule, per composite (battery order):
//! - The children with a scaled score on every member subtest (no proration or substitution
//!   in norm building), their sums Sᵢ and sampling weights wᵢ; all ages together, since
//!   composite norms do not depend on age (norms/FORMATS.md).
//! - Weighted mean m = Σwᵢ Sᵢ / Σwᵢ, variance σ² = Σwᵢ(Sᵢ − m)² / Σwᵢ (the variance of the
//!   weighted sample distribution), effective size n_eff = (Σwᵢ)² / Σwᵢ².
//! - Bandwidth by Silverman's rule of thumb (Silverman 1986, eq. 3.31):
//!   h = 0.9 · min(σ, IQR/1.34) · n_eff^(−1/5), with σ alone when the IQR is 0. The quartiles
//!   are those of the weighted sample distribution, Q(p) = the smallest sum s whose
//!   cumulative weight Σ_{Sᵢ ≤ s} wᵢ reaches p·Σwᵢ (numpy's `inverted_cdf`).
//! - The variance-corrected Gaussian kernel estimate of Jones (1991), "On correcting for
//!   variance inflation in kernel density estimation", Computational Statistics & Data
//!   Analysis 11, 3–15 (the distribution of Silverman's shrunk smoothed bootstrap, 1986
//!   §6.4.1): the ordinary kernel estimate, whose variance is σ² + h², shrunk about m by
//!   a = √(1 + h²/σ²), so that its mean is m and its variance exactly σ². Shrinking moves
//!   the points to s̃ᵢ = m + (Sᵢ − m)/a and narrows the kernel to h/a:
//!   F̂(s) = Σwᵢ Φ((s − s̃ᵢ)/(h/a)) / Σwᵢ.
//! - Evaluating F̂ at the whole sum s itself (not s + ½) is the midpoint convention for
//!   whole-number sums: a point mass at s contributes Φ(0) = ½.
//! - z(s) = Φ⁻¹(F̂(s)), with F̂ kept within [1e-15, 1 − 1e-15] (the upper tail is computed
//!   as its own sum, so that z is accurate at both ends); index = the battery's index scale
//!   at z (mean + SD·z, rounded half away from zero, clipped); percentile = 100·Φ of the
//!   index's z to one decimal, kept within [0.1, 99.9] — as the model-based tables write
//!   them ([`crate::norms::model`]). Runs of sums with the same index are one row.
//!
//! The sums are whole numbers in k·min … k·max, so the weights are first accumulated per
//! sum: the kernel sums then run over at most k·(max − min) + 1 distinct sums, whatever the
//! size of the sample.

use serde::Serialize;

use super::BuildError;
use crate::battery::Battery;
use crate::normal;
use crate::norms::CompositeRow;
use crate::scale::{Scale, percentile_one_decimal};

/// One child of the sample with the scaled scores the built subtest tables give it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledChild {
    /// The child's id in the sample.
    pub id: String,
    /// Age in whole months, 12·Y + M.
    pub age_months: u16,
    /// Sampling weight, positive and finite (1 in an unweighted sample).
    pub weight: f64,
    /// Scaled score per subtest in battery order; `None` = not administered. A vector shorter
    /// than the battery's subtest list counts the missing entries as not administered.
    pub scaled: Vec<Option<i32>>,
}

impl ScaledChild {
    /// The scaled score on subtest `s` (battery position), if any.
    pub(super) fn score(&self, s: usize) -> Option<i32> {
        self.scaled.get(s).copied().flatten()
    }

    /// The sum of the scaled scores on `members`, when every one is scored.
    pub(super) fn sum(&self, members: &[usize]) -> Option<i32> {
        members.iter().map(|&s| self.score(s)).sum()
    }
}

/// The fit of one composite's sum distribution, for the diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompositeFit {
    /// Composite id.
    pub composite: String,
    /// Children with a scaled score on every member subtest.
    pub n: usize,
    /// Weighted mean of their sums.
    pub mean: f64,
    /// Weighted SD of their sums (divisor Σw: the SD of the weighted sample distribution).
    pub sd: f64,
    /// Silverman's bandwidth h, before the variance correction narrows the kernel to
    /// h/√(1 + h²/sd²).
    pub bandwidth: f64,
    /// Weighted skewness of the sums, Σw(S − m)³ / Σw / sd³.
    pub skewness: f64,
}

/// Weights of the sums of one composite, accumulated per whole sum.
struct SumWeights {
    /// The lowest possible sum (k·min).
    lo: i32,
    /// Total weight of the children with each sum, from `lo`.
    by_sum: Vec<f64>,
    /// Σw.
    total: f64,
    /// Σw².
    total_sq: f64,
    /// Children counted.
    n: usize,
}

/// The variance-corrected kernel estimate of one composite's sum distribution.
struct KernelCdf {
    /// Shrunk sums s̃ with their weights (only sums that occur).
    points: Vec<(f64, f64)>,
    /// The narrowed kernel SD, h/a.
    width: f64,
    total: f64,
}

impl KernelCdf {
    /// Lower and upper tail at `s`: Σw Φ((s − s̃)/width) and Σw Φ((s̃ − s)/width), over Σw.
    fn tails(&self, s: f64) -> (f64, f64) {
        let (mut lower, mut upper) = (0.0, 0.0);
        for &(p, w) in &self.points {
            let u = (s - p) / self.width;
            lower += w * normal::cdf(u);
            upper += w * normal::cdf(-u);
        }
        (lower / self.total, upper / self.total)
    }

    /// z(s) = Φ⁻¹(F̂(s)), from whichever tail is the smaller (the accurate one).
    fn z(&self, s: f64) -> f64 {
        const EPS: f64 = 1e-15;
        let (lower, upper) = self.tails(s);
        if lower <= upper {
            normal::quantile(lower.clamp(EPS, 1.0 - EPS))
        } else {
            -normal::quantile(upper.clamp(EPS, 1.0 - EPS))
        }
    }
}

impl SumWeights {
    fn fit(&self, id: &str) -> Result<(CompositeFit, KernelCdf), BuildError> {
        let sum_at = |j: usize| f64::from(self.lo) + j as f64;
        let occurring = || {
            self.by_sum
                .iter()
                .enumerate()
                .filter(|(_, w)| **w > 0.0)
                .map(|(j, &w)| (sum_at(j), w))
        };
        let mean = occurring().map(|(s, w)| w * s).sum::<f64>() / self.total;
        let moment = |p: i32| occurring().map(|(s, w)| w * (s - mean).powi(p)).sum::<f64>() / self.total;
        let var = moment(2);
        if var.is_nan() || var <= 0.0 {
            return Err(BuildError::Composite {
                composite: id.to_owned(),
                reason: format!(
                    "all {} children with every member subtest have the same sum of scaled scores, \
                     so its distribution cannot be smoothed",
                    self.n
                ),
            });
        }
        let sd = var.sqrt();
        let skewness = moment(3) / (var * sd);
        let iqr = self.quantile(0.75) - self.quantile(0.25);
        let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
        let n_eff = self.total * self.total / self.total_sq;
        let h = 0.9 * spread * n_eff.powf(-0.2);
        let a = (1.0 + h * h / var).sqrt();
        let kernel = KernelCdf {
            points: occurring().map(|(s, w)| (mean + (s - mean) / a, w)).collect(),
            width: h / a,
            total: self.total,
        };
        let fit = CompositeFit {
            composite: id.to_owned(),
            n: self.n,
            mean,
            sd,
            bandwidth: h,
            skewness,
        };
        Ok((fit, kernel))
    }

    /// The smallest sum whose cumulative weight reaches p·Σw.
    fn quantile(&self, p: f64) -> f64 {
        let target = p * self.total;
        let mut cumulative = 0.0;
        for (j, &w) in self.by_sum.iter().enumerate() {
            cumulative += w;
            if w > 0.0 && cumulative >= target {
                return f64::from(self.lo) + j as f64;
            }
        }
        // Rounding can leave the last cumulative weight a hair below p·Σw for p near 1.
        let last = self.by_sum.iter().rposition(|&w| w > 0.0).unwrap_or(0);
        f64::from(self.lo) + last as f64
    }
}

/// The possible sums k·min … k·max of a composite of `k` subtests on `scaled`.
pub(super) fn sum_range(scaled: &Scale, k: usize) -> (i32, i32) {
    let k = k as i32;
    (k * scaled.min, k * scaled.max)
}

/// `composites.csv` rows for every composite of `battery` (battery order), from the sample's
/// scaled scores, with the fit of each composite's sum distribution. See the module
/// documentation for the rule (Silverman's bandwidth, Jones's variance-corrected Gaussian
/// kernel estimate of the distribution of the sums, evaluated at each whole sum).
///
/// # Errors
/// [`BuildError::Composite`] when fewer than `min_children` children have a scaled score on
/// every member subtest, when all their sums are equal, or when a child's scaled score lies
/// off the battery's scaled scale or its weight is not positive and finite.
pub fn composite_rows(
    battery: &Battery,
    children: &[ScaledChild],
    min_children: usize,
) -> Result<(Vec<CompositeRow>, Vec<CompositeFit>), BuildError> {
    let (scaled, index) = (battery.scaled_scale, battery.index_scale);
    let mut rows: Vec<CompositeRow> = Vec::new();
    let mut fits = Vec::with_capacity(battery.composites.len());
    for c in &battery.composites {
        let problem = |reason: String| BuildError::Composite {
            composite: c.id.clone(),
            reason,
        };
        let (lo, hi) = sum_range(&scaled, c.subtests.len());
        let mut weights = SumWeights {
            lo,
            by_sum: vec![0.0; (hi - lo + 1) as usize],
            total: 0.0,
            total_sq: 0.0,
            n: 0,
        };
        for child in children {
            let Some(sum) = child.sum(&c.subtests) else {
                continue;
            };
            if let Some(&s) = c
                .subtests
                .iter()
                .find(|&&s| child.score(s).is_some_and(|x| x < scaled.min || x > scaled.max))
            {
                return Err(problem(format!(
                    "child '{}' has scaled score {} on '{}', outside {}–{}",
                    child.id,
                    child.score(s).unwrap_or_default(),
                    battery.subtests[s].id,
                    scaled.min,
                    scaled.max
                )));
            }
            let w = child.weight;
            if !(w.is_finite() && w > 0.0) {
                return Err(problem(format!(
                    "child '{}' has weight {w}; weights must be positive and finite",
                    child.id
                )));
            }
            weights.by_sum[(sum - lo) as usize] += w;
            weights.total += w;
            weights.total_sq += w * w;
            weights.n += 1;
        }
        if weights.n < min_children {
            let members: Vec<&str> = c
                .subtests
                .iter()
                .map(|&s| battery.subtests[s].id.as_str())
                .collect();
            return Err(problem(format!(
                "{} children have a scaled score on every member subtest ({}), at least {min_children} are needed",
                weights.n,
                members.join(", ")
            )));
        }
        let (fit, kernel) = weights.fit(&c.id)?;
        for sum in lo..=hi {
            let idx = index.score_for_z(kernel.z(f64::from(sum)));
            match rows.last_mut() {
                Some(last) if last.composite == c.id && last.index == idx => last.sum_max = sum,
                _ => rows.push(CompositeRow {
                    composite: c.id.clone(),
                    sum_min: sum,
                    sum_max: sum,
                    index: idx,
                    percentile: percentile_one_decimal(100.0 * normal::cdf(index.z_of(f64::from(idx)))),
                }),
            }
        }
        fits.push(fit);
    }
    Ok((rows, fits))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::norms::CompositeNorms;

    pub(crate) fn battery() -> Battery {
        Battery::from_toml(include_str!(
            "../../../../norms/qabilet-primary-demo/battery.toml"
        ))
        .expect("demo battery")
    }

    /// Children with every subtest scored, from a deterministic pseudo-random generator:
    /// scaled scores 10 + 3·(0.7·g + 0.71·e) rounded and clipped, g shared.
    pub(crate) fn children(battery: &Battery, n: usize, seed: u64) -> Vec<ScaledChild> {
        let mut state = seed;
        let mut uniform = move || {
            // SplitMix64.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|i| {
                let g = normal::quantile(uniform());
                let scaled = battery
                    .subtests
                    .iter()
                    .map(|_| {
                        let e = normal::quantile(uniform());
                        Some(battery.scaled_scale.score_for_z(0.7 * g + 0.71 * e))
                    })
                    .collect();
                ScaledChild {
                    id: format!("c{i}"),
                    age_months: 60 + (i % 84) as u16,
                    weight: 1.0,
                    scaled,
                }
            })
            .collect()
    }

    fn dense(rows: &[CompositeRow], id: &str) -> Vec<(i32, i32, f64)> {
        rows.iter()
            .filter(|r| r.composite == id)
            .flat_map(|r| (r.sum_min..=r.sum_max).map(move |s| (s, r.index, r.percentile)))
            .collect()
    }

    #[test]
    fn tables_are_valid_centred_and_monotone() {
        let b = battery();
        let kids = children(&b, 4000, 7);
        let (rows, fits) = composite_rows(&b, &kids, 100).expect("built");
        let lines: Vec<(usize, CompositeRow)> = rows.iter().cloned().enumerate().collect();
        let norms = CompositeNorms::from_rows(&b, lines).expect("valid composites.csv");
        assert_eq!(
            norms.rows(&b),
            rows,
            "rows are canonical (equal neighbours merged)"
        );
        assert_eq!(fits.len(), b.composites.len());
        for (c, fit) in fits.iter().enumerate() {
            assert_eq!(fit.n, 4000);
            let k = b.composites[c].subtests.len() as f64;
            assert!((fit.mean - 10.0 * k).abs() < 0.5, "{fit:?}");
            // The sum at the mean is near index 100, and the extremes reach the scale's ends.
            let (idx, _) = norms.lookup(c, fit.mean.round() as i32);
            assert!((95..=105).contains(&idx), "{}: {idx}", fit.composite);
            assert!(norms.lookup(c, k as i32).0 < 70);
            assert!(norms.lookup(c, 19 * k as i32).0 > 130);
            assert!(fit.bandwidth > 0.0 && fit.bandwidth < fit.sd);
        }
        let vci = dense(&rows, "vci");
        assert_eq!(vci.len(), 37);
        assert!(vci.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].2 <= w[1].2));
    }

    #[test]
    fn a_point_mass_sits_at_the_median() {
        // Half the weight below sum 20, a point mass at 20, the rest above, symmetric: F̂(20)
        // is ½ exactly by symmetry, so index 100 there.
        let b = battery();
        let vci = b.composite_index("vci").unwrap();
        let (sim, voc) = (b.composites[vci].subtests[0], b.composites[vci].subtests[1]);
        let mut kids = Vec::new();
        for (i, (x, y)) in [(8, 8), (10, 10), (10, 10), (12, 12), (9, 11), (11, 9)]
            .iter()
            .enumerate()
        {
            let mut scaled = vec![Some(10); b.subtests.len()];
            scaled[sim] = Some(*x);
            scaled[voc] = Some(*y);
            kids.push(ScaledChild {
                id: format!("k{i}"),
                age_months: 80,
                weight: 1.0,
                scaled,
            });
        }
        // Other composites have zero variance here: only check vci's table alone.
        let only_vci = {
            let mut b = b.clone();
            b.composites.retain(|c| c.id == "vci");
            b
        };
        let (rows, fits) = composite_rows(&only_vci, &kids, 6).expect("built");
        assert_eq!(fits[0].mean, 20.0);
        assert_eq!(fits[0].skewness, 0.0);
        let at = |s: i32| dense(&rows, "vci")[(s - 2) as usize].1;
        assert_eq!(at(20), 100);
        // Symmetric about 20.
        for d in 1..=17 {
            assert_eq!(at(20 + d) - 100, 100 - at(20 - d), "d = {d}");
        }
    }

    #[test]
    fn weights_count_as_copies() {
        // A child of weight 2 counts as that child twice in the moments; only the bandwidth
        // differs, since the weighted sample's effective size is the smaller.
        let b = battery();
        let mut kids = children(&b, 300, 11);
        let mut doubled = kids.clone();
        for (i, k) in kids.iter_mut().enumerate() {
            if i % 3 == 0 {
                k.weight = 2.0;
                doubled.push(ScaledChild {
                    id: format!("{}-copy", k.id),
                    weight: 1.0,
                    ..k.clone()
                });
            }
        }
        let (_, fw) = composite_rows(&b, &kids, 10).unwrap();
        let (_, fd) = composite_rows(&b, &doubled, 10).unwrap();
        for (w, d) in fw.iter().zip(&fd) {
            assert!((w.mean - d.mean).abs() < 1e-12);
            assert!((w.sd - d.sd).abs() < 1e-12);
            assert!((w.skewness - d.skewness).abs() < 1e-9);
            assert!(
                w.bandwidth > d.bandwidth,
                "n_eff of the weighted sample is smaller"
            );
        }
    }

    #[test]
    fn the_smoothed_distribution_keeps_the_variance() {
        // Mean and variance of the Jones estimate equal the sample's: check them by
        // integrating the CDF numerically on a fine grid.
        let b = battery();
        let kids = children(&b, 500, 3);
        let c = b.composite_index("gac").unwrap();
        let members = &b.composites[c].subtests;
        let mut w = SumWeights {
            lo: 7,
            by_sum: vec![0.0; 127],
            total: 0.0,
            total_sq: 0.0,
            n: 0,
        };
        for k in &kids {
            w.by_sum[(k.sum(members).unwrap() - 7) as usize] += 1.0;
            w.total += 1.0;
            w.total_sq += 1.0;
            w.n += 1;
        }
        let (fit, kernel) = w.fit("gac").unwrap();
        let (mut m1, mut m2) = (0.0, 0.0);
        let step = 0.01;
        let mut prev = 0.0;
        let mut x = -20.0;
        while x < 160.0 {
            x += step;
            let f = kernel.tails(x).0;
            let mass = f - prev;
            let mid = x - step / 2.0;
            m1 += mass * mid;
            m2 += mass * mid * mid;
            prev = f;
        }
        let var = m2 - m1 * m1;
        assert!((m1 - fit.mean).abs() < 1e-6, "{m1} vs {}", fit.mean);
        assert!(
            (var - fit.sd * fit.sd).abs() < 1e-3,
            "{var} vs {}",
            fit.sd * fit.sd
        );
    }

    #[test]
    fn too_few_children_or_no_spread_are_errors() {
        let b = battery();
        let mut kids = children(&b, 50, 5);
        let err = composite_rows(&b, &kids, 51).unwrap_err();
        assert!(
            matches!(&err, BuildError::Composite { composite, reason }
                if composite == "vci" && reason.contains("50 children") && reason.contains("sim, voc")),
            "{err}"
        );
        let voc = b.subtest_index("voc").unwrap();
        for k in kids.iter_mut().take(10) {
            k.scaled[voc] = None;
        }
        let err = composite_rows(&b, &kids, 41).unwrap_err();
        assert!(err.to_string().contains("40 children"), "{err}");
        let flat: Vec<ScaledChild> = kids
            .iter()
            .map(|k| ScaledChild {
                scaled: vec![Some(10); b.subtests.len()],
                ..k.clone()
            })
            .collect();
        let err = composite_rows(&b, &flat, 10).unwrap_err();
        assert!(err.to_string().contains("same sum"), "{err}");
        let mut off = kids.clone();
        off[20].scaled[0] = Some(20);
        let err = composite_rows(&b, &off, 10).unwrap_err();
        assert!(err.to_string().contains("outside 1–19"), "{err}");
    }

    #[test]
    fn quartiles_follow_the_inverted_cdf() {
        let w = SumWeights {
            lo: 2,
            by_sum: vec![1.0, 0.0, 1.0, 1.0, 0.0, 1.0],
            total: 4.0,
            total_sq: 4.0,
            n: 4,
        };
        // Sums 2, 4, 5, 7: cumulative 1, 2, 3, 4 of 4.
        assert_eq!(w.quantile(0.25), 2.0);
        assert_eq!(w.quantile(0.26), 4.0);
        assert_eq!(w.quantile(0.75), 5.0);
        assert_eq!(w.quantile(1.0), 7.0);
    }

    #[test]
    fn large_samples_are_fast() {
        let b = battery();
        let kids = children(&b, 100_000, 1);
        let start = std::time::Instant::now();
        let (rows, _) = composite_rows(&b, &kids, 100).unwrap();
        let took = start.elapsed();
        assert!(!rows.is_empty());
        // Generous for debug builds; in release it takes a few milliseconds.
        assert!(took.as_secs_f64() < 5.0, "{took:?}");
    }
}
