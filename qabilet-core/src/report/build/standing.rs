//! Steps 2–4 of a report: each domain measured at the thresholds' interval level, its standing
//! (strengths, areas to support, how the child learns best) and whether the profile is flat.

use super::*;

pub(super) fn measure<'a>(
    record: &'a ScoredProfile,
    battery: &Battery,
    tables: &'a GuidanceTables,
) -> Result<Vec<Measured<'a>>, ReportError> {
    let th = &tables.thresholds;
    let method = record.options.ci_method;
    let scale = &battery.index_scale;
    let mut out = Vec::new();
    for c in &record.composites {
        let b = battery
            .composite_index(&c.id)
            .ok_or_else(|| ReportError::UnknownComposite(c.id.clone()))?;
        let Some(v) = &c.value else { continue };
        let Some(rule) = tables.domain_of(battery.composites[b].domain) else {
            continue;
        };
        let ci = ConfidenceInterval::new(scale, v.index, v.reliability, th.ci_level, method);
        let (centre, _) =
            centre_and_half_width(scale, f64::from(v.index), v.reliability, th.ci_level.z(), method);
        let ci_step = TraceStep::new("ci.recompute", "norms/SCORING.md#confidence-intervals")
            .fact("composite", text(&c.id))
            .fact("index", int(v.index))
            .fact("reliability", Arg::Number(v.reliability))
            .fact("method", text(method.to_string()))
            .fact("level", int(th.ci_level.percent()))
            .fact("ci_low", int(ci.low))
            .fact("ci_high", int(ci.high))
            .fact("scored_level", int(record.options.ci_level.percent()))
            .fact("scored_ci_low", int(v.ci.low))
            .fact("scored_ci_high", int(v.ci.high));
        out.push(Measured {
            rule,
            composite: &c.id,
            scores: v,
            ci,
            centre,
            ci_step,
        });
    }
    Ok(out)
}

pub(super) fn stand<'a>(
    record: &ScoredProfile,
    battery: &Battery,
    tables: &'a GuidanceTables,
    measured: &[Measured<'a>],
) -> Vec<Standing<'a>> {
    let th = &tables.thresholds;
    let mut out = Vec::new();
    for rule in tables.domains.iter().filter(|d| d.role != DomainRole::General) {
        let mut s = Standing {
            rule,
            measured: measured.iter().position(|m| std::ptr::eq(m.rule, rule)),
            kinds: Vec::new(),
            trace: Vec::new(),
        };
        if let Some(i) = s.measured {
            let m = &measured[i];
            if let Some(kind) = th.classify(m.scores.index, m.ci) {
                s.kinds.push(kind);
                s.trace.push(m.ci_step.clone());
                s.trace.push(
                    TraceStep::new(kind.rule(), THRESHOLDS)
                        .fact("composite", text(m.composite))
                        .fact("index", int(m.scores.index))
                        .fact("ci_low", int(m.ci.low))
                        .fact("ci_high", int(m.ci.high))
                        .fact("clear_strength_ci_low_min", int(th.clear_strength.ci_low_min))
                        .fact("possible_strength_index_min", int(th.possible_strength.index_min))
                        .fact("support_ci_high_below", int(th.support.ci_high_max_below))
                        .fact("closer_look_ci_high_below", int(th.closer_look.ci_high_max_below)),
                );
            }
        }
        if let Some(sw) = &record.strengths_weaknesses {
            for d in &sw.subtests {
                let same_domain = battery
                    .subtest_index(&d.id)
                    .is_some_and(|i| battery.subtests[i].domain == rule.chc);
                let base_rate = d.base_rate.map(|b| b.percent);
                if same_domain
                    && th.is_relative_strength(
                        d.significance.map(Significance::alpha),
                        d.direction == Some(Direction::Strength),
                        base_rate,
                    )
                {
                    if !s.kinds.contains(&StandingKind::RelativeStrength) {
                        s.kinds.push(StandingKind::RelativeStrength);
                    }
                    s.trace.push(
                        TraceStep::new(StandingKind::RelativeStrength.rule(), THRESHOLDS)
                            .fact("subtest", text(&d.id))
                            .fact("scaled", int(d.scaled))
                            .fact("own_mean", Arg::Number(sw.mean))
                            .fact("difference", Arg::Number(d.difference))
                            .fact(
                                "significant_at",
                                Arg::Number(d.significance.map(Significance::alpha).unwrap_or(f64::NAN)),
                            )
                            .fact("alpha_max", Arg::Number(th.relative_strength.alpha))
                            .fact("base_rate_percent", Arg::Number(base_rate.unwrap_or(f64::NAN)))
                            .fact(
                                "base_rate_max_percent",
                                Arg::Number(th.relative_strength.base_rate_max_percent),
                            ),
                    );
                }
            }
        }
        out.push(s);
    }
    out
}

pub(super) fn flatness(
    record: &ScoredProfile,
    tables: &GuidanceTables,
    measured: &[Measured],
) -> (bool, TraceStep) {
    let f = &tables.thresholds.flat;
    let significant: Vec<&str> = record
        .strengths_weaknesses
        .iter()
        .flat_map(|sw| sw.subtests.iter())
        .filter(|d| {
            d.significance
                .map(Significance::alpha)
                .is_some_and(|a| a <= f.alpha)
        })
        .map(|d| d.id.as_str())
        .collect();
    let outside: Vec<&str> = measured
        .iter()
        .filter(|m| tables.thresholds.breaks_flatness(m.ci))
        .map(|m| m.composite)
        .collect();
    let flat = significant.is_empty() && outside.is_empty();
    let step = TraceStep::new(
        if flat {
            "thresholds.flat"
        } else {
            "thresholds.not_flat"
        },
        THRESHOLDS,
    )
    .fact("alpha", Arg::Number(f.alpha))
    .fact("band_low", int(f.low))
    .fact("band_high", int(f.high))
    .fact("significant_subtests", text(significant.join(";")))
    .fact("indexes_outside_band", text(outside.join(";")))
    .fact(
        "profile_analysis",
        text(if record.strengths_weaknesses.is_some() {
            "present"
        } else {
            "absent"
        }),
    );
    (flat, step)
}
