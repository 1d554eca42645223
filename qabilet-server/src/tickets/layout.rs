//! The first pass of a ticket sheet: the classes placed as marks on A4 pages (points from the
//! top-left corner), every text measured and shortened to its box. Pure: no PDF is written
//! here.
//!
//! A page: 10 mm margins; a header line (the cohort and the class on the left, "page i of n"
//! of the class on the right); below it a grid of [`COLUMNS`] × [`ROWS`] cards, filled row by
//! row, bounded by dashed cut lines. A card: on the left, top to bottom, the class, the child's
//! code, the child's name (if any) and the ticket in large monospace type; on the right, the
//! QR code of the sign-in URL with its quiet zone, vertically centred.

use qabilet_core::report::Arg;

use super::qr::{QrMatrix, Rect};
use super::{TicketCard, TicketPdfError, TicketSheet};
use crate::report::chart::{Color, colors};
use crate::report::font::{self, Metrics};
use crate::report::pdf::{PAGE_HEIGHT, PAGE_WIDTH};
use crate::report::texts::Texts;

/// Page margin: 10 mm.
pub const MARGIN: f32 = 28.35;
/// The header band above the grid.
pub const HEADER: f32 = 34.0;
/// Cards side by side.
pub const COLUMNS: usize = 2;
/// Rows of cards on a page.
pub const ROWS: usize = 5;
/// Cards on a full page.
pub const CARDS_PER_PAGE: usize = COLUMNS * ROWS;
/// A card's width (≈ 95 mm).
pub const CARD_WIDTH: f32 = (PAGE_WIDTH - 2.0 * MARGIN) / COLUMNS as f32;
/// A card's height (≈ 53 mm).
pub const CARD_HEIGHT: f32 = (PAGE_HEIGHT - 2.0 * MARGIN - HEADER) / ROWS as f32;
/// Space between a card's cut line and anything drawn in it.
pub const PADDING: f32 = 10.0;
/// The QR code's side with its quiet zone (≈ 40 mm).
pub const QR_SIDE: f32 = 112.0;
/// The narrowest module printed (≈ 0.6 mm): a URL whose code would need smaller modules is
/// refused rather than printed unreadable (up to version 10, 57 modules per side).
pub const MIN_MODULE: f32 = 1.7;
/// The width of a card's text column.
pub const TEXT_WIDTH: f32 = CARD_WIDTH - QR_SIDE - 3.0 * PADDING;
/// The ticket's type size, when it fits the text column.
pub const TICKET_SIZE: f32 = 20.0;
/// The smallest ticket type size; a ticket that does not fit at it is refused.
pub const MIN_TICKET_SIZE: f32 = 10.0;
const GREY: Color = Color(0x55, 0x55, 0x55);
const CUT: Color = Color(0x88, 0x88, 0x88);
const BLACK: Color = Color(0, 0, 0);

/// A typeface of the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
    /// DejaVu Sans Mono Bold (the ticket).
    Mono,
}

/// What is drawn on a page, in points from the top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A line of text, already shortened to fit.
    Text {
        /// Left.
        x: f32,
        /// Baseline.
        y: f32,
        /// Size in points.
        size: f32,
        /// Typeface.
        face: Face,
        /// Colour.
        color: Color,
        /// The text.
        text: String,
    },
    /// A dashed cut line.
    Cut {
        /// One end.
        from: (f32, f32),
        /// The other end.
        to: (f32, f32),
        /// Colour.
        color: Color,
    },
    /// A QR code's dark modules, filled.
    Qr {
        /// The rectangles.
        rects: Vec<Rect>,
        /// Colour.
        color: Color,
    },
}

/// The card in slot `slot` (0 to [`CARDS_PER_PAGE`] − 1, row by row): left, top, width,
/// height.
pub fn card_rect(slot: usize) -> Rect {
    let (col, row) = (slot % COLUMNS, slot / COLUMNS);
    (
        MARGIN + col as f32 * CARD_WIDTH,
        MARGIN + HEADER + row as f32 * CARD_HEIGHT,
        CARD_WIDTH,
        CARD_HEIGHT,
    )
}

/// The faces' metrics.
pub struct Measure {
    regular: Metrics,
    bold: Metrics,
    mono: Metrics,
}

impl Measure {
    /// The metrics of the embedded fonts.
    pub fn load() -> Measure {
        Measure {
            regular: Metrics::of(font::REGULAR),
            bold: Metrics::of(font::BOLD),
            mono: Metrics::of(font::MONO_BOLD),
        }
    }

    /// The metrics of `face`.
    pub fn of(&self, face: Face) -> &Metrics {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    /// `text` on one line no wider than `max` at `size`: as it is if it fits, otherwise cut
    /// between characters and ended with "…".
    pub fn fit(&self, face: Face, text: &str, size: f32, max: f32) -> String {
        let m = self.of(face);
        let text = text.trim();
        if m.width(text, size) <= max {
            return text.to_owned();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let candidate: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
            if m.width(&candidate, size) <= max {
                return candidate;
            }
        }
        String::new()
    }
}

/// The marks of every page, each class starting on a new page.
///
/// # Errors
/// [`TicketPdfError::NoSheets`] for no classes; [`TicketPdfError::Ticket`] or
/// [`TicketPdfError::Url`] for a card that cannot be printed readably; a text that cannot be
/// formatted.
pub fn layout(sheets: &[TicketSheet], texts: &Texts) -> Result<Vec<Vec<Mark>>, TicketPdfError> {
    if sheets.is_empty() {
        return Err(TicketPdfError::NoSheets);
    }
    let measure = Measure::load();
    let labels = Labels {
        class: texts.text("ticket-class")?,
        code: texts.text("ticket-code")?,
        ticket: texts.text("ticket-ticket")?,
    };
    let mut pages = Vec::new();
    for sheet in sheets {
        let chunks: Vec<&[TicketCard]> = if sheet.cards.is_empty() {
            vec![&[]]
        } else {
            sheet.cards.chunks(CARDS_PER_PAGE).collect()
        };
        for (n, chunk) in chunks.iter().enumerate() {
            let number = texts.format(
                "ticket-page",
                &[
                    ("page", &Arg::Int(n as i64 + 1)),
                    ("pages", &Arg::Int(chunks.len() as i64)),
                ],
            )?;
            let mut marks = header(&measure, sheet, &labels, &number);
            if chunk.is_empty() {
                let text = texts.text("ticket-no-children")?;
                marks.push(Mark::Text {
                    x: MARGIN,
                    y: MARGIN + HEADER + 14.0,
                    size: 11.0,
                    face: Face::Regular,
                    color: colors::INK,
                    text: measure.fit(Face::Regular, &text, 11.0, PAGE_WIDTH - 2.0 * MARGIN),
                });
            }
            for (slot, card) in chunk.iter().enumerate() {
                cut_lines(slot, &mut marks);
                card_marks(&measure, sheet, &labels, card, card_rect(slot), &mut marks)?;
            }
            pages.push(marks);
        }
    }
    Ok(pages)
}

struct Labels {
    class: String,
    code: String,
    ticket: String,
}

fn header(measure: &Measure, sheet: &TicketSheet, labels: &Labels, number: &str) -> Vec<Mark> {
    let right = PAGE_WIDTH - MARGIN;
    let number_width = measure.of(Face::Regular).width(number, 9.0);
    let title = format!(
        "{} · {}: {}",
        sheet.cohort.trim(),
        labels.class,
        sheet.class.trim()
    );
    let title_max = right - MARGIN - number_width - 12.0;
    vec![
        Mark::Text {
            x: MARGIN,
            y: MARGIN + 14.0,
            size: 12.0,
            face: Face::Bold,
            color: colors::INK,
            text: measure.fit(Face::Bold, &title, 12.0, title_max),
        },
        Mark::Text {
            x: right - number_width,
            y: MARGIN + 14.0,
            size: 9.0,
            face: Face::Regular,
            color: GREY,
            text: number.to_owned(),
        },
    ]
}

/// The card's bottom and right cut lines, and its top (left) one in the first row (column):
/// the cards fill rows in order, so every edge is drawn once.
fn cut_lines(slot: usize, marks: &mut Vec<Mark>) {
    let (x, y, w, h) = card_rect(slot);
    let mut cut = |from, to| marks.push(Mark::Cut { from, to, color: CUT });
    cut((x, y + h), (x + w, y + h));
    cut((x + w, y), (x + w, y + h));
    if slot < COLUMNS {
        cut((x, y), (x + w, y));
    }
    if slot.is_multiple_of(COLUMNS) {
        cut((x, y), (x, y + h));
    }
}

fn card_marks(
    measure: &Measure,
    sheet: &TicketSheet,
    labels: &Labels,
    card: &TicketCard,
    (x, y, w, h): Rect,
    marks: &mut Vec<Mark>,
) -> Result<(), TicketPdfError> {
    let refuse = |reason: String| TicketPdfError::Ticket {
        code: card.code.clone(),
        reason,
    };
    let ticket = card.ticket.trim();
    if ticket.is_empty() {
        return Err(refuse("the ticket is empty".into()));
    }
    if !measure.mono.covers(ticket) || ticket.chars().any(char::is_whitespace) {
        return Err(refuse(format!(
            "the ticket '{ticket}' has a character that cannot be printed"
        )));
    }
    let ticket_size = TICKET_SIZE.min(TEXT_WIDTH / measure.mono.width(ticket, 1.0));
    if ticket_size < MIN_TICKET_SIZE {
        return Err(refuse(format!("the ticket '{ticket}' is too long to print")));
    }
    let qr = QrMatrix::encode(&card.url).map_err(|e| TicketPdfError::Url {
        code: card.code.clone(),
        reason: e.to_string(),
    })?;
    let module = QR_SIDE / qr.side() as f32;
    if module < MIN_MODULE {
        return Err(TicketPdfError::Url {
            code: card.code.clone(),
            reason: format!(
                "the URL needs a QR code of {} modules, too fine to print on a card",
                qr.width()
            ),
        });
    }

    let left = x + PADDING;
    let top = y + PADDING;
    let mut text = |dy: f32, size: f32, face: Face, color: Color, s: &str| {
        marks.push(Mark::Text {
            x: left,
            y: top + dy,
            size,
            face,
            color,
            text: measure.fit(face, s, size, TEXT_WIDTH),
        });
    };
    text(
        8.0,
        8.0,
        Face::Regular,
        GREY,
        &format!("{}: {}", labels.class, sheet.class.trim()),
    );
    text(24.0, 8.0, Face::Regular, GREY, &labels.code);
    text(39.0, 13.0, Face::Bold, colors::INK, &card.code);
    if !card.name.trim().is_empty() {
        text(54.0, 10.0, Face::Regular, colors::INK, &card.name);
    }
    text(76.0, 8.0, Face::Regular, GREY, &labels.ticket);
    text(80.0 + ticket_size, ticket_size, Face::Mono, BLACK, ticket);

    let origin = (x + w - PADDING - QR_SIDE, y + (h - QR_SIDE) / 2.0);
    marks.push(Mark::Qr {
        rects: qr.rects(origin, module),
        color: BLACK,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use qabilet_core::Lang;

    use super::*;
    use crate::tickets::texts;

    fn card(i: usize, name: &str) -> TicketCard {
        TicketCard {
            code: format!("KZ-{i:04}"),
            name: name.to_owned(),
            ticket: format!("K7QX{}-M9TRD", i % 10),
            url: format!("https://qabilet.example.kz/take?ticket=K7QX{}-M9TRD", i % 10),
        }
    }

    fn texts_of(marks: &[Mark]) -> Vec<(&str, Face, f32, f32, f32)> {
        marks
            .iter()
            .filter_map(|m| match m {
                Mark::Text {
                    x,
                    y,
                    size,
                    face,
                    text,
                    ..
                } => Some((text.as_str(), *face, *x, *y, *size)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_mark_stays_in_its_card_or_the_header() {
        let long = "Әбдірахманқызы Ақмаржан-Гүлназ Нұрсұлтанқызы Жанұзақова-Бекмұхамбетова";
        let sheet = TicketSheet {
            cohort: "Астана, №54 мектеп-гимназия, 2026 жылғы көктемгі скрининг, бірінші кезең".repeat(2),
            class: "2Ә".repeat(40),
            cards: (0..13)
                .map(|i| {
                    let mut c = card(i, if i % 3 == 0 { "" } else { long });
                    c.code = c.code.repeat(1 + i % 4);
                    c
                })
                .collect(),
        };
        let measure = Measure::load();
        for lang in Lang::ALL {
            let pages = layout(std::slice::from_ref(&sheet), &texts(lang).unwrap()).unwrap();
            assert_eq!(pages.len(), 2);
            for marks in &pages {
                for (text, face, x, y, size) in texts_of(marks) {
                    let right = x + measure.of(face).width(text, size);
                    assert!(!text.is_empty());
                    if y < MARGIN + HEADER {
                        assert!(x >= MARGIN && right <= PAGE_WIDTH - MARGIN + 0.01, "{text}");
                        continue;
                    }
                    let (cx, cy, _, ch) = (0..CARDS_PER_PAGE)
                        .map(card_rect)
                        .find(|&(cx, cy, cw, ch)| x > cx && x < cx + cw && y > cy && y < cy + ch)
                        .unwrap_or_else(|| panic!("{text} is in no card"));
                    assert!(x >= cx + PADDING, "{text}");
                    assert!(right <= cx + PADDING + TEXT_WIDTH + 0.01, "{lang:?}: {text}");
                    assert!(y + size * 0.3 <= cy + ch - PADDING, "{text}");
                }
                for m in marks {
                    if let Mark::Qr { rects, .. } = m {
                        for &(x, y, w, h) in rects {
                            let slot = (0..CARDS_PER_PAGE)
                                .map(card_rect)
                                .find(|&(cx, cy, cw, ch)| x > cx && x < cx + cw && y > cy && y < cy + ch)
                                .expect("a QR module in a card");
                            assert!(x + w <= slot.0 + slot.2 - PADDING + 0.01);
                            assert!(y + h <= slot.1 + slot.3 - PADDING + 0.01);
                        }
                    }
                }
            }
            let all: Vec<&str> = pages.iter().flat_map(|m| texts_of(m)).map(|t| t.0).collect();
            assert!(
                all.iter()
                    .any(|t| t.starts_with("Әбдірахманқызы") && t.ends_with('…'))
            );
            assert!(
                !all.iter().any(|t| t.contains("Жанұзақова")),
                "a long name is shortened"
            );
            assert!(all.contains(&"K7QX3-M9TRD"), "a ticket is never shortened");
        }
    }

    #[test]
    fn cut_lines_are_drawn_once_around_the_cards_present() {
        let sheet = TicketSheet {
            cohort: "C".into(),
            class: "1A".into(),
            cards: (0..3).map(|i| card(i, "")).collect(),
        };
        let pages = layout(&[sheet], &texts(Lang::En).unwrap()).unwrap();
        let cuts: Vec<((f32, f32), (f32, f32))> = pages[0]
            .iter()
            .filter_map(|m| match m {
                Mark::Cut { from, to, .. } => Some((*from, *to)),
                _ => None,
            })
            .collect();
        // Two cards in the first row (7 edges), one in the second (3 more).
        assert_eq!(cuts.len(), 10);
        for (i, a) in cuts.iter().enumerate() {
            assert!(!cuts[i + 1..].contains(a), "{a:?} twice");
        }
        let (x, y, w, h) = card_rect(2);
        assert!(cuts.contains(&((x, y + h), (x + w, y + h))));
        let (x3, y3, w3, h3) = card_rect(3);
        assert!(
            !cuts.contains(&((x3, y3 + h3), (x3 + w3, y3 + h3))),
            "no card in slot 3"
        );
        assert!(!cuts.contains(&((x3 + w3, y3), (x3 + w3, y3 + h3))));
    }

    #[test]
    fn unprintable_tickets_and_urls_are_refused_with_the_child_code() {
        let t = texts(Lang::En).unwrap();
        let sheet = |c: TicketCard| TicketSheet {
            cohort: "C".into(),
            class: "1A".into(),
            cards: vec![c],
        };
        let mut c = card(1, "");
        c.ticket = " ".into();
        assert!(
            matches!(layout(&[sheet(c)], &t), Err(TicketPdfError::Ticket { code, .. }) if code == "KZ-0001")
        );
        let mut c = card(1, "");
        c.ticket = "K7QX2".repeat(6);
        assert!(matches!(
            layout(&[sheet(c)], &t),
            Err(TicketPdfError::Ticket { .. })
        ));
        let mut c = card(1, "");
        c.ticket = "K7QX2 M9TRD".into();
        assert!(matches!(
            layout(&[sheet(c)], &t),
            Err(TicketPdfError::Ticket { .. })
        ));
        let mut c = card(1, "");
        c.url = format!("https://qabilet.example.kz/take?t={}", "x".repeat(400));
        assert!(matches!(layout(&[sheet(c)], &t), Err(TicketPdfError::Url { .. })));
        // 20 characters still fit, and a URL of 200 bytes still gives modules of ≥ 0.6 mm.
        let mut c = card(1, "");
        c.ticket = "K7QX2-M9TRD-K7QX2-M9".into();
        c.url = format!("https://qabilet.example.kz/take?t={}", "x".repeat(160));
        assert!(layout(&[sheet(c)], &t).is_ok());
    }
}
