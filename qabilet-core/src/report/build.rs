//! Building a consultation report from a scored record, the battery it was scored with, the
//! guidance tables and optional interests. Pure: the same inputs give the same report.

use super::{
    ActivityItem, ActivityPurpose, Arg, ConsultationReport, DirectionItem, DirectionKind, DomainItem,
    ExpectedRate, Item, Message, ProfileRow, Referral, ReportError, TraceStep,
};
use crate::battery::Battery;
use crate::ci::{ConfidenceInterval, centre_and_half_width};
use crate::guidance::activities::{self, BROAD};
use crate::guidance::record::CompositeScores;
use crate::guidance::referral::expected_single_index_rate;
use crate::guidance::{
    DomainRole, DomainRule, GuidanceTables, Interests, Offer, ReferralOutcome, ReferralRules, Respondent,
    ScoredRecord, StandingKind,
};

const THRESHOLDS: &str = "thresholds.toml";
const AGE_GATES: &str = "age_gates.toml";
const REFERRAL: &str = "referral.toml";
const INTERESTS: &str = "interests.toml";
const ACTIVITIES: &str = "activities.csv";
const CLUSTERS: &str = "clusters.csv";

fn int(v: impl Into<i64>) -> Arg {
    Arg::Int(v.into())
}

fn text(v: impl Into<String>) -> Arg {
    Arg::Text(v.into())
}

/// A percentage rounded to one decimal for display (the unrounded value stays in the data).
fn percent_1dp(p: f64) -> Arg {
    Arg::Number((p * 10.0).round() / 10.0)
}

/// A measured domain: a computed composite whose CHC code is a domain of `domains.toml`.
struct Measured<'a> {
    rule: &'a DomainRule,
    composite: &'a str,
    scores: &'a CompositeScores,
    /// Interval at the thresholds' level.
    ci: ConfidenceInterval,
    /// Centre of the interval (the estimated true score under the true-score method).
    centre: f64,
    /// How the interval was computed.
    ci_step: TraceStep,
}

/// How one domain stands, with the trace of every rule that applied.
struct Standing<'a> {
    rule: &'a DomainRule,
    measured: Option<usize>,
    kinds: Vec<StandingKind>,
    trace: Vec<TraceStep>,
}

impl Standing<'_> {
    fn strength(&self) -> Option<StandingKind> {
        [
            StandingKind::ClearStrength,
            StandingKind::RelativeStrength,
            StandingKind::PossibleStrength,
        ]
        .into_iter()
        .find(|k| self.kinds.contains(k))
    }

    fn support(&self) -> Option<StandingKind> {
        [StandingKind::CloserLook, StandingKind::Support]
            .into_iter()
            .find(|k| self.kinds.contains(k))
    }
}

/// The consultation report of one scored record.
///
/// Rules, in order (each item's trace names them):
/// 1. the age gate of the child's whole years (`age_gates.toml`);
/// 2. every computed composite whose CHC code is a domain of `domains.toml` gets its interval
///    recomputed at the thresholds' level (90 %) by the record's interval method, from its
///    index and reliability (the record's own interval is at the scoring level, 95 % by
///    default); composites of other CHC codes are left out;
/// 3. each domain's standing (`thresholds.toml`): clear / possible strength, area to support,
///    needs a closer look from the interval; relative strength from the record's profile
///    analysis (a core subtest of the domain's CHC code significant against the child's own
///    mean and uncommon); working memory and processing speed go to "how the child learns
///    best";
/// 4. flat profile: no significant subtest difference and no interval wholly outside the
///    flat band → broad exploration, no ranking;
/// 5. activities per strength and support domain at the child's age (`activities.csv`), broad
///    activities when the profile is flat or has no strength;
/// 6. directions by gate: development directions; worlds of work at 7–9; at most
///    `max_clusters` career clusters at 10–11 (interests blended from `interests.toml`'s age);
/// 7. stage-2 referral (`referral.toml`) with the expected rates under the norms;
/// 8. caveats, always.
///
/// # Errors
/// [`ReportError`] when the record was scored with another battery, a composite is not in
/// the battery, no gate covers the age, or interests do not fit the questionnaire.
pub fn consultation(
    record: &ScoredRecord,
    battery: &Battery,
    tables: &GuidanceTables,
    interests: Option<&Interests>,
) -> Result<ConsultationReport, ReportError> {
    if record.norm_set.battery != battery.id {
        return Err(ReportError::BatteryMismatch {
            record: record.norm_set.battery.clone(),
            given: battery.id.clone(),
        });
    }
    let th = &tables.thresholds;
    let years = record.age.years;
    let gate = tables
        .age_gates
        .gate_for(years)
        .ok_or(ReportError::NoAgeGate(years))?;
    let gate_step = TraceStep::new(format!("age_gates.{}", gate.id), AGE_GATES)
        .fact("age", text(record.age.to_string()))
        .fact("age_years", int(years))
        .fact("age_min_years", int(gate.age_min_years))
        .fact("age_max_years", int(gate.age_max_years));

    let measured = measure(record, battery, tables)?;
    let standings = stand(record, battery, tables, &measured);
    let (flat, flat_step) = flatness(record, tables, &measured);

    // Profile rows.
    let profile = measured
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut trace = vec![m.ci_step.clone()];
            let standing = standings.iter().find(|s| s.measured == Some(i));
            if let Some(s) = standing {
                trace.extend(s.trace.iter().filter(|t| **t != m.ci_step).cloned());
            }
            ProfileRow {
                domain: m.rule.key.clone(),
                name_key: m.rule.name.clone(),
                composite: m.composite.to_string(),
                index: m.scores.index,
                percentile: m.scores.percentile,
                ci_low: m.ci.low,
                ci_high: m.ci.high,
                classification: m.scores.classification.clone(),
                standing: standing.map(|s| s.kinds.clone()).unwrap_or_default(),
                message: Message::new("profile-row")
                    .arg("domain_key", text(&m.rule.name))
                    .arg("index", int(m.scores.index))
                    .arg("ci_low", int(m.ci.low))
                    .arg("ci_high", int(m.ci.high))
                    .arg("percentile", Arg::Number(m.scores.percentile)),
                trace,
            }
        })
        .collect();

    let mut strengths = Vec::new();
    let mut support = Vec::new();
    let mut learning = Vec::new();
    for s in &standings {
        let bounds = |msg: Message| match s.measured {
            Some(i) => msg
                .arg("index", int(measured[i].scores.index))
                .arg("ci_low", int(measured[i].ci.low))
                .arg("ci_high", int(measured[i].ci.high)),
            None => msg,
        };
        let item = |primary: StandingKind, key: String| DomainItem {
            domain: s.rule.key.clone(),
            kinds: std::iter::once(primary)
                .chain(s.kinds.iter().copied().filter(|k| *k != primary))
                .collect(),
            message: bounds(Message::new(key).arg("domain_key", text(&s.rule.name))),
            trace: s.trace.clone(),
        };
        match s.rule.role {
            DomainRole::Ability => {
                if let Some(k) = s.strength() {
                    strengths.push(item(k, format!("strength-{}", k.code())));
                }
                if let Some(k) = s.support() {
                    support.push(item(k, format!("support-{}", k.code())));
                }
            }
            DomainRole::Learning => {
                if s.strength().is_some() {
                    let k = s.strength().unwrap_or(StandingKind::ClearStrength);
                    learning.push(item(k, format!("learning-{}-strength", s.rule.key)));
                }
                if let Some(k) = s.support() {
                    learning.push(item(k, format!("learning-{}-{}", s.rule.key, k.code())));
                }
            }
            DomainRole::General => {}
        }
    }

    // Domains whose strength may drive directions.
    let driving: Vec<&Standing> = standings
        .iter()
        .filter(|s| s.rule.drives_careers && s.strength().is_some())
        .collect();
    let broad = flat || driving.is_empty();
    let broad_step = if flat {
        flat_step.clone()
    } else {
        TraceStep::new("directions.no_strength", THRESHOLDS).fact("strength_domains", int(0))
    };

    let activities = suggest_activities(tables, years, &standings, broad, &broad_step);

    let mut directions = Vec::new();
    let mut cluster_note = None;
    if broad {
        directions.push(DirectionItem {
            kind: DirectionKind::BroadExploration,
            key: BROAD.into(),
            isco08: Vec::new(),
            onet_soc: Vec::new(),
            atlas_sector: None,
            fit: None,
            message: Message::new(format!("direction-broad-{}", offer_code(gate.offers))),
            trace: vec![broad_step.clone(), gate_step.clone()],
        });
    } else {
        for s in &driving {
            let mut trace = s.trace.clone();
            trace.push(gate_step.clone());
            directions.push(DirectionItem {
                kind: DirectionKind::DevelopmentDirection,
                key: s.rule.key.clone(),
                isco08: Vec::new(),
                onet_soc: Vec::new(),
                atlas_sector: None,
                fit: None,
                message: Message::new(format!("direction-{}", s.rule.key)),
                trace,
            });
        }
        match gate.offers {
            Offer::DevelopmentDirections => {}
            Offer::WorldsOfWork => {
                for w in &tables.age_gates.worlds {
                    let pointing: Vec<&&Standing> = driving
                        .iter()
                        .filter(|s| w.domains.contains(&s.rule.key))
                        .collect();
                    if pointing.is_empty() {
                        continue;
                    }
                    let mut trace = vec![
                        gate_step.clone(),
                        TraceStep::new(format!("age_gates.world.{}", w.key), AGE_GATES)
                            .fact("domains", text(w.domains.join(";")))
                            .fact(
                                "strength_domains",
                                text(
                                    pointing
                                        .iter()
                                        .map(|s| s.rule.key.as_str())
                                        .collect::<Vec<_>>()
                                        .join(";"),
                                ),
                            ),
                    ];
                    for s in pointing {
                        trace.extend(s.trace.iter().cloned());
                    }
                    directions.push(DirectionItem {
                        kind: DirectionKind::WorldOfWork,
                        key: w.key.clone(),
                        isco08: Vec::new(),
                        onet_soc: Vec::new(),
                        atlas_sector: None,
                        fit: None,
                        message: Message::new(format!("world-{}", w.key)),
                        trace,
                    });
                }
            }
            Offer::CareerClusters => {
                let (items, note) = clusters(
                    tables,
                    gate.max_clusters.unwrap_or(0),
                    years,
                    &measured,
                    &driving,
                    interests,
                    &gate_step,
                )?;
                directions.extend(items);
                cluster_note = note;
            }
        }
    }

    let referral = refer(record, battery, tables, &measured);
    let interests_item = interests_item(tables, years, interests, cluster_note, &gate_step)?;
    let caveats = caveats(record, tables);

    // Summary.
    let mut summary = vec![Item {
        message: Message::new("summary-age")
            .arg("years", int(record.age.years))
            .arg("months", int(record.age.months)),
        trace: vec![gate_step.clone()],
    }];
    if let Some(g) = measured.iter().find(|m| m.rule.role == DomainRole::General) {
        summary.push(Item {
            message: Message::new("summary-general")
                .arg("domain_key", text(&g.rule.name))
                .arg("index", int(g.scores.index))
                .arg("ci_low", int(g.ci.low))
                .arg("ci_high", int(g.ci.high))
                .arg("percentile", Arg::Number(g.scores.percentile)),
            trace: vec![g.ci_step.clone()],
        });
    }
    if flat {
        summary.push(Item {
            message: Message::new("summary-flat"),
            trace: vec![flat_step],
        });
    } else {
        let trace: Vec<TraceStep> = standings
            .iter()
            .filter(|s| !s.kinds.is_empty())
            .flat_map(|s| s.trace.iter().cloned())
            .chain(std::iter::once(flat_step))
            .collect();
        summary.push(Item {
            message: Message::new("summary-uneven")
                .arg("strengths", int(strengths.len() as i64))
                .arg("support", int(support.len() as i64)),
            trace,
        });
    }

    Ok(ConsultationReport {
        record_id: record.id.clone(),
        battery: record.norm_set.battery.clone(),
        version: record.norm_set.version.clone(),
        norm_set_hash: record.norm_set.hash.clone(),
        notice: record.notice.clone().or_else(|| record.norm_set.notice.clone()),
        age: record.age.to_string(),
        age_years: years,
        gate: gate.id.clone(),
        offers: gate.offers,
        ci_level: th.ci_level.percent(),
        flat,
        summary,
        profile,
        strengths,
        support,
        learning,
        activities,
        directions,
        referral,
        interests: interests_item,
        caveats,
    })
}

fn offer_code(offer: Offer) -> &'static str {
    match offer {
        Offer::DevelopmentDirections => "directions",
        Offer::WorldsOfWork => "worlds",
        Offer::CareerClusters => "clusters",
    }
}

fn measure<'a>(
    record: &'a ScoredRecord,
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

fn stand<'a>(
    record: &ScoredRecord,
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
                        d.alpha(),
                        d.direction.as_deref() == Some("strength"),
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
                            .fact("significant_at", Arg::Number(d.alpha().unwrap_or(f64::NAN)))
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

fn flatness(record: &ScoredRecord, tables: &GuidanceTables, measured: &[Measured]) -> (bool, TraceStep) {
    let f = &tables.thresholds.flat;
    let significant: Vec<&str> = record
        .strengths_weaknesses
        .iter()
        .flat_map(|sw| sw.subtests.iter())
        .filter(|d| d.alpha().is_some_and(|a| a <= f.alpha))
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

fn suggest_activities(
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
fn clusters(
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

fn refer(
    record: &ScoredRecord,
    battery: &Battery,
    tables: &GuidanceTables,
    measured: &[Measured],
) -> Referral {
    let r = &tables.referral;
    let method = record.options.ci_method;
    let scale = &battery.index_scale;
    let mut trace = Vec::new();
    let mut best: Option<(ReferralOutcome, &Measured, ConfidenceInterval)> = None;
    let mut single_index_rates = Vec::new();
    for m in measured.iter().filter(|m| r.chc.contains(&m.rule.chc)) {
        let ci = ConfidenceInterval::new(scale, m.scores.index, m.scores.reliability, r.ci_level, method);
        let outcome = r.outcome(ci);
        trace.push(
            TraceStep::new(format!("referral.{}", outcome.code()), REFERRAL)
                .fact("composite", text(m.composite))
                .fact("index", int(m.scores.index))
                .fact("reliability", Arg::Number(m.scores.reliability))
                .fact("level", int(r.ci_level.percent()))
                .fact("ci_low", int(ci.low))
                .fact("ci_high", int(ci.high))
                .fact("cut", int(r.cut)),
        );
        let combined = ReferralRules::combine(best.iter().map(|b| b.0).chain([outcome]));
        if best.is_none_or(|b| combined != b.0) {
            best = Some((outcome, m, ci));
        }
        single_index_rates.push(ExpectedRate {
            composite: m.composite.to_string(),
            rate: expected_single_index_rate(scale, m.scores.reliability, r.ci_level, method, r.cut),
        });
    }
    let message = match best {
        None => {
            trace.push(
                TraceStep::new("referral.no_index", REFERRAL).fact("counted_chc", int(r.chc.len() as i64)),
            );
            Message::new("referral-no-index")
        }
        Some((outcome, m, ci)) => Message::new(format!("referral-{}", outcome.code()))
            .arg("domain_key", text(&m.rule.name))
            .arg("ci_low", int(ci.low))
            .arg("ci_high", int(ci.high))
            .arg("cut", int(r.cut)),
    };
    let outcome = best.map_or(ReferralOutcome::NotReferred, |b| b.0);
    let mut rate_messages = Vec::new();
    if let Some((m, rate)) = measured
        .iter()
        .filter(|m| m.rule.role == DomainRole::General)
        .find_map(|m| {
            single_index_rates
                .iter()
                .find(|e| e.composite == m.composite)
                .map(|e| (m, e.rate))
        })
    {
        rate_messages.push(
            Message::new("referral-rate-single")
                .arg("domain_key", text(&m.rule.name))
                .arg("referred_percent", percent_1dp(100.0 * rate.referred))
                .arg("uncertain_percent", percent_1dp(100.0 * rate.uncertain))
                .arg("min_index", int(rate.min_index_referred.unwrap_or(scale.max + 1))),
        );
    }
    let e = &r.expected_any;
    if e.battery == battery.id {
        rate_messages.push(
            Message::new("referral-rate-any")
                .arg("referred_percent", percent_1dp(e.referred_percent))
                .arg("uncertain_percent", percent_1dp(e.uncertain_percent))
                .arg("n", int(e.n)),
        );
    } else {
        rate_messages.push(Message::new("referral-rate-any-unknown"));
    }
    trace.push(
        TraceStep::new("referral.expected_rates", REFERRAL)
            .fact(
                "single_index_method",
                text("normal model of the index, mean 100, SD 15, whole scores"),
            )
            .fact(
                "any_index_method",
                text("share of the simulated standardisation sample"),
            )
            .fact("any_index_battery", text(&e.battery))
            .fact("any_index_n", int(e.n)),
    );
    Referral {
        outcome,
        message,
        single_index_rates,
        rate_messages,
        trace,
    }
}

fn interests_item(
    tables: &GuidanceTables,
    years: u16,
    interests: Option<&Interests>,
    cluster_note: Option<TraceStep>,
    gate_step: &TraceStep,
) -> Result<Item, ReportError> {
    let rules = &tables.interests;
    Ok(match interests {
        None => Item {
            message: Message::new("interests-none"),
            trace: vec![TraceStep::new("interests.none", INTERESTS)],
        },
        Some(_) if !rules.applies_at(years) => Item {
            message: Message::new("interests-ignored-age")
                .arg("age_years", int(years))
                .arg("age_min", int(rules.age_min_years)),
            trace: vec![
                TraceStep::new("interests.ignored_under_age", INTERESTS)
                    .fact("age_years", int(years))
                    .fact("age_min_years", int(rules.age_min_years)),
            ],
        },
        Some(i) => {
            i.check(rules)?;
            let mut step = TraceStep::new("interests.blend", INTERESTS)
                .fact("respondent", text(respondent_code(i.respondent)))
                .fact("ability_weight", Arg::Number(rules.ability_weight))
                .fact("interest_weight", Arg::Number(rules.interest_weight));
            for (w, r) in &i.ratings {
                step = step.fact(&format!("rating_{w}"), int(*r));
            }
            let mut trace = vec![step, gate_step.clone()];
            trace.extend(cluster_note);
            Item {
                message: Message::new("interests-blended")
                    .arg(
                        "respondent_key",
                        text(format!("respondent-{}", respondent_code(i.respondent))),
                    )
                    .arg(
                        "interest_percent",
                        int((rules.interest_weight * 100.0).round() as i64),
                    ),
                trace,
            }
        }
    })
}

fn respondent_code(r: Respondent) -> &'static str {
    match r {
        Respondent::Parent => "parent",
        Respondent::Child => "child",
    }
}

fn caveats(record: &ScoredRecord, tables: &GuidanceTables) -> Vec<Item> {
    let th = &tables.thresholds;
    let always = |rule: &str| {
        vec![TraceStep::new(
            format!("caveats.{rule}"),
            "norms/guidance/README.md#caveats",
        )]
    };
    let mut out = vec![
        Item {
            message: Message::new("caveat-stability"),
            trace: always("stability"),
        },
        Item {
            message: Message::new("caveat-reassess")
                .arg("months_min", int(th.report.reassess_months_min))
                .arg("months_max", int(th.report.reassess_months_max)),
            trace: vec![
                TraceStep::new("caveats.reassess", THRESHOLDS)
                    .fact("months_min", int(th.report.reassess_months_min))
                    .fact("months_max", int(th.report.reassess_months_max)),
            ],
        },
        Item {
            message: Message::new("caveat-not-profession"),
            trace: always("not_profession"),
        },
        Item {
            message: Message::new("caveat-intervals").arg("level", int(th.ci_level.percent())),
            trace: vec![
                TraceStep::new("caveats.intervals", THRESHOLDS).fact("level", int(th.ci_level.percent())),
            ],
        },
        Item {
            message: Message::new("caveat-whole-picture"),
            trace: always("whole_picture"),
        },
    ];
    if let Some(notice) = record.notice.as_ref().or(record.norm_set.notice.as_ref()) {
        out.push(Item {
            message: Message::new("caveat-demonstration"),
            trace: vec![
                TraceStep::new("caveats.demonstration", "provenance.toml").fact("notice", text(notice)),
            ],
        });
    }
    out
}
