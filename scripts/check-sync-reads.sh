#!/usr/bin/env bash
# Fails when code in the browser build (page + worker, wasm32) calls a synchronous tensor read
# (clippy.toml's disallowed-methods: into_data, to_data, into_scalar), which panics on WebGPU.
# Other clippy lints are not enforced here.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
cargo clippy --quiet --target wasm32-unknown-unknown --no-default-features --features web,engine \
    --lib --bins -- -A clippy::all -D clippy::disallowed_methods
