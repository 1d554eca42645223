//! The console's interface texts in kk, ru and en, from `assets/console/{kk,ru,en}.ftl`
//! (Fluent, compiled into the binary), loaded with the report's [`Texts`]: every key of
//! [`KEYS`] must exist in every file, so a missing translation fails at start, never as a
//! blank on a screen.

use qabilet_core::Lang;

use crate::report::Texts;

/// Every key the console uses.
pub const KEYS: &[&str] = &[
    "app-title",
    "sign-in",
    "sign-in-token",
    "sign-in-help",
    "sign-in-bad",
    "sign-out",
    "language",
    "nav-children",
    "children",
    "search-code",
    "search",
    "code",
    "birth-date",
    "sex",
    "test-language",
    "create-child",
    "create",
    "none-found",
    "child",
    "sessions",
    "session",
    "start-session",
    "battery",
    "test-date",
    "start",
    "state",
    "examiner",
    "subtest",
    "start-item",
    "phase",
    "basal",
    "discontinued-after",
    "raw-score",
    "items-administered",
    "done",
    "done-reason",
    "open",
    "pause",
    "resume",
    "finish",
    "results",
    "report",
    "next-item",
    "item-max",
    "score",
    "keys-help",
    "timer",
    "override",
    "override-help",
    "reason",
    "record",
    "total",
    "theta",
    "subtest-done",
    "back-to-session",
    "profile-chart",
    "scores",
    "scaled",
    "index",
    "percentile",
    "ci",
    "classification",
    "composite",
    "strengths-weaknesses",
    "mean-core",
    "difference",
    "critical",
    "significance",
    "direction",
    "base-rate",
    "strength",
    "weakness",
    "cohorts",
    "cohort",
    "institution",
    "grade",
    "dates",
    "class",
    "proctor-status",
    "proctor-answered",
    "proctor-result",
    "proctor-not-started",
    "proctor-in-progress",
    "proctor-on-item",
    "proctor-idle",
    "proctor-paused",
    "proctor-finished",
    "proctor-pause",
    "proctor-resume",
    "proctor-pause-all",
    "proctor-resume-all",
    "proctor-results-csv",
    "proctor-local",
    "proctor-extend",
    "proctor-extend-all",
    "roster-import",
    "tickets-issue",
    "back",
    "referral",
    "referral-referred",
    "referral-uncertain",
    "referral-not-referred",
    "not-finished",
    "report-pdf",
    "print",
    "edit-item",
    "edit-text",
    "save",
    "error",
    "forbidden",
    "not-found",
    "unavailable",
    "phase-forward",
    "phase-reversal",
    "phase-adaptive",
    "phase-total",
    "done-discontinued",
    "done-last_item",
    "done-total_entered",
    "done-max_items",
    "done-se_target",
    "done-bank_exhausted",
    "state-active",
    "state-paused",
    "state-finished",
    "next-page",
    "first-page",
    "demo-notice",
    "chart-indexes",
    "chart-subtests",
    "edits",
    "edit-when",
    "edit-author",
    "edit-item-id",
    "edit-content",
];

/// The three languages' texts.
pub struct Ui {
    texts: Vec<Texts>,
}

const SOURCES: [(Lang, &str, &str); 3] = [
    (
        Lang::Kk,
        "assets/console/kk.ftl",
        include_str!("../../assets/console/kk.ftl"),
    ),
    (
        Lang::Ru,
        "assets/console/ru.ftl",
        include_str!("../../assets/console/ru.ftl"),
    ),
    (
        Lang::En,
        "assets/console/en.ftl",
        include_str!("../../assets/console/en.ftl"),
    ),
];

impl Ui {
    /// Parses the compiled-in files, checking every key of [`KEYS`].
    ///
    /// # Errors
    /// The first file with a syntax error or a missing key.
    pub fn load() -> Result<Ui, crate::report::TextsError> {
        let required: Vec<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
        let texts = SOURCES
            .iter()
            .map(|(lang, file, source)| Texts::parse(*lang, file, (*source).to_owned(), &required))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Ui { texts })
    }

    /// The text of `key` in `lang` (the key itself if it is unknown: a programming error the
    /// unit test below catches).
    pub fn t(&self, lang: Lang, key: &str) -> String {
        let texts = self
            .texts
            .iter()
            .find(|t| t.lang() == lang)
            .unwrap_or(&self.texts[0]);
        debug_assert!(KEYS.contains(&key), "console text key '{key}' is not in KEYS");
        texts.text(key).unwrap_or_else(|_| key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys_of(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter_map(|l| l.split_once(" ="))
            .map(|(k, _)| k.trim().to_owned())
            .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with(' '))
            .collect()
    }

    #[test]
    fn the_three_files_have_the_same_keys_and_every_key_the_console_uses() {
        let ui = Ui::load().expect("the console texts load");
        let en = keys_of(SOURCES[2].2);
        for (lang, file, source) in SOURCES {
            assert_eq!(keys_of(source), en, "{file} has other keys than en.ftl");
            for key in KEYS {
                assert!(!ui.t(lang, key).is_empty(), "{file}: {key}");
            }
        }
        let used: BTreeSet<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
        assert_eq!(used, en, "KEYS and the files differ");
    }

    #[test]
    fn every_key_used_in_the_handlers_is_in_keys() {
        // Every `t(&ui, "key")` and `te(&ui, "key")` call in the console's sources names a key of KEYS.
        let sources = [
            include_str!("page.rs"),
            include_str!("signin.rs"),
            include_str!("children.rs"),
            include_str!("sessions.rs"),
            include_str!("subtest.rs"),
            include_str!("results.rs"),
            include_str!("report.rs"),
            include_str!("cohorts.rs"),
        ];
        for source in sources {
            for part in source.split("(&ui, \"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                assert!(KEYS.contains(&key), "key '{key}' is used but not in KEYS");
            }
        }
    }
}
