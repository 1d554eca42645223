//! The parametric model of continuous norming: a Box–Cox (LMS) distribution whose median
//! M(a), coefficient of variation S(a) and Box–Cox power L(a) change smoothly with age (Cole &
//! Green 1992), fitted by maximum likelihood to whole raw scores treated as interval-censored
//! — so floors and ceilings are modelled, not distorted.
//!
//! The latent score Y > 0 is the raw score shifted by one: raw x is observed when
//! Y ∈ [x + ½, x + 1½), everything below 1½ is a raw 0 and everything above raw_max + ½ is
//! raw_max. So P(X ≤ r | a) = Φ(z_r(a)) for r < raw_max, with the Box–Cox deviate
//! z_r = ((y_r/M)^L − 1)/(L·S) (ln(y_r/M)/S when L = 0) at y_r = r + 1½. ln M, ln S and L
//! are Legendre polynomials in scaled age (see `age_curve`); the log-likelihood
//! Σ n·ln(Φ(z_r) − Φ(z_{r−1})) over (age bin, raw) cells is maximised by BFGS with its
//! analytic gradient.

use super::age_cells::AgeCells;
use super::age_curve::{self, legendre};
use super::bfgs;
use crate::normal;

/// Polynomial degrees of the three parameter curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LmsDegrees {
    /// ln M (median).
    pub median: usize,
    /// ln S (coefficient of variation).
    pub spread: usize,
    /// L (Box–Cox power, skew).
    pub skew: usize,
}

impl LmsDegrees {
    /// Number of coefficients.
    pub fn parameters(&self) -> usize {
        self.median + self.spread + self.skew + 3
    }
}

/// The candidate degree sets, simplest first; the builder picks one by AIC.
pub const CANDIDATES: [LmsDegrees; 5] = [
    LmsDegrees {
        median: 2,
        spread: 1,
        skew: 0,
    },
    LmsDegrees {
        median: 3,
        spread: 1,
        skew: 1,
    },
    LmsDegrees {
        median: 4,
        spread: 2,
        skew: 1,
    },
    LmsDegrees {
        median: 5,
        spread: 2,
        skew: 2,
    },
    LmsDegrees {
        median: 6,
        spread: 3,
        skew: 3,
    },
];

/// A fitted LMS model.
#[derive(Debug, Clone, PartialEq)]
pub struct LmsFit {
    /// Degrees of the curves.
    pub degrees: LmsDegrees,
    /// Coefficients: ln M, then ln S, then L.
    pub coefs: Vec<f64>,
    /// −log-likelihood at the fit.
    pub neg_log_lik: f64,
    /// Whether BFGS met its gradient test.
    pub converged: bool,
    raw_max: u16,
}

/// M, S, L at one age.
#[derive(Debug, Clone, Copy)]
struct Lms {
    ln_m: f64,
    s: f64,
    l: f64,
}

fn lms_at(degrees: LmsDegrees, coefs: &[f64], basis: &[f64]) -> Lms {
    let (m, rest) = coefs.split_at(degrees.median + 1);
    let (s, l) = rest.split_at(degrees.spread + 1);
    Lms {
        ln_m: age_curve::eval(m, basis),
        s: age_curve::eval(s, basis).exp(),
        l: age_curve::eval(l, basis),
    }
}

/// g(L, u) = (e^{Lu} − 1)/L (u at L = 0) and ∂g/∂L.
fn box_cox(l: f64, u: f64) -> (f64, f64) {
    if (l * u).abs() < 1e-4 {
        box_cox_series(l, u)
    } else {
        box_cox_closed(l, u)
    }
}

/// Series: g = Σ_k L^k·u^{k+1}/(k+1)!, ∂g/∂L = u²·(1/2 + Lu/3 + (Lu)²/8 + (Lu)³/30 + …),
/// to four terms (truncation error below 1e-17 relative where |Lu| < 1e-4).
fn box_cox_series(l: f64, u: f64) -> (f64, f64) {
    let lu = l * u;
    (
        u * (1.0 + lu * (0.5 + lu * (1.0 / 6.0 + lu / 24.0))),
        u * u * (0.5 + lu * (1.0 / 3.0 + lu * (0.125 + lu / 30.0))),
    )
}

fn box_cox_closed(l: f64, u: f64) -> (f64, f64) {
    let e = (l * u).exp_m1();
    (e / l, (u * (e + 1.0) * l - e) / (l * l))
}

/// The boundary y of raw r (X ≤ r ⟺ Y < y): r + 1½.
fn boundary(r: usize) -> f64 {
    r as f64 + 1.5
}

/// P(lo < Z < hi) for a standard normal Z, accurate in both tails.
pub(super) fn interval(lo: f64, hi: f64) -> f64 {
    if lo > 0.0 {
        normal::cdf(-lo) - normal::cdf(-hi)
    } else {
        normal::cdf(hi) - normal::cdf(lo)
    }
}

fn density(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Smallest cell probability the likelihood uses (an impossible observed cell is very
/// unlikely, not −∞, so that the line search can back away from it).
const P_FLOOR: f64 = 1e-300;

impl LmsFit {
    /// Boundary deviates z_r(t) = Φ⁻¹(P(X ≤ r)) for r = 0 … raw_max − 1 at scaled age `t`.
    pub fn probits(&self, t: f64, out: &mut [f64]) {
        let mut basis = vec![
            0.0;
            self.degrees
                .median
                .max(self.degrees.spread)
                .max(self.degrees.skew)
                + 1
        ];
        legendre(t, &mut basis);
        let p = lms_at(self.degrees, &self.coefs, &basis);
        for (r, z) in out.iter_mut().enumerate().take(usize::from(self.raw_max)) {
            let u = boundary(r).ln() - p.ln_m;
            *z = box_cox(p.l, u).0 / p.s;
        }
    }

    /// Starting values: ln of the mean of Y by age (least squares), a constant coefficient
    /// of variation, L = 1 (a normal shape).
    pub fn start(cells: &AgeCells, degrees: LmsDegrees) -> Vec<f64> {
        let (mut t, mut ln_mean, mut w, mut ln_cv) = (vec![], vec![], vec![], (0.0, 0.0));
        for b in 0..cells.bins() {
            let n = cells.totals[b];
            if n <= 0.0 {
                continue;
            }
            let row = cells.row(b);
            let mean: f64 = row
                .iter()
                .enumerate()
                .map(|(x, c)| c * (x as f64 + 1.0))
                .sum::<f64>()
                / n;
            let var: f64 = row
                .iter()
                .enumerate()
                .map(|(x, c)| c * (x as f64 + 1.0 - mean).powi(2))
                .sum::<f64>()
                / n;
            t.push(cells.t[b]);
            ln_mean.push(mean.ln());
            w.push(n);
            if var > 0.0 {
                ln_cv.0 += n * (var.sqrt() / mean).ln();
                ln_cv.1 += n;
            }
        }
        let mut coefs = age_curve::fit(&t, &ln_mean, &w, degrees.median);
        let mut s = vec![0.0; degrees.spread + 1];
        s[0] = if ln_cv.1 > 0.0 { ln_cv.0 / ln_cv.1 } else { -1.0 };
        let mut l = vec![0.0; degrees.skew + 1];
        l[0] = 1.0;
        coefs.extend(s);
        coefs.extend(l);
        coefs
    }

    /// Fits the model with `degrees` to `cells`, from `start` (e.g. a fit of lower degree
    /// padded with zeros, or the full-sample fit for a cross-validation fold).
    pub fn fit(cells: &AgeCells, degrees: LmsDegrees, start: Vec<f64>) -> LmsFit {
        let width = degrees.median.max(degrees.spread).max(degrees.skew) + 1;
        let bases: Vec<Vec<f64>> = cells
            .t
            .iter()
            .map(|&t| {
                let mut b = vec![0.0; width];
                legendre(t, &mut b);
                b
            })
            .collect();
        let raw_max = usize::from(cells.raw_max);
        let ln_y: Vec<f64> = (0..raw_max).map(|r| boundary(r).ln()).collect();
        let mut z = vec![0.0; raw_max];
        let mut dz_dl = vec![0.0; raw_max];
        let mut dz_dm = vec![0.0; raw_max];
        let objective = |c: &[f64], grad: &mut [f64]| -> f64 {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let mut nll = 0.0;
            for (b, basis) in bases.iter().enumerate() {
                if cells.totals[b] <= 0.0 {
                    continue;
                }
                let p = lms_at(degrees, c, basis);
                for r in 0..raw_max {
                    let u = ln_y[r] - p.ln_m;
                    let (g, dg) = box_cox(p.l, u);
                    z[r] = g / p.s;
                    dz_dl[r] = dg / p.s;
                    dz_dm[r] = -(p.l * u).exp() / p.s;
                }
                let row = cells.row(b);
                // ∂(−ℓ)/∂z_r collects −n_r·φ/p_r from cell r and +n_{r+1}·φ/p_{r+1} from r+1.
                let (mut g_m, mut g_s, mut g_l) = (0.0, 0.0, 0.0);
                for (x, &n) in row.iter().enumerate() {
                    if n <= 0.0 {
                        continue;
                    }
                    let lo = if x == 0 { f64::NEG_INFINITY } else { z[x - 1] };
                    let hi = if x == raw_max { f64::INFINITY } else { z[x] };
                    let prob = interval(lo, hi).max(P_FLOOR);
                    nll -= n * prob.ln();
                    if x < raw_max {
                        let d = -n * density(hi) / prob;
                        g_m += d * dz_dm[x];
                        g_s -= d * hi;
                        g_l += d * dz_dl[x];
                    }
                    if x > 0 {
                        let d = n * density(lo) / prob;
                        g_m += d * dz_dm[x - 1];
                        g_s -= d * lo;
                        g_l += d * dz_dl[x - 1];
                    }
                }
                let (gm, rest) = grad.split_at_mut(degrees.median + 1);
                let (gs, gl) = rest.split_at_mut(degrees.spread + 1);
                gm.iter_mut().zip(basis).for_each(|(g, p)| *g += g_m * p);
                gs.iter_mut().zip(basis).for_each(|(g, p)| *g += g_s * p);
                gl.iter_mut().zip(basis).for_each(|(g, p)| *g += g_l * p);
            }
            nll
        };
        let m = bfgs::minimise(objective, start, 1e-9, 400);
        LmsFit {
            degrees,
            coefs: m.x,
            neg_log_lik: m.value,
            converged: m.converged,
            raw_max: cells.raw_max,
        }
    }

    /// The coefficients padded with zeros to `degrees` (a warm start for a larger model).
    pub fn padded(&self, degrees: LmsDegrees) -> Vec<f64> {
        let (m, rest) = self.coefs.split_at(self.degrees.median + 1);
        let (s, l) = rest.split_at(self.degrees.spread + 1);
        let mut out = Vec::with_capacity(degrees.parameters());
        for (part, d) in [(m, degrees.median), (s, degrees.spread), (l, degrees.skew)] {
            let mut v = part.to_vec();
            v.resize(d + 1, 0.0);
            out.extend(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::norms::build::age_cells::{AgeCells, Observation};
    use crate::norms::build::age_curve::AgeScale;

    #[test]
    fn box_cox_series_and_closed_form_agree_at_the_switch() {
        for &u in &[-0.7f64, 0.2, 1.3] {
            let l = 1e-4 / u.abs();
            let (g1, d1) = box_cox_series(l, u);
            let (g0, d0) = box_cox_closed(l, u);
            // The closed form loses about 8 digits of ∂g/∂L here; the series is exact.
            assert!(
                (g1 - g0).abs() < 1e-15 && (d1 - d0).abs() < 1e-7 * d1.abs(),
                "{u}"
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // A small lopsided sample; the gradient of −ℓ checked by central differences.
        let scale = AgeScale::new(60.0, 144.0);
        let obs: Vec<Observation> = (0..400)
            .map(|i| Observation {
                age_months: 60.0 + f64::from(i % 84) + 0.3,
                raw: ((i * 7 + i / 84 * 3) % 19) as u16,
                weight: 1.0,
                fold: 0,
            })
            .collect();
        let cells = AgeCells::new(&obs, 20, 60.0, 144.0, &scale, |_| true);
        let degrees = LmsDegrees {
            median: 2,
            spread: 1,
            skew: 1,
        };
        let start = LmsFit::start(&cells, degrees);
        let fit = LmsFit::fit(&cells, degrees, start.clone());
        assert!(fit.converged, "{fit:?}");
        // At the optimum the likelihood must not improve along any coordinate.
        let nll = |c: &[f64]| {
            let probe = LmsFit {
                coefs: c.to_vec(),
                ..fit.clone()
            };
            let mut z = vec![0.0; 20];
            let mut total = 0.0;
            for b in 0..cells.bins() {
                probe.probits(cells.t[b], &mut z);
                for (x, &n) in cells.row(b).iter().enumerate() {
                    if n > 0.0 {
                        let lo = if x == 0 { f64::NEG_INFINITY } else { z[x - 1] };
                        let hi = if x == 20 { f64::INFINITY } else { z[x] };
                        total -= n * interval(lo, hi).ln();
                    }
                }
            }
            total
        };
        assert!((nll(&fit.coefs) - fit.neg_log_lik).abs() < 1e-8 * fit.neg_log_lik);
        for k in 0..fit.coefs.len() {
            for h in [1e-3, -1e-3] {
                let mut c = fit.coefs.clone();
                c[k] += h;
                assert!(nll(&c) >= fit.neg_log_lik - 1e-9, "coefficient {k} step {h}");
            }
        }
    }
}
