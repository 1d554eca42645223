//! Results of a session: the profile chart (scaled scores with their confidence bands), the
//! score table of subtests and composites, strengths and weaknesses from the profile, and —
//! once the session is finished — the referral decision of its consultation report.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};

use qabilet_core::scale::Scale;

use super::page::{Screen, esc, page, t, te};
use super::signin::Signed;
use crate::grpc::pb::assessment_server::Assessment;
use crate::grpc::pb::reports_server::Reports;
use crate::grpc::pb::{self, GetReportRequest, GetResultsRequest, ReportFormat};
use crate::svg::num;

/// GET /sessions/{id}/results
pub async fn show(s: Signed, Path(id): Path<String>) -> Response {
    let session = format!("sessions/{id}");
    let profile = match s
        .console
        .assessment
        .get_results(s.req(GetResultsRequest {
            session: session.clone(),
        }))
        .await
    {
        Ok(r) => r.into_inner(),
        Err(e) => return s.fail(e).into_response(),
    };
    // The referral decision is the report's: only a finished session has one.
    let referral = s
        .console
        .reports
        .get_report(s.req(GetReportRequest {
            session,
            language: s.lang.code().to_owned(),
            format: ReportFormat::Data as i32,
            interests_json: String::new(),
        }))
        .await
        .ok()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.into_inner().report_json).ok())
        .and_then(|v| v.get("referral").cloned());
    let ui = s.screen();
    let mut b = String::new();
    // The norm set's notice in the interface language; the set's own words are kept in
    // `title` (they are the provenance's, in English).
    if !profile.notice.is_empty() {
        let _ = write!(
            b,
            "<p class=\"notice\" title=\"{}\">{}</p>",
            esc(&profile.notice),
            te(&ui, "demo-notice")
        );
    }
    if let Some(n) = &profile.norm_set {
        let _ = write!(
            b,
            "<p class=\"help norm-set\"><code>{} {}</code> · <code>{}</code></p>",
            esc(&n.battery),
            esc(&n.version),
            esc(&n.hash)
        );
    }
    let indexes: Vec<ChartRow> = profile
        .composites
        .iter()
        .filter(|c| c.computed)
        .map(|c| ChartRow::new(&c.composite, c.index, c.ci))
        .collect();
    let subtests: Vec<ChartRow> = profile
        .subtests
        .iter()
        .map(|x| ChartRow::new(&x.subtest, x.scaled, x.ci))
        .collect();
    // The charts' scales are the battery's (battery.toml `[scales]`).
    let (subtest_scale, index_scale) = profile
        .norm_set
        .as_ref()
        .and_then(|n| s.console.catalog.loaded(&n.battery))
        .map_or((Scale::SCALED, Scale::INDEX), |n| {
            (n.battery.scaled_scale, n.battery.index_scale)
        });
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "profile-chart"));
    if !indexes.is_empty() {
        let _ = write!(
            b,
            "<figure class=\"chart indexes\">{}<figcaption>{}</figcaption></figure>",
            chart(&index_scale, &indexes),
            te(&ui, "chart-indexes")
        );
    }
    let _ = write!(
        b,
        "<figure class=\"chart subtests\">{}<figcaption>{}</figcaption></figure>",
        chart(&subtest_scale, &subtests),
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
        let ci = x.ci.unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}–{}</td></tr>",
            esc(&x.subtest),
            x.raw,
            x.scaled,
            x.percentile,
            ci.low,
            ci.high
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
    for c in profile.composites.iter().filter(|c| c.computed) {
        let ci = c.ci.unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td></tr>",
            esc(&c.composite),
            c.index,
            c.percentile,
            ci.low,
            ci.high,
            esc(&c.classification)
        );
    }
    b.push_str("</table>");
    for note in &profile.notes {
        let _ = write!(b, "<p class=\"help\">{}</p>", esc(note));
    }
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "strengths-weaknesses"));
    let sw = serde_json::from_str::<serde_json::Value>(&profile.profile_json)
        .ok()
        .and_then(|v| v.get("strengths_weaknesses").cloned());
    b.push_str(&strengths_weaknesses(&ui, sw.as_ref()));
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "referral"));
    match referral {
        Some(r) => {
            let outcome = r.get("outcome").map_or_else(String::new, |o| match o {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let text = match outcome.as_str() {
                "referred" => t(&ui, "referral-referred"),
                "uncertain" => t(&ui, "referral-uncertain"),
                "not_referred" => t(&ui, "referral-not-referred"),
                other => other.to_owned(),
            };
            let _ = write!(
                b,
                "<p class=\"referral\" data-outcome=\"{}\"><strong>{}</strong></p>",
                esc(&outcome),
                esc(&text)
            );
        }
        None => {
            let _ = write!(b, "<p class=\"referral\">{}</p>", te(&ui, "not-finished"));
        }
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

/// The profile's comparison of each core subtest with the mean of the core subtests
/// (`strengths_weaknesses` of `profile_json`) as a table.
fn strengths_weaknesses(ui: &Screen<'_>, sw: Option<&serde_json::Value>) -> String {
    let Some(sw) = sw.filter(|v| !v.is_null()) else {
        return "<p>—</p>".to_owned();
    };
    let num = |v: Option<&serde_json::Value>, digits: usize| {
        v.and_then(serde_json::Value::as_f64)
            .map_or_else(|| "—".to_owned(), |x| format!("{x:.digits$}"))
    };
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<p>{} {} (k = {})</p><table class=\"sw\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{} (.05 / .15)</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        te(ui, "mean-core"),
        num(sw.get("mean"), 2),
        sw.get("k").and_then(serde_json::Value::as_u64).unwrap_or(0),
        te(ui, "subtest"),
        te(ui, "scaled"),
        te(ui, "difference"),
        te(ui, "critical"),
        te(ui, "significance"),
        te(ui, "direction"),
        te(ui, "base-rate"),
    );
    let rows = sw
        .get("subtests")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for row in &rows {
        let direction = match text(row.get("direction")).as_str() {
            "strength" => t(ui, "strength"),
            "weakness" => t(ui, "weakness"),
            other => other.to_owned(),
        };
        let critical = row.get("critical");
        let base_rate = row
            .get("base_rate")
            .and_then(|r| r.get("percent"))
            .and_then(serde_json::Value::as_f64)
            .map_or_else(String::new, |p| format!("{p} %"));
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td class=\"direction\">{}</td><td>{}</td></tr>",
            esc(&text(row.get("id"))),
            text(row.get("scaled")),
            num(row.get("difference"), 2),
            num(critical.and_then(|c| c.get("0.05")), 2),
            num(critical.and_then(|c| c.get("0.15")), 2),
            esc(&text(row.get("significance"))),
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
    /// A row for score `score` of `label` with interval `ci` (none: a zero-width band).
    fn new(label: &str, score: i32, ci: Option<pb::Interval>) -> Self {
        let ci = ci.unwrap_or_default();
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
