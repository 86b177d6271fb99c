"""The ``lobby-app`` command: the desk window, and commands for scripts (``--json``).

One module per area registers its commands with ``add_parsers(sub, common)`` and holds
their handlers:

- ``common``: the flags every command takes, and the helpers the modules share;
- ``desk``: the PC's station, the desk window, the demo branch, tickets, the queue, the
  customer directory, business types, referrals and marketing rules;
- ``day``: day close, reopening, the summary report, the simulated day;
- ``sync``: head-office sync and its database;
- ``backup``: backups of the branch store and restoring one;
- ``setup``: branch settings and staff passwords;
- ``stations``: the headless hub, the station windows, the station key;
- ``teller``: the teller's window commands, locally or through the hub.

Handlers import what they need when they run: importing this package loads neither
SQLAlchemy nor PySide6, so ``lobby-app --help`` and the script commands start quickly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from lobby_app import __version__
from lobby_app.cli import backup, day, desk, setup, stations, sync, teller
from lobby_app.cli.common import (
    Handler,
    check_arguments,
    common_parser,
    parse_day,
    printable,
)
from lobby_app.cli.day import cmd_close_day, cmd_reopen_day, cmd_report, cmd_simulate
from lobby_app.cli.desk import (
    cmd_business_types,
    cmd_demo,
    cmd_desk,
    cmd_import,
    cmd_lookup,
    cmd_marketing_rules,
    cmd_queue,
    cmd_refer,
    cmd_referral_outcome,
    cmd_referrals,
    cmd_reprint,
    cmd_setup,
    cmd_start,
    cmd_ticket,
)
from lobby_app.cli.setup import cmd_settings, cmd_staff_pin
from lobby_app.cli.stations import cmd_hub, cmd_station, cmd_station_key
from lobby_app.cli.sync import cmd_ho_migrate, cmd_sync, cmd_sync_status
from lobby_app.cli.teller import HUB_COMMANDS, cmd_teller
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers

__all__ = [
    "HUB_COMMANDS",
    "Handler",
    "build_parser",
    "cmd_business_types",
    "cmd_close_day",
    "cmd_demo",
    "cmd_desk",
    "cmd_ho_migrate",
    "cmd_import",
    "cmd_lookup",
    "cmd_marketing_rules",
    "cmd_queue",
    "cmd_refer",
    "cmd_referral_outcome",
    "cmd_referrals",
    "cmd_reopen_day",
    "cmd_report",
    "cmd_reprint",
    "cmd_settings",
    "cmd_setup",
    "cmd_simulate",
    "cmd_staff_pin",
    "cmd_start",
    "cmd_station",
    "cmd_station_key",
    "cmd_sync",
    "cmd_sync_status",
    "cmd_teller",
    "cmd_ticket",
    "main",
    "parse_day",
]

# The modules that register commands, each with ``add_parsers(sub, common)``.
MODULES = (desk, day, sync, backup, setup, stations, teller)

# The order of the commands in ``lobby-app --help`` (the areas interleave there). A command
# not listed comes after these, in the order its module registered it.
HELP_ORDER = (
    *("run", "setup", "desk", "demo"),
    *("close-day", "reopen-day"),
    *("sync", "sync-status", "ho-migrate", "backup", "restore"),
    "report",
    *("branch", "counter", "staff"),
    *("import-customers", "lookup", "register", "business-types", "settings"),
    *("ticket", "reprint", "queue"),
    *("hub", "teller", "manager", "display", "station-key"),
    "staff-pin",
    *("refer", "referrals", "referral", "referral-outcome", "marketing-rules"),
    *("call", "recall", "start", "finish", "no-show", "transfer", "call-back", "window", "rate"),
)


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="lobby-app",
        parents=[common],
        description=tr("网点厅堂管理：迎宾识别、取号分区、绿色通道、需求记录"),
    )
    parser.add_argument("--version", action="version", version=f"lobby-app {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in MODULES:
        module.add_parsers(sub, common)
    _in_help_order(sub)
    return parser


def _in_help_order(sub: Subparsers) -> None:
    """Sort the registered commands by ``HELP_ORDER``, for the help listing and for the
    choices named in an "invalid choice" error (argparse keeps both in registration order)."""
    rank = {name: i for i, name in enumerate(HELP_ORDER)}

    def key(name: str) -> int:
        return rank.get(name, len(rank))

    sub._choices_actions.sort(key=lambda action: key(action.dest))
    parsers = sorted(sub._name_parser_map.items(), key=lambda item: key(item[0]))
    sub._name_parser_map.clear()
    sub._name_parser_map.update(parsers)


def main(argv: Sequence[str] | None = None) -> int:
    from lobby_app.logs import install_crash_handler, setup_logging

    setup_logging()  # the log file; messages reach the person as text, not as log lines
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = getattr(args, "handler", cmd_start)
    if handler in (cmd_start, cmd_setup, cmd_desk, cmd_station):
        from lobby_app.ui.app import show_crash

        install_crash_handler(show_crash)
        return _leave_without_teardown(_run(handler, args))
    elif handler is cmd_hub:
        install_crash_handler()
    return _run(handler, args)


def _run(handler: Handler, args: argparse.Namespace) -> int:
    import logging

    logging.getLogger("lobby_app").info(
        "lobby-app %s: %s", __version__, getattr(args, "command", None) or "run"
    )
    try:
        check_arguments(args)  # text not UTF-8: refused before it reaches the store
        return handler(args)
    except LobbyError as exc:
        if getattr(args, "json", False):
            print(printable(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2)))
        print(printable(tr(f"错误：{exc.message}")), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: not our error
        sys.stderr.close()
        return 0


def _leave_without_teardown(code: int) -> NoReturn:
    """A window command ends here once its windows are closed and its store is closed:
    logs flushed, the process exits without the interpreter's shutdown, where PySide6 6.12
    can abort while collecting Qt wrappers (seen in the test suite), which would turn a
    normal close into a crash report."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
