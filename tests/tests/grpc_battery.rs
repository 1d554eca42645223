//! A whole battery administered through the real `qabilet serve`: every subtest of the demo
//! battery, item by item as GetNextItem directs, from a child whose answers follow a Guttman
//! pattern (every item before a per-subtest point earns its maximum, every later item 0).
//! Whatever the start point, reversal and discontinue rules do with such a child (as long as
//! a reversal finds its basal before the discontinue rule's run of zeros), applied correctly
//! they must credit exactly the items before that point — an expectation that needs no rule
//! engine. The adaptive subtest (mr) must land near the same point. The results must then be
//! the stateless Scoring service's for the same raw scores. Then the centre-wide session list (supervisor, researcher) and the
//! de-identified view of the results.

use std::collections::BTreeMap;

use qabilet_e2e::{Served, authed, child_with_session, create_token, runtime};
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::catalog_client::CatalogClient;
use qabilet_server::grpc::pb::scoring_client::ScoringClient;
use qabilet_server::grpc::pb::{
    Child, ChildScores, GetBatteryRequest, GetNextItemRequest, GetResultsRequest, ListSessionsRequest,
    RecordResponseRequest, ScoreProfileRequest, SessionActionRequest,
};

use qabilet_e2e::DEMO_BATTERY as BATTERY;

/// How many items (in battery order) the child passes, per item subtest: two below the
/// 8-year start point for `sim` (sim05), so the reversal rule must go back to a basal at sim02
/// (fewer than the discontinue rule's 3 zeros on the way, which would end the subtest
/// mid-reversal without credit below, as the rules say), near the start elsewhere, every
/// item on one; the speed subtests get a total.
fn passes(subtest: &str, items: usize) -> usize {
    match subtest {
        "sim" => 3,
        "voc" => items / 2,
        "inf" => items, // every item: the subtest ends at its last item
        "bd" => 5,
        "ds" => items * 2 / 3,
        _ => items / 3,
    }
}

#[test]
fn a_whole_battery_scores_as_its_raw_scores_say() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let supervisor = create_token(&served.db, "supervisor", "almaty-1", "sup-almaty");
    let other = create_token(&served.db, "supervisor", "astana-2", "sup-astana");
    let researcher = create_token(&served.db, "researcher", "almaty-1", "res-1");
    let admin = served.admin_token.clone().expect("admin token");
    runtime().block_on(async {
        let mut catalog = CatalogClient::connect(served.url.clone()).await.expect("connect");
        let battery = catalog
            .get_battery(authed(&admin, GetBatteryRequest { name: BATTERY.into() }))
            .await
            .expect("battery")
            .into_inner();
        let mut client = AssessmentClient::connect(served.url.clone())
            .await
            .expect("connect");
        let child = Child {
            code: "B-001".into(),
            birth_date: "2018-03-10".into(),
            sex: "M".into(),
            test_language: "ru".into(),
            ..Default::default()
        };
        let (_child, session) = child_with_session(&mut client, &psy, child, "2026-03-20", "b-001").await;
        let s = session.name.clone();

        let mut expected_raw = BTreeMap::new();
        let mut requests = 0;
        for subtest in &battery.subtests {
            let id = subtest.id.clone();
            if subtest.items.is_empty() {
                let total = subtest.raw_max / 2;
                client
                    .record_response(authed(
                        &psy,
                        RecordResponseRequest {
                            session: s.clone(),
                            subtest: id.clone(),
                            item: String::new(),
                            score: total,
                            override_reason: String::new(),
                            request_id: format!("{id}-total"),
                        },
                    ))
                    .await
                    .expect("speed total");
                expected_raw.insert(id, total);
                continue;
            }
            let pass = passes(&id, subtest.items.len());
            let position: BTreeMap<&str, usize> = subtest
                .items
                .iter()
                .enumerate()
                .map(|(i, it)| (it.id.as_str(), i))
                .collect();
            let mut administered = 0;
            let state = loop {
                let state = client
                    .get_next_item(authed(
                        &psy,
                        GetNextItemRequest {
                            session: s.clone(),
                            subtest: id.clone(),
                        },
                    ))
                    .await
                    .expect("next item")
                    .into_inner();
                if state.done {
                    break state;
                }
                let i = position[state.next_item.as_str()];
                let score = if i < pass { subtest.items[i].max } else { 0 };
                client
                    .record_response(authed(
                        &psy,
                        RecordResponseRequest {
                            session: s.clone(),
                            subtest: id.clone(),
                            item: state.next_item.clone(),
                            score,
                            override_reason: String::new(),
                            request_id: format!("{id}-{i}"),
                        },
                    ))
                    .await
                    .expect("record");
                administered += 1;
                requests += 1;
                assert!(
                    administered <= subtest.items.len(),
                    "{id}: more items than the subtest has"
                );
            };
            let guttman: u32 = subtest.items[..pass].iter().map(|it| it.max).sum();
            if state.adaptive {
                // An adaptive subtest (the demo's mr, Rasch items) stops by its own rules; its
                // raw score is the raw-score equivalent of θ̂, which for a Guttman child lies
                // near the number of items passed (the boundary the CAT homes in on).
                assert!(
                    ["max_items", "se_target", "bank_exhausted"].contains(&state.done_reason.as_str()),
                    "{id}: {state:?}"
                );
                assert!(
                    administered < subtest.items.len(),
                    "{id}: adaptive, not the whole form"
                );
                assert!(
                    state.raw_score.abs_diff(guttman) <= 2,
                    "{id}: {state:?}, Guttman {guttman}"
                );
                expected_raw.insert(id, state.raw_score);
                continue;
            }
            let reason = if pass == subtest.items.len() {
                "last_item"
            } else {
                "discontinued"
            };
            assert_eq!(state.done_reason, reason, "{id}: {state:?}");
            assert_eq!(state.raw_score, guttman, "{id}: the rules' raw score");
            if id == "sim" {
                assert_eq!(state.basal_item, "sim02", "sim: the reversal's basal");
            }
            expected_raw.insert(id, guttman);
        }
        assert!(requests > 60, "{requests} item responses");
        let finished = client
            .finish_session(authed(
                &psy,
                SessionActionRequest {
                    name: s.clone(),
                    request_id: "finish".into(),
                },
            ))
            .await
            .expect("finish")
            .into_inner();
        assert!(!finished.finish_time.is_empty());

        let results = client
            .get_results(authed(&psy, GetResultsRequest { session: s.clone() }))
            .await
            .expect("results")
            .into_inner();
        let raw: BTreeMap<String, u32> = results
            .subtests
            .iter()
            .map(|t| (t.subtest.clone(), t.raw))
            .collect();
        assert_eq!(raw, expected_raw);
        assert!(
            results.composites.iter().all(|c| c.computed),
            "{:?}",
            results.composites
        );
        assert!(!results.deidentified);

        // The stateless Scoring service, given the same raw scores, agrees on everything.
        let mut scoring = ScoringClient::connect(served.url.clone()).await.expect("connect");
        let stateless = scoring
            .score_profile(authed(
                &psy,
                ScoreProfileRequest {
                    battery: BATTERY.into(),
                    child: Some(ChildScores {
                        id: s.clone(),
                        birth_date: "2018-03-10".into(),
                        test_date: "2026-03-20".into(),
                        raw_scores: expected_raw.clone().into_iter().collect(),
                    }),
                    options: None,
                },
            ))
            .await
            .expect("score")
            .into_inner();
        let session_json: serde_json::Value = serde_json::from_str(&results.profile_json).expect("json");
        let stateless_json: serde_json::Value = serde_json::from_str(&stateless.profile_json).expect("json");
        for key in [
            "norm_set",
            "age",
            "subtests",
            "composites",
            "strengths_weaknesses",
            "discrepancies",
        ] {
            assert_eq!(session_json[key], stateless_json[key], "{key}");
        }

        // Without naming a child: the centre's supervisor sees the session, another centre's
        // does not, the researcher sees it with the test date's month only.
        let list = |token: &str| {
            let mut c = client.clone();
            let token = token.to_owned();
            async move {
                c.list_sessions(authed(&token, ListSessionsRequest::default()))
                    .await
                    .expect("list sessions")
                    .into_inner()
                    .sessions
            }
        };
        let seen = list(&supervisor).await;
        assert_eq!(
            seen.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            [s.as_str()]
        );
        assert_eq!(seen[0].test_date, "2026-03-20");
        assert!(list(&other).await.is_empty());
        assert_eq!(list(&psy).await.len(), 1);
        let seen = list(&researcher).await;
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].test_date, "2026-03");

        // The researcher's results: the same scores, no birth date, no day of the test or age.
        let deid = client
            .get_results(authed(&researcher, GetResultsRequest { session: s.clone() }))
            .await
            .expect("researcher results")
            .into_inner();
        assert!(deid.deidentified);
        assert_eq!(
            deid.age.as_ref().map(|a| (a.years, a.months, a.days)),
            Some((8, 0, 0))
        );
        let json: serde_json::Value = serde_json::from_str(&deid.profile_json).expect("json");
        assert_eq!(
            (
                json["birth_date"].as_str(),
                json["test_date"].as_str(),
                json["age"].as_str()
            ),
            (Some(""), Some("2026-03"), Some("8:0"))
        );
        assert_eq!(json["composites"], session_json["composites"]);
        assert!(!deid.profile_json.contains("2018-03-10") && !deid.profile_json.contains("2026-03-20"));
    });
}
