//! `provenance.toml`: where a norm set came from and what it may be used for. Scores built on
//! demonstration norms carry the provenance's notice wherever they are written.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::NormError;
use crate::source::line_at;

const FILE: &str = "provenance.toml";

/// Whether norms may inform decisions about a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormStatus {
    /// Made from a stated model or a simulated sample: for demonstration and testing only.
    Demonstration,
    /// From a real standardisation sample, approved for clinical use.
    Clinical,
}

/// The parsed `provenance.toml`. Fields beyond these (a developmental model, fit statistics)
/// are kept by the tools that write them and ignored here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Battery id the norms belong to.
    pub battery: String,
    /// Demonstration or clinical.
    pub status: NormStatus,
    /// Text every output built on these norms must carry (required for demonstration norms).
    #[serde(default)]
    pub notice: String,
    /// How the tables were made.
    pub method: String,
    /// When the tables were made (ISO date).
    pub created: String,
    /// Children in the standardisation sample (0 for a stated model).
    pub sample_size: u64,
    /// Command or tool that produced the tables.
    #[serde(default)]
    pub generator: String,
    /// What the norms may be used for.
    pub intended_use: String,
}

impl Provenance {
    /// Parses `provenance.toml`.
    ///
    /// # Errors
    /// A [`NormError`] for TOML syntax, missing fields, or demonstration norms without a notice
    /// (reported at the `status` line).
    pub fn parse(text: &str) -> Result<Self, NormError> {
        let p: Provenance = toml::from_str(text).map_err(|e| NormError {
            file: FILE.into(),
            line: e.span().map(|s| line_at(text, s.start)),
            reason: e.message().to_owned(),
        })?;
        if p.status == NormStatus::Demonstration && p.notice.trim().is_empty() {
            return Err(NormError {
                file: FILE.into(),
                line: FieldLines::of(text).map(|l| l.status),
                reason: "demonstration norms need a notice (e.g. \"demonstration norms — not for clinical decisions\")"
                    .into(),
            });
        }
        Ok(p)
    }

    /// The notice outputs must carry: the provenance's notice for demonstration norms, none
    /// for clinical norms.
    pub fn output_notice(&self) -> Option<&str> {
        (self.status == NormStatus::Demonstration).then_some(self.notice.as_str())
    }
}

/// 1-based line of byte `offset` of `text`.
/// Lines of the fields that checks after parsing refer to.
struct FieldLines {
    battery: usize,
    status: usize,
}

impl FieldLines {
    /// The lines in `text`, a provenance file that parses.
    fn of(text: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Spans {
            battery: Spanned<String>,
            status: Spanned<NormStatus>,
        }
        let spans: Spans = toml::from_str(text).ok()?;
        Some(FieldLines {
            battery: line_at(text, spans.battery.span().start),
            status: line_at(text, spans.status.span().start),
        })
    }
}

/// The line of the `battery` field of `text`, a provenance file that parses, for reporting a
/// battery id that does not match `battery.toml`.
pub(super) fn battery_line(text: &str) -> Option<usize> {
    FieldLines::of(text).map(|l| l.battery)
}
