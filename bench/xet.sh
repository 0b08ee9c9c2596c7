#!/usr/bin/env bash
# What travels over Xet against plain LFS (issue 25), and how long a first publish takes over
# each: the test Hub with its `xet` switch in front of a real Xet store on loopback
# (examples/xet_cas_server.rs, xet-client's simulation server, a release build), the benchmark
# input in SHARD shards.
#
#   bench/xet.sh [ROWS] [SHARD_SIZE]
#     default: 185000 rows (≈ 1.0 GB), 100MB shards. HF_RELAY_BIN: hf-relay's release binary
#     (else this tree's is built); CAS_BIN: the store's binary (else the example is built in
#     release, which builds hf-relay's library in release too); ROUNDS: timing rounds (5).
#
# 1. Timing, ROUNDS rounds, each timing three first publishes of the base in a rotating
#    order, every one against a new Hub and store (fresh data dirs) with a new $HF_HOME (no
#    Xet cache, as on a first publish), the Hub's `xet_direct` key on (the client talks to
#    the store itself, not through the Hub's Python recording proxy):
#      lfs  `hf-relay push` over plain LFS (HF_HUB_DISABLE_XET=1)
#      xet  `hf-relay push` over Xet
#      py   the same shard files through the Python hf_xet client, as huggingface_hub's
#           `_upload_xet_files` calls it (session, token-refresh URL, known sha256): the
#           upload alone (no git, no commit), timed inside the process
#    Wall, upload phase (for hf-relay: from the Hub's batch answer to the git push, from the
#    Hub's requests.log; for py: its wall), user and sys CPU of the client (/usr/bin/time;
#    rusage for py) and the CPU the store and the Hub spent (from /proc). Raw rows in results/xet-timing-latest.tsv,
#    medians printed and in results/xet-timing-median.tsv.
# 2. For each edit (append 1 %, delete one row at 50 %, insert 1,000 rows in the middle, edit
#    one field in the middle): a copy of the base clone rebuilt with the edit and pushed over
#    Xet to a repo of its own, after the base was published over Xet to the same store with
#    the same $HF_HOME (the store holds the base's chunks, as the Hub holds a repo's
#    history): the bytes of the new shards (what plain LFS sends), the bytes that travelled
#    over Xet, and what `push_to_hub` sends (every shard). EDITS=0 skips this part.
# Not part of the tests: timings belong here, never in assertions. Store, Hub and client share
# the machine: read the push times as ratios within one run.
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
    cargo build --release --manifest-path "$repo/Cargo.toml" --example xet_cas_server >/dev/null
    cas_bin="${CARGO_TARGET_DIR:-$repo/target}/release/examples/xet_cas_server"
fi
rounds="${ROUNDS:-5}"

work="$(mktemp -d "${TMPDIR:-/tmp}/hf-relay-xet-bench.XXXXXX")"
# $work/running: the ids of the store and Hub of the stack that runs (its stack may have been
# started in a subshell).
cleanup() {
    if [ -s "$work/running" ]; then
        # shellcheck disable=SC2046
        kill $(cat "$work/running") 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
token="hf_bench$("$python" -c 'import secrets; print(secrets.token_hex(16))')"
hub_port="$(free_port)" # one Hub address for every stack: the clones' remotes name it
url="http://127.0.0.1:$hub_port"

# start_stack DIR: a new Hub and a new store with their data under DIR (the Hub's `xet` and
# `xet_direct` keys on); sets cas_pid, hub_pid.
start_stack() {
    local dir="$1"
    mkdir -p "$dir/hub" "$dir/cas"
    (umask 077; printf '{"%s": {"user": "alice", "write": true, "orgs": []}}\n' "$token" >"$dir/hub/tokens.json")
    local cas_port
    cas_port="$(free_port)"
    "$cas_bin" "$dir/cas" "$cas_port" >"$dir/cas.out" 2>"$dir/cas.err" &
    cas_pid=$!
    echo "$cas_pid" >"$work/running"
    "$python" "$repo/tests/hub/hub_server.py" --root "$dir/hub" --port "$hub_port" \
        >"$dir/server.out" 2>"$dir/server.err" &
    hub_pid=$!
    echo "$hub_pid" >>"$work/running"
    for _ in $(seq 300); do
        grep -q '^READY ' "$dir/server.out" 2>/dev/null && grep -q '^listening ' "$dir/cas.out" 2>/dev/null && break
        sleep 0.1
    done
    local cas
    cas="$(sed -n 's/^listening //p' "$dir/cas.out")"
    grep -q '^READY ' "$dir/server.out" && [ -n "$cas" ] || { cat "$dir/server.err" "$dir/cas.err" >&2; exit 1; }
    printf '{"xet": {"cas": "%s", "data": "%s", "python": "%s"}, "xet_direct": true}\n' \
        "$cas" "$dir/cas" "$hf_python" >"$dir/hub/faults.json"
}
# cpu_s PID: user + sys CPU seconds of PID and its reaped children so far.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
}
# upload_span LOG: seconds from the Hub's batch answer to the git push that follows it in the
# Hub's requests.log (a push's upload phase: LFS PUTs and verifies, or the whole Xet upload).
upload_span() {
    "$python" - "$1" <<'PY'
import datetime, sys
def at(line):
    return datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
lines = open(sys.argv[1]).read().splitlines()
batch = next(at(l) for l in lines if "/info/lfs/objects/batch " in l)
push = next(at(l) for l in lines if "service=git-receive-pack" in l and at(l) >= batch)
print(f"{(push - batch).total_seconds():.2f}")
PY
}
# stop_stack: prints "store_cpu_s hub_cpu_s", then ends both.
stop_stack() {
    printf '%s %s\n' "$(cpu_s "$cas_pid")" "$(cpu_s "$hub_pid")"
    kill "$cas_pid" "$hub_pid" 2>/dev/null || true
    wait "$cas_pid" "$hub_pid" 2>/dev/null || true
    : >"$work/running"
}
# new_home DIR: an $HF_HOME with the token and nothing else (no Xet cache).
new_home() {
    mkdir -p "$1/.cache/huggingface"
    (umask 077; printf '%s\n' "$token" >"$1/.cache/huggingface/token") # push reads $HF_HOME/token
}
home="$work/home"
relay() {
    env -i PATH="$PATH" HOME="$home" HF_HOME="$home/.cache/huggingface" \
        GIT_CONFIG_NOSYSTEM=1 LANG=C.UTF-8 "$@"
}
field() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# The edited inputs, each one edit away from the base (as bench/edits.sh makes them).
"$python" "$here/make_edits.py" "$input" "$work" append-1pct delete-50pct \
    insert-1000-middle edit-one-field-middle
sync

new_home "$home"
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

# publish MODE NAME CLONE: a push of CLONE to alice/NAME (the Hub at $url, $home); prints
# "wall_s user_s sys_s bytes_sent lfs_bytes".
publish() {
    local mode="$1" name="$2" clone="$3" extra=()
    [ "$mode" = lfs ] && extra=(HF_HUB_DISABLE_XET=1)
    git -C "$clone" remote set-url origin "$url/datasets/alice/$name"
    relay "${extra[@]}" /usr/bin/time -o "$work/$name.time" -f '%e %U %S' \
        "$bin" push --dir "$clone" --json >"$work/$name.json" 2>"$work/$name.err" \
        || { cat "$work/$name.err" >&2; exit 1; }
    printf '%s %s %s\n' "$(cat "$work/$name.time")" "$(field "$work/$name.json" bytes_sent)" \
        "$(field "$work/$name.json" lfs_bytes_uploaded)"
}
# peer NAME: the base's shards through the Python hf_xet client to alice/NAME; prints
# "wall_s user_s sys_s bytes_sent file_bytes".
peer() {
    local name="$1"
    env -i PATH="$PATH" HOME="$home" HF_HOME="$home/.cache/huggingface" LANG=C.UTF-8 \
        HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_DISABLE_TELEMETRY=1 \
        "$hf_python" "$here/xet_peer.py" "$base" "$url" "alice/$name" >"$work/$name.peer" \
        2>"$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
    cat "$work/$name.peer"
}

# 1. First publish over LFS, over Xet, and the same bytes through hf_xet (Python).
timing="$here/results/xet-timing-latest.tsv"
{
    printf 'round\tclient\twall_s\tupload_s\tuser_s\tsys_s\tbytes_sent\tstore_cpu_s\thub_cpu_s\n'
    modes=(lfs xet py)
    for round in $(seq "$rounds"); do
        for i in 0 1 2; do
            mode="${modes[$(((i + round) % 3))]}"
            stack="$work/stack-$round-$mode"
            home="$stack/home"
            new_home "$home"
            start_stack "$stack"
            if [ "$mode" = py ]; then
                read -r wall user sys sent _ < <(peer "first-$round-$mode")
                upload="$wall"
            else
                cp -a "$base" "$stack/clone"
                read -r wall user sys sent lfs < <(publish "$mode" "first-$round-$mode" "$stack/clone")
                [ "$mode" = lfs ] && sent="$lfs"
                upload="$(upload_span "$stack/hub/requests.log")"
            fi
            read -r store_cpu hub_cpu < <(stop_stack)
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$wall" "$upload" \
                "$user" "$sys" "$sent" "$store_cpu" "$hub_cpu"
            rm -rf "$stack"
        done
    done
} | tee "$timing"
"$python" - "$timing" "$all_bytes" <<'PY' | tee "$here/results/xet-timing-median.tsv"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
cols = ["wall_s", "upload_s", "user_s", "sys_s", "store_cpu_s", "hub_cpu_s"]
med = {}
print("client\trounds\t" + "\t".join("median_" + c for c in cols) + "\tbytes_sent\tshard_bytes")
for client in ("lfs", "xet", "py"):
    mine = [r for r in rows if r["client"] == client]
    med[client] = {c: statistics.median(float(r[c]) for r in mine) for c in cols}
    sent = sorted({r["bytes_sent"] for r in mine})
    print(f"{client}\t{len(mine)}\t" + "\t".join(f"{med[client][c]:.2f}" for c in cols)
          + f"\t{','.join(sent)}\t{sys.argv[2]}")
print(f"# wall: hf-relay xet / lfs {med['xet']['wall_s'] / med['lfs']['wall_s']:.2f}, "
      f"hf-relay xet / hf_xet python {med['xet']['wall_s'] / med['py']['wall_s']:.2f}; "
      f"upload phase: xet / lfs {med['xet']['upload_s'] / med['lfs']['upload_s']:.2f}, "
      f"xet / hf_xet python {med['xet']['upload_s'] / med['py']['upload_s']:.2f}")
PY

[ "${EDITS:-1}" = 0 ] && exit 0
# 2. The edits, on one store and one $HF_HOME that hold the base published over Xet.
stack="$work/stack-edits"
home="$stack/home"
new_home "$home"
start_stack "$stack"
{
    printf 'case\tpush_s\tlfs_bytes\txet_bytes_sent\tpush_to_hub_bytes\n'
    cp -a "$base" "$stack/first"
    read -r wall _ _ sent lfs < <(publish xet first-xet "$stack/first")
    printf 'first publish over xet\t%s\t%s\t%s\t%s\n' "$wall" "$lfs" "$sent" "$all_bytes"
    for edit in append-1pct delete-50pct insert-1000-middle edit-one-field-middle; do
        clone="$stack/$edit"
        cp -a "$base" "$clone"
        relay "$bin" build --dir "$clone" --max-shard-size "$shard" "$work/$edit.jsonl" >/dev/null 2>&1
        read -r wall _ _ sent lfs < <(publish xet "$edit" "$clone")
        printf '%s\t%s\t%s\t%s\t%s\n' "$edit" "$wall" "$lfs" "$sent" "$(head_bytes "$clone")"
        rm -rf "$clone"
    done
} | tee "$here/results/xet-latest.tsv"
stop_stack >/dev/null
