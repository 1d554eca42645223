//! Steps 5–6 of a report: activities per domain and age, and the career clusters offered at
//! 10–11 (ability fit, blended with interests where the age allows).

use super::*;

pub(super) fn suggest_activities(
    tables: &GuidanceTables,
    years: u16,
    standings: &[Standing],
    broad: bool,
    broad_step: &TraceStep,
) -> Vec<ActivityItem> {
    let max = tables.thresholds.report.max_activities_per_domain;
    let mut out: Vec<ActivityItem> = Vec::new();
    let mut push = |domain: &str, purpose: ActivityPurpose, why: &[TraceStep]| {
        for a in activities::select(&tables.activities, domain, years, max) {
            if out.iter().any(|o| o.domain == a.domain && o.activity == a.key) {
                continue;
            }
            let mut trace = why.to_vec();
            trace.push(
                TraceStep::new("activities.select", ACTIVITIES)
                    .fact("domain", text(domain))
                    .fact("age_years", int(years))
                    .fact("age_min", int(a.age_min))
                    .fact("age_max", int(a.age_max))
                    .fact("line", int(a.line as i64))
                    .fact("evidence", text(a.evidence.code())),
            );
            out.push(ActivityItem {
                domain: a.domain.clone(),
                activity: a.key.clone(),
                purpose,
                evidence: a.evidence,
                source: a.source.clone(),
                message: Message::new(format!("activity-{}", a.key))
                    .arg("evidence_key", text(format!("evidence-{}", a.evidence.code()))),
                trace,
            });
        }
    };
    for s in standings {
        if s.rule.role == DomainRole::Ability && s.strength().is_some() && !broad {
            push(&s.rule.key, ActivityPurpose::Develop, &s.trace);
        }
        if s.support().is_some() {
            push(&s.rule.key, ActivityPurpose::Support, &s.trace);
        }
    }
    if broad {
        push(BROAD, ActivityPurpose::Explore, std::slice::from_ref(broad_step));
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(super) fn clusters(
    tables: &GuidanceTables,
    max: usize,
    years: u16,
    measured: &[Measured],
    driving: &[&Standing],
    interests: Option<&Interests>,
    gate_step: &TraceStep,
) -> Result<(Vec<DirectionItem>, Option<TraceStep>), ReportError> {
    let rules = &tables.interests;
    let blend = match interests {
        Some(i) if rules.applies_at(years) => {
            i.check(rules)?;
            Some(i)
        }
        _ => None,
    };
    let mut scored: Vec<(f64, usize, DirectionItem)> = Vec::new();
    for (pos, c) in tables.clusters.iter().enumerate() {
        let basis: Vec<&&Standing> = driving
            .iter()
            .filter(|s| c.domains.contains(&s.rule.key))
            .collect();
        if basis.is_empty() {
            continue;
        }
        // Ability fit: mean over the pattern's measured domains of (centre − 100) / 15.
        let zs: Vec<(String, f64)> = c
            .domains
            .iter()
            .filter_map(|d| measured.iter().find(|m| m.rule.key == *d))
            .map(|m| (m.composite.to_string(), (m.centre - 100.0) / 15.0))
            .collect();
        let ability_fit = if zs.is_empty() {
            0.0
        } else {
            zs.iter().map(|(_, z)| z).sum::<f64>() / zs.len() as f64
        };
        let mut fit_step = TraceStep::new("clusters.ability_fit", CLUSTERS)
            .fact("cluster", text(&c.key))
            .fact("line", int(c.line as i64))
            .fact("pattern", text(c.domains.join(";")))
            .fact(
                "strength_domains",
                text(
                    basis
                        .iter()
                        .map(|s| s.rule.key.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
            )
            .fact("ability_fit", Arg::Number(ability_fit));
        for (composite, z) in &zs {
            fit_step = fit_step.fact(&format!("z_{composite}"), Arg::Number(*z));
        }
        let mut trace: Vec<TraceStep> = vec![gate_step.clone()];
        for s in &basis {
            trace.extend(s.trace.iter().cloned());
        }
        trace.push(fit_step);
        let mut fit = ability_fit;
        if let Some(i) = blend
            && let Some(interest_fit) = rules.fit(i, &c.worlds)
        {
            fit = rules.ability_weight * ability_fit + rules.interest_weight * interest_fit;
            trace.push(
                TraceStep::new("interests.blend", INTERESTS)
                    .fact("worlds", text(c.worlds.join(";")))
                    .fact("interest_fit", Arg::Number(interest_fit))
                    .fact("ability_weight", Arg::Number(rules.ability_weight))
                    .fact("interest_weight", Arg::Number(rules.interest_weight))
                    .fact("fit", Arg::Number(fit)),
            );
        }
        scored.push((
            fit,
            pos,
            DirectionItem {
                kind: DirectionKind::CareerCluster,
                key: c.key.clone(),
                isco08: c.isco08.clone(),
                onet_soc: c.onet_soc.clone(),
                atlas_sector: c.atlas_sector.clone(),
                fit: Some(fit),
                message: Message::new(format!("cluster-{}", c.key)),
                trace,
            },
        ));
    }
    // Highest fit first; ties in file order.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let offered = scored.len();
    let limit_step = TraceStep::new("age_gates.max_clusters", AGE_GATES)
        .fact("eligible", int(offered as i64))
        .fact("max_clusters", int(max as i64));
    let items = scored
        .into_iter()
        .take(max)
        .enumerate()
        .map(|(rank, (_, _, mut item))| {
            item.trace
                .push(limit_step.clone().fact("rank", int(rank as i64 + 1)));
            item
        })
        .collect();
    let note = blend
        .map(|_| TraceStep::new("interests.blend", INTERESTS).fact("clusters_eligible", int(offered as i64)));
    Ok((items, note))
}
