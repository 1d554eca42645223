//! Load generator for `qabilet serve`: N concurrent simulated examiners on loopback, each
//! creating a child, starting a session and scoring items as the rules ask (the state returned
//! by `RecordResponse` names the next item), for a bounded time. Reports acknowledged-durable
//! response submissions per second and their latency percentiles.
//!
//! ```text
//! qabilet serve --addr 127.0.0.1:50051 --db sqlite:///tmp/load.db &
//! TOKEN=$(qabilet token create --db sqlite:///tmp/load.db --role psychologist --centre c1 --subject load)
//! cargo run --release -p qabilet-server --example load -- --url http://127.0.0.1:50051 \
//!     --token $TOKEN --examiners 32 --seconds 10
//! ```
//! (tests/bench/load.sh does all three for SQLite and PostgreSQL.) Only loopback addresses
//! are accepted.

use std::time::{Duration, Instant};

use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::{Child, CreateChildRequest, RecordResponseRequest, StartSessionRequest};
use tonic::Request;

const SUBTESTS: [&str; 11] = [
    "sim", "voc", "inf", "mr", "fw", "bd", "vp", "qr", "ar", "ds", "ps",
];

struct Args {
    url: String,
    token: String,
    examiners: usize,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:50051".into(),
        token: String::new(),
        examiners: 32,
        seconds: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value,
            "--token" => a.token = value,
            "--examiners" => a.examiners = value.parse().expect("--examiners N"),
            "--seconds" => a.seconds = value.parse().expect("--seconds S"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        a.url.starts_with("http://127.0.0.1:")
            || a.url.starts_with("http://localhost:")
            || a.url.starts_with("http://[::1]:"),
        "load tests target loopback addresses only"
    );
    assert!(
        a.examiners > 0 && a.examiners <= 1024 && a.seconds > 0 && a.seconds <= 600,
        "bounded runs only"
    );
    a
}

fn authed<T>(token: &str, m: T) -> Request<T> {
    let mut r = Request::new(m);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    r
}

/// One examiner: sessions one after another until `deadline`; returns response latencies.
async fn examiner(
    url: String,
    token: String,
    id: usize,
    deadline: Instant,
) -> Result<Vec<Duration>, tonic::Status> {
    let mut client = AssessmentClient::connect(url)
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut latencies = Vec::new();
    let mut round = 0;
    while Instant::now() < deadline {
        round += 1;
        let child = Child {
            code: format!("L-{id}-{round}"),
            birth_date: "2017-09-15".into(),
            test_language: "kk".into(),
            ..Default::default()
        };
        let child = client
            .create_child(authed(
                &token,
                CreateChildRequest {
                    child: Some(child),
                    request_id: String::new(),
                },
            ))
            .await?
            .into_inner();
        let session = client
            .start_session(authed(
                &token,
                StartSessionRequest {
                    child: child.name,
                    battery: "batteries/qabilet-primary-demo".into(),
                    test_date: "2026-09-20".into(),
                    request_id: String::new(),
                },
            ))
            .await?
            .into_inner();
        let mut n = 0u32;
        for subtest in SUBTESTS {
            let mut next = session
                .subtests
                .iter()
                .find(|s| s.subtest == subtest)
                .map(|s| s.next_item.clone())
                .unwrap_or_default();
            while !next.is_empty() && Instant::now() < deadline {
                n += 1;
                let started = Instant::now();
                let state = client
                    .record_response(authed(
                        &token,
                        RecordResponseRequest {
                            session: session.name.clone(),
                            subtest: subtest.into(),
                            item: next.clone(),
                            score: u32::from(!(n + id as u32).is_multiple_of(4)),
                            override_reason: String::new(),
                            request_id: format!("{}-{n}", session.name),
                        },
                    ))
                    .await?
                    .into_inner();
                latencies.push(started.elapsed());
                next = if state.done {
                    String::new()
                } else {
                    state.next_item
                };
            }
        }
    }
    Ok(latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let a = args();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.seconds);
    let tasks: Vec<_> = (0..a.examiners)
        .map(|i| tokio::spawn(examiner(a.url.clone(), a.token.clone(), i, deadline)))
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(l) => all.extend(l),
            Err(e) => eprintln!("examiner failed: {e}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    println!(
        "{} examiners, {:.1} s: {} acknowledged responses, {:.0}/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        a.examiners,
        elapsed,
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.95).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}
