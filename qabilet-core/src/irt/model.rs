//! Item response models on the logistic metric (D = 1): category probabilities and their
//! first and second derivatives in θ, computed in forms that stay accurate in the tails.
//!
//! rasch / 2PL: P₁ = σ(a(θ − b)); 3PL: P₁ = c + (1 − c)σ(a(θ − b)) (Birnbaum 1968);
//! GPCM (Muraki 1992): P_k ∝ exp(Σ_{v≤k} a(θ − b_v)); GRM (Samejima 1969): P_k = P*_k − P*_{k+1}
//! with P*_k = σ(a(θ − b_k)). Formulas in norms/IRT.md.

use serde::Serialize;

/// The logistic function σ(z) = 1 / (1 + e^(−z)).
#[inline]
pub fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// An item's model and parameters, validated (a > 0, 0 ≤ c < 1, ordered GRM thresholds).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum ItemModel {
    /// Rasch: discrimination fixed at 1.
    Rasch {
        /// Difficulty.
        b: f64,
    },
    /// Two-parameter logistic.
    #[serde(rename = "2pl")]
    TwoPl {
        /// Discrimination.
        a: f64,
        /// Difficulty.
        b: f64,
    },
    /// Three-parameter logistic.
    #[serde(rename = "3pl")]
    ThreePl {
        /// Discrimination.
        a: f64,
        /// Difficulty.
        b: f64,
        /// Lower asymptote (guessing).
        c: f64,
    },
    /// Generalised partial credit.
    Gpcm {
        /// Discrimination.
        a: f64,
        /// Step difficulties b₁ … b_m.
        b: Vec<f64>,
    },
    /// Graded response.
    Grm {
        /// Discrimination.
        a: f64,
        /// Strictly increasing thresholds b₁ … b_m.
        b: Vec<f64>,
    },
}

/// P_k, P_k′ and P_k″ of one category at one θ.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CategoryCurve {
    /// Probability.
    pub p: f64,
    /// First derivative in θ.
    pub dp: f64,
    /// Second derivative in θ.
    pub d2p: f64,
}

impl ItemModel {
    /// The highest category m (categories are 0 … m).
    pub fn max_category(&self) -> usize {
        match self {
            ItemModel::Rasch { .. } | ItemModel::TwoPl { .. } | ItemModel::ThreePl { .. } => 1,
            ItemModel::Gpcm { b, .. } | ItemModel::Grm { b, .. } => b.len(),
        }
    }

    /// Discrimination (1 for Rasch).
    pub fn a(&self) -> f64 {
        match self {
            ItemModel::Rasch { .. } => 1.0,
            ItemModel::TwoPl { a, .. }
            | ItemModel::ThreePl { a, .. }
            | ItemModel::Gpcm { a, .. }
            | ItemModel::Grm { a, .. } => *a,
        }
    }

    /// Fills `out[k]` (k = 0 … m) with P_k, P_k′, P_k″ at `theta`; `out` must hold m + 1.
    pub fn curves(&self, theta: f64, out: &mut [CategoryCurve]) {
        match self {
            ItemModel::Rasch { b } => dichotomous(1.0, *b, 0.0, theta, out),
            ItemModel::TwoPl { a, b } => dichotomous(*a, *b, 0.0, theta, out),
            ItemModel::ThreePl { a, b, c } => dichotomous(*a, *b, *c, theta, out),
            ItemModel::Gpcm { a, b } => gpcm(*a, b, theta, out),
            ItemModel::Grm { a, b } => grm(*a, b, theta, out),
        }
    }

    /// ln P_k(θ) for every category, accurate where P_k is tiny.
    pub fn log_probabilities(&self, theta: f64, out: &mut [f64]) {
        match self {
            ItemModel::Rasch { b } => log_dichotomous(1.0, *b, 0.0, theta, out),
            ItemModel::TwoPl { a, b } => log_dichotomous(*a, *b, 0.0, theta, out),
            ItemModel::ThreePl { a, b, c } => log_dichotomous(*a, *b, *c, theta, out),
            ItemModel::Gpcm { a, b } => {
                let mut s = 0.0;
                out[0] = 0.0;
                for (k, bk) in b.iter().enumerate() {
                    s += a * (theta - bk);
                    out[k + 1] = s;
                }
                let norm = log_sum_exp(&out[..=b.len()]);
                out[..=b.len()].iter_mut().for_each(|x| *x -= norm);
            }
            ItemModel::Grm { .. } => {
                let m = self.max_category();
                let (mut stack, mut heap) = ([CategoryCurve::default(); 16], Vec::new());
                let curves = curve_buffer(m, &mut stack, &mut heap);
                self.curves(theta, curves);
                for (lp, c) in out[..=m].iter_mut().zip(curves.iter()) {
                    *lp = c.p.ln();
                }
            }
        }
    }
}

/// Room for the m + 1 category curves of an item: on the stack for up to 16 categories
/// (every bank item: loading allows at most 15 steps), else on the heap.
pub(crate) fn curve_buffer<'a>(
    m: usize,
    stack: &'a mut [CategoryCurve; 16],
    heap: &'a mut Vec<CategoryCurve>,
) -> &'a mut [CategoryCurve] {
    if m < stack.len() {
        &mut stack[..=m]
    } else {
        heap.resize(m + 1, CategoryCurve::default());
        heap
    }
}

fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// ln σ(z), without overflow or cancellation.
fn ln_logistic(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

fn dichotomous(a: f64, b: f64, c: f64, theta: f64, out: &mut [CategoryCurve]) {
    let z = a * (theta - b);
    let (s, q) = (logistic(z), logistic(-z)); // σ and 1 − σ, each accurate
    let d = (1.0 - c) * a * s * q;
    let d2 = (1.0 - c) * a * a * s * q * (q - s);
    out[1] = CategoryCurve {
        p: c + (1.0 - c) * s,
        dp: d,
        d2p: d2,
    };
    out[0] = CategoryCurve {
        p: (1.0 - c) * q,
        dp: -d,
        d2p: -d2,
    };
}

fn log_dichotomous(a: f64, b: f64, c: f64, theta: f64, out: &mut [f64]) {
    let z = a * (theta - b);
    if c == 0.0 {
        out[1] = ln_logistic(z);
        out[0] = ln_logistic(-z);
    } else {
        out[1] = (c + (1.0 - c) * logistic(z)).ln();
        out[0] = (1.0 - c).ln() + ln_logistic(-z);
    }
}

fn gpcm(a: f64, b: &[f64], theta: f64, out: &mut [CategoryCurve]) {
    let m = b.len();
    // Numerators exp(s_k) scaled by the largest, then normalised.
    let mut s = 0.0;
    let mut max = 0.0f64;
    out[0].p = 0.0;
    for (k, bk) in b.iter().enumerate() {
        s += a * (theta - bk);
        out[k + 1].p = s;
        max = max.max(s);
    }
    let mut total = 0.0;
    for cat in out[..=m].iter_mut() {
        cat.p = (cat.p - max).exp();
        total += cat.p;
    }
    let mut mean = 0.0;
    for (k, cat) in out[..=m].iter_mut().enumerate() {
        cat.p /= total;
        mean += k as f64 * cat.p;
    }
    let var: f64 = out[..=m]
        .iter()
        .enumerate()
        .map(|(k, cat)| (k as f64 - mean).powi(2) * cat.p)
        .sum();
    for (k, cat) in out[..=m].iter_mut().enumerate() {
        let dev = k as f64 - mean;
        cat.dp = a * cat.p * dev;
        cat.d2p = a * a * cat.p * (dev * dev - var);
    }
}

fn grm(a: f64, b: &[f64], theta: f64, out: &mut [CategoryCurve]) {
    let m = b.len();
    // Boundary curves P*_k (k = 1 … m) with their complements; P*_0 = 1, P*_{m+1} = 0.
    let boundary = |k: usize| -> (f64, f64, f64, f64) {
        if k == 0 {
            (1.0, 0.0, 0.0, 0.0)
        } else if k == m + 1 {
            (0.0, 1.0, 0.0, 0.0)
        } else {
            let z = a * (theta - b[k - 1]);
            let (s, q) = (logistic(z), logistic(-z));
            (s, q, a * s * q, a * a * s * q * (q - s))
        }
    };
    let mut upper = boundary(0);
    for (k, cat) in out[..=m].iter_mut().enumerate() {
        let lower = boundary(k + 1);
        // P*_k − P*_{k+1}, or Q*_{k+1} − Q*_k where both P* are near 1 (no cancellation).
        let p = if upper.0 > 0.5 && lower.0 > 0.5 {
            lower.1 - upper.1
        } else {
            upper.0 - lower.0
        };
        *cat = CategoryCurve {
            p,
            dp: upper.2 - lower.2,
            d2p: upper.3 - lower.3,
        };
        upper = lower;
    }
}
