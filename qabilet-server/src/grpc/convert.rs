//! Conversions between `qabilet-core` types and the generated messages. Messages built from
//! core types destructure them, so a new field fails to compile until it is handled.

use qabilet_core::administration::{AdaptiveEstimate, SubtestState};
use qabilet_core::battery::{Battery, CompositeKind, Domain};
use qabilet_core::profile::{AdaptiveScore, ScoredProfile};
use qabilet_core::{ChronologicalAge, CiMethod, ConfidenceLevel, LocalizedText, NormSet, NormSetId};

use super::pb;

/// The names of a localized text.
pub fn text(t: &LocalizedText) -> pb::LocalizedText {
    let LocalizedText { kk, ru, en } = t;
    pb::LocalizedText {
        kk: kk.clone(),
        ru: ru.clone(),
        en: en.clone(),
    }
}

/// The reference to a norm set.
pub fn norm_set(id: &NormSetId) -> pb::NormSetRef {
    let NormSetId {
        battery,
        version,
        hash,
        notice,
    } = id;
    pb::NormSetRef {
        battery: battery.clone(),
        version: version.clone(),
        hash: hash.clone(),
        notice: notice.clone().unwrap_or_default(),
    }
}

fn domain(d: Domain) -> String {
    match d {
        Domain::General => "g".to_owned(),
        other => format!("{other:?}"),
    }
}

/// A battery as the catalog shows it.
pub fn battery(norms: &NormSet) -> pb::Battery {
    let b: &Battery = &norms.battery;
    pb::Battery {
        name: format!("batteries/{}", b.id),
        id: b.id.clone(),
        version: b.version.clone(),
        names: Some(text(&b.names)),
        age_min_months: u32::from(b.age_min.0),
        age_max_months: u32::from(b.age_max.0),
        subtests: b
            .subtests
            .iter()
            .map(|s| pb::Subtest {
                id: s.id.clone(),
                domain: domain(s.domain),
                core: s.core,
                names: Some(text(&s.names)),
                raw_max: u32::from(s.raw_max),
                items: s
                    .items
                    .iter()
                    .map(|i| pb::Item {
                        id: i.id.clone(),
                        max: u32::from(i.max),
                    })
                    .collect(),
                time_limit_seconds: s.time_limit_seconds.unwrap_or(0),
            })
            .collect(),
        composites: b
            .composites
            .iter()
            .map(|c| pb::Composite {
                id: c.id.clone(),
                kind: match c.kind {
                    CompositeKind::Index => "index",
                    CompositeKind::General => "general",
                }
                .to_owned(),
                domain: domain(c.domain),
                names: Some(text(&c.names)),
                subtests: c.subtests.iter().map(|&s| b.subtests[s].id.clone()).collect(),
            })
            .collect(),
        norm_set: Some(norm_set(&norms.id)),
        norm_status: match norms.provenance.status {
            qabilet_core::norms::NormStatus::Demonstration => "demonstration",
            qabilet_core::norms::NormStatus::Clinical => "clinical",
        }
        .to_owned(),
        sample_size: norms.provenance.sample_size,
    }
}

/// Scoring options from the request (unspecified → the defaults, 95 % true-score).
pub fn options(o: Option<&pb::ScoringOptions>) -> qabilet_core::ScoringOptions {
    let (level, method) = o.map_or((0, 0), |o| (o.confidence_level, o.ci_method));
    qabilet_core::ScoringOptions {
        ci_level: match pb::ConfidenceLevel::try_from(level).unwrap_or_default() {
            pb::ConfidenceLevel::Unspecified | pb::ConfidenceLevel::ConfidenceLevel95 => ConfidenceLevel::P95,
            pb::ConfidenceLevel::ConfidenceLevel68 => ConfidenceLevel::P68,
            pb::ConfidenceLevel::ConfidenceLevel90 => ConfidenceLevel::P90,
            pb::ConfidenceLevel::ConfidenceLevel99 => ConfidenceLevel::P99,
        },
        ci_method: match pb::CiMethod::try_from(method).unwrap_or_default() {
            pb::CiMethod::Unspecified | pb::CiMethod::TrueScore => CiMethod::TrueScore,
            pb::CiMethod::Obtained => CiMethod::Obtained,
        },
    }
}

fn age(a: &ChronologicalAge) -> pb::Age {
    pb::Age {
        years: u32::from(a.years),
        months: u32::from(a.months),
        days: u32::from(a.days),
        total_months: u32::from(a.in_months().0),
    }
}

/// The adaptive part of a subtest's score.
fn adaptive_score(a: &AdaptiveScore) -> pb::AdaptiveScore {
    let AdaptiveScore {
        subtest: _,
        theta,
        se,
        estimator,
        items_administered,
        bank_items,
        stop,
    } = a;
    pb::AdaptiveScore {
        theta: *theta,
        theta_se: *se,
        estimator: estimator.to_string(),
        items_administered: *items_administered as u32,
        bank_items: *bank_items as u32,
        stop_reason: stop.map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// A scored profile as a message, with its JSON (`profile_json`: the line `qabilet score
/// --format json` writes) and a note for each subtest given adaptively.
pub fn profile(p: &ScoredProfile) -> pb::Profile {
    pb::Profile {
        norm_set: Some(norm_set(&p.norm_set)),
        notice: p.notice.clone().unwrap_or_default(),
        age: Some(age(&p.age)),
        subtests: p
            .subtests
            .iter()
            .map(|s| pb::SubtestScore {
                subtest: s.id.clone(),
                raw: u32::from(s.raw),
                scaled: s.scaled,
                percentile: s.percentile,
                ci: Some(pb::Interval {
                    low: s.ci.low,
                    high: s.ci.high,
                }),
                reliability: s.reliability,
                adaptive: p.adaptive.iter().find(|a| a.subtest == s.id).map(adaptive_score),
            })
            .collect(),
        composites: p
            .composites
            .iter()
            .map(|c| {
                let mut m = pb::CompositeScore {
                    composite: c.id.clone(),
                    missing: c.missing.clone(),
                    substituted: c
                        .substituted
                        .iter()
                        .map(|s| format!("{}:{}", s.replaced, s.with))
                        .collect(),
                    ..Default::default()
                };
                if let Some(v) = &c.value {
                    m.computed = true;
                    m.sum = v.sum;
                    m.index = v.index;
                    m.percentile = v.percentile;
                    m.ci = Some(pb::Interval {
                        low: v.ci.low,
                        high: v.ci.high,
                    });
                    m.classification = v.classification.clone();
                    m.basis = v.basis.as_str().to_owned();
                    m.reliability = v.reliability;
                }
                m
            })
            .collect(),
        profile_json: crate::batch::json_rows::line(p),
        deidentified: false,
        notes: p.notes(),
    }
}

/// A subtest's state under its rules (`qabilet_core::administration`), as the API reports it:
/// phase and done reason as their codes, empty strings for what does not apply.
pub fn subtest_state(s: &SubtestState) -> pb::SubtestState {
    let SubtestState {
        subtest,
        next_item,
        phase,
        done,
        start_item,
        basal_item,
        discontinued_after,
        raw_score,
        items_administered,
        overrides,
        adaptive,
    } = s;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let AdaptiveEstimate { theta, se, estimator } = adaptive.unwrap_or(AdaptiveEstimate {
        theta: None,
        se: None,
        estimator: Default::default(),
    });
    pb::SubtestState {
        subtest: subtest.clone(),
        next_item: text(next_item),
        phase: phase.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        done: done.is_some(),
        done_reason: done.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        start_item: text(start_item),
        basal_item: text(basal_item),
        discontinued_after: text(discontinued_after),
        raw_score: u32::from(*raw_score),
        items_administered: *items_administered as u32,
        overrides: overrides
            .iter()
            .map(|o| pb::Override {
                item: o.item.clone().unwrap_or_default(),
                reason: o.reason.clone(),
            })
            .collect(),
        adaptive: adaptive.is_some(),
        theta,
        theta_se: se,
        estimator: if adaptive.is_some() {
            estimator.to_string()
        } else {
            String::new()
        },
    }
}

/// The de-identified view of a scored profile (researchers, see
/// [`crate::auth::policy::deidentified`]): the birth date blank, the test date as year and
/// month, the age in whole months — an exact age and test date together would give the
/// birth date back. The scores are untouched: they depend on the exact age only through the
/// norm band, already applied.
pub fn deidentify_profile(p: &mut pb::Profile) {
    p.deidentified = true;
    if let Some(age) = &mut p.age {
        age.days = 0;
    }
    let Ok(serde_json::Value::Object(mut json)) = serde_json::from_str(&p.profile_json) else {
        // Our own JSON always parses; if it ever did not, nothing identifying is left behind.
        p.profile_json = String::new();
        return;
    };
    json.insert("birth_date".into(), serde_json::Value::from(""));
    if let Some(serde_json::Value::String(date)) = json.get_mut("test_date") {
        date.truncate(7);
    }
    if let Some(serde_json::Value::String(age)) = json.get_mut("age") {
        // "Y:M:D" → "Y:M".
        if let Some(cut) = age.rfind(':').filter(|_| age.matches(':').count() == 2) {
            age.truncate(cut);
        }
    }
    json.insert("deidentified".into(), serde_json::Value::Bool(true));
    p.profile_json = serde_json::Value::Object(json).to_string();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deidentified_profile_keeps_no_day() {
        let mut p = pb::Profile {
            age: Some(pb::Age {
                years: 8,
                months: 0,
                days: 10,
                total_months: 96,
            }),
            profile_json: r#"{"id":"s1","birth_date":"2018-03-10","test_date":"2026-03-20","age":"8:0:10","subtests":[]}"#
                .into(),
            ..Default::default()
        };
        deidentify_profile(&mut p);
        assert!(p.deidentified);
        assert_eq!(
            p.age.as_ref().map(|a| (a.years, a.months, a.days)),
            Some((8, 0, 0))
        );
        let json: serde_json::Value = serde_json::from_str(&p.profile_json).unwrap();
        assert_eq!(json["birth_date"], "");
        assert_eq!(json["test_date"], "2026-03");
        assert_eq!(json["age"], "8:0");
        assert_eq!(json["deidentified"], true);
        assert_eq!(json["subtests"], serde_json::json!([]));
    }
}
