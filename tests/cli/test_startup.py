"""Starting the command line stays light: building the parser (``lobby-app --help`` and every
command before it runs) must not import the database, Qt or the PDF layer. A module-level
import of a heavy layer from a command module costs every command a second at start-up."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "PySide6", "reportlab", "websockets", "lobby_app.store.db")


def test_building_the_parser_imports_no_heavy_layer() -> None:
    code = (
        "import sys\n"
        "from lobby_app.cli import build_parser\n"
        "build_parser()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"
