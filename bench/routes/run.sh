#!/usr/bin/env bash
# The closed routes of BENCHMARKS.md, measured: other JSON parsers through the same serde
# visitor, snappy (`snap` against the C++ snappy inside pyarrow) and SHA-256 (`sha2` against
# OpenSSL). Not part of the tests.
#
#   bench/routes/run.sh [FILE.jsonl]   default: the 1 GB input of bench/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${HF_RELAY_BENCH_DATA:-$HOME/.cache/hf-relay-bench}"
input="${1:-$data/friction-185000-43.jsonl}"
[ -s "$input" ] || { echo "no input at $input: run bench/run.sh first, or pass a file" >&2; exit 2; }
venv="${BENCH_VENV:-$HOME/.cache/hf-relay-bench/venv}"

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
"$here/target/release/hf-relay-routes" "$input"
if [ -x "$venv/bin/python" ]; then
  "$venv/bin/python" - "$input" <<'PY'
import sys, time
import pyarrow as pa
with open(sys.argv[1], "rb") as f:
    data = f.read(300_000_000)
data = data[: data.rfind(b"\n") + 1]
started = time.perf_counter()
compressed = sum(len(pa.compress(data[i : i + (1 << 20)], codec="snappy", asbytes=True))
                 for i in range(0, len(data), 1 << 20))
rate = len(data) / 1e6 / (time.perf_counter() - started)
print(f"snappy (C++, pyarrow {pa.__version__}, 1 MiB blocks): {rate:.0f} MB/s, ratio {compressed / len(data):.3f}")
PY
fi
# `openssl speed` prints thousands of bytes per second ("1783103.49k") for 1 MiB blocks.
openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | tail -1 |
  awk '{ sub(/k$/, "", $NF); printf "sha256 (OpenSSL, 1 MiB blocks): %.0f MB/s\n", $NF / 1000 }'
