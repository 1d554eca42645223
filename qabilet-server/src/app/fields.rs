//! Limits and character rules for every text a caller can store: checked once, here, into
//! types the rest of the layer trusts.
//!
//! * Every text is normalised to Unicode NFC (so a name typed on two keyboards is one name)
//!   and may not hold control characters (category Cc; a line break only where the field is
//!   multi-line, and `\r\n` becomes `\n`), format characters (Cf: zero-width spaces and
//!   joiners, bidirectional overrides and isolates, the byte-order mark), private-use
//!   characters (Co) or line/paragraph separators (Zl, Zp). Format characters are refused
//!   rather than stripped: they make two different codes look the same, and a bidi
//!   override reorders what a reader sees.
//! * A child's code is the pseudonymous key a centre files the child under: 1 to
//!   [`MAX_CODE_CHARS`] ASCII letters, digits, `-`, `_` or `.`. Look-alikes (a Cyrillic К for
//!   a Latin K, a non-breaking hyphen for `-`) cannot be typed into it.
//! * Names: 1 to [`MAX_NAME_CHARS`] letters, combining marks, spaces, hyphens, apostrophes
//!   and full stops. Notes, override reasons and report edits: free text up to
//!   [`MAX_NOTES_CHARS`], [`MAX_REASON_CHARS`] and [`MAX_EDIT_CHARS`] characters.
//! * A request id: 1 to [`MAX_REQUEST_ID_CHARS`] visible ASCII characters.
//!
//! Lengths are in characters (Unicode scalar values) after normalisation. With these limits a
//! child's stored record is under 5 KB, and a page of children holds at most
//! `MAX_CHILDREN_PAGE` (200) of them, so a page stays far below a gRPC client's default
//! 4 MB message limit.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::AppError;

/// Longest child code.
pub const MAX_CODE_CHARS: usize = 64;
/// Longest given or family name.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest notes on a child.
pub const MAX_NOTES_CHARS: usize = 2000;
/// Longest override reason.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest report edit.
pub const MAX_EDIT_CHARS: usize = 4000;
/// Longest request id.
pub const MAX_REQUEST_ID_CHARS: usize = 128;
/// Longest `interests_json` of a report request, bytes.
pub const MAX_INTERESTS_BYTES: usize = 16 * 1024;

/// Whether `c` may never be stored: control (except the allowed line break), format,
/// private-use, surrogate, line or paragraph separator.
fn forbidden(c: char, multiline: bool) -> bool {
    if c == '\n' {
        return !multiline;
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// `text` in NFC with `\r\n` as `\n`, trimmed, checked against the character rules and
/// `max` characters.
fn clean(field: &str, text: &str, max: usize, multiline: bool) -> Result<String, AppError> {
    let unified = if multiline {
        text.replace("\r\n", "\n")
    } else {
        text.to_owned()
    };
    let normal: String = unified.trim().nfc().collect();
    if let Some(bad) = normal.chars().find(|&c| forbidden(c, multiline)) {
        return Err(AppError::invalid(
            field,
            format!(
                "contains U+{:04X}, a control, format or private-use character, which is not accepted",
                u32::from(bad)
            ),
        ));
    }
    let chars = normal.chars().count();
    if chars > max {
        return Err(AppError::invalid(
            field,
            format!("{chars} characters; at most {max}"),
        ));
    }
    Ok(normal)
}

/// A child's pseudonymous code (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCode(String);

impl ChildCode {
    /// Checks a code given in `field`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field: empty, too long, or a character outside ASCII
    /// letters, digits, `-`, `_` and `.`.
    pub fn parse(field: &str, text: &str) -> Result<Self, AppError> {
        let code = text.trim();
        if code.is_empty() {
            return Err(AppError::invalid(field, "required"));
        }
        let prefix = CodePrefix::parse(field, code)?;
        Ok(ChildCode(prefix.0))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The start of a child's code, for a search: the characters a code may have, possibly none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePrefix(String);

impl CodePrefix {
    /// Checks a search prefix given in `field`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT`: too long, or a character no code can have.
    pub fn parse(field: &str, text: &str) -> Result<Self, AppError> {
        let text = text.trim();
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(AppError::invalid(
                field,
                format!(
                    "U+{:04X} is not allowed: a code has ASCII letters, digits, '-', '_' and '.' only",
                    u32::from(bad)
                ),
            ));
        }
        if text.len() > MAX_CODE_CHARS {
            return Err(AppError::invalid(
                field,
                format!("at most {MAX_CODE_CHARS} characters"),
            ));
        }
        Ok(CodePrefix(text.to_owned()))
    }

    /// The prefix; empty matches every code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A given or family name; empty input means none.
///
/// # Errors
/// `INVALID_ARGUMENT` naming the field: too long, or a character other than letters,
/// combining marks, spaces, hyphens, apostrophes and full stops.
pub fn person_name(field: &str, text: &str) -> Result<Option<String>, AppError> {
    let name = clean(field, text, MAX_NAME_CHARS, false)?;
    if name.is_empty() {
        return Ok(None);
    }
    if let Some(bad) = name.chars().find(|&c| {
        !(c.is_alphabetic()
            || matches!(
                c.general_category(),
                GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
                    | GeneralCategory::EnclosingMark
            )
            || matches!(c, ' ' | '-' | '\'' | '’' | 'ʼ' | '.'))
    }) {
        return Err(AppError::invalid(
            field,
            format!("U+{:04X} is not allowed in a name", u32::from(bad)),
        ));
    }
    Ok(Some(name))
}

/// Multi-line free text of at most `max` characters; empty input means none.
///
/// # Errors
/// `INVALID_ARGUMENT` naming the field (see the module docs).
pub fn free_text(field: &str, text: &str, max: usize) -> Result<Option<String>, AppError> {
    let t = clean(field, text, max, true)?;
    Ok((!t.is_empty()).then_some(t))
}

/// A required single-line label (a cohort's name, region, institution, a class) of at most
/// `max` characters, not starting with a spreadsheet formula's first character.
///
/// # Errors
/// `INVALID_ARGUMENT` naming the field: empty, too long, or a forbidden character.
pub fn label(field: &str, text: &str, max: usize) -> Result<String, AppError> {
    let t = clean(field, text, max, false)?;
    if t.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    // A cell starting so is a formula to a spreadsheet opening an export.
    if t.starts_with(['=', '+', '-', '@']) {
        return Err(AppError::invalid(field, "must not start with =, +, - or @"));
    }
    Ok(t)
}

/// A request id; blank means none (the write is then not idempotent).
///
/// # Errors
/// `INVALID_ARGUMENT` on `request_id`: too long or not visible ASCII.
pub fn request_id(text: &str) -> Result<Option<String>, AppError> {
    let id = text.trim();
    if id.is_empty() {
        return Ok(None);
    }
    if id.len() > MAX_REQUEST_ID_CHARS || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(
            "request_id",
            format!("1 to {MAX_REQUEST_ID_CHARS} visible ASCII characters"),
        ));
    }
    Ok(Some(id.to_owned()))
}

/// Longest centre or subject of a token.
pub const MAX_TOKEN_NAME_CHARS: usize = 64;

/// A token's centre or subject, given in `field`: 1 to [`MAX_TOKEN_NAME_CHARS`] characters,
/// no surrounding spaces, no control or format characters.
///
/// # Errors
/// `INVALID_ARGUMENT` naming the field.
pub fn token_name<'a>(field: &str, value: &'a str) -> Result<&'a str, AppError> {
    if value.is_empty()
        || value.trim() != value
        || value.chars().count() > MAX_TOKEN_NAME_CHARS
        || value.chars().any(|c| forbidden(c, false))
    {
        return Err(AppError::invalid(
            field,
            format!(
                "must be a non-empty name of at most {MAX_TOKEN_NAME_CHARS} characters, without surrounding \
                 spaces or control characters"
            ),
        ));
    }
    Ok(value)
}

/// A child's recorded sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// `F`.
    Female,
    /// `M`.
    Male,
}

impl Sex {
    /// `F`, `M` (either case), or blank for not recorded.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field for anything else.
    pub fn parse(field: &str, text: &str) -> Result<Option<Sex>, AppError> {
        match text.trim() {
            "" => Ok(None),
            "F" | "f" => Ok(Some(Sex::Female)),
            "M" | "m" => Ok(Some(Sex::Male)),
            _ => Err(AppError::invalid(field, "must be F, M or empty")),
        }
    }

    /// The stored code, `F` or `M`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<impl std::fmt::Debug, AppError>) -> String {
        match r {
            Err(AppError::Invalid { reason, .. }) => reason,
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn look_alike_codes_are_refused() {
        assert_eq!(ChildCode::parse("code", " K-0417 ").unwrap().as_str(), "K-0417");
        for look_alike in [
            "K-0417\u{200B}", // zero-width space
            "K\u{2011}0417",  // non-breaking hyphen
            "\u{041A}-0417",  // Cyrillic К
            "K-04\u{202E}71", // right-to-left override
            "K 0417",
        ] {
            assert!(
                reason(ChildCode::parse("code", look_alike)).contains("not allowed"),
                "{look_alike:?}"
            );
        }
        assert_eq!(reason(ChildCode::parse("code", "  ")), "required");
        assert!(reason(ChildCode::parse("code", &"K".repeat(65))).contains("at most 64"));
    }

    #[test]
    fn names_are_nfc_and_letters_only() {
        // NFC composes "e" + U+0301 into "é".
        assert_eq!(
            person_name("n", "Ren\u{65}\u{301}e").unwrap().as_deref(),
            Some("Ren\u{e9}e")
        );
        assert_eq!(
            person_name("n", "Әлия Қасым-ұлы").unwrap().as_deref(),
            Some("Әлия Қасым-ұлы")
        );
        assert_eq!(person_name("n", "O’Neil").unwrap().as_deref(), Some("O’Neil"));
        assert_eq!(person_name("n", "   ").unwrap(), None);
        assert!(reason(person_name("n", "Aliya\u{202E}")).contains("U+202E"));
        assert!(reason(person_name("n", "<script>")).contains("U+003C"));
        assert!(reason(person_name("n", "Aliya\nX")).contains("U+000A"));
        assert!(reason(person_name("n", &"a".repeat(101))).contains("at most 100"));
    }

    #[test]
    fn free_text_keeps_lines_and_refuses_hidden_characters() {
        assert_eq!(
            free_text("notes", "line 1\r\nline 2\n", 100).unwrap().as_deref(),
            Some("line 1\nline 2")
        );
        assert_eq!(free_text("notes", " \n ", 100).unwrap(), None);
        for hidden in [
            "a\u{200D}b",
            "a\u{2066}b",
            "\u{FEFF}a",
            "a\u{0007}",
            "a\u{E000}",
            "a\u{2028}b",
        ] {
            assert!(free_text("notes", hidden, 100).is_err(), "{hidden:?}");
        }
        let long = "я".repeat(2001);
        assert!(reason(free_text("notes", &long, MAX_NOTES_CHARS)).contains("2001 characters"));
    }

    #[test]
    fn request_ids_and_sex() {
        assert_eq!(request_id(" ").unwrap(), None);
        assert_eq!(request_id("r-1").unwrap().as_deref(), Some("r-1"));
        assert!(request_id("r 1").is_err());
        assert!(request_id(&"r".repeat(129)).is_err());
        assert!(request_id("р").is_err());
        assert_eq!(Sex::parse("sex", "f").unwrap(), Some(Sex::Female));
        assert_eq!(Sex::parse("sex", "").unwrap(), None);
        assert!(Sex::parse("sex", "female; DROP TABLE").is_err());
    }
}
