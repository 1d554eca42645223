//! Stage-1 screening over gRPC as organisers and attackers meet it: cohorts, rosters (all or
//! nothing, every bad row listed, re-import changes nothing, the IIN kept only as a keyed
//! hash) and tickets, each confined to the cohort's centre and owner.

use qabilet_core::age::parse_date;
use qabilet_core::iin::{Iin, IinSex};
use qabilet_e2e::{DEMO_BATTERY, Served, authed, create_token, runtime};
use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::screening_client::ScreeningClient;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

fn iin(date: &str, sex: IinSex) -> String {
    (1..100)
        .find_map(|serial| Iin::example(parse_date(date).unwrap(), sex, serial))
        .unwrap()
}

fn cohort(name: &str) -> pb::Cohort {
    pb::Cohort {
        display_name: name.into(),
        region: "Almaty".into(),
        district: "Bostandyq".into(),
        institution: "School 12".into(),
        institution_kind: "school".into(),
        locality: "urban".into(),
        grade: 2,
        language: "kk".into(),
        battery: DEMO_BATTERY.into(),
        starts_on: "2027-03-01".into(),
        ends_on: "2027-03-05".into(),
        ..Default::default()
    }
}

struct As {
    client: ScreeningClient<Channel>,
    token: String,
}

impl As {
    async fn new(served: &Served, token: &str) -> As {
        As {
            client: ScreeningClient::connect(served.url.clone())
                .await
                .expect("connect"),
            token: token.to_owned(),
        }
    }

    async fn create(&mut self, c: pb::Cohort, request_id: &str) -> Result<pb::Cohort, tonic::Status> {
        let req = pb::CreateCohortRequest {
            cohort: Some(c),
            request_id: request_id.into(),
        };
        self.client
            .create_cohort(authed(&self.token, req))
            .await
            .map(|r| r.into_inner())
    }

    async fn import(&mut self, cohort: &str, csv: &str) -> Result<pb::ImportRosterResponse, tonic::Status> {
        let req = pb::ImportRosterRequest {
            cohort: cohort.into(),
            csv: csv.as_bytes().to_vec(),
        };
        self.client
            .import_roster(authed(&self.token, req))
            .await
            .map(|r| r.into_inner())
    }

    async fn export(&mut self, cohort: &str) -> Result<String, tonic::Status> {
        let req = pb::ExportRosterRequest {
            cohort: cohort.into(),
        };
        self.client
            .export_roster(authed(&self.token, req))
            .await
            .map(|r| String::from_utf8(r.into_inner().csv).expect("utf-8"))
    }

    async fn tickets(&mut self, cohort: &str, class: &str) -> Result<Vec<pb::IssuedTicket>, tonic::Status> {
        let req = pb::IssueTicketsRequest {
            cohort: cohort.into(),
            class: class.into(),
        };
        self.client
            .issue_tickets(authed(&self.token, req))
            .await
            .map(|r| r.into_inner().tickets)
    }

    async fn get(&mut self, name: &str) -> Result<pb::Cohort, tonic::Status> {
        let req = pb::GetCohortRequest { name: name.into() };
        self.client
            .get_cohort(authed(&self.token, req))
            .await
            .map(|r| r.into_inner())
    }

    async fn list(&mut self) -> Vec<pb::Cohort> {
        let req = pb::ListCohortsRequest::default();
        self.client
            .list_cohorts(authed(&self.token, req))
            .await
            .expect("list")
            .into_inner()
            .cohorts
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> Code {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(s) => s.code(),
    }
}

#[test]
fn a_roster_is_imported_all_or_nothing_and_again_changes_nothing() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    runtime().block_on(async {
        let mut aliya = As::new(&served, &psy).await;
        let c = aliya
            .create(cohort("School 12, grade 2"), "c-1")
            .await
            .expect("create");
        assert_eq!(c.centre, "almaty-1");
        assert_eq!(c.owner, "psy-aliya");
        let again = aliya
            .create(cohort("School 12, grade 2"), "c-1")
            .await
            .expect("retry");
        assert_eq!(again.name, c.name, "a retry returns the first cohort");

        let girl = iin("2018-05-14", IinSex::Female);
        let boy = iin("2018-09-02", IinSex::Male);
        let roster = format!(
            "code,given_name,family_name,birth_date,sex,language,class,iin\n\
             K001,Айгерим,Серікова,2018-05-14,F,kk,2А,{girl}\n\
             K002,Данияр,,2018-09-02,M,kk,2А,{boy}\n\
             K003,,,2018-11-30,,ru,2Б,\n"
        );
        let done = aliya.import(&c.name, &roster).await.expect("import");
        assert_eq!(
            (
                done.rows,
                done.children_created,
                done.members_added,
                done.unchanged
            ),
            (3, 3, 3, 0)
        );
        let again = aliya.import(&c.name, &roster).await.expect("re-import");
        assert_eq!(
            (
                again.rows,
                again.children_created,
                again.members_added,
                again.members_moved,
                again.unchanged
            ),
            (3, 0, 0, 0, 3),
            "importing the same roster again changes nothing"
        );
        let exported = aliya.export(&c.name).await.expect("export");
        assert!(
            !exported.contains(&girl) && !exported.contains(&boy),
            "no IIN is stored: {exported}"
        );
        assert!(
            exported.contains("K001,Айгерим,Серікова,2018-05-14,F,kk,2А,yes"),
            "{exported}"
        );
        let back = aliya
            .import(&c.name, &exported)
            .await
            .expect("the export imports back");
        assert_eq!(back.unchanged, 3);

        // A roster with bad rows: every one listed as `line N, column C`, nothing written
        // (K004 is not registered, K001 would move class: neither happens).
        let bad = format!(
            "code,birth_date,sex,language,class,iin\n\
             K004,2018-02-30,F,kk,2А,\n\
             K001,2018-05-14,F,kk,2Б,\n\
             K002,2018-09-03,M,kk,2А,\n\
             K005,2018-05-14,F,kk,2А,{girl}\n"
        );
        let status = aliya.import(&c.name, &bad).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let details = status.get_error_details();
        let violations: Vec<(String, String)> = details
            .bad_request()
            .expect("BadRequest")
            .field_violations
            .iter()
            .map(|v| (v.field.clone(), v.description.clone()))
            .collect();
        let fields: Vec<&str> = violations.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "line 2, column birth_date",
                "line 4, column birth_date",
                "line 5, column iin"
            ],
            "{violations:#?}"
        );
        assert_eq!(
            violations[2].1, "is registered in this centre for another child",
            "which child holds an IIN is not said"
        );
        assert_eq!(
            aliya.export(&c.name).await.expect("export"),
            exported,
            "nothing was written"
        );
    });
}

/// A roster names a child by its code; a child a colleague registered is neither enrolled,
/// compared nor written by a psychologist who may not read it (no oracle on its birth date,
/// no names written into it), while the centre's supervisor may enrol it.
#[test]
fn a_roster_cannot_reach_a_colleagues_child() {
    use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let colleague = create_token(&served.db, "psychologist", "almaty-1", "psy-bolat");
    let supervisor = create_token(&served.db, "supervisor", "almaty-1", "sup");
    runtime().block_on(async {
        let mut assessment = AssessmentClient::connect(served.url.clone())
            .await
            .expect("connect");
        let theirs = assessment
            .create_child(authed(
                &colleague,
                pb::CreateChildRequest {
                    child: Some(pb::Child {
                        code: "K9".into(),
                        birth_date: "2018-03-15".into(),
                        sex: "F".into(),
                        test_language: "kk".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("colleague's child")
            .into_inner();
        let mut aliya = As::new(&served, &psy).await;
        let c = aliya.create(cohort("School 12"), "").await.expect("cohort");
        let mut refusals = Vec::new();
        for birth in ["2018-03-15", "2018-03-16"] {
            let roster =
                format!("code,given_name,birth_date,sex,language,class\nK9,Зарина,{birth},F,kk,2А\n");
            let status = aliya.import(&c.name, &roster).await.expect_err("refused");
            refusals.push(status.message().to_owned());
        }
        assert_eq!(
            refusals[0], refusals[1],
            "the right and the wrong birth date read the same"
        );
        assert!(
            refusals[0].contains("line 2, column code: is in use in this centre"),
            "{}",
            refusals[0]
        );
        let child = assessment
            .get_child(authed(
                &colleague,
                pb::GetChildRequest {
                    name: theirs.name.clone(),
                },
            ))
            .await
            .expect("read")
            .into_inner();
        assert_eq!(child.given_name, "", "nothing written into the colleague's child");
        assert!(
            aliya.export(&c.name).await.expect("export").lines().count() == 1,
            "not enrolled"
        );
        // The supervisor reads the whole centre and may enrol it into a cohort of theirs.
        let mut sup = As::new(&served, &supervisor).await;
        let theirs_cohort = sup.create(cohort("Supervised"), "").await.expect("cohort");
        let done = sup
            .import(
                &theirs_cohort.name,
                "code,birth_date,sex,language,class\nK9,2018-03-15,F,kk,2А\n",
            )
            .await
            .expect("enrolled");
        assert_eq!((done.members_added, done.children_created), (1, 0));
    });
}

#[test]
fn cohorts_are_confined_to_their_centre_and_owner() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let colleague = create_token(&served.db, "psychologist", "almaty-1", "psy-bolat");
    let stranger = create_token(&served.db, "psychologist", "astana-2", "psy-aliya");
    let supervisor = create_token(&served.db, "supervisor", "almaty-1", "sup");
    let researcher = create_token(&served.db, "researcher", "*", "res");
    runtime().block_on(async {
        let mut aliya = As::new(&served, &psy).await;
        let c = aliya.create(cohort("School 12"), "").await.expect("create");
        aliya
            .import(&c.name, "code,birth_date,language,class\nK1,2018-01-01,kk,2А\n")
            .await
            .expect("import");
        for (who, token) in [
            ("a colleague", &colleague),
            ("another centre's namesake", &stranger),
            ("a researcher", &researcher),
        ] {
            let mut them = As::new(&served, token).await;
            assert_eq!(code(them.get(&c.name).await), Code::PermissionDenied, "{who}");
            assert_eq!(code(them.export(&c.name).await), Code::PermissionDenied, "{who}");
            assert_eq!(
                code(
                    them.import(&c.name, "code,birth_date,language,class\nX,2018-01-01,kk,2А\n")
                        .await
                ),
                Code::PermissionDenied,
                "{who}"
            );
            assert_eq!(
                code(them.tickets(&c.name, "").await),
                Code::PermissionDenied,
                "{who}"
            );
            let listed = if who == "a researcher" {
                Vec::new()
            } else {
                them.list().await
            };
            assert!(listed.iter().all(|x| x.name != c.name), "{who} does not list it");
        }
        // The supervisor of the centre reads and runs it.
        let mut sup = As::new(&served, &supervisor).await;
        assert_eq!(sup.get(&c.name).await.expect("read").name, c.name);
        assert_eq!(sup.tickets(&c.name, "").await.expect("tickets").len(), 1);
        // A psychologist creates no cohort in another centre, nor for another owner.
        let mut other = cohort("Elsewhere");
        other.centre = "astana-2".into();
        assert_eq!(code(aliya.create(other, "").await), Code::PermissionDenied);
        let mut other = cohort("For someone else");
        other.owner = "psy-bolat".into();
        assert_eq!(code(aliya.create(other, "").await), Code::PermissionDenied);
        // Unknown and malformed names say nothing about other cohorts.
        assert_eq!(
            code(aliya.get("cohorts/01jd3k4m5n6p7q8r9s0t1v2w3x").await),
            Code::NotFound
        );
        assert_eq!(code(aliya.get("cohorts/../x").await), Code::InvalidArgument);
    });
}

#[test]
fn odd_and_oversized_input_is_refused_by_name() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    runtime().block_on(async {
        let mut aliya = As::new(&served, &psy).await;
        let mut c = cohort("School\u{202e}21");
        let status = aliya.create(c.clone(), "").await.expect_err("bidi override");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with("cohort.name"),
            "{}",
            status.message()
        );
        c.display_name = "x".repeat(121);
        assert!(
            aliya
                .create(c.clone(), "")
                .await
                .expect_err("long")
                .message()
                .starts_with("cohort.name")
        );
        c.display_name = "School 12".into();
        c.institution_kind = "prison".into();
        assert!(
            aliya
                .create(c.clone(), "")
                .await
                .expect_err("kind")
                .message()
                .starts_with("cohort.institution_kind")
        );
        c.institution_kind = "boarding".into();
        c.ends_on = "2027-02-01".into();
        assert!(
            aliya
                .create(c.clone(), "")
                .await
                .expect_err("dates")
                .message()
                .starts_with("cohort.ends_on")
        );
        c.ends_on = "2027-03-05".into();
        c.battery = "batteries/nope".into();
        assert_eq!(code(aliya.create(c.clone(), "").await), Code::NotFound);
        c.battery = DEMO_BATTERY.into();
        let created = aliya.create(c, "").await.expect("create");

        // 2 MiB and a byte: refused before any row is read.
        let mut huge = String::from("code,birth_date,language,class\n");
        while huge.len() <= 2 * 1024 * 1024 {
            huge.push_str("K1,2018-01-01,kk,2А\n");
        }
        let status = aliya.import(&created.name, &huge).await.expect_err("huge");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("roster:"), "{}", status.message());
        // Not UTF-8, and a formula-looking code.
        let status = aliya
            .import(
                &created.name,
                "code,birth_date,language,class\nK1,2018-01-01,kk,2\u{0}А\n",
            )
            .await
            .expect_err("control character");
        assert_eq!(status.code(), Code::InvalidArgument);
        let status = aliya
            .import(
                &created.name,
                "code,birth_date,language,class\n=HYPERLINK(1),2018-01-01,kk,2А\n",
            )
            .await
            .expect_err("formula");
        assert!(
            status.message().contains("line 2, column code"),
            "{}",
            status.message()
        );
    });
}
