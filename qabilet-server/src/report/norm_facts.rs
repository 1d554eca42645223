//! The norm set and its provenance as the report's closing section states them — battery,
//! version, hash, status, date, sample size, intended use, method and the notice — with what
//! else the report was made with (the guidance hash and the software version of its
//! fingerprint), in the report's language. The HTML and PDF renderers lay out the same facts.

use qabilet_core::norms::NormStatus;

use super::ReportContext;
use super::texts::{Texts, TextsError};

/// A fact's value: text, an identifier (set as code where the format can), or a name with
/// its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactValue {
    /// Plain text.
    Text(String),
    /// An identifier such as the norm-set hash.
    Code(String),
    /// A name and its identifier: "Qabilet primary (qabilet-primary-demo)".
    Named {
        /// The name in the report's language.
        name: String,
        /// The identifier.
        code: String,
    },
}

/// The closing section's facts, labels in the report's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormFacts {
    /// The section heading.
    pub heading: String,
    /// Label and value, in reading order.
    pub rows: Vec<(String, FactValue)>,
    /// The notice's label and text, where the norm set carries one (demonstration norms).
    pub notice: Option<(String, String)>,
}

impl NormFacts {
    /// The facts of `ctx`'s norm set in the language of `texts`.
    ///
    /// # Errors
    /// A label missing from the texts.
    pub fn of(ctx: &ReportContext<'_>, texts: &Texts) -> Result<NormFacts, TextsError> {
        let (report, provenance) = (ctx.report, &ctx.norms.provenance);
        let status = match provenance.status {
            NormStatus::Demonstration => "norm-status-demonstration",
            NormStatus::Clinical => "norm-status-clinical",
        };
        let text = |s: &str| FactValue::Text(s.to_owned());
        let rows = vec![
            (
                texts.text("label-battery")?,
                FactValue::Named {
                    name: ctx.norms.battery.names.get(texts.lang()).to_owned(),
                    code: report.battery.clone(),
                },
            ),
            (texts.text("label-version")?, text(&report.version)),
            (
                texts.text("label-norm-hash")?,
                FactValue::Code(report.fingerprint.norm_set_hash.clone()),
            ),
            (
                texts.text("label-norm-status")?,
                FactValue::Text(texts.text(status)?),
            ),
            (texts.text("label-norm-created")?, text(&provenance.created)),
            (
                texts.text("label-norm-sample")?,
                FactValue::Text(provenance.sample_size.to_string()),
            ),
            (texts.text("label-intended-use")?, text(&provenance.intended_use)),
            (texts.text("label-norm-method")?, text(&provenance.method)),
            (
                texts.text("label-guidance-hash")?,
                FactValue::Code(report.fingerprint.guidance_hash.clone()),
            ),
            (
                texts.text("label-software-version")?,
                FactValue::Code(report.fingerprint.software_version.clone()),
            ),
        ];
        let notice = match &report.notice {
            Some(n) => Some((texts.text("label-notice")?, n.clone())),
            None => None,
        };
        Ok(NormFacts {
            heading: texts.text("section-norms")?,
            rows,
            notice,
        })
    }
}

#[cfg(test)]
mod tests {
    use qabilet_core::Lang;

    use super::*;
    use crate::report::ReportEdits;
    use crate::report::fixtures::Fixture;

    #[test]
    fn the_demonstration_set_states_its_hash_status_and_notice_in_every_language() {
        let f = Fixture::load();
        let (_, report) = f.reports().remove(0);
        let none = ReportEdits::default();
        let ctx = ReportContext {
            report: &report,
            norms: &f.norms,
            tables: &f.tables,
            edits: &none,
        };
        for lang in Lang::ALL {
            let texts = f.texts(lang);
            let facts = NormFacts::of(&ctx, texts).unwrap();
            assert_eq!(facts.rows.len(), 10);
            assert!(facts.rows.contains(&(
                texts.text("label-norm-hash").unwrap(),
                FactValue::Code(f.norms.id.hash.clone())
            )));
            assert!(facts.rows.contains(&(
                texts.text("label-guidance-hash").unwrap(),
                FactValue::Code(f.tables.id.hash.clone())
            )));
            assert!(facts.rows.contains(&(
                texts.text("label-software-version").unwrap(),
                FactValue::Code(crate::report::GENERATOR_VERSION.to_owned())
            )));
            assert!(facts.rows.contains(&(
                texts.text("label-norm-status").unwrap(),
                FactValue::Text(texts.text("norm-status-demonstration").unwrap())
            )));
            let (_, notice) = facts.notice.expect("demonstration norms carry a notice");
            assert_eq!(
                Some(notice),
                f.norms.provenance.output_notice().map(str::to_owned)
            );
        }
    }
}
