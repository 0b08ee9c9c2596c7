#!/usr/bin/env bash
# What an edit costs: for each edit of the benchmark input, the shards that get new bytes, the
# LFS bytes `push` would upload (the objects of the new commit that the previous one lacks,
# read from the LFS pointers: the Hub already holds the previous commit's), and the build
# time, for this build (content-defined boundaries, reuse) and for an older hf-relay binary
# (fixed-size cuts), next to what `push_to_hub` uploads (every shard). Not part of the tests.
#
#   bench/edits.sh [ROWS] [SHARD_SIZE] [OLD_BIN]
#     default: 185000 rows (≈ 1.0 GB), 100MB shards; OLD_BIN: an hf-relay built from 05d3a16
#     (fixed-size cuts); without it only this build is measured. HF_RELAY_BIN: this tree's
#     release binary, when already built; HF_RELAY_LABEL: its label in the table (cdc);
#     HF_RELAY_OLD_LABEL: OLD_BIN's label (fixed).
#
# Each edit starts from a copy of the same base clone (built once per binary), so the timings
# are those of a rebuild after exactly one edit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
kit="${HF_RELAY_BENCH_KIT:-$repo/../shared/bench}"
rows="${1:-185000}"
shard="${2:-100MB}"
old_bin="${3:-}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
work="$(mktemp -d "${TMPDIR:-/tmp}/hf-relay-edits.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$data" "$here/results"

input="$data/friction-$rows-43.jsonl"
[ -s "$input" ] || python3 "$kit/gen_friction.py" --rows "$rows" --seed 43 --out "$input"

# HF_RELAY_BIN: a release binary of this tree already built (else it is built here).
new_bin="${HF_RELAY_BIN:-}"
if [ -z "$new_bin" ]; then
  cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
  new_bin="${CARGO_TARGET_DIR:-$repo/target}/release/hf-relay"
fi

# The edited inputs, each one edit away from the base.
python3 "$here/make_edits.py" "$input" "$work"
# The edited inputs (7 GB) were just written: let their writeback finish before any timing
# (it ran into the first rebuilds, up to +1 s each).
sync

# shards(CLONE): "oid size" per shard of HEAD.
shards() {
  git -C "$1" ls-tree HEAD data/ | awk '$4 ~ /\.parquet$/ {print $3}' | while read -r blob; do
    git -C "$1" cat-file blob "$blob" | awk '/^oid/ {sub("sha256:", "", $2); o=$2} /^size/ {s=$2} END {print o, s}'
  done
}

now() { date +%s.%N; }

# measure LABEL BIN: a base build, then one rebuild per edit on a copy of the base clone.
measure() {
  local label="$1" bin="$2"
  local base="$work/base-$label"
  HOME="$work/home" "$bin" init bench/edits "$base" --endpoint http://127.0.0.1:9 >/dev/null 2>&1
  local t0 t1
  t0=$(now)
  HOME="$work/home" "$bin" build --dir "$base" --max-shard-size "$shard" "$input" >/dev/null 2>&1
  t1=$(now)
  shards "$base" > "$work/base-$label.shards"
  printf '%s\tbase\t%s shards\t%s bytes\tbuild %.2f s\n' "$label" "$(wc -l < "$work/base-$label.shards")" \
    "$(awk '{s+=$2} END {print s}' "$work/base-$label.shards")" "$(echo "$t1 - $t0" | bc)"
  for edit in append-1pct delete-10pct delete-50pct delete-90pct insert-1000-middle edit-one-field-middle add-column; do
    local clone="$work/clone-$label-$edit"
    cp -a "$base" "$clone"
    sync # the copy's writeback is not the rebuild's
    t0=$(now)
    HOME="$work/home" "$bin" build --dir "$clone" --max-shard-size "$shard" "$work/$edit.jsonl" >/dev/null 2>&1
    t1=$(now)
    shards "$clone" > "$work/after.shards"
    # New objects: in the new commit, not in the base one.
    local stats
    stats=$(awk 'NR==FNR {old[$1]=1; next} {total+=$2; n++; if (!($1 in old)) {c++; b+=$2}} END {printf "%d\t%d\t%d\t%d", n, c, b, total}' \
      "$work/base-$label.shards" "$work/after.shards")
    printf '%s\t%s\t%s\t%.2f\n' "$label" "$edit" "$stats" "$(echo "$t1 - $t0" | bc)"
    rm -rf "$clone"
  done
}

{
  printf 'layout\tedit\tshards\tshards_new\tupload_bytes\tall_shards_bytes(push_to_hub)\tbuild_s\n'
  measure "${HF_RELAY_LABEL:-cdc}" "$new_bin"
  if [ -n "$old_bin" ]; then measure "${HF_RELAY_OLD_LABEL:-fixed}" "$old_bin"; fi
} | tee "$here/results/edits-latest.tsv"
