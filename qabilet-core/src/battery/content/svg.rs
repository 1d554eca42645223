//! The safety check of an SVG file served to a child's browser: a strict, allow-list reading
//! of the XML that refuses anything able to run code, fetch another resource or embed another
//! document. An item's picture needs none of these; refusing them at load means no served
//! stimulus can carry them.
//!
//! The rules ([`check_svg`]):
//! - at most [`MAX_SVG_BYTES`] bytes; well-formed XML whose single root is `<svg>` with a
//!   `viewBox` (pictures scale to the screen);
//! - no DOCTYPE, entity declarations, CDATA sections or processing instructions (other than an
//!   XML declaration at the start); character references and the five predefined entities only;
//! - elements only from [`ALLOWED_ELEMENTS`] (shapes, groups, paint servers, `use`, SMIL
//!   animation, `style`, `title`, `desc`): so no `<script>`, `<foreignObject>`, `<image>`,
//!   `<a>`, `<iframe>`;
//! - no event-handler attribute (`on…`); `href` and `xlink:href` only to a same-document
//!   `#fragment`; no `url(…)` other than `url(#…)` and no `javascript:` anywhere in an
//!   attribute value or a `<style>` text, and no `@import` in `<style>`;
//! - an animation (`animate`, `set`, …) may not target `href`, `xlink:href` or an `on…`
//!   attribute (it could otherwise write one the file does not contain).

use thiserror::Error;

/// Largest SVG file accepted, in bytes (items are a few KB; a worked example some more).
pub const MAX_SVG_BYTES: usize = 64 * 1024;

/// The elements an item's SVG may use.
pub const ALLOWED_ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "title",
    "desc",
    "style",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "path",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "animate",
    "animateTransform",
    "animateMotion",
    "mpath",
    "set",
];

/// Why an SVG file was refused, with the line where the problem starts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {reason}")]
pub struct SvgError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Checks that `text` is an SVG picture safe to serve (the module's rules).
///
/// # Errors
/// The first problem found, with its line.
///
/// # Examples
/// ```
/// use qabilet_core::battery::content::check_svg;
/// assert!(check_svg(r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>"##).is_ok());
/// assert!(check_svg(r##"<svg viewBox="0 0 10 10" onload="alert(1)"/>"##).is_err());
/// ```
pub fn check_svg(text: &str) -> Result<(), SvgError> {
    if text.len() > MAX_SVG_BYTES {
        return Err(SvgError {
            line: 1,
            reason: format!("{} bytes, more than the limit of {MAX_SVG_BYTES}", text.len()),
        });
    }
    Scanner { text, pos: 0 }.document()
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn fail<T>(&self, at: usize, reason: impl Into<String>) -> Result<T, SvgError> {
        Err(SvgError {
            line: crate::source::line_at(self.text, at),
            reason: reason.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn document(mut self) -> Result<(), SvgError> {
        if self.rest().starts_with('\u{feff}') {
            self.pos += '\u{feff}'.len_utf8();
        }
        if self.rest().starts_with("<?xml") {
            match self.rest().find("?>") {
                Some(end) => self.pos += end + 2,
                None => return self.fail(self.pos, "unterminated XML declaration"),
            }
        }
        let mut stack: Vec<&'a str> = Vec::new();
        let mut roots = 0;
        let mut in_style = false;
        loop {
            let text_start = self.pos;
            let next = self.rest().find('<').map_or(self.text.len(), |i| self.pos + i);
            let chars = &self.text[text_start..next];
            self.check_text(text_start, chars, in_style, stack.is_empty())?;
            self.pos = next;
            if self.pos >= self.text.len() {
                break;
            }
            let rest = self.rest();
            if let Some(comment) = rest.strip_prefix("<!--") {
                match comment.find("-->") {
                    Some(end) => self.pos += 4 + end + 3,
                    None => return self.fail(self.pos, "unterminated comment"),
                }
            } else if rest.starts_with("<!") {
                return self.fail(self.pos, "DOCTYPE, entity declarations and CDATA are not allowed");
            } else if rest.starts_with("<?") {
                return self.fail(self.pos, "processing instructions are not allowed");
            } else if let Some(after) = rest.strip_prefix("</") {
                let at = self.pos;
                let Some(end) = after.find('>') else {
                    return self.fail(at, "unterminated end tag");
                };
                let name = after[..end].trim_end();
                match stack.pop() {
                    Some(open) if open == name => {}
                    Some(open) => return self.fail(at, format!("</{name}> closes <{open}>")),
                    None => return self.fail(at, format!("</{name}> closes nothing")),
                }
                in_style = false;
                self.pos += 2 + end + 1;
            } else {
                let at = self.pos;
                if stack.is_empty() {
                    roots += 1;
                    if roots > 1 {
                        return self.fail(at, "more than one root element");
                    }
                }
                let (name, empty) = self.start_tag(stack.is_empty())?;
                if !empty {
                    stack.push(name);
                    in_style = name == "style";
                }
            }
        }
        if let Some(open) = stack.last() {
            return self.fail(self.text.len(), format!("<{open}> is never closed"));
        }
        if roots == 0 {
            return self.fail(0, "no <svg> element");
        }
        Ok(())
    }

    /// Text between tags: references checked; outside the root, only white space.
    fn check_text(&self, at: usize, chars: &str, in_style: bool, outside: bool) -> Result<(), SvgError> {
        if outside && !chars.trim().is_empty() {
            return self.fail(at, "text outside the root element");
        }
        self.check_references(at, chars)?;
        if in_style {
            self.check_css(at, chars)?;
        }
        Ok(())
    }

    fn check_references(&self, at: usize, chars: &str) -> Result<(), SvgError> {
        let mut from = 0;
        while let Some(i) = chars[from..].find('&') {
            let start = from + i;
            let Some(len) = chars[start..].find(';') else {
                return self.fail(at + start, "'&' outside a character reference");
            };
            let name = &chars[start + 1..start + len];
            let ok = matches!(name, "lt" | "gt" | "amp" | "quot" | "apos")
                || name
                    .strip_prefix("#x")
                    .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                || name
                    .strip_prefix('#')
                    .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return self.fail(at + start, format!("unknown entity '&{name};'"));
            }
            from = start + len + 1;
        }
        Ok(())
    }

    /// A value (attribute or style text) must fetch and run nothing.
    fn check_css(&self, at: usize, value: &str) -> Result<(), SvgError> {
        let lower = value.to_ascii_lowercase();
        let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.contains("javascript:") {
            return self.fail(at, "'javascript:' is not allowed");
        }
        if compact.contains("@import") {
            return self.fail(at, "'@import' is not allowed");
        }
        let mut from = 0;
        while let Some(i) = compact[from..].find("url(") {
            let target = compact[from + i + 4..].trim_start_matches(['"', '\'']);
            if !target.starts_with('#') {
                return self.fail(at, "url(…) may only name a '#fragment' of the same file");
            }
            from += i + 4;
        }
        Ok(())
    }

    /// Reads a start tag at `self.pos`; returns its name and whether it is empty (`/>`).
    fn start_tag(&mut self, root: bool) -> Result<(&'a str, bool), SvgError> {
        let at = self.pos;
        self.pos += 1;
        let name = self.name();
        if name.is_empty() {
            return self.fail(at, "'<' that starts no element");
        }
        if !ALLOWED_ELEMENTS.contains(&name) {
            return self.fail(at, format!("element <{name}> is not allowed"));
        }
        if root && name != "svg" {
            return self.fail(at, format!("the root element is <{name}>, not <svg>"));
        }
        let mut seen: Vec<&'a str> = Vec::new();
        let mut target: Option<&'a str> = None;
        loop {
            let before = self.pos;
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.pos += 2;
                return self.finish_tag(at, name, root, &seen, target, true);
            }
            if rest.starts_with('>') {
                self.pos += 1;
                return self.finish_tag(at, name, root, &seen, target, false);
            }
            if rest.is_empty() {
                return self.fail(at, format!("unterminated <{name}> tag"));
            }
            if self.pos == before {
                return self.fail(
                    self.pos,
                    format!("<{name}>: attributes must be separated by space"),
                );
            }
            let attr_at = self.pos;
            let attr = self.name();
            if attr.is_empty() {
                return self.fail(attr_at, format!("<{name}>: malformed attribute"));
            }
            self.skip_space();
            if !self.rest().starts_with('=') {
                return self.fail(attr_at, format!("<{name}>: attribute '{attr}' has no value"));
            }
            self.pos += 1;
            self.skip_space();
            let Some(quote) = self.rest().chars().next().filter(|c| *c == '"' || *c == '\'') else {
                return self.fail(attr_at, format!("<{name}>: the value of '{attr}' is not quoted"));
            };
            let Some(len) = self.rest()[1..].find(quote) else {
                return self.fail(attr_at, format!("<{name}>: the value of '{attr}' is not closed"));
            };
            let value = &self.rest()[1..1 + len];
            self.pos += len + 2;
            if value.contains('<') {
                return self.fail(attr_at, format!("<{name}>: '<' in the value of '{attr}'"));
            }
            if seen.contains(&attr) {
                return self.fail(attr_at, format!("<{name}>: attribute '{attr}' given twice"));
            }
            seen.push(attr);
            self.check_attribute(attr_at, name, attr, value)?;
            if attr == "attributeName" {
                target = Some(value);
            }
        }
    }

    fn finish_tag(
        &self,
        at: usize,
        name: &'a str,
        root: bool,
        attrs: &[&str],
        target: Option<&str>,
        empty: bool,
    ) -> Result<(&'a str, bool), SvgError> {
        if root && !attrs.contains(&"viewBox") {
            return self.fail(at, "the <svg> root has no viewBox");
        }
        if let Some(t) = target {
            let t = t.trim();
            if is_event(t) || is_href(t) {
                return self.fail(at, format!("<{name}> may not animate '{t}'"));
            }
        }
        Ok((name, empty))
    }

    fn check_attribute(&self, at: usize, element: &str, attr: &str, value: &str) -> Result<(), SvgError> {
        if is_event(attr) {
            return self.fail(
                at,
                format!("<{element}>: event-handler attribute '{attr}' is not allowed"),
            );
        }
        if is_href(attr) && !value.trim_start().starts_with('#') {
            return self.fail(
                at,
                format!("<{element}>: {attr}=\"{value}\" is not a same-document '#fragment'"),
            );
        }
        self.check_references(at, value)?;
        self.check_css(at, value).map_err(|e| SvgError {
            line: e.line,
            reason: format!("<{element}> {attr}: {}", e.reason),
        })
    }

    fn name(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }
}

fn is_event(attr: &str) -> bool {
    let local = attr.rsplit(':').next().unwrap_or(attr);
    local.len() > 2 && local[..2].eq_ignore_ascii_case("on")
}

fn is_href(attr: &str) -> bool {
    attr.rsplit(':')
        .next()
        .is_some_and(|local| local.eq_ignore_ascii_case("href"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><g class="figure"><circle cx="5" cy="5" r="4" fill="url(#grad)"/></g></svg>"#;

    fn refused(text: &str) -> String {
        check_svg(text).expect_err("refused").reason
    }

    #[test]
    fn a_plain_picture_passes() {
        check_svg(OK).unwrap();
        check_svg(&format!("<?xml version=\"1.0\"?>\n<!-- item -->\n{OK}\n")).unwrap();
        check_svg(r##"<svg viewBox="0 0 1 1"><use href="#a"/><animate attributeName="opacity" values="0;1" dur="1s"/></svg>"##).unwrap();
    }

    #[test]
    fn refuses_script() {
        let r = refused(r#"<svg viewBox="0 0 1 1"><script>alert(1)</script></svg>"#);
        assert!(r.contains("<script>"), "{r}");
    }

    #[test]
    fn refuses_event_handlers() {
        let r = refused(r#"<svg viewBox="0 0 1 1" onload="alert(1)"></svg>"#);
        assert!(r.contains("onload"), "{r}");
        assert!(refused(r##"<svg viewBox="0 0 1 1"><rect ONCLICK="x()"/></svg>"##).contains("ONCLICK"));
    }

    #[test]
    fn refuses_external_references() {
        let r = refused(r#"<svg viewBox="0 0 1 1"><use href="https://evil.example/x.svg#a"/></svg>"#);
        assert!(r.contains("same-document"), "{r}");
        assert!(
            refused(r##"<svg viewBox="0 0 1 1"><use xlink:href="other.svg#a"/></svg>"##)
                .contains("xlink:href")
        );
        assert!(refused(r##"<svg viewBox="0 0 1 1"><rect fill="url(http://x/y)"/></svg>"##).contains("url("));
        assert!(
            refused(r##"<svg viewBox="0 0 1 1"><style>@import "x.css";</style></svg>"##).contains("@import")
        );
        assert!(
            refused(r##"<svg viewBox="0 0 1 1"><style>rect { fill: url( 'x.png') }</style></svg>"##)
                .contains("url(")
        );
    }

    #[test]
    fn refuses_foreign_object() {
        let r = refused(r#"<svg viewBox="0 0 1 1"><foreignObject><div/></foreignObject></svg>"#);
        assert!(r.contains("<foreignObject>"), "{r}");
    }

    #[test]
    fn refuses_oversize() {
        let big = format!(
            r#"<svg viewBox="0 0 1 1">{}</svg>"#,
            "<g/>".repeat(MAX_SVG_BYTES / 4)
        );
        assert!(refused(&big).contains("limit"));
    }

    #[test]
    fn refuses_animated_handlers_and_links() {
        assert!(
            refused(r##"<svg viewBox="0 0 1 1"><set attributeName="onclick" to="x()"/></svg>"##)
                .contains("animate")
        );
        assert!(
            refused(
                r##"<svg viewBox="0 0 1 1"><animate attributeName="href" values="javascript:x"/></svg>"##
            )
            .contains("javascript")
        );
        assert!(
            refused(r##"<svg viewBox="0 0 1 1"><set attributeName=" xlink:href" to="#a"/></svg>"##)
                .contains("animate")
        );
    }

    #[test]
    fn refuses_malformed_or_declared_documents() {
        assert!(refused(r##"<!DOCTYPE svg [<!ENTITY x "y">]><svg viewBox="0 0 1 1"/>"##).contains("DOCTYPE"));
        assert!(refused(r##"<svg viewBox="0 0 1 1"><g></svg>"##).contains("closes"));
        assert!(refused(r##"<svg><g/></svg>"##).contains("viewBox"));
        assert!(refused(r##"<g viewBox="0 0 1 1"/>"##).contains("root"));
        assert!(refused(r##"<svg viewBox="0 0 1 1"><image href="#a"/></svg>"##).contains("<image>"));
        assert!(refused(r##"<svg viewBox="0 0 1 1">&xxe;</svg>"##).contains("entity"));
        assert!(refused(r##"<svg viewBox="0 0 1 1"/><svg viewBox="0 0 1 1"/>"##).contains("root"));
    }

    #[test]
    fn names_the_line() {
        let e = check_svg("<svg viewBox=\"0 0 1 1\">\n<g>\n<script/>\n</g></svg>").unwrap_err();
        assert_eq!(e.line, 3);
    }
}
