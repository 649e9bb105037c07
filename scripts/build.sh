#!/usr/bin/env bash
# The static site in dist/ (release build). `make build` runs it after setup.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
trunk build --release
bash scripts/site-config.sh "$ROOT/dist"
