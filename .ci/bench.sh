#!/usr/bin/env bash
# `make bench`: what the browser downloads for the editor (raw/gzip/brotli) and
# SSR throughput of the tenant email editor page against the same bytes served
# as a static file by the same server, same tool, same run.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
install_build_tools
apt_install wrk curl chromium
.ci/build.sh >/dev/null 2>&1

echo "== Release assets (bytes; .ci/build.sh makes the brotli and gzip copies the server sends)"
printf '%-40s %9s %9s %9s\n' file raw gzip-9 brotli-11
total_raw=0; total_gz=0; total_br=0
assets=()
while IFS=': ' read -r kind hash; do
  f="target/site/pkg/tenant_mail.$hash.$kind"
  assets+=("$(basename "$f")")
  raw=$(stat -c %s "$f"); gz=$(stat -c %s "$f.gz"); br=$(stat -c %s "$f.br")
  total_raw=$((total_raw+raw)); total_gz=$((total_gz+gz)); total_br=$((total_br+br))
  printf '%-40s %9d %9d %9d\n' "$(basename "$f")" "$raw" "$gz" "$br"
done < target/release/hash.txt
printf '%-40s %9d %9d %9d\n' total "$total_raw" "$total_gz" "$total_br"

dir=$(mktemp -d /tmp/tenant-mail-bench.XXXXXX)
port=3900
export TENANT_MAIL_BIND=127.0.0.1:$port TENANT_MAIL_PUBLIC_URL=http://127.0.0.1:$port \
  TENANT_MAIL_DATABASE_URL="sqlite://$dir/bench.db?mode=rwc" TENANT_MAIL_KEY_FILE="$dir/key" \
  TENANT_MAIL_LOG_LEVEL=warn LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD
bench_password="load test passphrase $(date +%s%N)"
printf '%s\n' "$bench_password" | target/release/tenant-mail admin create --username bench >/dev/null
target/release/tenant-mail >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir" target/site/pkg/bench-static.html' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done

base="http://127.0.0.1:$port"
jar="$dir/cookies"
# Signing in is one argon2id verification (m=19456 KiB, t=2, p=1), the shared
# throttle's charge and refund, and a session write. Successful sign-ins cost no
# throttle budget, so 20 runs measure the real path.
echo
echo "== Sign-in (POST /auth/sign-in, 20 runs)"
for _ in $(seq 20); do
  curl -s -o /dev/null -c "$jar" -H "Origin: $base" -w '%{time_total}\n' \
    --data-urlencode "username=bench" --data-urlencode "password=$bench_password" "$base/auth/sign-in"
done | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms (min %.1f, max %.1f)\n", (a[10]+a[11])/2*1000, a[1]*1000, a[NR]*1000}'
cookie="tm_session=$(awk '$6 == "tm_session" {print $7}' "$jar")"
api() { curl -fs -X POST "$base/api/$1" -H "Origin: $base" -H "Cookie: $cookie" -H 'content-type: application/json' -d "$2"; }
tenant=$(api create_tenant '{"name":"Bench"}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
email=$(api save_tenant_email "{\"tenant_id\":\"$tenant\",\"email_id\":null,\"version\":null,\"replace_secret\":false,\"input\":{\"account_type\":\"microsoft365_graph\",\"address\":\"bench@contoso.com\",\"direction\":\"send_receive\",\"application_id\":\"79c6ff55-b7e0-4517-bfd7-b4fffb6fee40\",\"client_secret\":\"Bench~secret~value~0123456789\",\"secret_expires_on\":\"\",\"authority_url\":\"https://login.microsoftonline.com/common\",\"authorization_endpoint\":\"/oauth2/v2.0/authorize\",\"token_endpoint\":\"/oauth2/v2.0/token\",\"scopes\":\"openid profile offline_access user.read mail.read mail.send mail.readwrite\"}}" | sed -E 's/.*"id":"([^"]+)".*/\1/')
page="/admin/tenants/$tenant/emails/$email"
curl -fs -H "Cookie: $cookie" "$base$page" > target/site/pkg/bench-static.html
echo
echo "== SSR vs static file of the same size ($(stat -c %s target/site/pkg/bench-static.html) bytes), wrk -t2 -c32 -d10s"
ssr=$(wrk -t2 -c32 -d10s -H "Cookie: $cookie" "$base$page" | awk '/Requests\/sec/ {print $2}')
static=$(wrk -t2 -c32 -d10s "$base/pkg/bench-static.html" | awk '/Requests\/sec/ {print $2}')
echo "SSR editor page (signed in): $ssr req/s"
echo "static file, same bytes:      $static req/s"
echo "ratio SSR/static:             $(python3 -c "print(round($ssr/$static, 2))")"
echo
echo "== On the wire (curl, Accept-Encoding: br, gzip): bytes, encoding, caching"
for name in "${assets[@]}"; do
  curl -fs -o /dev/null -D "$dir/h" -H 'Accept-Encoding: br, gzip' -w '%{size_download}' "$base/pkg/$name" > "$dir/n"
  printf '%-40s %9s  %-4s %s\n' "$name" "$(cat "$dir/n")" \
    "$(awk -F': ' 'tolower($1)=="content-encoding" {print $2}' "$dir/h" | tr -d '\r')" \
    "$(awk -F': ' 'tolower($1)=="cache-control" {print $2}' "$dir/h" | tr -d '\r')"
done
echo
echo "== First load to first interaction (headless Chromium, cold cache, median of 7 loads)"
(cd end2end && node bench/first-load.mjs "$base" "${cookie#tm_session=}" "$tenant" "$email" 7)
echo
echo "== Pages and health checks (signed in, wrk -t2 -c32 -d10s --latency)"
printf '%-22s %10s %9s %9s\n' route 'req/s' p50 p99
for named in "editor:$page" "tenants:/admin/tenants" "inbox:$page/inbox" "readyz:/readyz" "healthz:/healthz"; do
  wrk -t2 -c32 -d10s --latency -H "Cookie: $cookie" "$base${named#*:}" \
    | awk -v p="${named%%:*}" '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%-22s %10s %9s %9s\n", p, r, p50, p99}'
done
