//! Results of a session: the profile chart (scaled scores with their confidence bands), the
//! score table of subtests and composites, strengths and weaknesses from the profile, and —
//! once the session is finished — the referral decision of its consultation report.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};

use qabilet_core::ConfidenceInterval;
use qabilet_core::guidance::ReferralOutcome;
use qabilet_core::profile::{Direction, StrengthsWeaknesses};
use qabilet_core::scale::Scale;

use super::page::{Screen, esc, page, t, te};
use super::signin::Signed;
use crate::app::Referral;
use crate::svg::num;

/// GET /sessions/{id}/results
pub async fn show(s: Signed, Path(id): Path<String>) -> Response {
    let session = format!("sessions/{id}");
    let results = match s.app().results(&s.caller, &session).await {
        Ok(r) => r,
        Err(e) => return s.fail(e).into_response(),
    };
    // The charts are drawn on the battery's scales (battery.toml `[scales]`).
    let profile = &results.profile;
    let ui = s.screen();
    let mut b = String::new();
    // The norm set's notice in the interface language; the set's own words are kept in
    // `title` (they are the provenance's, in English).
    if let Some(notice) = &profile.notice {
        let _ = write!(
            b,
            "<p class=\"notice\" title=\"{}\">{}</p>",
            esc(notice),
            te(&ui, "demo-notice")
        );
    }
    let n = &profile.norm_set;
    let _ = write!(
        b,
        "<p class=\"help norm-set\"><code>{} {}</code> · <code>{}</code></p>",
        esc(&n.battery),
        esc(&n.version),
        esc(&n.hash)
    );
    let indexes: Vec<ChartRow> = profile
        .composites
        .iter()
        .filter_map(|c| c.value.as_ref().map(|v| ChartRow::new(&c.id, v.index, v.ci)))
        .collect();
    let subtests: Vec<ChartRow> = profile
        .subtests
        .iter()
        .map(|x| ChartRow::new(&x.id, x.scaled, x.ci))
        .collect();
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "profile-chart"));
    if !indexes.is_empty() {
        let _ = write!(
            b,
            "<figure class=\"chart indexes\">{}<figcaption>{}</figcaption></figure>",
            chart(&results.norms.battery.index_scale, &indexes),
            te(&ui, "chart-indexes")
        );
    }
    let _ = write!(
        b,
        "<figure class=\"chart subtests\">{}<figcaption>{}</figcaption></figure>",
        chart(&results.norms.battery.scaled_scale, &subtests),
        te(&ui, "chart-subtests")
    );
    let _ = write!(
        b,
        "<h2>{}</h2><table class=\"scores\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        te(&ui, "scores"),
        te(&ui, "subtest"),
        te(&ui, "raw-score"),
        te(&ui, "scaled"),
        te(&ui, "percentile"),
        te(&ui, "ci"),
    );
    for x in &profile.subtests {
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}–{}</td></tr>",
            esc(&x.id),
            x.raw,
            x.scaled,
            x.percentile,
            x.ci.low,
            x.ci.high
        );
    }
    let _ = write!(
        b,
        "</table><table class=\"scores composites\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        te(&ui, "composite"),
        te(&ui, "index"),
        te(&ui, "percentile"),
        te(&ui, "ci"),
        te(&ui, "classification"),
    );
    for c in &profile.composites {
        let Some(v) = &c.value else { continue };
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td></tr>",
            esc(&c.id),
            v.index,
            v.percentile,
            v.ci.low,
            v.ci.high,
            esc(&v.classification)
        );
    }
    b.push_str("</table>");
    for note in profile.notes() {
        let _ = write!(b, "<p class=\"help\">{}</p>", esc(&note));
    }
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "strengths-weaknesses"));
    b.push_str(&strengths_weaknesses(&ui, profile.strengths_weaknesses.as_ref()));
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "referral"));
    match results.referral {
        Referral::Decided(outcome) => {
            let (code, key) = match outcome {
                ReferralOutcome::Referred => ("referred", "referral-referred"),
                ReferralOutcome::Uncertain => ("uncertain", "referral-uncertain"),
                ReferralOutcome::NotReferred => ("not_referred", "referral-not-referred"),
            };
            let _ = write!(
                b,
                "<p class=\"referral\" data-outcome=\"{code}\"><strong>{}</strong></p>",
                te(&ui, key)
            );
        }
        Referral::NotFinished => {
            let _ = write!(b, "<p class=\"referral\">{}</p>", te(&ui, "not-finished"));
        }
        // Not this role's to read (a researcher), or no guidance tables: nothing to show.
        Referral::NotShown => b.push_str("<p class=\"referral\">—</p>"),
    }
    let _ = write!(
        b,
        "<p><a href=\"/sessions/{id}\">{}</a> · <a href=\"/sessions/{id}/report\">{}</a></p>",
        te(&ui, "back-to-session"),
        te(&ui, "report"),
        id = esc(&id)
    );
    page(&ui, &t(&ui, "results"), true, &b).into_response()
}

/// The profile's comparison of each core subtest with the mean of the core subtests as a
/// table.
fn strengths_weaknesses(ui: &Screen<'_>, sw: Option<&StrengthsWeaknesses>) -> String {
    let Some(sw) = sw else {
        return "<p>—</p>".to_owned();
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<p>{} {:.2} (k = {})</p><table class=\"sw\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{} (.05 / .15)</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        te(ui, "mean-core"),
        sw.mean,
        sw.k,
        te(ui, "subtest"),
        te(ui, "scaled"),
        te(ui, "difference"),
        te(ui, "critical"),
        te(ui, "significance"),
        te(ui, "direction"),
        te(ui, "base-rate"),
    );
    for row in &sw.subtests {
        let direction = match row.direction {
            Some(Direction::Strength) => t(ui, "strength"),
            Some(Direction::Weakness) => t(ui, "weakness"),
            None => String::new(),
        };
        let significance = row
            .significance
            .map_or_else(String::new, |s| s.alpha().to_string());
        let base_rate = row.base_rate.map_or_else(String::new, |r| {
            format!("{}{} %", if r.at_most { "≤ " } else { "" }, r.percent)
        });
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{:.2}</td><td>{:.2} / {:.2}</td><td>{}</td><td class=\"direction\">{}</td><td>{}</td></tr>",
            esc(&row.id),
            row.scaled,
            row.difference,
            row.critical.p05,
            row.critical.p15,
            esc(&significance),
            esc(&direction),
            esc(&base_rate),
        );
    }
    h.push_str("</table>");
    h
}

/// One row of a profile chart: a score and its confidence interval.
pub struct ChartRow {
    /// The subtest's or composite's id.
    pub label: String,
    /// The scaled score or index.
    pub score: f64,
    /// The interval's bounds.
    pub low: f64,
    /// See `low`.
    pub high: f64,
}

impl ChartRow {
    /// A row for score `score` of `label` with interval `ci`.
    fn new(label: &str, score: i32, ci: ConfidenceInterval) -> Self {
        ChartRow {
            label: label.to_owned(),
            score: f64::from(score),
            low: f64::from(ci.low),
            high: f64::from(ci.high),
        }
    }
}

/// A profile chart of scores on `scale`: one row per score, the score as a dot inside its
/// confidence band, the mean dashed and ±1 SD shaded, ticks every SD ([`Scale::sd_ticks`]).
pub fn chart(scale: &Scale, rows: &[ChartRow]) -> String {
    const LEFT: f64 = 80.0;
    const WIDTH: f64 = 420.0;
    const ROW: f64 = 26.0;
    let (min, max) = (f64::from(scale.min), f64::from(scale.max));
    let px = |v: f64| LEFT + (v.clamp(min, max) - min) / (max - min) * WIDTH;
    let x = |v: f64| num(px(v));
    let plot_height = ROW * rows.len() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {height}\" role=\"img\" class=\"profile\">\
         <rect x=\"{l}\" y=\"0\" width=\"{band}\" height=\"{plot_height}\" fill=\"#eef3f8\"/>\
         <line x1=\"{m}\" x2=\"{m}\" y1=\"0\" y2=\"{plot_height}\" stroke=\"#888\" stroke-dasharray=\"3 3\"/>",
        w = LEFT + WIDTH + 20.0,
        height = plot_height + 30.0,
        l = x(scale.mean - scale.sd),
        band = num(px(scale.mean + scale.sd) - px(scale.mean - scale.sd)),
        m = x(scale.mean),
    );
    for (i, row) in rows.iter().enumerate() {
        let y = ROW * i as f64 + ROW / 2.0;
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{ty}\" font-size=\"12\">{name}</text>\
             <line x1=\"{a}\" x2=\"{b}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#5b8bd0\" stroke-width=\"8\" stroke-opacity=\".45\"/>\
             <circle cx=\"{c}\" cy=\"{y}\" r=\"5\" fill=\"#1d4f91\"><title>{name}: {v} ({lo}–{hi})</title></circle>",
            ty = y + 4.0,
            name = esc(&row.label),
            a = x(row.low),
            b = x(row.high),
            c = x(row.score),
            v = row.score,
            lo = row.low,
            hi = row.high,
        );
    }
    for tick in scale.sd_ticks() {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{tick}</text>",
            x(tick),
            plot_height + 18.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(scores: &[(f64, f64, f64)]) -> Vec<ChartRow> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &(score, low, high))| ChartRow {
                label: format!("s{i}"),
                score,
                low,
                high,
            })
            .collect()
    }

    #[test]
    fn the_subtest_chart_ticks_every_sd_from_1_to_19() {
        let svg = chart(&Scale::SCALED, &rows(&[(10.0, 8.0, 12.0)]));
        let ticks: Vec<&str> = svg
            .split("text-anchor=\"middle\">")
            .skip(1)
            .map(|t| t.split('<').next().unwrap_or_default())
            .collect();
        assert_eq!(ticks, ["1", "4", "7", "10", "13", "16", "19"]);
    }

    #[test]
    fn the_index_chart_places_the_mean_in_the_middle_and_shades_85_to_115() {
        let svg = chart(
            &Scale::INDEX,
            &rows(&[(100.0, 94.0, 106.0), (130.0, 122.0, 138.0)]),
        );
        // x(v) = 80 + (v − 40)/120 · 420: the mean at 290, 85 at 237.5, 115 at 342.5.
        assert!(svg.contains("x1=\"290\" x2=\"290\""), "{svg}");
        assert!(svg.contains("<rect x=\"237.5\" y=\"0\" width=\"105\""), "{svg}");
        assert!(svg.contains("<circle cx=\"395\""), "130 at 395: {svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
