//! Adaptive-testing invariants for random banks, configurations and answers (proptest): no
//! item is ever selected twice or after being set aside; a session serialised and read back
//! continues with exactly the items it would have chosen in memory; interim θ agrees with
//! `EapGrid::estimate`; the engine's closed-form information agrees with `item_information`.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use qabilet_core::cat::{
    CatConfig, CatEngine, CatError, CatSession, ContentTargets, Exposure, Next, Selection, StopReason,
    StoppingRule,
};
use qabilet_core::irt::{EapGrid, EapScratch, ItemBank, ResponsePattern, item_information};

const AREAS: [&str; 3] = ["number", "space", "verbal"];

/// A mixed bank of `n` items from a fixed xorshift stream on `seed`, with content tags and
/// Sympson–Hetter parameters on some items.
fn bank(n: usize, seed: u64) -> ItemBank {
    let mut state = seed | 1;
    let mut u = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let items: Vec<String> = (0..n)
        .map(|i| {
            let a = 0.4 + 2.0 * u();
            let b = -2.5 + 5.0 * u();
            let model = match (u() * 5.0) as usize {
                0 => format!(r#""model":"rasch","b":{b}"#),
                1 => format!(r#""model":"3pl","a":{a},"b":{b},"c":{}"#, 0.25 * u()),
                2 => format!(r#""model":"gpcm","a":{a},"b":[{b},{}]"#, b + 1.0 - 2.0 * u()),
                3 => format!(r#""model":"grm","a":{a},"b":[{b},{}]"#, b + 0.1 + u()),
                _ => format!(r#""model":"2pl","a":{a},"b":{b}"#),
            };
            let sh = if u() < 0.5 {
                format!(r#","exposure":{{"sympson_hetter":{}}}"#, 0.2 + 0.8 * u())
            } else {
                String::new()
            };
            format!(r#"{{"id":"i{i}",{model},"content":"{}"{sh}}}"#, AREAS[i % 3])
        })
        .collect();
    ItemBank::from_json(&format!(r#"{{"items":[{}]}}"#, items.join(","))).expect("bank")
}

fn config() -> impl Strategy<Value = CatConfig> {
    let selection = prop_oneof![
        Just(Selection::Mfi),
        Just(Selection::Kl),
        (1usize..5).prop_map(|strata| Selection::AStratified { strata }),
    ];
    let exposure = prop_oneof![
        Just(Exposure::None),
        (1usize..6).prop_map(|n| Exposure::Randomesque { n }),
        Just(Exposure::SympsonHetter),
    ];
    let content = prop_oneof![
        Just(None),
        Just(Some(ContentTargets(BTreeMap::from([
            ("number".to_owned(), 0.5),
            ("space".to_owned(), 0.3),
            ("verbal".to_owned(), 0.2),
        ])))),
    ];
    let stopping =
        (0usize..8, 1usize..40, prop::option::of(0.2f64..0.6)).prop_map(|(min, extra, se)| StoppingRule {
            min_items: min,
            max_items: min.max(1) + extra,
            se_target: se,
        });
    (selection, exposure, content, stopping).prop_map(|(selection, exposure, content, stopping)| CatConfig {
        selection,
        exposure,
        content,
        stopping,
        ..CatConfig::default()
    })
}

/// Runs `session` to its end answering from `answers` (cycled), checking at each step that
/// the item is new; returns the items given.
fn run(
    engine: &CatEngine,
    session: &mut CatSession,
    answers: &[u8],
    seen: &mut HashSet<usize>,
) -> (Vec<usize>, StopReason) {
    let mut items = Vec::new();
    loop {
        match engine.next_item(session).expect("next") {
            Next::Stop(reason) => return (items, reason),
            Next::Item(item) => {
                assert!(seen.insert(item), "item {item} selected twice");
                assert!(!session.set_aside().contains(&item), "item {item} was set aside");
                assert_eq!(
                    engine.next_item(session).expect("again"),
                    Next::Item(item),
                    "pending item changes"
                );
                let max = engine.bank().items[item].model.max_category() as u32;
                let k = u32::from(answers[session.administered().len() % answers.len()]) % (max + 1);
                engine.record(session, k).expect("record");
                items.push(item);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn never_repeats_and_round_trips_exactly(
        n in 12usize..90,
        bank_seed in any::<u64>(),
        config in config(),
        seed in any::<u64>(),
        answers in proptest::collection::vec(0u8..4, 1..30),
        cut in 0usize..30,
        pending in any::<bool>(),
    ) {
        let bank = bank(n, bank_seed);
        let engine = CatEngine::new(&bank).expect("engine");
        let mut session = CatSession::new(&engine, config, seed).expect("session");
        // Play `cut` items, optionally leave one pending, then fork through JSON.
        let mut seen = HashSet::new();
        for _ in 0..cut {
            match engine.next_item(&mut session).expect("next") {
                Next::Stop(_) => break,
                Next::Item(item) => {
                    prop_assert!(seen.insert(item));
                    let max = bank.items[item].model.max_category() as u32;
                    let k = u32::from(answers[session.administered().len() % answers.len()]) % (max + 1);
                    engine.record(&mut session, k).expect("record");
                }
            }
        }
        if pending && let Next::Item(item) = engine.next_item(&mut session).expect("next") {
            prop_assert!(seen.insert(item));
            seen.remove(&item); // `run` re-checks it as the first item
        }
        let json = serde_json::to_string(&session).expect("serialise");
        let mut restored: CatSession = serde_json::from_str(&json).expect("deserialise");
        prop_assert_eq!(&restored, &session);
        prop_assert_eq!(serde_json::to_string(&restored).expect("again"), json);
        let mut seen_restored = seen.clone();
        let original = run(&engine, &mut session, &answers, &mut seen);
        let resumed = run(&engine, &mut restored, &answers, &mut seen_restored);
        prop_assert_eq!(&original, &resumed);
        prop_assert_eq!(&session, &restored);
        // Everything given or set aside is closed; the rest is open.
        let given: HashSet<usize> = session.administered().iter().map(|r| r.item).collect();
        prop_assert_eq!(given.len(), session.administered().len());
        for item in 0..n {
            let used = given.contains(&item) || session.set_aside().contains(&item);
            prop_assert_eq!(session.is_open(item), !used);
        }
        let stop = original.1;
        let rule = session.config().stopping;
        let len = session.administered().len();
        prop_assert!(len <= rule.max_items);
        match stop {
            StopReason::MaxItems => prop_assert_eq!(len, rule.max_items),
            StopReason::SeTarget => prop_assert!(len >= rule.min_items && session.interim().se <= rule.se_target.unwrap()),
            StopReason::BankExhausted => {}
        }
    }

    #[test]
    fn interim_matches_eap_grid(n in 5usize..40, bank_seed in any::<u64>(), seed in any::<u64>(), answers in proptest::collection::vec(0u8..4, 1..10)) {
        let bank = bank(n, bank_seed);
        let engine = CatEngine::new(&bank).expect("engine");
        let config = CatConfig { stopping: StoppingRule { min_items: 1, max_items: n, se_target: None }, ..CatConfig::default() };
        let mut session = CatSession::new(&engine, config, seed).expect("session");
        run(&engine, &mut session, &answers, &mut HashSet::new());
        let mut responses = vec![None; n];
        for r in session.administered() {
            responses[r.item] = Some(u32::from(r.response));
        }
        let pattern = ResponsePattern::new(&bank, responses).expect("pattern");
        let grid = EapGrid::new(&bank, 61, -6.0, 6.0).expect("grid");
        let eap = grid.estimate(&pattern, &mut EapScratch::default());
        let interim = engine.interim(session.administered());
        prop_assert!((eap.theta.unwrap() - interim.theta).abs() < 1e-9);
        prop_assert!((eap.se.unwrap() - interim.se).abs() < 1e-9);
        prop_assert_eq!(engine.final_estimate(&session), eap);
    }

    #[test]
    fn information_matches_irt(n in 1usize..30, bank_seed in any::<u64>(), theta in -7.0f64..7.0) {
        let bank = bank(n, bank_seed);
        let engine = CatEngine::new(&bank).expect("engine");
        for (i, item) in bank.items.iter().enumerate() {
            let (fast, slow) = (engine.information(i, theta), item_information(&item.model, theta));
            prop_assert!((fast - slow).abs() <= 1e-12 * slow.max(1e-300) + 1e-300, "{} vs {}", fast, slow);
        }
    }
}

#[test]
fn mfi_picks_the_most_informative_item_first() {
    let bank = ItemBank::from_json(
        r#"{"items":[
            {"id":"easy","model":"2pl","a":2.0,"b":-2.0},
            {"id":"mid","model":"2pl","a":1.5,"b":0.1},
            {"id":"flat","model":"2pl","a":0.5,"b":0.0}]}"#,
    )
    .unwrap();
    let engine = CatEngine::new(&bank).unwrap();
    let mut s = CatSession::new(&engine, CatConfig::default(), 1).unwrap();
    assert_eq!(engine.next_item(&mut s).unwrap(), Next::Item(1));
    engine.record(&mut s, 1).unwrap();
    assert!(s.interim().theta > 0.0);
    assert!(matches!(engine.record(&mut s, 1), Err(CatError::NoPendingItem)));
    let Next::Item(second) = engine.next_item(&mut s).unwrap() else {
        panic!()
    };
    assert!(matches!(engine.record(&mut s, 2), Err(CatError::Category { .. })));
    engine.record(&mut s, 0).unwrap();
    let Next::Item(third) = engine.next_item(&mut s).unwrap() else {
        panic!()
    };
    engine.record(&mut s, 0).unwrap();
    let mut all = vec![1, second, third];
    all.sort();
    assert_eq!(all, vec![0, 1, 2]);
    assert_eq!(
        engine.next_item(&mut s).unwrap(),
        Next::Stop(StopReason::BankExhausted)
    );
}

#[test]
fn configuration_errors() {
    let bank = bank(10, 7);
    let engine = CatEngine::new(&bank).unwrap();
    let with = |f: fn(&mut CatConfig)| {
        let mut c = CatConfig::default();
        f(&mut c);
        CatSession::new(&engine, c, 0).err()
    };
    assert!(matches!(
        with(|c| c.stopping.max_items = 0),
        Some(CatError::Length { .. })
    ));
    assert!(matches!(
        with(|c| c.stopping.se_target = Some(-1.0)),
        Some(CatError::SeTarget(_))
    ));
    assert!(matches!(
        with(|c| c.exposure = Exposure::Randomesque { n: 0 }),
        Some(CatError::Randomesque)
    ));
    assert!(matches!(
        with(|c| c.selection = Selection::AStratified { strata: 11 }),
        Some(CatError::Strata { .. })
    ));
    assert!(matches!(
        with(|c| c.content = Some(ContentTargets(BTreeMap::from([("music".to_owned(), 1.0)])))),
        Some(CatError::ContentArea(_))
    ));
    assert!(matches!(
        with(|c| c.content = Some(ContentTargets(BTreeMap::from([("number".to_owned(), 0.5)])))),
        Some(CatError::ContentSum(_))
    ));
    let plain = ItemBank::from_json(r#"{"items":[{"id":"x","model":"rasch","b":0}]}"#).unwrap();
    let plain = CatEngine::new(&plain).unwrap();
    let sh = CatConfig {
        exposure: Exposure::SympsonHetter,
        ..CatConfig::default()
    };
    assert!(matches!(
        CatSession::new(&plain, sh, 0),
        Err(CatError::NoSympsonHetter)
    ));
    // A session of another bank, and state that repeats an item.
    let s = CatSession::new(&engine, CatConfig::default(), 0).unwrap();
    let mut s2 = s.clone();
    assert!(matches!(
        plain.next_item(&mut s2),
        Err(CatError::BankMismatch { .. })
    ));
    let mut json: serde_json::Value = serde_json::to_value(&s).unwrap();
    json["set_aside"] = serde_json::json!([3, 3]);
    assert!(serde_json::from_value::<CatSession>(json.clone()).is_err());
    json["set_aside"] = serde_json::json!([3]);
    assert!(serde_json::from_value::<CatSession>(json.clone()).is_ok());
    json["config"]["selection"] = serde_json::json!({"method": "a_stratified", "strata": 0});
    assert!(serde_json::from_value::<CatSession>(json.clone()).is_err());
    json["config"]["selection"] = serde_json::json!({"method": "mfi"});
    json["config"]["stopping"]["max_items"] = serde_json::json!(0);
    assert!(serde_json::from_value::<CatSession>(json).is_err());
}
