#!/usr/bin/env bash
# Points a built site (default dist/) at its default model: ACTSCALE_MODEL_URL (absolute, or
# relative to the page) and ACTSCALE_MODEL_SHA256 (64 hex digits; defaults to the bundled
# model's, for the same file hosted elsewhere). Writes both into index.html's actscale-model-*
# meta tags and, for a model hosted elsewhere, leaves the 94 MB bundled copy out of the site.
# Without ACTSCALE_MODEL_URL the site keeps the bundled model. `scripts/build.sh` runs it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
site="${1:-$ROOT/dist}"
url="${ACTSCALE_MODEL_URL:-}"
[ -n "$url" ] || { log "site: default model is the bundled static/models/$(basename "$MODEL_FILE")"; exit 0; }
sha="${ACTSCALE_MODEL_SHA256:-$MODEL_SHA256}"
sha="${sha,,}"
if [[ ! "$sha" =~ ^[0-9a-f]{64}$ ]]; then
    echo "ACTSCALE_MODEL_SHA256 must be 64 hex digits, not '$sha'" >&2; exit 1
fi
# The URL goes into an HTML attribute: refuse what would need escaping rather than escape it.
if [[ "$url" =~ [[:space:]\"\'\<\>\&] ]]; then
    echo "ACTSCALE_MODEL_URL must not contain spaces, quotes, <, > or & (percent-encode them): '$url'" >&2; exit 1
fi
html="$(cat "$site/index.html")"
bundled_url="static/models/$(basename "$MODEL_FILE")"
# fill NAME VALUE: sets the empty meta tag NAME (index.html) to VALUE.
fill() {
    local tag="<meta name=\"$1\" content=\"\" />"
    [[ "$html" == *"$tag"* ]] || { echo "$site/index.html has no empty meta tag $1 (already configured?)" >&2; exit 1; }
    # Quoted replacement: no pattern characters (bash 5.2 treats an unquoted & as the match).
    html="${html/"$tag"/"<meta name=\"$1\" content=\"$2\" />"}"
}
fill actscale-model-url "$url"
fill actscale-model-sha256 "$sha"
printf '%s\n' "$html" > "$site/index.html"
if [ "$url" != "$bundled_url" ]; then
    rm -f "$site/$bundled_url"
fi
log "site: default model $url (sha256 ${sha:0:16}…)"
