"""The README's command table and the program agree (issue 18 item 17): every command the
parser knows is in the table, nothing else is, and the one the README calls the default is
the one ``lobby-app`` runs with no command."""

from __future__ import annotations

import re
from pathlib import Path

from lobby_app.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def table_commands() -> dict[str, str]:
    """Each command named at the head of a table row (`recall`, `start`, … share one), with
    the rest of its row."""
    rows: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        head = re.match(r"\| ((?:`[^`]*`(?:, )?)+)(.*)", line)
        if not head:
            continue
        for name in re.findall(r"`([a-z][a-z-]*)[^`]*`", head.group(1)):
            rows.setdefault(name, head.group(2))
    return rows


def test_the_table_lists_exactly_the_commands_of_the_program() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    known = set(sub.choices)  # type: ignore[arg-type]
    listed = set(table_commands())
    assert known - listed == set(), f"missing from the README: {sorted(known - listed)}"
    assert listed - known == set(), f"the README lists unknown commands: {sorted(listed - known)}"


def test_the_default_named_by_the_readme_is_the_programs() -> None:
    defaults = [
        name for name, rest in table_commands().items() if re.match(r"\s*\(the default", rest)
    ]
    assert defaults == ["run"]
    args = build_parser().parse_args([])
    assert getattr(args, "command", None) is None  # nothing given: main() runs ``run``
    text = build_parser().format_help()
    assert re.search(r"run\s+.*默认", text)
