#!/usr/bin/env bash
# A CPU profile of the engine worker while the page trains, or with --patch while it patches
# (docs/performance.md "Speed in the browser", "Where the time goes").
# Builds the release site with the worker's function names kept (no wasm-opt, which strips
# them) into $OUT (default /tmp/actscale-profile/dist), then runs tests/e2e/profile-worker.mjs.
# Usage: bash scripts/profile-worker.sh [PROMPT] [STEPS] | --patch
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
OUT="${OUT:-/tmp/actscale-profile/dist}"
mkdir -p "$(dirname "$OUT")"
# The worker's wasm-opt off for this build only; index.html is put back whatever happens.
cp index.html "$OUT.index.html.orig"
trap 'cp "$OUT.index.html.orig" index.html' EXIT
sed -i 's/data-wasm-opt="1"/data-wasm-opt="0"/' index.html
trunk build --release --dist "$OUT"
bash scripts/site-config.sh "$OUT"
node tests/e2e/profile-worker.mjs "$OUT" "$@"
