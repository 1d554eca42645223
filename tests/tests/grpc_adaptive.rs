//! Issue 5, part 2: "Adaptive subtests use the IRT issue's engine and resume exactly after a
//! restart." Matrix Reasoning (`mr`) of the demonstration battery is adaptive: the real
//! server administers it through GetNextItem/RecordResponse to a simulated child, is killed
//! (SIGKILL) midway and restarted on the same SQLite file, announces exactly the item it
//! announced before, and finishes with the θ̂ and raw-score equivalent a pure-library replay
//! of the same responses gives. Scores for a non-pending item and overrides are refused.

use std::sync::Arc;

use qabilet_core::administration::{AdaptiveAdministration, AdaptiveForm, Event, adaptive_seed};
use qabilet_core::battery::Battery;
use qabilet_core::irt::ItemBank;
use qabilet_e2e::{Served, authed, child_with_session, create_token, repo};
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::{
    Child, GetNextItemRequest, GetResultsRequest, RecordResponseRequest, SessionActionRequest, SubtestState,
};
use tonic::Code;
use tonic::transport::Channel;

/// The library's adaptive form of `mr`, from the committed files.
fn mr_form() -> Arc<AdaptiveForm> {
    let dir = repo().join("norms/qabilet-primary-demo");
    let battery = Battery::from_toml(&std::fs::read_to_string(dir.join("battery.toml")).unwrap()).unwrap();
    let mr = &battery.subtests[battery.subtest_index("mr").unwrap()];
    let bank = ItemBank::from_json(&std::fs::read_to_string(dir.join("items/mr.json")).unwrap()).unwrap();
    Arc::new(AdaptiveForm::new(mr, &bank).unwrap())
}

/// A simulated child of ability 0.7 on the bank's metric: right on item k (b_k) when
/// 0.7 − b_k exceeds a fixed jitter in [−1, 1] that depends on the item number only.
fn child_score(item: &str, form: &AdaptiveForm) -> u32 {
    let bank = form.engine().bank();
    let i = bank.position(item).expect("bank item");
    let b = match bank.items[i].model {
        qabilet_core::irt::ItemModel::Rasch { b } => b,
        _ => unreachable!("the demo bank is Rasch"),
    };
    let jitter = ((i * 37) % 21) as f64 / 10.0 - 1.0;
    u32::from(0.7 - b > jitter)
}

struct Examiner {
    client: AssessmentClient<Channel>,
    token: String,
    session: String,
}

impl Examiner {
    async fn next(&mut self) -> SubtestState {
        let req = GetNextItemRequest {
            session: self.session.clone(),
            subtest: "mr".into(),
        };
        self.client
            .get_next_item(authed(&self.token, req))
            .await
            .expect("next")
            .into_inner()
    }

    async fn record(
        &mut self,
        item: &str,
        score: u32,
        reason: &str,
        rid: &str,
    ) -> Result<SubtestState, tonic::Status> {
        let req = RecordResponseRequest {
            session: self.session.clone(),
            subtest: "mr".into(),
            item: item.into(),
            score,
            override_reason: reason.into(),
            request_id: rid.into(),
        };
        self.client
            .record_response(authed(&self.token, req))
            .await
            .map(|r| r.into_inner())
    }
}

/// Runs `f`; if it panics, kills the server first (a graceful stop would wait for the
/// client's connections, which the runtime keeps open) and then panics on.
fn or_kill<T>(served: &Served, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(panic) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &served.pid().to_string()])
                .status();
            std::panic::resume_unwind(panic)
        }
    }
}

#[test]
fn adaptive_mr_resumes_exactly_after_sigkill_and_scores_by_true_score_equating() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = format!("sqlite://{}", dir.path().join("adaptive.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let served = Served::start_with_db(&db, &[]);
    let token = create_token(&db, "psychologist", "almaty-1", "psy-cat");
    let form = mr_form();
    let mut given: Vec<(String, u32)> = Vec::new();

    // Before the restart: four items, a refused item out of turn, a refused override.
    let (session, announced) = or_kill(&served, || {
        rt.block_on(async {
            let mut client = AssessmentClient::connect(served.url.clone())
                .await
                .expect("connect");
            let child = Child {
                code: "K-CAT".into(),
                birth_date: "2017-05-01".into(),
                test_language: "kk".into(),
                ..Default::default()
            };
            let session = child_with_session(&mut client, &token, child, "2026-05-01", "")
                .await
                .1
                .name;
            let mut ex = Examiner {
                client,
                token: token.clone(),
                session: session.clone(),
            };
            let mut state = ex.next().await;
            assert!(
                state.adaptive && state.phase == "adaptive" && !state.done,
                "{state:?}"
            );
            assert_eq!((state.theta, state.start_item.as_str()), (None, ""));
            for n in 0..4 {
                let item = state.next_item.clone();
                let score = child_score(&item, &form);
                state = ex
                    .record(&item, score, "", &format!("r{n}"))
                    .await
                    .expect("recorded");
                given.push((item, score));
            }
            assert_eq!(state.items_administered, 4);
            assert!(
                state.theta.is_some() && state.theta_se.is_some() && state.estimator == "wle",
                "{state:?}"
            );
            let pending = state.next_item.clone();
            let other = (1..=30)
                .map(|k| format!("mr{k:02}"))
                .find(|id| *id != pending && !given.iter().any(|(g, _)| g == id))
                .unwrap();
            let refused = ex.record(&other, 1, "", "bad-1").await.expect_err("not pending");
            assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
            assert!(
                refused.message().contains(&format!("'{pending}' is")),
                "{}",
                refused.message()
            );
            let refused = ex
                .record(&pending, 1, "the child insisted", "bad-2")
                .await
                .expect_err("override");
            assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
            assert_eq!(ex.next().await, state, "refusals change nothing");
            (session, state)
        })
    });
    served.kill();

    // After the restart on the same database: the same item, a retried response applied
    // once, then the rest of the subtest.
    let served = Served::start_with_db(&db, &[]);
    let (finished, profile) = or_kill(&served, || {
        rt.block_on(async {
            let client = AssessmentClient::connect(served.url.clone())
                .await
                .expect("connect");
            let mut ex = Examiner {
                client,
                token: token.clone(),
                session: session.clone(),
            };
            let mut state = ex.next().await;
            assert_eq!(
                state, announced,
                "the state after the restart is the state before"
            );
            let (last_item, last_score) = given.last().cloned().unwrap();
            let retried = ex
                .record(&last_item, last_score, "", "r3")
                .await
                .expect("retry answered");
            assert_eq!(
                retried, announced,
                "a retry is answered from the log, not applied again"
            );
            let mut n = 4;
            while !state.done {
                let item = state.next_item.clone();
                let score = child_score(&item, &form);
                state = ex
                    .record(&item, score, "", &format!("r{n}"))
                    .await
                    .expect("recorded");
                given.push((item, score));
                n += 1;
            }
            ex.client
                .finish_session(authed(
                    &token,
                    SessionActionRequest {
                        name: session.clone(),
                        request_id: String::new(),
                    },
                ))
                .await
                .expect("finish");
            let profile = ex
                .client
                .get_results(authed(
                    &token,
                    GetResultsRequest {
                        session: session.clone(),
                    },
                ))
                .await
                .expect("results")
                .into_inner();
            (state, profile)
        })
    });
    // Closes the client's connections, so a failing check below can stop the server.
    drop(rt);

    // The pure library, replaying the same responses with the seed of (session, subtest).
    let id = session.strip_prefix("sessions/").unwrap();
    let events: Vec<Event> = given
        .iter()
        .map(|(i, s)| Event::score(i.clone(), *s as u16))
        .collect();
    let library =
        AdaptiveAdministration::replay(form.clone(), adaptive_seed(id, "mr"), &events).expect("replays");
    let expected = library.result();
    assert!(
        finished.done && ["max_items", "se_target"].contains(&finished.done_reason.as_str()),
        "{finished:?}"
    );
    assert_eq!(finished.done_reason, expected.stop.unwrap().to_string());
    assert_eq!(finished.items_administered as usize, given.len());
    assert!((5..=20).contains(&given.len()), "{} items", given.len());
    assert_eq!(finished.theta, expected.theta);
    assert_eq!(finished.theta_se, expected.se);
    assert_eq!(finished.raw_score, u32::from(expected.raw_equivalent.unwrap()));
    let mr = profile
        .subtests
        .iter()
        .find(|s| s.subtest == "mr")
        .expect("mr scored");
    assert_eq!(
        mr.raw, finished.raw_score,
        "the norms use the raw-score equivalent"
    );
    let adaptive = mr.adaptive.as_ref().expect("marked adaptive");
    assert_eq!(Some(adaptive.theta), expected.theta);
    assert_eq!(adaptive.bank_items, 30);
    assert!(
        profile
            .notes
            .iter()
            .any(|n| n.starts_with("mr was given adaptively") && n.contains("raw-score equivalent")),
        "{:?}",
        profile.notes
    );
}
