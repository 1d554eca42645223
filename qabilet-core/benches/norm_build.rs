//! Norm-building speed: the continuous fit of one subtest (LMS degrees by AIC, 5-fold
//! cross-validation of LMS and ten distribution regressions, the final fit and repair) from
//! simulated standardisation samples of the demonstration battery, N = 3,000 and 100,000; and
//! the whole build (13 subtests, one thread, then composites, reliability, base rates and
//! validation) from N = 3,000. The CLI fits subtests on every core (BENCHMARKS.md).
//! Run: `cargo bench -p qabilet-core --bench norm_build`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qabilet_core::battery::Battery;
use qabilet_core::norms::build::{self, BuildOptions, ProvenanceInput};
use qabilet_core::norms::model::DevelopmentalModel;
use qabilet_core::norms::simulate::{self, SimulationOptions};
use qabilet_core::norms::{NormStatus, ReliabilityRow, StandardisationSample};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");

fn demo() -> (String, Battery, DevelopmentalModel) {
    let read = |f: &str| std::fs::read_to_string(format!("{DEMO}/{f}")).expect("demo folder");
    let toml = read("battery.toml");
    let battery = Battery::from_toml(&toml).expect("battery");
    let model = DevelopmentalModel::from_provenance(&battery, &read("model.toml")).expect("model");
    (toml, battery, model)
}

fn sample(battery: &Battery, model: &DevelopmentalModel, n: usize, items: bool) -> StandardisationSample {
    let options = SimulationOptions {
        items,
        ..SimulationOptions::new(n, 20261129)
    };
    let children = simulate::simulate(battery, model, &options).expect("simulate");
    StandardisationSample::parse(battery, &simulate::to_csv(battery, &children, items)).expect("parse")
}

fn fit_one_subtest(c: &mut Criterion) {
    let (_, battery, model) = demo();
    let voc = battery.subtest_index("voc").expect("voc");
    let mut group = c.benchmark_group("fit_subtest_voc");
    group.sample_size(10);
    for n in [3_000usize, 100_000] {
        let s = sample(&battery, &model, n, false);
        group.bench_function(format!("n{n}"), |b| {
            b.iter(|| {
                build::fit_subtest(&battery, black_box(&s), voc, &BuildOptions::default()).expect("fit")
            })
        });
    }
    group.finish();
}

fn whole_build(c: &mut Criterion) {
    let (toml, battery, model) = demo();
    let carried = build::CarriedFiles {
        battery_toml: toml,
        item_banks: [(
            "items/mr.json".to_owned(),
            std::fs::read_to_string(format!("{DEMO}/items/mr.json")).expect("demo bank"),
        )]
        .into(),
        content: Default::default(),
    };
    let s = sample(&battery, &model, 3_000, true);
    let stated = ["cd", "ss"]
        .iter()
        .map(|id| ReliabilityRow {
            scale: (*id).to_owned(),
            age_min_months: 60,
            age_max_months: 143,
            reliability: 0.8,
        })
        .collect();
    let options = BuildOptions {
        explicit_reliability: stated,
        ..BuildOptions::default()
    };
    let provenance = ProvenanceInput {
        status: NormStatus::Demonstration,
        notice: "demonstration norms — not for clinical decisions".into(),
        intended_use: "benchmark".into(),
        created: "2026-11-29".into(),
        generator: "bench".into(),
        sample_name: "simulated".into(),
        sample_sha256: String::new(),
        sample_description: String::new(),
    };
    let mut group = c.benchmark_group("build_13_subtests_one_thread");
    group.sample_size(10);
    group.bench_function("n3000_items", |b| {
        b.iter(|| build::build(&carried, &battery, black_box(&s), &options, &provenance).expect("build"))
    });
    group.finish();
}

criterion_group!(benches, fit_one_subtest, whole_build);
criterion_main!(benches);
