//! Next-item selection speed: 1,000 2PL items, maximum Fisher information, 10 items already
//! given (interim EAP on the 61-point grid, then information of the 990 open items at θ̂).
//! Also randomesque (5) and Kullback–Leibler for comparison. Run:
//! `cargo bench -p qabilet-core --bench cat_next_item`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use qabilet_core::cat::{CatConfig, CatEngine, CatSession, Exposure, Next, Selection, StoppingRule};
use qabilet_core::irt::ItemBank;

fn bank(n: usize) -> ItemBank {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let items: Vec<String> = (0..n)
        .map(|i| {
            let (a, b) = (0.5 + 2.0 * uniform(), -3.0 + 6.0 * uniform());
            format!("{{\"id\":\"i{i}\",\"model\":\"2pl\",\"a\":{a},\"b\":{b}}}")
        })
        .collect();
    ItemBank::from_json(&format!("{{\"items\":[{}]}}", items.join(","))).expect("bank")
}

/// A session on `engine` with 10 items given (answers alternating 1, 0) and none pending.
fn after_ten(engine: &CatEngine, config: CatConfig) -> CatSession {
    let mut session = CatSession::new(engine, config, 2026).expect("session");
    for k in 0..10 {
        let Next::Item(_) = engine.next_item(&mut session).expect("next") else {
            panic!("stopped early")
        };
        engine.record(&mut session, (k % 2 == 0) as u32).expect("record");
    }
    session
}

fn bench(c: &mut Criterion) {
    let engine = CatEngine::new(&bank(1000)).expect("engine");
    let stopping = StoppingRule {
        min_items: 1,
        max_items: 40,
        se_target: None,
    };
    let configs = [
        (
            "mfi",
            CatConfig {
                stopping,
                ..CatConfig::default()
            },
        ),
        (
            "mfi_randomesque5",
            CatConfig {
                stopping,
                exposure: Exposure::Randomesque { n: 5 },
                ..CatConfig::default()
            },
        ),
        (
            "kl",
            CatConfig {
                stopping,
                selection: Selection::Kl,
                ..CatConfig::default()
            },
        ),
    ];
    let mut group = c.benchmark_group("cat_next_item_1000x2pl_after_10");
    for (name, config) in configs {
        let session = after_ten(&engine, config);
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || session.clone(),
                |s| black_box(engine.next_item(s).expect("next")),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
