//! Scoring speed: one full profile (13 subtests, 7 composites, intervals, strengths and
//! weaknesses, 15 discrepancies) of the demonstration battery — fresh, and reusing the
//! profile's buffers as batch scoring does — and request checking plus scoring.
//! Run: `cargo bench -p qabilet-core --bench score_profile`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qabilet_core::profile::Scorer;
use qabilet_core::{NormFiles, NormSet, ScoreRequest, ScoringOptions};

fn demo_norms() -> NormSet {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");
    let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).expect("demo norms");
    NormSet::from_files(&NormFiles {
        battery_toml: read("battery.toml"),
        subtests_csv: read("subtests.csv"),
        composites_csv: read("composites.csv"),
        reliability_csv: read("reliability.csv"),
        base_rates_csv: Some(read("base_rates.csv")),
        provenance_toml: read("provenance.toml"),
        item_banks: [("items/mr.json".to_owned(), read("items/mr.json"))].into(),
        content: Default::default(),
    })
    .expect("demo norms load")
}

/// 1,024 children of varied ages and scores (a fixed linear congruential sequence).
fn requests(norms: &NormSet) -> Vec<ScoreRequest> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (state >> 33) % n
    };
    (0..1024)
        .map(|_| {
            let months = 60 + next(84) as i32;
            let birth = qabilet_core::age::parse_date("2015-01-15").expect("date");
            let test = birth
                .checked_add(jiff::Span::new().months(months).days(next(28) as i64))
                .expect("date");
            let raw = norms
                .battery
                .subtests
                .iter()
                .map(|s| Some(next(u64::from(s.raw_max) + 1) as u16))
                .collect();
            ScoreRequest::new(norms, birth, test, raw).expect("valid request")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let norms = demo_norms();
    let requests = requests(&norms);
    let scorer = Scorer::new(&norms, ScoringOptions::default());
    let mut group = c.benchmark_group("profile");
    group.throughput(Throughput::Elements(1));
    group.bench_function("score_full_profile", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % requests.len();
            black_box(scorer.score(black_box(&requests[i])))
        })
    });
    group.bench_function("score_full_profile_reusing_buffers", |b| {
        let mut i = 0;
        let mut profile = scorer.score(&requests[0]);
        b.iter(|| {
            i = (i + 1) % requests.len();
            scorer.score_into(black_box(&requests[i]), &mut profile);
            black_box(&profile);
        })
    });
    group.bench_function("check_and_score_from_text", |b| {
        let cells: Vec<(usize, String)> = (0..norms.battery.subtests.len())
            .map(|s| (s, (s + 3).to_string()))
            .collect();
        b.iter(|| {
            let request = ScoreRequest::from_cells(
                &norms,
                black_box("2018-04-30"),
                black_box("2026-02-28"),
                cells.iter().map(|(s, t)| (*s, t.as_str())),
            )
            .expect("valid");
            black_box(scorer.score(&request))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
