#!/usr/bin/env bash
# wasm-pack tests in headless Chromium (webdriver.json adds --enable-unsafe-webgpu): the engine
# (tests/browser.rs) and training on WebGPU against the CPU backend (tests/browser_training.rs).
# Same features as the site build so that the release wasm dependencies are shared.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
profiles_before=$(ls -d /tmp/org.chromium.Chromium.* 2>/dev/null || true)
status=0
# SwiftShader JIT-compiles every kernel: training on WebGPU takes minutes (both training tests
# together 12.5 min on a busy machine), not the runner's default 20 s.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-1800}
wasm-pack test --headless --chrome --release --mode no-install -- \
    --no-default-features --features web,engine --test browser --test browser_training || status=$?
# Each run leaves a Chromium profile in /tmp: remove the ones this run made.
for d in /tmp/org.chromium.Chromium.*; do
    [ -e "$d" ] || continue
    grep -qxF "$d" <<<"$profiles_before" || rm -rf "$d"
done
exit $status
