//! An examiner-led assessment end to end through the generated tonic client against the real
//! `qabilet serve` (fresh SQLite database): a subtest with reversal and discontinue, refusal
//! of items that are not due and the recorded override, idempotent retries, pause and resume,
//! results pinned to the norm set, pagination, and every role's permissions.

use qabilet_e2e::{Served, create_token, runtime};
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::{
    Child, CreateChildRequest, GetChildRequest, GetNextItemRequest, GetResultsRequest, ListChildrenRequest,
    RecordResponseRequest, Session, SessionActionRequest, StartSessionRequest, SubtestState,
};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// A client that sends one bearer token with every call.
struct As {
    client: AssessmentClient<Channel>,
    token: String,
}

impl As {
    async fn new(served: &Served, token: &str) -> As {
        As {
            client: AssessmentClient::connect(served.url.clone())
                .await
                .expect("connect"),
            token: token.to_owned(),
        }
    }

    fn req<T>(&self, m: T) -> Request<T> {
        let mut r = Request::new(m);
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.token).parse().expect("header"),
        );
        r
    }

    async fn child(&mut self, code: &str) -> Result<Child, Status> {
        let child = Child {
            code: code.into(),
            birth_date: "2018-03-10".into(),
            sex: "F".into(),
            test_language: "kk".into(),
            given_name: "Aigerim".into(),
            ..Default::default()
        };
        let r = self.req(CreateChildRequest {
            child: Some(child),
            request_id: format!("create-{code}"),
        });
        self.client.create_child(r).await.map(|r| r.into_inner())
    }

    async fn start(&mut self, child: &str) -> Result<Session, Status> {
        let r = self.req(StartSessionRequest {
            child: child.into(),
            battery: "batteries/qabilet-primary-demo".into(),
            test_date: "2026-03-20".into(), // 8:0:10, 96 months: sim starts at sim05
            request_id: format!("start-{child}"),
        });
        self.client.start_session(r).await.map(|r| r.into_inner())
    }

    async fn record(
        &mut self,
        session: &str,
        item: &str,
        score: u32,
        reason: &str,
        id: &str,
    ) -> Result<SubtestState, Status> {
        let r = self.req(RecordResponseRequest {
            session: session.into(),
            subtest: "sim".into(),
            item: item.into(),
            score,
            override_reason: reason.into(),
            request_id: id.into(),
        });
        self.client.record_response(r).await.map(|r| r.into_inner())
    }

    async fn next(&mut self, session: &str) -> SubtestState {
        let r = self.req(GetNextItemRequest {
            session: session.into(),
            subtest: "sim".into(),
        });
        self.client
            .get_next_item(r)
            .await
            .expect("next item")
            .into_inner()
    }

    async fn action(&mut self, session: &str, which: &str) -> Result<Session, Status> {
        let r = self.req(SessionActionRequest {
            name: session.into(),
            request_id: String::new(),
        });
        match which {
            "pause" => self.client.pause_session(r).await,
            "resume" => self.client.resume_session(r).await,
            _ => self.client.finish_session(r).await,
        }
        .map(|r| r.into_inner())
    }
}

#[test]
fn a_subtest_runs_through_reversal_and_discontinue_and_scores() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        let child = a.child("A-001").await.expect("child");
        let session = a.start(&child.name).await.expect("session");
        let s = session.name.clone();
        let sim = session
            .subtests
            .iter()
            .find(|t| t.subtest == "sim")
            .expect("sim state");
        assert_eq!(
            (sim.start_item.as_str(), sim.next_item.as_str()),
            ("sim05", "sim05")
        );

        // sim05 earns 1 of 2: not perfect, so the reversal rule sends the examiner back.
        let st = a.record(&s, "sim05", 1, "", "r1").await.expect("sim05");
        assert_eq!((st.next_item.as_str(), st.phase.as_str()), ("sim04", "reversal"));
        // A retry of the same request is answered, not applied twice.
        let again = a.record(&s, "sim05", 1, "", "r1").await.expect("retry");
        assert_eq!(again.items_administered, 1);
        a.record(&s, "sim04", 1, "", "r2").await.expect("sim04");
        let st = a.record(&s, "sim03", 1, "", "r3").await.expect("sim03");
        // sim03 and sim04 perfect: the basal; forward again after sim05.
        assert_eq!(
            (st.basal_item.as_str(), st.next_item.as_str(), st.phase.as_str()),
            ("sim03", "sim06", "forward")
        );
        // An item the rules do not make due is refused without an override.
        let err = a.record(&s, "sim12", 2, "", "r4").await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        for (item, score, id) in [
            ("sim06", 2, "r5"),
            ("sim07", 0, "r6"),
            ("sim08", 0, "r7"),
            ("sim09", 0, "r8"),
        ] {
            a.record(&s, item, score, "", id).await.expect(item);
        }
        let st = a.next(&s).await;
        assert!(st.done, "{st:?}");
        assert_eq!(
            (st.done_reason.as_str(), st.discontinued_after.as_str()),
            ("discontinued", "sim09")
        );
        // sim01–02 credited below the basal, sim03–05 = 1 + 1 + 1, sim06 = 2: raw 7.
        assert_eq!(st.raw_score, 7);
        // Past the discontinue point only with a reason; it is recorded, and earns nothing.
        let st = a
            .record(
                &s,
                "sim10",
                2,
                "child asked to continue; checking the ceiling",
                "r9",
            )
            .await
            .expect("override");
        assert_eq!(st.raw_score, 7);
        assert_eq!(st.overrides.len(), 1);
        assert_eq!(st.overrides[0].item, "sim10");

        // Pause: no responses until resumed.
        a.action(&s, "pause").await.expect("pause");
        let err = a.record(&s, "sim11", 0, "late", "r10").await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        a.action(&s, "resume").await.expect("resume");
        let finished = a.action(&s, "finish").await.expect("finish");
        assert!(!finished.finish_time.is_empty());

        let results = a
            .client
            .get_results(a.req(GetResultsRequest { session: s.clone() }))
            .await
            .expect("results")
            .into_inner();
        let sim = results
            .subtests
            .iter()
            .find(|t| t.subtest == "sim")
            .expect("sim scored");
        assert_eq!(sim.raw, 7);
        assert_eq!(
            results.norm_set.expect("norm set").hash,
            session.norm_set.expect("pinned").hash
        );
        assert!(results.notice.contains("not for clinical decisions"));
    });
}

#[test]
fn every_role_sees_only_what_it_may() {
    let served = Served::start(&[]);
    let aliya = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let berik = create_token(&served.db, "psychologist", "almaty-1", "psy-berik");
    let supervisor = create_token(&served.db, "supervisor", "almaty-1", "sup-almaty");
    let other_centre = create_token(&served.db, "supervisor", "astana-2", "sup-astana");
    let researcher = create_token(&served.db, "researcher", "almaty-1", "res-1");
    let integrator = create_token(&served.db, "integrator", "astana-2", "int-astana");
    runtime().block_on(async {
        let mut a = As::new(&served, &aliya).await;
        let child = a.child("A-002").await.expect("child");
        let session = a.start(&child.name).await.expect("session");
        a.record(&session.name, "sim05", 2, "", "x1")
            .await
            .expect("record");

        let get = |_who: &str| GetChildRequest {
            name: child.name.clone(),
        };
        // Another psychologist of the same centre: denied.
        let mut b = As::new(&served, &berik).await;
        let err = b.client.get_child(b.req(get("b"))).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        assert_eq!(
            b.record(&session.name, "sim06", 2, "", "x2")
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        // The centre's supervisor reads but does not record.
        let mut sup = As::new(&served, &supervisor).await;
        let seen = sup
            .client
            .get_child(sup.req(get("s")))
            .await
            .expect("supervisor reads")
            .into_inner();
        assert_eq!(seen.given_name, "Aigerim");
        assert_eq!(
            sup.record(&session.name, "sim06", 2, "", "x3")
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        // Another centre's supervisor and integrator: denied.
        let mut o = As::new(&served, &other_centre).await;
        assert_eq!(
            o.client.get_child(o.req(get("o"))).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        let mut i = As::new(&served, &integrator).await;
        assert_eq!(
            i.client.get_child(i.req(get("i"))).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        // The researcher sees the child de-identified, and cannot create children.
        let mut r = As::new(&served, &researcher).await;
        let deid = r
            .client
            .get_child(r.req(get("r")))
            .await
            .expect("researcher reads")
            .into_inner();
        assert_eq!(
            (deid.given_name.as_str(), deid.birth_date.as_str()),
            ("", "2018-03")
        );
        assert_eq!(r.child("R-1").await.unwrap_err().code(), Code::PermissionDenied);
        // No token at all.
        let mut anon = AssessmentClient::connect(served.url.clone())
            .await
            .expect("connect");
        let err = anon
            .get_child(GetChildRequest {
                name: child.name.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    });
}

#[test]
fn children_page_through_completely_and_creation_is_idempotent() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    runtime().block_on(async {
        let mut a = As::new(&served, &psy).await;
        for i in 0..7 {
            a.child(&format!("P-{i}")).await.expect("child");
        }
        // Same request_id: the same child, not a second one.
        let again = a.child("P-3").await.expect("retry");
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = a
                .client
                .list_children(a.req(ListChildrenRequest {
                    page_size: 3,
                    page_token: token.clone(),
                    code_prefix: "P-".into(),
                }))
                .await
                .expect("page")
                .into_inner();
            assert!(page.children.len() <= 3);
            seen.extend(page.children.into_iter().map(|c| c.name));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(seen.len(), 7, "{seen:?}");
        assert!(seen.contains(&again.name));
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 7);
        // Bad input names the field.
        let mut bad = Child {
            code: "X".into(),
            birth_date: "2018-13-01".into(),
            test_language: "kk".into(),
            ..Default::default()
        };
        let err = a
            .client
            .create_child(a.req(CreateChildRequest {
                child: Some(bad.clone()),
                request_id: String::new(),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        bad.birth_date = "2018-01-01".into();
        bad.test_language = "de".into();
        let err = a
            .client
            .create_child(a.req(CreateChildRequest {
                child: Some(bad),
                request_id: String::new(),
            }))
            .await
            .unwrap_err();
        assert!(
            err.message().starts_with("child.test_language"),
            "{}",
            err.message()
        );
    });
}
