#!/usr/bin/env bash
# Builds the site and serves it at http://127.0.0.1:8080 (Trunk.toml [serve]), rebuilding and
# reloading on changes. `make serve` runs it after setup. Its output goes to target/serve, not
# dist/: Trunk's serve build injects a live-reload script, and dist/ stays the hosting build of
# `make build`, which the end-to-end tests run. exec: a signal to this script reaches trunk.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
exec trunk serve --release --dist "$ROOT/target/serve"
