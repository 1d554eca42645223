#!/usr/bin/env bash
# Rebuilds the DEMONSTRATION screener norms of norms/qabilet-screener-demo the way real norms
# are built: a standardisation sample (here simulated by generate.py from the stated generating
# model in ../generator.toml, together with every item, its pictures and the item bank), then
# `qabilet norms build`. Both steps are deterministic. After running it, run
# tests/reference/regenerate.sh if a reference output names this battery's norm-set hash.
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=norms/qabilet-screener-demo
Q="cargo run --release --quiet -p qabilet-server --"
python3 $D/generate.py
$Q norms build --sample $D/standardisation/sample.csv --battery $D --out $D \
  --sample-description "$(cat $D/standardisation/description.txt)" --created 2026-12-01
