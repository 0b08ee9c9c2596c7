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
# cp of the files, then sha256sum of them (coreutils: no SHA-NI), then `openssl dgst -sha256`
# of them (SHA-NI, as hf-relay's sha2): prints "cp_s cp_kib sha256sum_s sha_kib openssl_s ssl_kib".
run_cp() {
  rm -rf "$scratch/copy" && mkdir "$scratch/copy" && sync
  local c s o
  c="$(timed sh -c "cp \"$folder\"/*.parquet \"$scratch/copy/\"")"
  s="$(timed sh -c "sha256sum \"$folder\"/*.parquet")"
  o="$(timed sh -c "openssl dgst -sha256 \"$folder\"/*.parquet")"
  echo "$c $s $o"
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
  echo "# seconds (peak RSS MiB); ratio = hf-relay / peer, < 1: hf-relay is faster"
  echo "round  cp  sha256sum  openssl  hf-relay  vs_cp+sha256sum  vs_cp+openssl  vs_cp"
} | tee "$out"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    read -r c cr s sr o or <<<"$(run_cp)"
    read -r h hr <<<"$(run_relay)"
  else
    read -r h hr <<<"$(run_relay)"
    read -r c cr s sr o or <<<"$(run_cp)"
  fi
  awk -v r="$round" -v c="$c" -v cr="$cr" -v s="$s" -v sr="$sr" -v o="$o" -v or="$or" \
    -v h="$h" -v hr="$hr" 'BEGIN {
      printf "%5d  %.2f (%.0f)  %.2f (%.0f)  %.2f (%.0f)  %.2f (%.0f)  %.2f  %.2f  %.2f\n",
        r, c, cr / 1024, s, sr / 1024, o, or / 1024, h, hr / 1024, h / (c + s), h / (c + o), h / c
    }' | tee -a "$out"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }'; }
rows="$(grep -v '^#' "$out" | awk '$1 ~ /^[0-9]+$/')"
printf "# median ratio hf-relay / (cp + sha256sum): %s; / (cp + openssl sha256): %s; / cp: %s\n" \
  "$(awk '{ print $(NF-2) }' <<<"$rows" | median)" \
  "$(awk '{ print $(NF-1) }' <<<"$rows" | median)" \
  "$(awk '{ print $NF }' <<<"$rows" | median)" | tee -a "$out"
