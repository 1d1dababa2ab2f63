# Shared setup for scripts/run and scripts/test: installs what is missing, never
# reinstalls what is there, so both are safe to run again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
# Build outputs live outside the checkout so fresh clones reuse them.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/webide/target}
SITE_ROOT="$ROOT/target/site"
# Incremental state of the many test binaries grows by gigabytes and buys little here.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
# The bundle's name (also set for every cargo build in .cargo/config.toml).
export LEPTOS_OUTPUT_NAME=webide

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Postgres binaries (initdb, pg_ctl) may live in Debian's versioned directory.
ensure_postgres_bins() {
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    ensure_apt postgresql
  fi
}

ensure_rust_targets() {
  rustup target list --installed | grep -q wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
ensure_wasm_bindgen() {
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  [ "$have" = "$want" ] && return 0
  log "installing wasm-bindgen-cli $want (about 3 minutes, once per machine)"
  cargo install wasm-bindgen-cli --version "$want" --force
}

# wasm-opt from npm's binaryen (run under node, installed in seconds). Debian's binaryen
# (108) produces bundles that fail to hydrate.
WASM_OPT="$ROOT/tools/node_modules/.bin/wasm-opt"
ensure_wasm_opt() {
  [ -x "$WASM_OPT" ] && (cd tools && npm ls --depth=0 >/dev/null 2>&1) && return 0
  log "installing binaryen's wasm-opt from npm (seconds)"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
}

ensure_build_tools() {
  ensure_apt build-essential pkg-config
  ensure_rust_targets
  ensure_wasm_bindgen
  ensure_wasm_opt
}

# Browser libraries (Monaco, xterm.js) are served by our own server, from the site's vendor/
# folder, which build_release copies from public/.
ensure_vendor() {
  (cd vendor && { npm ls --depth=0 >/dev/null 2>&1 || npm ci --no-audit --no-fund; })
  local v
  v=$(node -p 'require("./vendor/node_modules/monaco-editor/package.json").version')
  if [ "$(cat public/vendor/monaco/VERSION 2>/dev/null)" != "$v" ]; then
    rm -rf public/vendor/monaco
    mkdir -p public/vendor/monaco
    cp -r vendor/node_modules/monaco-editor/min/vs public/vendor/monaco/vs
    echo "$v" >public/vendor/monaco/VERSION
  fi
  # Monaco's editor worker is loaded by a worker, out of the page's sight: the page
  # names it to the service worker from this list so it is kept for offline use.
  (cd public/vendor/monaco/vs/assets && printf '["/vendor/monaco/vs/assets/%s"]\n' editor.worker-*.js) \
    >public/vendor/monaco/offline.json
  # xterm.js ships UMD bundles, which would register with Monaco's AMD loader when
  # it is there: each is wrapped so it sees no `define` and sets its global, and
  # loads as a plain script (the pages' CSP allows no eval).
  local x=vendor/node_modules/@xterm f
  v="$(node -p 'require("./vendor/node_modules/@xterm/xterm/package.json").version') umd-wrapped"
  if [ "$(cat public/vendor/xterm/VERSION 2>/dev/null)" != "$v" ]; then
    rm -rf public/vendor/xterm
    mkdir -p public/vendor/xterm
    cp $x/xterm/css/xterm.css public/vendor/xterm/
    for f in $x/xterm/lib/xterm.js $x/addon-fit/lib/addon-fit.js; do
      { echo '(function (define, module, exports) {'; cat "$f"; printf '\n})();\n'; } \
        >"public/vendor/xterm/$(basename "$f")"
    done
    echo "$v" >public/vendor/xterm/VERSION
  fi
}

# The release: the server binary at $CARGO_TARGET_DIR/release/server and the site at
# target/site (the wasm bundle, its JS and CSS under pkg/, and public/), built the way
# cargo-leptos builds them, without needing cargo-leptos.
build_release() { build_site release; }

# `build_site release` or `build_site dev` (unoptimised, for the development loop:
# the server at $CARGO_TARGET_DIR/debug/server). The server and the wasm bundle
# build side by side.
build_site() {
  local mode=$1 server_profile=(--release) wasm_profile=wasm-release
  if [ "$mode" = dev ]; then server_profile=() wasm_profile=dev; fi
  ensure_vendor
  log "building the $mode site: the server and the wasm bundle side by side"
  cargo build "${server_profile[@]}" -p server --bin server &
  local server=$!
  local front=$CARGO_TARGET_DIR/front
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$wasm_profile" \
    --target-dir "$front" || { wait $server; return 1; }
  wait $server
  local dir=$wasm_profile
  [ "$mode" = dev ] && dir=debug
  local site=$SITE_ROOT.new
  rm -rf "$site"
  mkdir -p "$site/pkg"
  cp -r public/. "$site/"
  cp style/main.css "$site/pkg/$LEPTOS_OUTPUT_NAME.css"
  wasm-bindgen --target web --no-typescript --out-name "$LEPTOS_OUTPUT_NAME" --out-dir "$site/pkg" \
    "$front/wasm32-unknown-unknown/$dir/frontend.wasm"
  mv "$site/pkg/${LEPTOS_OUTPUT_NAME}_bg.wasm" "$site/pkg/$LEPTOS_OUTPUT_NAME.wasm"
  if [ "$mode" = release ]; then
    "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$site/pkg/$LEPTOS_OUTPUT_NAME.wasm" -o "$site/pkg/$LEPTOS_OUTPUT_NAME.wasm"
  fi
  rm -rf "$SITE_ROOT"
  mv "$site" "$SITE_ROOT"
  log "site built: $(du -b "$SITE_ROOT/pkg/$LEPTOS_OUTPUT_NAME.wasm" | cut -f1) bytes of wasm"
}

server_bin() { echo "$CARGO_TARGET_DIR/release/server"; }
