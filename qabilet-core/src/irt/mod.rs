//! Item response theory: item models and banks, response patterns, item and test
//! information, and ability estimation (EAP, MAP, MLE, WLE) on the logistic metric with
//! D = 1. Conventions in norms/IRT.md; reference values in `tests/reference/irt/`.

mod bank;
mod estimate;
mod model;
mod pattern;
pub mod true_score;

pub use bank::{BankError, Item, ItemBank};
pub use estimate::{
    EapGrid, EapScratch, Estimate, Estimator, Status, estimating_equation, point_estimate, test_information,
};
pub use model::{CategoryCurve, ItemModel, logistic};
pub use pattern::{PatternError, ResponsePattern};
pub use true_score::{expected_score, raw_equivalent};

/// Fisher information Σ_k P_k′(θ)²/P_k(θ) of one item at θ.
pub fn item_information(model: &ItemModel, theta: f64) -> f64 {
    let (mut stack, mut heap) = ([CategoryCurve::default(); 16], Vec::new());
    let curves = model::curve_buffer(model.max_category(), &mut stack, &mut heap);
    model.curves(theta, curves);
    curves
        .iter()
        .filter(|c| c.p > 0.0)
        .map(|c| c.dp * c.dp / c.p)
        .sum()
}
