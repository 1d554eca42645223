//! `qabilet token` end to end: the real binary on a temporary SQLite file creates a token
//! (its secret printed once), lists it without the secret, revokes it, and refuses bad input
//! with exit code 2. The server's own authenticator, on the same file, accepts the secret
//! until the revocation, and a token with an expiry until it expires.

use std::process::Output;

use qabilet_e2e::qabilet;
use qabilet_server::auth::{AuthError, Authenticator};
use qabilet_server::store::open_store;

fn run(db: &str, args: &[&str]) -> Output {
    qabilet()
        .arg("token")
        .args(args)
        .args(["--db", db])
        .env_remove("QABILET_DB")
        .output()
        .expect("run qabilet")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The rows of `token list` (the header checked).
fn list(db: &str) -> Vec<csv::StringRecord> {
    let out = run(db, &["list"]);
    assert!(out.status.success(), "list: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut r = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(
        r.headers().expect("header"),
        vec!["id", "role", "centre", "subject", "created", "revoked", "expires"]
    );
    r.records().map(|x| x.expect("record")).collect()
}

async fn authenticates(db: &str, secret: &str) -> Result<String, AuthError> {
    let store = open_store(db).await.expect("open store");
    let header = format!("Bearer {secret}");
    let result = Authenticator::new(store.clone())
        .authenticate(&[header.as_bytes()])
        .await
        .map(|p| format!("{} {} {}", p.role, p.centre, p.subject));
    store.close().await;
    result
}

#[tokio::test(flavor = "multi_thread")]
async fn create_list_revoke() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = format!("sqlite://{}", dir.path().join("tokens.db").display());

    let created = run(
        &db,
        &[
            "create",
            "--role",
            "psychologist",
            "--centre",
            "almaty-1",
            "--subject",
            "psy-aliya",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    // Standard output is the secret and nothing else, so scripts can capture it.
    let stdout = text(&created.stdout);
    let secret = stdout.strip_suffix('\n').expect("one line");
    assert!(!secret.contains('\n'), "{stdout:?}");
    assert_eq!(secret.len(), 44, "{secret}");
    assert!(secret.starts_with("qbt_"), "{secret}");
    assert!(
        secret[4..]
            .bytes()
            .all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c)),
        "{secret}"
    );
    let stderr = text(&created.stderr);
    assert!(stderr.contains("Keep the secret"), "{stderr}");
    assert!(stderr.contains("shown only this once"), "{stderr}");
    assert!(
        !stderr.contains(secret),
        "the secret is printed once, on stdout: {stderr}"
    );

    // A second token, through QABILET_DB instead of --db.
    let other = qabilet()
        .args([
            "token",
            "create",
            "--role",
            "researcher",
            "--centre",
            "*",
            "--subject",
            "study-7",
        ])
        .env("QABILET_DB", &db)
        .output()
        .expect("run qabilet");
    assert!(other.status.success(), "{}", text(&other.stderr));

    let rows = list(&db);
    assert_eq!(rows.len(), 2);
    let psy = rows
        .iter()
        .find(|r| &r[3] == "psy-aliya")
        .expect("the psychologist's token is listed");
    let id = psy[0].to_owned();
    assert_eq!(id.len(), 26);
    assert!(stderr.contains(&id), "create names the id: {stderr}");
    assert_eq!(
        (&psy[1], &psy[2], &psy[5], &psy[6]),
        ("psychologist", "almaty-1", "false", "")
    );
    assert!(
        psy[4].starts_with("20") && psy[4].ends_with('Z'),
        "RFC 3339: {}",
        &psy[4]
    );
    let researcher = rows.iter().find(|r| &r[3] == "study-7").expect("listed");
    assert_eq!((&researcher[1], &researcher[2]), ("researcher", "*"));
    let listing = text(&run(&db, &["list"]).stdout);
    assert!(!listing.contains(secret), "never the secret: {listing}");
    assert!(!listing.contains("qbt_"), "{listing}");

    assert_eq!(
        authenticates(&db, secret).await,
        Ok("psychologist almaty-1 psy-aliya".to_owned())
    );

    let revoked = run(&db, &["revoke", "--id", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&revoked.stderr).contains(&id));
    let rows = list(&db);
    let states: Vec<(&str, &str)> = rows.iter().map(|r| (&r[3], &r[5])).collect();
    assert!(states.contains(&("psy-aliya", "true")), "{states:?}");
    assert!(states.contains(&("study-7", "false")), "{states:?}");
    assert_eq!(authenticates(&db, secret).await, Err(AuthError::Invalid));

    // Revoking again is fine; an unknown id is bad input.
    assert!(run(&db, &["revoke", "--id", &id]).status.success());

    // A token with an expiry: listed with it, accepted until then, refused after.
    let expiring = run(
        &db,
        &[
            "create",
            "--role",
            "integrator",
            "--centre",
            "almaty-1",
            "--subject",
            "his-1",
            "--expires-in",
            "2s",
        ],
    );
    assert!(expiring.status.success(), "{}", text(&expiring.stderr));
    assert!(
        text(&expiring.stderr).contains("expires 20"),
        "{}",
        text(&expiring.stderr)
    );
    let secret = text(&expiring.stdout).trim().to_owned();
    let rows = list(&db);
    let his = rows.iter().find(|r| &r[3] == "his-1").expect("listed");
    assert!(
        his[6].starts_with("20") && his[6].ends_with('Z') && his[6] != his[4],
        "RFC 3339, after its creation: {}",
        &his[6]
    );
    assert_eq!(
        authenticates(&db, &secret).await,
        Ok("integrator almaty-1 his-1".to_owned())
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(authenticates(&db, &secret).await, Err(AuthError::Invalid));
    let unknown = run(&db, &["revoke", "--id", "0000000000000000000000000z"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown.stderr));
    assert!(
        text(&unknown.stderr).contains("not found"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn bad_input_is_exit_2_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("tokens.db");
    let db = format!("sqlite://{}", path.display());

    let bad_role = run(
        &db,
        &[
            "create",
            "--role",
            "root",
            "--centre",
            "almaty-1",
            "--subject",
            "x",
        ],
    );
    assert_eq!(bad_role.status.code(), Some(2));
    let stderr = text(&bad_role.stderr);
    assert!(stderr.contains("\"root\""), "{stderr}");
    for role in ["psychologist", "supervisor", "integrator", "researcher", "admin"] {
        assert!(stderr.contains(role), "the message lists {role}: {stderr}");
    }
    assert!(bad_role.stdout.is_empty());

    let bad_duration = run(
        &db,
        &[
            "create",
            "--role",
            "admin",
            "--centre",
            "*",
            "--subject",
            "x",
            "--expires-in",
            "90 days",
        ],
    );
    assert_eq!(bad_duration.status.code(), Some(2));
    assert!(
        text(&bad_duration.stderr).contains("--expires-in"),
        "{}",
        text(&bad_duration.stderr)
    );

    let empty_subject = run(
        &db,
        &["create", "--role", "admin", "--centre", "*", "--subject", ""],
    );
    assert_eq!(empty_subject.status.code(), Some(2));
    assert!(text(&empty_subject.stderr).contains("--subject"));

    assert!(
        !path.exists(),
        "bad input is refused before the database is opened"
    );

    let bad_db = run("mysql://nowhere", &["list"]);
    assert_eq!(bad_db.status.code(), Some(2), "{}", text(&bad_db.stderr));
}

#[test]
fn help_explains_the_roles() {
    let out = qabilet()
        .args(["token", "create", "--help"])
        .output()
        .expect("run qabilet");
    assert!(out.status.success());
    let help = text(&out.stdout);
    for role in ["psychologist", "supervisor", "integrator", "researcher", "admin"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(role)),
            "one line for {role}:\n{help}"
        );
    }
    assert!(help.contains("sqlite://qabilet.db"), "{help}");
}
