//! The service as an attacker meets it: every RPC of every `qabilet.v1` service, taken from
//! the descriptor set the server serves by reflection, refuses a call without credentials;
//! each role may call exactly what the policy table grants; and each hole found by probing
//! the service stays closed (one test each, named after what it checks).

use prost::Message;
use qabilet_e2e::{DEMO_BATTERY, Served, create_token, runtime};
use qabilet_server::auth::Principal;
use qabilet_server::auth::policy::{self, Action, Owned};
use qabilet_server::grpc::FILE_DESCRIPTOR_SET;
use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::catalog_client::CatalogClient;
use qabilet_server::grpc::pb::referrals_client::ReferralsClient;
use qabilet_server::grpc::pb::reports_client::ReportsClient;
use qabilet_server::grpc::pb::scoring_client::ScoringClient;
use qabilet_server::grpc::pb::screening_client::ScreeningClient;
use qabilet_server::store::Role;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Code, Status};

/// A message with no fields: encodes to zero bytes, which every proto3 request decodes as its
/// default, and decodes any response.
#[derive(Clone, PartialEq, prost::Message)]
struct Nothing {}

/// Every `(service, method, server_streaming)` of package `qabilet.v1`.
fn qabilet_methods() -> Vec<(String, String, bool)> {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut methods = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "qabilet.v1") {
        for service in &file.service {
            for method in &service.method {
                methods.push((
                    format!("qabilet.v1.{}", service.name()),
                    method.name().to_owned(),
                    method.server_streaming(),
                ));
            }
        }
    }
    methods
}

/// Calls `/service/method` with an empty request and `metadata`; the status code.
async fn raw_call(
    channel: Channel,
    service: &str,
    method: &str,
    streaming: bool,
    authorization: Option<&str>,
) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = PathAndQuery::try_from(format!("/{service}/{method}")).expect("path");
    let mut request = tonic::Request::new(Nothing {});
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().expect("ascii"));
    }
    let codec = tonic_prost::ProstCodec::<Nothing, Nothing>::default();
    if streaming {
        match grpc.server_streaming(request, path, codec).await {
            Ok(response) => {
                let mut stream = response.into_inner();
                match stream.message().await {
                    Ok(_) => Code::Ok,
                    Err(status) => status.code(),
                }
            }
            Err(status) => status.code(),
        }
    } else {
        match grpc.unary(request, path, codec).await {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        }
    }
}

#[test]
fn every_rpc_refuses_a_call_without_credentials() {
    let served = Served::start(&[]);
    let methods = qabilet_methods();
    // Four services and their 19 methods: the walk cannot be vacuous.
    assert!(methods.len() >= 19, "{methods:?}");
    runtime().block_on(async {
        let channel = Channel::from_shared(served.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let mut wrong = Vec::new();
        for (service, method, streaming) in &methods {
            for authorization in [
                None,
                Some("Bearer qbt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                Some("Basic dXNlcjpwYXNz"),
            ] {
                let code = raw_call(channel.clone(), service, method, *streaming, authorization).await;
                if code != Code::Unauthenticated {
                    wrong.push(format!("{service}/{method} with {authorization:?}: {code:?}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "answered without valid credentials:\n{}",
            wrong.join("\n")
        );
    });
}

/// A client of every service that sends one bearer token with every call.
struct As {
    assessment: AssessmentClient<Channel>,
    reports: ReportsClient<Channel>,
    token: String,
    /// The token's centre, where a test needs it.
    centre: String,
    channel: Channel,
}

impl As {
    async fn new(served: &Served, token: &str) -> As {
        let channel = Channel::from_shared(served.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        As {
            assessment: AssessmentClient::new(channel.clone()),
            reports: ReportsClient::new(channel.clone()),
            token: token.to_owned(),
            centre: String::new(),
            channel,
        }
    }

    fn req<T>(&self, m: T) -> tonic::Request<T> {
        qabilet_e2e::authed(&self.token, m)
    }

    async fn create(&mut self, child: pb::Child, request_id: &str) -> Result<pb::Child, Status> {
        let r = self.req(pb::CreateChildRequest {
            child: Some(child),
            request_id: request_id.into(),
        });
        self.assessment
            .create_child(r)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn start(&mut self, child: &str, test_date: &str, request_id: &str) -> Result<pb::Session, Status> {
        let r = self.req(pb::StartSessionRequest {
            child: child.into(),
            battery: DEMO_BATTERY.into(),
            test_date: test_date.into(),
            request_id: request_id.into(),
        });
        self.assessment
            .start_session(r)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn record(
        &mut self,
        session: &str,
        item: &str,
        score: u32,
        reason: &str,
        request_id: &str,
    ) -> Result<pb::SubtestState, Status> {
        let r = self.req(pb::RecordResponseRequest {
            session: session.into(),
            subtest: "sim".into(),
            item: item.into(),
            score,
            override_reason: reason.into(),
            request_id: request_id.into(),
        });
        self.assessment
            .record_response(r)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn get_session(&mut self, name: &str) -> Result<pb::Session, Status> {
        let r = self.req(pb::GetSessionRequest { name: name.into() });
        self.assessment
            .get_session(r)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn next(&mut self, session: &str) -> Result<pb::SubtestState, Status> {
        let r = self.req(pb::GetNextItemRequest {
            session: session.into(),
            subtest: "sim".into(),
        });
        self.assessment
            .get_next_item(r)
            .await
            .map(tonic::Response::into_inner)
    }
}

fn child(code: &str) -> pb::Child {
    pb::Child {
        code: code.into(),
        birth_date: "2016-06-03".into(),
        sex: "F".into(),
        test_language: "kk".into(),
        given_name: "Aliya".into(),
        family_name: "Nurlanova".into(),
        notes: "lives with her grandmother".into(),
        ..Default::default()
    }
}

fn code_of<T: std::fmt::Debug>(r: Result<T, Status>) -> Code {
    match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

/// A request id another centre used finds nothing of theirs: keys belong to the token.
#[test]
fn a_request_id_of_another_centre_returns_nothing_of_theirs() {
    let served = Served::start(&[]);
    // The same subject name in two centres.
    let c1 = create_token(&served.db, "psychologist", "c1", "psy-x");
    let c2 = create_token(&served.db, "psychologist", "c2", "psy-x");
    runtime().block_on(async {
        let mut a = As::new(&served, &c1).await;
        let mut b = As::new(&served, &c2).await;
        let theirs = a.create(child("K-1"), "r1").await.expect("c1's child");
        let their_session = a
            .start(&theirs.name, "2026-11-20", "s1")
            .await
            .expect("c1's session");

        let mut mine = child("K-2");
        mine.given_name = String::new();
        mine.family_name = String::new();
        mine.notes = String::new();
        let got = b.create(mine, "r1").await.expect("c2's own child");
        assert_ne!(got.name, theirs.name);
        assert_eq!(got.centre, "c2");
        assert_eq!((got.given_name.as_str(), got.notes.as_str()), ("", ""));

        let session = b
            .start(&got.name, "2026-11-20", "s1")
            .await
            .expect("c2's own session");
        assert_ne!(session.name, their_session.name);
        assert_eq!(session.child, got.name);
    });
}

/// A retry must be the same request: another item or score under a used request id is
/// refused, and nothing is recorded for it.
#[test]
fn a_reused_request_id_with_another_response_is_refused() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let c = a.create(child("K-7"), "").await.expect("child");
        let s = a.start(&c.name, "2026-11-20", "").await.expect("session").name;
        let first = a.record(&s, "sim09", 2, "", "x1").await.expect("first");
        // The same request again: answered, applied once.
        let again = a.record(&s, "sim09", 2, "", "x1").await.expect("retry");
        assert_eq!(again.items_administered, first.items_administered);
        for (item, score) in [("sim10", 1), ("sim09", 1)] {
            let e = a.record(&s, item, score, "", "x1").await.expect_err("reused id");
            assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
            assert!(e.message().contains("request_id"), "{e:?}");
        }
        let now = a.next(&s).await.expect("state");
        assert_eq!((now.items_administered, now.raw_score), (1, 2));
    });
}

/// Pause, resume and finish are idempotent on their request id: a retry that overlaps the
/// original answers OK.
#[test]
fn state_changes_are_idempotent_on_their_request_id() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let c = a.create(child("K-8"), "").await.expect("child");
        let s = a.start(&c.name, "2026-11-20", "").await.expect("session").name;
        let action = |id: &str| pb::SessionActionRequest {
            name: s.clone(),
            request_id: id.into(),
        };
        for (which, id) in [
            ("pause", "p1"),
            ("pause", "p1"),
            ("resume", "r1"),
            ("pause", "p1"),
            ("resume", "r1"),
        ] {
            let r = a.req(action(id));
            let got = match which {
                "pause" => a.assessment.pause_session(r).await,
                _ => a.assessment.resume_session(r).await,
            };
            assert!(got.is_ok(), "{which} {id}: {got:?}");
        }
        // A request id used for a pause is not a finish.
        let r = a.req(action("p1"));
        let e = a
            .assessment
            .finish_session(r)
            .await
            .expect_err("reused for another action");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        // Two overlapping attempts of one finish both answer OK.
        let (r1, r2) = (a.req(action("f1")), a.req(action("f1")));
        let (mut c1, mut c2) = (a.assessment.clone(), a.assessment.clone());
        let (x, y) = tokio::join!(c1.finish_session(r1), c2.finish_session(r2));
        assert!(x.is_ok() && y.is_ok(), "{x:?} {y:?}");
    });
}

/// Free text has limits, and characters that hide or reorder text are refused.
#[test]
fn free_text_is_limited_and_look_alike_codes_are_refused() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        a.create(child("K-0417"), "").await.expect("the original");
        let mut bad = Vec::new();
        for (field, c) in [
            (
                "child.notes",
                pb::Child {
                    notes: "x".repeat(7_500_000),
                    ..child("K-1")
                },
            ),
            (
                "child.notes",
                pb::Child {
                    notes: "ok \u{202E}txt.exe".into(),
                    ..child("K-2")
                },
            ),
            (
                "child.given_name",
                pb::Child {
                    given_name: "A".repeat(101),
                    ..child("K-3")
                },
            ),
            (
                "child.sex",
                pb::Child {
                    sex: "x".repeat(1000),
                    ..child("K-4")
                },
            ),
            ("child.code", child("K-0417\u{200B}")),
            ("child.code", child("K\u{2011}0417")),
            ("child.code", child("\u{041A}-0417")),
        ] {
            match a.create(c, "").await {
                Err(e) if e.code() == Code::InvalidArgument && e.message().starts_with(field) => {}
                other => bad.push(format!("{field}: {:?}", other.map(|c| c.code))),
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
        let c = a.create(child("K-5"), "").await.expect("child");
        let s = a.start(&c.name, "2026-11-20", "").await.expect("session").name;
        let e = a
            .record(&s, "sim12", 1, &"why ".repeat(200), "")
            .await
            .expect_err("a reason of 800 characters");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    });
}

/// A psychologist registers children in its own centre only.
#[test]
fn a_child_of_another_centre_is_refused_not_moved() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    let admin = served.admin_token.clone().expect("admin token");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let e = a
            .create(
                pb::Child {
                    centre: "c2".into(),
                    ..child("K-9")
                },
                "",
            )
            .await
            .expect_err("another centre");
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        let own = a
            .create(
                pb::Child {
                    centre: "c1".into(),
                    ..child("K-9")
                },
                "",
            )
            .await
            .expect("own centre");
        assert_eq!(own.centre, "c1");
        // An admin of every centre names the centre.
        let mut root = As::new(&served, &admin).await;
        let e = root.create(child("K-10"), "").await.expect_err("no centre named");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        let placed = root
            .create(
                pb::Child {
                    centre: "c2".into(),
                    ..child("K-10")
                },
                "",
            )
            .await
            .expect("admin");
        assert_eq!(placed.centre, "c2");
    });
}

/// Researchers see no free text: override reasons are withheld from sessions and states.
#[test]
fn researchers_receive_no_override_reasons() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    let researcher = create_token(&served.db, "researcher", "c1", "res");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let c = a.create(child("K-11"), "").await.expect("child");
        let s = a.start(&c.name, "2026-11-20", "").await.expect("session").name;
        let secret = "mother said the father drinks";
        let state = a.record(&s, "sim12", 1, secret, "").await.expect("override");
        assert_eq!(state.overrides[0].reason, secret, "the psychologist sees it");
        let mut r = As::new(&served, &researcher).await;
        let session = r.get_session(&s).await.expect("researcher reads the session");
        let next = r.next(&s).await.expect("researcher reads the state");
        let seen = format!("{session:?}{next:?}");
        assert!(!seen.contains(secret), "{seen}");
        assert_eq!(next.overrides.len(), 1, "the override itself is still reported");
        assert_eq!(next.overrides[0].item, "sim12");
        // No exact day either: the session's times are those of the first day of its month.
        let r2 = r.req(pb::GetChildRequest { name: c.name.clone() });
        let child = r
            .assessment
            .get_child(r2)
            .await
            .expect("researcher reads the child")
            .into_inner();
        for time in [&session.create_time, &child.create_time] {
            assert!(time.ends_with("-01T00:00:00Z"), "{time}");
        }
        assert_eq!(session.test_date.len(), 7, "{}", session.test_date);
    });
}

/// Every item administered before the discontinue keeps its credit.
#[test]
fn credit_earned_before_a_discontinue_is_kept() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let c = a.create(child("K-12"), "").await.expect("child");
        let s = a.start(&c.name, "2026-11-20", "").await.expect("session").name;
        let mut last = None;
        for (item, score) in [
            ("sim09", 2),
            ("sim10", 0),
            ("sim08", 0),
            ("sim07", 0),
            ("sim06", 0),
        ] {
            let state = a.record(&s, item, score, "", "").await.expect(item);
            last = Some(state);
        }
        let state = last.expect("a state");
        assert!(state.done && state.done_reason == "discontinued", "{state:?}");
        assert_eq!(state.raw_score, 2, "sim09's 2 points stay: {state:?}");
    });
}

/// One audit row per call, with who (token, role, centre), the outcome and the peer; denials,
/// refused tokens and token administration included.
#[test]
fn every_call_leaves_one_audit_row_with_who_and_outcome() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    let other = create_token(&served.db, "psychologist", "c2", "psy-2");
    let c = runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let mut c = None;
        for i in 0..3 {
            c = Some(a.create(child(&format!("K-A{i}")), "").await.expect("child"));
        }
        let r = a.req(pb::ListChildrenRequest::default());
        let listed = a.assessment.list_children(r).await.expect("list").into_inner();
        assert_eq!(listed.children.len(), 3);
        let c = c.expect("a child");
        let mut b = As::new(&served, &other).await;
        let r = b.req(pb::GetChildRequest { name: c.name.clone() });
        assert_eq!(code_of(b.assessment.get_child(r).await), Code::PermissionDenied);
        let mut forged = As::new(&served, "qbt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").await;
        let r = forged.req(pb::GetChildRequest { name: c.name.clone() });
        assert_eq!(
            code_of(forged.assessment.get_child(r).await),
            Code::Unauthenticated
        );
        c
    });
    let id = c.name.strip_prefix("children/").expect("name").to_owned();
    let out = qabilet_e2e::qabilet()
        .args(["token", "list", "--db", &served.db])
        .output()
        .expect("token list");
    assert!(out.status.success());
    let rows = runtime().block_on(async {
        let store = qabilet_server::store::open_store(&served.db)
            .await
            .expect("store");
        let mut all = Vec::new();
        let mut page = qabilet_server::store::PageRequest::first(1000);
        loop {
            let got = store
                .audit_entries(qabilet_server::store::AuditFilter::default(), page.clone())
                .await
                .expect("audit");
            all.extend(got.items);
            match got.next {
                Some(next) => page.after = Some(next),
                None => break all,
            }
        }
    });
    let of = |action: &str| rows.iter().filter(|r| r.action == action).collect::<Vec<_>>();
    use qabilet_server::store::{AuditOutcome, Role};
    let lists = of("list_children");
    assert_eq!(lists.len(), 1, "one row for the whole list: {lists:?}");
    let list = lists[0];
    assert_eq!(
        (list.role, list.centre.as_str(), list.outcome),
        (Some(Role::Psychologist), "c1", AuditOutcome::Ok)
    );
    assert!(list.token_id.as_deref().is_some_and(|t| !t.is_empty()));
    assert!(
        list.peer
            .as_deref()
            .is_some_and(|p| p.starts_with("grpc 127.0.0.1:")),
        "{list:?}"
    );
    assert!(
        list.detail
            .as_deref()
            .is_some_and(|d| d.starts_with("listed 3:") && d.contains(&id)),
        "{list:?}"
    );
    assert_eq!(of("create_child").len(), 3);
    let denied: Vec<_> = of("get_child")
        .into_iter()
        .filter(|r| r.outcome == AuditOutcome::Denied)
        .collect();
    assert_eq!(denied.len(), 1, "{rows:?}");
    assert_eq!(
        (denied[0].centre.as_str(), denied[0].child_id.as_deref()),
        ("c2", Some(id.as_str()))
    );
    assert!(
        rows.iter()
            .any(|r| r.outcome == AuditOutcome::Unauthenticated && r.token_id.is_none()),
        "a refused token is audited: {rows:?}"
    );
    let admin = rows
        .iter()
        .filter(|r| r.action == "create_token" || r.action == "list_tokens")
        .count();
    assert!(
        admin >= 3,
        "token administration is audited (two creates, one list): {rows:?}"
    );
    assert!(
        rows.iter()
            .filter(|r| r.action == "list_tokens")
            .all(|r| r.peer.as_deref() == Some("cli")),
        "{rows:?}"
    );
}

/// What each RPC asks the policy, and about which record: the child or session of the
/// fixture (centre c1, owner "owner"), or none (a creation or list within the caller's scope).
fn policy_of(method: &str) -> (Action, bool) {
    match method {
        "ListBatteries" | "GetBattery" => (Action::ReadCatalog, false),
        "ScoreProfile" | "BatchScore" | "PlanReferral" => (Action::Score, false),
        "CreateChild" => (Action::CreateChild, false),
        "GetChild" => (Action::ReadChild, true),
        "ListChildren" => (Action::ListChildren, false),
        "StartSession" => (Action::StartSession, true),
        "GetSession" | "GetNextItem" => (Action::ReadSession, true),
        "ListSessions" => (Action::ListSessions, true),
        "PauseSession" | "ResumeSession" | "FinishSession" => (Action::ChangeSessionState, true),
        "RecordResponse" => (Action::RecordResponse, true),
        "GetResults" => (Action::ReadResults, true),
        "GetReport" | "ListReportEdits" => (Action::ReadReport, true),
        "EditReportItem" => (Action::EditReport, true),
        "CreateCohort" => (Action::ManageCohort, false),
        "ImportRoster" | "IssueTickets" => (Action::ManageCohort, true),
        "GetCohort" | "ExportRoster" | "GetCohortResults" => (Action::ReadCohort, true),
        "ListCohorts" => (Action::ReadCohort, false),
        other => panic!("RPC {other} has no row in this test's table: add it"),
    }
}

/// Calls `method` as `who` on fresh fixtures of `owner` (a child, a session with its next
/// item due, a finished session); the status code.
async fn call_as(method: &str, who: &mut As, owner: &mut As, finished: &str, n: usize) -> Code {
    let child = owner
        .create(child(&format!("M-{n}")), "")
        .await
        .expect("fixture child");
    let session = owner
        .start(&child.name, "2026-11-20", "")
        .await
        .expect("fixture session")
        .name;
    let mut catalog = CatalogClient::new(who.channel.clone());
    let mut scoring = ScoringClient::new(who.channel.clone());
    let scores = pb::ChildScores {
        id: "x".into(),
        birth_date: "2016-06-03".into(),
        test_date: "2026-11-20".into(),
        raw_scores: [("voc".to_owned(), 20)].into(),
    };
    let action = |name: &str| pb::SessionActionRequest {
        name: name.into(),
        request_id: String::new(),
    };
    let report = |name: &str| pb::GetReportRequest {
        session: name.into(),
        ..Default::default()
    };
    let c = child.name.clone();
    match method {
        "ListBatteries" => code_of(
            catalog
                .list_batteries(who.req(pb::ListBatteriesRequest::default()))
                .await,
        ),
        "GetBattery" => code_of(
            catalog
                .get_battery(who.req(pb::GetBatteryRequest {
                    name: DEMO_BATTERY.into(),
                }))
                .await,
        ),
        "ScoreProfile" => code_of(
            scoring
                .score_profile(who.req(pb::ScoreProfileRequest {
                    battery: DEMO_BATTERY.into(),
                    child: Some(scores),
                    options: None,
                }))
                .await,
        ),
        "BatchScore" => match scoring
            .batch_score(who.req(pb::BatchScoreRequest {
                battery: DEMO_BATTERY.into(),
                children: vec![scores],
                options: None,
            }))
            .await
        {
            Ok(r) => code_of(r.into_inner().message().await),
            Err(s) => s.code(),
        },
        "CreateChild" => {
            let mut new = self::child(&format!("N-{n}"));
            if who.centre == "*" {
                new.centre = "c1".into();
            }
            code_of(who.create(new, "").await)
        }
        "GetChild" => code_of(
            who.assessment
                .get_child(who.req(pb::GetChildRequest { name: c }))
                .await,
        ),
        "ListChildren" => code_of(
            who.assessment
                .list_children(who.req(pb::ListChildrenRequest::default()))
                .await,
        ),
        "StartSession" => code_of(who.start(&c, "2026-11-20", "").await),
        "GetSession" => code_of(who.get_session(&session).await),
        "GetNextItem" => code_of(who.next(&session).await),
        "ListSessions" => code_of(
            who.assessment
                .list_sessions(who.req(pb::ListSessionsRequest {
                    child: c,
                    ..Default::default()
                }))
                .await,
        ),
        "PauseSession" => code_of(who.assessment.pause_session(who.req(action(&session))).await),
        "ResumeSession" => {
            let r = owner.req(action(&session));
            owner.assessment.pause_session(r).await.expect("fixture pause");
            code_of(who.assessment.resume_session(who.req(action(&session))).await)
        }
        "FinishSession" => code_of(who.assessment.finish_session(who.req(action(&session))).await),
        "RecordResponse" => {
            let due = owner.next(&session).await.expect("fixture next").next_item;
            code_of(who.record(&session, &due, 1, "", "").await)
        }
        "GetResults" => code_of(
            who.assessment
                .get_results(who.req(pb::GetResultsRequest {
                    session: finished.into(),
                }))
                .await,
        ),
        "GetReport" => code_of(who.reports.get_report(who.req(report(finished))).await),
        "ListReportEdits" => code_of(
            who.reports
                .list_report_edits(who.req(pb::ListReportEditsRequest {
                    session: finished.into(),
                    ..Default::default()
                }))
                .await,
        ),
        "EditReportItem" => code_of(
            who.reports
                .edit_report_item(who.req(pb::EditReportItemRequest {
                    session: finished.into(),
                    item: "referral".into(),
                    text: format!("edit {n}"),
                    ..Default::default()
                }))
                .await,
        ),
        "CreateCohort" | "GetCohort" | "ListCohorts" | "ImportRoster" | "ExportRoster" | "IssueTickets"
        | "GetCohortResults" => call_screening(method, who, owner, n).await,
        "PlanReferral" => code_of(
            ReferralsClient::new(who.channel.clone())
                .plan_referral(who.req(pb::PlanReferralRequest {
                    reliability: 0.9,
                    cut: 120.0,
                    ..Default::default()
                }))
                .await,
        ),
        other => panic!("no call for {other}"),
    }
}

/// A cohort of the owner's in c1 with one child, for a call of the Screening service.
fn fixture_cohort(n: usize) -> pb::Cohort {
    pb::Cohort {
        display_name: format!("Cohort {n}"),
        centre: "c1".into(),
        region: "Almaty".into(),
        district: "Bostandyq".into(),
        institution: "School 12".into(),
        institution_kind: "school".into(),
        locality: "urban".into(),
        grade: 4,
        language: "kk".into(),
        battery: DEMO_BATTERY.into(),
        starts_on: "2026-11-20".into(),
        ends_on: "2026-11-30".into(),
        ..Default::default()
    }
}

async fn call_screening(method: &str, who: &mut As, owner: &mut As, n: usize) -> Code {
    let mut mine = ScreeningClient::new(owner.channel.clone());
    let cohort = mine
        .create_cohort(owner.req(pb::CreateCohortRequest {
            cohort: Some(fixture_cohort(n)),
            request_id: String::new(),
        }))
        .await
        .expect("fixture cohort")
        .into_inner()
        .name;
    let roster = format!("code,birth_date,language,class\nS-{n},2016-06-03,kk,4A\n").into_bytes();
    mine.import_roster(owner.req(pb::ImportRosterRequest {
        cohort: cohort.clone(),
        csv: roster,
    }))
    .await
    .expect("fixture roster");
    let mut theirs = ScreeningClient::new(who.channel.clone());
    match method {
        "CreateCohort" => {
            let mut new = fixture_cohort(n);
            if who.centre != "*" {
                new.centre = String::new();
            }
            code_of(
                theirs
                    .create_cohort(who.req(pb::CreateCohortRequest {
                        cohort: Some(new),
                        request_id: String::new(),
                    }))
                    .await,
            )
        }
        "GetCohort" => code_of(
            theirs
                .get_cohort(who.req(pb::GetCohortRequest { name: cohort }))
                .await,
        ),
        "ListCohorts" => code_of(
            theirs
                .list_cohorts(who.req(pb::ListCohortsRequest::default()))
                .await,
        ),
        "ImportRoster" => code_of(
            theirs
                .import_roster(who.req(pb::ImportRosterRequest {
                    cohort,
                    csv: format!("code,birth_date,language,class\nT-{n},2016-06-03,kk,4A\n").into_bytes(),
                }))
                .await,
        ),
        "ExportRoster" => code_of(
            theirs
                .export_roster(who.req(pb::ExportRosterRequest { cohort }))
                .await,
        ),
        "GetCohortResults" => code_of(
            theirs
                .get_cohort_results(who.req(pb::GetCohortResultsRequest {
                    cohort,
                    class: String::new(),
                }))
                .await,
        ),
        "IssueTickets" => code_of(
            theirs
                .issue_tickets(who.req(pb::IssueTicketsRequest {
                    cohort,
                    class: String::new(),
                }))
                .await,
        ),
        other => panic!("no call for {other}"),
    }
}

/// Each role, in its own centre and in another, calls every RPC on the same fixtures; a call
/// is answered when `auth::policy` grants its action on its record and PERMISSION_DENIED when
/// it does not — the table in policy.rs is the expectation.
#[test]
fn each_role_may_call_exactly_what_the_policy_grants() {
    let served = Served::start(&[]);
    let owner_token = create_token(&served.db, "psychologist", "c1", "owner");
    let principals = [
        (Role::Psychologist, "c1", "owner"),
        (Role::Psychologist, "c1", "colleague"),
        (Role::Psychologist, "c2", "owner"),
        (Role::Supervisor, "c1", "sup"),
        (Role::Supervisor, "c2", "sup"),
        (Role::Integrator, "c1", "int"),
        (Role::Integrator, "c2", "int"),
        (Role::Researcher, "c1", "res"),
        (Role::Researcher, "*", "res-all"),
        (Role::Admin, "*", "root"),
    ];
    let methods: Vec<String> = qabilet_methods().into_iter().map(|(_, m, _)| m).collect();
    let mut wrong = Vec::new();
    runtime().block_on(async {
        let mut owner = As::new(&served, &owner_token).await;
        let (_, finished) = qabilet_e2e::administered_session(&served.url, &owner_token, "F-1").await;
        let r = owner.req(pb::SessionActionRequest {
            name: finished.clone(),
            request_id: String::new(),
        });
        owner
            .assessment
            .finish_session(r)
            .await
            .expect("finish the fixture");
        let mut n = 0;
        for (role, centre, subject) in principals {
            let token = if subject == "owner" && centre == "c1" {
                owner_token.clone()
            } else {
                create_token(&served.db, role.as_str(), centre, subject)
            };
            let mut who = As::new(&served, &token).await;
            who.centre = centre.to_owned();
            let p = Principal {
                token_id: String::new(),
                role,
                centre: centre.into(),
                subject: subject.into(),
            };
            for method in &methods {
                n += 1;
                let (action, on_record) = policy_of(method);
                let record = Owned {
                    centre: "c1",
                    owner: "owner",
                };
                let allowed = policy::allowed(&p, action, on_record.then_some(record));
                let code = call_as(method, &mut who, &mut owner, &finished, n).await;
                let expected = if allowed { Code::Ok } else { Code::PermissionDenied };
                if code != expected {
                    wrong.push(format!(
                        "{role} of {centre} ({subject}) {method}: expected {expected:?}, got {code:?}"
                    ));
                }
            }
        }
    });
    assert!(
        wrong.is_empty(),
        "{} calls disagree with the policy:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Unread batch streams cannot pin the server's memory: a token runs at most four at once
/// (the fifth is RESOURCE_EXHAUSTED), and a stream whose client stops reading ends with
/// DEADLINE_EXCEEDED after the send deadline, freeing its place.
#[test]
fn unread_batch_streams_are_capped_and_dropped() {
    let served = Served::start_with_env(&[], &[("QABILET_BATCH_SEND_DEADLINE_MS", "2000")]);
    let token = create_token(&served.db, "researcher", "c1", "res");
    runtime().block_on(async {
        // A connection per stream: streams of one connection share its flow-control window,
        // and unread ones would stall the others on the client's side.
        let client = || async {
            ScoringClient::new(
                Channel::from_shared(served.url.clone())
                    .expect("url")
                    .connect()
                    .await
                    .expect("connect"),
            )
        };
        let children: Vec<pb::ChildScores> = (0..10_000)
            .map(|i| pb::ChildScores {
                id: format!("c{i}"),
                birth_date: "2016-06-03".into(),
                test_date: "2026-11-20".into(),
                raw_scores: [("voc".to_owned(), 20), ("sim".to_owned(), 18)].into(),
            })
            .collect();
        let batch = || {
            qabilet_e2e::authed(
                &token,
                pb::BatchScoreRequest {
                    battery: DEMO_BATTERY.into(),
                    children: children.clone(),
                    options: None,
                },
            )
        };
        let mut unread = Vec::new();
        for _ in 0..4 {
            unread.push(
                client()
                    .await
                    .batch_score(batch())
                    .await
                    .expect("admitted")
                    .into_inner(),
            );
        }
        let refused = client()
            .await
            .batch_score(batch())
            .await
            .expect_err("a fifth at once");
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
        // Nobody reads for longer than the deadline.
        tokio::time::sleep(std::time::Duration::from_millis(5000)).await;
        let mut stream = unread.pop().expect("a stream");
        let mut results = 0;
        let end = loop {
            match stream.message().await {
                Ok(Some(_)) => results += 1,
                Ok(None) => break Code::Ok,
                Err(s) => break s.code(),
            }
        };
        assert_eq!(end, Code::DeadlineExceeded, "after {results} results");
        assert!(results < 10_000, "{results}");
        drop(unread);
        // The places are free again, and a client that reads gets every result.
        let mut fresh = client()
            .await
            .batch_score(batch())
            .await
            .expect("admitted again")
            .into_inner();
        let mut n = 0;
        while let Some(r) = fresh.message().await.expect("read") {
            assert!(matches!(
                r.result,
                Some(pb::batch_score_result::Result::Profile(_))
            ));
            n += 1;
        }
        assert_eq!(n, 10_000);
    });
}

/// A response is appended only after the rules accepted it: not to a paused session, even
/// keyed and racing the session's resumption — the session stays readable whatever the
/// order.
#[test]
fn a_response_racing_a_resume_is_checked_by_the_rules() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "c1", "psy");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let c = a.create(child("K-13"), "").await.expect("child");
        let s = a.start(&c.name, "2026-11-20", "").await.expect("session").name;
        for round in 0..40 {
            let r = a.req(pb::SessionActionRequest {
                name: s.clone(),
                request_id: String::new(),
            });
            a.assessment.pause_session(r).await.expect("pause");
            let resume = a.req(pb::SessionActionRequest {
                name: s.clone(),
                request_id: String::new(),
            });
            let bogus = a.req(pb::RecordResponseRequest {
                session: s.clone(),
                subtest: "sim".into(),
                item: "no-such-item".into(),
                score: 60_000,
                override_reason: String::new(),
                request_id: format!("bogus-{round}"),
            });
            let (mut x, mut y) = (a.assessment.clone(), a.assessment.clone());
            let (resumed, recorded) = tokio::join!(x.resume_session(resume), y.record_response(bogus));
            resumed.expect("resume");
            let code = code_of(recorded);
            assert!(
                matches!(code, Code::FailedPrecondition | Code::InvalidArgument),
                "round {round}: {code:?}"
            );
            let state = a.get_session(&s).await.expect("the session stays readable");
            let sim = state.subtests.iter().find(|t| t.subtest == "sim").expect("sim");
            assert_eq!(sim.items_administered, 0, "round {round}");
        }
    });
}

/// Refused tokens cannot make the server write without bound: values not shaped like a
/// token leave no row, and a peer's refused tokens one row per window.
#[test]
fn refused_tokens_leave_a_bounded_trace() {
    let served = Served::start(&[]);
    runtime().block_on(async {
        let channel = Channel::from_shared(served.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        for i in 0..60 {
            let value = if i % 2 == 0 {
                "Bearer x".to_owned()
            } else {
                format!("Bearer qbt_{}", "a".repeat(40))
            };
            let code = raw_call(
                channel.clone(),
                "qabilet.v1.Assessment",
                "GetChild",
                false,
                Some(&value),
            )
            .await;
            assert_eq!(code, Code::Unauthenticated);
        }
    });
    let rows = runtime().block_on(async {
        let store = qabilet_server::store::open_store(&served.db)
            .await
            .expect("store");
        store
            .audit_entries(
                qabilet_server::store::AuditFilter::default(),
                qabilet_server::store::PageRequest::first(1000),
            )
            .await
            .expect("audit")
            .items
    });
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.outcome == qabilet_server::store::AuditOutcome::Unauthenticated)
        .collect();
    assert!(!refused.is_empty() && refused.len() <= 2, "{refused:?}");
    assert_eq!(refused[0].resource, "/qabilet.v1.Assessment/GetChild");
}
