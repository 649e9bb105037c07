#!/usr/bin/env bash
# The fast test model: the first 2 blocks of the default model, and its native logits for one
# prompt (every token), which the browser tests compare against. Needs the native CLI.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
OUT_MODEL="$MODEL_DIR/test-2layer.gguf"
OUT_LOGITS="$MODEL_DIR/test-2layer.expected.json"
[ -f "$MODEL_FILE" ] || { log "missing $MODEL_FILE: run scripts/setup.sh model"; exit 1; }
if [ "$OUT_MODEL" -nt "$MODEL_FILE" ] && [ "$OUT_LOGITS" -nt "$OUT_MODEL" ] && [ -z "${FORCE:-}" ]; then exit 0; fi
actscale_cli truncate --model "$MODEL_FILE" --layers 2 --out "$OUT_MODEL"
actscale_cli predict --model "$OUT_MODEL" --prompt "The capital of Italy is" \
    --top 49152 --json > "$OUT_LOGITS.part"
mv "$OUT_LOGITS.part" "$OUT_LOGITS"
log "test model ready: $OUT_MODEL ($(du -h "$OUT_MODEL" | cut -f1)), logits: $OUT_LOGITS"
