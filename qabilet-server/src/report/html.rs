//! The report as one self-contained HTML page: inline CSS (with print rules for A4), the
//! profile chart as inline SVG, no script, no external resource. The page has the report's
//! language in `lang`; every text (texts, record id, edits, trace facts) is escaped.
//!
//! Order: title, child and age, the demonstration-norms notice (when the record carries
//! one), then the report's sections in its order (summary, profile with chart and table,
//! strengths, areas to support, how the child learns, activities, directions, referral,
//! interests, caveats), then the norm set with its provenance, then the footer. Each item
//! keeps its trace in a collapsible `<details>` (rule, source file, facts). Where the
//! psychologist edited an item, the edited text is shown with its author and time and the
//! generated text stays visible beneath it.

use std::fmt::Write as _;

use qabilet_core::report::{Arg, EditableItem, TraceStep};

use super::chart::ProfileChart;
use super::norm_facts::{FactValue, NormFacts};
use super::texts::{Texts, TextsError, plain};
use super::{GENERATOR_VERSION, ReportContext};
use crate::svg::escape;

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Verdana,sans-serif;color:#222;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.45}\
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #bbb;margin-top:1.6em}\
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.4em 0}dl.meta dt{color:#555}dl.meta dd{margin:0}\
.notice{border:2px solid #b00;background:#fff2f2;color:#800;font-weight:bold;padding:.6em .8em;margin:1em 0}\
.item{margin:.5em 0 .8em}.item p{margin:.15em 0}.edit-meta,.generated{font-size:.85em;color:#555}.generated{border-left:3px solid #ccc;padding-left:.6em}\
.evidence,.isco{font-size:.85em;color:#444}details.trace{font-size:.8em;color:#555}details.trace ul{margin:.2em 0;padding-left:1.2em}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto}table{border-collapse:collapse;font-size:.9em}\
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}code{font-size:.95em}\
footer{margin-top:2em;font-size:.8em;color:#666;border-top:1px solid #bbb;padding-top:.5em}\
@page{size:A4;margin:15mm}\
@media print{body{max-width:none;margin:0;font-size:10.5pt}h2{break-after:avoid}figure,.item,tr{break-inside:avoid}\
.notice{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// The HTML page of a report in the language of `texts`.
///
/// # Errors
/// A text that cannot be formatted (not expected once [`Texts::parse`] has checked the keys).
pub fn render_html(ctx: &ReportContext<'_>, texts: &Texts) -> Result<String, TextsError> {
    let report = ctx.report;
    let t = |key: &str| texts.text(key).map(|s| escape(&s).into_owned());
    let mut h = String::with_capacity(64 * 1024);
    let title = t("report-title")?;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Qabilet {GENERATOR_VERSION}\">\n\
         <title>{title} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n",
        texts.lang().code(),
        escape(&report.record_id)
    );
    let _ = writeln!(
        h,
        "<dl class=\"meta\"><dt>{}</dt><dd class=\"child-code\">{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        t("label-child")?,
        escape(&report.record_id),
        t("label-age")?,
        escape(&report.age)
    );
    if report.notice.is_some() {
        let _ = writeln!(
            h,
            "<p class=\"notice\" role=\"note\">{}</p>",
            t("caveat-demonstration")?
        );
    }
    h.push_str("</header>\n");

    for section in report.sections() {
        if section.items.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<section class=\"{}\">\n<h2>{}</h2>\n",
            section.heading,
            t(section.heading)?
        );
        if section.heading == "section-profile" {
            profile(&mut h, ctx, texts)?;
        } else {
            for item in &section.items {
                render_item(&mut h, ctx, texts, item)?;
            }
        }
        h.push_str("</section>\n");
    }
    norm_set(&mut h, ctx, texts)?;
    let _ = write!(
        h,
        "<footer>{}</footer>\n</body>\n</html>\n",
        escape(&texts.format(
            "generated-by",
            &[("version", &Arg::Text(GENERATOR_VERSION.into()))]
        )?)
    );
    Ok(h)
}

/// The chart, then a table of the rows with each row's trace.
fn profile(h: &mut String, ctx: &ReportContext<'_>, texts: &Texts) -> Result<(), TextsError> {
    let chart = ProfileChart::build(ctx.report, &ctx.norms.battery, ctx.tables, texts)?;
    let _ = writeln!(h, "<figure class=\"profile-chart\">{}</figure>", chart.svg());
    let t = |key: &str| texts.text(key).map(|s| escape(&s).into_owned());
    let _ = writeln!(
        h,
        "<table class=\"profile\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t("label-domain")?,
        t("label-index")?,
        t("label-ci")?,
        t("label-percentile")?,
        t("label-classification")?
    );
    let lang = texts.lang();
    for row in &ctx.report.profile {
        let class = ctx
            .norms
            .battery
            .classification
            .bands()
            .iter()
            .find(|b| b.id == row.classification)
            .map_or(row.classification.as_str(), |b| b.labels.get(lang));
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td><td>{}",
            t(&row.name_key)?,
            row.index,
            row.ci_low,
            row.ci_high,
            plain(&Arg::Number(row.percentile)),
            escape(class)
        );
        trace(h, texts, &row.trace)?;
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody></table>\n");
    Ok(())
}

fn render_item(
    h: &mut String,
    ctx: &ReportContext<'_>,
    texts: &Texts,
    item: &EditableItem<'_>,
) -> Result<(), TextsError> {
    let generated = escape(&texts.message(item.message)?).into_owned();
    let _ = write!(h, "<div class=\"item\" id=\"item-{}\">", escape(&item.id));
    match ctx.edits.get(&item.id) {
        Some(edit) => {
            let meta = texts.format(
                "label-edited",
                &[
                    ("author", &Arg::Text(edit.author.clone())),
                    ("time", &Arg::Text(edit.time.clone())),
                ],
            )?;
            let _ = write!(
                h,
                "<p class=\"text edited\">{}</p><p class=\"edit-meta\">{}</p>\
                 <p class=\"generated\"><span class=\"label\">{}:</span> {generated}</p>",
                escape(&edit.text),
                escape(&meta),
                escape(&texts.text("label-generated")?)
            );
        }
        None => {
            let _ = write!(h, "<p class=\"text\">{generated}</p>");
        }
    }
    if let Some(evidence) = item.evidence {
        let _ = write!(
            h,
            "<p class=\"evidence\">{}: {}</p>",
            escape(&texts.text("label-evidence")?),
            escape(&texts.text(&format!("evidence-{}", evidence.code()))?)
        );
    }
    if !item.isco08.is_empty() {
        let _ = write!(
            h,
            "<p class=\"isco\">{}: {}</p>",
            escape(&texts.text("label-isco")?),
            escape(&item.isco08.join(", "))
        );
    }
    trace(h, texts, item.trace)?;
    h.push_str("</div>\n");
    Ok(())
}

/// A trace as a collapsible list: rule, source file, facts.
fn trace(h: &mut String, texts: &Texts, steps: &[TraceStep]) -> Result<(), TextsError> {
    let t = |key: &str| texts.text(key).map(|s| escape(&s).into_owned());
    let (rule, source, facts) = (t("label-rule")?, t("label-source")?, t("label-facts")?);
    let _ = write!(
        h,
        "<details class=\"trace\"><summary>{}</summary><ul>",
        t("label-trace")?
    );
    for step in steps {
        let _ = write!(
            h,
            "<li>{rule}: <code>{}</code>; {source}: <code>{}</code>",
            escape(&step.rule),
            escape(&step.source)
        );
        if !step.facts.is_empty() {
            let list: Vec<String> = step
                .facts
                .iter()
                .map(|(k, v)| format!("{} = {}", escape(k), escape(&plain(v))))
                .collect();
            let _ = write!(h, "; {facts}: {}", list.join(", "));
        }
        h.push_str("</li>");
    }
    h.push_str("</ul></details>");
    Ok(())
}

/// The norm set and its provenance.
fn norm_set(h: &mut String, ctx: &ReportContext<'_>, texts: &Texts) -> Result<(), TextsError> {
    let facts = NormFacts::of(ctx, texts)?;
    let _ = write!(
        h,
        "<section class=\"section-norms\">\n<h2>{}</h2>\n<dl class=\"meta\">",
        escape(&facts.heading)
    );
    for (label, value) in &facts.rows {
        let value = match value {
            FactValue::Text(s) => escape(s).into_owned(),
            FactValue::Code(c) => format!("<code>{}</code>", escape(c)),
            FactValue::Named { name, code } => format!("{} (<code>{}</code>)", escape(name), escape(code)),
        };
        let _ = write!(h, "<dt>{}</dt><dd>{value}</dd>", escape(label));
    }
    if let Some((label, notice)) = &facts.notice {
        let _ = write!(
            h,
            "<dt>{}</dt><dd class=\"notice-text\"><strong>{}</strong></dd>",
            escape(label),
            escape(notice)
        );
    }
    h.push_str("</dl>\n</section>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use qabilet_core::Lang;

    use super::*;
    use crate::report::fixtures::Fixture;
    use crate::report::items::{Edit, ReportEdits};

    #[test]
    fn every_report_renders_in_every_language_with_every_item() {
        let f = Fixture::load();
        let none = ReportEdits::default();
        for (id, report) in f.reports() {
            let ctx = ReportContext {
                report: &report,
                norms: &f.norms,
                tables: &f.tables,
                edits: &none,
            };
            for lang in Lang::ALL {
                let html = render_html(&ctx, f.texts(lang)).unwrap_or_else(|e| panic!("{id} {lang:?}: {e}"));
                assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())));
                assert!(html.contains(&id.replace("+interests", "")));
                assert!(html.contains("<svg"));
                assert!(html.contains("class=\"notice\""), "demonstration notice");
                assert!(html.contains("demonstration norms — not for clinical decisions"));
                assert!(
                    !html.contains('\u{2068}') && !html.contains('\u{2069}'),
                    "no isolation marks"
                );
                assert!(
                    !html.contains("{ $") && !html.contains("{$"),
                    "no unformatted placeable"
                );
                for item in report.item_ids().iter().filter(|i| !i.starts_with("profile/")) {
                    assert!(html.contains(&format!("id=\"item-{item}\"")), "{id}: {item}");
                }
                let details = html.matches("<details class=\"trace\">").count();
                assert_eq!(details, report.item_ids().len(), "a trace per item");
            }
        }
    }

    #[test]
    fn edits_show_above_the_generated_text_and_everything_is_escaped() {
        let f = Fixture::load();
        let (_, mut report) = f.reports().remove(0);
        report.record_id = "<b>child & co</b>".into();
        let target = report
            .item_ids()
            .into_iter()
            .find(|i| i.starts_with("caveats/"))
            .unwrap();
        let mut edits = ReportEdits::default();
        edits.0.insert(
            target.clone(),
            Edit {
                text: "Re-test <soon> & \"talk\"".into(),
                author: "A. Psychologist".into(),
                time: "2026-05-15T10:30:00Z".into(),
            },
        );
        edits.check(&report).expect("known item");
        let ctx = ReportContext {
            report: &report,
            norms: &f.norms,
            tables: &f.tables,
            edits: &edits,
        };
        let html = render_html(&ctx, f.texts(Lang::Ru)).unwrap();
        assert!(!html.contains("<b>child"), "record id escaped");
        assert!(html.contains("&lt;b&gt;child &amp; co&lt;/b&gt;"));
        let edited = html
            .find("Re-test &lt;soon&gt; &amp; &quot;talk&quot;")
            .expect("edit shown");
        let meta = html
            .find("Изменено психологом (A. Psychologist, 2026-05-15T10:30:00Z)")
            .unwrap();
        let generated = html.find("Текст, составленный автоматически").unwrap();
        assert!(
            edited < meta && meta < generated,
            "edit, who and when, then the generated text"
        );
    }
}
