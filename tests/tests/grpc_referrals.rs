//! The referral planner over gRPC (`qabilet.v1.Referrals/PlanReferral`): figures agree with
//! the independent scipy reference (qabilet-core/tests/reference/referral_plan/expected.csv),
//! every role may plan (numbers only, no child's data), and out-of-range or odd input is
//! refused with INVALID_ARGUMENT naming its field.

use qabilet_e2e::{Served, authed, create_token, referral_reference, runtime};
use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::referrals_client::ReferralsClient;
use tonic::Code;
use tonic_types::StatusExt;

/// The reference row for (rule, r, c, t, r2, c2) as figure → value (empty cells: NaN).
fn reference(key: [&str; 6]) -> std::collections::HashMap<String, f64> {
    referral_reference(key)
        .into_iter()
        .skip(6)
        .map(|(h, v)| (h, v.parse().unwrap_or(f64::NAN)))
        .collect()
}

fn rule(name: &str) -> i32 {
    match name {
        "observed" => pb::ReferralRule::Observed as i32,
        "upper90" => pb::ReferralRule::Upper90 as i32,
        _ => pb::ReferralRule::Upper95 as i32,
    }
}

fn request(key: [&str; 6]) -> pb::PlanReferralRequest {
    let [r, c, t, r2, c2] = [key[1], key[2], key[3], key[4], key[5]].map(|v| v.parse::<f64>().ok());
    pb::PlanReferralRequest {
        reliability: r.unwrap(),
        cut: c.unwrap(),
        above: t.unwrap(),
        rule: rule(key[0]),
        stage2_reliability: r2,
        stage2_cut: c2,
    }
}

fn close(name: &str, got: Option<f64>, want: f64) {
    match got {
        Some(g) => assert!(
            (g - want).abs() < 1e-9,
            "{name}: {g} against the reference {want}"
        ),
        None => assert!(want.is_nan(), "{name}: absent, the reference has {want}"),
    }
}

#[test]
fn figures_agree_with_the_reference_for_every_role() {
    let served = Served::start(&[]);
    let tokens = [
        served.admin_token.clone().expect("admin token"),
        create_token(&served.db, "psychologist", "c1", "psy"),
        create_token(&served.db, "researcher", "*", "res"),
    ];
    let points: [[&str; 6]; 4] = [
        ["observed", "0.9", "130", "130", "", ""],
        ["upper90", "0.85", "125", "120", "", ""],
        ["observed", "0.8", "120", "130", "0.95", "130"],
        ["upper95", "0.85", "125", "130", "0.95", "135"],
    ];
    runtime().block_on(async {
        let mut client = ReferralsClient::connect(served.url.clone())
            .await
            .expect("connect");
        for token in &tokens {
            for key in points {
                let want = reference(key);
                let plan = client
                    .plan_referral(authed(token, request(key)))
                    .await
                    .unwrap_or_else(|s| panic!("{key:?}: {s:?}"))
                    .into_inner();
                let s1 = plan.stage1.expect("stage 1");
                close("above_rate", Some(plan.above_rate), want["above_rate"]);
                close("referred_rate", Some(s1.referred_rate), want["referred_rate"]);
                close("sensitivity", Some(s1.sensitivity), want["sensitivity"]);
                close("ppv", s1.ppv, want["ppv"]);
                match (&plan.stage2, &plan.overall) {
                    (Some(s2), Some(all)) => {
                        close(
                            "stage2_referred_rate",
                            Some(s2.referred_rate),
                            want["stage2_referred_rate"],
                        );
                        close(
                            "stage2_sensitivity",
                            Some(s2.sensitivity),
                            want["stage2_sensitivity"],
                        );
                        close(
                            "overall_referred_rate",
                            Some(all.referred_rate),
                            want["overall_referred_rate"],
                        );
                        close(
                            "overall_sensitivity",
                            Some(all.sensitivity),
                            want["overall_sensitivity"],
                        );
                        close("overall_ppv", all.ppv, want["overall_ppv"]);
                    }
                    _ => assert!(key[4].is_empty(), "{key:?}: a second stage was asked for"),
                }
            }
        }
    });
}

#[test]
fn out_of_range_and_odd_input_is_refused_by_field() {
    let served = Served::start(&[]);
    let token = served.admin_token.clone().expect("admin token");
    let base = pb::PlanReferralRequest {
        reliability: 0.9,
        cut: 120.0,
        ..Default::default()
    };
    let cases = [
        (
            "reliability",
            pb::PlanReferralRequest {
                reliability: 1.0,
                ..base
            },
        ),
        (
            "reliability",
            pb::PlanReferralRequest {
                reliability: f64::NAN,
                ..base
            },
        ),
        ("cut", pb::PlanReferralRequest { cut: 161.0, ..base }),
        (
            "cut",
            pb::PlanReferralRequest {
                cut: f64::INFINITY,
                ..base
            },
        ),
        ("above", pb::PlanReferralRequest { above: 39.0, ..base }),
        ("rule", pb::PlanReferralRequest { rule: 99, ..base }),
        (
            "stage2_cut",
            pb::PlanReferralRequest {
                stage2_reliability: Some(0.9),
                ..base
            },
        ),
        (
            "stage2_reliability",
            pb::PlanReferralRequest {
                stage2_cut: Some(130.0),
                ..base
            },
        ),
        (
            "stage2_reliability",
            pb::PlanReferralRequest {
                stage2_reliability: Some(0.0),
                stage2_cut: Some(130.0),
                ..base
            },
        ),
    ];
    runtime().block_on(async {
        let mut client = ReferralsClient::connect(served.url.clone())
            .await
            .expect("connect");
        for (field, req) in cases {
            let status = client.plan_referral(authed(&token, req)).await.expect_err(field);
            assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
            let named: Vec<String> = status
                .get_details_bad_request()
                .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
                .unwrap_or_default();
            assert_eq!(named, [field], "{status:?}");
        }
        // Without a token: refused before any arithmetic.
        let anonymous = client.plan_referral(base).await.expect_err("anonymous");
        assert_eq!(anonymous.code(), Code::Unauthenticated);
    });
}
