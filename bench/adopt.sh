#!/usr/bin/env bash
# Adopting Parquet against `cp` + `sha256sum` of the same files: hf-relay build of a folder of
# Parquet files (published as they are: copied while hashed, committed as LFS objects) into a
# fresh clone, and `cp` of the files followed by `sha256sum` of them, in interleaved rounds
# (the order alternates), each with /usr/bin/time -v for wall time and peak RSS. Writes the
# table to bench/results/adopt-latest.txt.
#
#   bench/adopt.sh [GB] [ROUNDS]     default: 10 GB, 3 rounds
#
# Needs a Python with pyarrow (HF_RELAY_BENCH_PYTHON, default .venv-test/bin/python) and
# ~3 × GB of free disk (the files, one copy, one clone). The files stay in
# $HF_RELAY_BENCH_DATA/adopt-GBg for the next run; delete that folder to free the space.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
kit="${HF_RELAY_BENCH_KIT:-$repo/../shared/bench}"
gb="${1:-10}"
rounds="${2:-3}"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
python="${HF_RELAY_BENCH_PYTHON:-$repo/.venv-test/bin/python}"
mkdir -p "$data" "$here/results"

input="$data/friction-185000-43.jsonl"
[ -s "$input" ] || python3 "$kit/gen_friction.py" --rows 185000 --seed 43 --out "$input"
folder="$data/adopt-${gb}g"
[ -e "$folder/_SUCCESS" ] || "$python" "$here/adopt_gen.py" "$input" "$folder" "$gb"

cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
bin="${CARGO_TARGET_DIR:-$repo/target}/release/hf-relay"
scratch="$(mktemp -d "$data/adopt-run.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
bytes=$(cat "$folder"/*.parquet | wc -c)
files=$(ls "$folder"/*.parquet | wc -l)

# Runs "$@" under /usr/bin/time -v; prints "seconds peak_kib".
timed() {
  /usr/bin/time -v -o "$scratch/time" "$@" >/dev/null 2>"$scratch/stderr" || {
    cat "$scratch/stderr" >&2
    exit 1
  }
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%.2f %d\n", s, rss }' "$scratch/time"
}
run_cp() {
  rm -rf "$scratch/copy" && mkdir "$scratch/copy" && sync
  timed sh -c "cp \"$folder\"/*.parquet \"$scratch/copy/\" && sha256sum \"$folder\"/*.parquet"
  rm -rf "$scratch/copy" && sync
}
run_relay() {
  rm -rf "$scratch/clone"
  "$bin" init bench/adopt "$scratch/clone" --endpoint http://127.0.0.1:9 >/dev/null 2>&1
  sync
  timed "$bin" build --dir "$scratch/clone" "$folder"
  if grep -q Rewrote "$scratch/stderr"; then
    echo "a file was rewritten, not adopted:" >&2
    cat "$scratch/stderr" >&2
    exit 1
  fi
  rm -rf "$scratch/clone" && sync
}

out="$here/results/adopt-latest.txt"
{
  echo "# bench/adopt.sh: $files files, $bytes bytes, $rounds rounds, $(nproc) cores"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "round  cp+sha256sum_s  cp_peak_MiB  hf-relay_s  hf-relay_peak_MiB  ratio"
} | tee "$out"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    read -r cs cr <<<"$(run_cp)"
    read -r hs hr <<<"$(run_relay)"
  else
    read -r hs hr <<<"$(run_relay)"
    read -r cs cr <<<"$(run_cp)"
  fi
  awk -v r="$round" -v cs="$cs" -v cr="$cr" -v hs="$hs" -v hr="$hr" \
    'BEGIN { printf "%5d  %14.2f  %11.1f  %10.2f  %17.1f  %5.2f\n", r, cs, cr / 1024, hs, hr / 1024, hs / cs }' |
    tee -a "$out"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
awk '!/^#/ && NR > 1 && $1 ~ /^[0-9]+$/ { print $6 }' "$out" | sort -n |
  awk '{ a[NR] = $1 } END { printf "# median ratio hf-relay / (cp + sha256sum): %.2f\n", a[int((NR + 1) / 2)] }' |
  tee -a "$out"
