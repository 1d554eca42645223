//! The profile chart: one row per index (the general composite first, then battery order),
//! the index as a dot, its 90 % interval as a band, the average range of the battery's
//! classification shaded, on the battery's index scale (40–160 for the demonstration
//! battery) with ticks every standard deviation.
//!
//! The chart is built once as plain shapes in chart units (1 unit = 1 CSS pixel); the HTML
//! renderer writes them as SVG ([`ProfileChart::svg`]) and the PDF renderer draws the same
//! shapes natively, so both show the same picture. Output is deterministic: the same report
//! gives the same bytes (numbers with at most two decimals). Texts come from the `.ftl`
//! files; only a generic font family is named.

use std::fmt::Write as _;

use qabilet_core::battery::Battery;
use qabilet_core::guidance::{DomainRole, GuidanceTables};
use qabilet_core::report::{Arg, ConsultationReport};

use super::texts::{Texts, TextsError};
use crate::svg::{escape, num};

/// Width of the chart in chart units.
pub const WIDTH: f64 = 640.0;
const PLOT_LEFT: f64 = 190.0;
const PLOT_RIGHT: f64 = 530.0;
const VALUE_X: f64 = 540.0;
const TOP: f64 = 8.0;
const ROW: f64 = 28.0;
const BAND_HEIGHT: f64 = 10.0;
const DOT_RADIUS: f64 = 5.0;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Colours of the chart.
pub mod colors {
    use super::Color;
    /// Text and axis.
    pub const INK: Color = Color(0x22, 0x22, 0x22);
    /// Grid lines.
    pub const GRID: Color = Color(0xcc, 0xcc, 0xcc);
    /// The average range.
    pub const AVERAGE: Color = Color(0xe2, 0xee, 0xe2);
    /// A confidence band.
    pub const BAND: Color = Color(0x9d, 0xbd, 0xdb);
    /// The index dot.
    pub const DOT: Color = Color(0x1f, 0x4e, 0x79);
}

/// Where a text's x coordinate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// At the text's start.
    Start,
    /// At its middle.
    Middle,
    /// At its end.
    End,
}

/// A shape of the chart, in chart units (y grows downwards; a text's y is its baseline).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled rectangle.
    Rect {
        /// Left.
        x: f64,
        /// Top.
        y: f64,
        /// Width.
        w: f64,
        /// Height.
        h: f64,
        /// Fill.
        fill: Color,
    },
    /// A straight line.
    Line {
        /// Start x.
        x1: f64,
        /// Start y.
        y1: f64,
        /// End x.
        x2: f64,
        /// End y.
        y2: f64,
        /// Stroke colour.
        stroke: Color,
        /// Stroke width.
        width: f64,
    },
    /// A filled circle.
    Circle {
        /// Centre x.
        cx: f64,
        /// Centre y.
        cy: f64,
        /// Radius.
        r: f64,
        /// Fill.
        fill: Color,
    },
    /// A line of text.
    Text {
        /// Anchor x.
        x: f64,
        /// Baseline y.
        y: f64,
        /// Font size.
        size: f64,
        /// Bold.
        bold: bool,
        /// Anchor.
        anchor: Anchor,
        /// The text.
        text: String,
    },
}

/// The index axis: scores `min..=max` drawn from `left` to `right`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// Lowest score.
    pub min: f64,
    /// Highest score.
    pub max: f64,
    /// x of `min`.
    pub left: f64,
    /// x of `max`.
    pub right: f64,
}

impl Axis {
    /// The x coordinate of a score (clamped to the axis).
    pub fn x(&self, score: f64) -> f64 {
        let s = score.clamp(self.min, self.max);
        self.left + (s - self.min) / (self.max - self.min) * (self.right - self.left)
    }
}

/// Where one row's marks are (for checks).
#[derive(Debug, Clone, PartialEq)]
pub struct RowMarks {
    /// Domain key.
    pub domain: String,
    /// x of the band's ends (interval bounds).
    pub band: (f64, f64),
    /// x of the dot (index).
    pub dot: f64,
}

/// The chart: its size, its shapes in drawing order and the rows' marks.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileChart {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The axis.
    pub axis: Axis,
    /// The accessible title (the section heading).
    pub title: String,
    /// Shapes, back to front.
    pub shapes: Vec<Shape>,
    /// Rows, top to bottom.
    pub rows: Vec<RowMarks>,
}

fn text(x: f64, y: f64, size: f64, anchor: Anchor, text: String) -> Shape {
    Shape::Text {
        x,
        y,
        size,
        bold: false,
        anchor,
        text,
    }
}

impl ProfileChart {
    /// Builds the chart of `report`'s profile rows.
    ///
    /// # Errors
    /// A text that cannot be formatted.
    pub fn build(
        report: &ConsultationReport,
        battery: &Battery,
        tables: &GuidanceTables,
        texts: &Texts,
    ) -> Result<Self, TextsError> {
        let scale = battery.index_scale;
        let axis = Axis {
            min: f64::from(scale.min),
            max: f64::from(scale.max),
            left: PLOT_LEFT,
            right: PLOT_RIGHT,
        };
        let is_general = |domain: &str| {
            tables
                .domain(domain)
                .is_some_and(|d| d.role == DomainRole::General)
        };
        let mut rows: Vec<_> = report.profile.iter().collect();
        rows.sort_by_key(|r| !is_general(&r.domain)); // stable: battery order otherwise
        let bottom = TOP + ROW * rows.len() as f64;
        let mut shapes = Vec::new();

        // The average range: the classification band holding the scale's mean.
        let average = battery.classification.band_of(scale.mean.round() as i32);
        let (avg_low, avg_high) = (
            f64::from(average.min.unwrap_or(scale.min)),
            f64::from(average.max.unwrap_or(scale.max)),
        );
        shapes.push(Shape::Rect {
            x: axis.x(avg_low),
            y: TOP,
            w: axis.x(avg_high) - axis.x(avg_low),
            h: bottom - TOP,
            fill: colors::AVERAGE,
        });
        // Ticks every standard deviation from the mean, within the scale.
        for score in scale.sd_ticks() {
            let at_mean = score == scale.mean;
            let x = axis.x(score);
            shapes.push(Shape::Line {
                x1: x,
                y1: TOP,
                x2: x,
                y2: bottom + 4.0,
                stroke: if at_mean { colors::INK } else { colors::GRID },
                width: if at_mean { 1.0 } else { 0.75 },
            });
            shapes.push(text(x, bottom + 16.0, 10.0, Anchor::Middle, num(score)));
        }
        shapes.push(Shape::Line {
            x1: axis.left,
            y1: bottom,
            x2: axis.right,
            y2: bottom,
            stroke: colors::INK,
            width: 1.0,
        });
        shapes.push(text(
            (axis.left + axis.right) / 2.0,
            bottom + 32.0,
            10.0,
            Anchor::Middle,
            texts.text("chart-axis")?,
        ));

        let mut marks = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let centre = TOP + ROW * (i as f64 + 0.5);
            let (x0, x1) = (axis.x(f64::from(row.ci_low)), axis.x(f64::from(row.ci_high)));
            let dot = axis.x(f64::from(row.index));
            shapes.push(Shape::Text {
                x: PLOT_LEFT - 8.0,
                y: centre + 4.0,
                size: 11.0,
                bold: is_general(&row.domain),
                anchor: Anchor::End,
                text: texts.text(&row.name_key)?,
            });
            shapes.push(Shape::Rect {
                x: x0,
                y: centre - BAND_HEIGHT / 2.0,
                w: x1 - x0,
                h: BAND_HEIGHT,
                fill: colors::BAND,
            });
            shapes.push(Shape::Circle {
                cx: dot,
                cy: centre,
                r: DOT_RADIUS,
                fill: colors::DOT,
            });
            shapes.push(text(
                VALUE_X,
                centre + 4.0,
                11.0,
                Anchor::Start,
                format!("{} ({}–{})", row.index, row.ci_low, row.ci_high),
            ));
            marks.push(RowMarks {
                domain: row.domain.clone(),
                band: (x0, x1),
                dot,
            });
        }

        // Legend: the average range and the interval.
        let legend = bottom + 48.0;
        let low = Arg::Int(avg_low as i64);
        let high = Arg::Int(avg_high as i64);
        shapes.push(Shape::Rect {
            x: PLOT_LEFT,
            y: legend - 9.0,
            w: 18.0,
            h: 10.0,
            fill: colors::AVERAGE,
        });
        shapes.push(text(
            PLOT_LEFT + 24.0,
            legend,
            10.0,
            Anchor::Start,
            texts.format("chart-average", &[("low", &low), ("high", &high)])?,
        ));
        shapes.push(Shape::Rect {
            x: PLOT_LEFT,
            y: legend + 7.0,
            w: 18.0,
            h: BAND_HEIGHT,
            fill: colors::BAND,
        });
        shapes.push(Shape::Circle {
            cx: PLOT_LEFT + 9.0,
            cy: legend + 12.0,
            r: DOT_RADIUS - 1.0,
            fill: colors::DOT,
        });
        shapes.push(text(
            PLOT_LEFT + 24.0,
            legend + 16.0,
            10.0,
            Anchor::Start,
            texts.text("label-ci")?,
        ));

        Ok(ProfileChart {
            width: WIDTH,
            height: legend + 26.0,
            axis,
            title: texts.text("section-profile")?,
            shapes,
            rows: marks,
        })
    }

    /// The chart as a standalone SVG element.
    pub fn svg(&self) -> String {
        let mut s = String::with_capacity(4096);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
             role=\"img\" font-family=\"DejaVu Sans, Verdana, sans-serif\"><title>{t}</title>",
            w = num(self.width),
            h = num(self.height),
            t = escape(&self.title)
        );
        for shape in &self.shapes {
            match shape {
                Shape::Rect { x, y, w, h, fill } => {
                    let _ = write!(
                        s,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                        num(*x),
                        num(*y),
                        num(*w),
                        num(*h),
                        fill.hex()
                    );
                }
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    stroke,
                    width,
                } => {
                    let _ = write!(
                        s,
                        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
                        num(*x1),
                        num(*y1),
                        num(*x2),
                        num(*y2),
                        stroke.hex(),
                        num(*width)
                    );
                }
                Shape::Circle { cx, cy, r, fill } => {
                    let _ = write!(
                        s,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"/>",
                        num(*cx),
                        num(*cy),
                        num(*r),
                        fill.hex()
                    );
                }
                Shape::Text {
                    x,
                    y,
                    size,
                    bold,
                    anchor,
                    text,
                } => {
                    let anchor = match anchor {
                        Anchor::Start => "start",
                        Anchor::Middle => "middle",
                        Anchor::End => "end",
                    };
                    let weight = if *bold { " font-weight=\"bold\"" } else { "" };
                    let _ = write!(
                        s,
                        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{}\"{weight}>{}</text>",
                        num(*x),
                        num(*y),
                        num(*size),
                        colors::INK.hex(),
                        escape(text)
                    );
                }
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn bands_and_dots_sit_at_the_scores_on_the_axis() {
        let f = fixtures::Fixture::load();
        for (_, report) in f.reports() {
            let chart = ProfileChart::build(
                &report,
                &f.norms.battery,
                &f.tables,
                f.texts(qabilet_core::Lang::En),
            )
            .expect("chart");
            let axis = chart.axis;
            assert_eq!((axis.min, axis.max), (40.0, 160.0));
            // 40 → left edge, 160 → right edge, 100 in the middle.
            assert_eq!(axis.x(40.0), PLOT_LEFT);
            assert_eq!(axis.x(160.0), PLOT_RIGHT);
            assert_eq!(axis.x(100.0), (PLOT_LEFT + PLOT_RIGHT) / 2.0);
            assert_eq!(chart.rows.len(), report.profile.len());
            if report.profile.iter().any(|r| r.domain == "general") {
                assert_eq!(chart.rows[0].domain, "general", "general first");
            }
            for marks in &chart.rows {
                let row = report.profile.iter().find(|r| r.domain == marks.domain).unwrap();
                let at = |score: i32| PLOT_LEFT + f64::from(score - 40) / 120.0 * (PLOT_RIGHT - PLOT_LEFT);
                assert!((marks.band.0 - at(row.ci_low)).abs() < 1e-9, "{marks:?}");
                assert!((marks.band.1 - at(row.ci_high)).abs() < 1e-9, "{marks:?}");
                assert!((marks.dot - at(row.index)).abs() < 1e-9);
                assert!(marks.band.0 <= marks.dot && marks.dot <= marks.band.1);
                // The band is drawn as a rectangle spanning exactly those x.
                assert!(chart.shapes.iter().any(|s| matches!(s,
                    Shape::Rect { x, w, fill, .. } if *fill == colors::BAND
                        && (*x - marks.band.0).abs() < 1e-9
                        && (*x + *w - marks.band.1).abs() < 1e-9)));
            }
            // The shaded average range is 90–109.
            assert!(chart.shapes.iter().any(|s| matches!(s,
                Shape::Rect { x, w, fill, .. } if *fill == colors::AVERAGE && *x == axis.x(90.0)
                    && (*x + *w - axis.x(109.0)).abs() < 1e-9)));
        }
    }

    #[test]
    fn the_svg_is_deterministic_escaped_and_well_formed() {
        let f = fixtures::Fixture::load();
        let (_, report) = f.reports().remove(0);
        let build = || {
            ProfileChart::build(
                &report,
                &f.norms.battery,
                &f.tables,
                f.texts(qabilet_core::Lang::Kk),
            )
            .unwrap()
            .svg()
        };
        let svg = build();
        assert_eq!(svg, build());
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let circles = doc.descendants().filter(|n| n.has_tag_name("circle")).count();
        assert_eq!(
            circles,
            report.profile.len() + 1,
            "a dot per row and one in the legend"
        );
        assert!(svg.contains("Жалпы қабілет"), "Kazakh labels");
        assert!(
            svg.contains(">40<") && svg.contains(">160<"),
            "axis ends labelled"
        );
        let mut chart = ProfileChart::build(
            &report,
            &f.norms.battery,
            &f.tables,
            f.texts(qabilet_core::Lang::En),
        )
        .unwrap();
        chart.title = "a < b & \"c\"".into();
        assert!(
            chart
                .svg()
                .contains("<title>a &lt; b &amp; &quot;c&quot;</title>")
        );
    }
}
