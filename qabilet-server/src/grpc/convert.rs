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
/// norm band, already applied. `profile_json` is the profile's JSON with those three fields
/// replaced and `"deidentified": true`.
pub fn deidentified_profile(p: &ScoredProfile) -> pb::Profile {
    let mut m = profile(p);
    m.deidentified = true;
    if let Some(age) = &mut m.age {
        age.days = 0;
    }
    m.profile_json = match serde_json::to_value(p) {
        Ok(serde_json::Value::Object(mut json)) => {
            let month = p.test_date.strftime("%Y-%m").to_string();
            json.insert("birth_date".into(), serde_json::Value::from(""));
            json.insert("test_date".into(), serde_json::Value::from(month));
            json.insert(
                "age".into(),
                serde_json::Value::from(format!("{}:{}", p.age.years, p.age.months)),
            );
            json.insert("deidentified".into(), serde_json::Value::Bool(true));
            serde_json::Value::Object(json).to_string()
        }
        // Plain data always serialises; if it ever did not, nothing identifying is sent.
        _ => String::new(),
    };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deidentified_profile_keeps_no_day() {
        let fixture = crate::report::fixtures::Fixture::load();
        let p = fixture.records().remove(0);
        let m = deidentified_profile(&p);
        assert!(m.deidentified);
        assert_eq!(
            m.age.as_ref().map(|a| (a.years, a.months, a.days)),
            Some((u32::from(p.age.years), u32::from(p.age.months), 0))
        );
        let json: serde_json::Value = serde_json::from_str(&m.profile_json).unwrap();
        assert_eq!(json["birth_date"], "");
        assert_eq!(json["test_date"], p.test_date.strftime("%Y-%m").to_string());
        assert_eq!(json["age"], format!("{}:{}", p.age.years, p.age.months));
        assert_eq!(json["deidentified"], true);
        let birth = p.birth_date.to_string();
        assert!(!m.profile_json.contains(&birth), "{}", m.profile_json);
        assert_eq!(json["subtests"].as_array().map(Vec::len), Some(p.subtests.len()));
    }
}
