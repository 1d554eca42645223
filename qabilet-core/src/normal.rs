//! The standard normal distribution: Φ and its exact inverse (no rounded constants).
//!
//! Φ(z) = ½·erfc(−z/√2) with the fdlibm/musl `erfc` of the `libm` crate (error below one ulp;
//! statrs's `erfc` is off by ~4e-11 relative at z = −3). Φ⁻¹ is statrs's inverse normal,
//! checked to 1e-14 against scipy in `tests/reference_values.rs`.

use statrs::distribution::{ContinuousCDF, Normal};

fn standard() -> Normal {
    // Mean 0 and SD 1 are valid parameters; `Normal::standard` cannot fail.
    Normal::standard()
}

/// Φ(z), the standard normal cumulative distribution function.
pub fn cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Φ⁻¹(p), the standard normal quantile, for 0 < p < 1.
pub fn quantile(p: f64) -> f64 {
    standard().inverse_cdf(p)
}

/// The two-sided critical z for significance level `alpha`: Φ⁻¹(1 − α/2).
pub fn two_sided_z(alpha: f64) -> f64 {
    quantile(1.0 - alpha / 2.0)
}

/// The normal score of a discrete score x in a norm group (midpoint convention, norms/SCORING.md "z ↔ score"):
/// z = Φ⁻¹(P(X < x) + ½·P(X = x)).
pub fn midpoint_z(p_below: f64, p_equal: f64) -> f64 {
    quantile(p_below + p_equal / 2.0)
}
