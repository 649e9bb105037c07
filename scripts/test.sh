#!/usr/bin/env bash
# Sets up what is missing, then runs every test: native, browser (wasm-pack in headless
# Chromium, WebGPU on via SwiftShader), and end-to-end (the built site driven by Playwright).
# The README's two commands are part of it: `make build` and `make serve` (answering at :8080).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
trap print_stage_times EXIT

stage "setup: tools"          scripts/setup.sh tools
stage "setup: model"          scripts/setup.sh model
stage "native tests"          cargo test --quiet
stage "no sync reads (clippy, wasm)" scripts/check-sync-reads.sh
stage "test model (2 layers)" scripts/make-test-model.sh
stage "compare (quick, 2 layers)" actscale_cli compare \
    --model static/models/test-2layer.gguf --steps 3 --max-prompts 4
stage "make build (site)"     make build
stage "make serve (answers)"  scripts/check-serve.sh
stage "browser tests"         scripts/browser-tests.sh
stage "end-to-end tests"      node --test tests/e2e/*.test.mjs
