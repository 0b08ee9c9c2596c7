#!/usr/bin/env bash
# The benchmark: hf-relay build against the peers (DuckDB, pyarrow, Polars, the `datasets`
# push_to_hub path), interleaved rounds, through ../shared/bench/compare.py. Writes the table
# to bench/results/latest.txt and the raw runs to bench/results/runs.jsonl.
#
#   bench/run.sh [ROWS] [ROUNDS]     default: 185000 rows (≈ 1.0 GB), 5 rounds
#
# Needs the peers' venv (../shared/bench/setup.sh, run here when missing). Not part of the tests:
# timings belong here, never in assertions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
kit="${HF_RELAY_BENCH_KIT:-$repo/../shared/bench}"
rows="${1:-185000}"
rounds="${2:-5}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
mkdir -p "$data" "$here/results"
venv="${BENCH_VENV:-$HOME/.cache/hf-relay-bench/venv}"
[ -x "$venv/bin/python" ] || bash "$kit/setup.sh"

input="$data/friction-$rows-43.jsonl"
[ -s "$input" ] || python3 "$kit/gen_friction.py" --rows "$rows" --seed 43 --out "$input"

cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
bin="$repo/target/release/hf-relay"
# The candidate: a fresh clone per run (init is a few ms), then a full build and commit.
candidate="sh -c '$bin init bench/data {out}/clone --endpoint http://127.0.0.1:9 >/dev/null 2>&1 && exec $bin build --dir {out}/clone {in}'"
python3 "$kit/compare.py" --input "$input" --candidate "$candidate" --rounds "$rounds" \
  --json "$here/results/runs.jsonl" | tee "$here/results/latest.txt"
