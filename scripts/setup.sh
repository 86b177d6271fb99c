#!/usr/bin/env bash
# Set up everything lobby-app needs on a Debian machine: system libraries for Qt,
# a CJK font, PDF tools, a virtual screen; then a virtual environment with the app.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Qt offscreen / xcb
  libegl1 libgl1 libx11-6 libx11-xcb1 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0
  libxkbcommon0 libxkbcommon-x11-0 libcups2 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1
  libxcb-randr0 libxcb-xfixes0 libxcb-sync1 libxcb-xinerama0
  # Chinese font for the screen and the PDFs, PDF read-back, a virtual screen
  fonts-wqy-zenhei poppler-utils poppler-data xvfb xauth libpulse0
  # reads the QR code on rendered tickets back in the tests
  zbar-tools
  # a real print system with a PDF printer, so printing is tested through CUPS itself
  cups cups-client printer-driver-cups-pdf
  # a throw-away PostgreSQL server for the nightly sync tests (scripts/test-services.sh)
  postgresql
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Reinstall only when the project's requirements changed since the last setup.
stamp=".venv/.lobby-app-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if ! .venv/bin/python -m pip install -q -e ".[test]" > .venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2
    echo "Installing the Python packages failed (log above, also in .venv/pip-install.log)." >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
