//! Smooth curves over the battery's age range: Legendre polynomials in a scaled age
//! t = (a − centre)/half-width ∈ [−1, 1], the basis every fitted parameter curve of the
//! norm builder is written in (well conditioned where raw powers of age are not).

/// Maps ages in months to t ∈ [−1, 1] over `[age_min, age_max]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgeScale {
    centre: f64,
    half_width: f64,
}

impl AgeScale {
    /// The scale for ages from `age_min` to `age_max` months (`age_max > age_min`).
    pub fn new(age_min: f64, age_max: f64) -> Self {
        AgeScale {
            centre: (age_min + age_max) / 2.0,
            half_width: (age_max - age_min) / 2.0,
        }
    }

    /// t of an age in months.
    pub fn t(&self, age_months: f64) -> f64 {
        (age_months - self.centre) / self.half_width
    }
}

/// Legendre polynomials P₀(t) … P_degree(t) by Bonnet's recursion
/// (k+1)·P_{k+1} = (2k+1)·t·P_k − k·P_{k−1}, written into `out` (length degree + 1).
pub fn legendre(t: f64, out: &mut [f64]) {
    if out.is_empty() {
        return;
    }
    out[0] = 1.0;
    if out.len() > 1 {
        out[1] = t;
    }
    for k in 1..out.len().saturating_sub(1) {
        let kf = k as f64;
        out[k + 1] = ((2.0 * kf + 1.0) * t * out[k] - kf * out[k - 1]) / (kf + 1.0);
    }
}

/// Σ coef_k·P_k(t) for a basis row computed by [`legendre`].
pub fn eval(coefs: &[f64], basis: &[f64]) -> f64 {
    coefs.iter().zip(basis).map(|(c, p)| c * p).sum()
}

/// Weighted least squares of `y` on the Legendre basis of degree `degree` at `t`: the
/// coefficients minimising Σ wᵢ(yᵢ − Σ c_k P_k(tᵢ))². Falls back to lower degrees when the
/// normal equations are singular (too few distinct ages).
pub fn fit(t: &[f64], y: &[f64], w: &[f64], degree: usize) -> Vec<f64> {
    let p = degree + 1;
    let mut basis = vec![0.0; p];
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    for i in 0..t.len() {
        if w[i] <= 0.0 || !y[i].is_finite() {
            continue;
        }
        legendre(t[i], &mut basis);
        for j in 0..p {
            xty[j] += w[i] * basis[j] * y[i];
            for k in 0..p {
                xtx[j * p + k] += w[i] * basis[j] * basis[k];
            }
        }
    }
    match crate::norms::build::linalg::solve_spd(&mut xtx, &mut xty, p) {
        Some(()) => xty,
        None if degree > 0 => {
            let mut c = fit(t, y, w, degree - 1);
            c.push(0.0);
            c
        }
        None => vec![0.0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legendre_matches_closed_forms() {
        let mut p = [0.0; 5];
        for &t in &[-1.0, -0.3, 0.0, 0.7, 1.0] {
            legendre(t, &mut p);
            let t2: f64 = t * t;
            assert!((p[2] - (3.0 * t2 - 1.0) / 2.0).abs() < 1e-14);
            assert!((p[3] - (5.0 * t2 * t - 3.0 * t) / 2.0).abs() < 1e-14);
            assert!((p[4] - (35.0 * t2 * t2 - 30.0 * t2 + 3.0) / 8.0).abs() < 1e-14);
        }
    }

    #[test]
    fn least_squares_recovers_a_cubic() {
        let t: Vec<f64> = (0..40).map(|i| -1.0 + 2.0 * f64::from(i) / 39.0).collect();
        let y: Vec<f64> = t.iter().map(|t| 1.0 - 2.0 * t + 0.5 * t * t * t).collect();
        let c = fit(&t, &y, &vec![1.0; t.len()], 3);
        let mut b = [0.0; 4];
        for (ti, yi) in t.iter().zip(&y) {
            legendre(*ti, &mut b);
            assert!((eval(&c, &b) - yi).abs() < 1e-12);
        }
    }
}
