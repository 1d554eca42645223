//! Qabilet's scoring core: chronological age, battery definitions, norm tables, normed
//! scores with confidence intervals, and profile analysis, for children aged 5:0–11:11.
//!
//! The crate is pure: no I/O beyond parsing text handed to it, no async, no global state.
//! Norm files are validated once, when a [`NormSet`] is built; scoring then trusts them and
//! is table lookup plus arithmetic.
//!
//! ```
//! use qabilet_core::{NormSet, NormFiles, ScoreRequest, ScoringOptions};
//! # fn demo(files: NormFiles) -> Result<(), Box<dyn std::error::Error>> {
//! let norms = NormSet::from_files(&files)?;
//! let request = ScoreRequest::parse(&norms, "2019-03-14", "2026-05-02", [("voc", "21"), ("sim", "18")])?;
//! let profile = norms.score(&request, &ScoringOptions::default());
//! println!("{} at {}", profile.norm_set.hash, profile.age);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod administration;
pub mod age;
pub mod battery;
pub mod cat;
pub mod ci;
pub mod guidance;
pub mod iin;
pub mod irt;
pub mod normal;
pub mod norms;
pub mod profile;
pub mod referral;
pub mod report;
pub mod request;
pub mod scale;
mod source;
pub mod stats;
pub mod text;

pub use age::{AgeError, ChronologicalAge, Date};
pub use battery::{Battery, BatteryError};
pub use ci::{CiMethod, ConfidenceInterval, ConfidenceLevel};
pub use norms::{NormError, NormFiles, NormSet, NormSetId};
pub use profile::{Profile, ScoringOptions};
pub use request::{RowError, ScoreRequest};
pub use text::{Lang, LocalizedText, UnknownLang};
