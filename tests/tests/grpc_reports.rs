//! The `Reports` service of the real `qabilet serve`. A session
//! of the demo battery is administered item by item as GetNextItem directs and finished; its
//! report as data in kk, ru and en carries the session's composites and a trace for every
//! item; a psychologist's edit is stored beside the generated text (both shown), a retry is
//! applied once, an unknown item is refused naming the field; roles are checked; HTML and PDF
//! in every language carry the child's code, the chart and the edit in effect; without
//! guidance tables the service says so and the rest works.

use qabilet_e2e::{Served, authed, create_token, runtime};
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::reports_client::ReportsClient;
use qabilet_server::grpc::pb::{
    EditReportItemRequest, GetReportRequest, GetResultsRequest, ListReportEditsRequest, ReportFormat,
    SessionActionRequest,
};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

fn violated_field(e: &Status) -> String {
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    e.get_details_bad_request()
        .expect("BadRequest detail")
        .field_violations[0]
        .field
        .clone()
}

/// The shared fixture: a child of 8 with every subtest administered (session left active).
async fn administered_session(url: &str, psy: &str) -> (String, String) {
    qabilet_e2e::administered_session(url, psy, "R-001").await
}

fn request(session: &str, language: &str, format: ReportFormat) -> GetReportRequest {
    GetReportRequest {
        session: session.to_owned(),
        language: language.to_owned(),
        format: format as i32,
        interests_json: String::new(),
    }
}

fn edit(session: &str, item: &str, text: &str, request_id: &str) -> EditReportItemRequest {
    EditReportItemRequest {
        session: session.to_owned(),
        item: item.to_owned(),
        text: text.to_owned(),
        request_id: request_id.to_owned(),
        interests_json: String::new(),
    }
}

/// Every item of a report as data has a non-empty trace.
fn assert_every_item_traced(report: &serde_json::Value) {
    let mut items = Vec::new();
    for list in [
        "summary",
        "profile",
        "strengths",
        "support",
        "learning",
        "activities",
        "directions",
        "caveats",
    ] {
        items.extend(report[list].as_array().expect(list).iter());
    }
    items.push(&report["referral"]);
    items.push(&report["interests"]);
    assert!(items.len() > 10, "{} items", items.len());
    for item in items {
        let trace = item["trace"].as_array().expect("trace");
        assert!(!trace.is_empty(), "no trace: {item}");
    }
}

#[test]
fn reports_of_a_finished_session_with_edits_beside_the_generated_text() {
    let served = Served::start(&[]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    let colleague = create_token(&served.db, "psychologist", "almaty-1", "psy-dana");
    let supervisor = create_token(&served.db, "supervisor", "almaty-1", "sup-almaty");
    let integrator = create_token(&served.db, "integrator", "almaty-1", "his-1");
    let researcher = create_token(&served.db, "researcher", "almaty-1", "res-1");
    runtime().block_on(async {
        let (_child, s) = administered_session(&served.url, &psy).await;
        let channel = Channel::from_shared(served.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let mut reports = ReportsClient::new(channel.clone());
        let mut assessment = AssessmentClient::new(channel);

        // Not finished yet: no report, no edit.
        let e = reports
            .get_report(authed(&psy, request(&s, "ru", ReportFormat::Data)))
            .await
            .expect_err("unfinished");
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        let e = reports
            .edit_report_item(authed(&psy, edit(&s, "referral", "x", "early")))
            .await
            .expect_err("unfinished");
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");

        assessment
            .finish_session(authed(
                &psy,
                SessionActionRequest {
                    name: s.clone(),
                    request_id: "finish".into(),
                },
            ))
            .await
            .expect("finish");
        let results = assessment
            .get_results(authed(&psy, GetResultsRequest { session: s.clone() }))
            .await
            .expect("results")
            .into_inner();

        // The command line makes the same report from the session's results (GetResults'
        // profile_json is the record `qabilet report --input` reads).
        let dir = tempfile::tempdir().expect("tmp");
        let record = dir.path().join("results.json");
        std::fs::write(&record, &results.profile_json).expect("write results");
        let cli_json = dir.path().join("report.json");
        let out = qabilet_e2e::qabilet()
            .args(["report", "--lang", "ru", "--format", "json", "--input"])
            .arg(&record)
            .arg("--out")
            .arg(&cli_json)
            .output()
            .expect("run qabilet report");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let cli: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&cli_json).expect("read report")).expect("json");
        let pdf = dir.path().join("report.pdf");
        let out = qabilet_e2e::qabilet()
            .args(["report", "--lang", "kk", "--format", "pdf", "--input"])
            .arg(&record)
            .arg("--out")
            .arg(&pdf)
            .output()
            .expect("run qabilet report");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(std::fs::read(&pdf).expect("pdf").starts_with(b"%PDF-"));

        // As data, in each language: the same report (message keys), the session's composites
        // with GetResults' indexes, every item traced.
        let mut by_language = Vec::new();
        for lang in ["kk", "ru", "en"] {
            let r = reports
                .get_report(authed(&psy, request(&s, lang, ReportFormat::Data)))
                .await
                .unwrap_or_else(|e| panic!("{lang}: {e:?}"))
                .into_inner();
            assert_eq!((r.session.as_str(), r.language.as_str()), (s.as_str(), lang));
            assert_eq!(r.format, ReportFormat::Data as i32);
            assert!(r.content.is_empty() && r.content_type.is_empty());
            assert_eq!(r.norm_set, results.norm_set);
            assert_eq!(r.notice, results.notice);
            assert!(!r.notice.is_empty(), "demonstration norms carry their notice");
            let json: serde_json::Value = serde_json::from_str(&r.report_json).expect("report_json parses");
            assert_every_item_traced(&json);
            let rows = json["profile"].as_array().expect("profile");
            assert!(!rows.is_empty());
            for row in rows {
                let id = row["composite"].as_str().expect("composite");
                let c = results
                    .composites
                    .iter()
                    .find(|c| c.composite == id)
                    .unwrap_or_else(|| panic!("{id} is not a composite of the session"));
                assert!(c.computed);
                assert_eq!(row["index"].as_i64(), Some(i64::from(c.index)), "{id}");
            }
            let ids: Vec<&str> = json["item_ids"]
                .as_array()
                .expect("item_ids")
                .iter()
                .map(|v| v.as_str().expect("id"))
                .collect();
            assert!(
                ids.contains(&"referral") && ids.contains(&"summary/summary-age"),
                "{ids:?}"
            );
            assert_eq!(json["edits"], serde_json::json!({}));
            by_language.push(json);
        }
        assert_eq!(
            by_language[0], by_language[2],
            "data does not depend on the language"
        );
        // Empty language: the child's test language.
        let r = reports
            .get_report(authed(&psy, request(&s, "", ReportFormat::Unspecified)))
            .await
            .expect("default language")
            .into_inner();
        assert_eq!(r.language, "kk");
        let generated_referral = by_language[0]["referral"]["message"]["key"]
            .as_str()
            .expect("referral key")
            .to_owned();

        // An edit, then a retry of it, then a later edit of the same item.
        let first = reports
            .edit_report_item(authed(
                &psy,
                edit(&s, "referral", "Рекомендую наблюдение.", "e-1"),
            ))
            .await
            .expect("edit")
            .into_inner();
        assert_eq!(
            (
                first.item.as_str(),
                first.author.as_str(),
                first.generated_key.as_str()
            ),
            ("referral", "psy-aliya", generated_referral.as_str())
        );
        let retry = reports
            .edit_report_item(authed(
                &psy,
                edit(&s, "referral", "Рекомендую наблюдение.", "e-1"),
            ))
            .await
            .expect("retry")
            .into_inner();
        assert_eq!(retry, first);
        let listed = reports
            .list_report_edits(authed(
                &psy,
                ListReportEditsRequest {
                    session: s.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect("list")
            .into_inner();
        assert_eq!(
            listed.edits,
            std::slice::from_ref(&first),
            "the retry was applied once"
        );

        let r = reports
            .get_report(authed(&psy, request(&s, "ru", ReportFormat::Data)))
            .await
            .expect("report with edit")
            .into_inner();
        let json: serde_json::Value = serde_json::from_str(&r.report_json).expect("json");
        assert_eq!(
            json["referral"]["message"]["key"], generated_referral,
            "the generated text stays"
        );
        assert_eq!(json["edits"]["referral"]["text"], "Рекомендую наблюдение.");
        assert_eq!(
            json["edits"]["referral"]["generated_key"],
            generated_referral.as_str()
        );
        assert_eq!(r.edits, std::slice::from_ref(&first));

        let second = reports
            .edit_report_item(authed(&psy, edit(&s, "referral", "Second thoughts.", "e-2")))
            .await
            .expect("second edit")
            .into_inner();
        let r = reports
            .get_report(authed(&psy, request(&s, "en", ReportFormat::Data)))
            .await
            .expect("report with two edits")
            .into_inner();
        let json: serde_json::Value = serde_json::from_str(&r.report_json).expect("json");
        assert_eq!(
            json["edits"]["referral"]["text"], "Second thoughts.",
            "the latest wins"
        );
        assert_eq!(r.edits, [first.clone(), second.clone()], "nothing overwritten");
        let page = reports
            .list_report_edits(authed(
                &psy,
                ListReportEditsRequest {
                    session: s.clone(),
                    page_size: 1,
                    page_token: String::new(),
                },
            ))
            .await
            .expect("page")
            .into_inner();
        assert_eq!(page.edits, std::slice::from_ref(&first));
        let rest = reports
            .list_report_edits(authed(
                &psy,
                ListReportEditsRequest {
                    session: s.clone(),
                    page_size: 1,
                    page_token: page.next_page_token.clone(),
                },
            ))
            .await
            .expect("next page")
            .into_inner();
        assert_eq!(rest.edits, [second]);

        // Bad input, naming the field.
        let bad_edit = |item: &str, text: &str| {
            let mut c = reports.clone();
            let req = authed(&psy, edit(&s, item, text, ""));
            async move { c.edit_report_item(req).await.expect_err("refused") }
        };
        assert_eq!(
            violated_field(&bad_edit("strengths/no-such-domain", "x").await),
            "item"
        );
        assert_eq!(violated_field(&bad_edit("referral", "  ").await), "text");
        assert_eq!(
            violated_field(&bad_edit("referral", &"я".repeat(4001)).await),
            "text"
        );
        reports
            .edit_report_item(authed(
                &psy,
                edit(&s, "caveats/caveat-not-profession", &"я".repeat(4000), ""),
            ))
            .await
            .expect("4,000 characters are allowed");
        let e = reports
            .get_report(authed(&psy, request(&s, "de", ReportFormat::Data)))
            .await
            .expect_err("language");
        assert_eq!(violated_field(&e), "language");
        let mut odd = request(&s, "ru", ReportFormat::Data);
        odd.format = 42;
        let e = reports.get_report(authed(&psy, odd)).await.expect_err("format");
        assert_eq!(violated_field(&e), "format");
        let mut odd = request(&s, "ru", ReportFormat::Data);
        odd.interests_json = "{\"respondent\": \"nobody\"}".into();
        let e = reports
            .get_report(authed(&psy, odd))
            .await
            .expect_err("interests");
        assert_eq!(violated_field(&e), "interests_json");

        // Roles: the examiner reads and edits; a colleague neither; the centre's supervisor and
        // integrator read only; a researcher nothing (a report is about one identifiable child).
        let get = |token: &str| {
            let mut c = reports.clone();
            let req = authed(token, request(&s, "ru", ReportFormat::Data));
            async move { c.get_report(req).await.map(|_| ()).map_err(|e| e.code()) }
        };
        let put = |token: &str| {
            let mut c = reports.clone();
            let req = authed(token, edit(&s, "referral", "mine", ""));
            async move { c.edit_report_item(req).await.map(|_| ()).map_err(|e| e.code()) }
        };
        assert_eq!(get(&colleague).await, Err(Code::PermissionDenied));
        assert_eq!(put(&colleague).await, Err(Code::PermissionDenied));
        assert_eq!(get(&supervisor).await, Ok(()));
        assert_eq!(put(&supervisor).await, Err(Code::PermissionDenied));
        assert_eq!(get(&integrator).await, Ok(()));
        assert_eq!(put(&integrator).await, Err(Code::PermissionDenied));
        assert_eq!(get(&researcher).await, Err(Code::PermissionDenied));
        assert_eq!(put(&researcher).await, Err(Code::PermissionDenied));

        // The service's report is the command line's, but for the child named by its code.
        let served_ru = reports
            .get_report(authed(&psy, request(&s, "ru", ReportFormat::Data)))
            .await
            .expect("ru")
            .into_inner();
        let served_ru: serde_json::Value = serde_json::from_str(&served_ru.report_json).expect("json");
        assert_eq!(served_ru["record_id"], "R-001");
        assert_eq!(cli["report"]["record_id"].as_str(), Some(s.as_str()));
        for key in [
            "summary",
            "profile",
            "strengths",
            "support",
            "learning",
            "activities",
            "directions",
            "referral",
            "caveats",
        ] {
            assert_eq!(served_ru[key], cli["report"][key], "{key}");
        }

        // HTML and PDF in every language: the child's code, the chart, the notice, and the
        // edit in effect above the generated text.
        for lang in ["kk", "ru", "en"] {
            let html = reports
                .get_report(authed(&psy, request(&s, lang, ReportFormat::Html)))
                .await
                .expect("HTML")
                .into_inner();
            assert_eq!(html.content_type, "text/html; charset=utf-8");
            let page = String::from_utf8(html.content).expect("utf-8");
            assert!(page.contains(&format!("lang=\"{lang}\"")), "{lang}");
            assert!(page.contains("R-001") && page.contains("<svg"), "{lang}");
            assert!(page.contains("Second thoughts."), "{lang}: the edit in effect");
            assert!(
                !page.contains("Рекомендую наблюдение."),
                "{lang}: an older edit is not shown"
            );
            let pdf = reports
                .get_report(authed(&psy, request(&s, lang, ReportFormat::Pdf)))
                .await
                .expect("PDF")
                .into_inner();
            assert_eq!(pdf.content_type, "application/pdf");
            let doc = lopdf::Document::load_mem(&pdf.content).expect("the PDF opens");
            assert!(!doc.get_pages().is_empty(), "{lang}: pages");
        }
    });
}

#[test]
fn without_guidance_tables_reports_are_unavailable_and_the_rest_works() {
    let served = Served::start(&["--guidance", "/nonexistent/guidance"]);
    let psy = create_token(&served.db, "psychologist", "almaty-1", "psy-aliya");
    runtime().block_on(async {
        let (_child, s) = administered_session(&served.url, &psy).await;
        let channel = Channel::from_shared(served.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        AssessmentClient::new(channel.clone())
            .finish_session(authed(
                &psy,
                SessionActionRequest {
                    name: s.clone(),
                    request_id: "finish".into(),
                },
            ))
            .await
            .expect("the rest of the server works");
        let e = ReportsClient::new(channel.clone())
            .get_report(authed(&psy, request(&s, "ru", ReportFormat::Data)))
            .await
            .expect_err("no tables");
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert!(e.message().contains("/nonexistent/guidance"), "{}", e.message());
        let health = tonic_health::pb::health_client::HealthClient::new(channel);
        let status = |service: &str| {
            let mut h = health.clone();
            let service = service.to_owned();
            async move {
                h.check(tonic_health::pb::HealthCheckRequest { service })
                    .await
                    .expect("check")
                    .into_inner()
                    .status
            }
        };
        use tonic_health::pb::health_check_response::ServingStatus;
        assert_eq!(
            status("qabilet.v1.Reports").await,
            ServingStatus::NotServing as i32
        );
        assert_eq!(
            status("qabilet.v1.Assessment").await,
            ServingStatus::Serving as i32
        );
    });
}
