//! The closing items of a report: what was done with interests, and the caveats.

use super::*;

pub(super) fn interests_item(
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

pub(super) fn respondent_code(r: Respondent) -> &'static str {
    match r {
        Respondent::Parent => "parent",
        Respondent::Child => "child",
    }
}

pub(super) fn caveats(record: &ScoredProfile, tables: &GuidanceTables) -> Vec<Item> {
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
