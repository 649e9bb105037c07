# Shared settings for the scripts. Source it; it changes nothing by itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/actscale/target}"
# npm tools (tests/e2e/package.json): binaryen's wasm-opt for Trunk's release build.
export PATH="$ROOT/tests/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"
MODEL_DIR="$ROOT/static/models"
MODEL_FILE="$MODEL_DIR/smollm2-135m-instruct-q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_CACHE="$HOME/.cache/actscale/models"

# The native CLI as `cargo test` builds it (for tests/cli.rs): running it from there, rather than
# with `cargo run`, reuses the test build instead of compiling burn a second time (without the
# dev-dependencies cargo unifies other features, ~5 min here).
actscale_cli() {
    cargo test --quiet --no-run --test cli 2>/dev/null || cargo test --no-run --test cli
    "$CARGO_TARGET_DIR/debug/actscale" "$@"
}

log() { printf '\033[1m[actscale]\033[0m %s\n' "$*" >&2; }

# stage NAME CMD...: runs CMD, prints how long it took, and remembers it for the summary.
STAGE_TIMES=()
stage() {
    local name="$1"; shift
    local start=$SECONDS
    log "stage '$name' started"
    "$@"
    local took=$((SECONDS - start))
    STAGE_TIMES+=("$(printf '%-28s %5ds' "$name" "$took")")
    log "stage '$name' done in ${took}s"
}
print_stage_times() {
    log "stage timings:"
    local line
    for line in "${STAGE_TIMES[@]}"; do printf '    %s\n' "$line" >&2; done
}
