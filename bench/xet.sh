#!/usr/bin/env bash
# What travels over Xet against plain LFS (issue 25): the test Hub with its `xet` switch in
# front of a real Xet store on loopback (examples/xet_cas_server.rs, xet-client's simulation
# server), the benchmark input in SHARD shards.
#
#   bench/xet.sh [ROWS] [SHARD_SIZE]
#     default: 185000 rows (≈ 1.0 GB), 100MB shards. HF_RELAY_BIN: this tree's release binary
#     when already built (else built here); CAS_BIN: the store's binary (else the example is
#     built, in debug: it only stores what it gets).
#
# 1. A first publish of the base, once over plain LFS (HF_HUB_DISABLE_XET=1) and once over
#    Xet, each to a new repo: push wall time and bytes sent.
# 2. For each edit (append 1 %, delete one row at 50 %, insert 1,000 rows in the middle, edit
#    one field in the middle): a copy of the base clone rebuilt with the edit and pushed over
#    Xet to a repo of its own (the store holds the base's chunks, as the Hub holds a repo's
#    history): the bytes of the new shards (what plain LFS sends), the bytes that travelled
#    over Xet, and what `push_to_hub` sends (every shard).
# Not part of the tests: timings belong here, never in assertions. The store is a debug build
# on the same machine: compare bytes; take push times as ratios of one run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
kit="${HF_RELAY_BENCH_KIT:-$repo/../shared/bench}"
rows="${1:-185000}"
shard="${2:-100MB}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
python="${PYTHON:-python3}"
hf_python="${HF_RELAY_TEST_PYTHON:?set HF_RELAY_TEST_PYTHON to the test venv python (hf_xet)}"
mkdir -p "$data" "$here/results"

input="$data/friction-$rows-43.jsonl"
[ -s "$input" ] || "$python" "$kit/gen_friction.py" --rows "$rows" --seed 43 --out "$input"

bin="${HF_RELAY_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
    bin="${CARGO_TARGET_DIR:-$repo/target}/release/hf-relay"
fi
cas_bin="${CAS_BIN:-}"
if [ -z "$cas_bin" ]; then
    cargo build --manifest-path "$repo/Cargo.toml" --example xet_cas_server >/dev/null
    cas_bin="$repo/target/debug/examples/xet_cas_server"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/hf-relay-xet-bench.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
root="$work/hub"
mkdir -p "$root" "$work/home/.cache/huggingface" "$work/cas"

umask 077
token="hf_bench$("$python" -c 'import secrets; print(secrets.token_hex(16))')"
printf '{"%s": {"user": "alice", "write": true, "orgs": []}}\n' "$token" >"$root/tokens.json"
printf '%s\n' "$token" >"$work/home/.cache/huggingface/token" # push reads $HF_HOME/token
umask 022

cas_port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$cas_bin" "$work/cas" "$cas_port" >"$work/cas.out" 2>"$work/cas.err" &
pids+=($!)
"$python" "$repo/tests/hub/hub_server.py" --root "$root" --port 0 \
    >"$work/server.out" 2>"$work/server.err" &
pids+=($!)
for _ in $(seq 200); do
    grep -q '^READY ' "$work/server.out" 2>/dev/null && grep -q '^listening ' "$work/cas.out" 2>/dev/null && break
    sleep 0.1
done
url="$(sed -n 's/^READY //p' "$work/server.out")"
cas="$(sed -n 's/^listening //p' "$work/cas.out")"
[ -n "$url" ] && [ -n "$cas" ] || { cat "$work/server.err" "$work/cas.err" >&2; exit 1; }
printf '{"xet": {"cas": "%s", "data": "%s", "python": "%s"}}\n' "$cas" "$work/cas" "$hf_python" \
    >"$root/faults.json"

relay() {
    env -i PATH="$PATH" HOME="$work/home" HF_HOME="$work/home/.cache/huggingface" \
        GIT_CONFIG_NOSYSTEM=1 LANG=C.UTF-8 "$@"
}
now() { date +%s.%N; }
field() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# The edited inputs, each one edit away from the base (as bench/edits.sh makes them).
"$python" - "$input" "$work" <<'EOF'
import json, re, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, "rb").read().split(b"\n")
if lines[-1] == b"":
    lines.pop()
n = len(lines)
def write(name, rows):
    with open(f"{out}/{name}.jsonl", "wb") as f:
        f.write(b"\n".join(rows) + b"\n")
def renamed(rows, prefix):
    return [re.sub(rb'^\{"id": ?"', lambda m: m.group(0) + prefix, l, count=1) for l in rows]
write("append-1pct", lines + renamed(lines[: n // 100], b"app-"))
at = n // 2
write("delete-50pct", lines[:at] + lines[at + 1 :])
write("insert-1000-middle", lines[:at] + renamed(lines[1000:2000], b"ins-") + lines[at:])
row = json.loads(lines[at])
key = next(k for k, v in row.items() if isinstance(v, str))
row[key] = row[key] + " (edited)"
write("edit-one-field-middle", lines[:at] + [json.dumps(row, ensure_ascii=False).encode()] + lines[at + 1 :])
EOF
sync

base="$work/base"
relay "$bin" init alice/base "$base" --endpoint "$url" >/dev/null 2>&1
relay "$bin" build --dir "$base" --max-shard-size "$shard" "$input" >/dev/null 2>&1
# head_bytes CLONE: the bytes of HEAD's shards (what `push_to_hub` sends for that version).
head_bytes() {
    git -C "$1" ls-tree -r HEAD data/ | awk '$4 ~ /\.parquet$/ {print $3}' | while read -r blob; do
        git -C "$1" cat-file blob "$blob" | awk '/^size/ {print $2}'
    done | awk '{s+=$1} END {print s+0}'
}
all_bytes=$(head_bytes "$base")

# publish MODE NAME CLONE: a push of CLONE to alice/NAME; prints "seconds bytes_sent lfs_bytes".
publish() {
    local mode="$1" name="$2" clone="$3" extra=()
    [ "$mode" = lfs ] && extra=(HF_HUB_DISABLE_XET=1)
    git -C "$clone" remote set-url origin "$url/datasets/alice/$name"
    local t0 t1
    t0=$(now)
    relay "${extra[@]}" "$bin" push --dir "$clone" --json >"$work/$name.json" 2>"$work/$name.err" \
        || { cat "$work/$name.err" >&2; exit 1; }
    t1=$(now)
    printf '%.2f %s %s\n' "$(echo "$t1 - $t0" | bc)" "$(field "$work/$name.json" bytes_sent)" \
        "$(field "$work/$name.json" lfs_bytes_uploaded)"
}

{
    printf 'case\tpush_s\tlfs_bytes\txet_bytes_sent\tpush_to_hub_bytes\n'
    for mode in lfs xet; do
        cp -a "$base" "$work/first-$mode"
        read -r secs sent lfs < <(publish "$mode" "first-$mode" "$work/first-$mode")
        printf 'first publish over %s\t%s\t%s\t%s\t%s\n' "$mode" "$secs" "$lfs" \
            "$([ "$mode" = xet ] && echo "$sent" || echo -)" "$all_bytes"
        rm -rf "$work/first-$mode"
    done
    for edit in append-1pct delete-50pct insert-1000-middle edit-one-field-middle; do
        clone="$work/$edit"
        cp -a "$base" "$clone"
        relay "$bin" build --dir "$clone" --max-shard-size "$shard" "$work/$edit.jsonl" >/dev/null 2>&1
        read -r secs sent lfs < <(publish xet "$edit" "$clone")
        printf '%s\t%s\t%s\t%s\t%s\n' "$edit" "$secs" "$lfs" "$sent" "$(head_bytes "$clone")"
        rm -rf "$clone"
    done
} | tee "$here/results/xet-latest.tsv"
