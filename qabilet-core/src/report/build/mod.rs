//! Building a consultation report from a scored profile, the battery it was scored with, the
//! guidance tables and optional interests. Pure: the same inputs give the same report.

use super::{
    ActivityItem, ActivityPurpose, Arg, ConsultationReport, DirectionItem, DirectionKind, DomainItem,
    ExpectedRate, Item, Message, ProfileRow, Referral, ReportError, ReportFingerprint, TraceStep,
};
use crate::battery::Battery;
use crate::ci::{ConfidenceInterval, centre_and_half_width};
use crate::guidance::activities::{self, BROAD};
use crate::guidance::referral::expected_single_index_rate;
use crate::guidance::{
    DomainRole, DomainRule, GuidanceTables, Interests, Offer, ReferralOutcome, ReferralRules, Respondent,
    StandingKind,
};
use crate::profile::{CompositeValue, Direction, ScoredProfile, Significance};

mod closing;
mod directions;
mod referral;
mod standing;

use closing::{caveats, interests_item};
use directions::{clusters, suggest_activities};
use referral::refer;
use standing::{flatness, measure, stand};

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
    scores: &'a CompositeValue,
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
/// The report records what it was made with ([`ReportFingerprint`]): the record's norm-set
/// hash, the guidance hash of `tables` and `software_version` as the caller names it.
///
/// # Errors
/// [`ReportError`] when the record was scored with another battery, a composite is not in
/// the battery, no gate covers the age, or interests do not fit the questionnaire.
pub fn consultation(
    record: &ScoredProfile,
    battery: &Battery,
    tables: &GuidanceTables,
    interests: Option<&Interests>,
    software_version: &str,
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
        fingerprint: ReportFingerprint {
            norm_set_hash: record.norm_set.hash.clone(),
            guidance_hash: tables.id.hash.clone(),
            software_version: software_version.to_owned(),
        },
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
