//! Invariants of the referral planner for every input (proptest): rates, sensitivities and
//! PPVs are probabilities; a higher cut never refers more children nor finds more able ones;
//! the two stages together refer no more than either alone, and at least the product of
//! their rates (both pass more often as the true score rises); Bayes' identity
//! referred·ppv = above·sensitivity; upper95 refers at least as many as upper90, and upper90
//! at least as many as `observed` exactly when c − 100 ≤ z·15·√(r/(1 − r)) (the true-score
//! centre regresses to the mean, so at high cuts and low reliability the interval rule is
//! the stricter one). Filling seats: never more children than seats, ties together, the cut's
//! threshold at the lowest passing score, more seats never miss more able children.

use proptest::prelude::*;
use qabilet_core::referral::{Field, Figures, IndexPoint, Plan, Reliability, Rule, fill_seats};

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![Just(Rule::Observed), Just(Rule::Upper90), Just(Rule::Upper95)]
}

fn reliability() -> impl Strategy<Value = f64> {
    0.01f64..0.999
}

fn index() -> impl Strategy<Value = f64> {
    40.0f64..=160.0
}

fn is_probability(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

fn valid(f: &Figures) -> bool {
    is_probability(f.referred_rate)
        && is_probability(f.sensitivity)
        && f.ppv.is_none_or(is_probability)
        && (f.ppv.is_none() == (f.referred_rate == 0.0))
}

fn plan(rule: Rule, r: f64, c: f64, t: f64, stage2: Option<(f64, f64)>) -> Plan {
    Plan::new(rule, r, c, t, stage2).expect("valid plan")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn figures_are_probabilities_and_obey_bayes(
        rule in rule(), r in reliability(), c in index(), t in index(),
        r2 in reliability(), c2 in index(),
    ) {
        let f = plan(rule, r, c, t, Some((r2, c2))).figures();
        prop_assert!(is_probability(f.above_rate) && f.above_rate > 0.0);
        for figures in [Some(f.stage1), f.stage2, f.overall].into_iter().flatten() {
            prop_assert!(valid(&figures), "{figures:?}");
            if let Some(ppv) = figures.ppv {
                let (lhs, rhs) = (figures.referred_rate * ppv, f.above_rate * figures.sensitivity);
                prop_assert!((lhs - rhs).abs() <= 1e-12 * lhs.max(rhs) + 1e-300, "{lhs} vs {rhs}");
            }
        }
    }

    #[test]
    fn a_higher_cut_never_refers_more_or_finds_more(
        rule in rule(), r in reliability(), c in index(), rise in 0.0f64..20.0, t in index(),
        r2 in reliability(), c2 in index(),
    ) {
        let higher = (c + rise).min(160.0);
        let low = plan(rule, r, c, t, Some((r2, c2))).figures();
        let high = plan(rule, r, higher, t, Some((r2, c2))).figures();
        prop_assert!(high.stage1.referred_rate <= low.stage1.referred_rate);
        prop_assert!(high.stage1.sensitivity <= low.stage1.sensitivity + 1e-13);
        let (lo_all, hi_all) = (low.overall.expect("two stages"), high.overall.expect("two stages"));
        prop_assert!(hi_all.referred_rate <= lo_all.referred_rate + 1e-13);
        prop_assert!(hi_all.sensitivity <= lo_all.sensitivity + 1e-13);
        // Raising the second stage's cut too.
        let high2 = plan(rule, r, c, t, Some((r2, (c2 + rise).min(160.0)))).figures();
        let hi2_all = high2.overall.expect("two stages");
        prop_assert!(hi2_all.referred_rate <= lo_all.referred_rate + 1e-13);
        prop_assert!(hi2_all.sensitivity <= lo_all.sensitivity + 1e-13);
    }

    #[test]
    fn both_stages_refer_no_more_than_either_and_no_fewer_than_independence(
        rule in rule(), r in reliability(), c in index(), t in index(),
        r2 in reliability(), c2 in index(),
    ) {
        let f = plan(rule, r, c, t, Some((r2, c2))).figures();
        let (s1, s2, all) = (f.stage1, f.stage2.expect("stage 2"), f.overall.expect("overall"));
        let slack = 1e-13;
        prop_assert!(all.referred_rate <= s1.referred_rate.min(s2.referred_rate) + slack);
        prop_assert!(all.sensitivity <= s1.sensitivity.min(s2.sensitivity) + slack);
        prop_assert!(all.referred_rate >= s1.referred_rate * s2.referred_rate * (1.0 - 1e-10) - 1e-300);
    }

    #[test]
    fn interval_rules_order_as_the_formula_says(
        r in reliability(), c in index(), t in index(),
    ) {
        let rate = |rule| plan(rule, r, c, t, None).figures().stage1.referred_rate;
        let (observed, upper90, upper95) = (rate(Rule::Observed), rate(Rule::Upper90), rate(Rule::Upper95));
        prop_assert!(upper95 >= upper90);
        let z = Rule::Upper90.z().expect("z");
        let boundary = z * 15.0 * (r / (1.0 - r)).sqrt();
        if c - 100.0 < boundary - 1e-9 {
            prop_assert!(upper90 >= observed, "{upper90} < {observed}");
        } else if c - 100.0 > boundary + 1e-9 {
            prop_assert!(upper90 <= observed, "{upper90} > {observed}");
        }
    }

    #[test]
    fn seats_are_filled_from_the_top_with_ties_together(
        rule in rule(), r in reliability(), t in index(), seats in 0usize..40,
        cohort in prop::collection::vec(((40u32..=160).prop_map(f64::from), 0u8..3), 0..60),
    ) {
        let rel = Reliability::new(Field::Reliability, r).expect("r");
        let above = IndexPoint::new(Field::Above, t).expect("t");
        let p = fill_seats(rule, rel, above, seats, &cohort).expect("valid cohort");
        prop_assert!(p.passing <= seats.min(cohort.len()));
        prop_assert_eq!(p.passes.iter().filter(|&&b| b).count(), p.passing);
        match p.lowest_passing {
            Some(low) => {
                for (&(x, _), &passes) in cohort.iter().zip(&p.passes) {
                    prop_assert_eq!(passes, x >= low);
                }
                let cut = p.cut.expect("cut");
                prop_assert!((rule.threshold(r, cut) - low).abs() <= 1e-9);
            }
            None => prop_assert!(p.passing == 0 && p.cut.is_none()),
        }
        if let (Some(out), Some(low)) = (p.highest_left_out, p.lowest_passing) {
            prop_assert!(out < low);
            // The next tie group would not have fitted.
            let next = cohort.iter().filter(|&&(x, _)| x >= out).count();
            prop_assert!(next > seats);
        }
        let children: usize = p.subgroups.values().map(|g| g.children).sum();
        let passing: usize = p.subgroups.values().map(|g| g.passing).sum();
        let missed: f64 = p.subgroups.values().map(|g| g.expected_missed).sum();
        prop_assert_eq!((children, passing), (cohort.len(), p.passing));
        prop_assert!((missed - p.expected_missed).abs() <= 1e-9);
        let left_out = cohort.len() - p.passing;
        prop_assert!(p.expected_missed >= 0.0 && p.expected_missed <= left_out as f64 + 1e-9);

        let more = fill_seats(rule, rel, above, seats + 5, &cohort).expect("valid cohort");
        prop_assert!(more.passing >= p.passing);
        prop_assert!(more.expected_missed <= p.expected_missed + 1e-12);
    }
}

#[test]
fn no_one_referred_means_no_ppv() {
    // r = 0.0001 under upper95 at 160: the threshold is about 100 + 60/0.0001 = 600 100.
    let f = plan(Rule::Upper95, 0.0001, 160.0, 130.0, Some((0.9, 130.0))).figures();
    assert_eq!(f.stage1.referred_rate, 0.0);
    assert_eq!(f.stage1.ppv, None);
    assert_eq!(f.stage1.sensitivity, 0.0);
    let overall = f.overall.expect("overall");
    assert_eq!((overall.referred_rate, overall.ppv), (0.0, None));
    assert!(f.stage2.expect("stage 2").ppv.is_some());
}

#[test]
fn out_of_range_inputs_name_their_field() {
    let err = |rule, r, c, t, s2| Plan::new(rule, r, c, t, s2).expect_err("invalid").to_string();
    assert!(err(Rule::Observed, 1.0, 130.0, 130.0, None).starts_with("reliability = 1"));
    assert!(err(Rule::Observed, f64::NAN, 130.0, 130.0, None).starts_with("reliability = NaN"));
    assert!(err(Rule::Observed, 0.9, 39.5, 130.0, None).starts_with("cut = 39.5"));
    assert!(err(Rule::Observed, 0.9, 130.0, 161.0, None).starts_with("above = 161"));
    assert!(err(Rule::Observed, 0.9, 130.0, 130.0, Some((0.0, 130.0))).starts_with("stage2_reliability = 0"));
    assert!(err(Rule::Observed, 0.9, 130.0, 130.0, Some((0.9, 170.0))).starts_with("stage2_cut = 170"));
    let rel = Reliability::new(Field::Reliability, 0.9).expect("r");
    let above = IndexPoint::new(Field::Above, 130.0).expect("t");
    let bad = fill_seats(Rule::Observed, rel, above, 3, &[(120.0, 'a'), (200.0, 'b')]).expect_err("invalid");
    assert_eq!(
        bad.to_string(),
        "score of child 1 = 200: must lie within the index scale, 40–160"
    );
}

#[test]
fn seats_with_a_tie_across_the_last_seat() {
    let rel = Reliability::new(Field::Reliability, 0.85).expect("r");
    let above = IndexPoint::new(Field::Above, 130.0).expect("t");
    let cohort = [
        (140.0, "kk"),
        (135.0, "ru"),
        (131.0, "kk"),
        (131.0, "ru"),
        (125.0, "kk"),
    ];
    let p = fill_seats(Rule::Upper90, rel, above, 3, &cohort).expect("valid");
    assert_eq!(p.passing, 2);
    assert_eq!(p.passes, [true, true, false, false, false]);
    assert_eq!((p.lowest_passing, p.highest_left_out), (Some(135.0), Some(131.0)));
    // The upper bound of 135's 90 % interval: 100 + 0.85·35 + 1.6449·15·√(0.85·0.15).
    let z = Rule::Upper90.z().expect("z");
    let expected_cut = 100.0 + 0.85 * 35.0 + z * 15.0 * (0.85f64 * 0.15).sqrt();
    assert!((p.cut.expect("cut") - expected_cut).abs() < 1e-12);
    let kk = p.subgroups["kk"];
    assert_eq!((kk.children, kk.passing), (3, 1));
    assert!(p.subgroups["ru"].expected_missed > 0.0);
}

#[test]
fn a_narrow_rise_just_below_the_edge_of_the_domain_is_seen() {
    // r = 0.999999 under upper95 at 160, above 160: the pass probability rises over about
    // 0.001 SD, 0.002 SD below a = 4; Owen's T (scipy) and 30-digit mpmath agree on
    // 0.99995950253682 (a 20-point rule over [4, 8] alone would miss the dip and give 1).
    let f = plan(Rule::Upper95, 0.999999, 160.0, 160.0, None).figures();
    assert!(
        (f.stage1.sensitivity - 0.999_959_502_536_818).abs() < 1e-12,
        "{}",
        f.stage1.sensitivity
    );
}
