# Sourced by the Makefile's scripts: installs only what is missing, so a fresh
# machine gets everything and a warm one skips straight to the build.
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.129
export PATH="$HOME/.cargo/bin:$PATH"

# What `.ci/build.sh` needs: the wasm32 target, wasm-bindgen (~3 minutes to
# install, once), wasm-opt and terser from npm.
install_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "==> rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    echo "==> installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked
  fi
  # wasm-opt comes from npm's binaryen (Debian's breaks hydration; a download is impossible here).
  if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    echo "==> npm ci (end2end: Playwright, binaryen)"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  export PATH="$PWD/end2end/node_modules/.bin:$PATH"
}

# `make watch` only (development with live reload): cargo-leptos takes ~18
# minutes to install on 2 cores, so the release build does without it.
install_watch_tools() {
  install_build_tools
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    echo "==> installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes on 2 cores, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
}

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = "0" ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

install_test_tools() {
  apt_install chromium postgresql
}
