//! The gRPC service end to end: the real `qabilet serve` on a free loopback port, driven
//! through the generated tonic client — catalog, scoring (one child and a streamed batch, the
//! same numbers as `qabilet score`), field violations for bad input, health, and a graceful
//! stop on SIGTERM.

use qabilet_e2e::{Served, qabilet, runtime};
use qabilet_server::grpc::pb::catalog_client::CatalogClient;
use qabilet_server::grpc::pb::scoring_client::ScoringClient;
use qabilet_server::grpc::pb::{
    BatchScoreRequest, ChildScores, GetBatteryRequest, ListBatteriesRequest, ScoreProfileRequest,
    batch_score_result,
};
use tonic::Code;
use tonic_types::StatusExt;

use qabilet_e2e::DEMO_BATTERY as BATTERY;

/// `message` with the bearer token of `served`'s admin.
fn authed<T>(served: &Served, message: T) -> tonic::Request<T> {
    let token = served
        .admin_token
        .as_deref()
        .expect("a new database prints an admin token");
    qabilet_e2e::authed(token, message)
}

/// Child 1 of examples/children.csv as the CLI reads it, and the CLI's JSON line for it.
fn first_example() -> (ChildScores, serde_json::Value) {
    let text = std::fs::read_to_string(qabilet_e2e::repo().join("examples/children.csv")).expect("read");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().expect("header").clone();
    let row = r.records().next().expect("a row").expect("record");
    let mut child = ChildScores::default();
    for (name, cell) in header.iter().zip(row.iter()) {
        match name {
            "id" => child.id = cell.to_owned(),
            "birth_date" => child.birth_date = cell.to_owned(),
            "test_date" => child.test_date = cell.to_owned(),
            _ if !cell.is_empty() => {
                child
                    .raw_scores
                    .insert(name.to_owned(), cell.parse().expect("raw"));
            }
            _ => {}
        }
    }
    let out = qabilet()
        .args([
            "score",
            "--battery",
            "norms/qabilet-primary-demo",
            "--input",
            "examples/children.csv",
            "--format",
            "json",
        ])
        .output()
        .expect("run score");
    let line = String::from_utf8(out.stdout).expect("utf-8");
    let json = serde_json::from_str(line.lines().next().expect("a line")).expect("json");
    (child, json)
}

#[test]
fn catalog_lists_and_describes_the_bundled_battery() {
    let served = Served::start(&[]);
    runtime().block_on(async {
        let mut catalog = CatalogClient::connect(served.url.clone()).await.expect("connect");
        let list = catalog
            .list_batteries(authed(&served, ListBatteriesRequest::default()))
            .await
            .expect("list")
            .into_inner();
        // The bundled batteries: the individual battery and the stage-1 screener.
        let names: Vec<&str> = list.batteries.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "batteries/qabilet-primary-demo",
                "batteries/qabilet-screener-demo"
            ]
        );
        assert!(list.next_page_token.is_empty());
        let b = catalog
            .get_battery(authed(&served, GetBatteryRequest { name: BATTERY.into() }))
            .await
            .expect("get")
            .into_inner();
        assert_eq!(b.subtests.len(), 13);
        assert_eq!(b.norm_status, "demonstration");
        let norm_set = b.norm_set.expect("norm set");
        assert!(
            norm_set.hash.starts_with("sha256:") && norm_set.notice.contains("not for clinical decisions")
        );
        let err = catalog
            .get_battery(authed(
                &served,
                GetBatteryRequest {
                    name: "batteries/nope".into(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = catalog
            .get_battery(authed(&served, GetBatteryRequest { name: "nope".into() }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(
            err.get_details_bad_request().expect("details").field_violations[0].field,
            "name"
        );
    });
}

#[test]
fn scoring_gives_the_numbers_of_the_command_line() {
    let served = Served::start(&[]);
    let (child, cli) = first_example();
    runtime().block_on(async {
        let mut scoring = ScoringClient::connect(served.url.clone()).await.expect("connect");
        let profile = scoring
            .score_profile(authed(
                &served,
                ScoreProfileRequest {
                    battery: BATTERY.into(),
                    child: Some(child.clone()),
                    options: None,
                },
            ))
            .await
            .expect("score")
            .into_inner();
        let json: serde_json::Value = serde_json::from_str(&profile.profile_json).expect("profile json");
        for key in [
            "norm_set",
            "age",
            "subtests",
            "composites",
            "strengths_weaknesses",
            "discrepancies",
            "notice",
        ] {
            assert_eq!(json[key], cli[key], "{key}");
        }
        let gac = profile
            .composites
            .iter()
            .find(|c| c.composite == "gac")
            .expect("gac");
        assert_eq!(
            i64::from(gac.index),
            cli["composites"][6]["value"]["index"].as_i64().expect("index")
        );
        assert!(profile.notice.contains("not for clinical decisions"));

        // Bad input: the field is named.
        let mut bad = child.clone();
        bad.raw_scores.insert("voc".into(), 999);
        let err = scoring
            .score_profile(authed(
                &served,
                ScoreProfileRequest {
                    battery: BATTERY.into(),
                    child: Some(bad),
                    options: None,
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let violations = err.get_details_bad_request().expect("details").field_violations;
        assert_eq!(violations[0].field, "child.raw_scores[voc]", "{violations:?}");
        let mut bad = child.clone();
        bad.birth_date = "2021-02-30".into();
        let err = scoring
            .score_profile(authed(
                &served,
                ScoreProfileRequest {
                    battery: BATTERY.into(),
                    child: Some(bad),
                    options: None,
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(
            err.get_details_bad_request().expect("details").field_violations[0].field,
            "child.birth_date"
        );
    });
}

#[test]
fn batch_scoring_streams_every_child_in_order() {
    let served = Served::start(&[]);
    let (child, _) = first_example();
    runtime().block_on(async {
        let mut scoring = ScoringClient::connect(served.url.clone()).await.expect("connect");
        let mut children: Vec<ChildScores> = (0..500)
            .map(|i| ChildScores {
                id: format!("c{i}"),
                ..child.clone()
            })
            .collect();
        children[7].test_date = "2035-01-01".into(); // 13 years old: outside the norms
        let mut stream = scoring
            .batch_score(authed(
                &served,
                BatchScoreRequest {
                    battery: BATTERY.into(),
                    children,
                    options: None,
                },
            ))
            .await
            .expect("batch")
            .into_inner();
        let mut n = 0u32;
        while let Some(result) = stream.message().await.expect("stream") {
            assert_eq!(result.index, n);
            assert_eq!(result.id, format!("c{n}"));
            match result.result.expect("result") {
                batch_score_result::Result::Profile(_) => assert_ne!(n, 7, "child 7 is outside the norms"),
                batch_score_result::Result::Error(e) => {
                    assert_eq!(n, 7);
                    assert!(e.starts_with("children[7].test_date"), "{e}");
                }
            }
            n += 1;
        }
        assert_eq!(n, 500);
    });
}

#[test]
fn health_reports_serving_and_sigterm_stops_cleanly() {
    let served = Served::start(&[]);
    runtime().block_on(async {
        let channel = tonic::transport::Channel::from_shared(served.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let reply = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "qabilet.v1.Scoring".into(),
            })
            .await
            .expect("check")
            .into_inner();
        assert_eq!(
            reply.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    });
    assert!(served.terminate().success());
}

/// Log lines written to a pipe (stderr is not a terminal) carry no colour codes.
#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    let served = Served::start(&[]);
    let log = &served.startup_log;
    assert!(log.iter().any(|l| l.contains("INFO")), "no log line in {log:?}");
    for line in log {
        assert!(!line.contains("\x1b["), "colour codes in {line:?}");
    }
}
