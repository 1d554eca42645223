//! Issue 6, parts 1–2: guidance rules and the consultation report as data. Profiles are
//! scored through the real API against `norms/qabilet-primary-demo` (raw scores found in the
//! norm tables to give the scaled scores each case needs), as the owned scored profile whose
//! JSON `qabilet score --format json` writes, and run through the real `norms/guidance`
//! tables.

use std::collections::{BTreeMap, BTreeSet};

use qabilet_core::guidance::{
    GuidanceError, GuidanceFiles, GuidanceTables, Interests, ReferralOutcome, StandingKind,
    referral::expected_single_index_rate,
};
use qabilet_core::profile::{RecordError, ScoredProfile};
use qabilet_core::report::{Arg, ConsultationReport, DirectionKind, consultation, message_keys};
use qabilet_core::scale::Scale;
use qabilet_core::{CiMethod, ConfidenceLevel, Lang, NormFiles, NormSet, ScoreRequest, ScoringOptions};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const TEST_DATE: &str = "2026-05-15";
/// The software version a test names as the report's maker.
const VERSION: &str = "0.0.0-test";

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn demo_norms() -> NormSet {
    let dir = "norms/qabilet-primary-demo";
    let r = |n: &str| read(&format!("{dir}/{n}"));
    NormSet::from_files(&NormFiles {
        battery_toml: r("battery.toml"),
        subtests_csv: r("subtests.csv"),
        composites_csv: r("composites.csv"),
        reliability_csv: r("reliability.csv"),
        base_rates_csv: Some(r("base_rates.csv")),
        provenance_toml: r("provenance.toml"),
        item_banks: [("items/mr.json".to_owned(), r("items/mr.json"))].into(),
        content: Default::default(),
    })
    .expect("demo norms load")
}

fn guidance_files() -> GuidanceFiles {
    GuidanceFiles::read_with(|name| {
        Ok::<_, std::convert::Infallible>(read(&format!("norms/guidance/{name}")))
    })
    .expect("read")
}

fn tables() -> GuidanceTables {
    GuidanceTables::from_files(&guidance_files()).expect("guidance tables load")
}

/// Scores a child born on `birth` whose subtests have the given scaled scores (10 for any
/// not named): each raw score is the lowest one the demo norms scale closest to the target at
/// the child's age (within 1 where a table skips the target).
fn scored(norms: &NormSet, birth: &str, targets: &[(&str, i32)]) -> ScoredProfile {
    let age = ScoreRequest::parse(norms, birth, TEST_DATE, [])
        .expect("age")
        .age_months()
        .0;
    let raws: Vec<(String, String)> = norms
        .battery
        .subtests
        .iter()
        .enumerate()
        .map(|(s, sub)| {
            let target = targets.iter().find(|t| t.0 == sub.id).map_or(10, |t| t.1);
            let raw = (0..=sub.raw_max)
                .min_by_key(|&raw| (norms.subtests.scaled(s, age, raw) - target).abs())
                .expect("raw range");
            (sub.id.clone(), raw.to_string())
        })
        .collect();
    let request = ScoreRequest::parse(
        norms,
        birth,
        TEST_DATE,
        raws.iter().map(|(a, b)| (a.as_str(), b.as_str())),
    )
    .expect("valid record");
    let profile = norms.score(&request, &ScoringOptions::default());
    for (id, target) in targets {
        let got = profile
            .subtests
            .iter()
            .find(|s| s.id == *id)
            .expect("administered")
            .scaled;
        // Some ages' tables skip a scaled score; the nearest one is within 1.
        assert!(
            (got - target).abs() <= 1,
            "no raw score of {id} scales near {target}"
        );
    }
    ScoredProfile::new("case", &request, &profile)
}

// Birth dates giving whole years 5–11 on TEST_DATE (age 5:4 … 11:4).
const AGE_5: &str = "2021-01-10";
const AGE_6: &str = "2020-01-10";
const AGE_7: &str = "2019-01-10";
const AGE_8: &str = "2018-01-10";
const AGE_9: &str = "2017-01-10";
const AGE_10: &str = "2016-01-10";
const AGE_11: &str = "2015-01-10";

const ABILITY_14: [(&str, i32); 8] = [
    ("sim", 14),
    ("voc", 14),
    ("mr", 14),
    ("fw", 14),
    ("bd", 14),
    ("vp", 14),
    ("qr", 14),
    ("ar", 14),
];

struct Case {
    name: &'static str,
    birth: &'static str,
    scaled: &'static [(&'static str, i32)],
    interests: Option<&'static str>,
    gate: &'static str,
    flat: bool,
    /// (domain, the reported kind) of every strength.
    strengths: &'static [(&'static str, StandingKind)],
    support: &'static [(&'static str, StandingKind)],
    /// Domains of "how the child learns best".
    learning: &'static [&'static str],
    referral: ReferralOutcome,
    /// Kinds of directions, in report order, without repeats.
    directions: &'static [DirectionKind],
}

const CHILD_PEOPLE: &str = r#"{"respondent":"child","ratings":{"people":5,"things":1,"data":1,"ideas":2}}"#;

use DirectionKind::{
    BroadExploration as Broad, CareerCluster as Cluster, DevelopmentDirection as Dir, WorldOfWork as World,
};
use ReferralOutcome::{NotReferred, Referred, Uncertain};
use StandingKind::{ClearStrength, CloserLook, PossibleStrength, RelativeStrength, Support};

const CASES: &[Case] = &[
    Case {
        name: "flat profile: every subtest at the mean",
        birth: AGE_8,
        scaled: &[],
        interests: None,
        gate: "age-7-9",
        flat: true,
        strengths: &[],
        support: &[],
        learning: &[],
        referral: NotReferred,
        directions: &[Broad],
    },
    Case {
        name: "one clear strength: spatial, interval wholly at or above 110",
        birth: AGE_8,
        scaled: &[("bd", 13), ("vp", 14)],
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[("spatial", ClearStrength)],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir, World],
    },
    Case {
        name: "possible strength: spatial index 111, interval crosses 110",
        birth: AGE_8,
        scaled: &[("bd", 12), ("vp", 12)],
        interests: None,
        gate: "age-7-9",
        flat: true,
        strengths: &[("spatial", PossibleStrength)],
        support: &[],
        learning: &[],
        referral: NotReferred,
        directions: &[Broad],
    },
    Case {
        name: "relative strength: matrix reasoning far above the child's own mean, index below 110",
        birth: AGE_8,
        scaled: &[("mr", 16), ("fw", 7)],
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[("reasoning", RelativeStrength)],
        support: &[],
        learning: &[],
        referral: NotReferred,
        directions: &[Dir, World],
    },
    Case {
        name: "area to support: verbal interval wholly below 90",
        birth: AGE_8,
        scaled: &[("sim", 6), ("voc", 6)],
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[],
        support: &[("verbal", Support)],
        learning: &[],
        referral: NotReferred,
        directions: &[Broad],
    },
    Case {
        name: "needs a closer look: verbal interval wholly below 80",
        birth: AGE_8,
        scaled: &[("sim", 4), ("voc", 4)],
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[],
        support: &[("verbal", CloserLook)],
        learning: &[],
        referral: NotReferred,
        directions: &[Broad],
    },
    Case {
        name: "referral: general composite interval wholly at or above 120",
        birth: AGE_8,
        scaled: &[
            ("sim", 14),
            ("voc", 14),
            ("inf", 14),
            ("mr", 14),
            ("fw", 14),
            ("bd", 14),
            ("vp", 14),
            ("qr", 14),
            ("ar", 14),
            ("ds", 14),
            ("ps", 14),
            ("cd", 14),
            ("ss", 14),
        ],
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &["working-memory", "speed"],
        referral: Referred,
        directions: &[Dir, World],
    },
    Case {
        name: "uncertain referral: intervals contain 120, none above it",
        birth: AGE_8,
        scaled: &[
            ("sim", 13),
            ("voc", 13),
            ("inf", 13),
            ("mr", 13),
            ("fw", 13),
            ("bd", 13),
            ("vp", 13),
            ("qr", 13),
            ("ar", 13),
            ("ds", 13),
            ("ps", 13),
            ("cd", 13),
            ("ss", 13),
        ],
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", PossibleStrength),
            ("quantitative", PossibleStrength),
        ],
        support: &[],
        learning: &["working-memory", "speed"],
        referral: Uncertain,
        directions: &[Dir, World],
    },
    Case {
        name: "age 5: development directions only",
        birth: AGE_5,
        scaled: &ABILITY_14,
        interests: None,
        gate: "age-5-6",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir],
    },
    Case {
        name: "age 6: development directions only, interests ignored",
        birth: AGE_6,
        scaled: &ABILITY_14,
        interests: Some(CHILD_PEOPLE),
        gate: "age-5-6",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir],
    },
    Case {
        name: "age 7: worlds of work",
        birth: AGE_7,
        scaled: &ABILITY_14,
        interests: None,
        gate: "age-7-9",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir, World],
    },
    Case {
        name: "age 9: worlds of work, interests ignored",
        birth: AGE_9,
        scaled: &ABILITY_14,
        interests: Some(CHILD_PEOPLE),
        gate: "age-7-9",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir, World],
    },
    Case {
        name: "age 10: at most three career clusters",
        birth: AGE_10,
        scaled: &ABILITY_14,
        interests: None,
        gate: "age-10-11",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir, Cluster],
    },
    Case {
        name: "age 11: clusters with interests blended",
        birth: AGE_11,
        scaled: &ABILITY_14,
        interests: Some(CHILD_PEOPLE),
        gate: "age-10-11",
        flat: false,
        strengths: &[
            ("verbal", ClearStrength),
            ("reasoning", ClearStrength),
            ("spatial", ClearStrength),
            ("quantitative", ClearStrength),
        ],
        support: &[],
        learning: &[],
        referral: Uncertain,
        directions: &[Dir, Cluster],
    },
    Case {
        name: "age 10: working memory and speed strong, nothing else — no clusters",
        birth: AGE_10,
        scaled: &[("ds", 15), ("ps", 15), ("cd", 15), ("ss", 15)],
        interests: None,
        gate: "age-10-11",
        flat: false,
        strengths: &[],
        support: &[],
        learning: &["working-memory", "speed"],
        // Working memory and speed do not count for referral (referral.toml).
        referral: NotReferred,
        directions: &[Broad],
    },
];

fn build(norms: &NormSet, tables: &GuidanceTables, case: &Case) -> ConsultationReport {
    let record = scored(norms, case.birth, case.scaled);
    let interests = case
        .interests
        .map(|j| Interests::from_json(j, &tables.interests).expect("interests"));
    consultation(&record, &norms.battery, tables, interests.as_ref(), VERSION).expect("report")
}

fn dedup_kinds(report: &ConsultationReport) -> Vec<DirectionKind> {
    let mut out: Vec<DirectionKind> = Vec::new();
    for d in &report.directions {
        if out.last() != Some(&d.kind) {
            out.push(d.kind);
        }
    }
    out
}

#[test]
fn every_rule_on_profiles_scored_through_the_real_path() {
    let norms = demo_norms();
    let tables = tables();
    for case in CASES {
        let r = build(&norms, &tables, case);
        let ctx = case.name;
        assert_eq!(r.gate, case.gate, "{ctx}: gate");
        assert_eq!(r.flat, case.flat, "{ctx}: flat");
        let strengths: Vec<(&str, StandingKind)> = r
            .strengths
            .iter()
            .map(|s| (s.domain.as_str(), s.kinds[0]))
            .collect();
        assert_eq!(strengths, case.strengths, "{ctx}: strengths");
        let support: Vec<(&str, StandingKind)> = r
            .support
            .iter()
            .map(|s| (s.domain.as_str(), s.kinds[0]))
            .collect();
        assert_eq!(support, case.support, "{ctx}: support");
        let learning: Vec<&str> = r.learning.iter().map(|s| s.domain.as_str()).collect();
        assert_eq!(learning, case.learning, "{ctx}: learning");
        assert_eq!(r.referral.outcome, case.referral, "{ctx}: referral");
        assert_eq!(dedup_kinds(&r), case.directions, "{ctx}: directions");
        // Thresholds hold on the 90 % interval the report shows.
        for s in &r.strengths {
            let row = r.profile.iter().find(|p| p.domain == s.domain);
            match s.kinds[0] {
                ClearStrength => assert!(row.expect("row").ci_low >= 110, "{ctx}"),
                PossibleStrength => {
                    let row = row.expect("row");
                    assert!(
                        row.index >= 110 && row.ci_low < 110 && row.ci_high >= 110,
                        "{ctx}: {row:?}"
                    );
                }
                _ => {}
            }
        }
        for s in &r.support {
            let row = r.profile.iter().find(|p| p.domain == s.domain).expect("row");
            let cut = if s.kinds[0] == CloserLook { 80 } else { 90 };
            assert!(row.ci_high < cut, "{ctx}: {row:?}");
            if s.kinds[0] == Support {
                assert!(
                    row.ci_high >= 80,
                    "{ctx}: a support area below 80 is a closer look"
                );
            }
        }
        // Flat: no ranking — neither clusters nor worlds, only broad exploration.
        if r.flat {
            assert!(r.directions.iter().all(|d| d.kind == Broad), "{ctx}");
            assert!(r.activities.iter().all(|a| a.domain == "broad"), "{ctx}");
        }
        // Age gates.
        let clusters = r.directions.iter().filter(|d| d.kind == Cluster).count();
        let worlds = r.directions.iter().filter(|d| d.kind == World).count();
        match r.age_years {
            5..=6 => assert_eq!((clusters, worlds), (0, 0), "{ctx}"),
            7..=9 => assert_eq!(clusters, 0, "{ctx}"),
            _ => {
                assert_eq!(worlds, 0, "{ctx}");
                assert!(clusters <= 3, "{ctx}: {clusters} clusters");
            }
        }
        // Activities suit the child's age.
        for a in &r.activities {
            let row = tables
                .activities
                .iter()
                .find(|x| x.key == a.activity)
                .expect("activity");
            assert!(
                (row.age_min..=row.age_max).contains(&r.age_years),
                "{ctx}: {}",
                a.activity
            );
        }
        // Caveats always: stability, re-assessment, not a choice of profession, demo notice.
        let caveats: Vec<&str> = r.caveats.iter().map(|c| c.message.key.as_str()).collect();
        for key in [
            "caveat-stability",
            "caveat-reassess",
            "caveat-not-profession",
            "caveat-demonstration",
        ] {
            assert!(caveats.contains(&key), "{ctx}: {key} missing");
        }
    }
}

#[test]
fn at_ten_all_four_ability_strengths_give_exactly_three_clusters_ranked_by_fit() {
    let norms = demo_norms();
    let tables = tables();
    let case = CASES
        .iter()
        .find(|c| c.name.starts_with("age 10: at most three"))
        .expect("case");
    let r = build(&norms, &tables, case);
    let fits: Vec<f64> = r.directions.iter().filter_map(|d| d.fit).collect();
    assert_eq!(fits.len(), 3, "seven clusters are eligible, three are shown");
    assert!(fits.windows(2).all(|w| w[0] >= w[1]), "{fits:?}");
    for d in r.directions.iter().filter(|d| d.kind == Cluster) {
        assert!(!d.isco08.is_empty() && d.isco08.iter().all(|c| c.len() == 4));
        assert!(d.trace.iter().any(|t| t.rule == "age_gates.max_clusters"));
    }
}

#[test]
fn working_memory_and_speed_never_drive_directions_worlds_or_clusters() {
    let norms = demo_norms();
    let tables = tables();
    for birth in [AGE_5, AGE_8, AGE_10, AGE_11] {
        let record = scored(
            &norms,
            birth,
            &[
                ("ds", 15),
                ("ps", 15),
                ("cd", 15),
                ("ss", 15),
                ("bd", 13),
                ("vp", 13),
            ],
        );
        let r = consultation(&record, &norms.battery, &tables, None, VERSION).expect("report");
        assert!(
            !r.learning.is_empty(),
            "working memory and speed are reported as how the child learns"
        );
        for d in &r.directions {
            assert!(!["working-memory", "speed"].contains(&d.key.as_str()), "{d:?}");
            if d.kind == Cluster {
                let c = tables.clusters.iter().find(|c| c.key == d.key).expect("cluster");
                assert!(c.domains.iter().all(|k| k != "working-memory" && k != "speed"));
                // The ability fit is computed from the pattern's domains only.
                let fit = d
                    .trace
                    .iter()
                    .find(|t| t.rule == "clusters.ability_fit")
                    .expect("fit step");
                assert!(
                    !fit.facts.contains_key("z_wmi") && !fit.facts.contains_key("z_psi"),
                    "{fit:?}"
                );
            }
        }
        assert!(
            r.strengths
                .iter()
                .all(|s| s.domain != "working-memory" && s.domain != "speed")
        );
    }
    // Loading refuses a cluster driven by working memory.
    let mut files = guidance_files();
    files.clusters_csv = files.clusters_csv.replace(
        "engineering-architecture,spatial;quantitative,",
        "engineering-architecture,spatial;working-memory,",
    );
    let err = GuidanceTables::from_files(&files).expect_err("working memory may not drive a cluster");
    assert_eq!((err.file, err.field.as_str()), ("clusters.csv", "domains"));
    assert!(err.line.is_some(), "{err}");
}

#[test]
fn interests_are_ignored_under_ten_and_blended_from_ten() {
    let norms = demo_norms();
    let tables = tables();
    let people = Interests::from_json(CHILD_PEOPLE, &tables.interests).expect("interests");
    let things = Interests::from_json(
        r#"{"respondent":"parent","ratings":{"people":1,"things":5,"data":1,"ideas":1}}"#,
        &tables.interests,
    )
    .expect("interests");
    // Under ten: the same report with or without interests, and a trace saying why.
    for birth in [AGE_5, AGE_8, AGE_9] {
        let record = scored(&norms, birth, &ABILITY_14);
        let without = consultation(&record, &norms.battery, &tables, None, VERSION).expect("report");
        let with = consultation(&record, &norms.battery, &tables, Some(&people), VERSION).expect("report");
        assert_eq!(with.directions, without.directions);
        assert_eq!(with.interests.message.key, "interests-ignored-age");
        assert_eq!(with.interests.trace[0].rule, "interests.ignored_under_age");
    }
    // From ten: interests reorder the eligible clusters and every cluster's trace shows the blend.
    let record = scored(
        &norms,
        AGE_10,
        &[("sim", 14), ("voc", 14), ("bd", 14), ("vp", 14)],
    );
    let keys = |i: Option<&Interests>| -> Vec<String> {
        let r = consultation(&record, &norms.battery, &tables, i, VERSION).expect("report");
        if i.is_some() {
            assert_eq!(r.interests.message.key, "interests-blended");
            for d in r.directions.iter().filter(|d| d.kind == Cluster) {
                assert!(d.trace.iter().any(|t| t.rule == "interests.blend"), "{d:?}");
            }
        }
        r.directions
            .iter()
            .filter(|d| d.kind == Cluster)
            .map(|d| d.key.clone())
            .collect()
    };
    let (by_people, by_things) = (keys(Some(&people)), keys(Some(&things)));
    assert_ne!(by_people, by_things, "interests change the order of clusters");
    // Verbal and spatial are equally strong: the liked world comes first.
    assert_eq!(by_people[0], "people-care-social", "{by_people:?}");
    assert_eq!(by_things[0], "design-visual-arts", "{by_things:?}");
    // Interests never add a cluster without an ability basis: no strength in quantitative or
    // reasoning, so maths-data-it never appears, however much data is liked.
    let data = Interests::from_json(
        r#"{"respondent":"child","ratings":{"people":1,"things":1,"data":5,"ideas":5}}"#,
        &tables.interests,
    )
    .expect("interests");
    assert!(!keys(Some(&data)).contains(&"maths-data-it".to_string()));
}

#[test]
fn every_item_of_every_report_has_a_trace_and_a_known_message_key() {
    let norms = demo_norms();
    let tables = tables();
    let known: BTreeSet<String> = message_keys(&tables).into_iter().collect();
    let mut seen = BTreeSet::new();
    for case in CASES {
        let r = build(&norms, &tables, case);
        let messages = r.messages();
        assert!(messages.len() > 10, "{}", case.name);
        for (m, trace) in messages {
            assert!(!trace.is_empty(), "{}: {} has no trace", case.name, m.key);
            assert!(
                trace.iter().all(|t| !t.rule.is_empty() && !t.source.is_empty()),
                "{}",
                m.key
            );
            assert!(
                known.contains(&m.key),
                "{}: {} is not in message_keys",
                case.name,
                m.key
            );
            seen.insert(m.key.clone());
            for (name, arg) in &m.args {
                if name.ends_with("_key") {
                    let Arg::Text(k) = arg else {
                        panic!("{name} is not a key")
                    };
                    assert!(known.contains(k), "{}: argument {k}", m.key);
                    seen.insert(k.clone());
                }
            }
        }
        for row in &r.profile {
            assert!(row.trace.iter().any(|t| t.rule == "ci.recompute"), "{row:?}");
        }
        assert!(
            serde_json::to_string(&r)
                .expect("serialises")
                .contains("\"trace\"")
        );
    }
    // The cases reach most of the keys a report can carry.
    assert!(seen.len() >= 60, "only {} keys exercised", seen.len());
}

/// `key = …` lines of a Fluent file (messages only; terms, attributes and comments skipped).
fn ftl_keys(text: &str) -> BTreeMap<String, usize> {
    let mut keys = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let Some((head, _)) = line.split_once('=') else {
            continue;
        };
        let key = head.trim_end();
        let starts = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if starts
            && !line.starts_with(' ')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            assert!(
                keys.insert(key.to_string(), i + 1).is_none(),
                "{key} defined twice"
            );
        }
    }
    keys
}

#[test]
fn all_three_languages_have_every_key_and_no_other() {
    let tables = tables();
    let needed: BTreeSet<String> = message_keys(&tables).into_iter().collect();
    let mut sets = Vec::new();
    for lang in Lang::ALL {
        let text = read(&format!("norms/guidance/texts/{}.ftl", lang.code()));
        let keys: BTreeSet<String> = ftl_keys(&text).into_keys().collect();
        let missing: Vec<&String> = needed.difference(&keys).collect();
        assert!(missing.is_empty(), "{}.ftl lacks {missing:?}", lang.code());
        // No placeholder text left and no message without a value.
        for line in text.lines() {
            assert!(
                !line.contains("TODO") && !line.contains("FIXME"),
                "{}.ftl: {line}",
                lang.code()
            );
            if let Some((k, v)) = line.split_once(" =")
                && keys.contains(k)
            {
                let continued = text
                    .lines()
                    .skip_while(|l| *l != line)
                    .nth(1)
                    .is_some_and(|n| n.starts_with(' '));
                assert!(
                    !v.trim().is_empty() || continued,
                    "{}.ftl: {k} is empty",
                    lang.code()
                );
            }
        }
        sets.push((lang.code(), keys));
    }
    for (a, ka) in &sets {
        for (b, kb) in &sets {
            let extra: Vec<&String> = ka.difference(kb).collect();
            assert!(extra.is_empty(), "{a}.ftl has keys {b}.ftl lacks: {extra:?}");
        }
    }
    // Every `{ $arg }` a message uses is an argument the report passes (checked in English,
    // the same in all languages by the comparison below).
    for (lang, _) in &sets {
        let text = read(&format!("norms/guidance/texts/{lang}.ftl"));
        let en = read("norms/guidance/texts/en.ftl");
        for (key, _) in ftl_keys(&en) {
            let vars = |t: &str| -> BTreeSet<String> {
                let body = message_body(t, &key);
                body.split("{ $")
                    .skip(1)
                    .filter_map(|s| s.split([' ', '}', ')', ',']).next())
                    .map(String::from)
                    .collect()
            };
            assert_eq!(
                vars(&text),
                vars(&en),
                "{lang}.ftl: {key} uses other arguments than en.ftl"
            );
        }
    }
}

/// The text of message `key` with its continuation lines.
fn message_body(text: &str, key: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if inside {
            if line.starts_with(' ') {
                out.push_str(line);
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once('=')
            && k.trim_end() == key
            && !line.starts_with(' ')
        {
            out.push_str(v);
            inside = true;
        }
    }
    out
}

#[test]
fn single_index_referral_rate_matches_scipy() {
    let text = read("qabilet-core/tests/reference/referral_rate.csv");
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let r: f64 = f[0].parse().expect("r");
        let level: ConfidenceLevel = f[1].parse().expect("level");
        let method: CiMethod = f[2].parse().expect("method");
        let cut: i32 = f[3].parse().expect("cut");
        let int = |s: &str| (!s.is_empty()).then(|| s.parse::<i32>().expect("int"));
        let got = expected_single_index_rate(&Scale::INDEX, r, level, method, cut);
        assert_eq!(got.min_index_referred, int(f[4]), "{line}");
        assert_eq!(got.min_index_uncertain, int(f[5]), "{line}");
        for (g, want) in [(got.referred, f[6]), (got.uncertain, f[7])] {
            let want: f64 = want.parse().expect("rate");
            assert!(
                (g - want).abs() <= 1e-12 * want.abs().max(1e-3),
                "{line}: {g} vs {want}"
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 30);
}

#[test]
fn expected_any_index_rates_match_the_standardisation_sample() {
    let norms = demo_norms();
    let tables = tables();
    let e = &tables.referral.expected_any;
    assert_eq!(e.battery, norms.battery.id);
    let sample = read(&e.sample);
    let mut reader = csv::Reader::from_reader(sample.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (id, birth, test) = (col("id"), col("birth_date"), col("test_date"));
    let subtests: Vec<(usize, &str)> = norms
        .battery
        .subtests
        .iter()
        .map(|s| (col(&s.id), s.id.as_str()))
        .collect();
    let (mut n, mut referred, mut uncertain) = (0u32, 0u32, 0u32);
    for row in reader.records() {
        let row = row.expect("row");
        let raw = subtests
            .iter()
            .filter(|(c, _)| !row[*c].is_empty())
            .map(|(c, s)| (*s, &row[*c]));
        let request = ScoreRequest::parse(&norms, &row[birth], &row[test], raw).expect("sample row");
        let profile = norms.score(&request, &ScoringOptions::default());
        let record = ScoredProfile::new(&row[id], &request, &profile);
        let r = consultation(&record, &norms.battery, &tables, None, VERSION).expect("report");
        n += 1;
        match r.referral.outcome {
            Referred => referred += 1,
            Uncertain => uncertain += 1,
            NotReferred => {}
        }
    }
    let pct = |k: u32| (1000.0 * f64::from(k) / f64::from(n)).round() / 10.0;
    assert_eq!(
        (n, pct(referred), pct(uncertain)),
        (e.n, e.referred_percent, e.uncertain_percent),
        "referral.toml [expected_any] is out of date"
    );
}

#[test]
fn the_report_recomputes_the_interval_at_90_from_the_scored_json() {
    let norms = demo_norms();
    let tables = tables();
    let record = scored(&norms, AGE_8, &[("bd", 13), ("vp", 14)]);
    assert_eq!(record.options.ci_level, ConfidenceLevel::P95);
    let r = consultation(&record, &norms.battery, &tables, None, VERSION).expect("report");
    for row in &r.profile {
        let c = record
            .composites
            .iter()
            .find(|c| c.id == row.composite)
            .expect("composite");
        let v = c.value.as_ref().expect("computed");
        let ci = qabilet_core::ConfidenceInterval::new(
            &Scale::INDEX,
            v.index,
            v.reliability,
            ConfidenceLevel::P90,
            CiMethod::TrueScore,
        );
        assert_eq!((row.ci_low, row.ci_high), (ci.low, ci.high));
        assert!(
            row.ci_low >= v.ci.low && row.ci_high <= v.ci.high,
            "the 90 % interval lies within the 95 %"
        );
    }
    // The same record through the CLI's JSON line gives the same report.
    let norms_id = serde_json::to_value(&record).expect("json");
    let reparsed = ScoredProfile::from_json(&norms_id.to_string()).expect("reparsed");
    assert_eq!(
        consultation(&reparsed, &norms.battery, &tables, None, VERSION).expect("report"),
        r
    );
}

#[test]
fn a_line_of_the_cli_json_is_read() {
    // A full line as `qabilet score --format json` writes it: the scored profile's JSON with
    // the row's `error` field after it; read back, it is the same profile.
    let norms = demo_norms();
    let request = ScoreRequest::parse(
        &norms,
        AGE_8,
        TEST_DATE,
        [("sim", "20"), ("voc", "25"), ("mr", "15")],
    )
    .expect("req");
    let profile = norms.score(&request, &ScoringOptions::default());
    let scored = ScoredProfile::new("child-x", &request, &profile);
    let text = serde_json::to_string(&scored).expect("json");
    // The fields of a line, in its order (each first seen at the top level).
    let at: Vec<usize> = [
        "id",
        "birth_date",
        "test_date",
        "raw",
        "notice",
        "norm_set",
        "age",
        "options",
        "subtests",
        "composites",
        "strengths_weaknesses",
        "discrepancies",
    ]
    .iter()
    .map(|k| {
        text.find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} in {text}"))
    })
    .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(!text.contains("\"adaptive\""), "no adaptive subtest, no field");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value.as_object().expect("object").len(), 12);
    assert_eq!(value["raw"], serde_json::json!({"sim": 20, "voc": 25, "mr": 15}));
    assert!(
        text.contains(r#""raw":{"sim":20,"voc":25,"mr":15}"#),
        "raw in the order given"
    );
    assert_eq!(value["birth_date"], AGE_8);
    let line = format!("{},\"error\":null}}", &text[..text.len() - 1]);
    let record = ScoredProfile::from_json(&line).expect("record");
    assert_eq!(record.id, "child-x");
    assert_eq!(record.age, request.age);
    assert_eq!(record, scored);
    let bad = r#"{"id":"x","norm_set":{"battery":"qabilet-primary-demo","version":"0.1.0","hash":"h"},"error":"age out of range"}"#;
    assert_eq!(
        ScoredProfile::from_json(bad),
        Err(RecordError::NotScored("age out of range".into()))
    );
    assert!(matches!(
        ScoredProfile::from_json(r#"{"id":"x","age":"8:13:0"}"#),
        Err(RecordError::Json(_))
    ));
}

/// The guidance hash, recomputed here from the folder's bytes by the rule of
/// norms/guidance/README.md (per file in order — the seven tables, then texts/kk.ftl,
/// texts/ru.ftl, texts/en.ftl — name, NUL, length in decimal, NUL, bytes; SHA-256).
fn guidance_hash_of_folder() -> String {
    use sha2::{Digest, Sha256};
    let names = [
        "domains.toml",
        "thresholds.toml",
        "age_gates.toml",
        "referral.toml",
        "interests.toml",
        "activities.csv",
        "clusters.csv",
        "texts/kk.ftl",
        "texts/ru.ftl",
        "texts/en.ftl",
    ];
    let mut h = Sha256::new();
    for name in names {
        let bytes = std::fs::read(format!("{ROOT}/norms/guidance/{name}")).expect("read");
        h.update(name.as_bytes());
        h.update([0]);
        h.update(bytes.len().to_string().as_bytes());
        h.update([0]);
        h.update(&bytes);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Guidance is pinned like norms: the tables carry the hash of every file a report is made
/// from, texts included, and every report records it with the norm-set hash and the
/// software version it was given.
#[test]
fn the_guidance_hash_covers_tables_and_texts_and_every_report_records_it() {
    let files = guidance_files();
    let tables = GuidanceTables::from_files(&files).expect("tables");
    assert_eq!(tables.id.hash, guidance_hash_of_folder());
    assert_eq!(files.hash(), tables.id.hash);
    // A changed sentence in one language changes the hash; so does a changed table, and a
    // file's bytes moved into another file (names and lengths are hashed).
    let mut changed = files.clone();
    changed.texts.ru.push_str("\n# comment\n");
    assert_ne!(changed.hash(), files.hash());
    let mut changed = files.clone();
    changed.thresholds_toml.push(' ');
    assert_ne!(changed.hash(), files.hash());
    let mut moved = files.clone();
    let tail = moved.clusters_csv.split_off(moved.clusters_csv.len() - 1);
    moved.texts.kk.insert_str(0, &tail);
    assert_ne!(moved.hash(), files.hash());

    let norms = demo_norms();
    let record = scored(&norms, AGE_8, &[("bd", 13)]);
    let r = consultation(&record, &norms.battery, &tables, None, VERSION).expect("report");
    assert_eq!(
        r.fingerprint,
        qabilet_core::report::ReportFingerprint {
            norm_set_hash: norms.id.hash.clone(),
            guidance_hash: guidance_hash_of_folder(),
            software_version: VERSION.into(),
        }
    );
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["fingerprint"]["guidance_hash"], guidance_hash_of_folder());
    assert_eq!(json["fingerprint"]["norm_set_hash"], norms.id.hash.as_str());
    assert_eq!(json["fingerprint"]["software_version"], VERSION);
}

#[test]
fn loading_reports_file_line_and_field() {
    type Edit = fn(&mut GuidanceFiles);
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            |f| {
                f.activities_csv = f.activities_csv.replace(
                    "spatial,5,11,tangram,correlational",
                    "spatial,5,11,tangram,anecdote",
                )
            },
            "activities.csv",
            "evidence",
        ),
        (
            |f| {
                f.activities_csv = f
                    .activities_csv
                    .replace("verbal,5,11,shared-reading", "singing,5,11,shared-reading")
            },
            "activities.csv",
            "domain",
        ),
        (
            |f| f.clusters_csv = f.clusters_csv.replace("2142;", "214;"),
            "clusters.csv",
            "isco08",
        ),
        (
            |f| f.clusters_csv = f.clusters_csv.replace("17-2051.00", "17-2051"),
            "clusters.csv",
            "onet_soc",
        ),
        (
            |f| f.age_gates_toml = f.age_gates_toml.replace("age_min_years = 7", "age_min_years = 8"),
            "age_gates.toml",
            "age_min_years",
        ),
        (
            |f| f.domains_toml = f.domains_toml.replace("chc = \"Gs\"", "chc = \"Gv\""),
            "domains.toml",
            "chc",
        ),
    ];
    for (edit, file, field) in cases {
        let mut files = guidance_files();
        edit(&mut files);
        let err: GuidanceError = GuidanceTables::from_files(&files).expect_err(file);
        assert_eq!((err.file, err.field.as_str()), (file, field), "{err}");
        assert!(err.line.is_some(), "{err}");
    }
    let mut files = guidance_files();
    files.thresholds_toml = files.thresholds_toml.replace("ci_level = 90", "ci_level = 91");
    let err = GuidanceTables::from_files(&files).expect_err("bad level");
    assert_eq!((err.file, err.field.as_str()), ("thresholds.toml", "ci_level"));
}

#[test]
fn a_report_for_another_battery_is_refused() {
    let norms = demo_norms();
    let tables = tables();
    let mut record = scored(&norms, AGE_8, &[]);
    record.norm_set.battery = "another".into();
    assert!(consultation(&record, &norms.battery, &tables, None, VERSION).is_err());
}

#[test]
fn activity_line_numbers_point_at_their_rows() {
    let tables = tables();
    let text = read("norms/guidance/activities.csv");
    let lines: Vec<&str> = text.lines().collect();
    for a in &tables.activities {
        let line = lines[a.line - 1];
        assert!(
            line.starts_with(&format!("{},", a.domain)) && line.contains(&a.key),
            "{a:?}: {line}"
        );
    }
}

/// Issue 6, part 4: every editable item has a stable id of the documented scheme, no id
/// repeats, and an item found by its id is the item listed under it.
#[test]
fn every_editable_item_has_a_unique_stable_id() {
    let norms = demo_norms();
    let tables = tables();
    let prefixes = [
        "summary/",
        "profile/",
        "strengths/",
        "support/",
        "learning/",
        "activities/",
        "directions/",
        "referral/rates/",
        "caveats/",
    ];
    for case in CASES {
        let r = build(&norms, &tables, case);
        let ids = r.item_ids();
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{}: {ids:?}", case.name);
        assert!(ids.contains(&"referral".to_owned()) && ids.contains(&"interests".to_owned()));
        assert!(ids.contains(&"summary/summary-age".to_owned()), "{ids:?}");
        for caveat in &r.caveats {
            assert!(ids.contains(&format!("caveats/{}", caveat.message.key)));
        }
        for a in &r.activities {
            assert!(ids.contains(&format!("activities/{}/{}", a.domain, a.activity)));
        }
        for id in &ids {
            assert!(
                id == "referral" || id == "interests" || prefixes.iter().any(|p| id.starts_with(p)),
                "{}: {id}",
                case.name
            );
            let item = r.item(id).expect("found by id");
            assert!(!item.trace.is_empty(), "{}: {id}", case.name);
        }
        for row in &r.profile {
            assert!(ids.contains(&format!("profile/{}", row.domain)));
        }
        // One id per message, in the order of the sections a renderer draws, each section
        // headed by a key the texts must have.
        assert_eq!(ids.len(), r.messages().len(), "{}", case.name);
        let sections = r.sections();
        let drawn: Vec<String> = sections
            .iter()
            .flat_map(|s| s.items.iter().map(|i| i.id.clone()))
            .collect();
        assert_eq!(drawn, ids, "{}", case.name);
        let headings: Vec<&str> = sections.iter().map(|s| s.heading).collect();
        assert_eq!(
            headings,
            [
                "section-summary",
                "section-profile",
                "section-strengths",
                "section-support",
                "section-learning",
                "section-activities",
                "section-directions",
                "section-referral",
                "section-interests",
                "section-caveats"
            ]
        );
        assert!(
            headings
                .iter()
                .all(|h| qabilet_core::report::RENDERER_KEYS.contains(h))
        );
        for d in r.directions.iter().filter(|d| !d.isco08.is_empty()) {
            let item = r.item(&format!("directions/{}", d.key)).expect("direction");
            assert_eq!(item.isco08, d.isco08.as_slice());
        }
        // The same inputs give the same ids.
        assert_eq!(build(&norms, &tables, case).item_ids(), ids);
    }
    assert!(
        build(&norms, &tables, &CASES[0])
            .item("profile/no-such")
            .is_none()
    );
}
