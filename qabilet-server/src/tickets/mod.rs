//! Printable ticket sheets for stage-1 screening: for every class, A4 pages of cut-out cards,
//! one per child, each with the child's code, the name (if given), the one-time ticket in
//! large monospace type and the QR code of the sign-in URL, so a child can sign in on a tablet
//! at `/take` by scanning the card or typing the ticket.
//!
//! [`ticket_sheets_pdf`] is pure: it takes the classes and a language and returns the PDF's
//! bytes (`krilla`, with the report's embedded DejaVu fonts, subset into the file). It reads
//! no file and stores nothing; where the tickets come from and where the PDF goes is the
//! caller's. Two passes, as for reports: [`layout`] places every mark on pages, then the pages
//! are drawn. [`qr`] makes the QR codes (level M, 4-module quiet zone).
//!
//! The card labels ("Code", "Ticket", "Class"), the page numbers and the document title come
//! from `assets/tickets/{kk,ru,en}.ftl` (Fluent, compiled into the binary, loaded with the
//! report's [`Texts`]; every key of [`KEYS`] in every file).

pub mod layout;
pub mod qr;

use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qabilet_core::Lang;
use thiserror::Error;

use crate::report::pdf::draw::{self, Fonts};
use crate::report::pdf::{PAGE_HEIGHT, PAGE_WIDTH};
use crate::report::texts::{Texts, TextsError};
use crate::report::{GENERATOR_VERSION, font};
use layout::{Face, Mark};

/// One class's tickets: its pages start on a new page, and their header names the cohort and
/// the class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSheet {
    /// The screening cohort (e.g. the school and the round), printed in every page's header.
    pub cohort: String,
    /// The class, e.g. `2Ә`.
    pub class: String,
    /// The children's cards, in print order; none gives one page saying the class has no
    /// children.
    pub cards: Vec<TicketCard>,
}

/// One child's cut-out card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCard {
    /// The child's code.
    pub code: String,
    /// The child's name; empty for none (cards without names are printed for anonymous
    /// screening).
    pub name: String,
    /// The one-time ticket, e.g. `K7QX2-M9TRD`: printed whole, never shortened.
    pub ticket: String,
    /// The sign-in URL, encoded in the QR code.
    pub url: String,
}

/// The sign-in address of `ticket` on the `/take` page at `base` (the address in its QR code).
pub fn ticket_url(base: &str, ticket: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}ticket={ticket}")
}

/// One sheet per class of the issued tickets (which come ordered by class), each card with
/// the child's code, name, ticket and sign-in address at `base`.
pub fn sheets(cohort: &str, issued: &[crate::app::IssuedTicket], base: &str) -> Vec<TicketSheet> {
    let mut sheets: Vec<TicketSheet> = Vec::new();
    for t in issued {
        if sheets.last().is_none_or(|s| s.class != t.class) {
            sheets.push(TicketSheet {
                cohort: cohort.to_owned(),
                class: t.class.clone(),
                cards: Vec::new(),
            });
        }
        if let Some(sheet) = sheets.last_mut() {
            sheet.cards.push(TicketCard {
                code: t.code.clone(),
                name: t.name(),
                ticket: t.ticket.clone(),
                url: ticket_url(base, &t.ticket),
            });
        }
    }
    sheets
}

/// Ticket sheets that cannot be printed.
#[derive(Debug, Error)]
pub enum TicketPdfError {
    /// No classes were given: there is nothing to print.
    #[error("no classes to print")]
    NoSheets,
    /// A card's ticket is empty, holds a space or a character the font lacks, or is too long
    /// to print in the card at a legible size.
    #[error("child {code}: {reason}")]
    Ticket {
        /// The child's code.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// A card's URL is too long for a QR code that prints legibly on a card.
    #[error("child {code}: the sign-in URL cannot be printed as a QR code: {reason}")]
    Url {
        /// The child's code.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// A text could not be formatted.
    #[error(transparent)]
    Texts(#[from] TextsError),
    /// The PDF writer failed.
    #[error("PDF: {0}")]
    Writer(String),
}

/// Every key the ticket sheets use.
pub const KEYS: &[&str] = &[
    "tickets-title",
    "ticket-class",
    "ticket-code",
    "ticket-ticket",
    "ticket-page",
    "ticket-no-children",
];

const SOURCES: [(Lang, &str, &str); 3] = [
    (
        Lang::Kk,
        "assets/tickets/kk.ftl",
        include_str!("../../assets/tickets/kk.ftl"),
    ),
    (
        Lang::Ru,
        "assets/tickets/ru.ftl",
        include_str!("../../assets/tickets/ru.ftl"),
    ),
    (
        Lang::En,
        "assets/tickets/en.ftl",
        include_str!("../../assets/tickets/en.ftl"),
    ),
];

/// The ticket sheets' texts in `lang`, checked to hold every key of [`KEYS`].
///
/// # Errors
/// A syntax error or a missing key in the compiled-in file (which the tests rule out).
pub fn texts(lang: Lang) -> Result<Texts, TextsError> {
    let (lang, file, source) = SOURCES
        .into_iter()
        .find(|(l, _, _)| *l == lang)
        .expect("every language has a file");
    let required: Vec<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
    Texts::parse(lang, file, source.to_owned(), &required)
}

/// The ticket sheets of `sheets` as one PDF in `lang`: every class from a new page, up to
/// [`layout::CARDS_PER_PAGE`] cards a page (see [`layout`] for the page and the card).
///
/// # Errors
/// [`TicketPdfError::NoSheets`] for an empty slice; [`TicketPdfError::Ticket`] and
/// [`TicketPdfError::Url`] name the first child whose card cannot be printed legibly;
/// [`TicketPdfError::Writer`] if the PDF writer fails.
pub fn ticket_sheets_pdf(sheets: &[TicketSheet], lang: Lang) -> Result<Vec<u8>, TicketPdfError> {
    let texts = texts(lang)?;
    let pages = layout::layout(sheets, &texts)?;
    let fonts = Fonts::load().ok_or_else(|| TicketPdfError::Writer("font".into()))?;
    let mono = Font::new(font::MONO_BOLD.into(), 0).ok_or_else(|| TicketPdfError::Writer("font".into()))?;
    let mut cohorts: Vec<&str> = Vec::new();
    for sheet in sheets {
        if !cohorts.contains(&sheet.cohort.trim()) {
            cohorts.push(sheet.cohort.trim());
        }
    }
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} — {}",
                texts.text("tickets-title")?,
                cohorts.join(", ")
            ))
            .language(lang.code().to_owned())
            .creator(format!("Qabilet {GENERATOR_VERSION}")),
    );
    let size = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
    for marks in &pages {
        let mut page = document.start_page_with(size.clone());
        let mut surface = page.surface();
        draw_page(&mut surface, &fonts, &mono, marks);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| TicketPdfError::Writer(format!("{e:?}")))
}

fn draw_page(surface: &mut Surface<'_>, fonts: &Fonts, mono: &Font, marks: &[Mark]) {
    for mark in marks {
        match mark {
            Mark::Text {
                x,
                y,
                size,
                face,
                color,
                text,
            } => match face {
                Face::Regular | Face::Bold => {
                    draw::text(surface, fonts, (*x, *y), *size, *face == Face::Bold, *color, text);
                }
                Face::Mono => {
                    surface.set_stroke(None);
                    surface.set_fill(Some(draw::fill(*color)));
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        mono.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::LeftToRight,
                    );
                }
            },
            Mark::Cut { from, to, color } => {
                let mut pb = PathBuilder::new();
                pb.move_to(from.0, from.1);
                pb.line_to(to.0, to.1);
                if let Some(path) = pb.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        dash: Some(StrokeDash {
                            array: vec![4.0, 3.0],
                            offset: 0.0,
                        }),
                        ..draw::stroke(*color, 0.6)
                    }));
                    surface.draw_path(&path);
                }
            }
            Mark::Qr { rects, color } => {
                // All modules as one path (the runs do not overlap): one fill per code.
                let mut pb = PathBuilder::new();
                for &(x, y, w, h) in rects {
                    if let Some(rect) = krilla::geom::Rect::from_xywh(x, y, w, h) {
                        pb.push_rect(rect);
                    }
                }
                if let Some(path) = pb.finish() {
                    surface.set_stroke(None);
                    surface.set_fill(Some(draw::fill(*color)));
                    surface.draw_path(&path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
