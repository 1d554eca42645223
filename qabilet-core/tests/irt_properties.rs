//! IRT invariants for any parameters (proptest): category probabilities form a distribution
//! whose derivatives match finite differences, information is non-negative, EAP stays on its
//! grid, and MAP/MLE/WLE estimates satisfy their estimating equations.

use proptest::prelude::*;
use qabilet_core::irt::{
    CategoryCurve, EapGrid, Estimator, ItemBank, ItemModel, ResponsePattern, Status, estimating_equation,
    item_information, point_estimate,
};

fn model() -> impl Strategy<Value = ItemModel> {
    let a = 0.3f64..3.0;
    let b = -3.0f64..3.0;
    prop_oneof![
        b.clone().prop_map(|b| ItemModel::Rasch { b }),
        (a.clone(), b.clone()).prop_map(|(a, b)| ItemModel::TwoPl { a, b }),
        (a.clone(), b.clone(), 0.0f64..0.35).prop_map(|(a, b, c)| ItemModel::ThreePl { a, b, c }),
        (a.clone(), proptest::collection::vec(-3.0f64..3.0, 1..5))
            .prop_map(|(a, b)| ItemModel::Gpcm { a, b }),
        (a, proptest::collection::vec(-3.0f64..3.0, 1..5)).prop_map(|(a, mut b)| {
            b.sort_by(f64::total_cmp);
            for i in 1..b.len() {
                if b[i] <= b[i - 1] + 0.05 {
                    b[i] = b[i - 1] + 0.05;
                }
            }
            ItemModel::Grm { a, b }
        }),
    ]
}

fn bank_json(models: &[ItemModel]) -> String {
    let items: Vec<String> = models
        .iter()
        .enumerate()
        .map(|(n, m)| {
            let body = serde_json::to_value(m).unwrap();
            let mut obj = body.as_object().unwrap().clone();
            obj.insert("id".into(), format!("i{n}").into());
            serde_json::Value::Object(obj).to_string()
        })
        .collect();
    format!("{{\"items\": [{}]}}", items.join(","))
}

/// EAP by its definition on the 61-node grid over [−6, 6]: Σ θ·φ(θ)·Π P(x|θ) / Σ φ(θ)·Π P(x|θ).
fn direct_eap(bank: &ItemBank, pattern: &ResponsePattern) -> (f64, f64) {
    let nodes: Vec<f64> = (0..61).map(|q| -6.0 + 0.2 * q as f64).collect();
    let log_post: Vec<f64> = nodes
        .iter()
        .map(|&theta| {
            let mut lp = -0.5 * theta * theta;
            for (item, k) in pattern.administered() {
                let model = &bank.items[item].model;
                let mut logs = vec![0.0; model.max_category() + 1];
                model.log_probabilities(theta, &mut logs);
                lp += logs[k];
            }
            lp
        })
        .collect();
    let max = log_post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut total, mut first, mut second) = (0.0, 0.0, 0.0);
    for (lp, theta) in log_post.iter().zip(&nodes) {
        let w = (lp - max).exp();
        total += w;
        first += w * theta;
        second += w * theta * theta;
    }
    let mean = first / total;
    (mean, (second / total - mean * mean).max(0.0).sqrt())
}

fn exponential_family_model() -> impl Strategy<Value = ItemModel> {
    prop_oneof![
        (-3.0f64..3.0).prop_map(|b| ItemModel::Rasch { b }),
        (0.3f64..3.0, -3.0f64..3.0).prop_map(|(a, b)| ItemModel::TwoPl { a, b }),
        (0.3f64..3.0, proptest::collection::vec(-3.0f64..3.0, 1..5))
            .prop_map(|(a, b)| ItemModel::Gpcm { a, b }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Complete patterns on rasch/2PL/GPCM banks take EAP's geometric-sequence shortcut.
    #[test]
    fn eap_shortcut_for_complete_exponential_family_patterns(
        models in proptest::collection::vec(exponential_family_model(), 1..60),
        seed in any::<u64>(),
    ) {
        let bank = ItemBank::from_json(&bank_json(&models)).unwrap();
        let mut state = seed | 1;
        let responses = models
            .iter()
            .map(|m| {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                Some((state % (m.max_category() as u64 + 1)) as u32)
            })
            .collect();
        let pattern = ResponsePattern::new(&bank, responses).unwrap();
        let grid = EapGrid::new(&bank, 61, -6.0, 6.0).unwrap();
        let eap = grid.estimate(&pattern, &mut qabilet_core::irt::EapScratch::default());
        let (mean, sd) = direct_eap(&bank, &pattern);
        prop_assert!((eap.theta.unwrap() - mean).abs() < 1e-9, "EAP {:?} vs direct {mean}", eap.theta);
        prop_assert!((eap.se.unwrap() - sd).abs() < 1e-7, "SE {:?} vs direct {sd}", eap.se);
    }

    #[test]
    fn categories_form_a_distribution_with_exact_derivatives(model in model(), theta in -8.0f64..8.0) {
        let m = model.max_category();
        let mut c = vec![CategoryCurve::default(); m + 1];
        model.curves(theta, &mut c);
        let total: f64 = c.iter().map(|x| x.p).sum();
        prop_assert!((total - 1.0).abs() < 1e-12, "sum {total}");
        prop_assert!(c.iter().all(|x| x.p >= 0.0 && x.p <= 1.0));
        prop_assert!(c.iter().map(|x| x.dp).sum::<f64>().abs() < 1e-12);
        let h = 1e-5;
        let (mut up, mut down) = (c.clone(), c.clone());
        model.curves(theta + h, &mut up);
        model.curves(theta - h, &mut down);
        for k in 0..=m {
            let fd = (up[k].p - down[k].p) / (2.0 * h);
            let fd2 = (up[k].dp - down[k].dp) / (2.0 * h);
            prop_assert!((fd - c[k].dp).abs() < 1e-7, "dP_{k}: {} vs {fd}", c[k].dp);
            prop_assert!((fd2 - c[k].d2p).abs() < 1e-6, "d2P_{k}: {} vs {fd2}", c[k].d2p);
        }
        let mut logs = vec![0.0; m + 1];
        model.log_probabilities(theta, &mut logs);
        for k in 0..=m {
            prop_assert!((logs[k].exp() - c[k].p).abs() < 1e-12);
        }
        prop_assert!(item_information(&model, theta) >= 0.0);
    }

    #[test]
    fn estimates_satisfy_their_equations(
        models in proptest::collection::vec(model(), 3..25),
        seed in any::<u64>(),
        missing in 0.0f64..0.4,
    ) {
        let bank = ItemBank::from_json(&bank_json(&models)).unwrap();
        // A pseudo-random pattern with some items not administered.
        let mut state = seed | 1;
        let mut next = move || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
        let responses = models
            .iter()
            .map(|m| {
                let r = next();
                ((r % 1000) as f64 / 1000.0 >= missing).then(|| ((r >> 20) % (m.max_category() as u64 + 1)) as u32)
            })
            .collect();
        let pattern = ResponsePattern::new(&bank, responses).unwrap();
        let grid = EapGrid::new(&bank, 61, -6.0, 6.0).unwrap();
        let eap = grid.estimate(&pattern, &mut qabilet_core::irt::EapScratch::default());
        if eap.status == Status::NoResponses {
            return Ok(());
        }
        let t = eap.theta.unwrap();
        prop_assert!((-6.0..=6.0).contains(&t) && eap.se.unwrap() > 0.0);
        // The grid's shortcuts (precomputed sums, exponential-family slopes) against the
        // definition.
        let (mean, sd) = direct_eap(&bank, &pattern);
        prop_assert!((t - mean).abs() < 1e-9, "EAP {t} vs direct {mean}");
        prop_assert!((eap.se.unwrap() - sd).abs() < 1e-7, "SE {} vs direct {sd}", eap.se.unwrap());
        for estimator in [Estimator::Map, Estimator::Mle, Estimator::Wle] {
            let e = point_estimate(&bank, &pattern, estimator);
            if estimator == Estimator::Map {
                prop_assert_eq!(e.status, Status::Ok);
            }
            if let (Status::Ok, Some(theta)) = (e.status, e.theta) {
                let residual = estimating_equation(&bank, &pattern, estimator, theta);
                prop_assert!(residual.abs() < 1e-7, "{estimator}: residual {residual} at {theta}");
                prop_assert!(e.se.unwrap() > 0.0);
            }
        }
    }
}
