//! Stage-1 screening in a real browser (headless Chromium through ChromeDriver), end to end:
//! the organiser imports a class's roster from a CSV file on the console and prints the
//! tickets; a child opens the ticket's address on a tablet, watches the worked example, does
//! the practice items, and answers the whole screener by clicks and keys; the proctor screen
//! shows the child start, paused and resumed; the server restarts while the child's answer
//! is on its way (the page keeps it and sends it when the server is back); the result is read
//! over gRPC and in the cohort's CSV export. Screenshots go to `target/screenshots/screening/`.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use qabilet_e2e::browser::{Driver, css, press, text, wait_for_path, wait_for_script};
use qabilet_e2e::{Served, authed, create_token, runtime};
use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::screening_client::ScreeningClient;

async fn shot(c: &Client, name: &str) {
    qabilet_e2e::browser::shot(c, "screening", name).await;
}

/// A free loopback address for the console (kept across the restart).
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("addr").to_string()
}

/// The JSON state of the child's page, read by the page's own origin.
async fn page_state(c: &Client) -> serde_json::Value {
    c.execute("return fetch('/take/api/state').then(r => r.json());", vec![])
        .await
        .expect("state")
}

/// Waits until `selector` is on the page (up to `secs`).
async fn wait_for(c: &Client, selector: &str, secs: u64) {
    let start = Instant::now();
    while c.find(Locator::Css(selector)).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{selector} did not appear"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `data-item` of the item on screen, once one is.
async fn item_on_screen(c: &Client) -> String {
    wait_for(c, "#item", 20).await;
    css(c, "#item")
        .await
        .attr("data-item")
        .await
        .expect("attr")
        .unwrap_or_default()
}

/// Waits (up to 20 s) until the item on screen differs from `before` or the test is done.
async fn next_screen(c: &Client, before: &str) {
    let start = Instant::now();
    loop {
        let moved = c
            .execute(
                "const i = document.getElementById('item'); \
                 return !!document.getElementById('done') || !!document.getElementById('example') \
                 || (!!i && i.getAttribute('data-item') !== arguments[0]);",
                vec![before.into()],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if moved {
            return;
        }
        if start.elapsed() > Duration::from_secs(20) {
            shot(c, "failed-next-item").await;
            let html = c.source().await.unwrap_or_default();
            panic!("no next item after {before}: {html}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The child's row on the proctor screen: its `data-status`, after a reload.
async fn proctor_status(c: &Client, cohort_page: &str, code: &str) -> String {
    c.goto(cohort_page).await.expect("proctor screen");
    css(c, &format!("tr[data-code='{code}']"))
        .await
        .attr("data-status")
        .await
        .expect("attr")
        .unwrap_or_default()
}

#[test]
fn a_class_is_screened_in_the_browser_through_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = format!("sqlite://{}", dir.path().join("q.db").display());
    let console_addr = free_addr();
    let served = Served::start_with_db_at(&db, &console_addr);
    let console = served.console_url.clone();
    let psy = create_token(&db, "psychologist", "almaty-1", "psy-aliya");
    let cohort = runtime().block_on(async {
        let mut s = ScreeningClient::connect(served.url.clone())
            .await
            .expect("connect");
        s.create_cohort(authed(
            &psy,
            pb::CreateCohortRequest {
                cohort: Some(pb::Cohort {
                    display_name: "Boarding school 3, grade 3".into(),
                    region: "Turkistan".into(),
                    district: "Sairam".into(),
                    institution: "Boarding school 3".into(),
                    institution_kind: "boarding".into(),
                    locality: "rural".into(),
                    grade: 3,
                    language: "kk".into(),
                    battery: "batteries/qabilet-screener-demo".into(),
                    starts_on: "2026-09-01".into(),
                    ends_on: "2099-12-31".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("cohort")
        .into_inner()
    });
    let cohort_id = cohort.name.trim_start_matches("cohorts/").to_owned();
    let cohort_page = format!("{console}/cohorts/{cohort_id}");
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "code,given_name,family_name,birth_date,sex,language,class\n\
         T-001,Айгерим,Сейітова,2017-04-02,F,kk,3Ә\nT-002,Данияр,,2017-10-20,M,kk,3Ә\n",
    )
    .expect("roster file");

    let driver = Driver::start();
    let mut served = Some(served);
    runtime().block_on(async {
        // The organiser: sign in, open the cohort, import the roster file, print the tickets.
        let org = driver.browser().await;
        org.goto(&console).await.expect("console");
        css(&org, "input[name='token']").await.send_keys(&psy).await.expect("token");
        css(&org, "form[action='/sign-in'] button").await.click().await.expect("sign in");
        wait_for_path(&org, "signed in", |p| p.starts_with("/children")).await;
        org.goto(&format!("{console}/cohorts")).await.expect("cohorts");
        css(&org, &format!("a[href='/cohorts/{cohort_id}']")).await.click().await.expect("open");
        wait_for_path(&org, "the cohort", |p| p == format!("/cohorts/{cohort_id}")).await;
        css(&org, "details summary").await.click().await.expect("open the roster form");
        css(&org, "#roster-file")
            .await
            .send_keys(&roster.display().to_string())
            .await
            .expect("choose the roster file");
        wait_for_script(
            &org,
            "the file read into the form",
            "return document.getElementById('roster-csv').value.includes('T-002');",
            vec![],
        )
        .await;
        css(&org, "#roster-import").await.click().await.expect("import");
        wait_for_script(&org, "the imported roster", "return !!document.querySelector(\"tr[data-code='T-002']\");", vec![])
            .await;
        assert_eq!(proctor_status(&org, &cohort_page, "T-001").await, "not_started");
        shot(&org, "01-proctor-before").await;
        css(&org, "#tickets-html").await.click().await.expect("print tickets");
        wait_for(&org, "#tickets", 10).await;
        shot(&org, "02-tickets").await;
        let ticket = text(&org, ".ticket-card[data-code='T-001'] .ticket").await;
        assert_eq!(ticket.len(), 11, "{ticket}");
        assert!(
            org.find(Locator::Css(".ticket-card[data-code='T-001'] svg rect")).await.is_ok(),
            "a QR code on the card"
        );

        // The child: the card's address, the ticket form filled in, start.
        let child = driver.browser().await;
        child.goto(&format!("{console}/take?ticket={ticket}")).await.expect("take");
        shot(&child, "03-ticket").await;
        css(&child, "button.go").await.click().await.expect("start");
        wait_for_path(&child, "the screener", |p| p == "/take/test").await;
        wait_for(&child, "#example", 10).await;
        shot(&child, "04-example").await;

        // The proctor sees the child start.
        assert_eq!(proctor_status(&org, &cohort_page, "T-001").await, "in_progress");

        let mut answered_by_keys = 0;
        let mut answered_by_clicks = 0;
        let mut restarted = false;
        let mut paused_once = false;
        let mut shot_item = false;
        loop {
            // A subtest's worked example and practice items (the wrong option first: the page
            // shakes it and waits for the right one).
            if child.find(Locator::Css("#example")).await.is_ok() {
                css(&child, "#example-next").await.click().await.expect("after the example");
                while child.find(Locator::Css("#practice")).await.is_ok() {
                    let key = child
                        .execute(
                            "return fetch('/take/api/state').then(r => r.json()).then(s => \
                             s.subtest.practice.find(p => document.querySelector('.stimulus img').src.endsWith(p.stimulus)).key);",
                            vec![],
                        )
                        .await
                        .expect("practice key")
                        .as_u64()
                        .expect("a key") as usize;
                    let wrong = if key == 0 { 1 } else { 0 };
                    css(&child, &format!(".option[data-choice='{wrong}']")).await.click().await.expect("wrong");
                    wait_for(&child, ".option.wrong", 5).await;
                    css(&child, &format!(".option[data-choice='{key}']")).await.click().await.expect("right");
                    wait_for(&child, ".option.right", 5).await;
                    tokio::time::sleep(Duration::from_millis(900)).await;
                }
            }
            if child.find(Locator::Css("#done")).await.is_ok() {
                break;
            }
            let item = item_on_screen(&child).await;
            let state = page_state(&child).await;
            let answered = state["answered"].as_u64().expect("answered");
            if answered == 3 && !shot_item {
                shot_item = true;
                shot(&child, "05-item").await;
            }
            if answered == 5 && !paused_once {
                // The proctor pauses the child, the page waits, the proctor resumes.
                paused_once = true;
                org.goto(&cohort_page).await.expect("proctor");
                css(&org, "tr[data-code='T-001'] form button").await.click().await.expect("pause");
                wait_for_path(&org, "back on the screen", |p| p == format!("/cohorts/{cohort_id}")).await;
                assert_eq!(proctor_status(&org, &cohort_page, "T-001").await, "paused");
                shot(&org, "06-proctor-paused").await;
                child.refresh().await.expect("reload");
                wait_for(&child, "#paused", 10).await;
                css(&org, "tr[data-code='T-001'] form button").await.click().await.expect("resume");
                wait_for(&child, "#item", 15).await;
                continue;
            }
            if answered == 12 && !restarted {
                // The server stops; the child answers; the page keeps the answer and waits.
                restarted = true;
                drop(served.take());
                css(&child, ".option[data-choice='0']").await.click().await.expect("answer offline");
                wait_for(&child, "#waiting", 10).await;
                let pending: bool = child
                    .execute("return localStorage.getItem('qabilet-take-pending') !== null;", vec![])
                    .await
                    .expect("storage")
                    .as_bool()
                    .unwrap_or(false);
                assert!(pending, "the answer is kept in the browser");
                served = Some(Served::start_with_db_at(&db, &console_addr));
                next_screen(&child, &item).await;
                let after = page_state(&child).await;
                assert_eq!(after["answered"].as_u64(), Some(13), "sent once when the server came back");
                continue;
            }
            if answered % 2 == 0 {
                press(&child, char::from(b'1' + (answered % 4) as u8)).await;
                answered_by_keys += 1;
            } else {
                let choice = answered % 3;
                css(&child, &format!(".option[data-choice='{choice}']")).await.click().await.expect("click");
                answered_by_clicks += 1;
            }
            next_screen(&child, &item).await;
        }
        shot(&child, "07-done").await;
        assert!(restarted && paused_once);
        assert!(answered_by_keys > 5 && answered_by_clicks > 5);
        assert_eq!(proctor_status(&org, &cohort_page, "T-001").await, "finished");
        shot(&org, "08-proctor-after").await;

        // The organiser's export: the child's screening index with its interval and percentiles.
        let csv: String = org
            .execute(
                "return fetch(arguments[0]).then(r => r.text());",
                vec![format!("/cohorts/{cohort_id}/results.csv").into()],
            )
            .await
            .expect("export")
            .as_str()
            .expect("text")
            .to_owned();
        let row = csv.lines().find(|l| l.contains(",T-001,")).expect("the child's row");
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[4], "finished", "{row}");
        assert_eq!(cells[6], "si", "{row}");
        let index: i32 = cells[7].parse().expect("index");
        assert_eq!(cells[11], "50.0", "the only finished child ranks at the cohort's middle: {row}");

        // The same result over gRPC.
        let state = page_state(&child).await;
        let session = format!("sessions/{}", state["session"].as_str().expect("session"));
        let url = served.as_ref().expect("server").url.clone();
        let mut a = AssessmentClient::connect(url).await.expect("connect");
        let profile = a
            .get_results(authed(&psy, pb::GetResultsRequest { session }))
            .await
            .expect("results")
            .into_inner();
        let si = profile.composites.iter().find(|c| c.composite == "si").expect("si");
        assert_eq!(si.index, index, "the export and gRPC agree");
        let ci = si.ci.as_ref().expect("ci");
        assert!(ci.low <= index && index <= ci.high);
    });
}
