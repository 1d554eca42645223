#!/usr/bin/env bash
# Rewrites every expected output in tests/data/ with the independent Python scorer. Run it
# from anywhere after any change to norms/qabilet-primary-demo/ (the norm-set hash is part of
# every output) or to the inputs; then `cargo test -p qabilet-e2e` compares the Rust binary.
# Needs Python ≥ 3.11 and scipy.
set -euo pipefail
cd "$(dirname "$0")/../.."
S=tests/reference/independent_scorer.py
B=norms/qabilet-primary-demo
python3 tests/reference/selftest.py
python3 $S --battery $B --input examples/children.csv --output tests/data/children.expected.csv
python3 $S --battery $B --input tests/data/mixed.csv --output tests/data/mixed.expected.csv
python3 $S --battery $B --input examples/children.csv --output tests/data/children.ci90-obtained.expected.csv --ci 90 --ci-method obtained
python3 $S --battery $B --input examples/children.csv --output tests/data/children.profile.expected.jsonl --format json
python3 $S --battery $B --input tests/data/mixed.csv --output tests/data/mixed.profile.expected.jsonl --format json
# A copy of the demo norms whose base_rates.csv keeps only |D| = 0, 1, 2, so that "at most"
# (a difference beyond the table) is exercised.
T=$(mktemp -d)
trap 'rm -r "$T"' EXIT
cp -r $B/battery.toml $B/subtests.csv $B/composites.csv $B/reliability.csv $B/provenance.toml $B/items "$T"/
awk -F, 'NR == 1 || $2 <= 2' $B/base_rates.csv > "$T"/base_rates.csv
python3 $S --battery "$T" --input examples/children.csv --output tests/data/children.profile-base-rates-0-2.expected.jsonl --format json
# The model's own tables (the demo norms are built from a sample simulated from the model):
# the generator's output checked against the model stated in words and numbers.
M=$(mktemp -d)
trap 'rm -r "$T" "$M"' EXIT
cargo run --release --quiet -p qabilet-server -- norms demo --battery $B --out "$M"
python3 tests/reference/model_tables.py --tables "$M"
echo "regenerated tests/data/*.expected.*"
