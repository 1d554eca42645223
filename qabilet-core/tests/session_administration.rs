//! A child's session on the demonstration battery (`SessionAdministration`): the age
//! computed once and checked against the battery, every subtest replayed from its part of
//! the log (fixed form or adaptive), the raw scores handed to scoring, the adaptive scores
//! attached to the scored profile, and typed errors that name the subtest and the event.
//! Expected scaled scores are looked up in `subtests.csv` by the test itself.

use std::sync::Arc;

use proptest::prelude::*;
use qabilet_core::administration::{
    AdministrationError, EndReason, Event, SessionAdministration, SessionError, SubtestPhase, SubtestState,
};
use qabilet_core::age::parse_date;
use qabilet_core::{AgeError, NormFiles, NormSet, ScoringOptions};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn demo() -> Arc<NormSet> {
    Arc::new(
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
        .expect("demo norms load"),
    )
}

/// The scaled score of `raw` on `subtest` at `months`, read from `subtests.csv` directly.
fn scaled_from_csv(subtest: &str, months: u16, raw: u16) -> i32 {
    let text = read("subtests.csv");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let n = |i: usize| f[i].parse::<u16>().unwrap();
        if f[0] == subtest && n(1) <= months && months <= n(2) && n(3) <= raw && raw <= n(4) {
            return f[5].parse().unwrap();
        }
    }
    panic!("no row for {subtest} at {months} months, raw {raw}")
}

const BIRTH: &str = "2016-06-03";
const TEST: &str = "2026-11-20";

fn session(events: Vec<Vec<Event>>) -> Result<SessionAdministration, SessionError> {
    SessionAdministration::replay(
        demo(),
        "sessions/r1",
        parse_date(BIRTH).unwrap(),
        parse_date(TEST).unwrap(),
        events,
    )
}

/// The R1 log: Similarities sim09 = 2, sim10 = 0, then reversal sim08 = sim07 = sim06 = 0.
fn r1_log() -> Vec<(&'static str, Event)> {
    [
        ("sim09", 2),
        ("sim10", 0),
        ("sim08", 0),
        ("sim07", 0),
        ("sim06", 0),
    ]
    .into_iter()
    .map(|(item, score)| ("sim", Event::score(item, score)))
    .collect()
}

/// Regression: the session of the R1 report (born 2016-06-03, tested 2026-11-20, 125 months)
/// scores Similarities with raw 2 — the points of sim09, given before the discontinue — and
/// the scaled score the norm table gives raw 2 at 125 months.
#[test]
fn the_r1_session_scores_similarities_with_the_credit_given_before_the_discontinue() {
    let norms = demo();
    let events = SessionAdministration::group_log(&norms, r1_log()).unwrap();
    let s = session(events).unwrap();
    assert_eq!(s.age().to_string(), "10:5:17");
    let sim = norms.battery.subtest_index("sim").unwrap();
    let state = s.subtest(sim).state();
    assert_eq!(state.done, Some(EndReason::Discontinued));
    assert_eq!(state.discontinued_after.as_deref(), Some("sim08"));
    assert_eq!(state.raw_score, 2);
    assert_eq!(state.items_administered, 5);
    assert_eq!((state.phase, state.next_item), (None, None));

    let request = s.score_request().unwrap();
    assert_eq!(request.raw[sim], Some(2));
    assert_eq!(request.raw.iter().flatten().count(), 1, "only sim was given");
    let scored = s
        .scored_profile("sessions/r1", ScoringOptions::default())
        .unwrap();
    assert_eq!(scored.raw.get("sim"), Some(2));
    let score = scored.subtest("sim").unwrap();
    assert_eq!((score.raw, score.scaled), (2, scaled_from_csv("sim", 125, 2)));
    assert_eq!(scored.birth_date.to_string(), BIRTH);
    assert_eq!(scored.test_date.to_string(), TEST);
    assert!(scored.adaptive.is_empty());
}

#[test]
fn every_subtest_starts_by_the_childs_age_and_the_states_follow_the_battery() {
    let norms = demo();
    let s = session(Vec::new()).unwrap();
    let states = s.states();
    assert_eq!(states.len(), norms.battery.subtests.len());
    for (state, subtest) in states.iter().zip(&norms.battery.subtests) {
        assert_eq!(state.subtest, subtest.id);
        assert_eq!(
            (state.raw_score, state.items_administered, state.done),
            (0, 0, None)
        );
        match (&subtest.adaptive, subtest.items.is_empty()) {
            (Some(_), _) => {
                assert_eq!(state.phase, Some(SubtestPhase::Adaptive));
                let a = state.adaptive.expect("adaptive estimate");
                assert_eq!((a.theta, a.se), (None, None));
                assert!(state.next_item.is_some(), "the engine names the first item");
            }
            (None, true) => assert_eq!(
                (state.phase, state.next_item.as_deref()),
                (Some(SubtestPhase::Total), None)
            ),
            (None, false) => {
                // 125 months: the last start point at or below the age (sim09, voc09, …).
                let start = subtest
                    .start_points
                    .iter()
                    .rev()
                    .find(|p| p.age_min_months <= 125)
                    .unwrap();
                assert_eq!(state.start_item.as_deref(), Some(start.item.as_str()));
                assert_eq!(state.next_item.as_deref(), Some(start.item.as_str()));
                assert_eq!(state.phase, Some(SubtestPhase::Forward));
            }
        }
    }
    assert_eq!(s.score_request(), Err(SessionError::NothingRecorded));
}

#[test]
fn the_age_is_checked_once_against_the_battery() {
    let young = SessionAdministration::start(
        demo(),
        "s",
        parse_date("2022-01-01").unwrap(),
        parse_date(TEST).unwrap(),
    );
    assert!(matches!(
        young,
        Err(SessionError::Age(AgeError::OutsideNorms { .. }))
    ));
    let before =
        SessionAdministration::start(demo(), "s", parse_date(TEST).unwrap(), parse_date(BIRTH).unwrap());
    assert!(matches!(
        before,
        Err(SessionError::Age(AgeError::TestBeforeBirth { .. }))
    ));
}

#[test]
fn a_log_that_does_not_replay_names_the_subtest_and_the_event() {
    let norms = demo();
    let mut log = r1_log();
    log.insert(1, ("voc", Event::score("voc01", 1)));
    let events = SessionAdministration::group_log(&norms, log).unwrap();
    let e = session(events).unwrap_err();
    assert_eq!(
        e,
        SessionError::Replay {
            subtest: "voc".into(),
            event: 0,
            error: AdministrationError::NotDue {
                expected: Some("voc09".into()),
                got: "voc01".into()
            }
        }
    );
    assert!(e.to_string().contains("'voc'") && e.to_string().contains("event 0"));

    let mut log = r1_log();
    log.push(("sim", Event::score("sim11", 2)));
    let events = SessionAdministration::group_log(&norms, log).unwrap();
    let e = session(events).unwrap_err();
    assert!(
        matches!(&e, SessionError::Replay { subtest, event: 5, .. } if subtest == "sim"),
        "{e}"
    );

    let unknown = SessionAdministration::group_log(&norms, [("xyz", Event::total(1))]);
    assert!(matches!(unknown, Err(SessionError::UnknownSubtest { subtest, .. }) if subtest == "xyz"));
    let too_many = session(vec![Vec::new(); norms.battery.subtests.len() + 1]);
    assert!(matches!(too_many, Err(SessionError::GroupCount { .. })));
}

/// The adaptive subtest (mr): θ̂ and SE behind its raw score are attached to the scored
/// profile with a note, and its raw score is the raw-score equivalent in its state.
#[test]
fn an_adaptive_subtest_carries_its_estimate_into_the_scored_profile() {
    let norms = demo();
    let mr = norms.battery.subtest_index("mr").unwrap();
    let mut s = session(Vec::new()).unwrap();
    for n in 0..8 {
        let id = s.subtest(mr).state().next_item.expect("pending item");
        s.record(mr, Event::score(id, u16::from(n % 2 == 0))).unwrap();
    }
    let state = s.subtest(mr).state();
    let estimate = state.adaptive.expect("adaptive");
    assert!(estimate.theta.is_some() && estimate.se.is_some());
    let scored = s.scored_profile("sessions/a", ScoringOptions::default()).unwrap();
    let [adaptive] = scored.adaptive.as_slice() else {
        panic!("{:?}", scored.adaptive)
    };
    assert_eq!(adaptive.subtest, "mr");
    assert_eq!(adaptive.items_administered, 8);
    assert_eq!(Some(adaptive.theta), estimate.theta);
    assert_eq!(scored.subtest("mr").unwrap().raw, state.raw_score);
    let notes = scored.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("mr was given adaptively (8 of 30 items, not finished)"),
        "{}",
        notes[0]
    );
    // The same log, replayed, gives the same session.
    let events = (0..norms.battery.subtests.len())
        .map(|i| s.subtest(i).events().to_vec())
        .collect();
    let replayed = session(events).unwrap();
    assert_eq!(replayed.states(), s.states());
    // The JSON of the profile carries the adaptive scores and reads back equal.
    let json = serde_json::to_string(&scored).unwrap();
    assert_eq!(
        qabilet_core::profile::ScoredProfile::from_json(&json).unwrap(),
        scored
    );
}

#[test]
fn a_state_round_trips_through_serde() {
    let norms = demo();
    let events = SessionAdministration::group_log(&norms, r1_log()).unwrap();
    for state in session(events).unwrap().states() {
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<SubtestState>(&json).unwrap(), state);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any interleaving of due responses across the subtests: recorded live or replayed from
    /// the log, the session is the same; the score request's raw score of each fixed-form
    /// subtest is its state's; nothing recorded means not administered.
    #[test]
    fn a_session_replays_to_what_was_recorded_live(
        steps in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..60),
    ) {
        let norms = demo();
        let mut live = session(Vec::new()).unwrap();
        let mut log = Vec::new();
        for (pick, byte) in steps {
            let index = pick.index(norms.battery.subtests.len());
            let subtest = &norms.battery.subtests[index];
            let state = live.subtest(index).state();
            let event = match (&state.next_item, state.phase) {
                (Some(item), _) => {
                    let max = subtest.items.iter().find(|i| &i.id == item).unwrap().max;
                    Event::score(item.clone(), u16::from(byte) % (max + 1))
                }
                (None, Some(SubtestPhase::Total)) => Event::total(u16::from(byte) % (subtest.raw_max + 1)),
                _ => continue,
            };
            live.record(index, event.clone()).unwrap();
            log.push((subtest.id.clone(), event));
        }
        let replayed = session(SessionAdministration::group_log(&norms, log).unwrap()).unwrap();
        prop_assert_eq!(replayed.states(), live.states());
        match live.score_request() {
            Err(SessionError::NothingRecorded) => {
                prop_assert!((0..norms.battery.subtests.len()).all(|i| live.subtest(i).events().is_empty()));
            }
            Err(e) => prop_assert!(false, "{}", e),
            Ok(request) => {
                for (i, raw) in request.raw.iter().enumerate() {
                    let sub = live.subtest(i);
                    if sub.events().is_empty() {
                        prop_assert_eq!(*raw, None);
                    } else if norms.adaptive[i].is_none() {
                        prop_assert_eq!(*raw, Some(sub.state().raw_score));
                    }
                }
            }
        }
    }
}
