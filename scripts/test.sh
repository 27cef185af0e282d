#!/usr/bin/env bash
# The whole test suite from a clean checkout: installs what it needs, checks formatting (and lints with LINT=1), runs
# every test. CI runs exactly this (.ci/run). Needs: cargo (rustup), python3 with venv/pip.
set -euo pipefail
cd "$(dirname "$0")/.."

# moto serves the over-the-wire AWS tests from a local virtualenv (.venv, not committed).
MOTO_VERSION=5.2.5
if ! .venv/bin/python -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "== installing moto $MOTO_VERSION into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
export FSX_MIGRATE_MOTO_SERVER="$PWD/.venv/bin/moto_server"

echo "== cargo fmt --check"
cargo fmt --all -- --check
# `cargo clippy --all-targets -- -D warnings` stays clean too; set LINT=1 to run it here (a cold clippy of the
# AWS SDK costs ~10 minutes on 2 cores, so CI leaves it to the developers).
if [ "${LINT:-0}" = 1 ]; then
    echo "== cargo clippy"
    cargo clippy --all-targets --quiet -- -D warnings
fi
echo "== cargo test"
cargo test --quiet
