#!/usr/bin/env bash
# Proves the README's first command: starts `make serve` in the background, waits until
# http://127.0.0.1:8080/ answers with the page (and the page's script and the model are served),
# then stops it. CI runs this after `make build`, so a broken `make serve` cannot land.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
URL=http://127.0.0.1:8080/
WAIT_S=${SERVE_WAIT_S:-1200}   # trunk serve rebuilds first; with a warm cargo cache it takes ~1 min
LOG=$(mktemp)

if curl -s -o /dev/null "$URL"; then log "something already answers at $URL: stop it first"; exit 1; fi

# Own process group, so that stopping it stops make, bash and trunk together.
setsid make serve >"$LOG" 2>&1 &
pgid=$!
stop() { kill -TERM -- "-$pgid" 2>/dev/null || true; wait "$pgid" 2>/dev/null || true; rm -f "$LOG"; }
trap stop EXIT

start=$SECONDS
until page=$(curl -sf "$URL"); do
    if ! kill -0 "$pgid" 2>/dev/null; then log "make serve exited before serving:"; cat "$LOG" >&2; exit 1; fi
    if (( SECONDS - start > WAIT_S )); then log "no answer at $URL after ${WAIT_S}s:"; tail -40 "$LOG" >&2; exit 1; fi
    sleep 2
done
grep -q '<title>actscale' <<<"$page" || { log "$URL answered, but not with the page:"; head -20 <<<"$page" >&2; exit 1; }
# The page's own script, named in the HTML Trunk wrote, and the default model are served too.
script=$(grep -o 'actscale-app-[0-9a-f]*\.js' <<<"$page" | head -1)
[ -n "$script" ] || { log "the served page names no actscale-app script"; exit 1; }
curl -sf -o /dev/null "$URL$script" || { log "$URL$script is not served"; exit 1; }
first=$(mktemp); curl -sf -r 0-3 -o "$first" "${URL}static/models/$(basename "$MODEL_FILE")" || true
[ "$(head -c 4 "$first")" = GGUF ] || { rm -f "$first"; log "the default model is not served under static/models/"; exit 1; }
rm -f "$first"
log "make serve answered at $URL with the page after $((SECONDS - start))s"
