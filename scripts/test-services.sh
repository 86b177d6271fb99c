#!/usr/bin/env bash
# Start the services the tests use: CUPS with a PDF printer queue named LobbyTestPDF
# (cups-pdf writes each job as a PDF into ~/PDF). Safe to run again.
set -euo pipefail
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! pgrep -x cupsd >/dev/null 2>&1; then
  $SUDO /usr/sbin/cupsd
fi
for _ in $(seq 1 50); do
  lpstat -r 2>/dev/null | grep -q "is running" && break
  sleep 0.2
done
if ! lpstat -p LobbyTestPDF >/dev/null 2>&1; then
  $SUDO lpadmin -p LobbyTestPDF -E -v cups-pdf:/ -P /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd 2>/dev/null
fi
lpstat -p LobbyTestPDF >/dev/null

# A throw-away PostgreSQL cluster for the sync tests, on 127.0.0.1:55432, trust auth.
# PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` user.
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
PG_DIR="${LOBBY_TEST_PG_DIR:-/tmp/lobby-test-pg}"
PG_PORT="${LOBBY_TEST_PG_PORT:-55432}"
if [ -n "$PG_BIN" ]; then
  as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    as_pg=(runuser -u postgres --)
  fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1
  fi
  if ! "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
else
  echo "PostgreSQL is not installed: the sync tests against PostgreSQL cannot run." >&2
  exit 1
fi
