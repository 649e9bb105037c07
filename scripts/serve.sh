#!/usr/bin/env bash
# Builds the site and serves it at http://127.0.0.1:8080 (Trunk.toml [serve]), rebuilding on
# changes. `make serve` runs it after setup. exec: a signal to this script reaches trunk.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
exec trunk serve --release
