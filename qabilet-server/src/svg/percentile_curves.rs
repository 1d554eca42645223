//! The percentile-curve chart of one subtest of a norm build: the fitted raw score at each of
//! [`CURVE_PERCENTILES`](qabilet_core::norms::build::CURVE_PERCENTILES) by age, over the
//! sample's children as dots, with the bands that show a floor or ceiling effect shaded.

use std::fmt::Write as _;

use qabilet_core::norms::build::SubtestDiagnostics;

use super::{escape, num};

/// Canvas width.
const WIDTH: f64 = 720.0;
/// Canvas height.
const HEIGHT: f64 = 440.0;
/// Plot area: left edge.
const LEFT: f64 = 56.0;
/// Plot area: right edge (room for the curve labels beyond it).
const RIGHT: f64 = 672.0;
/// Plot area: top edge (title, subtitle and legend above it).
const TOP: f64 = 64.0;
/// Plot area: bottom edge.
const BOTTOM: f64 = 388.0;
/// Most children drawn as dots; beyond it every k-th is drawn.
pub const MAX_DOTS: usize = 3000;

/// The chart of one subtest: raw score (y, 0 to `raw_max`) against age in months (x, whole
/// years from the year of `age_min_months` to the year after the last month, ticked and
/// labelled "5:0", "6:0", … ), as a standalone 720×440 SVG document.
///
/// - `d.curves`: one polyline per percentile, the month `i` of each at age
///   `age_min_months + i + 0.5` (mid-month); the 50th is thicker; each is labelled at its right
///   end ("P2", "P9", …). Non-finite values are left out.
/// - `points`: the sample's children as (exact age in months, raw score), drawn as small
///   semi-transparent grey dots; if there are more than [`MAX_DOTS`], every k-th (in the given
///   order) is drawn, k the smallest that keeps the count within the cap.
/// - `d.bands` flagged with `floor_effect` or `ceiling_effect` are shaded faintly over their
///   months.
///
/// Title "<subtest>: percentile curves by age (n = …)", subtitle the model; all text is
/// XML-escaped and numbers have at most two decimals, so the output is compact and the same
/// input always gives the same bytes.
pub fn percentile_curves(d: &SubtestDiagnostics, age_min_months: u16, points: &[(f64, u16)]) -> String {
    let months = d.curves.iter().map(|c| c.raw.len()).max().unwrap_or(0);
    let last_month = d
        .bands
        .iter()
        .map(|b| u32::from(b.age_max_months) + 1)
        .chain([u32::from(age_min_months) + months as u32])
        .max()
        .unwrap_or(0);
    let age_from = f64::from(u32::from(age_min_months) / 12 * 12);
    let age_to = f64::from(last_month.div_ceil(12) * 12).max(age_from + 12.0);
    let raw_top = f64::from(d.raw_max.max(1));

    let x = |age: f64| LEFT + (age - age_from) / (age_to - age_from) * (RIGHT - LEFT);
    let y = |raw: f64| BOTTOM - raw / raw_top * (BOTTOM - TOP);

    let mut o = String::with_capacity(16_384 + 40 * points.len().min(MAX_DOTS));
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">",
        w = num(WIDTH),
        h = num(HEIGHT)
    );
    let _ = writeln!(
        o,
        "<defs><clipPath id=\"plot-area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>",
        num(LEFT),
        num(TOP),
        num(RIGHT - LEFT),
        num(BOTTOM - TOP)
    );
    let _ = writeln!(o, "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");

    // Bands with a floor or ceiling effect.
    let shaded: Vec<_> = d
        .bands
        .iter()
        .filter(|b| b.floor_effect || b.ceiling_effect)
        .collect();
    if !shaded.is_empty() {
        let _ = writeln!(o, "<g class=\"effects\" fill=\"#e6550d\" fill-opacity=\"0.1\">");
        for b in &shaded {
            let from = x(f64::from(b.age_min_months)).clamp(LEFT, RIGHT);
            let to = x(f64::from(b.age_max_months) + 1.0).clamp(LEFT, RIGHT);
            let what = match (b.floor_effect, b.ceiling_effect) {
                (true, true) => "floor and ceiling effect",
                (true, false) => "floor effect",
                _ => "ceiling effect",
            };
            let _ = writeln!(
                o,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}–{}: {what}</title></rect>",
                num(from),
                num(TOP),
                num(to - from),
                num(BOTTOM - TOP),
                age_label(b.age_min_months),
                age_label(b.age_max_months),
            );
        }
        let _ = writeln!(o, "</g>");
    }

    // Grid and ticks.
    let step = raw_step(d.raw_max);
    let _ = writeln!(o, "<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">");
    for r in (0..=d.raw_max).step_by(usize::from(step)).skip(1) {
        let yy = num(y(f64::from(r)));
        let _ = writeln!(
            o,
            "<line x1=\"{}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\"/>",
            num(LEFT),
            num(RIGHT)
        );
    }
    let _ = writeln!(o, "</g>");

    // Children.
    let k = points.len().div_ceil(MAX_DOTS).max(1);
    let drawn: Vec<&(f64, u16)> = points
        .iter()
        .step_by(k)
        .filter(|(age, _)| age.is_finite())
        .collect();
    let _ = writeln!(
        o,
        "<g class=\"children\" clip-path=\"url(#plot-area)\" fill=\"#777\" fill-opacity=\"0.3\">"
    );
    for (age, raw) in &drawn {
        let _ = writeln!(
            o,
            "<circle cx=\"{}\" cy=\"{}\" r=\"1.6\"/>",
            num(x(*age)),
            num(y(f64::from(*raw)))
        );
    }
    let _ = writeln!(o, "</g>");

    // Curves.
    let mut labels: Vec<CurveLabel> = Vec::with_capacity(d.curves.len());
    let _ = writeln!(
        o,
        "<g class=\"curves\" clip-path=\"url(#plot-area)\" fill=\"none\">"
    );
    for c in &d.curves {
        let colour = curve_colour(c.percentile);
        let width = if (c.percentile - 50.0).abs() < 1e-9 {
            "2.5"
        } else {
            "1.25"
        };
        let mut pts = String::new();
        let mut end = None;
        for (i, raw) in c.raw.iter().enumerate() {
            if !raw.is_finite() {
                continue;
            }
            let px = x(f64::from(age_min_months) + i as f64 + 0.5);
            let py = y(*raw);
            if !pts.is_empty() {
                pts.push(' ');
            }
            let _ = write!(pts, "{},{}", num(px), num(py));
            end = Some((px, py));
        }
        let label = format!("P{}", num(c.percentile));
        let _ = writeln!(
            o,
            "<polyline data-percentile=\"{}\" stroke=\"{colour}\" stroke-width=\"{width}\" \
             stroke-linejoin=\"round\" points=\"{pts}\"/>",
            num(c.percentile)
        );
        if let Some((px, py)) = end {
            labels.push(CurveLabel {
                x: px.min(RIGHT) + 4.0,
                y: py.clamp(TOP, BOTTOM),
                percentile: c.percentile,
                text: label,
                colour,
            });
        }
    }
    let _ = writeln!(o, "</g>");
    spread_labels(&mut labels);
    let _ = writeln!(o, "<g class=\"curve-labels\" font-size=\"10\">");
    for l in &labels {
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>",
            num(l.x),
            num(l.y + 3.5),
            l.colour,
            l.text
        );
    }
    let _ = writeln!(o, "</g>");

    // Axes.
    let _ = writeln!(
        o,
        "<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\" fill=\"none\">\
         <polyline points=\"{l},{t} {l},{b} {r},{b}\"/>",
        l = num(LEFT),
        t = num(TOP),
        b = num(BOTTOM),
        r = num(RIGHT)
    );
    let mut year_months = age_from as u16;
    while f64::from(year_months) <= age_to {
        let xx = num(x(f64::from(year_months)));
        let _ = writeln!(
            o,
            "<line x1=\"{xx}\" y1=\"{}\" x2=\"{xx}\" y2=\"{}\"/>",
            num(BOTTOM),
            num(BOTTOM + 4.0)
        );
        year_months += 12;
    }
    for r in (0..=d.raw_max).step_by(usize::from(step)) {
        let yy = num(y(f64::from(r)));
        let _ = writeln!(
            o,
            "<line x1=\"{}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\"/>",
            num(LEFT - 4.0),
            num(LEFT)
        );
    }
    let _ = writeln!(o, "</g>");

    let _ = writeln!(o, "<g class=\"tick-labels\" fill=\"#333\">");
    let mut year_months = age_from as u16;
    while f64::from(year_months) <= age_to {
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            num(x(f64::from(year_months))),
            num(BOTTOM + 16.0),
            age_label(year_months)
        );
        year_months += 12;
    }
    for r in (0..=d.raw_max).step_by(usize::from(step)) {
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{r}</text>",
            num(LEFT - 7.0),
            num(y(f64::from(r)) + 3.5)
        );
    }
    let _ = writeln!(o, "</g>");
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">age (years:months)</text>",
        num((LEFT + RIGHT) / 2.0),
        num(HEIGHT - 14.0)
    );
    let _ = writeln!(
        o,
        "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">raw score</text>",
        num((TOP + BOTTOM) / 2.0)
    );

    // Title, subtitle, legend.
    let _ = writeln!(
        o,
        "<text class=\"title\" x=\"{}\" y=\"20\" font-size=\"15\" font-weight=\"bold\" fill=\"#111\">{}: percentile curves by age (n = {})</text>",
        num(LEFT),
        escape(&d.subtest),
        d.n
    );
    let _ = writeln!(
        o,
        "<text class=\"subtitle\" x=\"{}\" y=\"37\" fill=\"#555\">{}</text>",
        num(LEFT),
        escape(&d.model)
    );
    let dots = if drawn.len() == points.len() {
        format!("dots: {} children", points.len())
    } else {
        format!(
            "dots: {} of {} children (every {})",
            drawn.len(),
            points.len(),
            ordinal(k)
        )
    };
    let _ = writeln!(
        o,
        "<text class=\"legend\" x=\"{}\" y=\"54\" fill=\"#555\" font-size=\"10\">{dots}</text>",
        num(LEFT)
    );
    if !shaded.is_empty() {
        let _ = writeln!(
            o,
            "<text class=\"legend\" x=\"{}\" y=\"54\" text-anchor=\"end\" fill=\"#a63603\" font-size=\"10\">shaded: floor/ceiling effect</text>",
            num(RIGHT)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// A curve's label at its right end.
struct CurveLabel {
    x: f64,
    /// Vertical centre.
    y: f64,
    percentile: f64,
    text: String,
    colour: &'static str,
}

/// Least vertical distance between the centres of two curve labels.
const LABEL_GAP: f64 = 10.0;

/// Moves the labels apart vertically so that none overlaps (curves that meet at the floor or
/// the ceiling end at the same height), keeping their order — higher percentile above — and
/// keeping them within the plot's height where there is room. Sorted top to bottom.
fn spread_labels(labels: &mut [CurveLabel]) {
    labels.sort_by(|a, b| a.y.total_cmp(&b.y).then(b.percentile.total_cmp(&a.percentile)));
    for i in 1..labels.len() {
        labels[i].y = labels[i].y.max(labels[i - 1].y + LABEL_GAP);
    }
    if let Some(last) = labels.last_mut() {
        last.y = last.y.min(BOTTOM);
    }
    for i in (0..labels.len().saturating_sub(1)).rev() {
        labels[i].y = labels[i].y.min(labels[i + 1].y - LABEL_GAP);
    }
}

/// "years:months", e.g. `5:0`, `11:11`.
fn age_label(months: u16) -> String {
    format!("{}:{}", months / 12, months % 12)
}

/// `2nd`, `3rd`, `4th`, `11th`, `21st`, …
fn ordinal(k: usize) -> String {
    let suffix = match (k % 10, k % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{k}{suffix}")
}

/// Raw-score tick step: the smallest of 1, 2, 5, 10, 20, 50, … that gives at most ten steps.
fn raw_step(raw_max: u16) -> u16 {
    let mut base: u32 = 1;
    loop {
        for m in [1, 2, 5] {
            let step = base * m;
            if u32::from(raw_max) <= step * 10 {
                return u16::try_from(step).unwrap_or(u16::MAX);
            }
        }
        base *= 10;
    }
}

/// Darker towards the median.
fn curve_colour(percentile: f64) -> &'static str {
    let off = (percentile - 50.0).abs();
    if off < 1.0 {
        "#08306b"
    } else if off <= 30.0 {
        "#2171b5"
    } else if off <= 45.0 {
        "#4292c6"
    } else {
        "#6baed6"
    }
}

#[cfg(test)]
mod tests {
    use qabilet_core::norms::build::{
        CURVE_PERCENTILES, Candidate, LmsCandidate, LmsDegrees, Outlier, PercentileCurve, Repair, SubtestBand,
    };

    use super::*;

    const SUBTEST: &str = "sim<&>\"vocab\"";
    const MODEL: &str = "LMS (degrees 2, 1, 0) & \"shrunk\" <λ = 4>";

    fn band(from: u16, to: u16, floor: bool, ceiling: bool) -> SubtestBand {
        SubtestBand {
            age_min_months: from,
            age_max_months: to,
            n: 100,
            percent_at_floor: if floor { 12.0 } else { 0.5 },
            percent_at_ceiling: if ceiling { 9.0 } else { 0.0 },
            scaled_of_raw_min: if floor { 6 } else { 1 },
            scaled_of_raw_max: if ceiling { 14 } else { 19 },
            floor_effect: floor,
            ceiling_effect: ceiling,
        }
    }

    fn diagnostics() -> SubtestDiagnostics {
        let months = 84; // 5:0 to 11:11
        let curves = CURVE_PERCENTILES
            .iter()
            .map(|&p| PercentileCurve {
                percentile: p,
                raw: (0..months)
                    .map(|i| (4.0 + 0.25 * f64::from(i) + (p - 50.0) / 5.0).clamp(0.0, 30.0))
                    .collect(),
            })
            .collect();
        SubtestDiagnostics {
            subtest: SUBTEST.to_owned(),
            n: 5000,
            raw_max: 30,
            model: MODEL.to_owned(),
            lms_candidates: vec![LmsCandidate {
                degrees: LmsDegrees {
                    median: 2,
                    spread: 1,
                    skew: 0,
                },
                aic: 12_345.6,
                converged: true,
            }],
            candidates: vec![
                Candidate {
                    family: "lms",
                    degrees: vec![2, 1, 0],
                    lambda: None,
                    cv_log_lik_per_child: -2.5,
                    se_vs_best: 0.0,
                },
                Candidate {
                    family: "distribution-regression",
                    degrees: vec![3],
                    lambda: Some(4.0),
                    cv_log_lik_per_child: -2.49,
                    se_vs_best: 0.004,
                },
            ],
            chosen: 1,
            log_lik_per_child: -2.45,
            deviance: 24_500.0,
            null_log_lik_per_child: -3.1,
            pseudo_r2: 0.21,
            cv_log_lik_per_child: -2.49,
            repair: Repair {
                cells_moved_in_raw: 3,
                max_shift_in_raw: 0.01,
                cells_moved_in_age: 0,
                max_shift_in_age: 0.0,
            },
            monotone: true,
            bands: vec![
                band(60, 65, true, false),
                band(66, 71, false, false),
                band(72, 131, false, false),
                band(132, 143, false, true),
            ],
            outliers: vec![Outlier {
                id: "c0042".to_owned(),
                age_months: 70,
                raw: 29,
                z: 3.9,
            }],
            more_outliers: 0,
            curves,
        }
    }

    fn children(count: usize) -> Vec<(f64, u16)> {
        (0..count)
            .map(|i| {
                let age = 60.0 + (i as f64 * 0.0137) % 84.0;
                let raw = ((age - 60.0) / 3.0 + (i % 7) as f64) as u16;
                (age, raw.min(30))
            })
            .collect()
    }

    fn elements<'a>(doc: &'a roxmltree::Document<'a>, name: &str) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants().filter(|n| n.has_tag_name(name)).collect()
    }

    #[test]
    fn svg_percentile_curves_parse_and_draw_one_polyline_per_percentile() {
        let d = diagnostics();
        let svg = percentile_curves(&d, 60, &children(500));
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert_eq!(doc.root_element().attribute("viewBox"), Some("0 0 720 440"));

        let curves: Vec<_> = elements(&doc, "polyline")
            .into_iter()
            .filter(|n| n.attribute("data-percentile").is_some())
            .collect();
        assert_eq!(curves.len(), CURVE_PERCENTILES.len());
        for (node, p) in curves.iter().zip(CURVE_PERCENTILES) {
            assert_eq!(node.attribute("data-percentile"), Some(num(p).as_str()));
            assert_eq!(node.attribute("points").unwrap().split(' ').count(), 84);
        }
        let median = curves
            .iter()
            .find(|n| n.attribute("data-percentile") == Some("50"))
            .unwrap();
        assert_eq!(median.attribute("stroke-width"), Some("2.5"));

        let texts: Vec<String> = elements(&doc, "text")
            .iter()
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect();
        for label in ["P2", "P9", "P25", "P50", "P75", "P91", "P98"] {
            assert!(texts.iter().any(|t| t == label), "missing {label}");
        }
        for label in ["5:0", "8:0", "11:0", "12:0", "0", "15", "30"] {
            assert!(texts.iter().any(|t| t == label), "missing tick {label}");
        }
        assert!(!texts.iter().any(|t| t == "4:0" || t == "13:0"));
        assert!(texts.contains(&format!("{SUBTEST}: percentile curves by age (n = 5000)")));
        assert!(texts.iter().any(|t| t == MODEL));
        assert!(texts.iter().any(|t| t == "shaded: floor/ceiling effect"));
        assert!(texts.iter().any(|t| t == "dots: 500 children"));

        // The raw text carries the escaped forms.
        assert!(svg.contains("sim&lt;&amp;&gt;&quot;vocab&quot;: percentile curves"));
        assert!(svg.contains("LMS (degrees 2, 1, 0) &amp; &quot;shrunk&quot; &lt;λ = 4&gt;"));
        assert!(svg.contains("font-family=\"sans-serif\""));

        // The two flagged bands are shaded.
        let shaded = elements(&doc, "g")
            .into_iter()
            .find(|g| g.attribute("class") == Some("effects"))
            .expect("shaded bands");
        assert_eq!(shaded.children().filter(|n| n.has_tag_name("rect")).count(), 2);

        assert_eq!(elements(&doc, "circle").len(), 500);
    }

    #[test]
    fn svg_percentile_curves_cap_the_dots_deterministically() {
        let d = diagnostics();
        let many = children(10_001);
        let svg = percentile_curves(&d, 60, &many);
        assert_eq!(svg, percentile_curves(&d, 60, &many));
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let dots = elements(&doc, "circle").len();
        assert!(dots <= MAX_DOTS, "{dots} dots");
        assert_eq!(dots, 10_001usize.div_ceil(4)); // every 4th
        assert!(svg.contains("dots: 2501 of 10001 children (every 4th)"));

        let exactly = children(MAX_DOTS);
        let svg = percentile_curves(&d, 60, &exactly);
        assert_eq!(svg.matches("<circle ").count(), MAX_DOTS);
    }

    #[test]
    fn svg_percentile_curve_labels_do_not_overlap_at_the_ceiling() {
        let svg = percentile_curves(&diagnostics(), 60, &[]);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let group = elements(&doc, "g")
            .into_iter()
            .find(|g| g.attribute("class") == Some("curve-labels"))
            .unwrap();
        let ys: Vec<(String, f64)> = group
            .children()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| {
                (
                    n.text().unwrap().to_owned(),
                    n.attribute("y").unwrap().parse().unwrap(),
                )
            })
            .collect();
        let order: Vec<&str> = ys.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(order, ["P98", "P91", "P75", "P50", "P25", "P9", "P2"]);
        for w in ys.windows(2) {
            assert!(w[1].1 - w[0].1 >= LABEL_GAP - 0.01, "{ys:?}");
        }
    }

    #[test]
    fn svg_percentile_curves_numbers_are_compact() {
        let svg = percentile_curves(&diagnostics(), 60, &children(200));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        for node in doc.descendants().filter(|n| n.is_element()) {
            for attr in ["x", "y", "cx", "cy", "x1", "x2", "y1", "y2", "width", "height"] {
                if let Some(v) = node.attribute(attr) {
                    if v.ends_with('%') {
                        continue;
                    }
                    let decimals = v.split_once('.').map_or(0, |(_, f)| f.len());
                    assert!(decimals <= 2, "{attr}={v}");
                }
            }
        }
    }

    #[test]
    fn svg_percentile_curves_without_flags_or_points_and_non_finite_values() {
        let mut d = diagnostics();
        for b in &mut d.bands {
            b.floor_effect = false;
            b.ceiling_effect = false;
        }
        d.curves[0].raw[10] = f64::NAN;
        d.raw_max = 47;
        let svg = percentile_curves(&d, 60, &[]);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(!svg.contains("shaded:"));
        assert!(!svg.contains("NaN"));
        assert_eq!(elements(&doc, "circle").len(), 0);
        let first = elements(&doc, "polyline")
            .into_iter()
            .find(|n| n.attribute("data-percentile") == Some("2"))
            .unwrap();
        assert_eq!(first.attribute("points").unwrap().split(' ').count(), 83);
        assert_eq!(raw_step(47), 5);
        assert_eq!(raw_step(30), 5);
        assert_eq!(raw_step(10), 1);
        assert_eq!(raw_step(11), 2);
        assert_eq!(raw_step(100), 10);
        assert_eq!(raw_step(0), 1);
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(4), "4th");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(21), "21st");
    }
}
