//! One suite of storage checks, written once against `dyn Store` and run for both backends:
//! SQLite (a fresh file in a temporary directory per test) and PostgreSQL (a fresh schema per
//! test in the database named by `QABILET_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; an unreachable server fails the tests).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use qabilet_server::store::screening::{
    Cohort, CohortFilter, NewCohort, NewTicket, RosterCounts, RosterImport, RosterOutcome, RosterRow,
};
use qabilet_server::store::{
    AuditEntry, AuditFilter, AuditOutcome, ChildFilter, Created, MAX_PAGE_SIZE, NewChild, NewConsoleSession,
    NewReportEdit, NewResponse, NewSession, NewToken, PageRequest, Personal, PostgresStore, RequestKey,
    Response, Role, SessionFilter, SessionState, SqliteStore, StateChange, Store, StoreError, TakeContext,
    TakeSession, open_store,
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
    tokens_expire_and_are_read_by_id,
    console_sessions_are_created_touched_and_purged,
    child_create_is_idempotent,
    child_code_unique_within_centre,
    child_get_and_not_found,
    children_paginate_in_id_order,
    children_filters,
    personal_fields_never_in_debug_output,
    session_create_is_idempotent_and_needs_child,
    session_list_filters_and_pages,
    session_state_compare_and_set,
    session_state_changes_are_idempotent_and_logged,
    request_keys_belong_to_the_token,
    reused_request_ids_are_refused,
    responses_get_gapless_seqs_in_order,
    response_retry_returns_stored_response,
    append_refused_unless_active,
    stale_appends_are_refused,
    racing_appends_after_the_same_seq,
    two_stores_racing_after_the_same_seq,
    concurrent_appends_are_gapless,
    two_stores_on_one_database_share_the_sequence,
    responses_survive_reopening,
    audit_entries_recorded_and_filtered,
    audit_entries_paginate_in_order,
    append_writes_its_audit_entry_with_it,
    responses_for_one_subtest,
    grouped_appends_keep_their_own_outcomes,
    a_failed_audit_write_stores_neither,
    report_edits_are_appended_never_overwritten,
    report_edit_retry_is_applied_once,
    report_edits_paginate_in_order,
    old_databases_migrate,
    cohorts_are_created_once_per_key_and_listed,
    a_roster_is_imported_all_or_nothing,
    tickets_bind_one_device_and_one_session,
    a_device_reads_its_ticket_and_session_together,
    subtest_clocks_start_once_and_extend,
);

mod checks {
    use super::*;

    /// The token most checks write with.
    const TOKEN: &str = "tok-aliya";

    /// An idempotency key of `token`: `request_id` with `fingerprint`.
    fn key_of(token: &str, request_id: &str, fingerprint: &str) -> RequestKey {
        RequestKey {
            token_id: token.to_owned(),
            request_id: request_id.to_owned(),
            fingerprint: fingerprint.to_owned(),
        }
    }

    /// A key of [`TOKEN`] with a fingerprint made from `fields` (a stand-in for the hash the
    /// caller computes from the request).
    fn key(request_id: &str, fields: &str) -> RequestKey {
        key_of(TOKEN, request_id, &format!("fp:{fields}"))
    }

    fn child(code: &str, centre: &str, owner: &str, request_id: Option<&str>) -> NewChild {
        NewChild {
            code: code.to_owned(),
            birth_date: "2017-03-14".to_owned(),
            sex: Some("f".to_owned()),
            test_language: "kk".to_owned(),
            centre: centre.to_owned(),
            owner: owner.to_owned(),
            given_name: Some(Personal::new("Aliya".to_owned())),
            family_name: None,
            notes: Some(Personal::new("left-handed".to_owned())),
            request: request_id.map(|r| key(r, &format!("{code}/{centre}"))),
        }
    }

    fn session(child_id: &str, examiner: &str, request_id: Option<&str>) -> NewSession {
        NewSession {
            child_id: child_id.to_owned(),
            battery_id: "demo".to_owned(),
            norm_set_hash: "sha256:0123abcd".to_owned(),
            test_date: "2026-05-20".to_owned(),
            examiner: examiner.to_owned(),
            request: request_id.map(|r| key(r, child_id)),
        }
    }

    /// Response `n` (its payload, and the fingerprint of its key, follow from `n`), appended
    /// after an empty log unless the caller says otherwise.
    fn response(session_id: &str, n: usize, request_id: Option<String>) -> NewResponse {
        NewResponse {
            session_id: session_id.to_owned(),
            subtest: "matrices".to_owned(),
            payload: format!(r#"{{"item":{n},"score":1}}"#),
            after_seq: 0,
            request: request_id.map(|r| key(&r, &format!("{session_id}/{n}"))),
        }
    }

    /// The last seq of the session's log (0 for an empty log or an unknown session).
    async fn last_seq(store: &dyn Store, session_id: &str) -> i64 {
        store
            .subtest_context(session_id, "")
            .await
            .map_or(0, |ctx| ctx.last_seq)
    }

    /// Appends `new` after the session's last response as it is now, reading again and
    /// retrying while another append gets in first (what a caller of the store does).
    async fn append(
        store: &dyn Store,
        mut new: NewResponse,
        audit: Option<AuditEntry>,
    ) -> Result<Created<Response>, StoreError> {
        loop {
            new.after_seq = last_seq(store, &new.session_id).await;
            match store.append_response(new.clone(), audit.clone()).await {
                Err(StoreError::Stale { .. }) => tokio::task::yield_now().await,
                other => return other,
            }
        }
    }

    fn pause(session_id: &str, request: Option<RequestKey>) -> StateChange {
        StateChange {
            session_id: session_id.to_owned(),
            from: vec![SessionState::Active],
            to: SessionState::Paused,
            request,
        }
    }

    fn resume(session_id: &str, request: Option<RequestKey>) -> StateChange {
        StateChange {
            session_id: session_id.to_owned(),
            from: vec![SessionState::Paused],
            to: SessionState::Active,
            request,
        }
    }

    fn finish(session_id: &str, request: Option<RequestKey>) -> StateChange {
        StateChange {
            session_id: session_id.to_owned(),
            from: vec![SessionState::Active, SessionState::Paused],
            to: SessionState::Finished,
            request,
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

    fn new_token(role: Role, subject: &str, secret_hash: &str) -> NewToken {
        NewToken {
            role,
            centre: "almaty-1".into(),
            subject: subject.into(),
            secret_hash: secret_hash.into(),
            expires_at: None,
        }
    }

    pub async fn tokens_create_lookup_revoke(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let hash = "a".repeat(64);
        let token = store
            .create_token(new_token(Role::Psychologist, "psy-aliya", &hash))
            .await
            .unwrap();
        assert_eq!(token.id.len(), 26);
        assert_eq!(
            (token.role, token.centre.as_str(), token.subject.as_str()),
            (Role::Psychologist, "almaty-1", "psy-aliya")
        );
        assert!(!token.revoked);
        assert_eq!(token.expires_at, None);
        assert!(token.created_at > 1_700_000_000_000);

        assert_eq!(store.token_by_hash(&hash).await.unwrap(), Some(token.clone()));
        assert_eq!(store.token_by_hash(&"b".repeat(64)).await.unwrap(), None);

        let again = NewToken {
            role: Role::Admin,
            centre: "x".into(),
            ..new_token(Role::Admin, "y", &hash)
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
                    centre: "c".into(),
                    ..new_token(role, role.as_str(), &format!("{role}-hash"))
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
                    expires_at: (i % 2 == 0).then_some(1_900_000_000_000 + i),
                    ..new_token(Role::Supervisor, &format!("sup-{i}"), &format!("{i:064}"))
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
            "every token once, in id order, revoked ones marked, expiries shown"
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

    /// A token's expiry is stored and read back by every lookup; an expired token is still
    /// returned (the caller refuses it). A token is read by id too.
    pub async fn tokens_expire_and_are_read_by_id(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let at = 1_800_000_000_123;
        let expiring = store
            .create_token(NewToken {
                expires_at: Some(at),
                ..new_token(Role::Integrator, "his-1", &"e".repeat(64))
            })
            .await
            .unwrap();
        assert_eq!(expiring.expires_at, Some(at));
        let expired = store
            .create_token(NewToken {
                expires_at: Some(1),
                ..new_token(Role::Researcher, "old", &"f".repeat(64))
            })
            .await
            .unwrap();
        let lasting = store
            .create_token(new_token(Role::Admin, "root", &"0".repeat(64)))
            .await
            .unwrap();

        for t in [&expiring, &expired, &lasting] {
            assert_eq!(&store.token(&t.id).await.unwrap(), t);
        }
        assert_eq!(
            store.token_by_hash(&"e".repeat(64)).await.unwrap(),
            Some(expiring.clone())
        );
        assert_eq!(
            store
                .token_by_hash(&"f".repeat(64))
                .await
                .unwrap()
                .map(|t| t.expires_at),
            Some(Some(1)),
            "an expired token is still found"
        );
        assert_eq!(
            store.revoke_token(&expiring.id).await.unwrap().expires_at,
            Some(at)
        );
        let listed = store.list_tokens(PageRequest::first(0)).await.unwrap().items;
        let expiries: HashSet<Option<i64>> = listed.iter().map(|t| t.expires_at).collect();
        assert_eq!(expiries, HashSet::from([Some(at), Some(1), None]));
        let missing = store.token("0000000000000000000000000z").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "token", .. })),
            "{missing:?}"
        );
        // Another replica reads the same.
        assert_eq!(
            fx.open().await.token(&expiring.id).await.unwrap().expires_at,
            Some(at)
        );
    }

    /// Console sessions: created for an existing token, read back with their token (revoked
    /// ones too), touched forward only, deleted idempotently, purged when idle or expired.
    pub async fn console_sessions_are_created_touched_and_purged(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let token = store
            .create_token(new_token(Role::Psychologist, "psy-aliya", &"c".repeat(64)))
            .await
            .unwrap();
        let hour = 3_600_000;
        let new = |hash: &str, expires_at: i64| NewConsoleSession {
            secret_hash: hash.to_owned(),
            token_id: token.id.clone(),
            expires_at,
        };
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let a = store
            .create_console_session(new("hash-a", before + hour))
            .await
            .unwrap();
        assert_eq!(
            (a.secret_hash.as_str(), a.token_id.as_str(), a.expires_at),
            ("hash-a", token.id.as_str(), before + hour)
        );
        assert!(a.created_at >= before && a.last_seen_at == a.created_at);
        assert!(
            !format!("{a:?}").contains("hash-a"),
            "the hash is not in Debug output"
        );

        let (found, with) = store.console_session("hash-a").await.unwrap().expect("stored");
        assert_eq!((found, with), (a.clone(), token.clone()));
        assert_eq!(store.console_session("hash-z").await.unwrap(), None);

        let dup = store.create_console_session(new("hash-a", before + hour)).await;
        assert!(matches!(dup, Err(StoreError::Duplicate { .. })), "{dup:?}");
        let orphan = store
            .create_console_session(NewConsoleSession {
                token_id: "0000000000000000000000000z".into(),
                ..new("hash-o", before + hour)
            })
            .await;
        assert!(
            matches!(orphan, Err(StoreError::NotFound { what: "token", .. })),
            "{orphan:?}"
        );

        // Touched forward only; an unknown session is no error.
        let later = a.created_at + 5_000;
        store.touch_console_session("hash-a", later).await.unwrap();
        store
            .touch_console_session("hash-a", later - 1_000)
            .await
            .unwrap();
        store.touch_console_session("hash-z", later).await.unwrap();
        let (touched, _) = store.console_session("hash-a").await.unwrap().unwrap();
        assert_eq!((touched.created_at, touched.last_seen_at), (a.created_at, later));

        // The token is returned as it is, revoked or not: the caller decides.
        store.revoke_token(&token.id).await.unwrap();
        let (_, revoked) = store.console_session("hash-a").await.unwrap().unwrap();
        assert!(revoked.revoked);

        store.delete_console_session("hash-a").await.unwrap();
        assert_eq!(store.console_session("hash-a").await.unwrap(), None);
        store.delete_console_session("hash-a").await.unwrap();

        // Purge: `recent` is kept; `idle` (last seen before the cut) and `expired` (absolute
        // expiry passed, though recently seen) go.
        let now = before + 1_000;
        let far = now + 60_000;
        store
            .create_console_session(new("recent", now + hour))
            .await
            .unwrap();
        store
            .create_console_session(new("idle", now + hour))
            .await
            .unwrap();
        store
            .create_console_session(new("expired", now - 1))
            .await
            .unwrap();
        store.touch_console_session("recent", far).await.unwrap();
        store.touch_console_session("expired", far).await.unwrap();
        assert_eq!(store.purge_console_sessions(far - 1, now).await.unwrap(), 2);
        assert!(store.console_session("recent").await.unwrap().is_some());
        assert_eq!(store.console_session("idle").await.unwrap(), None);
        assert_eq!(store.console_session("expired").await.unwrap(), None);
        assert_eq!(store.purge_console_sessions(far - 1, now).await.unwrap(), 0);
        // Another replica sees the same sessions.
        assert!(fx.open().await.console_session("recent").await.unwrap().is_some());
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
            (
                c.given_name.as_ref().map(Personal::as_str),
                c.family_name.as_ref().map(Personal::as_str)
            ),
            (Some("Aliya"), None)
        );
        assert_eq!(c.notes.as_ref().map(Personal::as_str), Some("left-handed"));

        let retry = store
            .create_child(child("K-17", "almaty-1", "psy-aliya", Some("req-1")))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);

        // The same request id from another token is another request.
        let other = store
            .create_child(NewChild {
                request: Some(key_of("tok-bolat", "req-1", "fp:K-17/almaty-1")),
                ..child("K-18", "almaty-1", "psy-bolat", None)
            })
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

        // Concurrent retries of one request create one child, also through two stores.
        let replica = fx.open().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = if i % 2 == 0 {
                store.clone()
            } else {
                replica.clone()
            };
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
            ("Қ-1", "almaty-1", "psy-aliya"),
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
            ["A%L", "AL-1", "AL-2", "AL-3", "al-4", "Қ-1"]
        );
        assert_eq!(
            codes(f(None, Some("psy-aliya"), None)).await,
            ["A%L", "AL-1", "AL-2", "AS-1", "al-4", "Қ-1"]
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
        assert_eq!(
            codes(f(None, None, Some("Қ-"))).await,
            ["Қ-1"],
            "a prefix is counted in characters"
        );
        assert_eq!(codes(f(Some("nowhere"), None, None)).await, Vec::<String>::new());
    }

    /// Personal fields read back from the store (in every read) never show in `Debug`
    /// output, and neither does an edit's text.
    pub async fn personal_fields_never_in_debug_output(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(NewChild {
                given_name: Some(Personal::new("Zhanar".into())),
                family_name: Some(Personal::new("Seitkali".into())),
                notes: Some(Personal::new("lives with her grandmother".into())),
                ..child("D-1", "almaty-1", "psy-aliya", Some("d-1"))
            })
            .await
            .unwrap();
        let s = store
            .create_session(session(&c.record.id, "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let edit = store
            .append_report_edit(edit(
                &s.id,
                "referral",
                "Zhanar's mother asked",
                "psy-aliya",
                None,
            ))
            .await
            .unwrap();
        let ctx = store.subtest_context(&s.id, "voc").await.unwrap();
        let listed = store
            .list_children(ChildFilter::default(), PageRequest::first(0))
            .await
            .unwrap();
        let edits = store.report_edits(&s.id, PageRequest::first(0)).await.unwrap();
        for shown in [
            format!("{c:?}"),
            format!("{:?}", store.get_child(&c.record.id).await.unwrap()),
            format!("{ctx:?}"),
            format!("{listed:?}"),
            format!("{edit:?}"),
            format!("{edits:?}"),
        ] {
            for secret in ["Zhanar", "Seitkali", "grandmother", "mother"] {
                assert!(!shown.contains(secret), "{secret} shown: {shown}");
            }
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert_eq!(
            ctx.child.notes.as_ref().map(Personal::as_str),
            Some("lives with her grandmother"),
            "the text itself is kept"
        );
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
            .create_session(NewSession {
                request: Some(key_of("tok-bolat", "s-1", &format!("fp:{}", c.id))),
                ..session(&c.id, "psy-bolat", None)
            })
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
        let keyed_orphan = store
            .create_session(session("0000000000000000000000000z", "psy-aliya", Some("s-2")))
            .await;
        assert!(
            matches!(keyed_orphan, Err(StoreError::NotFound { what: "child", .. })),
            "{keyed_orphan:?}"
        );
        let missing = store.get_session("0000000000000000000000000z").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );

        // Concurrent retries of one request, through two stores, open one session.
        let replica = fx.open().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (store, child_id) = (
                if i % 2 == 0 {
                    store.clone()
                } else {
                    replica.clone()
                },
                c.id.clone(),
            );
            tasks.push(tokio::spawn(async move {
                store
                    .create_session(session(&child_id, "psy-aliya", Some("s-race")))
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

    /// A change applies only from one of its `from` states (a Conflict naming the actual
    /// state otherwise); a session already in the target state is answered as it is; finishing
    /// sets `finished_at`, leaving it clears it.
    pub async fn session_state_compare_and_set(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let paused = store.set_session_state(pause(&id, None)).await.unwrap();
        assert!(!paused.existed);
        assert_eq!(
            (paused.record.state, paused.record.finished_at),
            (SessionState::Paused, None)
        );

        let stale = store
            .set_session_state(StateChange {
                from: vec![SessionState::Active],
                ..finish(&id, None)
            })
            .await;
        match stale {
            Err(StoreError::Conflict { detail }) => assert!(detail.contains("paused"), "{detail}"),
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert_eq!(store.get_session(&id).await.unwrap().state, SessionState::Paused);

        // Already paused: answered as it is, nothing written.
        let again = store.set_session_state(pause(&id, None)).await.unwrap();
        assert!(again.existed);
        assert_eq!(again.record, paused.record);

        store.set_session_state(resume(&id, None)).await.unwrap();
        let finished = store.set_session_state(finish(&id, None)).await.unwrap().record;
        assert_eq!(finished.state, SessionState::Finished);
        let at = finished.finished_at.expect("finished_at set");
        assert!(at >= finished.created_at);
        assert_eq!(store.get_session(&id).await.unwrap(), finished);
        let twice = store.set_session_state(finish(&id, None)).await.unwrap();
        assert!(twice.existed);
        assert_eq!(twice.record.finished_at, Some(at), "finished_at is kept");
        // Leaving `finished` (when the caller's policy allows it) clears it.
        let reopened = store
            .set_session_state(StateChange {
                from: vec![SessionState::Finished],
                ..resume(&id, None)
            })
            .await
            .unwrap()
            .record;
        assert_eq!(
            (reopened.state, reopened.finished_at),
            (SessionState::Active, None)
        );

        let missing = store
            .set_session_state(pause("0000000000000000000000000z", None))
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );

        // Of many racing changes out of `active`, one applies: the finishes find it finished
        // (answered as done), the pauses find it finished (a conflict) — or the other way round.
        let id = active_session_in_centre(&*store, "race").await;
        let replica = fx.open().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (store, id) = (
                if i % 2 == 0 {
                    store.clone()
                } else {
                    replica.clone()
                },
                id.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let change = if i % 4 == 3 {
                    pause(&id, None)
                } else {
                    StateChange {
                        from: vec![SessionState::Active],
                        ..finish(&id, None)
                    }
                };
                (change.to, store.set_session_state(change).await)
            }));
        }
        let mut applied = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (to, Ok(c)) if !c.existed => applied.push(to),
                (_, Ok(_)) | (_, Err(StoreError::Conflict { .. })) => {}
                (_, Err(e)) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(applied.len(), 1, "{applied:?}");
        assert_eq!(store.get_session(&id).await.unwrap().state, applied[0]);
        assert_eq!(store.session_changes(&id).await.unwrap().len(), 1);
    }

    /// State changes are idempotent on their key and logged: a retry (even after the session
    /// moved on) is answered with the session as it is and logs nothing; the key with another
    /// request is refused; every applied change is one history row.
    pub async fn session_state_changes_are_idempotent_and_logged(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        assert!(store.session_changes(&id).await.unwrap().is_empty());

        let first = store
            .set_session_state(pause(&id, Some(key("p-1", "pause"))))
            .await
            .unwrap();
        assert!(!first.existed);
        assert_eq!(first.record.state, SessionState::Paused);
        let retry = store
            .set_session_state(pause(&id, Some(key("p-1", "pause"))))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);

        store
            .set_session_state(resume(&id, Some(key("r-1", "resume"))))
            .await
            .unwrap();
        // A late retry of the pause: the session as it is now (active), nothing applied.
        let late = store
            .set_session_state(pause(&id, Some(key("p-1", "pause"))))
            .await
            .unwrap();
        assert!(late.existed);
        assert_eq!(late.record.state, SessionState::Active);

        let history = store.session_changes(&id).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|c| (c.from_state, c.to_state, c.request.clone()))
                .collect::<Vec<_>>(),
            [
                (
                    SessionState::Active,
                    SessionState::Paused,
                    Some(key("p-1", "pause"))
                ),
                (
                    SessionState::Paused,
                    SessionState::Active,
                    Some(key("r-1", "resume"))
                ),
            ]
        );
        assert!(history.iter().all(|c| c.session_id == id));
        assert!(history[0].id < history[1].id && history[0].at <= history[1].at);

        // The same key for another request is refused, and changes nothing.
        let reused = store
            .set_session_state(finish(&id, Some(key("p-1", "finish"))))
            .await;
        assert!(
            matches!(
                reused,
                Err(StoreError::RequestReused {
                    what: "session state change"
                })
            ),
            "{reused:?}"
        );
        assert_eq!(store.get_session(&id).await.unwrap().state, SessionState::Active);
        // Another token's identical request id is another key: applied.
        let theirs = store
            .set_session_state(pause(&id, Some(key_of("tok-dana", "p-1", "fp:pause"))))
            .await
            .unwrap();
        assert!(!theirs.existed);
        // Already in the target state: answered; without a key nothing is logged, with one
        // the key is logged (paused to paused), so it cannot serve another request later.
        assert!(store.set_session_state(pause(&id, None)).await.unwrap().existed);
        let noop = store
            .set_session_state(pause(&id, Some(key("p-2", "pause"))))
            .await
            .unwrap();
        assert!(noop.existed);
        assert_eq!(noop.record.state, SessionState::Paused);
        let reused = store
            .set_session_state(finish(&id, Some(key("p-2", "finish"))))
            .await;
        assert!(
            matches!(reused, Err(StoreError::RequestReused { .. })),
            "{reused:?}"
        );
        let finished = store.set_session_state(finish(&id, None)).await.unwrap().record;
        assert!(finished.finished_at.is_some());
        let history = store.session_changes(&id).await.unwrap();
        assert_eq!(history.len(), 5);
        assert_eq!(
            (history[3].from_state, history[3].to_state, &history[3].request),
            (
                SessionState::Paused,
                SessionState::Paused,
                &Some(key("p-2", "pause"))
            )
        );
        assert_eq!(
            (history[4].from_state, history[4].to_state, &history[4].request),
            (SessionState::Paused, SessionState::Finished, &None)
        );
        // A key used on another session with the same fingerprint names that session's change.
        let other = active_session_in_centre(&*store, "astana-2").await;
        let elsewhere = store
            .set_session_state(pause(&other, Some(key("r-1", "resume"))))
            .await
            .unwrap();
        assert!(elsewhere.existed);
        assert_eq!(elsewhere.record.id, id);
        assert_eq!(
            store.get_session(&other).await.unwrap().state,
            SessionState::Active
        );

        let missing = store.session_changes("0000000000000000000000000z").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );

        // Concurrent retries of one finish, through two stores: applied once, all answered.
        let replica = fx.open().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (store, other) = (
                if i % 2 == 0 {
                    store.clone()
                } else {
                    replica.clone()
                },
                other.clone(),
            );
            tasks.push(tokio::spawn(async move {
                store
                    .set_session_state(finish(&other, Some(key("f-race", "finish"))))
                    .await
                    .unwrap()
            }));
        }
        let mut applied = 0;
        for t in tasks {
            let r = t.await.unwrap();
            assert_eq!(r.record.state, SessionState::Finished);
            applied += usize::from(!r.existed);
        }
        assert_eq!(applied, 1);
        assert_eq!(store.session_changes(&other).await.unwrap().len(), 1);
        // The history is append-only (see the schema checks) and survives reopening.
        assert_eq!(fx.open().await.session_changes(&id).await.unwrap(), history);
    }

    /// An idempotency key is (token, request id): the same request id sent with another token
    /// — here two tokens whose subject is the same name, in two centres — is a new request
    /// for every kind of write, and never returns the other token's record.
    pub async fn request_keys_belong_to_the_token(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c1 = store
            .create_child(NewChild {
                given_name: Some(Personal::new("Aliya".into())),
                request: Some(key_of("tok-c1", "req-1", "fp-same")),
                ..child("K-1", "c1", "psy-same", None)
            })
            .await
            .unwrap();
        let c2 = store
            .create_child(NewChild {
                given_name: Some(Personal::new("Bota".into())),
                request: Some(key_of("tok-c2", "req-1", "fp-same")),
                ..child("K-1", "c2", "psy-same", None)
            })
            .await
            .unwrap();
        assert!(!c1.existed && !c2.existed);
        assert_ne!(c1.record.id, c2.record.id);
        assert_eq!(c2.record.centre, "c2");
        assert_eq!(c2.record.given_name.as_ref().map(Personal::as_str), Some("Bota"));
        // Each token's retry gets its own child.
        for (token, mine) in [("tok-c1", &c1.record), ("tok-c2", &c2.record)] {
            let again = store
                .create_child(NewChild {
                    request: Some(key_of(token, "req-1", "fp-same")),
                    ..child("K-9", "c9", "psy-same", None)
                })
                .await
                .unwrap();
            assert!(again.existed);
            assert_eq!(&again.record, mine);
        }

        let s1 = store
            .create_session(NewSession {
                request: Some(key_of("tok-c1", "req-s", "fp-s")),
                ..session(&c1.record.id, "psy-same", None)
            })
            .await
            .unwrap();
        let s2 = store
            .create_session(NewSession {
                request: Some(key_of("tok-c2", "req-s", "fp-s")),
                ..session(&c2.record.id, "psy-same", None)
            })
            .await
            .unwrap();
        assert!(!s2.existed);
        assert_eq!(
            (s2.record.child_id.as_str(), s1.record.child_id.as_str()),
            (c2.record.id.as_str(), c1.record.id.as_str())
        );

        // Two tokens writing to one session with the same request id: two responses.
        let sid = &s1.record.id;
        let mut stored = Vec::new();
        for token in ["tok-c1", "tok-integrator"] {
            let r = append(
                &*store,
                NewResponse {
                    request: Some(key_of(token, "req-r", "fp-r")),
                    ..response(sid, 1, None)
                },
                None,
            )
            .await
            .unwrap();
            assert!(!r.existed);
            stored.push(r.record);
        }
        assert_eq!((stored[0].seq, stored[1].seq), (1, 2));
        assert_eq!(
            stored[1].request.as_ref().map(|k| k.token_id.as_str()),
            Some("tok-integrator")
        );
        assert_eq!(store.responses(sid).await.unwrap(), stored);

        for token in ["tok-c1", "tok-c2"] {
            let e = store
                .append_report_edit(NewReportEdit {
                    request: Some(key_of(token, "req-e", "fp-e")),
                    ..edit(sid, "referral", token, "psy-same", None)
                })
                .await
                .unwrap();
            assert!(!e.existed);
        }
        assert_eq!(
            store
                .report_edits(sid, PageRequest::first(0))
                .await
                .unwrap()
                .items
                .len(),
            2
        );

        store
            .set_session_state(pause(sid, Some(key_of("tok-c1", "req-x", "fp-x"))))
            .await
            .unwrap();
        let resumed = store
            .set_session_state(resume(sid, Some(key_of("tok-c2", "req-x", "fp-x"))))
            .await
            .unwrap();
        assert!(!resumed.existed, "another token's request id is not a retry");
        assert_eq!(resumed.record.state, SessionState::Active);
    }

    /// The same token and request id with another request (another fingerprint) is refused
    /// for every kind of write, and writes nothing; a request id may be used once per kind.
    pub async fn reused_request_ids_are_refused(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(NewChild {
                request: Some(key("r", "child K-1")),
                ..child("K-1", "almaty-1", "psy-aliya", None)
            })
            .await
            .unwrap()
            .record;
        let reused = store
            .create_child(NewChild {
                request: Some(key("r", "child K-2")),
                ..child("K-2", "almaty-1", "psy-aliya", None)
            })
            .await;
        assert!(
            matches!(reused, Err(StoreError::RequestReused { what: "child" })),
            "{reused:?}"
        );
        let children = store
            .list_children(ChildFilter::default(), PageRequest::first(0))
            .await
            .unwrap();
        assert_eq!(children.items, std::slice::from_ref(&c));

        // The same request id on a session is another kind of write: fine, once.
        let s = store
            .create_session(NewSession {
                request: Some(key("r", "session 1")),
                ..session(&c.id, "psy-aliya", None)
            })
            .await
            .unwrap()
            .record;
        let reused = store
            .create_session(NewSession {
                request: Some(key("r", "session 2")),
                ..session(&c.id, "psy-aliya", None)
            })
            .await;
        assert!(
            matches!(reused, Err(StoreError::RequestReused { what: "session" })),
            "{reused:?}"
        );
        assert_eq!(
            store
                .list_sessions(SessionFilter::default(), PageRequest::first(0))
                .await
                .unwrap()
                .items,
            std::slice::from_ref(&s)
        );

        let r = store
            .append_response(response(&s.id, 1, Some("r".into())), None)
            .await
            .unwrap()
            .record;
        for after_seq in [1, 0] {
            // Refused before the log's end is looked at, whether `after_seq` is current or not.
            let reused = store
                .append_response(
                    NewResponse {
                        after_seq,
                        ..response(&s.id, 2, Some("r".into()))
                    },
                    Some(audit_entry(&s.id, &c.id)),
                )
                .await;
            assert!(
                matches!(reused, Err(StoreError::RequestReused { what: "response" })),
                "{reused:?}"
            );
        }
        assert_eq!(store.responses(&s.id).await.unwrap(), [r]);

        store
            .append_report_edit(NewReportEdit {
                request: Some(key("r", "edit 1")),
                ..edit(&s.id, "referral", "one", "psy-aliya", None)
            })
            .await
            .unwrap();
        let reused = store
            .append_report_edit(NewReportEdit {
                request: Some(key("r", "edit 2")),
                ..edit(&s.id, "referral", "two", "psy-aliya", None)
            })
            .await;
        assert!(
            matches!(reused, Err(StoreError::RequestReused { what: "report edit" })),
            "{reused:?}"
        );
        assert_eq!(
            store
                .report_edits(&s.id, PageRequest::first(0))
                .await
                .unwrap()
                .items
                .len(),
            1
        );

        store
            .set_session_state(pause(&s.id, Some(key("r", "pause"))))
            .await
            .unwrap();
        let reused = store
            .set_session_state(finish(&s.id, Some(key("r", "finish"))))
            .await;
        assert!(
            matches!(reused, Err(StoreError::RequestReused { .. })),
            "{reused:?}"
        );
        assert_eq!(store.session_changes(&s.id).await.unwrap().len(), 1);
        assert!(
            store
                .audit_entries(AuditFilter::default(), PageRequest::first(0))
                .await
                .unwrap()
                .items
                .is_empty(),
            "a refused append writes no audit entry"
        );
    }

    pub async fn responses_get_gapless_seqs_in_order(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let other = active_session_in_centre(&*store, "astana-2").await;
        for n in 1..=5 {
            let r = store
                .append_response(
                    NewResponse {
                        after_seq: n as i64 - 1,
                        ..response(&id, n, None)
                    },
                    None,
                )
                .await
                .unwrap();
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
                .all(|r| r.session_id == id && r.subtest == "matrices" && r.request.is_none())
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
        append(&*store, response(&id, 1, Some("r-1".into())), None)
            .await
            .unwrap();
        let second = append(&*store, response(&id, 2, Some("r-2".into())), None)
            .await
            .unwrap();
        assert_eq!(second.record.seq, 2);
        assert_eq!(second.record.request, Some(key("r-2", &format!("{id}/2"))));

        // The retry carries the same key and fingerprint: the stored response comes back, even
        // with the `after_seq` of its first attempt.
        let retry = store
            .append_response(
                NewResponse {
                    after_seq: 1,
                    ..response(&id, 2, Some("r-2".into()))
                },
                None,
            )
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, second.record);
        assert_eq!(
            store.responses(&id).await.unwrap().len(),
            2,
            "a retry adds no row"
        );

        let third = append(&*store, response(&id, 3, Some("r-3".into())), None)
            .await
            .unwrap();
        assert_eq!(third.record.seq, 3);

        // A retry still answers after the session finished.
        store.set_session_state(finish(&id, None)).await.unwrap();
        let late = store
            .append_response(
                NewResponse {
                    after_seq: 2,
                    ..response(&id, 3, Some("r-3".into()))
                },
                None,
            )
            .await
            .unwrap();
        assert!(late.existed);
        assert_eq!(late.record, third.record);
        // Through another replica too.
        let replica = fx.open().await;
        let again = replica
            .append_response(response(&id, 3, Some("r-3".into())), None)
            .await
            .unwrap();
        assert_eq!((again.existed, again.record), (true, third.record));
    }

    pub async fn append_refused_unless_active(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        store.append_response(response(&id, 1, None), None).await.unwrap();

        store.set_session_state(pause(&id, None)).await.unwrap();
        let paused = store
            .append_response(
                NewResponse {
                    after_seq: 1,
                    ..response(&id, 2, Some("p".into()))
                },
                None,
            )
            .await;
        assert!(matches!(paused, Err(StoreError::Conflict { .. })), "{paused:?}");

        store.set_session_state(resume(&id, None)).await.unwrap();
        assert_eq!(
            append(&*store, response(&id, 2, None), None)
                .await
                .unwrap()
                .record
                .seq,
            2
        );

        store.set_session_state(finish(&id, None)).await.unwrap();
        let finished = store
            .append_response(
                NewResponse {
                    after_seq: 2,
                    ..response(&id, 3, Some("f".into()))
                },
                None,
            )
            .await;
        match finished {
            Err(StoreError::Conflict { detail }) => assert!(detail.contains("finished"), "{detail}"),
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert_eq!(store.responses(&id).await.unwrap().len(), 2);
    }

    /// An append is stored only after the log's last seq the caller read (`after_seq`):
    /// otherwise it is stale and writes nothing, not even its audit entry. The last seq is of
    /// the whole log, every subtest.
    pub async fn stale_appends_are_refused(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store
            .create_child(child("S-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let id = store
            .create_session(session(&c.id, "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id;
        let entry = Some(audit_entry(&id, &c.id));
        let first = store
            .append_response(response(&id, 1, Some("s-1".into())), entry.clone())
            .await
            .unwrap();
        assert_eq!(first.record.seq, 1);
        for after_seq in [0, 2, -1] {
            let stale = store
                .append_response(
                    NewResponse {
                        after_seq,
                        ..response(&id, 2, Some(format!("s-2-{after_seq}")))
                    },
                    entry.clone(),
                )
                .await;
            match stale {
                Err(StoreError::Stale { detail }) => {
                    assert!(detail.contains(&id) && detail.contains("ends at 1"), "{detail}")
                }
                other => panic!("after_seq {after_seq}: expected Stale, got {other:?}"),
            }
        }
        assert_eq!(
            store.responses(&id).await.unwrap(),
            std::slice::from_ref(&first.record)
        );
        let audited = store
            .audit_entries(AuditFilter::default(), PageRequest::first(0))
            .await
            .unwrap();
        assert_eq!(audited.items.len(), 1, "a stale append writes no audit entry");

        // The last seq counts every subtest's responses.
        let voc = store
            .append_response(
                NewResponse {
                    subtest: "voc".into(),
                    after_seq: 1,
                    ..response(&id, 2, Some("s-2".into()))
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(voc.record.seq, 2);
        let ctx = store.subtest_context(&id, "matrices").await.unwrap();
        assert_eq!((ctx.responses.len(), ctx.last_seq), (1, 2));
        assert_eq!(store.subtest_context(&id, "voc").await.unwrap().last_seq, 2);
        // A retry of a stored key is answered before the log's end is looked at.
        let retry = store
            .append_response(response(&id, 1, Some("s-1".into())), None)
            .await
            .unwrap();
        assert_eq!((retry.existed, retry.record), (true, first.record));
        let fresh = active_session_in_centre(&*store, "astana-2").await;
        assert_eq!(store.subtest_context(&fresh, "voc").await.unwrap().last_seq, 0);
    }

    /// Of `racers` appends after the same last seq, sent at once through `stores` (round
    /// robin; SQLite commits them in one group), exactly one is stored and the others are
    /// stale, with no audit entry; `rounds` times over.
    async fn race_after_the_same_seq(stores: &[Arc<dyn Store>], rounds: usize, racers: usize) {
        let store = &stores[0];
        let c = store
            .create_child(child("X-1", "race", "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let id = store
            .create_session(session(&c.id, "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id;
        for round in 0..rounds {
            let after = last_seq(&**store, &id).await;
            assert_eq!(after, round as i64);
            let mut tasks = Vec::new();
            for r in 0..racers {
                let (store, id, child_id) = (stores[r % stores.len()].clone(), id.clone(), c.id.clone());
                tasks.push(tokio::spawn(async move {
                    let new = NewResponse {
                        after_seq: after,
                        ..response(&id, r, Some(format!("race-{round}-{r}")))
                    };
                    store
                        .append_response(new, Some(audit_entry(&id, &child_id)))
                        .await
                }));
            }
            let (mut stored, mut stale) = (Vec::new(), 0);
            for t in tasks {
                match t.await.unwrap() {
                    Ok(r) => stored.push(r),
                    Err(StoreError::Stale { .. }) => stale += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            assert_eq!((stored.len(), stale), (1, racers - 1), "round {round}");
            assert!(!stored[0].existed);
            assert_eq!(stored[0].record.seq, after + 1);
        }
        for s in stores {
            let log = s.responses(&id).await.unwrap();
            assert_eq!(
                log.iter().map(|r| r.seq).collect::<Vec<_>>(),
                (1..=rounds as i64).collect::<Vec<_>>()
            );
        }
        let audited = store
            .audit_entries(
                AuditFilter {
                    child_id: Some(c.id.clone()),
                    ..AuditFilter::default()
                },
                PageRequest::first(0),
            )
            .await
            .unwrap();
        assert_eq!(audited.items.len(), rounds, "one audit entry per stored response");
    }

    pub async fn racing_appends_after_the_same_seq(fx: Arc<Fixture>) {
        let store = fx.open().await;
        race_after_the_same_seq(std::slice::from_ref(&store), 6, 8).await;
        // Two appends after the same seq, sent together (likely one SQLite group).
        let id = active_session(&*store).await;
        let (a, b) = tokio::join!(
            store.append_response(response(&id, 1, Some("pair-a".into())), None),
            store.append_response(response(&id, 2, Some("pair-b".into())), None),
        );
        let stale = |r: &Result<Created<Response>, StoreError>| matches!(r, Err(StoreError::Stale { .. }));
        assert!(
            (a.is_ok() && stale(&b)) || (stale(&a) && b.is_ok()),
            "{a:?} {b:?}"
        );
        assert_eq!(store.responses(&id).await.unwrap().len(), 1);
    }

    /// Two stores on one database (two server replicas, or two processes on one SQLite file)
    /// racing to append after the same seq: one wins, the other is stale.
    pub async fn two_stores_racing_after_the_same_seq(fx: Arc<Fixture>) {
        let stores = [fx.open().await, fx.open().await];
        race_after_the_same_seq(&stores, 6, 6).await;
    }

    /// Appends `tasks × per_task` responses concurrently through `stores` (round robin), each
    /// after the log's end as the task last read it (retrying when stale), and checks the log
    /// is exactly 1..=n with every task's own appends in order.
    async fn append_concurrently(stores: &[Arc<dyn Store>], session_id: &str, tasks: usize, per_task: usize) {
        let mut handles = Vec::new();
        for t in 0..tasks {
            let store = stores[t % stores.len()].clone();
            let session_id = session_id.to_owned();
            handles.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..per_task {
                    let n = t * 1000 + i;
                    let r = append(&*store, response(&session_id, n, Some(format!("t{t}-{i}"))), None).await;
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
        let distinct: HashSet<&str> = log
            .iter()
            .filter_map(|r| r.request.as_ref().map(|k| k.request_id.as_str()))
            .collect();
        assert_eq!(distinct.len(), tasks * per_task);
    }

    pub async fn concurrent_appends_are_gapless(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        append_concurrently(&[store], &id, 8, 12).await;
    }

    /// Two stores on one database behave like two server replicas (or two processes on one
    /// SQLite file): nothing may depend on in-process state.
    pub async fn two_stores_on_one_database_share_the_sequence(fx: Arc<Fixture>) {
        let a = fx.open().await;
        let b = fx.open().await;
        let id = active_session(&*a).await;
        append_concurrently(&[a.clone(), b.clone()], &id, 6, 8).await;
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
                append(&*store, response(&id, n, Some(format!("d{n}"))), None)
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
            append(&*store, response(&id, 4, None), None)
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

    /// The audit entry of an append by the test's token.
    fn audit_entry(session_id: &str, child_id: &str) -> AuditEntry {
        AuditEntry {
            token_id: Some(TOKEN.into()),
            role: Some(Role::Psychologist),
            centre: "almaty-1".into(),
            subject: "psy-aliya".into(),
            action: "assessment.record_response".into(),
            resource: format!("sessions/{session_id}"),
            child_id: Some(child_id.to_owned()),
            outcome: AuditOutcome::Ok,
            peer: Some("127.0.0.1:53412".into()),
            detail: None,
        }
    }

    /// Every field of an entry comes back as written, with an increasing id and the time.
    pub async fn audit_entries_recorded_and_filtered(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let entries = [
            audit_entry("s1", "c1"),
            AuditEntry {
                token_id: None,
                role: None,
                centre: String::new(),
                subject: String::new(),
                action: "assessment.get_child".into(),
                resource: "children/c1".into(),
                child_id: Some("c1".into()),
                outcome: AuditOutcome::Unauthenticated,
                peer: Some("console 127.0.0.1:40000".into()),
                detail: None,
            },
            AuditEntry {
                token_id: Some("tok-dana".into()),
                role: Some(Role::Supervisor),
                centre: "astana-2".into(),
                subject: "sup-dana".into(),
                action: "assessment.get_child".into(),
                resource: "children/c2".into(),
                child_id: Some("c2".into()),
                outcome: AuditOutcome::Denied,
                peer: None,
                detail: Some("another centre".into()),
            },
            AuditEntry {
                action: "assessment.list_children".into(),
                resource: "children".into(),
                child_id: None,
                detail: Some("listed 2: c1 c2".into()),
                ..audit_entry("s1", "c1")
            },
            AuditEntry {
                token_id: Some("tok-root".into()),
                role: Some(Role::Admin),
                centre: "*".into(),
                subject: "root".into(),
                action: "token.create".into(),
                resource: "tokens/t9".into(),
                child_id: None,
                outcome: AuditOutcome::Ok,
                peer: Some("cli".into()),
                detail: None,
            },
        ];
        let mut recorded = Vec::new();
        for e in &entries {
            let r = store.audit(e.clone()).await.unwrap();
            assert!(r.at > 1_700_000_000_000);
            assert_eq!(
                (
                    &r.token_id,
                    &r.role,
                    &r.centre,
                    &r.subject,
                    &r.action,
                    &r.resource
                ),
                (
                    &e.token_id,
                    &e.role,
                    &e.centre,
                    &e.subject,
                    &e.action,
                    &e.resource
                )
            );
            assert_eq!(
                (&r.child_id, r.outcome, &r.peer, &r.detail),
                (&e.child_id, e.outcome, &e.peer, &e.detail)
            );
            recorded.push(r);
        }
        let all = store
            .audit_entries(AuditFilter::default(), PageRequest::first(0))
            .await
            .unwrap();
        assert_eq!((&all.items, all.next), (&recorded, None));
        assert!(
            all.items
                .windows(2)
                .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
        );

        let actions = |filter: AuditFilter| {
            let store = store.clone();
            async move {
                store
                    .audit_entries(filter, PageRequest::first(0))
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|e| (e.action, e.outcome))
                    .collect::<Vec<_>>()
            }
        };
        let filter = |child: Option<&str>, token: Option<&str>, outcome: Option<AuditOutcome>| AuditFilter {
            child_id: child.map(str::to_owned),
            token_id: token.map(str::to_owned),
            outcome,
        };
        use AuditOutcome::*;
        assert_eq!(
            actions(filter(Some("c1"), None, None)).await,
            [
                ("assessment.record_response".to_owned(), Ok),
                ("assessment.get_child".to_owned(), Unauthenticated)
            ]
        );
        assert_eq!(
            actions(filter(None, Some(TOKEN), None)).await,
            [
                ("assessment.record_response".to_owned(), Ok),
                ("assessment.list_children".to_owned(), Ok)
            ]
        );
        assert_eq!(
            actions(filter(None, None, Some(Denied))).await,
            [("assessment.get_child".to_owned(), Denied)]
        );
        assert_eq!(
            actions(filter(Some("c1"), Some(TOKEN), Some(Ok))).await,
            [("assessment.record_response".to_owned(), Ok)]
        );
        assert_eq!(actions(filter(None, None, Some(Ok))).await.len(), 3);
        assert!(actions(filter(Some("nobody"), None, None)).await.is_empty());
        assert!(actions(filter(None, None, Some(Unavailable))).await.is_empty());

        // Every role and every outcome round-trips.
        for (role, outcome) in Role::ALL.into_iter().zip(AuditOutcome::ALL.into_iter().cycle()) {
            let r = store
                .audit(AuditEntry {
                    role: Some(role),
                    outcome,
                    ..audit_entry("s", "c")
                })
                .await
                .unwrap();
            assert_eq!((r.role, r.outcome), (Some(role), outcome));
        }
        for outcome in AuditOutcome::ALL {
            let r = store
                .audit(AuditEntry {
                    outcome,
                    ..audit_entry("s", "c")
                })
                .await
                .unwrap();
            assert_eq!(
                store
                    .audit_entries(filter(None, None, Some(outcome)), PageRequest::first(0))
                    .await
                    .unwrap()
                    .items
                    .last(),
                Some(&r)
            );
        }
    }

    pub async fn audit_entries_paginate_in_order(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let mut ids = Vec::new();
        for n in 0..7 {
            let e = AuditEntry {
                child_id: Some(if n % 2 == 0 { "even" } else { "odd" }.into()),
                detail: Some(n.to_string()),
                ..audit_entry("s", "c")
            };
            ids.push(store.audit(e).await.unwrap().id);
        }
        let pages = |filter: AuditFilter| {
            let store = store.clone();
            async move {
                let (mut seen, mut sizes, mut after) = (Vec::new(), Vec::new(), None);
                loop {
                    let page = store
                        .audit_entries(filter.clone(), PageRequest { size: 3, after })
                        .await
                        .unwrap();
                    sizes.push(page.items.len());
                    seen.extend(page.items.iter().map(|e| e.detail.clone().unwrap()));
                    match page.next {
                        Some(next) => {
                            assert_eq!(next, page.items.last().unwrap().id.to_string());
                            after = Some(next);
                        }
                        None => break,
                    }
                }
                (seen, sizes)
            }
        };
        let (seen, sizes) = pages(AuditFilter::default()).await;
        assert_eq!(seen, ["0", "1", "2", "3", "4", "5", "6"]);
        assert_eq!(sizes, [3, 3, 1]);
        let (seen, sizes) = pages(AuditFilter {
            child_id: Some("even".into()),
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(
            (seen, sizes),
            (
                vec!["0", "2", "4", "6"].into_iter().map(String::from).collect(),
                vec![3, 1]
            )
        );
        let bad = store
            .audit_entries(
                AuditFilter::default(),
                PageRequest {
                    size: 3,
                    after: Some("not-a-cursor".into()),
                },
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Conflict { .. })), "{bad:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    /// The audit entry given with an append is stored with the response, and only when the
    /// response is: a retry, a stale or a refused append writes none.
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
        let of_child = || AuditFilter {
            child_id: Some(c.id.clone()),
            ..AuditFilter::default()
        };
        let count = |filter: AuditFilter| {
            let store = store.clone();
            async move {
                store
                    .audit_entries(filter, PageRequest::first(0))
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        };
        let entry = AuditEntry {
            detail: Some("item mat01, score 1".into()),
            ..audit_entry(&id, &c.id)
        };
        let first = store
            .append_response(response(&id, 1, Some("a-1".into())), Some(entry.clone()))
            .await
            .unwrap();
        assert!(!first.existed);
        let audited = store
            .audit_entries(of_child(), PageRequest::first(0))
            .await
            .unwrap()
            .items;
        assert_eq!(audited.len(), 1);
        let a = &audited[0];
        assert_eq!(
            (
                &a.token_id,
                &a.role,
                &a.centre,
                &a.subject,
                &a.action,
                &a.resource
            ),
            (
                &entry.token_id,
                &entry.role,
                &entry.centre,
                &entry.subject,
                &entry.action,
                &entry.resource
            )
        );
        assert_eq!(
            (&a.child_id, a.outcome, &a.peer, &a.detail),
            (&entry.child_id, entry.outcome, &entry.peer, &entry.detail)
        );
        assert_eq!(a.at, first.record.recorded_at, "written together");

        // A retry: the stored response, no second entry.
        let retry = store
            .append_response(response(&id, 1, Some("a-1".into())), Some(entry.clone()))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);
        assert_eq!(count(of_child()).await, 1);

        // Without an entry, none is written.
        store
            .append_response(
                NewResponse {
                    after_seq: 1,
                    ..response(&id, 2, None)
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(count(AuditFilter::default()).await, 1);

        // Refused appends write none.
        let missing = store
            .append_response(
                response("0000000000000000000000000z", 1, None),
                Some(entry.clone()),
            )
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");
        let stale = store
            .append_response(response(&id, 3, Some("a-3".into())), Some(entry.clone()))
            .await;
        assert!(matches!(stale, Err(StoreError::Stale { .. })), "{stale:?}");
        store.set_session_state(finish(&id, None)).await.unwrap();
        let refused = store
            .append_response(
                NewResponse {
                    after_seq: 2,
                    ..response(&id, 3, Some("a-3".into()))
                },
                Some(entry.clone()),
            )
            .await;
        assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
        assert_eq!(count(AuditFilter::default()).await, 1);
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
                after_seq: n as i64,
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

        // The same, with the session, its child and the whole log's last seq, in one read.
        for (sid, subtest, last) in [
            (&id, "voc", 6),
            (&id, "sim", 6),
            (&id, "ds", 6),
            (&fresh, "voc", 0),
            (&other, "voc", 1),
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
            assert_eq!(ctx.last_seq, last);
        }
        let missing = store.subtest_context("0000000000000000000000000z", "voc").await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "session", .. })),
            "{missing:?}"
        );
    }

    /// Makes the database refuse audit entries whose subject is "refuse-me" (a trigger), so
    /// that the second write of an append fails after the first succeeded.
    async fn refuse_some_audit_entries(fx: &Fixture) {
        match fx {
            Fixture::Sqlite { url, .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query(
                    "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log \
                     WHEN NEW.subject = 'refuse-me' \
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
                     WHEN (NEW.subject = 'refuse-me') EXECUTE FUNCTION audit_refuse()"
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
            for t in 0..3 {
                let (store, sid, child_id) = (store.clone(), sid.clone(), c.id.clone());
                handles.push(tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    for i in 0..10 {
                        let refused = (t + i) % 3 == 0;
                        let entry = AuditEntry {
                            subject: if refused { "refuse-me" } else { "psy-aliya" }.into(),
                            ..audit_entry(&sid, &child_id)
                        };
                        let rid = format!("s{si}-t{t}-{i}");
                        let r = append(&*store, response(&sid, i, Some(rid.clone())), Some(entry)).await;
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
        let audited = store
            .audit_entries(
                AuditFilter {
                    child_id: Some(c.id.clone()),
                    ..AuditFilter::default()
                },
                PageRequest::first(MAX_PAGE_SIZE),
            )
            .await
            .unwrap();
        assert_eq!(audited.items.len(), stored);
    }

    /// Many concurrent appends across many sessions (SQLite commits them in groups): seqs
    /// stay gapless per session, every acknowledged append is stored as acknowledged, a retry
    /// racing its first attempt (likely in the same group) and a later retry (in another
    /// group) get the same response, and appends refused in the middle of the others (a
    /// finished session) fail alone.
    pub async fn grouped_appends_keep_their_own_outcomes(fx: Arc<Fixture>) {
        const SESSIONS: usize = 12;
        const TASKS: usize = 4;
        const PER_TASK: usize = 12;
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
        store.set_session_state(finish(&finished, None)).await.unwrap();

        let mut handles = Vec::new();
        for (si, sid) in sessions.iter().enumerate() {
            for t in 0..TASKS {
                let (store, sid, finished, child_id) =
                    (store.clone(), sid.clone(), finished.clone(), c.id.clone());
                handles.push(tokio::spawn(async move {
                    let mut acked = Vec::new();
                    for i in 0..PER_TASK {
                        let rid = format!("s{si}-t{t}-{i}");
                        let n = t * 1000 + i;
                        let entry = || Some(audit_entry(&sid, &child_id));
                        if i % 4 == 0 {
                            // The same append twice at once (a retry racing its first attempt),
                            // and one to the finished session: again while both are stale.
                            let stored = loop {
                                let new = NewResponse {
                                    after_seq: last_seq(&*store, &sid).await,
                                    ..response(&sid, n, Some(rid.clone()))
                                };
                                let late = NewResponse {
                                    after_seq: 1,
                                    ..response(&finished, n, Some(format!("{rid}-late")))
                                };
                                let (a, b, refused) = tokio::join!(
                                    store.append_response(new.clone(), entry()),
                                    store.append_response(new, entry()),
                                    store.append_response(late, entry()),
                                );
                                assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
                                match (a, b) {
                                    (Err(StoreError::Stale { .. }), Err(StoreError::Stale { .. })) => {
                                        continue;
                                    }
                                    (Ok(a), Ok(b)) => {
                                        assert_eq!(
                                            a.record, b.record,
                                            "a racing retry gets the same response"
                                        );
                                        assert_ne!(a.existed, b.existed, "exactly one of the two stored it");
                                        break a.record;
                                    }
                                    (a, b) => panic!("s{si} t{t} {i}: {a:?} / {b:?}"),
                                }
                            };
                            acked.push(stored);
                        } else {
                            let r = append(&*store, response(&sid, n, Some(rid)), entry())
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
                let n = {
                    let item: serde_json::Value = serde_json::from_str(&r.payload).unwrap();
                    item["item"].as_u64().unwrap() as usize
                };
                let rid = r.request.as_ref().map(|k| k.request_id.clone());
                let again = store
                    .append_response(
                        response(&r.session_id, n, rid),
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
        // One audit entry per stored response: none for retries, stale or refused appends.
        let audited = store
            .audit_entries(
                AuditFilter {
                    child_id: Some(c.id.clone()),
                    ..AuditFilter::default()
                },
                PageRequest::first(MAX_PAGE_SIZE),
            )
            .await
            .unwrap();
        assert_eq!(audited.items.len(), SESSIONS * TASKS * PER_TASK);
    }

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
            text: Personal::new(text.to_owned()),
            author: author.to_owned(),
            request: request_id.map(|r| key(r, &format!("{session_id}/{item}/{text}"))),
        }
    }

    /// An edit is appended beside the generated report and earlier edits; two edits of one
    /// item both stay, in order, the later with the higher id.
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
        assert_eq!(
            page.items[1].request,
            Some(key("e-2", &format!("{id}/referral/Second text")))
        );
        // Edits are kept whatever the session's state.
        store.set_session_state(finish(&id, None)).await.unwrap();
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
        for rid in [None, Some("e-orphan")] {
            let orphan = store
                .append_report_edit(edit("0000000000000000000000000z", "referral", "x", "p", rid))
                .await;
            assert!(
                matches!(orphan, Err(StoreError::NotFound { what: "session", .. })),
                "{orphan:?}"
            );
        }
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

    /// A retry with the same key returns the stored edit and writes nothing; the same request
    /// id of another token is another edit; concurrent retries store one.
    pub async fn report_edit_retry_is_applied_once(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let id = active_session(&*store).await;
        let first = store
            .append_report_edit(edit(&id, "strengths/verbal", "text", "psy-aliya", Some("r-1")))
            .await
            .unwrap();
        let retry = store
            .append_report_edit(edit(&id, "strengths/verbal", "text", "psy-aliya", Some("r-1")))
            .await
            .unwrap();
        assert!(retry.existed);
        assert_eq!(retry.record, first.record);
        let colleague = store
            .append_report_edit(NewReportEdit {
                request: Some(key_of("tok-dana", "r-1", "fp:theirs")),
                ..edit(&id, "strengths/verbal", "theirs", "psy-dana", None)
            })
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
        // Concurrent retries through two stores: one edit.
        let replica = fx.open().await;
        let mut tasks = Vec::new();
        for i in 0..6 {
            let (store, id) = (
                if i % 2 == 0 {
                    store.clone()
                } else {
                    replica.clone()
                },
                id.clone(),
            );
            tasks.push(tokio::spawn(async move {
                store
                    .append_report_edit(edit(&id, "referral", "raced", "psy-aliya", Some("r-race")))
                    .await
                    .unwrap()
            }));
        }
        let mut stored = 0;
        for t in tasks {
            stored += usize::from(!t.await.unwrap().existed);
        }
        assert_eq!(stored, 1);
        let texts: Vec<String> = store
            .report_edits(&id, PageRequest::first(0))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.text.into_inner())
            .collect();
        assert_eq!(texts, ["text", "theirs", "same", "same", "raced"]);
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
            seen.extend(page.items.iter().map(|e| e.text.as_str().to_owned()));
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

    /// Rows in the schema of migrations 0001–0003, one in every table (ids, times and
    /// request ids as that schema stored them).
    const OLD_ROWS: &str = "\
        INSERT INTO tokens (id, role, centre, subject, secret_hash, created_at) \
            VALUES ('t-old', 'psychologist', 'almaty-1', 'psy-aliya', 'old-hash', 1); \
        INSERT INTO children (id, code, birth_date, sex, test_language, centre, owner, given_name, \
            family_name, notes, request_id, created_at) \
            VALUES ('c-old', 'OLD-1', '2017-01-01', NULL, 'ru', 'almaty-1', 'psy-aliya', 'Old', NULL, \
            NULL, 'req-old', 2); \
        INSERT INTO sessions (id, child_id, battery_id, norm_set_hash, test_date, examiner, request_id, \
            state, created_at) \
            VALUES ('s-old', 'c-old', 'demo', 'h', '2026-01-01', 'psy-aliya', 'req-old', 'active', 3); \
        INSERT INTO responses (session_id, seq, subtest, payload, request_id, recorded_at) \
            VALUES ('s-old', 1, 'voc', '{}', 'req-old', 4); \
        INSERT INTO report_edits (session_id, item, text, author, request_id, created_at) \
            VALUES ('s-old', 'referral', 'old text', 'psy-aliya', 'req-old', 5); \
        INSERT INTO audit_log (at, principal, action, resource, child_id) \
            VALUES (6, 'psy-aliya', 'create_child', 'children/c-old', 'c-old');";

    /// Applies the migrations up to `version` (not the later ones) to the fixture's database
    /// and writes [`OLD_ROWS`].
    async fn old_database(fx: &Fixture, version: i64) {
        use std::borrow::Cow;
        let keep = |m: sqlx::migrate::Migrator| sqlx::migrate::Migrator {
            migrations: Cow::Owned(
                m.migrations
                    .iter()
                    .filter(|m| m.version <= version)
                    .cloned()
                    .collect(),
            ),
            ..m
        };
        match fx {
            Fixture::Sqlite { url, .. } => {
                use std::str::FromStr;
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .unwrap()
                    .create_if_missing(true);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                keep(sqlx::migrate!("migrations/sqlite"))
                    .run(&pool)
                    .await
                    .unwrap();
                sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Fixture::Postgres { url, schema } => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
                let pool = sqlx::PgPool::connect_with(options.options([("search_path", schema.as_str())]))
                    .await
                    .unwrap();
                keep(sqlx::migrate!("migrations/postgres"))
                    .run(&pool)
                    .await
                    .unwrap();
                sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    /// A database of the previous schema, with data, migrates when a store opens it: every
    /// row reads as before (an audit row keeps its subject; it had no token, role or centre,
    /// and was a successful call); the old request ids are not honoured, and do not get in
    /// the way of new keys.
    pub async fn old_databases_migrate(fx: Arc<Fixture>) {
        old_database(&fx, 3).await;
        let store = fx.open().await;
        let token = store.token("t-old").await.unwrap();
        assert_eq!(
            (token.subject.as_str(), token.revoked, token.expires_at),
            ("psy-aliya", false, None)
        );
        let c = store.get_child("c-old").await.unwrap();
        assert_eq!(
            (c.code.as_str(), c.given_name.as_ref().map(Personal::as_str)),
            ("OLD-1", Some("Old"))
        );
        let s = store.get_session("s-old").await.unwrap();
        assert_eq!((s.child_id.as_str(), s.state), ("c-old", SessionState::Active));
        let log = store.responses("s-old").await.unwrap();
        assert_eq!(
            log.iter()
                .map(|r| (r.seq, r.subtest.as_str(), r.request.clone()))
                .collect::<Vec<_>>(),
            [(1, "voc", None)]
        );
        let edits = store.report_edits("s-old", PageRequest::first(0)).await.unwrap();
        assert_eq!(edits.items.len(), 1);
        assert_eq!(
            (edits.items[0].text.as_str(), &edits.items[0].request),
            ("old text", &None)
        );
        let audit = store
            .audit_entries(AuditFilter::default(), PageRequest::first(0))
            .await
            .unwrap()
            .items;
        assert_eq!(audit.len(), 1);
        let a = &audit[0];
        assert_eq!(
            (a.at, a.subject.as_str(), a.action.as_str(), a.child_id.as_deref()),
            (6, "psy-aliya", "create_child", Some("c-old"))
        );
        assert_eq!(
            (
                &a.token_id,
                a.role,
                a.centre.as_str(),
                a.outcome,
                &a.peer,
                &a.detail
            ),
            (&None, None, "", AuditOutcome::Ok, &None, &None)
        );

        // The old request id, sent again by its owner through a token: new writes.
        let new_child = store
            .create_child(NewChild {
                request: Some(key("req-old", "new child")),
                ..child("NEW-1", "almaty-1", "psy-aliya", None)
            })
            .await
            .unwrap();
        assert!(!new_child.existed);
        let new_session = store
            .create_session(NewSession {
                request: Some(key("req-old", "new session")),
                ..session("c-old", "psy-aliya", None)
            })
            .await
            .unwrap();
        assert!(!new_session.existed);
        let appended = store
            .append_response(
                NewResponse {
                    after_seq: 1,
                    ..response("s-old", 2, Some("req-old".into()))
                },
                Some(audit_entry("s-old", "c-old")),
            )
            .await
            .unwrap();
        assert_eq!((appended.existed, appended.record.seq), (false, 2));
        let edited = store
            .append_report_edit(edit(
                "s-old",
                "referral",
                "new text",
                "psy-aliya",
                Some("req-old"),
            ))
            .await
            .unwrap();
        assert!(!edited.existed);
        assert!(
            store
                .set_session_state(finish("s-old", None))
                .await
                .unwrap()
                .record
                .finished_at
                .is_some()
        );
        // Reopening migrates nothing more.
        drop(store);
        assert_eq!(fx.open().await.responses("s-old").await.unwrap().len(), 2);
    }

    fn cohort(name: &str, request_id: Option<&str>) -> NewCohort {
        NewCohort {
            centre: "almaty-1".into(),
            owner: "psy-aliya".into(),
            name: name.into(),
            region: "Almaty".into(),
            district: "Bostandyq".into(),
            institution: "School 12".into(),
            institution_kind: "boarding".into(),
            locality: "rural".into(),
            grade: 2,
            language: "kk".into(),
            battery_id: "qabilet-screener-demo".into(),
            starts_on: "2027-03-01".into(),
            ends_on: "2027-03-05".into(),
            request: request_id.map(|r| key(r, name)),
        }
    }

    fn row(line: u64, code: &str, birth: &str, class: &str, iin: Option<&str>) -> RosterRow {
        RosterRow {
            line,
            code: code.into(),
            given_name: None,
            family_name: None,
            birth_date: birth.into(),
            sex: Some("F".into()),
            test_language: "kk".into(),
            class: class.into(),
            iin_hash: iin.map(str::to_owned),
        }
    }

    /// Cohort "A" with one child on its roster; the cohort and the child's id.
    async fn cohort_of_one(store: &dyn Store) -> (Cohort, String) {
        let c = store.create_cohort(cohort("A", None)).await.unwrap().record;
        store
            .import_roster(import(&c.id, vec![row(2, "K1", "2018-05-14", "2A", None)], false))
            .await
            .unwrap();
        let child_id = store.roster(&c.id).await.unwrap()[0].child_id.clone();
        (c, child_id)
    }

    fn import(cohort_id: &str, rows: Vec<RosterRow>, check_only: bool) -> RosterImport {
        RosterImport {
            cohort_id: cohort_id.into(),
            centre: "almaty-1".into(),
            owner: "psy-aliya".into(),
            rows,
            check_only,
            enrol_any_owner: false,
        }
    }

    pub async fn cohorts_are_created_once_per_key_and_listed(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let first = store.create_cohort(cohort("A", Some("c-1"))).await.unwrap();
        assert!(!first.existed);
        let again = store.create_cohort(cohort("A", Some("c-1"))).await.unwrap();
        assert!(again.existed);
        assert_eq!(again.record, first.record);
        assert!(matches!(
            store.create_cohort(cohort("B", Some("c-1"))).await,
            Err(StoreError::RequestReused { .. })
        ));
        store.create_cohort(cohort("C", None)).await.unwrap();
        let mut other = cohort("D", None);
        other.centre = "astana-2".into();
        store.create_cohort(other).await.unwrap();
        let mine = store
            .list_cohorts(
                CohortFilter {
                    centre: Some("almaty-1".into()),
                    owner: None,
                },
                PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(
            mine.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["A", "C"]
        );
        assert_eq!(store.get_cohort(&first.record.id).await.unwrap(), first.record);
        assert!(matches!(
            store.get_cohort("nope").await,
            Err(StoreError::NotFound { .. })
        ));
    }

    pub async fn a_roster_is_imported_all_or_nothing(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let c = store.create_cohort(cohort("A", None)).await.unwrap().record;
        let rows = vec![
            row(2, "K1", "2018-05-14", "2A", Some("hash-1")),
            row(3, "K2", "2018-06-01", "2A", None),
        ];
        let done = store
            .import_roster(import(&c.id, rows.clone(), false))
            .await
            .unwrap();
        assert_eq!(
            done,
            RosterOutcome::Imported(RosterCounts {
                children_created: 2,
                members_added: 2,
                ..Default::default()
            })
        );
        let again = store
            .import_roster(import(&c.id, rows.clone(), false))
            .await
            .unwrap();
        assert_eq!(
            again,
            RosterOutcome::Imported(RosterCounts {
                unchanged: 2,
                ..Default::default()
            })
        );
        // A roster with one conflicting row writes nothing, not even its good rows.
        let bad = vec![
            row(2, "K3", "2018-01-01", "2B", None),
            row(3, "K1", "2018-05-15", "2A", None),
            row(4, "K4", "2018-01-01", "2B", Some("hash-1")),
        ];
        match store.import_roster(import(&c.id, bad, false)).await.unwrap() {
            RosterOutcome::Rejected(conflicts) => {
                let at: Vec<(u64, &str)> = conflicts.iter().map(|c| (c.line, c.column)).collect();
                assert_eq!(at, [(3, "birth_date"), (4, "iin")], "{conflicts:?}");
            }
            other => panic!("{other:?}"),
        }
        // A check-only run of good rows writes nothing either.
        let checked = store
            .import_roster(import(&c.id, vec![row(2, "K5", "2018-01-01", "2B", None)], true))
            .await
            .unwrap();
        assert!(matches!(checked, RosterOutcome::Imported(_)));
        let members = store.roster(&c.id).await.unwrap();
        assert_eq!(
            members.iter().map(|m| m.code.as_str()).collect::<Vec<_>>(),
            ["K1", "K2"]
        );
        assert!(members[0].iin_linked && !members[1].iin_linked);
        // A move to another class.
        let moved = store
            .import_roster(import(&c.id, vec![row(2, "K2", "2018-06-01", "2B", None)], false))
            .await
            .unwrap();
        assert_eq!(
            moved,
            RosterOutcome::Imported(RosterCounts {
                members_moved: 1,
                ..Default::default()
            })
        );
        // A child registered by someone else is not reached.
        store
            .create_child(child("K7", "almaty-1", "psy-bolat", None))
            .await
            .unwrap();
        match store
            .import_roster(import(&c.id, vec![row(2, "K7", "2017-03-14", "2A", None)], false))
            .await
            .unwrap()
        {
            RosterOutcome::Rejected(conflicts) => assert_eq!(conflicts[0].column, "code"),
            other => panic!("{other:?}"),
        }
    }

    pub async fn tickets_bind_one_device_and_one_session(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let (c, child_id) = cohort_of_one(store.as_ref()).await;
        let ticket = |hash: &str| NewTicket {
            secret_hash: hash.into(),
            child_id: child_id.clone(),
            expires_at: i64::MAX,
        };
        assert_eq!(
            store.issue_tickets(&c.id, vec![ticket("t1")]).await.unwrap(),
            std::slice::from_ref(&child_id)
        );
        assert_eq!(
            store.issue_tickets(&c.id, vec![ticket("t2")]).await.unwrap(),
            std::slice::from_ref(&child_id)
        );
        assert!(
            store.ticket("t1").await.unwrap().unwrap().revoked_at.is_some(),
            "an unused ticket is replaced"
        );
        assert!(
            store
                .claim_ticket("t1", "dev-0", 5)
                .await
                .unwrap()
                .unwrap()
                .device_hash
                .is_none()
        );
        let claimed = store.claim_ticket("t2", "dev-1", 10).await.unwrap().unwrap();
        assert_eq!(claimed.device_hash.as_deref(), Some("dev-1"));
        let second = store.claim_ticket("t2", "dev-2", 11).await.unwrap().unwrap();
        assert_eq!(
            second.device_hash.as_deref(),
            Some("dev-1"),
            "the first device keeps it"
        );
        assert_eq!(
            store
                .ticket_by_device("dev-1")
                .await
                .unwrap()
                .unwrap()
                .secret_hash,
            "t2"
        );
        assert!(store.ticket_by_device("dev-2").await.unwrap().is_none());
        // A child who signed in gets no new ticket.
        assert!(
            store
                .issue_tickets(&c.id, vec![ticket("t3")])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.ticket("t3").await.unwrap().is_none());
        assert!(store.ticket("t2").await.unwrap().unwrap().revoked_at.is_none());
        let s = store
            .create_session(session(&child_id, "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let attached = store.attach_ticket_session("t2", &s.id).await.unwrap();
        assert_eq!(attached.session_id.as_deref(), Some(s.id.as_str()));
        let s2 = store
            .create_session(session(&child_id, "psy-aliya", None))
            .await
            .unwrap()
            .record;
        let kept = store.attach_ticket_session("t2", &s2.id).await.unwrap();
        assert_eq!(
            kept.session_id.as_deref(),
            Some(s.id.as_str()),
            "a ticket keeps its first session"
        );
        assert_eq!(store.cohort_tickets(&c.id).await.unwrap().len(), 2);
    }

    pub async fn a_device_reads_its_ticket_and_session_together(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let (c, child_id) = cohort_of_one(store.as_ref()).await;
        let ticket = NewTicket {
            secret_hash: "t1".into(),
            child_id: child_id.clone(),
            expires_at: i64::MAX,
        };
        store.issue_tickets(&c.id, vec![ticket]).await.unwrap();
        assert!(
            store.take_context("dev-1", "fm").await.unwrap().is_none(),
            "no ticket bound yet"
        );
        store.claim_ticket("t1", "dev-1", 10).await.unwrap();
        let signed_in = store.take_context("dev-1", "fm").await.unwrap().unwrap();
        assert_eq!(signed_in.ticket.secret_hash, "t1");
        assert!(signed_in.session.is_none(), "no session opened yet");

        let s = store
            .create_session(session(&child_id, "psy-aliya", None))
            .await
            .unwrap()
            .record;
        store.attach_ticket_session("t1", &s.id).await.unwrap();
        for (n, subtest) in ["fm", "qs", "fm"].into_iter().enumerate() {
            let new = NewResponse {
                subtest: subtest.into(),
                ..response(&s.id, n, Some(format!("r-{n}")))
            };
            append(store.as_ref(), new, None).await.unwrap();
        }
        store.start_clock(&s.id, "fm", 1_000).await.unwrap();
        store.start_clock(&s.id, "qs", 2_000).await.unwrap();
        store.set_session_state(pause(&s.id, None)).await.unwrap();
        store.set_session_state(resume(&s.id, None)).await.unwrap();

        let read = store.take_context("dev-1", "fm").await.unwrap().unwrap();
        let session = read.session.clone().unwrap();
        assert_eq!(session.subtest.session.id, s.id);
        assert_eq!(session.subtest.child.id, child_id);
        assert_eq!(session.subtest.last_seq, 3, "the whole log's last seq");
        assert_eq!(
            session
                .subtest
                .responses
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>(),
            [1, 3],
            "only the subtest's responses"
        );
        assert!(
            session
                .subtest
                .responses
                .iter()
                .all(|r| r.session_id == s.id && r.subtest == "fm")
        );
        assert_eq!(session.clocks.len(), 2);
        assert_eq!(session.changes.len(), 2);
        // The same as the piecewise reads.
        let piecewise = TakeContext {
            ticket: store.ticket_by_device("dev-1").await.unwrap().unwrap(),
            session: Some(TakeSession {
                subtest: store.subtest_context(&s.id, "fm").await.unwrap(),
                clocks: store.clocks(&s.id).await.unwrap(),
                changes: store.session_changes(&s.id).await.unwrap(),
            }),
        };
        assert_eq!(read, piecewise);
        let other = store.take_context("dev-1", "pf").await.unwrap().unwrap();
        assert!(other.session.unwrap().subtest.responses.is_empty());
    }

    pub async fn subtest_clocks_start_once_and_extend(fx: Arc<Fixture>) {
        let store = fx.open().await;
        let child_id = store
            .create_child(child("K-1", "almaty-1", "psy-aliya", None))
            .await
            .unwrap()
            .record
            .id;
        let s = store
            .create_session(session(&child_id, "psy-aliya", None))
            .await
            .unwrap()
            .record;
        assert!(store.clocks(&s.id).await.unwrap().is_empty());
        let clocks = store.start_clock(&s.id, "fm", 1_000).await.unwrap();
        assert_eq!(clocks.len(), 1);
        let again = store.start_clock(&s.id, "fm", 9_000).await.unwrap();
        assert_eq!(again[0].started_at, 1_000, "a started clock keeps its start");
        assert!(store.extend_clock(&s.id, "fm", 300).await.unwrap());
        assert!(store.extend_clock(&s.id, "fm", 300).await.unwrap());
        assert!(
            !store.extend_clock(&s.id, "qs", 300).await.unwrap(),
            "a clock not started is not extended"
        );
        assert_eq!(store.clocks(&s.id).await.unwrap()[0].extra_seconds, 600);
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
    store.audit(checks_audit()).await.unwrap();
    store
        .set_session_state(StateChange {
            session_id: id.clone(),
            from: vec![SessionState::Active],
            to: SessionState::Paused,
            request: None,
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
    for sql in [
        "UPDATE responses SET payload = 'x'",
        "DELETE FROM responses",
        "DELETE FROM audit_log",
        "UPDATE audit_log SET outcome = 'denied'",
        "UPDATE session_changes SET to_state = 'finished'",
        "DELETE FROM session_changes",
    ] {
        assert!(sqlx::query(sql).execute(&mut conn).await.is_err(), "{sql}");
    }

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

fn checks_audit() -> AuditEntry {
    AuditEntry {
        token_id: None,
        role: None,
        centre: String::new(),
        subject: String::new(),
        action: "a".into(),
        resource: "r".into(),
        child_id: None,
        outcome: AuditOutcome::Unauthenticated,
        peer: None,
        detail: None,
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
        store.audit(checks_audit()).await.unwrap();
        store
            .set_session_state(StateChange {
                session_id: id.clone(),
                from: vec![SessionState::Active],
                to: SessionState::Paused,
                request: None,
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
        for sql in [
            "UPDATE responses SET payload = 'x'",
            "DELETE FROM audit_log",
            "UPDATE session_changes SET to_state = 'finished'",
            "DELETE FROM session_changes",
        ] {
            assert!(sqlx::query(sql).execute(&mut conn).await.is_err(), "{sql}");
        }
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
        after_seq: 0,
        request: None,
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
            request: None,
        })
        .await
        .unwrap()
        .record
        .id
}
