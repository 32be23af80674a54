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

# Content-hashed names: a new build is a new URL, so the old one can be cached
# forever. The same `kind: hash` lines cargo-leptos writes for Leptos.
manifest="$stage/hash.txt"
: > "$manifest"
for kind in js wasm css; do
  hash=$(sha256sum "$stage/pkg/$name.$kind" | cut -c1-20)
  mv "$stage/pkg/$name.$kind" "$stage/pkg/$name.$hash.$kind"
  echo "$kind: $hash" >> "$manifest"
done
node .ci/precompress.mjs "$stage/pkg"
cp -r public/. "$stage/"
t_site=$(date +%s)

wait $server_build
trap 'rm -rf "$stage"' EXIT
# The binary and its names change together; the old site goes last.
mv "$manifest" target/release/hash.txt
rm -rf "$site.old"
[ -d "$site" ] && mv "$site" "$site.old"
mv "$stage" "$site"
rm -rf "$site.old"
trap - EXIT
echo "build: front end $((t_front - t0))s, site $((t_site - t0))s, all $(( $(date +%s) - t0 ))s"
