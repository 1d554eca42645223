//! The child's screener page over HTTP as a tablet sends it (the page's own script is driven
//! by the browser test): tickets from a roster sign a device in, one device per ticket, the
//! answers are recorded once each even when sent twice, the server restarts in the middle
//! without losing an acknowledged answer, and the organiser reads the normed screening
//! result over gRPC. Each refusal the page must show is checked.

use qabilet_e2e::http::Browser;
use qabilet_e2e::{Served, authed, create_token, runtime};
use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::screening_client::ScreeningClient;
use serde_json::Value;

const SCREENER: &str = "batteries/qabilet-screener-demo";

/// A copy of the screener whose matrices and series take `seconds` each (paper folding keeps
/// its limit), in a norms folder of its own.
fn short_screener(dir: &std::path::Path, seconds: u32) -> std::path::PathBuf {
    let from = qabilet_e2e::repo().join("norms/qabilet-screener-demo");
    let to = dir.join("norms/qabilet-screener-demo");
    copy_dir(&from, &to);
    for subtest in ["fm", "qs"] {
        let file = to.join(format!("content/{subtest}.toml"));
        let text = std::fs::read_to_string(&file).expect("content");
        let limited: String = text
            .lines()
            .map(|l| {
                if l.starts_with("time_limit_seconds") {
                    format!("time_limit_seconds = {seconds}")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&file, limited + "\n").expect("write content");
    }
    dir.join("norms")
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

/// A cohort of the screener with two children; their tickets in roster order.
fn cohort_with_tickets(served: &Served, token: &str) -> (String, Vec<String>) {
    runtime().block_on(async {
        let mut s = ScreeningClient::connect(served.url.clone())
            .await
            .expect("connect");
        let cohort = s
            .create_cohort(authed(
                token,
                pb::CreateCohortRequest {
                    cohort: Some(pb::Cohort {
                        display_name: "School 12, grade 2".into(),
                        region: "Almaty".into(),
                        district: "Bostandyq".into(),
                        institution: "School 12".into(),
                        institution_kind: "boarding".into(),
                        locality: "rural".into(),
                        grade: 2,
                        language: "kk".into(),
                        battery: SCREENER.into(),
                        starts_on: "2026-09-01".into(),
                        ends_on: "2099-12-31".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("create cohort")
            .into_inner();
        s.import_roster(authed(
            token,
            pb::ImportRosterRequest {
                cohort: cohort.name.clone(),
                csv:
                    b"code,birth_date,sex,language,class\nK001,2018-05-14,F,kk,2A\nK002,2018-09-02,M,ru,2A\n"
                        .to_vec(),
            },
        ))
        .await
        .expect("import");
        let tickets = s
            .issue_tickets(authed(
                token,
                pb::IssueTicketsRequest {
                    cohort: cohort.name.clone(),
                    class: String::new(),
                },
            ))
            .await
            .expect("tickets")
            .into_inner()
            .tickets;
        (cohort.name, tickets.into_iter().map(|t| t.ticket).collect())
    })
}

fn json(answer: &qabilet_e2e::http::Answer) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.text()))
}

fn state(browser: &mut Browser) -> Value {
    let a = browser.get("/take/api/state");
    assert_eq!(a.status, 200, "{}", a.text());
    json(&a)
}

/// Answers the due item with `choice` under `request_id`.
fn answer(browser: &mut Browser, s: &Value, choice: usize, request_id: &str) -> qabilet_e2e::http::Answer {
    let body = serde_json::json!({
        "request_id": request_id,
        "subtest": s["subtest"]["id"],
        "item": s["item"]["id"],
        "choice": choice,
    });
    browser.post_json("/take/api/answer", &body.to_string())
}

fn signed_in(served: &Served, ticket: &str) -> Browser {
    let mut b = Browser::new(&served.console_url);
    let a = b.post("/take", &[("ticket", ticket)]);
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!(a.location(), "/take/test");
    let cookie = a
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("qabilet_take="))
        .map(|(_, v)| v.clone())
        .expect("the device cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/take"),
        "{cookie}"
    );
    b
}

#[test]
fn a_child_takes_the_screener_through_a_restart_and_the_result_is_normed() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = format!("sqlite://{}", dir.path().join("q.db").display());
    let served = Served::start_with_db(&db, &[]);
    let psy = create_token(&db, "psychologist", "almaty-1", "psy-aliya");
    let (_, tickets) = cohort_with_tickets(&served, &psy);

    // The QR code's address fills the form in.
    let mut tablet = Browser::new(&served.console_url);
    let form = tablet.get(&format!("/take?ticket={}", tickets[0]));
    assert_eq!(form.status, 200);
    assert!(
        form.text().contains(&format!("value=\"{}\"", tickets[0])),
        "{}",
        form.text()
    );
    let mut tablet = signed_in(&served, &tickets[0]);
    let page = tablet.get("/take/test");
    assert!(page.text().contains("/take/take.js"));

    let first = state(&mut tablet);
    assert_eq!(first["status"], "item");
    assert_eq!(first["subtest"]["id"], "fm");
    assert!(
        first["item"].get("key").is_none(),
        "a scored item's key never leaves the server"
    );
    assert!(
        first["subtest"]["practice"][0].get("key").is_some(),
        "practice items carry theirs"
    );
    let planned = first["planned"].as_u64().expect("planned");

    // A picture of the screener for the signed-in device; nothing for anyone else, nothing
    // outside the item content.
    let stimulus = first["item"]["stimulus"].as_str().expect("stimulus").to_owned();
    let picture = tablet.get(&stimulus);
    assert_eq!(picture.status, 200);
    assert_eq!(picture.header("content-type"), Some("image/svg+xml"));
    assert_eq!(Browser::new(&served.console_url).get(&stimulus).status, 403);
    for path in [
        "/take/content/qabilet-screener-demo/battery.toml",
        "/take/content/qabilet-screener-demo/../qabilet-primary-demo/battery.toml",
        "/take/content/qabilet-primary-demo/content/fm/fm01.svg",
    ] {
        assert_eq!(tablet.get(path).status, 404, "{path}");
    }

    // An answer sent twice (the page retrying after a lost reply) is recorded once.
    let a = answer(&mut tablet, &first, 0, "answer-1");
    assert_eq!(a.status, 200, "{}", a.text());
    let after_one = json(&a);
    assert_eq!(after_one["answered"], 1);
    let again = answer(&mut tablet, &first, 0, "answer-1");
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(json(&again)["answered"], 1, "the retry repeats nothing");
    // The same item answered again under a new key: it is no longer due.
    assert_eq!(answer(&mut tablet, &first, 1, "answer-1b").status, 409);
    // The page cannot send a score, nor an option the item lacks.
    let forged = serde_json::json!({
        "request_id": "forged", "subtest": after_one["subtest"]["id"], "item": after_one["item"]["id"],
        "choice": 0, "score": 1,
    });
    assert_eq!(
        tablet.post_json("/take/api/answer", &forged.to_string()).status,
        400
    );
    assert_eq!(answer(&mut tablet, &after_one, 99, "answer-99").status, 400);
    let padded = format!(
        r#"{{"request_id":"{}","subtest":"fm","item":"fm01","choice":0}}"#,
        "x".repeat(8192)
    );
    assert_eq!(
        tablet.post_json("/take/api/answer", &padded).status,
        413,
        "a body over 1 KiB is not read"
    );

    // Another device with the same ticket is refused, and sees why.
    let mut other = Browser::new(&served.console_url);
    let refused = other.post("/take", &[("ticket", &tickets[0])]);
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("другом устройстве"), "{}", refused.text());
    assert_eq!(other.get("/take/api/state").status, 403);
    // Unknown and malformed tickets get their page, never a test.
    let unknown = other.post("/take", &[("ticket", "00000-00000")]);
    assert_eq!(unknown.status, 403);
    assert!(unknown.text().contains("не найден"), "{}", unknown.text());
    assert_eq!(other.post("/take", &[("ticket", "<script>")]).status, 403);

    // Half way: answers until 20 are acknowledged, then the server stops.
    let mut s = after_one;
    let mut n = 1;
    while n < 20 {
        let a = answer(&mut tablet, &s, n % 4, &format!("answer-{}", n + 1));
        assert_eq!(a.status, 200, "{}", a.text());
        s = json(&a);
        n += 1;
    }
    assert_eq!(s["answered"], 20);
    drop(served);
    let served = Served::start_with_db(&db, &[]);
    tablet.host = served.console_url.trim_start_matches("http://").to_owned();
    let s_after = state(&mut tablet);
    assert_eq!(
        s_after["answered"], 20,
        "every acknowledged answer survived the restart"
    );
    assert_eq!(s_after["item"], s["item"]);

    // To the end.
    let mut s = s_after;
    while s["status"] == "item" {
        n += 1;
        let a = answer(&mut tablet, &s, n % 3, &format!("answer-{n}"));
        assert_eq!(a.status, 200, "{}", a.text());
        s = json(&a);
    }
    assert_eq!(s["status"], "done");
    assert!(s["answered"].as_u64().unwrap() <= planned);
    // The finished ticket on another device: used.
    let used = Browser::new(&served.console_url).post("/take", &[("ticket", &tickets[0])]);
    assert_eq!(used.status, 403);
    assert!(used.text().contains("использован"), "{}", used.text());
    let session = format!("sessions/{}", s["session"].as_str().expect("session"));

    // The organiser reads the normed screening result over gRPC.
    let profile = runtime().block_on(async {
        let mut a = AssessmentClient::connect(served.url.clone())
            .await
            .expect("connect");
        a.get_results(authed(&psy, pb::GetResultsRequest { session }))
            .await
            .expect("results")
            .into_inner()
    });
    let si = profile
        .composites
        .iter()
        .find(|c| c.composite == "si")
        .expect("the screening index");
    assert!(si.computed, "{si:?}");
    assert!((40..=160).contains(&si.index), "{si:?}");
    let ci = si.ci.as_ref().expect("interval");
    assert!(
        f64::from(ci.low) <= f64::from(si.index) && f64::from(si.index) <= f64::from(ci.high),
        "{si:?}"
    );
    assert!(!profile.notice.is_empty(), "demonstration norms say so");
}

#[test]
fn a_replaced_ticket_and_a_shared_tablet() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let (cohort, tickets) = cohort_with_tickets(&served, &psy);
    // The first child signs in on the class's tablet; the second child's ticket is reprinted
    // (the earlier one replaced) and used on the same tablet afterwards.
    let mut tablet = signed_in(&served, &tickets[0]);
    let first_session = state(&mut tablet)["session"].clone();
    let reprinted = runtime().block_on(async {
        let mut s = ScreeningClient::connect(served.url.clone())
            .await
            .expect("connect");
        s.issue_tickets(authed(
            &psy,
            pb::IssueTicketsRequest {
                cohort,
                class: String::new(),
            },
        ))
        .await
        .expect("tickets")
        .into_inner()
        .tickets
    });
    assert_eq!(reprinted.len(), 1, "a child who signed in keeps their ticket");
    let replaced = tablet.post("/take", &[("ticket", &tickets[1])]);
    assert_eq!(replaced.status, 403);
    assert!(
        replaced.text().contains("ауыстырылды"),
        "in the first child's language: {}",
        replaced.text()
    );
    let mut tablet = signed_in(&served, &reprinted[0].ticket);
    let second = state(&mut tablet);
    assert_ne!(
        second["session"], first_session,
        "the tablet now answers for the second child"
    );
}

#[test]
fn a_subtest_ends_when_its_time_is_up_and_the_proctor_gives_more() {
    let dir = tempfile::tempdir().expect("tmp");
    let served = Served::start_with_norms(&short_screener(dir.path(), 2));
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let (cohort, tickets) = cohort_with_tickets(&served, &psy);
    let mut tablet = signed_in(&served, &tickets[0]);
    let first = state(&mut tablet);
    assert_eq!(first["subtest"]["id"], "fm");
    assert!(
        first.get("time_left_ms").is_none(),
        "the clock starts after the practice items"
    );
    // Starting another subtest than the current one is refused.
    let wrong = tablet.post_json("/take/api/start", r#"{"subtest":"qs"}"#);
    assert_eq!(wrong.status, 409, "{}", wrong.text());
    let started = tablet.post_json("/take/api/start", r#"{"subtest":"fm"}"#);
    assert_eq!(started.status, 200, "{}", started.text());
    let left = json(&started)["time_left_ms"].as_i64().expect("time left");
    assert!(left > 0 && left <= 2000, "{left}");
    let a = answer(&mut tablet, &first, 0, "fm-1");
    assert_eq!(a.status, 200, "{}", a.text());
    let on_fm = json(&a);
    std::thread::sleep(std::time::Duration::from_millis(2300));
    // Time is up: an answer to the matrices is not taken, and the series come next.
    assert_eq!(answer(&mut tablet, &on_fm, 0, "fm-late").status, 409);
    let next = state(&mut tablet);
    assert_eq!(next["subtest"]["id"], "qs", "{next}");
    assert_eq!(next["answered"], 1);
    let started = tablet.post_json("/take/api/start", r#"{"subtest":"qs"}"#);
    assert_eq!(started.status, 200, "{}", started.text());

    // The proctor gives five more minutes; the clock shows them.
    let mut proctor = Browser::new(&served.console_url);
    proctor.sign_in(&psy);
    let id = cohort.trim_start_matches("cohorts/");
    let extended = proctor.post(&format!("/cohorts/{id}/extend"), &[("code", "K001")]);
    assert_eq!(extended.status, 303, "{}", extended.text());
    let more = state(&mut tablet);
    assert_eq!(more["subtest"]["id"], "qs");
    let left = more["time_left_ms"].as_i64().expect("time left");
    assert!(left > 300_000 - 5_000 && left <= 302_000, "{left}");
    // A class label is a query value on the proctor screen's forms, encoded.
    let page = proctor.get(&format!("/cohorts/{id}?class=%26B"));
    assert!(
        page.text()
            .contains(&format!("action=\"/cohorts/{id}/pause?class=%26B\"")),
        "{}",
        page.text()
    );
    // Another psychologist of the centre cannot give time to this cohort's children.
    let colleague = create_token(&served.db, "psychologist", "almaty-1", "psy-bolat");
    let mut other = Browser::new(&served.console_url);
    other.sign_in(&colleague);
    assert_eq!(
        other
            .post(&format!("/cohorts/{id}/extend"), &[("code", "K001")])
            .status,
        403
    );
}
