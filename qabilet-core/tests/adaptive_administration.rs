//! Adaptive administration (issue 5: "adaptive subtests use the IRT issue's engine and resume
//! exactly after a restart"): replay of any prefix of a log gives the live administration's
//! next item, refusals change nothing, the raw-score equivalent is monotone in θ and within
//! 0 … raw max, and a full-length adaptive test of a Rasch bank equates to the number-correct
//! score (sufficiency; WLE keeps τ(θ̂) within ½ of it).

use std::sync::Arc;

use proptest::prelude::*;
use qabilet_core::administration::{
    AdaptiveAdministration, AdaptiveForm, AdaptiveNext, AdministrationError, Event, adaptive_seed,
};
use qabilet_core::battery::Battery;
use qabilet_core::cat::StopReason;
use qabilet_core::irt::{ItemBank, Status, expected_score};

/// A battery with one 0/1 subtest `rx` of `n` items, adaptive with this rule.
fn form(n: usize, rule: &str, bank: &str) -> Arc<AdaptiveForm> {
    let items: Vec<String> = (1..=n)
        .map(|i| format!("{{ id = \"rx{i:02}\", max = 1 }}"))
        .collect();
    let toml = format!(
        r#"id = "t"
version = "1"
age_min_months = 60
age_max_months = 143
names = {{ kk = "t", ru = "t", en = "t" }}
[[classification]]
id = "all"
labels = {{ kk = "a", ru = "a", en = "a" }}
[[subtest]]
id = "rx"
domain = "Gf"
names = {{ kk = "r", ru = "r", en = "r" }}
items = [{}]
start_points = [{{ age_min_months = 60, item = "rx01" }}]
adaptive = {{ bank = "items/rx.json", {rule} }}
"#,
        items.join(", ")
    );
    let battery = Battery::from_toml(&toml).expect("battery");
    let bank = ItemBank::from_json(bank).expect("bank");
    Arc::new(AdaptiveForm::new(&battery.subtests[0], &bank).expect("form"))
}

/// A Rasch bank of `n` items rx01 … with b_i = −3 + 6(i + ½)/n, as the demo's.
fn rasch_bank(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            let b = -3.0 + 6.0 * (i as f64 + 0.5) / n as f64;
            format!(r#"{{"id": "rx{:02}", "model": "rasch", "b": {b}}}"#, i + 1)
        })
        .collect();
    format!(r#"{{"items": [{}]}}"#, items.join(", "))
}

/// Answers of a deterministic "child": item `id` right iff the bit of `pattern` at its number.
fn answer(id: &str, pattern: u64) -> u16 {
    let k: u32 = id[2..].parse().unwrap();
    u16::from(pattern >> (k % 64) & 1 == 1)
}

fn run(form: &Arc<AdaptiveForm>, seed: u64, pattern: u64) -> AdaptiveAdministration {
    let mut a = AdaptiveAdministration::new(form.clone(), seed).unwrap();
    while let AdaptiveNext::Item { id } = a.next().clone() {
        let score = answer(&id, pattern);
        a.record(Event::score(id, score)).unwrap();
    }
    a
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every prefix of the log, replayed, announces the item the live administration did at
    /// that point; randomesque draws included.
    #[test]
    fn replay_of_any_prefix_gives_the_live_next_item(session in "[a-z0-9]{1,12}", pattern in any::<u64>(), group in 1usize..4) {
        let f = form(20, &format!("max_items = 12, se_target = 0.55, randomesque = {group}"), &rasch_bank(20));
        let seed = adaptive_seed(&session, "rx");
        let mut live = AdaptiveAdministration::new(f.clone(), seed).unwrap();
        let mut announced = vec![live.next().clone()];
        while let AdaptiveNext::Item { id } = live.next().clone() {
            let score = answer(&id, pattern);
            live.record(Event::score(id, score)).unwrap();
            announced.push(live.next().clone());
        }
        for (k, next) in announced.iter().enumerate() {
            let resumed = AdaptiveAdministration::replay(f.clone(), seed, &live.events()[..k]).unwrap();
            prop_assert_eq!(resumed.next(), next);
        }
        let resumed = AdaptiveAdministration::replay(f.clone(), seed, live.events()).unwrap();
        prop_assert_eq!(resumed.result(), live.result());
    }

    /// round(τ(θ)) never falls as θ rises and stays within 0 … raw max.
    #[test]
    fn raw_equivalent_is_monotone_and_in_range(mut thetas in prop::collection::vec(-30.0f64..30.0, 2..20)) {
        let f = form(20, "max_items = 10", &rasch_bank(20));
        thetas.sort_by(f64::total_cmp);
        let raws: Vec<u16> = thetas.iter().map(|&t| f.raw_equivalent(t)).collect();
        prop_assert!(raws.windows(2).all(|w| w[0] <= w[1]), "{raws:?}");
        prop_assert!(raws.iter().all(|&r| r <= 20));
    }

    /// Given the whole Rasch bank, the adaptive test equates to the number-correct score.
    #[test]
    fn full_length_rasch_equates_to_number_correct(pattern in any::<u64>(), n in 5usize..31) {
        let f = form(n, &format!("max_items = {n}"), &rasch_bank(n));
        let a = run(&f, 7, pattern);
        let r = a.result();
        prop_assert_eq!(r.items_administered, n);
        prop_assert_eq!(r.stop, Some(StopReason::MaxItems));
        let correct: u16 = a.administered().iter().map(|(_, s)| s).sum();
        prop_assert_eq!(r.status, Status::Ok);
        let tau = expected_score(f.engine().bank(), r.theta.unwrap());
        prop_assert!((tau - f64::from(correct)).abs() < 0.5, "τ = {tau}, r = {correct}");
        prop_assert_eq!(r.raw_equivalent, Some(correct));
    }
}

#[test]
fn scores_for_other_items_totals_and_overrides_are_refused() {
    let f = form(10, "max_items = 4", &rasch_bank(10));
    let mut a = AdaptiveAdministration::new(f.clone(), 1).unwrap();
    let AdaptiveNext::Item { id: pending } = a.next().clone() else {
        panic!("an item is pending")
    };
    let other = if pending == "rx01" { "rx02" } else { "rx01" };
    let before = a.events().to_vec();
    assert_eq!(
        a.record(Event::score(other, 1)),
        Err(AdministrationError::NotPending {
            expected: Some(pending.clone()),
            got: other.into()
        })
    );
    assert!(matches!(
        a.record(Event::override_score(&pending, 1, "the child asked")),
        Err(AdministrationError::AdaptiveOverride { .. })
    ));
    assert!(matches!(
        a.record(Event::total(3)),
        Err(AdministrationError::TotalNotAccepted { .. })
    ));
    assert!(matches!(
        a.record(Event::score("zz", 1)),
        Err(AdministrationError::UnknownItem { .. })
    ));
    assert!(matches!(
        a.record(Event::score(&pending, 2)),
        Err(AdministrationError::ScoreAboveMax { max: 1, .. })
    ));
    assert_eq!(a.events(), &before[..]);
    assert_eq!(a.next(), &AdaptiveNext::Item { id: pending.clone() });
    // A second score for an item already given is not pending either.
    a.record(Event::score(&pending, 1)).unwrap();
    assert!(matches!(
        a.record(Event::score(&pending, 0)),
        Err(AdministrationError::NotPending { .. })
    ));
    // After the end, nothing is pending.
    let done = run(&f, 1, 0);
    assert_eq!(
        done.next(),
        &AdaptiveNext::Done {
            reason: StopReason::MaxItems
        }
    );
    let mut done2 = done.clone();
    let unused = (1..=10)
        .map(|i| format!("rx{i:02}"))
        .find(|id| !done.administered().iter().any(|(g, _)| g == id))
        .unwrap();
    assert_eq!(
        done2.record(Event::score(&unused, 1)),
        Err(AdministrationError::NotPending {
            expected: None,
            got: unused
        })
    );
    // A log with a refused event names it on replay.
    let mut log = done.events().to_vec();
    log.insert(1, Event::score("zz", 0));
    assert!(matches!(
        AdaptiveAdministration::replay(f, 1, &log),
        Err(AdministrationError::Replay { index: 1, .. })
    ));
}

#[test]
fn the_se_target_ends_the_test_early() {
    let f = form(
        30,
        "min_items = 3, max_items = 30, se_target = 0.6",
        &rasch_bank(30),
    );
    let a = run(&f, 3, 0x5555_5555_5555_5555);
    let r = a.result();
    assert_eq!(r.stop, Some(StopReason::SeTarget));
    assert!(r.items_administered < 30 && r.items_administered >= 3);
    assert!(a.interim().se <= 0.6);
}

#[test]
fn the_form_refuses_a_bank_of_other_items() {
    let battery_bank = rasch_bank(10);
    let f = form(10, "max_items = 4", &battery_bank);
    let other = ItemBank::from_json(&rasch_bank(9)).unwrap();
    let e = AdaptiveForm::new(f.subtest(), &other).unwrap_err();
    assert_eq!(
        e.to_string(),
        "item 'rx10' of subtest 'rx' is missing from the bank"
    );
}
