//! Durability under a crash: clients submit responses to many sessions while the real server
//! is killed with SIGKILL; after a restart on the same SQLite file every acknowledged response
//! is in the log, every session replays under the rules, and the service carries on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qabilet_e2e::{Served, authed, child_with_session, create_token};
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::{Child, GetNextItemRequest, GetSessionRequest, RecordResponseRequest};

#[test]
fn acknowledged_responses_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = format!("sqlite://{}", dir.path().join("kill.db").display());
    let served = Served::start_with_db(&db, &[]);
    let token = create_token(&db, "psychologist", "almaty-1", "psy-kill");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    // (session name, request id) of every response the server acknowledged.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let url = served.url.clone();
    let sessions: Vec<String> = runtime.block_on(async {
        let mut client = AssessmentClient::connect(url.clone()).await.expect("connect");
        let mut sessions = Vec::new();
        for i in 0..8 {
            let child = Child {
                code: format!("K-{i}"),
                birth_date: "2017-05-01".into(),
                test_language: "ru".into(),
                ..Default::default()
            };
            let (_, session) = child_with_session(&mut client, &token, child, "2026-05-01", "").await;
            sessions.push(session.name);
        }
        sessions
    });
    // Eight examiners, each following the rules through every subtest with items until the
    // server dies (bounded: at most 400 responses each).
    let workers: Vec<_> = sessions
        .iter()
        .cloned()
        .enumerate()
        .map(|(w, session)| {
            let (url, token, acked) = (url.clone(), token.clone(), acked.clone());
            runtime.spawn(async move {
                let Ok(mut client) = AssessmentClient::connect(url).await else {
                    return;
                };
                let subtests = [
                    "sim", "voc", "inf", "mr", "fw", "bd", "vp", "qr", "ar", "ds", "ps",
                ];
                let mut n = 0;
                for subtest in subtests {
                    loop {
                        let next = match client
                            .get_next_item(authed(
                                &token,
                                GetNextItemRequest {
                                    session: session.clone(),
                                    subtest: subtest.into(),
                                },
                            ))
                            .await
                        {
                            Ok(r) => r.into_inner(),
                            Err(_) => return, // the server is gone
                        };
                        if next.done || n >= 400 {
                            break;
                        }
                        n += 1;
                        let id = format!("w{w}-{n}");
                        let score = u32::from((n + w) % 3 != 0); // mostly right, some zeros
                        let req = RecordResponseRequest {
                            session: session.clone(),
                            subtest: subtest.into(),
                            item: next.next_item,
                            score,
                            override_reason: String::new(),
                            request_id: id.clone(),
                        };
                        match client.record_response(authed(&token, req)).await {
                            Ok(_) => acked.lock().expect("lock").push((session.clone(), id)),
                            Err(_) => return,
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    served.kill();
    runtime.block_on(async {
        for w in workers {
            let _ = w.await;
        }
    });
    let acked = acked.lock().expect("lock").clone();
    eprintln!("{} responses acknowledged before SIGKILL", acked.len());
    assert!(
        acked.len() > 20,
        "the clients got {} responses in before the kill",
        acked.len()
    );

    // The log holds every acknowledged response.
    runtime.block_on(async {
        let store = qabilet_server::store::open_store(&db).await.expect("reopen");
        for session in &sessions {
            let id = session.strip_prefix("sessions/").expect("name");
            let log = store.responses(id).await.expect("responses");
            let ids: Vec<String> = log
                .iter()
                .filter_map(|r| r.request.as_ref().map(|k| k.request_id.clone()))
                .collect();
            for (_, rid) in acked.iter().filter(|(s, _)| s == session) {
                assert!(ids.contains(rid), "{session}: acknowledged {rid} is missing");
            }
            // Sequence numbers are gapless: nothing half-written.
            for (i, r) in log.iter().enumerate() {
                assert_eq!(r.seq, i as i64 + 1);
            }
        }
        store.close().await;
    });

    // A restarted server replays every session under the rules and accepts more responses.
    let restarted = Served::start_with_db(&db, &[]);
    runtime.block_on(async {
        let mut client = AssessmentClient::connect(restarted.url.clone())
            .await
            .expect("connect");
        for session in &sessions {
            let s = client
                .get_session(authed(
                    &token,
                    GetSessionRequest {
                        name: session.clone(),
                    },
                ))
                .await
                .expect("session replays after the crash")
                .into_inner();
            assert_eq!(s.subtests.len(), 13);
        }
    });
    drop(restarted);
}
