#!/usr/bin/env bash
# Set up everything, seed the demo branch (idempotent) and open the lobby desk.
# Extra arguments go to `lobby-app`, e.g. `--data-dir DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/lobby-app "$@" demo
echo "Sign in at the desk as the demo lobby manager: staff number L01, PIN 1234." >&2
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "No screen found (DISPLAY is not set): the desk runs on a virtual screen (Xvfb)." >&2
  echo "On a desktop, run this from a terminal inside the desktop session to see the window." >&2
  exec xvfb-run -a -s "-screen 0 1600x900x24" .venv/bin/lobby-app "$@" desk
fi
exec .venv/bin/lobby-app "$@" desk
