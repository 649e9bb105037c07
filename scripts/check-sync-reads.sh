#!/usr/bin/env bash
# Usage: scripts/check-sync-reads.sh CMD...   (CI: scripts/check-sync-reads.sh make build)
# Runs CMD, a build of the browser code (page + worker, wasm32), with this crate's own code
# compiled by clippy-driver and clippy.toml's disallowed-methods as an error: a synchronous tensor
# read (into_data, to_data, into_scalar, ...), which panics on WebGPU, fails the build. Other
# clippy lints are not enforced here.
#
# This is `cargo clippy`'s own mechanism (RUSTC_WORKSPACE_WRAPPER=clippy-driver, CLIPPY_ARGS), on
# a real build instead of a `cargo check`: dependencies are built once, by rustc, for the site,
# and only the crate is linted, so the check costs the crate's compile and nothing more. A
# separate `cargo clippy` of the wasm build would compile every dependency a second time, in
# check mode. docs/ci.md shows the check failing on a planted `Tensor::zeros(..).into_data()`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
[ $# -gt 0 ] || { echo "usage: $0 CMD... (a build of the browser code, e.g. make build)" >&2; exit 2; }
driver=$(command -v clippy-driver) || { log "clippy-driver not found: rustup component add clippy"; exit 1; }
export RUSTC_WORKSPACE_WRAPPER="$driver"
export CLIPPY_ARGS="-A__CLIPPY_HACKERY__clippy::all__CLIPPY_HACKERY__-D__CLIPPY_HACKERY__clippy::disallowed_methods__CLIPPY_HACKERY__"
exec "$@"
