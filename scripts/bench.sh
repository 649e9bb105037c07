#!/usr/bin/env bash
# The speed benchmark (`make bench`): builds the release CLI and the site, then measures the
# browser (headless Chromium, CPU backend) and the native CLI on the same prompts in one run and
# prints their ratios. Extra arguments go to tests/e2e/bench-page.mjs (e.g. --webgpu).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
log "building the native CLI (release)"
cargo build --release --quiet --bin actscale
bash scripts/build.sh
date -u +"measured %Y-%m-%d %H:%M UTC on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
node tests/e2e/bench-page.mjs --native "$CARGO_TARGET_DIR/release/actscale" "$@"
