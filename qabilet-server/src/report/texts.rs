//! The report's texts in one language, from `norms/guidance/texts/<lang>.ftl` (Fluent).
//!
//! Rules:
//! - every key a report built from the guidance tables can use
//!   ([`qabilet_core::report::message_keys`], which includes the layout keys of
//!   [`qabilet_core::report::RENDERER_KEYS`]) must exist in the file, with a value; a missing
//!   key is an error at load naming the file and the key, never a blank in a report;
//! - arguments whose name ends in `_key` hold a message key: that message is formatted first
//!   and its text takes the argument's place;
//! - numbers are formatted plainly (`112`, `12.5`), without grouping or locale digits;
//! - no Unicode isolation marks (FSI/PDI) are inserted: the reports are in left-to-right
//!   scripts only, and the marks would end up as stray characters in HTML and PDF text.

use std::fmt;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use qabilet_core::Lang;
use qabilet_core::report::{Arg, Message};
use thiserror::Error;

/// A text file that cannot serve a report.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextsError {
    /// Fluent syntax errors.
    #[error("{file}:{line}: {reason}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line of the first error.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A key the report needs is not in the file (or has no value).
    #[error("{file}: message '{key}' is missing")]
    Missing {
        /// The file.
        file: String,
        /// The key.
        key: String,
    },
    /// A message could not be formatted (an unknown argument or reference).
    #[error("{file}: message '{key}': {reason}")]
    Format {
        /// The file.
        file: String,
        /// The key.
        key: String,
        /// What went wrong.
        reason: String,
    },
}

/// The texts of one language, checked to hold every required key.
pub struct Texts {
    lang: Lang,
    file: String,
    bundle: FluentBundle<FluentResource>,
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Texts")
            .field("lang", &self.lang)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Texts {
    /// Parses the Fluent `source` of `file` (a name for messages, e.g.
    /// `norms/guidance/texts/kk.ftl`) and checks that every key of `required` has a value.
    ///
    /// # Errors
    /// [`TextsError::Syntax`] with the line of the first error, [`TextsError::Missing`] for
    /// the first required key that is absent.
    pub fn parse(lang: Lang, file: &str, source: String, required: &[String]) -> Result<Self, TextsError> {
        let resource = FluentResource::try_new(source.clone()).map_err(|(_, errors)| {
            let first = &errors[0];
            TextsError::Syntax {
                file: file.to_owned(),
                line: source[..first.pos.start.min(source.len())].lines().count().max(1),
                reason: first.kind.to_string(),
            }
        })?;
        let locale = lang
            .code()
            .parse()
            .expect("kk, ru and en are valid language identifiers");
        let mut bundle = FluentBundle::new_concurrent(vec![locale]);
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|errors| TextsError::Syntax {
                file: file.to_owned(),
                line: 1,
                reason: errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
        let texts = Texts {
            lang,
            file: file.to_owned(),
            bundle,
        };
        for key in required {
            if texts.bundle.get_message(key).and_then(|m| m.value()).is_none() {
                return Err(texts.missing(key));
            }
        }
        Ok(texts)
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    fn missing(&self, key: &str) -> TextsError {
        TextsError::Missing {
            file: self.file.clone(),
            key: key.to_owned(),
        }
    }

    /// The text of message `key` with the given arguments (`_key` arguments resolved first).
    ///
    /// # Errors
    /// [`TextsError::Missing`] for an unknown key, [`TextsError::Format`] when Fluent reports
    /// an error (e.g. an argument the message uses is not given).
    pub fn format(&self, key: &str, args: &[(&str, &Arg)]) -> Result<String, TextsError> {
        let message = self.bundle.get_message(key).ok_or_else(|| self.missing(key))?;
        let pattern = message.value().ok_or_else(|| self.missing(key))?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value: FluentValue<'_> = match value {
                Arg::Int(i) => FluentValue::from(*i),
                Arg::Number(x) => FluentValue::from(*x),
                Arg::Text(k) if name.ends_with("_key") => FluentValue::from(self.text(k)?),
                Arg::Text(t) => FluentValue::from(t.clone()),
            };
            fluent_args.set(name.to_string(), value);
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned();
        match errors.first() {
            None => Ok(text),
            Some(e) => Err(TextsError::Format {
                file: self.file.clone(),
                key: key.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    /// The text of a message without arguments.
    ///
    /// # Errors
    /// As [`Texts::format`].
    pub fn text(&self, key: &str) -> Result<String, TextsError> {
        self.format(key, &[])
    }

    /// The text of a report's message.
    ///
    /// # Errors
    /// As [`Texts::format`].
    pub fn message(&self, message: &Message) -> Result<String, TextsError> {
        let args: Vec<(&str, &Arg)> = message.args.iter().map(|(k, v)| (k.as_str(), v)).collect();
        self.format(&message.key, &args)
    }
}

/// A trace fact as plain text: whole numbers as they are, decimals with at most three
/// places, trailing zeros dropped (`0.935`, `12.833`, `7.9`), text as it is. The report's
/// data (JSON) keeps full precision; this is for reading.
pub fn plain(arg: &Arg) -> String {
    match arg {
        Arg::Int(i) => i.to_string(),
        Arg::Number(x) if x.is_finite() => {
            let s = format!("{x:.3}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" { "0".to_owned() } else { s.to_owned() }
        }
        Arg::Number(x) => x.to_string(),
        Arg::Text(t) => t.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FTL: &str = "hello = Hello, { $name }!\n\
        domain-x = Reasoning\n\
        row = { $domain_key }: { $index } ({ $p } %)\n\
        months = { $n ->\n    [one] one month\n   *[other] { $n } months\n}\n";

    fn texts() -> Texts {
        Texts::parse(Lang::En, "en.ftl", FTL.to_owned(), &["hello".to_owned()]).expect("parses")
    }

    #[test]
    fn key_arguments_are_resolved_and_numbers_are_plain() {
        let t = texts();
        let m = Message::new("row")
            .arg("domain_key", Arg::Text("domain-x".into()))
            .arg("index", Arg::Int(1120))
            .arg("p", Arg::Number(12.5));
        assert_eq!(t.message(&m).unwrap(), "Reasoning: 1120 (12.5 %)");
        assert_eq!(
            t.format("hello", &[("name", &Arg::Text("Әлия".into()))]).unwrap(),
            "Hello, Әлия!",
            "no isolation marks around arguments"
        );
        assert_eq!(t.format("months", &[("n", &Arg::Int(1))]).unwrap(), "one month");
        assert_eq!(t.format("months", &[("n", &Arg::Int(3))]).unwrap(), "3 months");
    }

    #[test]
    fn texts_can_be_shared_between_threads() {
        // The gRPC service keeps one `Texts` per language for all requests.
        fn shared<T: Send + Sync>(_: &T) {}
        shared(&texts());
    }

    #[test]
    fn facts_are_plain_numbers() {
        assert_eq!(plain(&Arg::Number(4.166666666666666)), "4.167");
        assert_eq!(plain(&Arg::Number(0.94)), "0.94");
        assert_eq!(plain(&Arg::Number(110.0)), "110");
        assert_eq!(plain(&Arg::Number(-0.0001)), "0");
        assert_eq!(plain(&Arg::Int(-3)), "-3");
        assert_eq!(plain(&Arg::Text("gac".into())), "gac");
    }

    #[test]
    fn a_missing_required_key_names_the_file_and_the_key() {
        let e = Texts::parse(Lang::Kk, "texts/kk.ftl", FTL.to_owned(), &["absent".to_owned()]).unwrap_err();
        assert_eq!(e.to_string(), "texts/kk.ftl: message 'absent' is missing");
    }

    #[test]
    fn a_missing_argument_or_key_argument_is_an_error() {
        let t = texts();
        assert!(matches!(t.text("hello"), Err(TextsError::Format { .. })));
        let m = Message::new("row").arg("domain_key", Arg::Text("domain-none".into()));
        assert!(matches!(t.message(&m), Err(TextsError::Missing { key, .. }) if key == "domain-none"));
    }

    #[test]
    fn every_key_a_report_can_use_formats_in_every_language() {
        let f = crate::report::fixtures::Fixture::load();
        let keys = qabilet_core::report::message_keys(&f.tables);
        assert!(keys.len() > 100);
        for lang in Lang::ALL {
            let file = format!(
                "{}/../norms/guidance/texts/{}.ftl",
                env!("CARGO_MANIFEST_DIR"),
                lang.code()
            );
            let source = std::fs::read_to_string(file).unwrap();
            // Every argument name the file uses, with a value of the right kind.
            let names: std::collections::BTreeSet<&str> = source
                .split("{ $")
                .skip(1)
                .filter_map(|s| s.split([' ', '}']).next())
                .collect();
            let values: Vec<(&str, Arg)> = names
                .iter()
                .map(|&n| match n {
                    "respondent_key" => (n, Arg::Text("respondent-parent".into())),
                    n if n.ends_with("_key") => (n, Arg::Text("domain-general".into())),
                    n => (n, Arg::Int(3)),
                })
                .collect();
            let args: Vec<(&str, &Arg)> = values.iter().map(|(n, v)| (*n, v)).collect();
            let texts = f.texts(lang);
            for key in &keys {
                let text = texts.format(key, &args).unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    !text.trim().is_empty() && !text.contains('{'),
                    "{}: {key}: {text}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = Texts::parse(Lang::Ru, "ru.ftl", "a = b\nc = { $\n".to_owned(), &[]).unwrap_err();
        assert!(matches!(e, TextsError::Syntax { line: 2, .. }), "{e:?}");
    }
}
