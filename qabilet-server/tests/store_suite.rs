//! One suite of storage checks, written once against `dyn Store` and run for both backends:
//! SQLite (a fresh file in a temporary directory per test) and PostgreSQL (a fresh schema per
//! test in the database named by `QABILET_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; an unreachable server fails the tests).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use qabilet_server::store::{
    AuditEntry, ChildFilter, NewChild, NewReportEdit, NewResponse, NewSession, NewToken, PageRequest,
    PostgresStore, Role, SessionFilter, SessionState, SqliteStore, Store, StoreError, open_store,
};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Where one test's data lives; `open` may be called several times (reopening, or a second
/// "replica" on the same data).
enum Fixture {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { url: String, schema: String },
}

impl Fixture {
    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Fixture::Sqlite { url, .. } => open_store(url).await.expect("opening SQLite store"),
            Fixture::Postgres { url, schema } => Arc::new(
                PostgresStore::connect_with_schema(url, schema)
                    .await
                    .expect("connecting PostgreSQL store"),
            ),
        }
    }
}

fn postgres_url() -> String {
    std::env::var("QABILET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

async fn admin_connection(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
        // Only the host part: the URL may carry a password.
        let host = url.rsplit_once('@').map_or(url, |(_, host)| host);
        panic!("PostgreSQL at QABILET_TEST_POSTGRES_URL (…@{host}) is required by this suite: {e}")
    })
}

/// Runs `check` against a fresh SQLite file.
async fn with_sqlite<F, Fut>(check: F)
where
    F: FnOnce(Arc<Fixture>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("qabilet.db").display());
    check(Arc::new(Fixture::Sqlite { _dir: dir, url })).await;
}

/// Runs `check` in a fresh PostgreSQL schema, dropped afterwards even if the check panics.
async fn with_postgres<F, Fut>(check: F)
where
    F: FnOnce(Arc<Fixture>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let url = postgres_url();
    let schema = format!(
        "qabilet_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    );
    let mut admin = admin_connection(&url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin)
        .await
        .expect("creating test schema");
    let fixture = Arc::new(Fixture::Postgres {
        url,
        schema: schema.clone(),
    });
    let outcome = tokio::spawn(check(fixture)).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
        .execute(&mut admin)
        .await
        .expect("dropping test schema");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ (std::process::id().rotate_left(16))
}

/// Declares every check as a test for each backend.
macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $check() {
                    super::with_sqlite(super::checks::$check).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $check() {
                    super::with_postgres(super::checks::$check).await;
                }
            )*
        }
    };
}

suite!(
    tokens_create_lookup_revoke,
    tokens_presence_and_listing,
    child_create_is_idempotent,
    child_code_unique_within_centre,
    child_get_and_not_found,
    children_paginate_in_id_order,
    children_filters,
    session_create_is_idempotent_and_needs_child,
    session_list_filters_and_pages,
    session_state_compare_and_set,
    responses_get_gapless_seqs_in_order,
    response_retry_returns_stored_response,
    append_refused_unless_active,
    concurrent_appends_are_gapless,
    two_stores_on_one_database_share_the_sequence,
    responses_survive_reopening,
    audit_entries_recorded_and_filtered,
    append_writes_its_audit_entry_with_it,
    responses_for_one_subtest,
    grouped_appends_keep_their_own_outcomes,
    a_failed_audit_write_stores_neither,
    report_edits_are_appended_never_overwritten,
    report_edit_retry_is_applied_once,
    report_edits_paginate_in_order,
);

mod checks {
    use super::*;

    fn child(code: &str, centre: &str, owner: &str, request_id: Option<&str>) -> NewChild {
        NewChild {
            code: code.to_owned(),
            birth_date: "2017-03-14".to_owned(),
            sex: Some("f".to_owned()),
            test_language: "kk".to_owned(),
            centre: centre.to_owned(),
            owner: owner.to_owned(),
            given_name: Some("Aliya".to_owned()),
            family_name: None,
            notes: Some("left-handed".to_owned()),
            request_id: request_id.map(str::to_owned),
        }
    }

    fn session(child_id: &str, examiner: &str, request_id: Option<&str>) -> NewSession {
        NewSession {
            child_id: child_id.to_owned(),
            battery_id: "demo".to_owned(),
            norm_set_hash: "sha256:0123abcd".to_owned(),
            test_date: "2026-05-20".to_owned(),
            examiner: examiner.to_owned(),
            request_id: request_id.map(str::to_owned),
        }
    }

    fn response(session_id: &str, n: usize, request_id: Option<String>) -> NewResponse {
        NewResponse {
            session_id: session_id.to_owned(),
            subtest: "matrices".to_owned(),
            payload: format!(r#"{{"item":{n},"score":1}}"#),
            request_id,
        }
    }

    /// A child and an active session, for the response checks.
    async fn active_session(store: &dyn Store) -> String {
        let c = store
            .create_child(child("C-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap();
        store
            .create_session(session(&c.record.id, "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id
    }

    pub async fn tokens_create_lookup_revoke(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let hash = "a".repeat(64);
        let token = store
            .create_token(NewToken {
                role: Role::Psychologist,
                centre: "almaty-1".into(),
                subject: "psy-aliya".into(),
                secret_hash: hash.clone(),
            })
            .await
            .unwrap();
        assert_eq!(token.id.len(), 26);
        assert_eq!(
            (token.role, token.centre.as_str(), token.subject.as_str()),
            (Role::Psychologist, "almaty-1", "psy-aliya")
        );
        assert!(!token.revoked);
        assert!(token.created_at > 1_700_000_000_000);

        assert_eq!(store.token_by_hash(&hash).await.unwrap(), Some(token.clone()));
        assert_eq!(store.token_by_hash(&"b".repeat(64)).await.unwrap(), None);

        let again = NewToken {
            role: Role::Admin,
            centre: "x".into(),
            subject: "y".into(),
            secret_hash: hash.clone(),
        };
        assert!(matches!(
            store.create_token(again).await,
            Err(StoreError::Duplicate { what: "token", .. })
        ));

        let revoked = store.revoke_token(&token.id).await.unwrap();
        assert!(revoked.revoked);
        assert!(store.token_by_hash(&hash).await.unwrap().unwrap().revoked);
        assert!(
            store.revoke_token(&token.id).await.unwrap().revoked,
            "revoking twice is fine"
        );
        assert!(matches!(
            store.revoke_token("nope").await,
            Err(StoreError::NotFound { what: "token", .. })
        ));

        for role in Role::ALL {
            let t = store
                .create_token(NewToken {
                    role,
                    centre: "c".into(),
                    subject: role.as_str().into(),
                    secret_hash: format!("{role}-hash"),
                })
                .await
                .unwrap();
            assert_eq!(t.role, role);
        }
    }

    pub async fn tokens_presence_and_listing(fx: Arc<Fixture>) {
        let store = fx.open().await;
        assert!(!store.has_tokens().await.unwrap(), "a fresh store has no token");
        let empty = store.list_tokens(PageRequest::first(10)).await.unwrap();
        assert_eq!((empty.items.len(), empty.next), (0, None));

        let mut created = Vec::new();
        for i in 0..5 {
            let t = store
                .create_token(NewToken {
                    role: Role::Supervisor,
                    centre: "almaty-1".into(),
                    subject: format!("sup-{i}"),
                    secret_hash: format!("{i:064}"),
                })
                .await
                .unwrap();
            created.push(t);
        }
        assert!(store.has_tokens().await.unwrap());
        store.revoke_token(&created[1].id).await.unwrap();
        created[1].revoked = true;
        created.sort_by(|a, b| a.id.cmp(&b.id));

        let mut seen = Vec::new();
        let mut page = PageRequest::first(2);
        loop {
            let p = store.list_tokens(page.clone()).await.unwrap();
            assert!(p.items.len() <= 2);
            seen.extend(p.items);
            match p.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        assert_eq!(
            seen, created,
            "every token once, in id order, revoked ones marked"
        );

        // Revoked tokens still count: a store whose tokens are all revoked is not empty (and
        // a second store on the same data, like another replica, sees them).
        let replica = fx.open().await;
        for t in &created {
            replica.revoke_token(&t.id).await.unwrap();
        }
        assert!(replica.has_tokens().await.unwrap());
        assert!(store.has_tokens().await.unwrap());
    }

    pub async fn child_create_is_idempotent(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let first = store
            .create_child(child("K-17", "almaty-1", "psy-aliya", Some("req-1")))
            .await
            .unwrap();
        assert!(!first.existed);
        let c = &first.record;
        assert_eq!(c.id.len(), 26);
        assert_eq!(
            (
                c.code.as_str(),
                c.birth_date.as_str(),
                c.sex.as_deref(),
                c.test_language.as_str()
            ),
            ("K-17", "2017-03-14", Some("f"), "kk")
        );
        assert_eq!((c.centre.as_str(), c.owner.as_str()), ("almaty-1", "psy-aliya"));
        assert_eq!(
            (c.given_name.as_deref(), c.family_name.as_deref()),
            (Some("Aliya"), None)
        );
        assert_eq!(c.notes.as_deref(), Some("left-handed"));

        let retry = store
            .create_child(child("K-17", "almaty-1", "psy-aliya", Some("req-1")))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);

        // The same request id from another owner is another request.
        let other = store
            .create_child(child("K-18", "almaty-1", "psy-bolat", Some("req-1")))
            .await
            .unwrap();
        assert!(!other.existed);
        assert_ne!(other.record.id, first.record.id);

        // Without a request id nothing is deduplicated, but the code rule still holds.
        assert!(
            store
                .create_child(child("K-17", "almaty-1", "psy-aliya", None))
                .await
                .is_err()
        );
        let all = store
            .list_children(ChildFilter::default(), PageRequest::first(100))
            .await
            .unwrap();
        assert_eq!(all.items.len(), 2);

        // Concurrent retries of one request create one child.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .create_child(child("K-99", "astana-2", "psy-aliya", Some("req-race")))
                    .await
                    .unwrap()
            }));
        }
        let mut ids = HashSet::new();
        let mut created = 0;
        for t in tasks {
            let r = t.await.unwrap();
            ids.insert(r.record.id);
            created += usize::from(!r.existed);
        }
        assert_eq!((ids.len(), created), (1, 1));
    }

    pub async fn child_code_unique_within_centre(fx: Arc<Fixture>) {
        let store = fx.open().await;
        store
            .create_child(child("K-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap();
        let dup = store
            .create_child(child("K-1", "almaty-1", "psy-bolat", Some("r")))
            .await;
        match dup {
            Err(StoreError::Duplicate {
                what: "child",
                detail,
            }) => {
                assert!(!detail.contains("Aliya"), "no personal data in errors: {detail}");
            }
            other => panic!("expected Duplicate, got {other:?}"),
        }
        let elsewhere = store
            .create_child(child("K-1", "astana-2", "psy-aliya", None))
            .await
            .unwrap();
        assert!(!elsewhere.existed);
        assert_eq!(elsewhere.record.centre, "astana-2");
    }

    pub async fn child_get_and_not_found(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(child("K-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        assert_eq!(store.get_child(&c.id).await.unwrap(), c);
        let missing = store.get_child("0000000000000000000000000z").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "child", .. })),
            "{missing:?}"
        );
        // A child without personal fields.
        let bare = NewChild {
            code: "P-2".into(),
            birth_date: "2019-01-01".into(),
            test_language: "ru".into(),
            centre: "almaty-1".into(),
            owner: "psy-aliya".into(),
            ..NewChild::default()
        };
        let b = store.create_child(bare).await.unwrap().record;
        assert_eq!(
            (b.sex, b.given_name, b.family_name, b.notes),
            (None, None, None, None)
        );
    }

    pub async fn children_paginate_in_id_order(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let mut created = Vec::new();
        for i in 0..25 {
            let c = store
                .create_child(child(&format!("K-{i:02}"), "almaty-1", "psy-aliya", None))
                .await
                .unwrap();
            created.push(c.record.id);
        }
        created.sort();
        let mut seen = Vec::new();
        let mut page = PageRequest::first(7);
        let mut sizes = Vec::new();
        loop {
            let p = store
                .list_children(ChildFilter::default(), page.clone())
                .await
                .unwrap();
            sizes.push(p.items.len());
            seen.extend(p.items.iter().map(|c| c.id.clone()));
            match p.next {
                Some(next) => {
                    assert_eq!(Some(&next), seen.last(), "the cursor is the last id");
                    page.after = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(sizes, [7, 7, 7, 4]);
        assert_eq!(seen, created, "each child exactly once, in id order");

        // A page that holds exactly the rest has no cursor (no empty last page).
        let filter = ChildFilter {
            code_prefix: Some("K-0".into()),
            ..ChildFilter::default()
        };
        let p = store.list_children(filter, PageRequest::first(10)).await.unwrap();
        assert_eq!((p.items.len(), p.next), (10, None));
        let p = store
            .list_children(ChildFilter::default(), PageRequest::first(25))
            .await
            .unwrap();
        assert_eq!((p.items.len(), p.next), (25, None));
        let p = store
            .list_children(ChildFilter::default(), PageRequest::first(0))
            .await
            .unwrap();
        assert_eq!(p.items.len(), 25, "size 0 means the default page size");
    }

    pub async fn children_filters(fx: Arc<Fixture>) {
        let store = fx.open().await;
        for (code, centre, owner) in [
            ("AL-1", "almaty-1", "psy-aliya"),
            ("AL-2", "almaty-1", "psy-aliya"),
            ("AL-3", "almaty-1", "psy-bolat"),
            ("AS-1", "astana-2", "psy-aliya"),
            ("al-4", "almaty-1", "psy-aliya"),
            ("A%L", "almaty-1", "psy-aliya"),
        ] {
            store
                .create_child(child(code, centre, owner, None))
                .await
                .unwrap();
        }
        let codes = |filter: ChildFilter| {
            let store = store.clone();
            async move {
                let mut codes: Vec<String> = store
                    .list_children(filter, PageRequest::first(100))
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|c| c.code)
                    .collect();
                codes.sort();
                codes
            }
        };
        let f = |centre: Option<&str>, owner: Option<&str>, prefix: Option<&str>| ChildFilter {
            centre: centre.map(str::to_owned),
            owner: owner.map(str::to_owned),
            code_prefix: prefix.map(str::to_owned),
        };
        assert_eq!(
            codes(f(Some("almaty-1"), None, None)).await,
            ["A%L", "AL-1", "AL-2", "AL-3", "al-4"]
        );
        assert_eq!(
            codes(f(None, Some("psy-aliya"), None)).await,
            ["A%L", "AL-1", "AL-2", "AS-1", "al-4"]
        );
        assert_eq!(
            codes(f(Some("almaty-1"), Some("psy-aliya"), Some("AL-"))).await,
            ["AL-1", "AL-2"]
        );
        assert_eq!(
            codes(f(None, None, Some("A"))).await,
            ["A%L", "AL-1", "AL-2", "AL-3", "AS-1"]
        );
        assert_eq!(
            codes(f(None, None, Some("A%"))).await,
            ["A%L"],
            "the prefix is literal, not a pattern"
        );
        assert_eq!(codes(f(Some("nowhere"), None, None)).await, Vec::<String>::new());
    }

    pub async fn session_create_is_idempotent_and_needs_child(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(child("K-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let first = store
            .create_session(session(&c.id, "psy-aliya", Some("s-1")))
            .await
            .unwrap();
        assert!(!first.existed);
        let s = &first.record;
        assert_eq!(
            (s.child_id.as_str(), s.battery_id.as_str()),
            (c.id.as_str(), "demo")
        );
        assert_eq!(
            (s.norm_set_hash.as_str(), s.test_date.as_str()),
            ("sha256:0123abcd", "2026-05-20")
        );
        assert_eq!(
            (s.examiner.as_str(), s.state, s.finished_at),
            ("psy-aliya", SessionState::Active, None)
        );

        let retry = store
            .create_session(session(&c.id, "psy-aliya", Some("s-1")))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);
        let other = store
            .create_session(session(&c.id, "psy-bolat", Some("s-1")))
            .await
            .unwrap();
        assert!(!other.existed);
        assert_eq!(store.get_session(&first.record.id).await.unwrap(), first.record);

        let orphan = store
            .create_session(session("0000000000000000000000000z", "psy-aliya", None))
            .await;
        assert!(
            matches!(orphan, Err(StoreError::NotFound { what: "child", .. })),
            "{orphan:?}"
        );
        let missing = store.get_session("0000000000000000000000000z").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );
    }

    pub async fn session_list_filters_and_pages(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let a = store
            .create_child(child("K-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let b = store
            .create_child(child("K-2", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let c = store
            .create_child(child("K-3", "astana-2", "psy-dana", None))
            .await
            .unwrap()
            .record;
        let mut ids = Vec::new();
        for (c, examiner) in [
            (&a, "psy-aliya"),
            (&a, "psy-bolat"),
            (&b, "psy-aliya"),
            (&a, "psy-aliya"),
            (&c, "psy-dana"),
        ] {
            ids.push(
                store
                    .create_session(session(&c.id, examiner, None))
                    .await
                    .unwrap()
                    .record
                    .id,
            );
        }
        let count = |child: Option<&str>, examiner: Option<&str>, centre: Option<&str>| {
            let store = store.clone();
            let filter = SessionFilter {
                child_id: child.map(str::to_owned),
                examiner: examiner.map(str::to_owned),
                centre: centre.map(str::to_owned),
            };
            async move {
                store
                    .list_sessions(filter, PageRequest::first(100))
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        };
        assert_eq!(count(None, None, None).await, 5);
        assert_eq!(count(Some(&a.id), None, None).await, 3);
        assert_eq!(count(None, Some("psy-aliya"), None).await, 3);
        assert_eq!(count(Some(&a.id), Some("psy-aliya"), None).await, 2);
        assert_eq!(count(Some(&b.id), Some("psy-bolat"), None).await, 0);
        assert_eq!(count(None, None, Some("almaty-1")).await, 4);
        assert_eq!(count(None, None, Some("astana-2")).await, 1);
        assert_eq!(count(None, Some("psy-aliya"), Some("astana-2")).await, 0);
        assert_eq!(count(Some(&c.id), None, Some("almaty-1")).await, 0);
        assert_eq!(count(None, None, Some("nowhere")).await, 0);

        ids.sort();
        let p1 = store
            .list_sessions(SessionFilter::default(), PageRequest::first(3))
            .await
            .unwrap();
        assert_eq!(p1.next.as_ref(), Some(&ids[2]));
        let p2 = store
            .list_sessions(
                SessionFilter::default(),
                PageRequest {
                    size: 3,
                    after: p1.next,
                },
            )
            .await
            .unwrap();
        assert_eq!(p2.next, None);
        let seen: Vec<String> = p1.items.into_iter().chain(p2.items).map(|s| s.id).collect();
        assert_eq!(seen, ids);
    }

    pub async fn session_state_compare_and_set(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let paused = store
            .set_session_state(&id, SessionState::Active, SessionState::Paused)
            .await
            .unwrap();
        assert_eq!((paused.state, paused.finished_at), (SessionState::Paused, None));

        let stale = store
            .set_session_state(&id, SessionState::Active, SessionState::Finished)
            .await;
        match stale {
            Err(StoreError::Conflict { detail }) => assert!(detail.contains("paused"), "{detail}"),
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert_eq!(store.get_session(&id).await.unwrap().state, SessionState::Paused);

        store
            .set_session_state(&id, SessionState::Paused, SessionState::Active)
            .await
            .unwrap();
        let finished = store
            .set_session_state(&id, SessionState::Active, SessionState::Finished)
            .await
            .unwrap();
        assert_eq!(finished.state, SessionState::Finished);
        let at = finished.finished_at.expect("finished_at set");
        assert!(at >= finished.created_at);
        assert_eq!(store.get_session(&id).await.unwrap(), finished);

        let missing = store
            .set_session_state(
                "0000000000000000000000000z",
                SessionState::Active,
                SessionState::Paused,
            )
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );

        // Only one of many racing compare-and-sets wins.
        let id = active_session_in_centre(&*store, "race").await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (store, id) = (store.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                store
                    .set_session_state(&id, SessionState::Active, SessionState::Finished)
                    .await
            }));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => wins += 1,
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(wins, 1);
    }

    async fn active_session_in_centre(store: &dyn Store, centre: &str) -> String {
        let c = store
            .create_child(child("R-1", centre, "psy-aliya", None))
            .await
            .unwrap();
        store
            .create_session(session(&c.record.id, "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id
    }

    pub async fn responses_get_gapless_seqs_in_order(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let other = active_session_in_centre(&*store, "astana-2").await;
        for n in 1..=5 {
            let r = store.append_response(response(&id, n, None), None).await.unwrap();
            assert!(!r.existed);
            assert_eq!(r.record.seq, n as i64);
            assert_eq!(r.record.payload, format!(r#"{{"item":{n},"score":1}}"#));
        }
        // Sequences are per session.
        assert_eq!(
            store
                .append_response(response(&other, 1, None), None)
                .await
                .unwrap()
                .record
                .seq,
            1
        );

        let log = store.responses(&id).await.unwrap();
        assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert!(
            log.iter()
                .all(|r| r.session_id == id && r.subtest == "matrices" && r.request_id.is_none())
        );
        assert!(log.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
        assert_eq!(log[2].payload, r#"{"item":3,"score":1}"#);

        assert_eq!(store.responses(&other).await.unwrap().len(), 1);
        let missing = store.responses("0000000000000000000000000z").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );
        let orphan = store
            .append_response(response("0000000000000000000000000z", 1, None), None)
            .await;
        assert!(
            matches!(orphan, Err(StoreError::NotFound { what: "session", .. })),
            "{orphan:?}"
        );
    }

    pub async fn response_retry_returns_stored_response(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        store
            .append_response(response(&id, 1, Some("r-1".into())), None)
            .await
            .unwrap();
        let second = store
            .append_response(response(&id, 2, Some("r-2".into())), None)
            .await
            .unwrap();
        assert_eq!(second.record.seq, 2);

        // The retry carries the same request id (even a different body): the stored response comes back.
        let retry = store
            .append_response(response(&id, 99, Some("r-2".into())), None)
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, second.record);
        assert_eq!(
            store.responses(&id).await.unwrap().len(),
            2,
            "a retry adds no row"
        );

        let third = store
            .append_response(response(&id, 3, Some("r-3".into())), None)
            .await
            .unwrap();
        assert_eq!(third.record.seq, 3);

        // A retry still answers after the session finished.
        store
            .set_session_state(&id, SessionState::Active, SessionState::Finished)
            .await
            .unwrap();
        let late = store
            .append_response(response(&id, 3, Some("r-3".into())), None)
            .await
            .unwrap();
        assert!(late.existed);
        assert_eq!(late.record, third.record);
    }

    pub async fn append_refused_unless_active(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        store.append_response(response(&id, 1, None), None).await.unwrap();

        store
            .set_session_state(&id, SessionState::Active, SessionState::Paused)
            .await
            .unwrap();
        let paused = store
            .append_response(response(&id, 2, Some("p".into())), None)
            .await;
        assert!(matches!(paused, Err(StoreError::Conflict { .. })), "{paused:?}");

        store
            .set_session_state(&id, SessionState::Paused, SessionState::Active)
            .await
            .unwrap();
        assert_eq!(
            store
                .append_response(response(&id, 2, None), None)
                .await
                .unwrap()
                .record
                .seq,
            2
        );

        store
            .set_session_state(&id, SessionState::Active, SessionState::Finished)
            .await
            .unwrap();
        let finished = store
            .append_response(response(&id, 3, Some("f".into())), None)
            .await;
        match finished {
            Err(StoreError::Conflict { detail }) => assert!(detail.contains("finished"), "{detail}"),
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert_eq!(store.responses(&id).await.unwrap().len(), 2);
    }

    /// Appends `tasks × per_task` responses concurrently through `stores` (round robin) and
    /// checks the log is exactly 1..=n with every task's own appends in order.
    async fn append_concurrently(stores: &[Arc<dyn Store>], session_id: &str, tasks: usize, per_task: usize) {
        let mut handles = Vec::new();
        for t in 0..tasks {
            let store = stores[t % stores.len()].clone();
            let session_id = session_id.to_owned();
            handles.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..per_task {
                    let n = t * 1000 + i;
                    let r = store
                        .append_response(response(&session_id, n, Some(format!("t{t}-{i}"))), None)
                        .await;
                    seqs.push(
                        r.unwrap_or_else(|e| panic!("task {t} append {i}: {e}"))
                            .record
                            .seq,
                    );
                }
                seqs
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            let seqs = h.await.unwrap();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "a task's appends are ordered: {seqs:?}"
            );
            all.extend(seqs);
        }
        all.sort_unstable();
        let n = (tasks * per_task) as i64;
        assert_eq!(all, (1..=n).collect::<Vec<_>>(), "unique, gapless seqs");

        let log = stores[0].responses(session_id).await.unwrap();
        assert_eq!(
            log.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (1..=n).collect::<Vec<_>>()
        );
        let distinct: HashSet<&str> = log.iter().filter_map(|r| r.request_id.as_deref()).collect();
        assert_eq!(distinct.len(), tasks * per_task);
    }

    pub async fn concurrent_appends_are_gapless(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        append_concurrently(&[store], &id, 8, 25).await;
    }

    /// Two stores on one database behave like two server replicas (or two processes on one
    /// SQLite file): nothing may depend on in-process state.
    pub async fn two_stores_on_one_database_share_the_sequence(fx: Arc<Fixture>) {
        let a = fx.open().await;
        let b = fx.open().await;
        let id = active_session(&*a).await;
        append_concurrently(&[a.clone(), b.clone()], &id, 8, 10).await;
        // A retry through the other replica finds the stored response.
        let r = b
            .append_response(response(&id, 0, Some("t0-0".into())), None)
            .await
            .unwrap();
        assert!(r.existed);
        assert_eq!(
            b.get_session(&id).await.unwrap(),
            a.get_session(&id).await.unwrap()
        );
    }

    pub async fn responses_survive_reopening(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let mut acked = Vec::new();
        for n in 1..=3 {
            acked.push(
                store
                    .append_response(response(&id, n, Some(format!("d{n}"))), None)
                    .await
                    .unwrap()
                    .record,
            );
        }
        // Dropped without `close`: acknowledged writes are already durable.
        drop(store);
        let store = fx.open().await;
        assert_eq!(store.responses(&id).await.unwrap(), acked);
        assert_eq!(
            store
                .append_response(response(&id, 4, None), None)
                .await
                .unwrap()
                .record
                .seq,
            4
        );
        store.close().await;
        let store = fx.open().await;
        assert_eq!(store.responses(&id).await.unwrap().len(), 4);
    }

    pub async fn audit_entries_recorded_and_filtered(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let entry = |action: &str, child: Option<&str>| AuditEntry {
            principal: "psy-aliya".into(),
            action: action.into(),
            resource: child.map_or("children".into(), |c| format!("children/{c}")),
            child_id: child.map(str::to_owned),
        };
        let first = store.audit(entry("child.create", Some("c1"))).await.unwrap();
        assert_eq!(
            (
                first.principal.as_str(),
                first.action.as_str(),
                first.resource.as_str()
            ),
            ("psy-aliya", "child.create", "children/c1")
        );
        assert!(first.at > 1_700_000_000_000);
        store.audit(entry("child.list", None)).await.unwrap();
        store.audit(entry("child.read", Some("c2"))).await.unwrap();
        store.audit(entry("child.read", Some("c1"))).await.unwrap();

        let all = store.audit_entries(None).await.unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0], first);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id && w[0].at <= w[1].at));
        let c1 = store.audit_entries(Some("c1")).await.unwrap();
        assert_eq!(
            c1.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["child.create", "child.read"]
        );
        assert!(c1.iter().all(|e| e.child_id.as_deref() == Some("c1")));
        assert!(store.audit_entries(Some("nobody")).await.unwrap().is_empty());
    }

    fn audit_entry(session_id: &str, child_id: &str) -> AuditEntry {
        AuditEntry {
            principal: "psy-aliya".into(),
            action: "record_response".into(),
            resource: format!("sessions/{session_id}"),
            child_id: Some(child_id.to_owned()),
        }
    }

    /// The audit entry given with an append is stored with the response, and only when the
    /// response is: a retry or a refused append writes none.
    pub async fn append_writes_its_audit_entry_with_it(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(child("A-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let id = store
            .create_session(session(&c.id, "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id;
        let entry = audit_entry(&id, &c.id);
        let first = store
            .append_response(response(&id, 1, Some("a-1".into())), Some(entry.clone()))
            .await
            .unwrap();
        assert!(!first.existed);
        let audited = store.audit_entries(Some(&c.id)).await.unwrap();
        assert_eq!(audited.len(), 1);
        let a = &audited[0];
        assert_eq!(
            (&a.principal, &a.action, &a.resource, &a.child_id),
            (&entry.principal, &entry.action, &entry.resource, &entry.child_id)
        );
        assert!(a.at >= first.record.recorded_at - 1000 && a.at <= first.record.recorded_at + 1000);

        // A retry: the stored response, no second entry.
        let retry = store
            .append_response(response(&id, 9, Some("a-1".into())), Some(entry.clone()))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);
        assert_eq!(store.audit_entries(Some(&c.id)).await.unwrap().len(), 1);

        // Without an entry, none is written.
        store.append_response(response(&id, 2, None), None).await.unwrap();
        assert_eq!(store.audit_entries(None).await.unwrap().len(), 1);

        // Refused appends write none.
        let missing = store
            .append_response(
                response("0000000000000000000000000z", 1, None),
                Some(entry.clone()),
            )
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");
        store
            .set_session_state(&id, SessionState::Active, SessionState::Finished)
            .await
            .unwrap();
        let refused = store
            .append_response(response(&id, 3, Some("a-3".into())), Some(entry.clone()))
            .await;
        assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
        assert_eq!(store.audit_entries(None).await.unwrap().len(), 1);
        assert_eq!(store.responses(&id).await.unwrap().len(), 2);
    }

    pub async fn responses_for_one_subtest(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let other = active_session_in_centre(&*store, "astana-2").await;
        let subtests = ["voc", "sim", "voc", "mr", "voc", "sim"];
        for (n, subtest) in subtests.iter().enumerate() {
            let new = NewResponse {
                subtest: (*subtest).to_owned(),
                ..response(&id, n, Some(format!("r{n}")))
            };
            store.append_response(new, None).await.unwrap();
        }
        store
            .append_response(
                NewResponse {
                    subtest: "voc".into(),
                    ..response(&other, 0, None)
                },
                None,
            )
            .await
            .unwrap();
        let all = store.responses(&id).await.unwrap();
        for subtest in ["voc", "sim", "mr"] {
            let part = store.responses_for_subtest(&id, subtest).await.unwrap();
            let expected: Vec<_> = all.iter().filter(|r| r.subtest == subtest).cloned().collect();
            assert_eq!(part, expected, "{subtest}: its responses, whole, in seq order");
        }
        assert_eq!(
            store
                .responses_for_subtest(&id, "voc")
                .await
                .unwrap()
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>(),
            [1, 3, 5]
        );
        assert!(store.responses_for_subtest(&id, "ds").await.unwrap().is_empty());
        let fresh = active_session_in_centre(&*store, "shymkent-3").await;
        assert!(
            store
                .responses_for_subtest(&fresh, "voc")
                .await
                .unwrap()
                .is_empty()
        );
        let missing = store
            .responses_for_subtest("0000000000000000000000000z", "voc")
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );

        // The same, with the session and its child, in one read.
        for (sid, subtest) in [
            (&id, "voc"),
            (&id, "sim"),
            (&id, "ds"),
            (&fresh, "voc"),
            (&other, "voc"),
        ] {
            let ctx = store.subtest_context(sid, subtest).await.unwrap();
            let session = store.get_session(sid).await.unwrap();
            let child = store.get_child(&session.child_id).await.unwrap();
            assert_eq!(ctx.session, session);
            assert_eq!(ctx.child, child, "every field, personal ones included");
            assert_eq!(
                ctx.responses,
                store.responses_for_subtest(sid, subtest).await.unwrap()
            );
        }
        let missing = store.subtest_context("0000000000000000000000000z", "voc").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );
    }

    /// Makes the database refuse audit entries whose principal is "refuse-me" (a trigger), so
    /// that the second write of an append fails after the first succeeded.
    async fn refuse_some_audit_entries(fx: &Fixture) {
        match fx {
            Fixture::Sqlite { url, .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query(
                    "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log \
                     WHEN NEW.principal = 'refuse-me' \
                     BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END",
                )
                .execute(&mut conn)
                .await
                .unwrap();
                conn.close().await.unwrap();
            }
            Fixture::Postgres { url, schema } => {
                let mut conn = admin_connection(url).await;
                for sql in [
                    format!("SET search_path TO \"{schema}\""),
                    "CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'refused by the test trigger'; END $$"
                        .to_owned(),
                    "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log FOR EACH ROW \
                     WHEN (NEW.principal = 'refuse-me') EXECUTE FUNCTION audit_refuse()"
                        .to_owned(),
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// When the audit entry cannot be written, the response is not stored either (and the
    /// append fails), while concurrent appends (in the same SQLite group) succeed.
    pub async fn a_failed_audit_write_stores_neither(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(child("F-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let mut sessions = Vec::new();
        for _ in 0..4 {
            let s = store
                .create_session(session(&c.id, "psy-aliya", None))
                .await
                .unwrap();
            sessions.push(s.record.id);
        }
        refuse_some_audit_entries(&fx).await;
        let mut handles = Vec::new();
        for (si, sid) in sessions.iter().enumerate() {
            for t in 0..4 {
                let (store, sid, child_id) = (store.clone(), sid.clone(), c.id.clone());
                handles.push(tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    for i in 0..12 {
                        let refused = (t + i) % 3 == 0;
                        let entry = AuditEntry {
                            principal: if refused { "refuse-me" } else { "psy-aliya" }.into(),
                            ..audit_entry(&sid, &child_id)
                        };
                        let rid = format!("s{si}-t{t}-{i}");
                        let r = store
                            .append_response(response(&sid, i, Some(rid.clone())), Some(entry))
                            .await;
                        outcomes.push((rid, refused, r));
                    }
                    outcomes
                }));
            }
        }
        let mut stored = 0;
        for h in handles {
            for (rid, refused, r) in h.await.unwrap() {
                match (refused, r) {
                    (true, Err(StoreError::Backend(_))) => {}
                    (false, Ok(r)) => {
                        assert!(!r.existed);
                        stored += 1;
                    }
                    (refused, other) => panic!("{rid} (refused: {refused}): {other:?}"),
                }
            }
        }
        let mut logged = 0;
        for sid in &sessions {
            let log = store.responses(sid).await.unwrap();
            assert_eq!(
                log.iter().map(|r| r.seq).collect::<Vec<_>>(),
                (1..=log.len() as i64).collect::<Vec<_>>(),
                "a failed append leaves no gap"
            );
            logged += log.len();
        }
        assert_eq!(logged, stored, "only the appends acknowledged are stored");
        assert_eq!(store.audit_entries(Some(&c.id)).await.unwrap().len(), stored);
    }

    /// Many concurrent appends across many sessions (SQLite commits them in groups): seqs
    /// stay gapless per session, every acknowledged append is stored as acknowledged, a retry
    /// racing its first attempt (likely in the same group) and a later retry (in another
    /// group) get the same response, and appends refused in the middle of the others (a
    /// finished session) fail alone.
    fn edit(
        session_id: &str,
        item: &str,
        text: &str,
        author: &str,
        request_id: Option<&str>,
    ) -> NewReportEdit {
        NewReportEdit {
            session_id: session_id.to_owned(),
            item: item.to_owned(),
            text: text.to_owned(),
            author: author.to_owned(),
            request_id: request_id.map(str::to_owned),
        }
    }

    /// Issue 6, part 4: an edit is appended beside the generated report and earlier edits;
    /// two edits of one item both stay, in order, the later with the higher id.
    pub async fn report_edits_are_appended_never_overwritten(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let other = active_session_in_centre(&*store, "astana-2").await;
        let first = store
            .append_report_edit(edit(&id, "referral", "Первый вариант", "psy-aliya", Some("e-1")))
            .await
            .unwrap();
        assert!(!first.existed);
        store
            .append_report_edit(edit(&other, "referral", "elsewhere", "psy-aliya", Some("e-x")))
            .await
            .unwrap();
        let second = store
            .append_report_edit(edit(&id, "referral", "Second text", "psy-aliya", Some("e-2")))
            .await
            .unwrap();
        assert!(second.record.id > first.record.id);
        assert!(second.record.created_at >= first.record.created_at);
        let page = store.report_edits(&id, PageRequest::first(0)).await.unwrap();
        assert_eq!(page.next, None);
        assert_eq!(
            page.items
                .iter()
                .map(|e| (e.item.as_str(), e.text.as_str(), e.author.as_str()))
                .collect::<Vec<_>>(),
            [
                ("referral", "Первый вариант", "psy-aliya"),
                ("referral", "Second text", "psy-aliya")
            ],
            "both edits kept, oldest first, texts as written"
        );
        assert_eq!(page.items[0], first.record);
        assert_eq!(page.items[1].request_id.as_deref(), Some("e-2"));
        // Edits are kept whatever the session's state.
        store
            .set_session_state(&id, SessionState::Active, SessionState::Finished)
            .await
            .unwrap();
        store
            .append_report_edit(edit(&id, "summary/1", "x", "psy-aliya", None))
            .await
            .unwrap();
        assert_eq!(
            store
                .report_edits(&id, PageRequest::first(0))
                .await
                .unwrap()
                .items
                .len(),
            3
        );
        // Unknown sessions.
        let orphan = store
            .append_report_edit(edit("0000000000000000000000000z", "referral", "x", "p", None))
            .await;
        assert!(
            matches!(orphan, Err(StoreError::NotFound { what: "session", .. })),
            "{orphan:?}"
        );
        let none = store
            .report_edits("0000000000000000000000000z", PageRequest::first(0))
            .await;
        assert!(matches!(none, Err(StoreError::NotFound { .. })), "{none:?}");
        // Reopened: still there.
        let again = fx.open().await;
        assert_eq!(
            again
                .report_edits(&id, PageRequest::first(0))
                .await
                .unwrap()
                .items
                .len(),
            3
        );
    }

    /// A retry with the same (author, request id) returns the stored edit and writes nothing,
    /// even with another text; the same request id of another author is another edit.
    pub async fn report_edit_retry_is_applied_once(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let first = store
            .append_report_edit(edit(&id, "strengths/verbal", "text", "psy-aliya", Some("r-1")))
            .await
            .unwrap();
        let retry = store
            .append_report_edit(edit(&id, "strengths/verbal", "changed", "psy-aliya", Some("r-1")))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);
        let colleague = store
            .append_report_edit(edit(&id, "strengths/verbal", "theirs", "psy-dana", Some("r-1")))
            .await
            .unwrap();
        assert!(!colleague.existed);
        // Without a request id every call is a new edit.
        for _ in 0..2 {
            store
                .append_report_edit(edit(&id, "interests", "same", "psy-aliya", None))
                .await
                .unwrap();
        }
        let texts: Vec<String> = store
            .report_edits(&id, PageRequest::first(0))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.text)
            .collect();
        assert_eq!(texts, ["text", "theirs", "same", "same"]);
    }

    pub async fn report_edits_paginate_in_order(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        for n in 0..7 {
            store
                .append_report_edit(edit(
                    &id,
                    &format!("caveats/{}", n % 3 + 1),
                    &n.to_string(),
                    "p",
                    None,
                ))
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .report_edits(&id, PageRequest { size: 3, after })
                .await
                .unwrap();
            assert!(page.items.len() <= 3);
            seen.extend(page.items.iter().map(|e| e.text.clone()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["0", "1", "2", "3", "4", "5", "6"]);
        let bad = store
            .report_edits(
                &id,
                PageRequest {
                    size: 3,
                    after: Some("not-a-cursor".into()),
                },
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Conflict { .. })), "{bad:?}");
    }

    pub async fn grouped_appends_keep_their_own_outcomes(fx: Arc<Fixture>) {
        const SESSIONS: usize = 16;
        const TASKS: usize = 8;
        const PER_TASK: usize = 20;
        let store = fx.open().await;
        let c = store
            .create_child(child("G-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let mut sessions = Vec::new();
        for _ in 0..SESSIONS {
            let s = store
                .create_session(session(&c.id, "psy-aliya", None))
                .await
                .unwrap();
            sessions.push(s.record.id);
        }
        let finished = store
            .create_session(session(&c.id, "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id;
        store
            .append_response(response(&finished, 0, Some("before".into())), None)
            .await
            .unwrap();
        store
            .set_session_state(&finished, SessionState::Active, SessionState::Finished)
            .await
            .unwrap();

        let mut handles = Vec::new();
        for (si, sid) in sessions.iter().enumerate() {
            for t in 0..TASKS {
                let (store, sid, finished, child_id) =
                    (store.clone(), sid.clone(), finished.clone(), c.id.clone());
                handles.push(tokio::spawn(async move {
                    let mut acked = Vec::new();
                    for i in 0..PER_TASK {
                        let rid = Some(format!("s{si}-t{t}-{i}"));
                        let n = t * 1000 + i;
                        let entry = || Some(audit_entry(&sid, &child_id));
                        if i % 4 == 0 {
                            let (a, b, refused) = tokio::join!(
                                store.append_response(response(&sid, n, rid.clone()), entry()),
                                store.append_response(response(&sid, n, rid.clone()), entry()),
                                store.append_response(response(&finished, n, rid.clone()), entry()),
                            );
                            let (a, b) = (
                                a.unwrap_or_else(|e| panic!("s{si} t{t} {i}: {e}")),
                                b.unwrap_or_else(|e| panic!("s{si} t{t} {i} (retry): {e}")),
                            );
                            assert_eq!(a.record, b.record, "a racing retry gets the same response");
                            assert_ne!(a.existed, b.existed, "exactly one of the two stored it");
                            assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
                            acked.push(a.record);
                        } else {
                            let r = store
                                .append_response(response(&sid, n, rid), entry())
                                .await
                                .unwrap_or_else(|e| panic!("s{si} t{t} {i}: {e}"));
                            assert!(!r.existed);
                            acked.push(r.record);
                        }
                    }
                    acked
                }));
            }
        }
        let mut acked = Vec::new();
        for h in handles {
            let mine = h.await.unwrap();
            assert!(
                mine.windows(2).all(|w| w[0].seq < w[1].seq),
                "a task's appends are ordered"
            );
            acked.extend(mine);
        }
        let per_session = (TASKS * PER_TASK) as i64;
        for sid in &sessions {
            let mut mine: Vec<_> = acked.iter().filter(|r| &r.session_id == sid).cloned().collect();
            mine.sort_by_key(|r| r.seq);
            assert_eq!(
                mine.iter().map(|r| r.seq).collect::<Vec<_>>(),
                (1..=per_session).collect::<Vec<_>>(),
                "unique, gapless seqs per session"
            );
            assert_eq!(
                store.responses(sid).await.unwrap(),
                mine,
                "every acknowledged append is stored as acknowledged, and nothing else"
            );
        }
        assert_eq!(store.responses(&finished).await.unwrap().len(), 1);

        // Retries long after (other groups) get the stored responses, concurrently too.
        let mut retries = Vec::new();
        for r in acked.iter().step_by(3) {
            let (store, r, child_id) = (store.clone(), r.clone(), c.id.clone());
            retries.push(tokio::spawn(async move {
                let again = store
                    .append_response(
                        response(&r.session_id, 99_999, r.request_id.clone()),
                        Some(audit_entry(&r.session_id, &child_id)),
                    )
                    .await
                    .unwrap();
                assert!(again.existed);
                assert_eq!(again.record, r);
            }));
        }
        for h in retries {
            h.await.unwrap();
        }
        // One audit entry per stored response: none for retries or refused appends.
        assert_eq!(
            store.audit_entries(Some(&c.id)).await.unwrap().len(),
            SESSIONS * TASKS * PER_TASK
        );
    }
}

/// The SQLite file is created on open, in WAL mode, and both URL spellings work.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_urls_and_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.db");
    let store = SqliteStore::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    let id = checks_session(&store).await;
    store.append_response(checks_response(&id), None).await.unwrap();
    store
        .audit(AuditEntry {
            principal: "p".into(),
            ..AuditEntry::default()
        })
        .await
        .unwrap();
    store.close().await;
    let mut conn = {
        use sqlx::Connection;
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // The logs are append-only in the schema itself.
    assert!(
        sqlx::query("UPDATE responses SET payload = 'x'")
            .execute(&mut conn)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM responses")
            .execute(&mut conn)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut conn)
            .await
            .is_err()
    );

    let memory = open_store("sqlite::memory:").await.unwrap();
    let c = memory.create_child(checks_child()).await.unwrap();
    assert_eq!(memory.get_child(&c.record.id).await.unwrap().code, "M-1");

    assert!(matches!(
        open_store("mysql://x").await,
        Err(StoreError::Backend(_))
    ));
}

fn checks_child() -> NewChild {
    NewChild {
        code: "M-1".into(),
        birth_date: "2018-06-01".into(),
        test_language: "en".into(),
        centre: "c".into(),
        owner: "o".into(),
        ..NewChild::default()
    }
}

/// The PostgreSQL schema rejects changes to the append-only logs, and migrations are
/// idempotent across replicas (a second connect finds them applied).
#[tokio::test(flavor = "multi_thread")]
async fn postgres_logs_are_append_only() {
    with_postgres(|fx| async move {
        let store = fx.open().await;
        let id = checks_session(&*store).await;
        store.append_response(checks_response(&id), None).await.unwrap();
        store
            .audit(AuditEntry {
                principal: "p".into(),
                ..AuditEntry::default()
            })
            .await
            .unwrap();
        let Fixture::Postgres { url, schema } = &*fx else {
            unreachable!()
        };
        let mut conn = admin_connection(url).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO \"{schema}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        assert!(
            sqlx::query("UPDATE responses SET payload = 'x'")
                .execute(&mut conn)
                .await
                .is_err()
        );
        assert!(
            sqlx::query("DELETE FROM audit_log")
                .execute(&mut conn)
                .await
                .is_err()
        );
        let again = fx.open().await;
        assert_eq!(again.responses(&id).await.unwrap().len(), 1);
    })
    .await;
}

fn checks_response(session_id: &str) -> NewResponse {
    NewResponse {
        session_id: session_id.into(),
        subtest: "s".into(),
        payload: "{}".into(),
        request_id: None,
    }
}

async fn checks_session(store: &dyn Store) -> String {
    let c = store.create_child(checks_child()).await.unwrap().record;
    store
        .create_session(NewSession {
            child_id: c.id,
            battery_id: "b".into(),
            norm_set_hash: "h".into(),
            test_date: "2026-01-01".into(),
            examiner: "o".into(),
            request_id: None,
        })
        .await
        .unwrap()
        .record
        .id
}
