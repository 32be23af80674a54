#!/usr/bin/env bash
# The release build, without cargo-leptos (a 17-minute install on 2 cores):
# the server and the WASM front end compile side by side, then wasm-bindgen,
# wasm-opt, content-hashed names and brotli/gzip copies made once here, so the
# server only picks a file. `make watch` still uses cargo-leptos for
# development (debug, unhashed names); both read the same leptos metadata.
#
# Output: target/release/tenant-mail, target/release/hash.txt (the hashed
# names, read by the server next to its binary, as Leptos does) and
# target/site/ (public/ plus pkg/).
set -euo pipefail
cd "$(dirname "$0")/.."

name=tenant_mail          # output-name in Cargo.toml's leptos metadata
site=target/site
front_target=target/front # its own target dir: the two cargo builds run at once
wasm="$front_target/wasm32-unknown-unknown/wasm-release/frontend.wasm"

for tool in wasm-bindgen wasm-opt terser node; do
  command -v "$tool" >/dev/null || { echo "build: $tool is missing (run: . .ci/install.sh; install_build_tools)" >&2; exit 1; }
done

t0=$(date +%s)
cargo build --locked --release -p server --bin tenant-mail &
server_build=$!
# The server build must not outlive a failed front build (or Ctrl-C).
trap 'kill $server_build 2>/dev/null || true' EXIT
cargo build --locked -p frontend --lib --target wasm32-unknown-unknown \
  --profile wasm-release --target-dir "$front_target"
t_front=$(date +%s)

# The site is remade only when what it is made from changed (a server-only
# edit then costs no wasm-bindgen/wasm-opt/brotli pass, ~45 s here).
inputs=$( { cat "$wasm" style/main.css .ci/build.sh .ci/precompress.mjs; (cd public && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-64)
stamp="$front_target/site.stamp"
kept_manifest="$front_target/site.hash.txt"
stage=""
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ] && [ -f "$kept_manifest" ] && [ -d "$site/pkg" ]; then
  echo "build: site unchanged, kept"
else
  stage="$(mktemp -d target/site-stage.XXXXXX)"
  trap 'kill $server_build 2>/dev/null || true; rm -rf "$stage"' EXIT
  chmod 755 "$stage"
  mkdir -p "$stage/pkg"
  wasm-bindgen --target web --no-typescript --out-name "$name" --out-dir "$stage/pkg" "$wasm"
  mv "$stage/pkg/${name}_bg.wasm" "$stage/pkg/$name.wasm"
  # The flags cargo-leptos uses; npm's binaryen (Debian's breaks hydration).
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$stage/pkg/$name.wasm" -o "$stage/pkg/$name.wasm"
  # The JS glue minified as cargo-leptos does (it uses swc; terser is on npm).
  terser "$stage/pkg/$name.js" --module --compress --mangle --output "$stage/pkg/$name.js"
  cp style/main.css "$stage/pkg/$name.css"

  # Content-hashed names: a new build is a new URL, so the old one can be
  # cached forever. The script and the WASM always change together (the glue
  # is generated for that module), so they share one hash and the server
  # links them by name alone; the stylesheet has its own. The same
  # `kind: hash` lines cargo-leptos writes for Leptos.
  code_hash=$(cat "$stage/pkg/$name.js" "$stage/pkg/$name.wasm" | sha256sum | cut -c1-20)
  css_hash=$(sha256sum "$stage/pkg/$name.css" | cut -c1-20)
  mv "$stage/pkg/$name.js" "$stage/pkg/$name.$code_hash.js"
  mv "$stage/pkg/$name.wasm" "$stage/pkg/$name.$code_hash.wasm"
  mv "$stage/pkg/$name.css" "$stage/pkg/$name.$css_hash.css"
  printf 'js: %s\nwasm: %s\ncss: %s\n' "$code_hash" "$code_hash" "$css_hash" > "$stage/hash.txt"
  node .ci/precompress.mjs "$stage/pkg"
  cp -r public/. "$stage/"
  # Not under the site root: the server serves files from there.
  mv "$stage/hash.txt" "$kept_manifest.new"
fi
t_site=$(date +%s)

wait $server_build
if [ -n "$stage" ]; then
  # The old site goes last; the stamp only once the new one is in place.
  rm -f "$stamp"
  rm -rf "$site.old"
  [ -d "$site" ] && mv "$site" "$site.old"
  mv "$stage" "$site"
  rm -rf "$site.old"
  mv "$kept_manifest.new" "$kept_manifest"
  echo "$inputs" > "$stamp"
fi
# The names beside the binary, where the server (and Leptos) look for them.
cp "$kept_manifest" target/release/hash.txt
trap - EXIT
echo "build: front end $((t_front - t0))s, site $((t_site - t0))s, all $(( $(date +%s) - t0 ))s"
