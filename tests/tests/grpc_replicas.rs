//! Several replicas on one PostgreSQL behave as one: the same due item scored at the same
//! moment through two servers with different request ids is recorded once — one call is
//! answered OK, the other refused — and the session stays readable through both.

use qabilet_e2e::{Served, create_token, runtime};
use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use sqlx::Connection;
use tonic::Code;
use tonic::transport::Channel;

/// The PostgreSQL server the tests use.
fn postgres_url() -> String {
    std::env::var("QABILET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema on the test server, dropped when this goes out of scope.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    async fn create() -> Schema {
        let url = postgres_url();
        let name = format!("e2e_replicas_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .expect("PostgreSQL at QABILET_TEST_POSTGRES_URL is required by this test");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        )))
        .execute(&mut conn)
        .await
        .expect("create schema");
        Schema { url, name }
    }

    /// The database URL of the schema (every connection's search_path set to it).
    fn db(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            runtime().block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {name} CASCADE"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

fn authed<T>(token: &str, m: T) -> tonic::Request<T> {
    qabilet_e2e::authed(token, m)
}

#[test]
fn two_replicas_score_the_same_item_once() {
    let schema = runtime().block_on(Schema::create());
    let db = schema.db();
    let first = Served::start_with_db(&db, &[]);
    let second = Served::start_with_db(&db, &[]);
    let psy = create_token(&db, "psychologist", "c1", "psy");
    runtime().block_on(async {
        let connect = |url: String| async move {
            AssessmentClient::new(
                Channel::from_shared(url)
                    .expect("url")
                    .connect()
                    .await
                    .expect("connect"),
            )
        };
        let mut a = connect(first.url.clone()).await;
        let mut b = connect(second.url.clone()).await;
        let child = pb::Child {
            code: "R-1".into(),
            birth_date: "2016-06-03".into(),
            test_language: "ru".into(),
            ..Default::default()
        };
        let (_, session) = qabilet_e2e::child_with_session(&mut a, &psy, child, "2026-11-20", "").await;
        let s = session.name;
        let mut rounds = 0;
        loop {
            let next = a
                .get_next_item(authed(
                    &psy,
                    pb::GetNextItemRequest {
                        session: s.clone(),
                        subtest: "voc".into(),
                    },
                ))
                .await
                .expect("next item through the first replica")
                .into_inner();
            if next.done {
                break;
            }
            let record = |id: String| {
                authed(
                    &psy,
                    pb::RecordResponseRequest {
                        session: s.clone(),
                        subtest: "voc".into(),
                        item: next.next_item.clone(),
                        score: 1,
                        override_reason: String::new(),
                        request_id: id,
                    },
                )
            };
            let (mut ca, mut cb) = (a.clone(), b.clone());
            let (x, y) = tokio::join!(
                ca.record_response(record(format!("a-{rounds}"))),
                cb.record_response(record(format!("b-{rounds}")))
            );
            let codes = [x.map(|_| Code::Ok), y.map(|_| Code::Ok)].map(|r| r.unwrap_or_else(|s| s.code()));
            assert!(
                codes.contains(&Code::Ok) && codes.contains(&Code::FailedPrecondition),
                "round {rounds}, item {}: {codes:?}",
                next.next_item
            );
            for client in [&mut a, &mut b] {
                let state = client
                    .get_session(authed(&psy, pb::GetSessionRequest { name: s.clone() }))
                    .await
                    .expect("the session reads through both replicas")
                    .into_inner();
                let voc = state.subtests.iter().find(|t| t.subtest == "voc").expect("voc");
                assert_eq!(voc.items_administered as usize, rounds + 1, "round {rounds}");
            }
            rounds += 1;
            assert!(rounds < 40, "the subtest never ended");
        }
        assert!(rounds >= 5, "only {rounds} rounds");
        b.get_results(authed(&psy, pb::GetResultsRequest { session: s.clone() }))
            .await
            .expect("results through the second replica");
        b.finish_session(authed(
            &psy,
            pb::SessionActionRequest {
                name: s.clone(),
                request_id: "finish".into(),
            },
        ))
        .await
        .expect("finish");
    });
    drop((first, second));
}
