#!/usr/bin/env bash
# Set up everything, seed the demo branch (idempotent) and open the lobby desk.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/lobby-app demo
exec .venv/bin/lobby-app desk "$@"
