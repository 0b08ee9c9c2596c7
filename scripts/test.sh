#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every test.
#   - git-lfs (apt-get) for `git lfs fsck`/`ls-files`/`pull` in interop tests;
#   - a Python venv (.venv-test) with pinned datasets, pyarrow, huggingface_hub, PyYAML, trustme, duckdb, polars;
#   - then `cargo test` (unit + integration tests driving the built binary) and the test Hub's
#     own smoke test.
# Tests never skip because a tool is missing: this script installs it, or fails.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! git lfs version >/dev/null 2>&1; then
  echo "==> installing git-lfs"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git-lfs >/dev/null
fi

venv="${HF_RELAY_TEST_VENV:-$PWD/.venv-test}"
requirements="tests/python/requirements.txt"
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "==> creating the Python test environment in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi
export HF_RELAY_TEST_PYTHON="$venv/bin/python"

echo "==> cargo test"
cargo test --all-targets "$@"

echo "==> test Hub smoke test"
bash tests/hub/smoke.sh
