#!/usr/bin/env bash
# Sets up what is missing, then runs every test: native, browser (wasm-pack in headless
# Chromium, WebGPU on via SwiftShader), and end-to-end (the built site driven by Playwright).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
trap print_stage_times EXIT

stage "setup: tools"          scripts/setup.sh tools
stage "setup: model"          scripts/setup.sh model
stage "native tests"          cargo test --quiet
stage "test model (2 layers)" scripts/make-test-model.sh
stage "compare (quick, 2 layers)" cargo run --quiet --bin actscale -- compare \
    --model static/models/test-2layer.gguf --steps 3 --max-prompts 4
stage "site build (release)"  trunk build --release
stage "browser tests"         scripts/browser-tests.sh
stage "end-to-end tests"      node --test tests/e2e/*.test.mjs
