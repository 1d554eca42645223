//! The PDF's font: DejaVu Sans and DejaVu Sans Bold, compiled into the binary (so a PDF
//! renders the same from any folder, on any machine, without system fonts), covering Latin,
//! Cyrillic and the Kazakh letters ә ғ қ ң ө ұ ү һ і; DejaVu Sans Mono Bold for codes a
//! person types from paper (the ticket sheets). Licence: `assets/fonts/LICENSE`.
//!
//! Text width is measured from the font's horizontal advances (no kerning, so a measured line
//! is never narrower than the drawn one), and paragraphs are wrapped greedily at spaces; a
//! word longer than a line is broken between characters.

use ttf_parser::Face;

/// DejaVu Sans.
pub static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold.
pub static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
/// DejaVu Sans Mono Bold: every character the same width; 0 and O, 1, I and l drawn apart.
pub static MONO_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// Advance widths of one face.
pub struct Metrics {
    face: Face<'static>,
    units_per_em: f32,
}

impl Metrics {
    /// The metrics of an embedded font ([`REGULAR`], [`BOLD`] or [`MONO_BOLD`]).
    pub fn of(data: &'static [u8]) -> Self {
        let face = Face::parse(data, 0).expect("the embedded font parses");
        let units_per_em = f32::from(face.units_per_em());
        Metrics { face, units_per_em }
    }

    /// Whether every character of `text` has a glyph.
    pub fn covers(&self, text: &str) -> bool {
        text.chars()
            .all(|c| c.is_whitespace() || self.face.glyph_index(c).is_some())
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                let glyph = self.face.glyph_index(c).unwrap_or_default();
                f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0))
            })
            .sum();
        units / self.units_per_em * size
    }

    /// `text` broken into lines no wider than `max` at `size` points.
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone: break it between characters if it is still too wide.
            for c in word.chars() {
                line.push(c);
                if self.width(&line, size) > max && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kazakh_letters_are_covered() {
        for data in [REGULAR, BOLD, MONO_BOLD] {
            let m = Metrics::of(data);
            assert!(m.covers("әғқңөұүһі ӘҒҚҢӨҰҮҺІ ёЁ — – «»"));
        }
    }

    #[test]
    fn widths_scale_with_size_and_wrapped_lines_fit() {
        let m = Metrics::of(REGULAR);
        let w10 = m.width("Қабілет", 10.0);
        assert!(w10 > 20.0 && w10 < 60.0, "{w10}");
        assert!((m.width("Қабілет", 20.0) - 2.0 * w10).abs() < 1e-3);
        let text = "Баланың қабілеттері біркелкі дамыған: ешбір сала сенімді түрде ерекшеленбейді.";
        let lines = m.wrap(text, 10.0, 120.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= 120.0), "{lines:?}");
        assert_eq!(lines.join(" "), text, "no word lost");
        let long = m.wrap("sha256:0123456789abcdef0123456789abcdef", 10.0, 50.0);
        assert!(long.len() > 2 && long.iter().all(|l| m.width(l, 10.0) <= 50.0));
        assert!(m.wrap("", 10.0, 50.0).is_empty());
    }
}
