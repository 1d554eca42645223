//! A sign-in URL as a QR code (ISO/IEC 18004, error-correction level M, the smallest version
//! that holds it), and the code as filled rectangles for drawing: one rectangle per
//! horizontal run of dark modules, placed inside a 4-module light quiet zone.

use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code on every side, as the standard asks.
pub const QUIET_ZONE: usize = 4;

/// The module matrix of one QR code, without the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

/// A dark rectangle in points: left, top, width, height.
pub type Rect = (f32, f32, f32, f32);

impl QrMatrix {
    /// The QR code of `text` (bytes as they are; the encoder picks numeric, alphanumeric or
    /// byte segments) at error-correction level M.
    ///
    /// # Errors
    /// [`qrcode::types::QrError::DataTooLong`] when even version 40 cannot hold it.
    pub fn encode(text: &str) -> Result<QrMatrix, qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(QrMatrix {
            width: code.width(),
            dark,
        })
    }

    /// Modules per side, without the quiet zone (21 for version 1, 4 more per version).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Modules per side with the quiet zone on both sides.
    pub fn side(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Whether the module in column `x`, row `y` (from the top-left, quiet zone excluded) is
    /// dark; false outside the code.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// The dark modules as rectangles, for a code whose quiet zone's top-left corner is at
    /// `origin` and whose modules are `module` points wide: one rectangle per horizontal run
    /// of dark modules, row by row. The quiet zone itself is left unpainted (the paper is
    /// light).
    pub fn rects(&self, origin: (f32, f32), module: f32) -> Vec<Rect> {
        let mut rects = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                rects.push((
                    origin.0 + (QUIET_ZONE + start) as f32 * module,
                    origin.1 + (QUIET_ZONE + y) as f32 * module,
                    (x - start) as f32 * module,
                    module,
                ));
            }
        }
        rects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rectangles filled into a white bitmap of `scale` pixels per module, quiet zone
    /// included, as an independent decoder sees a printed code.
    fn rasterise(m: &QrMatrix, scale: usize) -> (usize, Vec<bool>) {
        let px = m.side() * scale;
        let mut bitmap = vec![false; px * px];
        for (x, y, w, h) in m.rects((0.0, 0.0), scale as f32) {
            let (x0, y0) = (x.round() as usize, y.round() as usize);
            let (x1, y1) = ((x + w).round() as usize, (y + h).round() as usize);
            for row in y0..y1 {
                bitmap[row * px + x0..row * px + x1].fill(true);
            }
        }
        (px, bitmap)
    }

    fn decode(m: &QrMatrix) -> Vec<String> {
        let (px, bitmap) = rasterise(m, 4);
        let mut image = rqrr::PreparedImage::prepare_from_bitmap(px, px, |x, y| bitmap[y * px + x]);
        image
            .detect_grids()
            .iter()
            .map(|grid| grid.decode().expect("the code decodes").1)
            .collect()
    }

    #[test]
    fn drawn_rectangles_decode_to_the_url() {
        for url in [
            "https://qabilet.example.kz/take?ticket=K7QX2-M9TRD",
            "https://qabilet.example.kz/take",
            "HTTPS://Q.KZ/TAKE/K7QX2-M9TRD",
            "https://мектеп.example.kz/take?t=Әлия&c=2Ә",
        ] {
            let m = QrMatrix::encode(url).unwrap();
            assert_eq!(decode(&m), vec![url.to_owned()], "{url}");
        }
    }

    #[test]
    fn level_m_and_the_smallest_version() {
        // Version 1-M holds 14 bytes, version 2-M 26.
        assert_eq!(QrMatrix::encode("https://q.kz/t").unwrap().width(), 21);
        assert_eq!(QrMatrix::encode("https://q.kz/take?t=K7").unwrap().width(), 25);
        let m = QrMatrix::encode("https://qabilet.example.kz/take?ticket=K7QX2-M9TRD").unwrap();
        assert_eq!(m.side(), m.width() + 8);
        // The finder pattern's corner and the dark module next to the bottom-left finder.
        assert!(m.is_dark(0, 0) && m.is_dark(8, m.width() - 8));
        assert!(!m.is_dark(m.width(), 0));
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules_inside_the_quiet_zone() {
        let m = QrMatrix::encode("https://qabilet.example.kz/take?ticket=K7QX2-M9TRD").unwrap();
        let rects = m.rects((10.0, 20.0), 2.0);
        let mut covered = vec![false; m.width() * m.width()];
        for (x, y, w, h) in rects {
            assert_eq!(h, 2.0);
            assert!(x >= 10.0 + 8.0 && y >= 20.0 + 8.0, "inside the quiet zone");
            let (col, row) = (((x - 18.0) / 2.0) as usize, ((y - 28.0) / 2.0) as usize);
            for k in 0..(w / 2.0) as usize {
                assert!(!covered[row * m.width() + col + k], "no overlap");
                covered[row * m.width() + col + k] = true;
            }
        }
        for y in 0..m.width() {
            for x in 0..m.width() {
                assert_eq!(covered[y * m.width() + x], m.is_dark(x, y), "({x}, {y})");
            }
        }
    }

    #[test]
    fn too_long_for_any_version() {
        assert!(QrMatrix::encode(&"x".repeat(3000)).is_err());
    }
}
