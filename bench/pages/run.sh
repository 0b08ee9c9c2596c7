#!/usr/bin/env bash
# Page bytes an edit leaves unchanged, for two hf-relay binaries (e.g. with and without
# Parquet content-defined chunking). Not part of the tests.
#
#   bench/pages/run.sh BIN_A BIN_B [ROWS] [SHARD_SIZE]   default: 185000 rows, 100MB shards
#
# For each binary: a base build of the benchmark input, then per edit (delete one row at 50 %,
# insert 1,000 rows in the middle, edit one field of one row in the middle) a rebuild on a
# copy of the base clone, and the bytes of the changed shards not found among the base's pages.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kit="${HF_RELAY_BENCH_KIT:-$here/../../../shared/bench}"
a="$1" b="$2" rows="${3:-185000}" shard="${4:-100MB}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
input="$data/friction-$rows-43.jsonl"
mkdir -p "$data"
[ -s "$input" ] || python3 "$kit/gen_friction.py" --rows "$rows" --seed 43 --out "$input"
work="$(mktemp -d "${TMPDIR:-/tmp}/hf-relay-pages.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
tool="$here/target/release/hf-relay-pages"

python3 - "$input" "$work" <<'PY'
import json, re, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, "rb").read().split(b"\n")
if lines[-1] == b"":
    lines.pop()
n, mid = len(lines), len(lines) // 2
def write(name, rows):
    with open(f"{out}/{name}.jsonl", "wb") as f:
        f.write(b"\n".join(rows) + b"\n")
write("delete-50pct", lines[:mid] + lines[mid + 1 :])
ins = [re.sub(rb'^\{"id": ?"', lambda m: m.group(0) + b"ins-", l, count=1) for l in lines[1000:2000]]
write("insert-1000-middle", lines[:mid] + ins + lines[mid:])
row = json.loads(lines[mid])
key = next(k for k, v in row.items() if isinstance(v, str))
row[key] += " (edited)"
write("edit-one-field-middle", lines[:mid] + [json.dumps(row, ensure_ascii=False).encode()] + lines[mid + 1 :])
PY

for bin in "$a" "$b"; do
  base="$work/base"
  HOME="$work/home" "$bin" init bench/pages "$base" --endpoint http://127.0.0.1:9 >/dev/null 2>&1
  HOME="$work/home" "$bin" build --dir "$base" --max-shard-size "$shard" "$input" >/dev/null 2>&1
  for edit in delete-50pct insert-1000-middle edit-one-field-middle; do
    cp -a "$base" "$work/edited"
    HOME="$work/home" "$bin" build --dir "$work/edited" --max-shard-size "$shard" "$work/$edit.jsonl" >/dev/null 2>&1
    printf '%s\t%s\t%s\n' "$bin" "$edit" "$("$tool" "$base/data" "$work/edited/data" | tail -1)"
    rm -rf "$work/edited"
  done
  rm -rf "$base"
done
