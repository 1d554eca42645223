//! How well continuous norming recovers known truths: simulated standardisation samples from
//! the shapes of `tests/support/shapes.rs` (Box–Cox shapes with floors and ceilings; shapes
//! no parametric family fits), each fitted by `norms::build::fit_subtest`, and the fitted z
//! compared with the true z over every (whole month at mid-month, raw score) cell.
//!
//! A third kind is the demonstration battery's own developmental model
//! (`norms/qabilet-primary-demo/model.toml`): samples drawn by `norms::simulate` exactly as
//! the committed standardisation sample was, fitted the same way.
//!
//! `cargo run --release -p qabilet-core --example norm_recovery -- [N …]` (default 1000 3000
//! 10000); prints one line per kind, size and subtest, and the pooled figures. Fit times are
//! single-threaded sums over the subtests. With `RECOVERY_CANDIDATES=1` it also prints every
//! model the cross-validation compared; with `RECOVERY_LMS_ONLY=1` it fits the LMS model alone.

#[path = "../tests/support/shapes.rs"]
mod shapes;

use std::time::Instant;

use qabilet_core::battery::Battery;
use qabilet_core::normal;
use qabilet_core::norms::StandardisationSample;
use qabilet_core::norms::build::{BuildOptions, fit_subtest};
use qabilet_core::norms::model::{DevelopmentalModel, SubtestModel};
use qabilet_core::norms::simulate::{self, SimulationOptions};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");

/// A subtest of the developmental model as a truth: the model's discretised normal.
struct ModelTruth {
    id: String,
    raw_max: u16,
    model: SubtestModel,
}

impl shapes::Truth for ModelTruth {
    fn raw_max(&self) -> u16 {
        self.raw_max
    }

    fn cdf(&self, age: f64, r: u16) -> f64 {
        if r >= self.raw_max {
            1.0
        } else {
            let (m, s) = (
                self.model.median(f64::from(self.raw_max), age),
                self.model.sd(age),
            );
            normal::cdf((f64::from(r) + 0.5 - m) / s)
        }
    }

    fn name(&self) -> &str {
        &self.id
    }
}

fn demo_model(sizes: &[usize]) {
    let read = |f: &str| std::fs::read_to_string(format!("{DEMO}/{f}")).expect("read the demo folder");
    let battery = Battery::from_toml(&read("battery.toml")).expect("battery");
    let model = DevelopmentalModel::from_provenance(&battery, &read("model.toml")).expect("model");
    let truths: Vec<ModelTruth> = battery
        .subtests
        .iter()
        .map(|s| ModelTruth {
            id: s.id.clone(),
            raw_max: s.raw_max,
            model: model.subtest[&s.id],
        })
        .collect();
    for &n in sizes {
        let children =
            simulate::simulate(&battery, &model, &SimulationOptions::new(n, 20261129)).expect("simulate");
        let sample = StandardisationSample::parse(&battery, &simulate::to_csv(&battery, &children, false))
            .expect("the simulated sample parses");
        report(
            "demo-model",
            n,
            &battery,
            &sample,
            &truths.iter().map(|t| t as &dyn shapes::Truth).collect::<Vec<_>>(),
        );
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![1000, 3000, 10000]
    } else {
        sizes
    };
    for (kind, truths) in [
        ("lms", shapes::lms_battery()),
        ("nonparametric", shapes::nonparametric_battery()),
    ] {
        let truths = shapes::refs(&truths);
        let battery_toml = shapes::battery_toml(&format!("recovery-{kind}"), &truths);
        let battery = Battery::from_toml(&battery_toml).expect("the shapes' battery parses");
        for &n in &sizes {
            let children = shapes::simulate(&truths, n, 20261129, 0.7);
            let sample = StandardisationSample::parse(&battery, &shapes::sample_csv(&truths, &children))
                .expect("the simulated sample parses");
            report(kind, n, &battery, &sample, &truths);
        }
    }
    demo_model(&sizes);
}

/// The builder's defaults; with `RECOVERY_LMS_ONLY=1`, the LMS model alone (no distribution
/// regression candidates), to see what model choice adds.
fn options() -> BuildOptions {
    let mut o = BuildOptions::default();
    if std::env::var_os("RECOVERY_LMS_ONLY").is_some() {
        o.continuous.dr_degrees.clear();
    }
    o
}

/// Fits every subtest of `sample` and prints its recovery of `truths` (battery order).
fn report(
    kind: &str,
    n: usize,
    battery: &Battery,
    sample: &StandardisationSample,
    truths: &[&dyn shapes::Truth],
) {
    let start = Instant::now();
    let mut parts = Vec::new();
    for (s, truth) in truths.iter().enumerate() {
        let fit = fit_subtest(battery, sample, s, &options()).expect("fits");
        let r = shapes::recovery(*truth, |m, x| {
            fit.grid
                .z(fit.grid.row_of(f64::from(m) + 0.5).expect("on the grid"), x)
        });
        let c = &fit.candidates[fit.chosen];
        println!(
            "{kind:>13} N={n:>6} {:>8}: central RMSE {:.4} max {:.3} | all RMSE {:.4} max {:.3} | {} {:?} λ={:?} repair raw {:.3} age {:.3}",
            truth.name(),
            r.rmse_central,
            r.max_central,
            r.rmse_all,
            r.max_all,
            c.family,
            c.degrees,
            c.lambda,
            fit.repair.max_shift_in_raw,
            fit.repair.max_shift_in_age
        );
        if std::env::var_os("RECOVERY_CANDIDATES").is_some() {
            for c in &fit.candidates {
                println!(
                    "      {} {:?} {:?}: {:.5} (se {:.5})",
                    c.family, c.degrees, c.lambda, c.cv_log_lik_per_child, c.se_vs_best
                );
            }
        }
        parts.push(r);
    }
    let p = shapes::combine(&parts);
    println!(
        "{kind:>13} N={n:>6}   pooled: central RMSE {:.4} max {:.3} | all RMSE {:.4} max {:.3} | fit time {:.2?}",
        p.rmse_central,
        p.max_central,
        p.rmse_all,
        p.max_all,
        start.elapsed()
    );
}
