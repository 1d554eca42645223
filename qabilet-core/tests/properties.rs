//! Invariants that must hold for every input (proptest): age arithmetic round-trips and is
//! monotone, scaled scores never fall as raw scores rise, intervals contain their centre and
//! widen with the level, norm tables survive loading then writing unchanged, and a scored
//! profile survives its JSON.

use proptest::prelude::*;
use qabilet_core::age::{ChronologicalAge, Date};
use qabilet_core::norms::{SubtestNorms, SubtestRow};
use qabilet_core::profile::{ScoredProfile, Scorer};
use qabilet_core::scale::Scale;
use qabilet_core::{
    CiMethod, ConfidenceInterval, ConfidenceLevel, NormFiles, NormSet, ScoreRequest, ScoringOptions,
};

fn demo() -> &'static NormSet {
    static NORMS: std::sync::OnceLock<NormSet> = std::sync::OnceLock::new();
    NORMS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");
        let read = |n: &str| std::fs::read_to_string(format!("{dir}/{n}")).expect("demo file");
        NormSet::from_files(&NormFiles {
            battery_toml: read("battery.toml"),
            subtests_csv: read("subtests.csv"),
            composites_csv: read("composites.csv"),
            reliability_csv: read("reliability.csv"),
            base_rates_csv: Some(read("base_rates.csv")),
            provenance_toml: read("provenance.toml"),
            item_banks: [("items/mr.json".to_owned(), read("items/mr.json"))].into(),
            content: Default::default(),
        })
        .expect("demo norms load")
    })
}

fn date() -> impl Strategy<Value = Date> {
    (1990i16..2040, 1i8..=12, 1i8..=31).prop_map(|(y, m, d)| {
        let first = Date::new(y, m, 1).unwrap();
        Date::new(y, m, d.min(first.days_in_month())).unwrap()
    })
}

fn later(d: Date, days: i64) -> Date {
    d.checked_add(jiff::Span::new().days(days)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn age_round_trips(birth in date(), days in 0i64..6000) {
        let test = later(birth, days);
        let age = ChronologicalAge::between(birth, test).unwrap();
        prop_assert_eq!(age.date_from(birth), Some(test));
        prop_assert!(age.months < 12 && age.days < 31);
        prop_assert_eq!(age.to_string().parse::<ChronologicalAge>().unwrap(), age);
    }

    #[test]
    fn age_never_decreases_as_the_test_date_advances(birth in date(), days in 0i64..6000, step in 1i64..400) {
        let a = ChronologicalAge::between(birth, later(birth, days)).unwrap();
        let b = ChronologicalAge::between(birth, later(birth, days + step)).unwrap();
        prop_assert!(a < b, "{} then {}", a, b);
    }

    #[test]
    fn scaled_never_falls_as_raw_rises(s in 0usize..13, age in 60u16..=143, a in 0u16..80, b in 0u16..80) {
        let norms = demo();
        let max = norms.battery.subtests[s].raw_max;
        let (lo, hi) = (a.min(b).min(max), a.max(b).min(max));
        prop_assert!(norms.subtests.scaled(s, age, lo) <= norms.subtests.scaled(s, age, hi));
    }

    #[test]
    fn raising_one_raw_score_never_lowers_an_index(
        raws in proptest::collection::vec(0u16..80, 13),
        which in 0usize..13,
        up in 1u16..20,
        days in 1900i64..4300,
    ) {
        let norms = demo();
        let birth = Date::new(2015, 6, 15).unwrap();
        let clip = |s: usize, r: u16| Some(r.min(norms.battery.subtests[s].raw_max));
        let base: Vec<_> = raws.iter().enumerate().map(|(s, &r)| clip(s, r)).collect();
        let mut raised = base.clone();
        raised[which] = clip(which, raws[which].saturating_add(up));
        let scorer = Scorer::new(norms, ScoringOptions::default());
        let test = later(birth, days);
        let (Ok(a), Ok(b)) = (ScoreRequest::new(norms, birth, test, base), ScoreRequest::new(norms, birth, test, raised)) else {
            return Ok(()); // age outside the norms: not this property's concern
        };
        let (pa, pb) = (scorer.score(&a), scorer.score(&b));
        for (ca, cb) in pa.composites.iter().zip(&pb.composites) {
            let (va, vb) = (ca.value.as_ref().unwrap(), cb.value.as_ref().unwrap());
            prop_assert!(va.index <= vb.index, "{}: {} then {}", ca.id, va.index, vb.index);
            prop_assert!(va.percentile <= vb.percentile);
        }
    }

    #[test]
    fn interval_contains_its_centre_and_widens_with_level(
        index in 40i32..=160,
        r in 0.5f64..0.99,
        obtained in any::<bool>(),
    ) {
        let method = if obtained { CiMethod::Obtained } else { CiMethod::TrueScore };
        let scale = Scale::INDEX;
        let centre = match method {
            CiMethod::TrueScore => scale.mean + r * (f64::from(index) - scale.mean),
            CiMethod::Obtained => f64::from(index),
        };
        let mut previous: Option<ConfidenceInterval> = None;
        for level in ConfidenceLevel::ALL {
            let ci = ConfidenceInterval::new(&scale, index, r, level, method);
            prop_assert!(f64::from(ci.low) <= centre.round() && centre.round() <= f64::from(ci.high));
            prop_assert!(ci.low >= scale.min && ci.high <= scale.max);
            if let Some(p) = previous {
                prop_assert!(ci.low <= p.low && ci.high >= p.high, "{:?} narrower than {:?}", ci, p);
            }
            previous = Some(ci);
        }
    }

    #[test]
    fn subtest_tables_survive_load_then_write(steps in proptest::collection::vec(0u8..3, 0..2000)) {
        // A random non-decreasing table for every subtest and band of the demo battery.
        let norms = demo();
        let battery = &norms.battery;
        let mut rows = Vec::new();
        let mut step = steps.iter().cycle();
        for s in &battery.subtests {
            for lo in (60u16..=143).step_by(12) {
                let mut scaled = 1i32;
                for raw in 0..=s.raw_max {
                    scaled = (scaled + i32::from(*step.next().unwrap_or(&0) == 2)).min(19);
                    rows.push((rows.len() + 2, SubtestRow {
                        subtest: s.id.clone(), age_min_months: lo, age_max_months: lo + 11,
                        raw_min: raw, raw_max: raw, scaled,
                    }));
                }
            }
        }
        let table = SubtestNorms::from_rows(battery, rows).unwrap();
        let text = table.to_csv(battery);
        let reloaded = SubtestNorms::parse(battery, &text).unwrap();
        prop_assert_eq!(&reloaded, &table);
        prop_assert_eq!(reloaded.to_csv(battery), text);
    }

    /// The owned scored profile carries every score of the profile it was made from, and its
    /// JSON reads back to the same value (the record `qabilet report` takes).
    #[test]
    fn a_scored_profile_keeps_every_score_and_reads_back_from_its_json(
        birth in date(),
        months in 60i64..=143,
        days in 0i64..28,
        picks in proptest::collection::vec(proptest::option::of(any::<prop::sample::Index>()), 13),
        options in (0usize..4, any::<bool>()),
    ) {
        let norms = demo();
        let Some(test) = birth
            .checked_add(jiff::Span::new().months(months))
            .ok()
            .and_then(|d| d.checked_add(jiff::Span::new().days(days)).ok())
        else {
            return Ok(());
        };
        let raw: Vec<Option<u16>> = norms
            .battery
            .subtests
            .iter()
            .zip(&picks)
            .map(|(s, p)| p.map(|i| i.index(usize::from(s.raw_max) + 1) as u16))
            .collect();
        let Ok(request) = ScoreRequest::new(norms, birth, test, raw) else {
            return Ok(());
        };
        let options = ScoringOptions {
            ci_level: [ConfidenceLevel::P68, ConfidenceLevel::P90, ConfidenceLevel::P95, ConfidenceLevel::P99][options.0],
            ci_method: if options.1 { CiMethod::TrueScore } else { CiMethod::Obtained },
        };
        let profile = Scorer::new(norms, options).score(&request);
        let scored = ScoredProfile::new("p", &request, &profile);
        prop_assert_eq!((scored.birth_date, scored.test_date, scored.age), (birth, test, profile.age));
        prop_assert_eq!(scored.subtests.len(), profile.subtests.len());
        for (owned, borrowed) in scored.subtests.iter().zip(&profile.subtests) {
            prop_assert_eq!(owned.id.as_str(), borrowed.id);
            prop_assert_eq!((owned.raw, owned.scaled, owned.ci), (borrowed.raw, borrowed.scaled, borrowed.ci));
            prop_assert_eq!(scored.raw.get(borrowed.id), Some(borrowed.raw));
        }
        for (owned, borrowed) in scored.composites.iter().zip(&profile.composites) {
            prop_assert_eq!(owned.id.as_str(), borrowed.id);
            prop_assert_eq!(
                owned.value.as_ref().map(|v| (v.index, v.ci, v.classification.as_str())),
                borrowed.value.as_ref().map(|v| (v.index, v.ci, v.classification))
            );
        }
        prop_assert_eq!(scored.discrepancies.len(), profile.discrepancies.len());
        let json = serde_json::to_string(&scored).unwrap();
        prop_assert_eq!(ScoredProfile::from_json(&json).unwrap(), scored);
    }
}
