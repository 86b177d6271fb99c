#!/usr/bin/env bash
# Set up everything (system packages, virtual environment) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/test-services.sh
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check lobby_app tests bench
.venv/bin/ruff format --check --quiet lobby_app tests bench
.venv/bin/mypy lobby_app
.venv/bin/python -m pytest "$@"
