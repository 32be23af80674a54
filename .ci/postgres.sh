# Sourced by .ci/test.sh: starts a throw-away PostgreSQL on a free loopback
# port in a temp dir, exports its URL, and stops it (and removes the dir) on exit.
# initdb/postgres refuse to run as root, so they run as the postgres user.
# Tests run with fsync off (speed); benchmarks set PG_FSYNC=on to measure a
# durable database, as production runs one.
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && echo "$d"; done | sort -V | tail -n 1
}

start_postgres() {
  PG_BIN="$(pg_bin)"
  if [ -z "$PG_BIN" ]; then echo "PostgreSQL server binaries not found" >&2; return 1; fi
  PG_DIR="$(mktemp -d /tmp/tenant-mail-pg.XXXXXX)"
  PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  local run=()
  if [ "$(id -u)" = "0" ]; then
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U tenant_mail >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/server.log" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off}" start >/dev/null \
    || { cat "$PG_DIR/server.log"; return 1; }
  export TENANT_MAIL_TEST_POSTGRES_URL="postgres://tenant_mail@127.0.0.1:$PG_PORT/postgres"
  export TENANT_MAIL_TEST_PG_DUMP="$PG_BIN/pg_dump"
  export TENANT_MAIL_REQUIRE_POSTGRES=1
  # The chaos test restarts the server as a crash would (immediate shutdown).
  export TENANT_MAIL_TEST_PG_RESTART="${run[*]} $PG_BIN/pg_ctl -D $PG_DIR/data -w -m immediate -l $PG_DIR/server.log restart"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  local run=()
  [ "$(id -u)" = "0" ] && run=(runuser -u postgres --)
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
