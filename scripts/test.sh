#!/usr/bin/env bash
# Sets up what is missing, then runs every test: native, browser (wasm-pack in headless
# Chromium, WebGPU on via SwiftShader), and end-to-end (the built site driven by Playwright).
# The README's two commands are part of it: `make build` and `make serve` (answering at :8080).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
trap print_stage_times EXIT

stage "setup: tools"          scripts/setup.sh tools
stage "setup: model"          scripts/setup.sh model
stage "format (cargo fmt --check)" cargo fmt --all -- --check
stage "docs (links, cited sections)" python3 scripts/check-docs.py
# Test binaries in parallel (cargo nextest); the same build profile as `cargo test`, so the
# CLI below reuses this build.
stage "native tests"          cargo nextest run --cargo-quiet --no-fail-fast
stage "test model (2 layers)" scripts/make-test-model.sh
stage "compare (quick, 2 layers)" actscale_cli compare \
    --model static/models/test-2layer.gguf --steps 3 --max-prompts 4 --seeds 2
# The browser builds run with clippy's no-sync-read lint on the crate (check-sync-reads.sh): all
# three with the same compiler wrapper, so that they share the crate's compiled units as well as
# the dependencies'.
stage "make build (site; no sync reads)" scripts/check-sync-reads.sh make build
stage "make serve (answers)"  scripts/check-sync-reads.sh scripts/check-serve.sh
stage "browser tests"         scripts/check-sync-reads.sh scripts/browser-tests.sh
# Two test files at a time, each in its own process with its own Chromium.
stage "end-to-end tests"      node --test --test-concurrency=2 tests/e2e/*.test.mjs
