//! The referral planner: what a cut on a screening score does to a population before anyone
//! is tested. Rules and sources in norms/REFERRAL.md.
//!
//! Model (classical test theory; Lord & Novick 1968): an index X = T + E on the 100/15
//! metric with reliability r, T ~ N(100, 15²·r) and E ~ N(0, 15²·(1 − r)) independent. With
//! the standardised true score Z = (T − 100)/(15·√r) ~ N(0, 1), a stage's observed
//! standardised score is √r·Z + √(1 − r)·ε. A child is truly above t when Z ≥ (t − 100)/15.
//! A second stage measures the same Z with its own reliability and an independent error,
//! so every probability is a one-dimensional integral over Z (McBee, Peters & Miller 2016).
//!
//! [`Plan::figures`] gives the referral rate, sensitivity and positive predictive value of
//! one stage, of a second stage alone, and of the two in conjunction; [`fill_seats`] finds
//! the cut that fills a number of seats in a cohort and the able children it is expected to
//! miss. Inputs are validated once, when a [`Plan`] is built.

mod plan;
mod quadrature;
mod rule;
mod seats;

use std::fmt;

use thiserror::Error;

pub use plan::{Figures, Plan, PlanFigures, Stage};
pub use rule::Rule;
pub use seats::{SeatPlan, SubgroupSeats, fill_seats};

/// Lowest index score.
pub const INDEX_MIN: f64 = 40.0;
/// Highest index score.
pub const INDEX_MAX: f64 = 160.0;

/// The input a value was given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Stage 1's reliability.
    Reliability,
    /// Stage 1's cut.
    Cut,
    /// The index t defining "truly above".
    Above,
    /// Stage 2's reliability.
    Stage2Reliability,
    /// Stage 2's cut.
    Stage2Cut,
}

impl Field {
    /// The field's name: `reliability`, `cut`, `above`, `stage2_reliability`, `stage2_cut`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reliability => "reliability",
            Self::Cut => "cut",
            Self::Above => "above",
            Self::Stage2Reliability => "stage2_reliability",
            Self::Stage2Cut => "stage2_cut",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the planner refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ReferralError {
    /// A reliability not strictly between 0 and 1 (or not a number).
    #[error("{field} = {value}: a reliability must lie strictly between 0 and 1")]
    Reliability {
        /// Which input.
        field: Field,
        /// The value given.
        value: f64,
    },
    /// A cut or `above` outside the index scale.
    #[error("{field} = {value}: must lie within the index scale, 40–160")]
    Index {
        /// Which input.
        field: Field,
        /// The value given.
        value: f64,
    },
    /// A cohort score outside the index scale (0-based position in the cohort).
    #[error("score of child {child} = {value}: must lie within the index scale, 40–160")]
    Score {
        /// Position in the cohort, from 0.
        child: usize,
        /// The value given.
        value: f64,
    },
}

/// A reliability coefficient strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Reliability(f64);

impl Reliability {
    /// Checks `value` given for `field`.
    ///
    /// # Errors
    /// [`ReferralError::Reliability`] unless 0 < value < 1.
    pub fn new(field: Field, value: f64) -> Result<Self, ReferralError> {
        if value > 0.0 && value < 1.0 {
            Ok(Self(value))
        } else {
            Err(ReferralError::Reliability { field, value })
        }
    }

    /// The coefficient.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A point on the index scale, 40–160 inclusive, not necessarily whole.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct IndexPoint(f64);

impl IndexPoint {
    /// Checks `value` given for `field`.
    ///
    /// # Errors
    /// [`ReferralError::Index`] unless 40 ≤ value ≤ 160.
    pub fn new(field: Field, value: f64) -> Result<Self, ReferralError> {
        if (INDEX_MIN..=INDEX_MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ReferralError::Index { field, value })
        }
    }

    /// The score.
    pub fn get(self) -> f64 {
        self.0
    }

    /// On the standard normal scale: (x − 100)/15.
    pub fn standardised(self) -> f64 {
        (self.0 - rule::MEAN) / rule::SD
    }
}
