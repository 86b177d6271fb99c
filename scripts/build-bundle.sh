#!/usr/bin/env bash
# Build the one-folder bundle (dist/lobby-app/) with PyInstaller and smoke-test it: the
# program starts, seeds the demo branch, issues a ticket and renders its PDF, and the desk
# opens offscreen. The bundle needs no Python packages of ours: the smoke test runs it with
# an empty environment (no PYTHONPATH, not from the source tree).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${BUNDLE_OUT:-dist}"
if [ -z "${SMOKE_ONLY:-}" ]; then  # SMOKE_ONLY=1: test a bundle built before
  bash scripts/setup.sh
  .venv/bin/python -m pip install -q "pyinstaller>=6.0"
  .venv/bin/pyinstaller --noconfirm --log-level WARN --distpath "$OUT" \
    --workpath build/pyinstaller build_installer.spec
fi
APP="$(cd "$OUT/lobby-app" && pwd)/lobby-app"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
run() { (cd "$WORK" && env -i HOME="$WORK" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
  LOBBY_LOG_DIR="$WORK/logs" LOBBY_EXIT_AFTER_MS="${EXIT_AFTER_MS:-}" LOBBY_STAFF=L01 "$APP" "$@"); }
echo "== --version";  run --version
echo "== demo";       run --data-dir "$WORK/data" demo --customers 50
echo "== ticket";     run --data-dir "$WORK/data" --json ticket --business cash --customer C000000001 \
  --pdf "$WORK/ticket.pdf" > "$WORK/ticket.json"
grep -q '"number": "V001"' "$WORK/ticket.json"
pdftotext "$WORK/ticket.pdf" - | grep -q "V001"
pdftotext "$WORK/ticket.pdf" - | grep -q "贵宾"
echo "== report";     run --data-dir "$WORK/data" report --date today --pdf "$WORK/summary.pdf"
pdftotext "$WORK/summary.pdf" - | grep -q "营业日终汇总表"
echo "== sync";       run --data-dir "$WORK/data" --json sync > "$WORK/sync.json"
grep -q '"status": "ok"' "$WORK/sync.json"
echo "== desk (offscreen, 6 s: the sign-in dialog, then it closes)"
EXIT_AFTER_MS=6000 run --data-dir "$WORK/data" desk --port 0
grep -q "lobby-app .*: desk" "$WORK/logs/lobby-app.log"
echo "bundle OK: $OUT/lobby-app ($(du -sh "$OUT/lobby-app" | cut -f1))"
