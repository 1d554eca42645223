//! Computerised adaptive testing on an IRT item bank: item selection (maximum Fisher
//! information, Kullback–Leibler, a-stratified), exposure control (randomesque,
//! Sympson–Hetter, with the iterative calibration of its parameters), content balancing by target proportions, stopping rules, resumable
//! serialisable sessions, and simulation studies reporting bias, RMSE, test length and item
//! exposure as catsim and catR do.
//!
//! ```
//! use qabilet_core::cat::{CatConfig, CatEngine, CatSession, Next};
//! use qabilet_core::irt::ItemBank;
//! # fn demo(bank: &ItemBank) -> Result<(), qabilet_core::cat::CatError> {
//! let engine = CatEngine::new(bank)?;
//! let mut session = CatSession::new(&engine, CatConfig::default(), 42)?;
//! while let Next::Item(item) = engine.next_item(&mut session)? {
//!     let response = 1; // the examinee's answer to bank.items[item]
//!     engine.record(&mut session, response)?;
//! }
//! let theta = engine.final_estimate(&session);
//! # let _ = theta; Ok(()) }
//! ```

mod available;
mod calibrate;
mod config;
mod content;
mod engine;
mod exposure;
mod selection;
mod simulate;
mod state;
mod stopping;

use thiserror::Error;

pub use available::{Availability, ItemSet};
pub use calibrate::{Calibration, CalibrationSpec, RoundSummary, calibrate_sympson_hetter};
pub use config::CatConfig;
pub use content::ContentTargets;
pub use engine::{CatEngine, GRID_POINTS, GRID_RANGE, Next};
pub use exposure::{Exposure, UnknownExposure};
pub use selection::Selection;
pub use simulate::{
    DecileSummary, ExamineeResult, ExposureSummary, SimulationReport, SimulationSpec, ThetaDistribution,
    simulate, simulate_examinee, summarise,
};
pub use state::{CatSession, Interim, Response};
pub use stopping::{StopReason, StoppingRule};

/// Why an adaptive test cannot be set up or continued.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CatError {
    /// The maximum length is 0 or below the minimum.
    #[error("test length: need 1 ≤ max_items and min_items ≤ max_items (got min {min}, max {max})")]
    Length {
        /// Minimum length.
        min: usize,
        /// Maximum length.
        max: usize,
    },
    /// The SE target is not a positive number.
    #[error("the SE target must be a positive number (got {0})")]
    SeTarget(f64),
    /// A randomesque group of 0 items.
    #[error("randomesque exposure control needs a group of at least 1 item")]
    Randomesque,
    /// More a-strata than items, or none.
    #[error("a-stratified selection needs 1 to {items} strata (got {strata})")]
    Strata {
        /// Strata asked for.
        strata: usize,
        /// Items in the bank.
        items: usize,
    },
    /// A content target names an area no bank item has.
    #[error("content area '{0}' has no items in the bank")]
    ContentArea(String),
    /// A content proportion outside [0, 1].
    #[error("content area '{area}': proportion {proportion} is outside [0, 1]")]
    ContentProportion {
        /// Area.
        area: String,
        /// Proportion given.
        proportion: f64,
    },
    /// Content proportions that do not sum to 1.
    #[error("content proportions must sum to 1 (they sum to {0})")]
    ContentSum(f64),
    /// Sympson–Hetter asked for on a bank without exposure parameters.
    #[error(
        "Sympson–Hetter exposure control needs exposure.sympson_hetter parameters in the bank; it has none"
    )]
    NoSympsonHetter,
    /// The session belongs to a bank of another size.
    #[error("the session was started on a bank of {session} items, this bank has {bank}")]
    BankMismatch {
        /// Bank size in the session.
        session: usize,
        /// Size of this bank.
        bank: usize,
    },
    /// A response was recorded with no item pending.
    #[error("no item is pending: ask for the next item before recording a response")]
    NoPendingItem,
    /// A response category outside the item's range.
    #[error("item '{item}': category {category} is outside 0–{max}")]
    Category {
        /// Item id.
        item: String,
        /// Category given.
        category: u32,
        /// Highest category.
        max: usize,
    },
    /// The EAP grid could not be built.
    #[error("EAP grid: {0}")]
    Grid(String),
    /// Serialised session state that contradicts itself.
    #[error("invalid session state: {0}")]
    Session(String),
    /// Invalid simulation settings.
    #[error("simulation: {0}")]
    Simulation(String),
    /// Invalid Sympson–Hetter calibration settings.
    #[error("Sympson–Hetter calibration: {0}")]
    Calibration(String),
}
