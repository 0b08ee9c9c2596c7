#!/usr/bin/env bash
# What a row-level diff costs: `hf-relay diff --stat` between two builds of the benchmark
# input in 100 MB shards, against DuckDB computing the same counts (`EXCEPT ALL` both ways
# over the two versions' Parquet files), side by side in the same run; and the peak RSS of
# `hf-relay diff` (full listing) when every row changed. Not part of the tests.
#
#   bench/diff.sh [ROWS] [ROUNDS]     default: 185000 rows (≈ 1.0 GB), 3 rounds
#     HF_RELAY_BIN: this tree's release binary, when already built; HF_RELAY_BENCH_PYTHON: a
#     Python with duckdb (default: python3); HF_RELAY_BENCH_DATA: where inputs are kept.
#
# Edits: one field of the middle row (one shard changes), and one field of every row.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
kit="${HF_RELAY_BENCH_KIT:-$repo/../shared/bench}"
rows="${1:-185000}"
rounds="${2:-3}"
python="${HF_RELAY_BENCH_PYTHON:-python3}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
work="$(mktemp -d "${TMPDIR:-/tmp}/hf-relay-diff.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$data" "$here/results"

input="$data/friction-$rows-43.jsonl"
[ -s "$input" ] || python3 "$kit/gen_friction.py" --rows "$rows" --seed 43 --out "$input"

bin="${HF_RELAY_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
  bin="${CARGO_TARGET_DIR:-$repo/target}/release/hf-relay"
fi

# The edited inputs: one field of the middle row; one field of every row.
python3 - "$input" "$work" <<'EOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, "rb").read().split(b"\n")
if lines[-1] == b"":
    lines.pop()
mid = len(lines) // 2
def edited(line):
    row = json.loads(line)
    row["final_answer"] = row["final_answer"] + " (edited)"
    return json.dumps(row, ensure_ascii=False).encode()
with open(f"{out}/edit-one.jsonl", "wb") as f:
    f.write(b"\n".join(lines[:mid] + [edited(lines[mid])] + lines[mid + 1 :]) + b"\n")
with open(f"{out}/edit-every.jsonl", "wb") as f:
    f.write(b"\n".join(edited(l) for l in lines) + b"\n")
EOF
sync

export HOME="$work/home" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
mkdir -p "$HOME"
clone="$work/clone"
(cd "$work" && "$bin" init bench/clone --endpoint http://127.0.0.1:9 >/dev/null 2>&1)
build() {
  cp "$1" "$work/rows.jsonl"
  "$bin" build --dir "$clone" "$work/rows.jsonl" --max-shard-size 100MB >/dev/null 2>&1
  git -C "$clone" rev-parse HEAD
}
base="$(build "$input")"
one="$(build "$work/edit-one.jsonl")"
every="$(build "$work/edit-every.jsonl")"

# objects(REV): the LFS object paths of REV's shards, as a Python list literal.
objects() {
  printf '['
  git -C "$clone" ls-tree -r "$1" data/ | awk '$4 ~ /\.parquet$/ {print $3}' | while read -r blob; do
    oid="$(git -C "$clone" cat-file blob "$blob" | awk '/^oid/ {sub("sha256:", "", $2); print $2}')"
    printf '"%s/.git/lfs/objects/%s/%s/%s",' "$clone" "${oid:0:2}" "${oid:2:2}" "$oid"
  done
  printf ']'
}
old_files="$(objects "$base")"
new_files="$(objects "$one")"
shards="$(git -C "$clone" ls-tree -r "$one" data/ | grep -c '\.parquet$')"

duckdb_counts() {
  "$python" - "$old_files" "$new_files" <<'EOF'
import ast, sys, time, duckdb
old, new = ast.literal_eval(sys.argv[1]), ast.literal_eval(sys.argv[2])
con = duckdb.connect()
start = time.perf_counter()
removed = con.execute("SELECT count(*) FROM (SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM read_parquet(?))", [old, new]).fetchone()[0]
added = con.execute("SELECT count(*) FROM (SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM read_parquet(?))", [new, old]).fetchone()[0]
print(f"{time.perf_counter() - start:.3f} removed={removed} added={added}")
EOF
}

# seconds and peak RSS (MiB) of a command: "S RSS".
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>/dev/null
  awk '{printf "%s %d\n", $1, $2 / 1024}' "$work/time"
}

echo "hf-relay $("$bin" --version | awk '{print $2}'), $rows rows, $shards shards of 100MB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "one-row edit: hf-relay diff --stat says: $("$bin" diff --dir "$clone" "$base" "$one" --stat | head -1)"
for round in $(seq "$rounds"); do
  read -r ours rss < <(measure "$bin" diff --dir "$clone" "$base" "$one" --stat)
  theirs="$(duckdb_counts)"
  ratio="$(awk -v a="${theirs%% *}" -v b="$ours" 'BEGIN {printf "%.1f", a / b}')"
  echo "round $round: hf-relay diff ${ours}s (peak ${rss} MiB), duckdb EXCEPT ALL ${theirs} → ${ratio}×"
done
read -r secs rss < <(measure "$bin" diff --dir "$clone" "$base" "$one")
echo "one-row edit, full listing (the row decoded again, its fields compared): ${secs}s, peak ${rss} MiB"
read -r secs rss < <(measure "$bin" diff --dir "$clone" "$one" "$every")
echo "every row changed: hf-relay diff ${secs}s, peak ${rss} MiB: $(sed -n '/^Data:/{n;n;p}' "$work/out")"
read -r secs rss < <(measure "$bin" diff --dir "$clone" "$one" "$every" --key id)
echo "every row changed, --key id: hf-relay diff ${secs}s, peak ${rss} MiB"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
