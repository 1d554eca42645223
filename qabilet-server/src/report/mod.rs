//! Rendering a consultation report ([`qabilet_core::report::ConsultationReport`]) for
//! parents and psychologists: a self-contained HTML page and a PDF, in Kazakh, Russian or
//! English, with the profile chart, the norm set and its provenance, the trace of every
//! recommendation and a psychologist's edits.
//!
//! Every word on the page comes from `norms/guidance/texts/<lang>.ftl` ([`Texts`]); the code
//! holds no user-facing string. One concept per file: [`texts`] (Fluent), [`items`] (a
//! psychologist's edits), [`chart`] (the profile chart), [`norm_facts`] (the closing section's
//! facts), [`html`], [`font`] (the embedded font and its metrics) and [`pdf`].

pub mod chart;
pub mod font;
pub mod html;
pub mod items;
pub mod norm_facts;
pub mod pdf;
pub mod texts;

#[cfg(test)]
pub(crate) mod fixtures;

use qabilet_core::NormSet;
use qabilet_core::guidance::GuidanceTables;
use qabilet_core::report::ConsultationReport;

pub use chart::ProfileChart;
pub use html::render_html;
pub use items::{Edit, EditsError, ReportEdits};
pub use pdf::{PdfError, render_pdf};
pub use texts::{Texts, TextsError};

/// Everything a renderer needs besides the texts: the report, the norm set it was built on
/// (battery names and index scale, provenance), the guidance tables (domain roles) and the
/// psychologist's edits (checked against the report by the caller with
/// [`ReportEdits::check`]).
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// The report.
    pub report: &'a ConsultationReport,
    /// The norm set the record was scored with (its hash equals the report's).
    pub norms: &'a NormSet,
    /// The guidance tables the report was built with.
    pub tables: &'a GuidanceTables,
    /// Edits by item id (empty for none).
    pub edits: &'a ReportEdits,
}

/// The version written in the footer of every page.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");
