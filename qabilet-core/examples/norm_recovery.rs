//! How well continuous norming recovers known truths: simulated standardisation samples from
//! the shapes of `tests/support/shapes.rs` (Box–Cox shapes with floors and ceilings; shapes
//! no parametric family fits), each fitted by `norms::build::fit_subtest`, and the fitted z
//! compared with the true z over every (whole month at mid-month, raw score) cell.
//!
//! `cargo run --release -p qabilet-core --example norm_recovery -- [N …]` (default 1000 3000
//! 10000); prints one line per kind, size and subtest, and the pooled figures.

#[path = "../tests/support/shapes.rs"]
mod shapes;

use std::time::Instant;

use qabilet_core::battery::Battery;
use qabilet_core::norms::StandardisationSample;
use qabilet_core::norms::build::{BuildOptions, fit_subtest};

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
            let start = Instant::now();
            let mut parts = Vec::new();
            for (s, truth) in truths.iter().enumerate() {
                let fit = fit_subtest(&battery, &sample, s, &BuildOptions::default()).expect("fits");
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
    }
}
