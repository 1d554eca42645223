//! The console in a real browser: headless Debian Chromium driven through ChromeDriver
//! (WebDriver) against the real `qabilet serve`. A psychologist signs in, creates a child,
//! starts a session, administers Similarities with the keyboard shortcuts through the
//! reversal-free start and the discontinue (the rule state shown as it happens), finishes,
//! opens the results and the report, switches the interface language; another psychologist
//! is refused the child. Screenshots of every screen go to `target/screenshots/console/`.
//!
//! Needs `chromium` and `chromedriver` on the PATH (Debian's `chromium` and
//! `chromium-driver`; `scripts/test` installs them), or QABILET_CHROMIUM / QABILET_CHROMEDRIVER.

use std::time::Duration;

use fantoccini::{Client, Locator};
use qabilet_e2e::browser::{Driver, css, press, set_value, text, wait_for_path, wait_for_script};
use qabilet_e2e::{Served, create_token, runtime};

/// Saves a screenshot under `target/screenshots/console/`.
async fn shot(c: &Client, name: &str) {
    qabilet_e2e::browser::shot(c, "console", name).await;
}

async fn sign_in(c: &Client, console: &str, token: &str) {
    c.goto(console).await.expect("sign-in page");
    css(c, "input[name='token']")
        .await
        .send_keys(token)
        .await
        .expect("type the token");
    css(c, "form[action='/sign-in'] button")
        .await
        .click()
        .await
        .expect("sign in");
    wait_for_path(c, "signed in", |p| p.starts_with("/children")).await;
}

#[test]
fn a_psychologist_runs_a_subtest_and_opens_the_report_in_a_browser() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let colleague = create_token(&served.db, "psychologist", "almaty-1", "psy-berik");
    let driver = Driver::start();
    let console = served.console_url.clone();
    runtime().block_on(async {
        let c = driver.browser().await;
        c.goto(&console).await.expect("console");
        shot(&c, "01-sign-in").await;
        sign_in(&c, &console, &psy).await;

        // A child: code, birth date (8:0 on the test date below), sex, language.
        css(&c, "form[method='post'][action='/children'] input[name='code']")
            .await
            .send_keys("BR-001")
            .await
            .expect("code");
        set_value(
            &c,
            "form[method='post'][action='/children'] input[name='birth_date']",
            "2018-03-10",
        )
        .await;
        shot(&c, "02-children").await;
        css(&c, "form[method='post'][action='/children'] button")
            .await
            .click()
            .await
            .expect("create child");
        let child_url = wait_for_path(&c, "the child's page", |p| p.starts_with("/children/")).await;
        assert!(
            !child_url.as_str().contains("2018"),
            "no personal data in URLs: {child_url}"
        );

        set_value(&c, "input[name='test_date']", "2026-03-20").await;
        css(&c, "form[action$='/sessions'] button")
            .await
            .click()
            .await
            .expect("start session");
        let session_url = wait_for_path(&c, "the session's page", |p| p.starts_with("/sessions/")).await;
        shot(&c, "03-session").await;

        // Block Design is timed: its page shows the item's limit counting down (display only).
        c.goto(&format!("{}/subtests/bd", session_url.trim_end_matches('/')))
            .await
            .expect("bd page");
        let first = text(&c, "#timer").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let later = text(&c, "#timer").await;
        assert_ne!(first, later, "the timer counts down");
        shot(&c, "03b-timed-subtest").await;

        // Similarities at 8:0 starts at sim05: full marks on sim05–sim07, then zeros until
        // the discontinue rule (3 in a row) ends it. Scores are entered with the keys.
        c.goto(&format!(
            "{}/subtests/sim",
            session_url.as_str().trim_end_matches('/')
        ))
        .await
        .expect("subtest page");
        assert_eq!(text(&c, "code.next-item").await, "sim05");
        let mut given = Vec::new();
        loop {
            let Ok(next) = c.find(Locator::Css("code.next-item")).await else {
                break;
            };
            let item = next.attr("data-item").await.expect("attr").expect("data-item");
            let max: Vec<_> = c
                .find_all(Locator::Css("#score button[data-score]"))
                .await
                .expect("buttons");
            let top = char::from(b'0' + u8::try_from(max.len() - 1).expect("a few buttons"));
            let score = if ["sim05", "sim06", "sim07"].contains(&item.as_str()) {
                top
            } else {
                '0'
            };
            if item == "sim08" {
                shot(&c, "04-subtest-forward").await;
            }
            press(&c, score).await;
            // The page reloads with the next state: wait until it has loaded and shows another
            // item, or none (the subtest ended).
            wait_for_script(
                &c,
                &format!("the state after {item}"),
                "if (document.readyState !== 'complete') { return false; } \
                 const next = document.querySelector('code.next-item'); \
                 return next === null || next.dataset.item !== arguments[0];",
                vec![item.clone().into()],
            )
            .await;
            given.push((item, score));
            assert!(given.len() <= 24, "{given:?}");
        }
        assert_eq!(
            given.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            ["sim05", "sim06", "sim07", "sim08", "sim09", "sim10"]
        );
        assert_eq!(text(&c, "#rules dd.discontinued").await, "sim10");
        assert_eq!(text(&c, "#rules dd.basal").await, "sim05");
        shot(&c, "05-subtest-discontinued").await;

        // Finish the session: the results screen.
        c.goto(session_url.as_str()).await.expect("session page");
        css(&c, "form[action$='/finish'] button")
            .await
            .click()
            .await
            .expect("finish");
        wait_for_path(&c, "the results", |p| p.ends_with("/results")).await;
        css(&c, "svg").await;
        css(&c, "p.referral").await;
        shot(&c, "06-results").await;

        // The report in Kazakh, with the child's code; then the interface in English.
        c.goto(&format!(
            "{}/report?lang=kk",
            session_url.as_str().trim_end_matches('/')
        ))
        .await
        .expect("report");
        let source = c.source().await.expect("page source");
        assert!(source.contains("lang=\"kk\"") && source.contains("BR-001"));
        shot(&c, "07-report-kk").await;
        c.goto(&console).await.expect("children");
        wait_for_path(&c, "the children", |p| p.starts_with("/children")).await;
        let before = text(&c, "h1").await;
        css(&c, "button[name='lang'][value='en']")
            .await
            .click()
            .await
            .expect("English");
        // The click submits a form: wait until the new page has loaded in English.
        wait_for_script(
            &c,
            "the interface in English",
            "return document.readyState === 'complete' \
             && document.documentElement.lang === 'en' \
             && document.querySelector('h1') !== null;",
            vec![],
        )
        .await;
        let after = text(&c, "h1").await;
        assert_ne!(before, after, "the interface language changed");
        shot(&c, "08-children-en").await;

        // Another psychologist of the same centre may not open the child.
        css(&c, "form[action='/sign-out'] button")
            .await
            .click()
            .await
            .expect("sign out");
        wait_for_path(&c, "signed out", |p| p == "/").await;
        sign_in(&c, &console, &colleague).await;
        c.goto(child_url.as_str()).await.expect("the other's child");
        let title = c.title().await.expect("title");
        let now = c.current_url().await.expect("url");
        assert!(
            title.contains("Access denied"),
            "{title} at {now}, the child at {child_url}"
        );
        assert!(!c.source().await.expect("source").contains("BR-001"));
        shot(&c, "09-colleague-denied").await;
        c.close().await.expect("close the browser");
    });
}
