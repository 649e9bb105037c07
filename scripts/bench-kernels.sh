#!/usr/bin/env bash
# The few-row kernels alone, in headless Chromium and natively on one thread, on the model's
# weight shapes (docs/performance.md "Speed in the browser"). Builds benches/row-kernels — src/model/
# kernels/row_kernels.rs as the worker and the CLI compile it (wasm with the repo's simd128 flag from
# .cargo/config.toml) — in seconds, without burn. Prints figures, asserts nothing.
# Usage: bash scripts/bench-kernels.sh [--all-layers] [ROWS...]   (default 6 12 20; --all-layers:
# each layer its own weights, 425 MB, read from memory as in a real step)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT/benches/row-kernels"
TARGET="$CARGO_TARGET_DIR/row-kernels"
cargo build --release --quiet --target wasm32-unknown-unknown --lib --target-dir "$TARGET"
cargo build --release --quiet --bin row-kernels-bench --target-dir "$TARGET"
date -u +"measured %Y-%m-%d %H:%M UTC on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
case " $* " in
  *" --all-layers "*) echo "weights: each layer its own (425 MB, from memory)" ;;
  *) echo "weights: one layer's, reused by every layer (in cache)" ;;
esac
echo "browser (headless Chromium, wasm simd128):"
node "$ROOT/tests/e2e/bench-kernels.mjs" "$TARGET/wasm32-unknown-unknown/release/row_kernels_bench.wasm" "$@"
echo "native (one thread):"
"$TARGET/release/row-kernels-bench" "$@"
