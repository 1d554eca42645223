//! The first pass of the PDF: the report placed as lines, frames and the chart on A4 pages
//! (points from the top-left corner), breaking pages where the next block does not fit, and
//! the footers added once the page count is known. Pure: no PDF is written here.

use qabilet_core::report::{Arg, EditableItem, TraceStep};

use super::super::chart::{Color, ProfileChart, WIDTH as CHART_WIDTH, colors};
use super::super::font::{self, Metrics};
use super::super::norm_facts::{FactValue, NormFacts};
use super::super::texts::{Texts, TextsError, plain};
use super::super::{GENERATOR_VERSION, ReportContext};

/// A4 width in points.
pub const PAGE_WIDTH: f32 = 595.28;
/// A4 height in points.
pub const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const CONTENT: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN - 14.0;
const GREY: Color = Color(0x55, 0x55, 0x55);
const RED: Color = Color(0x99, 0x00, 0x00);

/// What is drawn on a page, in points from the top-left corner (a text's y is its baseline).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A line of text.
    Text {
        /// Left.
        x: f32,
        /// Baseline.
        y: f32,
        /// Size in points.
        size: f32,
        /// Bold face.
        bold: bool,
        /// Colour.
        color: Color,
        /// The text.
        text: String,
    },
    /// A framed box.
    Frame {
        /// The rectangle: left, top, width, height.
        rect: (f32, f32, f32, f32),
        /// Border colour.
        color: Color,
    },
    /// The profile chart at (x, y), scaled.
    Chart {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Points per chart unit.
        scale: f32,
    },
}

/// Pages of drawing operations.
pub struct Layout {
    /// The pages, each a list of operations.
    pub pages: Vec<Vec<Op>>,
    y: f32,
    regular: Metrics,
    bold: Metrics,
}

/// A paragraph's style.
#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    color: Color,
    indent: f32,
}

const BODY: Style = Style {
    size: 10.0,
    bold: false,
    color: colors::INK,
    indent: 0.0,
};
const SMALL: Style = Style {
    size: 8.0,
    bold: false,
    color: GREY,
    indent: 10.0,
};
const TRACE: Style = Style {
    size: 6.5,
    bold: false,
    color: GREY,
    indent: 10.0,
};

impl Layout {
    fn new() -> Self {
        Layout {
            pages: vec![Vec::new()],
            y: MARGIN,
            regular: Metrics::of(font::REGULAR),
            bold: Metrics::of(font::BOLD),
        }
    }

    fn metrics(&self, bold: bool) -> &Metrics {
        if bold { &self.bold } else { &self.regular }
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    fn lines(&self, text: &str, style: Style) -> Vec<String> {
        self.metrics(style.bold)
            .wrap(text, style.size, CONTENT - style.indent)
    }

    fn paragraph(&mut self, text: &str, style: Style) {
        let leading = style.size * 1.35;
        for line in self.lines(text, style) {
            self.ensure(leading);
            let op = Op::Text {
                x: MARGIN + style.indent,
                y: self.y + style.size,
                size: style.size,
                bold: style.bold,
                color: style.color,
                text: line,
            };
            self.push(op);
            self.y += leading;
        }
    }

    fn heading(&mut self, text: &str) {
        self.y += 10.0;
        self.ensure(50.0); // keep with the first lines of the section
        self.paragraph(
            text,
            Style {
                size: 12.5,
                bold: true,
                ..BODY
            },
        );
        self.y += 3.0;
    }

    fn notice(&mut self, text: &str) {
        let style = Style {
            size: 10.5,
            bold: true,
            color: RED,
            indent: 8.0,
        };
        let lines = self.metrics(true).wrap(text, style.size, CONTENT - 16.0);
        let height = lines.len() as f32 * style.size * 1.35 + 12.0;
        self.ensure(height);
        self.push(Op::Frame {
            rect: (MARGIN, self.y, CONTENT, height),
            color: RED,
        });
        self.y += 6.0;
        for line in lines {
            let op = Op::Text {
                x: MARGIN + style.indent,
                y: self.y + style.size,
                size: style.size,
                bold: true,
                color: RED,
                text: line,
            };
            self.push(op);
            self.y += style.size * 1.35;
        }
        self.y += 10.0;
    }

    fn chart(&mut self, chart: &ProfileChart) {
        let scale = CONTENT / CHART_WIDTH as f32;
        let height = chart.height as f32 * scale;
        self.ensure(height);
        self.push(Op::Chart {
            x: MARGIN,
            y: self.y,
            scale,
        });
        self.y += height + 6.0;
    }
}

fn trace_line(texts: &Texts, step: &TraceStep) -> Result<String, TextsError> {
    let mut line = format!(
        "{}: {}; {}: {}",
        texts.text("label-rule")?,
        step.rule,
        texts.text("label-source")?,
        step.source
    );
    if !step.facts.is_empty() {
        let facts: Vec<String> = step
            .facts
            .iter()
            .map(|(k, v)| format!("{k} = {}", plain(v)))
            .collect();
        line.push_str(&format!("; {}: {}", texts.text("label-facts")?, facts.join(", ")));
    }
    Ok(line)
}

fn item(
    l: &mut Layout,
    ctx: &ReportContext<'_>,
    texts: &Texts,
    item: &EditableItem<'_>,
) -> Result<(), TextsError> {
    let generated = texts.message(item.message)?;
    l.ensure(30.0);
    match ctx.edits.get(&item.id) {
        Some(edit) => {
            l.paragraph(&edit.text, BODY);
            let meta = texts.format(
                "label-edited",
                &[
                    ("author", &Arg::Text(edit.author.clone())),
                    ("time", &Arg::Text(edit.time.clone())),
                ],
            )?;
            l.paragraph(&meta, SMALL);
            l.paragraph(&format!("{}: {generated}", texts.text("label-generated")?), SMALL);
        }
        None => l.paragraph(&generated, BODY),
    }
    if let Some(evidence) = item.evidence {
        let text = format!(
            "{}: {}",
            texts.text("label-evidence")?,
            texts.text(&format!("evidence-{}", evidence.code()))?
        );
        l.paragraph(&text, SMALL);
    }
    if !item.isco08.is_empty() {
        l.paragraph(
            &format!("{}: {}", texts.text("label-isco")?, item.isco08.join(", ")),
            SMALL,
        );
    }
    for step in item.trace {
        l.paragraph(&trace_line(texts, step)?, TRACE);
    }
    l.y += 4.0;
    Ok(())
}

/// Places the whole report on pages (with footers).
///
/// # Errors
/// A text that cannot be formatted.
pub fn layout(ctx: &ReportContext<'_>, texts: &Texts, chart: &ProfileChart) -> Result<Layout, TextsError> {
    let report = ctx.report;
    let mut l = Layout::new();
    l.paragraph(
        &texts.text("report-title")?,
        Style {
            size: 16.0,
            bold: true,
            ..BODY
        },
    );
    l.y += 4.0;
    let child = format!("{}: {}", texts.text("label-child")?, report.record_id);
    l.paragraph(
        &child,
        Style {
            size: 11.0,
            bold: true,
            ..BODY
        },
    );
    l.paragraph(&format!("{}: {}", texts.text("label-age")?, report.age), BODY);
    l.y += 6.0;
    if report.notice.is_some() {
        l.notice(&texts.text("caveat-demonstration")?);
    }
    for section in report.sections() {
        if section.items.is_empty() {
            continue;
        }
        l.heading(&texts.text(section.heading)?);
        if section.heading == "section-profile" {
            l.chart(chart);
        }
        for i in &section.items {
            item(&mut l, ctx, texts, i)?;
        }
    }
    norm_set(&mut l, ctx, texts)?;

    // Footers, now that the page count is known.
    let footer = texts.format(
        "generated-by",
        &[("version", &Arg::Text(GENERATOR_VERSION.into()))],
    )?;
    let pages = l.pages.len();
    let footer_lines = l.regular.wrap(&footer, 7.0, CONTENT - 90.0);
    for (n, page) in l.pages.iter_mut().enumerate() {
        let number = texts.format(
            "page-number",
            &[
                ("page", &Arg::Int(n as i64 + 1)),
                ("pages", &Arg::Int(pages as i64)),
            ],
        )?;
        for (k, line) in footer_lines.iter().enumerate() {
            page.push(Op::Text {
                x: MARGIN,
                y: PAGE_HEIGHT - MARGIN + 8.0 * k as f32,
                size: 7.0,
                bold: false,
                color: GREY,
                text: line.clone(),
            });
        }
        let width = l.regular.width(&number, 7.0);
        page.push(Op::Text {
            x: PAGE_WIDTH - MARGIN - width,
            y: PAGE_HEIGHT - MARGIN,
            size: 7.0,
            bold: false,
            color: GREY,
            text: number,
        });
    }
    Ok(l)
}

fn norm_set(l: &mut Layout, ctx: &ReportContext<'_>, texts: &Texts) -> Result<(), TextsError> {
    let facts = NormFacts::of(ctx, texts)?;
    l.heading(&facts.heading);
    for (label, value) in &facts.rows {
        let value = match value {
            FactValue::Text(s) | FactValue::Code(s) => s.clone(),
            FactValue::Named { name, code } => format!("{name} ({code})"),
        };
        l.paragraph(&format!("{label}: {value}"), BODY);
    }
    if let Some((label, notice)) = &facts.notice {
        let style = Style {
            bold: true,
            color: RED,
            ..BODY
        };
        l.paragraph(&format!("{label}: {notice}"), style);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use qabilet_core::Lang;

    use super::*;
    use crate::report::fixtures::Fixture;
    use crate::report::items::ReportEdits;

    #[test]
    fn every_line_fits_the_page_and_every_page_has_a_footer() {
        let f = Fixture::load();
        let none = ReportEdits::default();
        let metrics = Metrics::of(font::REGULAR);
        let bold = Metrics::of(font::BOLD);
        for (id, report) in f.reports().into_iter().take(8) {
            let ctx = ReportContext {
                report: &report,
                norms: &f.norms,
                tables: &f.tables,
                edits: &none,
            };
            for lang in Lang::ALL {
                let texts = f.texts(lang);
                let chart = ProfileChart::build(&report, &f.norms.battery, &f.tables, texts).unwrap();
                let l = layout(&ctx, texts, &chart).unwrap();
                assert!(l.pages.len() >= 2, "{id}: a full report takes more than a page");
                for (n, page) in l.pages.iter().enumerate() {
                    let number = texts
                        .format(
                            "page-number",
                            &[
                                ("page", &Arg::Int(n as i64 + 1)),
                                ("pages", &Arg::Int(l.pages.len() as i64)),
                            ],
                        )
                        .unwrap();
                    assert!(
                        page.iter()
                            .any(|op| matches!(op, Op::Text { text, .. } if *text == number))
                    );
                    for op in page {
                        if let Op::Text {
                            x,
                            y,
                            size,
                            bold: b,
                            text,
                            ..
                        } = op
                        {
                            let w = if *b { &bold } else { &metrics }.width(text, *size);
                            assert!(
                                *x >= MARGIN - 0.01 && x + w <= PAGE_WIDTH - MARGIN + 0.01,
                                "{id} {lang:?}: {text}"
                            );
                            assert!(*y > MARGIN && *y <= PAGE_HEIGHT - MARGIN + 20.0, "{text}");
                        }
                    }
                }
                let charts = l
                    .pages
                    .iter()
                    .flatten()
                    .filter(|op| matches!(op, Op::Chart { .. }))
                    .count();
                assert_eq!(charts, 1);
            }
        }
    }
}
