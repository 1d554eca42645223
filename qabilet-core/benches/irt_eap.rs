//! EAP scoring speed: 40 2PL items, 61-point grid on [−6, 6], complete response patterns
//! (the case: 100,000 examinees × 40 items). Run:
//! `cargo bench -p qabilet-core --bench irt_eap`. The NumPy peer is
//! `tests/reference/irt/bench_numpy_eap.py` on the same bank and patterns.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qabilet_core::irt::{EapGrid, ItemBank, ResponsePattern};

/// The bench bank and patterns: a fixed xorshift sequence, so the NumPy peer can rebuild them.
pub fn bank_and_patterns(examinees: usize) -> (ItemBank, Vec<ResponsePattern>) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let items: Vec<(f64, f64)> = (0..40)
        .map(|_| (0.5 + 2.0 * uniform(), -2.5 + 5.0 * uniform()))
        .collect();
    let json: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(n, (a, b))| format!("{{\"id\":\"i{n}\",\"model\":\"2pl\",\"a\":{a},\"b\":{b}}}"))
        .collect();
    let bank = ItemBank::from_json(&format!("{{\"items\":[{}]}}", json.join(","))).expect("bank");
    let patterns = (0..examinees)
        .map(|_| {
            let theta = 6.0 * uniform() - 3.0;
            let responses = items
                .iter()
                .map(|(a, b)| Some(u32::from(uniform() < 1.0 / (1.0 + (-a * (theta - b)).exp()))))
                .collect();
            ResponsePattern::new(&bank, responses).expect("pattern")
        })
        .collect();
    (bank, patterns)
}

fn bench(c: &mut Criterion) {
    let (bank, patterns) = bank_and_patterns(100_000);
    let grid = EapGrid::new(&bank, 61, -6.0, 6.0).expect("grid");
    let mut group = c.benchmark_group("irt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("eap_40x2pl_61pt_per_examinee", |b| {
        let mut scratch = qabilet_core::irt::EapScratch::default();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % patterns.len();
            black_box(grid.estimate(black_box(&patterns[i]), &mut scratch))
        })
    });
    group.sample_size(10);
    group.throughput(Throughput::Elements(patterns.len() as u64));
    group.bench_function("eap_40x2pl_61pt_100k_examinees_one_thread", |b| {
        let mut scratch = qabilet_core::irt::EapScratch::default();
        b.iter(|| {
            for p in &patterns {
                black_box(grid.estimate(p, &mut scratch));
            }
        })
    });
    group.bench_function("eap_40x2pl_61pt_100k_examinees_two_threads", |b| {
        b.iter(|| {
            std::thread::scope(|scope| {
                for half in patterns.chunks(patterns.len() / 2) {
                    let grid = &grid;
                    scope.spawn(move || {
                        let mut scratch = qabilet_core::irt::EapScratch::default();
                        for p in half {
                            black_box(grid.estimate(p, &mut scratch));
                        }
                    });
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
