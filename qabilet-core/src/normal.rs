//! The standard normal distribution: Φ and its exact inverse (no rounded constants).

use statrs::distribution::{ContinuousCDF, Normal};

fn standard() -> Normal {
    // Mean 0 and SD 1 are valid parameters; `Normal::standard` cannot fail.
    Normal::standard()
}

/// Φ(z), the standard normal cumulative distribution function.
pub fn cdf(z: f64) -> f64 {
    standard().cdf(z)
}

/// Φ⁻¹(p), the standard normal quantile, for 0 < p < 1.
pub fn quantile(p: f64) -> f64 {
    standard().inverse_cdf(p)
}

/// The two-sided critical z for significance level `alpha`: Φ⁻¹(1 − α/2).
pub fn two_sided_z(alpha: f64) -> f64 {
    quantile(1.0 - alpha / 2.0)
}
