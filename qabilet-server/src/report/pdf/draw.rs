//! The second pass of the PDF: a laid-out page's operations and the profile chart's shapes
//! drawn on a krilla surface (the chart is the HTML's picture, drawn as vector graphics).
//! The ticket sheets ([`crate::tickets`]) draw with the same fonts and helpers.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::super::chart::{Anchor, Color, ProfileChart, Shape, colors};
use super::super::font::{self, Metrics};
use super::layout::Op;

/// A solid fill of `color`.
pub(crate) fn fill(color: Color) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        ..Fill::default()
    }
}

/// A solid stroke of `color`, `width` points wide.
pub(crate) fn stroke(color: Color, width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        width,
        ..Stroke::default()
    }
}

/// The rectangle (left, top, width, height) as a path; `None` for a non-finite one.
pub(crate) fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(Rect::from_xywh(x, y, w.max(0.01), h.max(0.01))?);
    pb.finish()
}

fn circle_path(cx: f32, cy: f32, r: f32) -> Option<krilla::geom::Path> {
    const K: f32 = 0.552_284_8; // cubic Bézier approximation of a quarter circle
    let k = K * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    pb.finish()
}

/// The embedded faces, for krilla and for measuring text.
pub struct Fonts {
    regular: Font,
    bold: Font,
    regular_metrics: Metrics,
    bold_metrics: Metrics,
}

impl Fonts {
    /// The DejaVu faces of [`font`]; `None` if krilla cannot read one.
    pub fn load() -> Option<Fonts> {
        Some(Fonts {
            regular: Font::new(font::REGULAR.into(), 0)?,
            bold: Font::new(font::BOLD.into(), 0)?,
            regular_metrics: Metrics::of(font::REGULAR),
            bold_metrics: Metrics::of(font::BOLD),
        })
    }
}

/// Draws one laid-out page; `chart` is what an [`Op::Chart`] places.
pub fn page(surface: &mut Surface<'_>, fonts: &Fonts, ops: &[Op], chart: &ProfileChart) {
    for op in ops {
        match op {
            Op::Text {
                x,
                y,
                size,
                bold,
                color,
                text: s,
            } => text(surface, fonts, (*x, *y), *size, *bold, *color, s),
            Op::Frame { rect, color } => {
                if let Some(path) = rect_path(rect.0, rect.1, rect.2, rect.3) {
                    surface.set_fill(Some(Fill {
                        paint: rgb::Color::new(0xff, 0xf2, 0xf2).into(),
                        ..Fill::default()
                    }));
                    surface.set_stroke(Some(stroke(*color, 1.5)));
                    surface.draw_path(&path);
                }
            }
            Op::Chart { x, y, scale } => {
                surface.push_transform(&Transform::from_row(*scale, 0.0, 0.0, *scale, *x, *y));
                draw_chart(surface, fonts, chart);
                surface.pop();
            }
        }
    }
}

/// One line of text, its baseline's left end at `at`.
pub(crate) fn text(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    at: (f32, f32),
    size: f32,
    bold: bool,
    color: Color,
    s: &str,
) {
    surface.set_stroke(None);
    surface.set_fill(Some(fill(color)));
    let font = if bold { &fonts.bold } else { &fonts.regular };
    surface.draw_text(
        Point::from_xy(at.0, at.1),
        font.clone(),
        size,
        s,
        false,
        TextDirection::LeftToRight,
    );
}

fn draw_chart(surface: &mut Surface<'_>, fonts: &Fonts, chart: &ProfileChart) {
    for shape in &chart.shapes {
        match shape {
            Shape::Rect { x, y, w, h, fill: c } => {
                if let Some(path) = rect_path(*x as f32, *y as f32, *w as f32, *h as f32) {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*c)));
                    surface.draw_path(&path);
                }
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke: c,
                width,
            } => {
                let mut pb = PathBuilder::new();
                pb.move_to(*x1 as f32, *y1 as f32);
                pb.line_to(*x2 as f32, *y2 as f32);
                if let Some(path) = pb.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(*c, *width as f32)));
                    surface.draw_path(&path);
                }
            }
            Shape::Circle { cx, cy, r, fill: c } => {
                if let Some(path) = circle_path(*cx as f32, *cy as f32, *r as f32) {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*c)));
                    surface.draw_path(&path);
                }
            }
            Shape::Text {
                x,
                y,
                size,
                bold,
                anchor,
                text: s,
            } => {
                let metrics = if *bold {
                    &fonts.bold_metrics
                } else {
                    &fonts.regular_metrics
                };
                let width = metrics.width(s, *size as f32);
                let left = match anchor {
                    Anchor::Start => *x as f32,
                    Anchor::Middle => *x as f32 - width / 2.0,
                    Anchor::End => *x as f32 - width,
                };
                text(
                    surface,
                    fonts,
                    (left, *y as f32),
                    *size as f32,
                    *bold,
                    colors::INK,
                    s,
                );
            }
        }
    }
}
