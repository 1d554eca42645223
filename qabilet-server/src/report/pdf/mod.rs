//! The report as a PDF, in pure Rust (`krilla`, with the embedded DejaVu fonts of
//! [`super::font`], subset into the file): A4 portrait, 50 pt margins.
//!
//! Layout, top to bottom, breaking pages where the next block does not fit: the title, the
//! child's code and age, the demonstration-norms notice in a red frame (when the record
//! carries one), the profile chart (the same shapes as the HTML's SVG, drawn as vector
//! graphics), then the report's sections as wrapped paragraphs; under each item its evidence
//! or ISCO-08 groups and its trace in small print (rule, source file, facts); an edited item
//! shows the psychologist's text, who edited it and when, and the generated text beneath.
//! The norm set and its provenance close the report; every page has a footer with the
//! generator and "page n of N".
//!
//! Two passes: [`layout`] places every line on pages (pure, no PDF), then the pages are
//! drawn.
//!
//! The first pass is `layout.rs`, the second `draw.rs` (krilla).

pub(crate) mod draw;
mod layout;

use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use thiserror::Error;

use super::chart::ProfileChart;
use super::texts::{Texts, TextsError};
use super::{GENERATOR_VERSION, ReportContext};
pub use layout::{Layout, Op, PAGE_HEIGHT, PAGE_WIDTH, layout};

/// A report that cannot be made into a PDF.
#[derive(Debug, Error)]
pub enum PdfError {
    /// A text could not be formatted.
    #[error(transparent)]
    Texts(#[from] TextsError),
    /// The PDF writer failed.
    #[error("PDF: {0}")]
    Writer(String),
}

/// The PDF of a report in the language of `texts`.
///
/// # Errors
/// [`PdfError::Texts`] for a text that cannot be formatted, [`PdfError::Writer`] if the PDF
/// writer fails (e.g. a font it cannot embed).
pub fn render_pdf(ctx: &ReportContext<'_>, texts: &Texts) -> Result<Vec<u8>, PdfError> {
    let chart = ProfileChart::build(ctx.report, &ctx.norms.battery, ctx.tables, texts)?;
    let pages = layout(ctx, texts, &chart)?;
    let fonts = draw::Fonts::load().ok_or_else(|| PdfError::Writer("font".into()))?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} — {}",
                texts.text("report-title")?,
                ctx.report.record_id
            ))
            .language(texts.lang().code().to_owned())
            .creator(format!("Qabilet {GENERATOR_VERSION}")),
    );
    let size = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
    for ops in &pages.pages {
        let mut page = document.start_page_with(size.clone());
        let mut surface = page.surface();
        draw::page(&mut surface, &fonts, ops, &chart);
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError::Writer(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use qabilet_core::Lang;

    use super::*;
    use crate::report::fixtures::Fixture;
    use crate::report::items::ReportEdits;

    #[test]
    fn a_pdf_starts_and_ends_like_a_pdf() {
        let f = Fixture::load();
        let (_, report) = f.reports().remove(0);
        let none = ReportEdits::default();
        let ctx = ReportContext {
            report: &report,
            norms: &f.norms,
            tables: &f.tables,
            edits: &none,
        };
        let pdf = render_pdf(&ctx, f.texts(Lang::Kk)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.windows(5).any(|w| w == b"%%EOF"));
        assert!(pdf.len() < 400_000, "fonts are subset: {} bytes", pdf.len());
    }
}
