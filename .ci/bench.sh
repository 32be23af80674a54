#!/usr/bin/env bash
# `make bench`: what the browser downloads for the editor (raw/gzip/brotli) and
# SSR throughput of the tenant email editor page against the same bytes served
# as a static file by the same server, same tool, same run.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
install_build_tools
apt_install wrk brotli gzip curl
cargo leptos build --release >/dev/null 2>&1

echo "== Release assets (bytes)"
printf '%-22s %9s %9s %9s\n' file raw gzip-9 brotli-11
total_raw=0; total_gz=0; total_br=0
for f in target/site/pkg/tenant_mail.wasm target/site/pkg/tenant_mail.js target/site/pkg/tenant_mail.css; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c); br=$(brotli -q 11 -c "$f" | wc -c)
  total_raw=$((total_raw+raw)); total_gz=$((total_gz+gz)); total_br=$((total_br+br))
  printf '%-22s %9d %9d %9d\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
printf '%-22s %9d %9d %9d\n' total "$total_raw" "$total_gz" "$total_br"

dir=$(mktemp -d /tmp/tenant-mail-bench.XXXXXX)
port=3900
TENANT_MAIL_BIND=127.0.0.1:$port TENANT_MAIL_PUBLIC_URL=http://127.0.0.1:$port \
TENANT_MAIL_DATABASE_URL="sqlite://$dir/bench.db?mode=rwc" TENANT_MAIL_KEY_FILE="$dir/key" \
TENANT_MAIL_LOG_LEVEL=warn LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD \
  target/release/tenant-mail >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir" target/site/bench-static.html' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done

base="http://127.0.0.1:$port"
tenant=$(curl -fs -X POST "$base/api/create_tenant" -H 'content-type: application/json' -d '{"name":"Bench"}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
email=$(curl -fs -X POST "$base/api/save_tenant_email" -H 'content-type: application/json' -d "{\"tenant_id\":\"$tenant\",\"email_id\":null,\"version\":null,\"replace_secret\":false,\"input\":{\"account_type\":\"microsoft365_graph\",\"address\":\"bench@contoso.com\",\"direction\":\"send_receive\",\"application_id\":\"79c6ff55-b7e0-4517-bfd7-b4fffb6fee40\",\"client_secret\":\"Bench~secret~value~0123456789\",\"secret_expires_on\":\"\",\"authority_url\":\"https://login.microsoftonline.com/common\",\"authorization_endpoint\":\"/oauth2/v2.0/authorize\",\"token_endpoint\":\"/oauth2/v2.0/token\",\"scopes\":\"openid profile offline_access user.read mail.read mail.send mail.readwrite\"}}" | sed -E 's/.*"id":"([^"]+)".*/\1/')
page="/admin/tenants/$tenant/emails/$email"
curl -fs "$base$page" > target/site/bench-static.html
echo
echo "== SSR vs static file of the same size ($(stat -c %s target/site/bench-static.html) bytes), wrk -t2 -c32 -d10s"
ssr=$(wrk -t2 -c32 -d10s "$base$page" | awk '/Requests\/sec/ {print $2}')
static=$(wrk -t2 -c32 -d10s "$base/bench-static.html" | awk '/Requests\/sec/ {print $2}')
echo "SSR editor page (2 DB reads): $ssr req/s"
echo "static file, same bytes:      $static req/s"
echo "ratio SSR/static:             $(python3 -c "print(round($ssr/$static, 2))")"
