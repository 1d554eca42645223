//! [`Personal`]: a text that is personal data (a name, notes, a psychologist's wording), which
//! no `Debug` output, log line or error message ever shows.

use std::fmt;

/// A personal text. Its `Debug` output is `<redacted>`, and it has no `Display`: the text is
/// reached only through [`Personal::as_str`] or [`Personal::into_inner`], where it is needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Personal(String);

impl Personal {
    /// Wraps `text`.
    pub fn new(text: String) -> Self {
        Personal(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, unwrapped.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl From<String> for Personal {
    fn from(text: String) -> Self {
        Personal(text)
    }
}

impl From<&str> for Personal {
    fn from(text: &str) -> Self {
        Personal(text.to_owned())
    }
}

impl fmt::Debug for Personal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_text() {
        let p = Personal::new("Aliya Seitkali".into());
        assert_eq!(format!("{p:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&p)), "Some(<redacted>)");
        assert_eq!(p.as_str(), "Aliya Seitkali");
        assert_eq!(Personal::from("Aliya Seitkali"), p);
        assert_eq!(p.into_inner(), "Aliya Seitkali");
    }
}
