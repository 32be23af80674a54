#!/usr/bin/env bash
# `make demo`: Tenant Mail together with the Microsoft stand-in, seeded with a
# tenant, an app registration and accounts (two already "signed in" to the
# browser), so you can configure and authenticate without an Azure account.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
install_build_tools
.ci/build.sh
cargo build --release --locked -p ms-stand-in
port=47990
mkdir -p data
target/release/ms-stand-in --port "$port" --seed-demo &
stand_in=$!
trap 'kill $stand_in 2>/dev/null' EXIT
sleep 1
cat <<INFO

Demo: the first time, create an admin: open http://localhost:3000/setup and enter the
  one-time setup token Tenant Mail prints below ("setup_token=…"), or run
  target/release/tenant-mail admin create --username <name>  (password on stdin).
  Then sign in at http://localhost:3000/sign-in →
  New tenant → Add → Email address: noreply@contoso.com
  OAuth2 Configuration: Application ID and Secret key as printed above,
  Authentication Authority URL: http://127.0.0.1:$port/3f8c2b1e-5d4a-4c6b-9e7f-1a2b3c4d5e6f
  Save → Click to Authenticate. The picker shows the accounts this "browser" is already signed in to
  (admin@, megan@): choosing one of them shows the wrong-account guard. Choose "Use another account"
  (prefilled with noreply@contoso.com), any password, Accept → Connected.
INFO
TENANT_MAIL_DATABASE_URL="sqlite://data/demo.db?mode=rwc" \
TENANT_MAIL_KEY_FILE=data/demo.key \
TENANT_MAIL_EXTRA_AUTHORITY_HOST="127.0.0.1:$port" \
TENANT_MAIL_GRAPH_BASE_URL="http://127.0.0.1:$port/v1.0" \
LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD \
  target/release/tenant-mail
