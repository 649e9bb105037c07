#!/usr/bin/env bash
# Activation patching's speed: the real model's whole map at T = 5, 10, 14 in the browser (CPU
# backend) and natively, in one run (tests/e2e/bench-patch.mjs). Figures: docs/performance.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
cargo build --release --quiet --bin actscale
bash scripts/build.sh
date -u +"measured %Y-%m-%d %H:%M UTC on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
node tests/e2e/bench-patch.mjs --native "$CARGO_TARGET_DIR/release/actscale"
