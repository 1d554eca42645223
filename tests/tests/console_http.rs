//! The psychologist's console over HTTP (no browser yet): the real `qabilet serve`, a
//! hand-rolled HTTP/1.0 client with its cookies kept by hand. A whole battery is administered
//! through the console's forms as a browser would send them, then the results, the report in
//! three languages, its PDF, an edit, the interface language, the role check, the sign-in
//! guard and the cross-origin check.

use qabilet_e2e::http::{Browser, form};
use qabilet_e2e::{Served, create_token};

/// The text between `before` and the next `until` after it.
fn between<'a>(text: &'a str, before: &str, until: &str) -> Option<&'a str> {
    let start = text.find(before)? + before.len();
    let end = text[start..].find(until)? + start;
    Some(&text[start..end])
}

fn all_between<'a>(text: &'a str, before: &str, until: &str) -> Vec<&'a str> {
    text.split(before)
        .skip(1)
        .filter_map(|p| p.find(until).map(|e| &p[..e]))
        .collect()
}

#[test]
fn a_psychologist_administers_a_battery_through_the_console() {
    let served = Served::start(&[]);
    assert!(
        served.console_url.starts_with("http://127.0.0.1:"),
        "{}",
        served.console_url
    );
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let other = create_token(&served.db, "psychologist", "almaty-1", "psy-dana");
    let mut b = Browser::new(&served.console_url);

    // Without the cookie every screen sends to the sign-in page.
    let a = b.get("/children");
    assert_eq!((a.status, a.location().as_str()), (303, "/"));
    let a = b.get("/");
    assert_eq!(a.status, 200);
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert!(a.text().contains("name=\"token\""));
    let a = b.post("/sign-in", &[("token", "qbt_nottoken")]);
    assert_eq!(a.status, 401);
    assert!(!b.cookies.contains_key("qabilet_session"));
    // A session the server does not know is forgotten, not looped on.
    b.cookies.insert("qabilet_session".into(), "qcs_unknown".into());
    let a = b.get("/children");
    assert_eq!((a.status, a.location().as_str()), (303, "/"));
    assert!(!b.cookies.contains_key("qabilet_session"));
    b.sign_in(&psy);

    // A form from another origin is refused even with the cookie.
    let a = b.send(
        "POST",
        "/children",
        Some(&form(&[
            ("code", "X-1"),
            ("birth_date", "2018-01-01"),
            ("sex", "F"),
            ("test_language", "kk"),
        ])),
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(a.status, 403);

    // A child, found by its code.
    let a = b.post(
        "/children",
        &[
            ("code", "C-001"),
            ("birth_date", "2018-03-10"),
            ("sex", "F"),
            ("test_language", "kk"),
            ("request_id", "create-c-001"),
        ],
    );
    assert_eq!(a.status, 303, "{}", a.text());
    let child_path = a.location();
    assert!(child_path.starts_with("/children/"), "{child_path}");
    assert!(!child_path.contains("2018"), "no personal data in URLs");
    let a = b.get("/children?code=C-0");
    assert!(
        a.text().contains(&format!("href=\"{child_path}\">C-001<")),
        "{}",
        a.text()
    );
    // A bad form is shown again with the service's message.
    let a = b.post(
        "/children",
        &[
            ("code", "C-002"),
            ("birth_date", "not a date"),
            ("sex", "F"),
            ("test_language", "kk"),
        ],
    );
    assert_eq!(a.status, 400);
    assert!(a.text().contains("class=\"error\""), "{}", a.text());

    // Another psychologist may not open the child.
    let mut stranger = Browser::new(&served.console_url);
    stranger.sign_in(&other);
    assert_eq!(stranger.get(&child_path).status, 403);

    // A session.
    let a = b.get(&child_path);
    assert_eq!(a.status, 200);
    assert!(a.text().contains("C-001"));
    let a = b.post(
        &format!("{child_path}/sessions"),
        &[
            ("battery", "batteries/qabilet-primary-demo"),
            ("test_date", "2026-03-20"),
        ],
    );
    assert_eq!(a.status, 303, "{}", a.text());
    let session = a.location();
    assert!(session.starts_with("/sessions/"), "{session}");
    let page = b.get(&session).text();
    let subtests: Vec<String> = all_between(&page, "data-subtest=\"", "\"")
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(subtests.contains(&"sim".to_owned()), "{page}");

    // Every subtest through its page: items scored by the buttons, totals entered.
    let mut sim_phases = Vec::new();
    for subtest in &subtests {
        let path = format!("{session}/subtests/{subtest}");
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 200, "{subtest} never ends");
            let a = b.get(&path);
            assert_eq!(a.status, 200, "{}", a.text());
            let page = a.text();
            if subtest == "sim" {
                sim_phases.push(
                    between(&page, "class=\"phase\">", "<")
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            if page.contains("<p class=\"done\">") {
                if subtest == "sim" {
                    // The interface is in Russian until the language is switched.
                    assert!(
                        page.contains("class=\"done-reason\">прекращено по правилу<"),
                        "{page}"
                    );
                    let after = between(&page, "class=\"discontinued\">", "<").unwrap_or_default();
                    assert!(!after.is_empty(), "the discontinue point is shown: {page}");
                }
                break;
            }
            if let Some(item) = between(&page, "data-item=\"", "\"") {
                let item = item.to_owned();
                let items = all_between(&page, "<option>", "<");
                if subtest == "sim" && steps == 1 {
                    // An item the rules do not say is due: refused without a reason, the
                    // page shown again with the rules' message; paused, nothing is recorded.
                    let last = items.last().expect("items").to_string();
                    let a = b.post(&path, &[("item", &last), ("score", "1")]);
                    assert_eq!(a.status, 400, "{}", a.text());
                    assert!(a.text().contains("class=\"error\""), "{}", a.text());
                    assert_eq!(b.post(&format!("{session}/pause"), &[]).status, 303);
                    let a = b.post(&path, &[("item", &item), ("score", "0")]);
                    assert_eq!(a.status, 400, "{}", a.text());
                    assert_eq!(b.post(&format!("{session}/resume"), &[]).status, 303);
                    assert_eq!(stranger.get(&path).status, 403);
                    assert_eq!(stranger.get(&session).status, 403);
                }
                let position = items.iter().position(|i| *i == item);
                let max = all_between(&page, "data-score=\"", "\"").len() - 1;
                let pass = match (subtest.as_str(), position) {
                    ("sim", Some(i)) => i < 3,
                    (_, Some(i)) => i < items.len() / 3,
                    (_, None) => steps % 2 == 0,
                };
                let score = if pass { max.to_string() } else { "0".to_owned() };
                let a = b.post(&path, &[("item", &item), ("score", &score)]);
                assert_eq!(a.status, 303, "{subtest} {item}: {}", a.text());
            } else {
                let max: u32 = between(&page, "name=\"score\" min=\"0\" max=\"", "\"")
                    .and_then(|m| m.parse().ok())
                    .unwrap_or_else(|| panic!("neither an item nor a total: {page}"));
                let total = (max / 2).to_string();
                let a = b.post(&path, &[("score", &total)]);
                assert_eq!(a.status, 303, "{subtest} total: {}", a.text());
            }
        }
    }
    assert!(
        sim_phases
            .iter()
            .any(|p| p == "вперёд" || p.starts_with("обратный порядок")),
        "{sim_phases:?}"
    );
    let page = b.get(&session).text();
    assert!(page.contains("✓ прекращено по правилу"), "{page}");

    // Pause, resume, finish.
    for action in ["pause", "resume"] {
        let a = b.post(&format!("{session}/{action}"), &[]);
        assert_eq!((a.status, a.location()), (303, session.clone()), "{action}");
    }
    let a = b.post(&format!("{session}/finish"), &[]);
    assert_eq!((a.status, a.location()), (303, format!("{session}/results")));
    let a = b.get(&format!("{session}/results"));
    assert_eq!(a.status, 200);
    let results = a.text();
    assert!(results.contains("<svg"), "{results}");
    assert!(
        results.contains("class=\"scores\"") && results.contains("<code>sim</code>"),
        "{results}"
    );
    assert!(
        results.contains("<p class=\"referral\" data-outcome=\""),
        "{results}"
    );
    assert!(results.contains("<table class=\"sw\">"), "{results}");
    // Both charts, the demonstration notice in the interface language, the norm set's hash.
    assert!(
        results.contains("<figure class=\"chart indexes\"><svg")
            && results.contains("<figure class=\"chart subtests\"><svg"),
        "{results}"
    );
    assert!(
        results.contains("<p class=\"notice\" title=\"demonstration norms")
            && results.contains(">Демонстрационные нормы — не для клинических решений"),
        "{results}"
    );
    assert!(results.contains("<code>sha256:"), "{results}");
    assert!(
        b.get(&session)
            .text()
            .contains("<dd class=\"state\">завершён</dd>"),
        "the session's state in the interface language"
    );

    // The report in each language, its PDF, and an edit.
    for lang in ["kk", "ru", "en"] {
        let a = b.get(&format!("{session}/report?lang={lang}"));
        assert_eq!(a.status, 200, "{}", a.text());
        let html = a.text();
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
        assert!(html.contains("C-001"), "{lang}");
        assert!(html.contains("report.pdf?lang="), "{lang}");
    }
    let a = b.get(&format!("{session}/report.pdf?lang=ru"));
    assert_eq!(a.status, 200);
    assert!(a.body.starts_with(b"%PDF-"));
    assert!(
        a.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment"))
    );
    let html = b.get(&format!("{session}/report?lang=en")).text();
    let item = between(&html, "<select name=\"item\"><option>", "<")
        .expect("an editable item")
        .to_owned();
    let a = b.post(
        &format!("{session}/report/edit"),
        &[
            ("lang", "en"),
            ("item", &item),
            ("text", "Edited by the psychologist."),
        ],
    );
    assert_eq!(a.status, 303, "{}", a.text());
    let html = b.get(&a.location()).text();
    assert!(html.contains("Edited by the psychologist."));
    // The console lists the edit: when, who, which item, the text.
    let history = between(&html, "<details class=\"edits\">", "</details>").expect("the edit history");
    assert!(
        history.contains("(1)")
            && history.contains("<td>psy-aliya</td>")
            && history.contains(&format!("<code>{item}</code>"))
            && history.contains("<td>Edited by the psychologist.</td>"),
        "{history}"
    );

    // The interface language.
    let children_url = format!("http://{}/children", b.host);
    let a = b.send("POST", "/lang", Some("lang=en"), &[("Referer", &children_url)]);
    assert_eq!((a.status, a.location().as_str()), (303, "/children"));
    let page = b.get("/children").text();
    assert!(
        page.contains("<html lang=\"en\"") && page.contains("New child"),
        "{page}"
    );
    b.send("POST", "/lang", Some("lang=kk"), &[("Referer", &children_url)]);
    let page = b.get("/children").text();
    assert!(
        page.contains("<html lang=\"kk\"") && page.contains("Жаңа бала"),
        "{page}"
    );

    // Signing out ends the console for this browser.
    let a = b.post("/sign-out", &[]);
    assert_eq!(a.status, 303);
    assert!(!b.cookies.contains_key("qabilet_session"));
    assert_eq!(b.get(&session).status, 303);
}

#[test]
fn the_children_list_pages_past_a_hundred() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let mut b = Browser::new(&served.console_url);
    b.sign_in(&psy);
    for i in 0..101 {
        let code = format!("P-{i:03}");
        let a = b.post(
            "/children",
            &[
                ("code", &code),
                ("birth_date", "2018-03-10"),
                ("sex", "M"),
                ("test_language", "ru"),
            ],
        );
        assert_eq!(a.status, 303, "{code}: {}", a.text());
    }
    let first = b.get("/children?code=P-").text();
    let rows = |page: &str| page.matches("<tr><td><a href=\"/children/").count();
    assert_eq!(rows(&first), 100);
    let next = between(&first, "<a rel=\"next\" href=\"", "\"")
        .expect("a link to the next page")
        .replace("&amp;", "&");
    assert!(next.starts_with("/children?code=P-&after="), "{next}");
    let second = b.get(&next).text();
    assert_eq!(rows(&second), 1, "{second}");
    assert!(!second.contains("rel=\"next\""), "the last page has no next link");
    assert!(
        second.contains("href=\"/children?code=P-\""),
        "a link back to the first page"
    );
    // The 101 codes, each once over the two pages.
    let mut codes: Vec<&str> = all_between(&first, "\">P-", "<")
        .into_iter()
        .chain(all_between(&second, "\">P-", "<"))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 101);
}

/// The cookie names a server-side session, not the token; signing out ends that session on
/// the server, so a copy of the cookie taken before stops working; a revoked token ends it too.
#[test]
fn signing_out_ends_the_session_on_the_server() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let mut b = Browser::new(&served.console_url);
    b.sign_in(&psy);
    let cookie = b
        .cookies
        .get("qabilet_session")
        .expect("a session cookie")
        .clone();
    assert!(
        cookie.starts_with("qcs_") && !cookie.contains(&psy[4..]),
        "{cookie}"
    );
    assert!(
        b.cookies.values().all(|v| !v.contains(&psy[4..])),
        "the token is in no cookie"
    );
    assert_eq!(b.get("/children").status, 200);
    let copied = b.cookies.clone();
    let a = b.post("/sign-out", &[]);
    assert_eq!((a.status, a.location().as_str()), (303, "/"));
    assert!(!b.cookies.contains_key("qabilet_session"));
    // Replaying the cookie taken before sign-out.
    let mut thief = Browser::new(&served.console_url);
    thief.cookies = copied;
    let a = thief.get("/children");
    assert_eq!((a.status, a.location().as_str()), (303, "/"), "{}", a.text());

    // A revoked token ends its sessions at once (within the token cache's 5 s).
    let mut c = Browser::new(&served.console_url);
    c.sign_in(&psy);
    assert_eq!(c.get("/children").status, 200);
    let list = qabilet_e2e::qabilet()
        .args(["token", "list", "--db", &served.db])
        .output()
        .expect("token list");
    let listing = String::from_utf8(list.stdout).expect("utf-8");
    let id = listing
        .lines()
        .find(|l| l.contains("psy-aliya"))
        .and_then(|l| l.split(',').next())
        .expect("the token's id")
        .to_owned();
    let revoked = qabilet_e2e::qabilet()
        .args(["token", "revoke", "--db", &served.db, "--id", &id])
        .status()
        .expect("token revoke");
    assert!(revoked.success());
    let a = c.get("/children");
    assert_eq!((a.status, a.location().as_str()), (303, "/"), "{}", a.text());
}

/// A researcher's console shows the subtest's overrides without the examiner's reasons.
#[test]
fn a_researcher_sees_no_override_reason_in_the_console() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let researcher = create_token(&served.db, "researcher", "almaty-1", "res");
    let mut b = Browser::new(&served.console_url);
    b.sign_in(&psy);
    let a = b.post(
        "/children",
        &[
            ("code", "R-1"),
            ("birth_date", "2016-06-03"),
            ("sex", "F"),
            ("test_language", "kk"),
        ],
    );
    assert_eq!(a.status, 303, "{}", a.text());
    let child = a.location();
    let a = b.post(
        &format!("{child}/sessions"),
        &[
            ("battery", "batteries/qabilet-primary-demo"),
            ("test_date", "2026-11-20"),
        ],
    );
    assert_eq!(a.status, 303, "{}", a.text());
    let session = a.location();
    let secret = "the family is in a custody dispute";
    let a = b.post(
        &format!("{session}/subtests/sim"),
        &[("item", "sim12"), ("score", "1"), ("reason", secret)],
    );
    assert_eq!(a.status, 303, "{}", a.text());
    assert!(b.get(&format!("{session}/subtests/sim")).text().contains(secret));
    let mut r = Browser::new(&served.console_url);
    r.sign_in(&researcher);
    let page = r.get(&format!("{session}/subtests/sim"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("sim12"), "the override is listed");
    assert!(!page.text().contains(secret), "{}", page.text());
}
