//! Hand-written SVG charts for reports and diagnostics: plain strings, no drawing dependency,
//! deterministic output (numbers with at most two decimals). One chart per file; the shared
//! helpers (number formatting, XML escaping) live here.

pub mod percentile_curves;

pub use percentile_curves::percentile_curves;

use std::borrow::Cow;

/// A number with at most two decimals, trailing zeros dropped (`12`, `3.5`, `0.25`); never
/// `-0`. Non-finite numbers come out as `0` (callers skip them before drawing).
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let mut s = format!("{x:.2}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s
}

/// Whether `c` is a bidirectional formatting character (embeddings, overrides, isolates and
/// marks, Unicode UAX #9): stored text that holds one — written before the application
/// layer refused them — could reorder what a reader sees around it.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text escaped for XML character data and attribute values, with bidirectional formatting
/// characters shown as U+FFFD (�) instead of obeyed.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) && !text.chars().any(bidi_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_numbers_have_at_most_two_decimals() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(3.5), "3.5");
        assert_eq!(num(0.254), "0.25");
        assert_eq!(num(1.999), "2");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(-4.1), "-4.1");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn bidi_overrides_are_shown_not_obeyed() {
        assert_eq!(escape("txt.\u{202E}exe"), "txt.\u{FFFD}exe");
        assert_eq!(escape("a\u{2067}b\u{2069}"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(escape("Әлия"), "Әлия");
    }

    #[test]
    fn svg_escape_covers_markup_characters() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(
            escape(r#"a & b <c> "d" 'e'"#),
            "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"
        );
    }
}
