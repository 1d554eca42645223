//! Results of a session: the profile chart (scaled scores with their confidence bands), the
//! score table of subtests and composites, strengths and weaknesses from the profile, and —
//! once the session is finished — the referral decision of its consultation report.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};

use super::page::{Screen, esc, page, t, te};
use super::signin::Signed;
use crate::grpc::pb::assessment_server::Assessment;
use crate::grpc::pb::reports_server::Reports;
use crate::grpc::pb::{self, GetReportRequest, GetResultsRequest, ReportFormat};

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
    if !profile.notice.is_empty() {
        let _ = write!(b, "<p class=\"notice\">{}</p>", esc(&profile.notice));
    }
    let _ = write!(
        b,
        "<h2>{}</h2><figure class=\"chart\">{}</figure>",
        te(&ui, "profile-chart"),
        chart(&profile)
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

/// The profile chart: one row per subtest, its scaled score (1–19) as a dot inside its
/// confidence band, the mean (10) and ±1 SD (7, 13) marked.
pub fn chart(profile: &pb::Profile) -> String {
    const LEFT: f64 = 80.0;
    const WIDTH: f64 = 420.0;
    const ROW: f64 = 26.0;
    let x = |v: f64| LEFT + (v.clamp(1.0, 19.0) - 1.0) / 18.0 * WIDTH;
    let rows = profile.subtests.len();
    let height = ROW * rows as f64 + 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {height}\" role=\"img\" class=\"profile\">\
         <rect x=\"{l}\" y=\"0\" width=\"{band}\" height=\"{h2}\" fill=\"#eef3f8\"/>",
        w = LEFT + WIDTH + 20.0,
        l = x(7.0),
        band = x(13.0) - x(7.0),
        h2 = ROW * rows as f64,
    );
    let _ = write!(
        s,
        "<line x1=\"{m}\" x2=\"{m}\" y1=\"0\" y2=\"{h2}\" stroke=\"#888\" stroke-dasharray=\"3 3\"/>",
        m = x(10.0),
        h2 = ROW * rows as f64
    );
    for (i, st) in profile.subtests.iter().enumerate() {
        let y = ROW * i as f64 + ROW / 2.0;
        let ci = st.ci.unwrap_or_default();
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{ty}\" font-size=\"12\">{name}</text>\
             <line x1=\"{a}\" x2=\"{b}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#5b8bd0\" stroke-width=\"8\" stroke-opacity=\".45\"/>\
             <circle cx=\"{c}\" cy=\"{y}\" r=\"5\" fill=\"#1d4f91\"><title>{name}: {v} ({lo}–{hi})</title></circle>",
            ty = y + 4.0,
            name = esc(&st.subtest),
            a = x(f64::from(ci.low)),
            b = x(f64::from(ci.high)),
            c = x(f64::from(st.scaled)),
            v = st.scaled,
            lo = ci.low,
            hi = ci.high,
        );
    }
    for v in [1, 4, 7, 10, 13, 16, 19] {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{v}</text>",
            x(f64::from(v)),
            ROW * rows as f64 + 18.0
        );
    }
    s.push_str("</svg>");
    s
}
