#!/usr/bin/env bash
# Rebuilds the demonstration norms of norms/qabilet-primary-demo the way real norms are
# built: a standardisation sample (here simulated from the stated model in ../model.toml),
# then `qabilet norms build`. Both steps are deterministic; the end-to-end test
# `demo_norms_are_built_from_the_committed_sample` checks the committed files are exactly
# what the second step writes. After running it, run tests/reference/regenerate.sh (the
# norm-set hash is part of every expected output).
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=norms/qabilet-primary-demo
Q="cargo run --release --quiet -p qabilet-server --"
$Q norms simulate --battery $D --n 3000 --seed 20261129 --items --out $D/standardisation/sample.csv
$Q norms build --sample $D/standardisation/sample.csv --battery $D --out $D \
  --reliability $D/standardisation/stated_reliability.csv \
  --sample-description "$(cat $D/standardisation/description.txt)" --created 2026-11-29
