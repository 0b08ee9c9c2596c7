#!/usr/bin/env bash
# The push benchmark: `hf-relay push` of new LFS objects against `curl -T` of the same bytes, to
# the project's test Hub (tests/hub/hub_server.py) on loopback, in interleaved rounds. Writes
# the table to bench/results/push-latest.txt.
#
#   bench/push.sh [ROWS] [ROUNDS] [SHARD]   default: 185000 rows (≈ 1.0 GB of JSONL, ≈ 300 MB
#                                            of Parquet), 5 rounds, --max-shard-size 260MB
#                                            (4 shards)
#
# Each round, in alternating order, on repos that are new on the Hub (so every object uploads):
#   hf-relay   `hf-relay push` of a copy of one built clone: repo create, fetch + merge of the
#              Hub's first commit, the local verify, the batch call, the uploads (4 in
#              parallel), LFS verify, git push;
#   curl seq   one batch call with curl, then `curl -T` of each object to the href (and
#              headers) it returned, one after the other;
#   curl par   the same with 4 curls at a time;
#   curl+git   what the Hub sees from a whole publish, done by hand: the repo create (curl),
#              the batch call and 4 parallel PUTs, then `git push --force` of the same commit
#              (git's own client; the Hub's pre-receive hook runs as it does for hf-relay).
#              It skips the fetch and merge of the Hub's first commit that `push` does, so it
#              is the lighter of the two: the like-for-like reading of the whole command.
# MB/s = object bytes / wall time (1 MB = 10^6 bytes). The ratios hf-relay / curl per round
# and their medians are the figures: absolute rates depend on the machine and its load.
# The token is random per run and only in files under the run's temp dir (the Hub's
# tokens.json, a header file curl reads with -H @file, and $HF_HOME/token for hf-relay): never
# in a command line, never printed or logged.
# Not part of the tests: timings belong here, never in assertions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
kit="${HF_RELAY_BENCH_KIT:-$repo/../shared/bench}"
rows="${1:-185000}"
rounds="${2:-5}"
shard="${3:-260MB}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
python="${PYTHON:-python3}"
mkdir -p "$data" "$here/results"

input="$data/friction-$rows-43.jsonl"
[ -s "$input" ] || "$python" "$kit/gen_friction.py" --rows "$rows" --seed 43 --out "$input"

cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
bin="${CARGO_TARGET_DIR:-$repo/target}/release/hf-relay"

work="$(mktemp -d "${TMPDIR:-/tmp}/hf-relay-push-bench.XXXXXX")"
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
root="$work/hub"
mkdir -p "$root" "$work/home"

# A write token for alice, only in files readable by us.
umask 077
token="hf_bench$("$python" -c 'import secrets; print(secrets.token_hex(16))')"
printf '{"%s": {"user": "alice", "write": true, "orgs": []}}\n' "$token" >"$root/tokens.json"
printf 'Authorization: Bearer %s\n' "$token" >"$work/auth.header"
mkdir -p "$work/home/.cache/huggingface"
printf '%s\n' "$token" >"$work/home/.cache/huggingface/token" # push reads $HF_HOME/token
umask 022

"$python" "$repo/tests/hub/hub_server.py" --root "$root" --port 0 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    grep -q '^READY ' "$work/server.out" 2>/dev/null && break
    sleep 0.1
done
url="$(sed -n 's/^READY //p' "$work/server.out")"
[ -n "$url" ] || { echo "the test Hub did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
# git reads the token from a credential store file (never from its command line).
umask 077
printf 'http://alice:%s@%s\n' "$token" "${url#http://}" >"$work/git-credentials"
umask 022

# hf-relay in a sealed environment: temp HOME, no inherited Hugging Face or git settings.
relay() {
    env -i PATH="$PATH" HOME="$work/home" HF_HOME="$work/home/.cache/huggingface" \
        GIT_CONFIG_NOSYSTEM=1 LANG=C.UTF-8 "$@"
}

# One built clone, copied for every round.
template="$work/template"
relay "$bin" init alice/template "$template" --endpoint "$url" >/dev/null 2>&1
relay "$bin" build --dir "$template" --max-shard-size "$shard" "$input" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
mapfile -t objects < <(find "$template/.git/lfs/objects" -type f | sort)
total=0
sizes=()
for f in "${objects[@]}"; do
    s="$(stat -c %s "$f")"
    sizes+=("$s")
    total=$((total + s))
done
cat "${objects[@]}" >/dev/null # both sides read from the page cache

now() { date +%s.%N; }
elapsed() { "$python" -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; } # FROM TO
add() { "$python" -c "import sys; print(sum(map(float, sys.argv[1:])))" "$@"; } # SECONDS...

create_repo() {
    curl -sS -f -o /dev/null -H @"$work/auth.header" -H 'Content-Type: application/json' \
        -d "{\"type\": \"dataset\", \"name\": \"$1\", \"organization\": \"alice\"}" \
        "$url/api/repos/create"
}

# The batch call for every object (timed: it is part of the upload), then one job file per
# object (not timed: Python's start-up is no part of curl's work): the object's path, the
# href, then one "Name: value" line per header of the upload action. Prints the seconds the
# batch call took.
batch_jobs() { # NAME OUT_DIR
    local name=$1 out=$2 objs="" i t0 t1
    for i in "${!objects[@]}"; do
        objs+="${objs:+,}{\"oid\": \"$(basename "${objects[$i]}")\", \"size\": ${sizes[$i]}}"
    done
    t0="$(now)"
    curl -sS -f -H @"$work/auth.header" -H 'Accept: application/vnd.git-lfs+json' \
        -H 'Content-Type: application/vnd.git-lfs+json' \
        -d "{\"operation\": \"upload\", \"transfers\": [\"basic\"], \"objects\": [$objs], \"hash_algo\": \"sha256\"}" \
        "$url/datasets/alice/$name.git/info/lfs/objects/batch" >"$out/batch.json"
    t1="$(now)"
    elapsed "$t0" "$t1"
    "$python" - "$out" "$template/.git/lfs/objects" <<'EOF'
import json, os, sys
out, store = sys.argv[1], sys.argv[2]
for n, obj in enumerate(json.load(open(os.path.join(out, "batch.json")))["objects"]):
    upload = obj["actions"]["upload"]  # a new repo: every object needs an upload
    oid = obj["oid"]
    lines = [os.path.join(store, oid[:2], oid[2:4], oid), upload["href"]]
    lines += [f"{k}: {v}" for k, v in (upload.get("header") or {}).items()]
    with open(os.path.join(out, f"job-{n}"), "w") as f:
        f.write("\n".join(lines) + "\n")
EOF
}

# One `curl -T` of a job file (run by xargs, hence exported).
put_job() {
    local file href args=()
    { read -r file; read -r href; while read -r h; do args+=(-H "$h"); done; } <"$1"
    curl -sS -f -o /dev/null "${args[@]}" -T "$file" "$href"
}
export -f put_job

# Every object must now be on the Hub, whole.
check_stored() { # NAME
    local i
    for i in "${!objects[@]}"; do
        local stored
        stored="$root/lfs/alice/$1/$(basename "${objects[$i]}")"
        [ "$(stat -c %s "$stored" 2>/dev/null)" = "${sizes[$i]}" ] \
            || { echo "round $r: $1 lacks $(basename "$stored")" >&2; exit 1; }
    done
}

# Each reading leaves the Hub without its objects again, before the next reading starts: with
# them kept until the end of the round, whichever reading ran later in a round was slower (up
# to 2x on 914 MB, the same for curl and hf-relay), every reading writing into memory that the
# earlier ones had just filled.
forget() { # NAME
    rm -rf "$root/lfs/alice/$1" "$root/repos/datasets/alice/$1.git" \
        "$root/repos/datasets/alice/$1.json"
}

# Stops the run when the token appears in any of FILES.
refuse_token() { # WHAT FILES...
    local what=$1
    shift
    if grep -qFf "$work/home/.cache/huggingface/token" "$@"; then
        echo "round $r: the token appeared in $what" >&2
        exit 1
    fi
}

run_relay() { # -> seconds
    local name="relay-$r" clone="$work/relay-$r"
    # A copy of the clone, with the built Parquet files (the LFS store and the working tree)
    # moved in for the push and back out after it: the objects are the files `build` wrote,
    # untouched since, as when `push` follows `build`, and no fresh write-back of them runs
    # during the push (push only reads them). Hard links instead would set every object's
    # ctime, and push would hash them all again (its stamp cache would not vouch for them).
    mkdir "$clone"
    tar -C "$template" --exclude=./.git/lfs/objects --exclude=./data -cf - . | tar -C "$clone" -xf -
    mkdir -p "$clone/.git/lfs"
    mv "$template/.git/lfs/objects" "$clone/.git/lfs/objects"
    mv "$template/data" "$clone/data"
    git -C "$clone" remote set-url origin "$url/datasets/alice/$name"
    local t0 t1
    t0="$(now)"
    relay "$bin" push --dir "$clone" >"$work/push.log" 2>&1 \
        || { echo "hf-relay push failed:" >&2; cat "$work/push.log" >&2; exit 1; }
    t1="$(now)"
    mv "$clone/.git/lfs/objects" "$template/.git/lfs/objects"
    mv "$clone/data" "$template/data"
    check_stored "$name"
    forget "$name"
    refuse_token "hf-relay's output or the Hub's log" "$work/push.log" "$root/requests.log"
    rm -rf "$clone"
    elapsed "$t0" "$t1"
}

# The batch call and one `curl -T` per object, PARALLEL at a time, into the existing repo NAME;
# checks the Hub stored every object. Prints the seconds of the batch call plus the PUTs.
curl_upload() { # NAME PARALLEL -> seconds
    local name=$1 parallel=$2 jobs="$work/jobs-$1"
    mkdir -p "$jobs"
    local t_batch t0 t1
    t_batch="$(batch_jobs "$name" "$jobs")"
    t0="$(now)"
    find "$jobs" -name 'job-*' | sort | xargs -P "$parallel" -n 1 bash -c 'put_job "$0"'
    t1="$(now)"
    check_stored "$name"
    rm -rf "$jobs"
    add "$t_batch" "$(elapsed "$t0" "$t1")"
}

run_curl() { # PARALLEL -> seconds
    local name="curl$1-$r" t_upload
    create_repo "$name"
    t_upload="$(curl_upload "$name" "$1")"
    forget "$name"
    echo "$t_upload"
}

run_curl_git() { # -> seconds: create, batch + 4 PUTs, git push
    local name="curlgit-$r" t0 t1 t_upload t2 t3
    t0="$(now)"
    create_repo "$name"
    t1="$(now)"
    t_upload="$(curl_upload "$name" 4)"
    t2="$(now)"
    env -i PATH="$PATH" HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
        git -C "$template" -c credential.helper="store --file=$work/git-credentials" \
        push -q --force "$url/datasets/alice/$name" HEAD:refs/heads/main \
        >"$work/git-push.log" 2>&1 \
        || { echo "git push failed:" >&2; cat "$work/git-push.log" >&2; exit 1; }
    t3="$(now)"
    refuse_token "git's output" "$work/git-push.log"
    forget "$name"
    local t_create t_push
    t_create="$(elapsed "$t0" "$t1")"
    t_push="$(elapsed "$t2" "$t3")"
    printf '%s %s\n' "$t_create" "$t_push" >>"$work/git-parts.tsv"
    add "$t_create" "$t_upload" "$t_push"
}

results="$here/results/push-latest.txt"
rows_out="$work/rounds.tsv"
: >"$rows_out"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then
        t_relay="$(run_relay)"; t_seq="$(run_curl 1)"; t_par="$(run_curl 4)"; t_git="$(run_curl_git)"
    else
        t_git="$(run_curl_git)"; t_par="$(run_curl 4)"; t_seq="$(run_curl 1)"; t_relay="$(run_relay)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$t_relay" "$t_seq" "$t_par" "$t_git" >>"$rows_out"
    echo "round $r/$rounds done" >&2
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "$rows_out" "$total" "${#objects[@]}" "$input" "$shard" "$root/requests.log" \
    "$load_before" "$load_after" "$work/git-parts.tsv" "${sizes[@]}" <<'EOF' | tee "$results"
import datetime, os, re, statistics, sys
rows_file, total, count, input_path, shard, log, load_before, load_after, parts_file = sys.argv[1:10]
sizes = [int(s) for s in sys.argv[10:]]
total = int(total)
rounds = [line.split("\t") for line in open(rows_file).read().split("\n") if line]
mb = total / 1e6

def upload_phase(name):
    """hf-relay's LFS phase, from the Hub's request log (ms stamps, written when an answer
    starts): the batch answer to the answer of the last object's PUT."""
    batch = last = None
    for line in open(log):
        stamp, method, path = line.split()[:3]
        t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        if re.search(rf"/alice/{name}(\.git)?/info/lfs/objects/batch", path):
            batch = t
        elif method == "PUT" and f"/lfs-storage/alice/{name}/" in path:
            last = t
    return last - batch

print(f"input {os.path.basename(input_path)} {os.path.getsize(input_path) / 1e6:.1f} MB, "
      f"--max-shard-size {shard}: {count} LFS objects, {mb:.1f} MB "
      f"({', '.join(f'{s / 1e6:.1f}' for s in sizes)} MB)")
print(f"{len(rounds)} interleaved rounds, test Hub on loopback; MB/s = object MB / wall s; "
      f"load average {load_before} before, {load_after} after")
print(f"{'round':>5} {'hf-relay MB/s':>14} {'curl seq MB/s':>14} {'curl x4 MB/s':>13} "
      f"{'curl+git MB/s':>14} {'relay/seq':>10} {'relay/x4':>9} {'relay/c+g':>10}")
cols = {"relay": [], "seq": [], "par": [], "git": [], "r_seq": [], "r_par": [], "r_git": []}
for r, t_relay, t_seq, t_par, t_git in rounds:
    relay, seq, par, git = (mb / float(t) for t in (t_relay, t_seq, t_par, t_git))
    for k, v in zip(cols, (relay, seq, par, git, relay / seq, relay / par, relay / git)):
        cols[k].append(v)
    print(f"{r:>5} {relay:>14.1f} {seq:>14.1f} {par:>13.1f} {git:>14.1f} {relay / seq:>10.2f} "
          f"{relay / par:>9.2f} {relay / git:>10.2f}")
med = {k: statistics.median(v) for k, v in cols.items()}
print(f"{'med':>5} {med['relay']:>14.1f} {med['seq']:>14.1f} {med['par']:>13.1f} "
      f"{med['git']:>14.1f} {med['r_seq']:>10.2f} {med['r_par']:>9.2f} {med['r_git']:>10.2f}")
worst = min(med["r_seq"], med["r_par"])
print(f"whole push >= 0.80 x bare curl -T (uploads only): {'yes' if worst >= 0.8 else 'no'} "
      f"(the lower of the two median ratios: {worst:.2f})")
print(f"whole push >= 0.80 x curl+git (the same publish by hand): "
      f"{'yes' if med['r_git'] >= 0.8 else 'no'} (median ratio {med['r_git']:.2f})")
# Where the difference goes: the upload phase alone against the whole push.
phase = [mb / upload_phase(f"relay-{r}") for r, *_ in rounds]
print(f"hf-relay LFS phase alone (batch answer -> last PUT answered, from the Hub's log): "
      f"median {statistics.median(phase):.1f} MB/s, "
      f"{statistics.median(p / c for p, c in zip(phase, cols['par'])):.2f} x curl x4, "
      f"{statistics.median(p / c for p, c in zip(phase, cols['seq'])):.2f} x curl seq; "
      f"the rest of push (verify, repo create, fetch, git push) is "
      f"{statistics.median(mb / v - mb / p for p, v in zip(phase, cols['relay'])):.2f} s")
parts = [[float(x) for x in line.split()] for line in open(parts_file) if line.strip()]
print(f"in curl+git: the repo create {statistics.median(p[0] for p in parts):.2f} s, "
      f"`git push` of the commit (pack, pre-receive hook, ref update) "
      f"{statistics.median(p[1] for p in parts):.2f} s (medians)")
EOF
