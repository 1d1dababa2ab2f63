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

# cargo-leptos' lockfile needs a newer compiler than stable here; nightly builds it.
ensure_cargo_leptos() {
  command -v cargo-leptos >/dev/null && return 0
  log "building cargo-leptos (about 20 minutes, once per machine)"
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  cargo +nightly install cargo-leptos --locked
}

# cargo-leptos would download a wasm-bindgen CLI; one of the locked version on PATH is used instead.
ensure_wasm_bindgen() {
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  [ "$have" = "$want" ] && return 0
  log "installing wasm-bindgen-cli $want"
  cargo install wasm-bindgen-cli --version "$want" --force
}

# Debian's binaryen (108) produces bundles that fail to hydrate; 116+ from crates.io works.
ensure_wasm_opt() {
  local v
  v=$(wasm-opt --version 2>/dev/null | awk '{print $3}' || true)
  if [ -n "$v" ] && [ "$v" -ge 116 ] 2>/dev/null; then return 0; fi
  log "building wasm-opt (binaryen 116, about 13 minutes, once per machine)"
  cargo install wasm-opt --locked
}

ensure_build_tools() {
  ensure_apt build-essential pkg-config
  ensure_rust_targets
  ensure_cargo_leptos
  ensure_wasm_bindgen
  ensure_wasm_opt
}

# Browser libraries (Monaco, xterm.js) are served by our own server, from the site's vendor/
# folder, which cargo-leptos fills from public/.
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
  local x=vendor/node_modules/@xterm
  v=$(node -p 'require("./vendor/node_modules/@xterm/xterm/package.json").version')
  if [ "$(cat public/vendor/xterm/VERSION 2>/dev/null)" != "$v" ]; then
    rm -rf public/vendor/xterm
    mkdir -p public/vendor/xterm
    cp $x/xterm/lib/xterm.js $x/xterm/css/xterm.css $x/addon-fit/lib/addon-fit.js public/vendor/xterm/
    echo "$v" >public/vendor/xterm/VERSION
  fi
}

build_release() {
  ensure_vendor
  log "building the release (server and wasm bundle)"
  cargo leptos build --release
}

server_bin() { echo "$CARGO_TARGET_DIR/release/server"; }
