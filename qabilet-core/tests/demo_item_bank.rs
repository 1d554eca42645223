//! The demonstration battery's item bank `norms/qabilet-primary-demo/items/mr.json` is the
//! model the demo sample's item scores were simulated from (`norms::simulate::item_bank`),
//! byte for byte, so it cannot drift from the simulation. `QABILET_WRITE_BANKS=1` rewrites it.

use qabilet_core::battery::Battery;
use qabilet_core::irt::{ItemBank, ItemModel};
use qabilet_core::norms::simulate::item_bank;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");

/// The provenance written into the bank.
const PROVENANCE: &str = "DEMONSTRATION item bank, not calibrated on children: the Rasch model \
(logistic metric, D = 1, a = 1) from which qabilet norms simulate --items drew the mr item scores \
of the demonstration sample, b_i = -3 + 6(i + 1/2)/30 for item i = 0 ... 29 in administration order \
(qabilet_core::norms::simulate::ItemModel). Under the Rasch model the number-correct score is \
sufficient for theta, so the raw score a theta equates to (round(sum of P_i(theta)) over all 30 \
items) is on the scale of the raw-score norms. Written by qabilet_core::norms::simulate::item_bank; \
the test demo_item_bank checks this file against it.";

#[test]
fn the_demo_bank_is_the_simulation_model() {
    let battery =
        Battery::from_toml(&std::fs::read_to_string(format!("{DIR}/battery.toml")).unwrap()).unwrap();
    let mr = &battery.subtests[battery.subtest_index("mr").unwrap()];
    let rule = mr.adaptive.as_ref().expect("mr is adaptive");
    let expected = item_bank(mr, Some(PROVENANCE.into())).to_json();
    let path = format!("{DIR}/{}", rule.bank);
    if std::env::var_os("QABILET_WRITE_BANKS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).expect("items/mr.json");
    assert_eq!(
        committed, expected,
        "{path} differs from the simulation model: QABILET_WRITE_BANKS=1 rewrites it"
    );
    // Independently of the generator: 30 Rasch items, b from -2.9 to 2.9 in steps of 0.2.
    let bank = ItemBank::from_json(&committed).unwrap();
    assert_eq!(bank.items.len(), 30);
    for (i, item) in bank.items.iter().enumerate() {
        assert_eq!(item.id, format!("mr{:02}", i + 1));
        let ItemModel::Rasch { b } = item.model else {
            panic!("{} is not a Rasch item", item.id)
        };
        assert!(
            (b - (-2.9 + 0.2 * i as f64)).abs() < 1e-12,
            "{}: b = {b}",
            item.id
        );
    }
}

#[test]
fn a_bank_written_reads_back_equal() {
    let text = r#"{"items": [
  {"id": "a", "model": "2pl", "a": 1.25, "b": -0.1, "content": "x", "exposure": {"sympson_hetter": 0.5}},
  {"id": "b", "model": "3pl", "a": 0.8, "b": 1.0, "c": 0.2},
  {"id": "c", "model": "gpcm", "a": 1.0, "b": [-0.3, 0.3]},
  {"id": "d", "model": "grm", "a": 1.4, "b": [-1.0, 0.5]},
  {"id": "e", "model": "rasch", "b": 0.30000000000000004}
]}"#;
    let bank = ItemBank::from_json(text).unwrap();
    assert_eq!(ItemBank::from_json(&bank.to_json()).unwrap(), bank);
}
