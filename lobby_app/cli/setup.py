"""Branch set-up: branch settings and staff passwords."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from lobby_app.cli.common import emit, open_store
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
    p = sub.add_parser("settings", parents=[common], help=tr("查看或修改网点设置"))
    p.add_argument(
        "changes",
        nargs="*",
        metavar="KEY=VALUE",
        help=tr("例如 branch_name=城东支行 print_kind=printer printer=PDF"),
    )
    p.set_defaults(handler=cmd_settings)

    p = sub.add_parser("staff-pin", parents=[common], help=tr("设置员工登录密码"))
    p.add_argument("staff")
    p.add_argument("--pin", help=tr("4到8位数字；不给则从标准输入读取"))
    p.set_defaults(handler=cmd_staff_pin)


def cmd_settings(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from lobby_app.store import commands

    store = open_store(args)
    changes: dict[str, str] = {}
    for item in args.changes:
        key, sep, value = item.partition("=")
        if not sep:
            raise LobbyError("bad_setting", tr(f"“{item}”应写成 KEY=VALUE"), field=item)
        changes[key.strip()] = value.strip()
    st = (
        commands.change_settings(store, changes, actor="cli")
        if changes
        else commands.settings(store)
    )
    doc = asdict(st)
    emit(args, doc, "\n".join(f"{k} = {v}" for k, v in doc.items()))
    return 0


def cmd_staff_pin(args: argparse.Namespace) -> int:
    import getpass

    from lobby_app.store.staff import set_pin

    pin = args.pin
    if pin is None:
        pin = (
            getpass.getpass(tr("新密码：")) if sys.stdin.isatty() else sys.stdin.readline().strip()
        )
    set_pin(open_store(args), args.staff, pin, actor="cli")
    emit(args, {"staff": args.staff, "pin_set": True}, tr(f"工号 {args.staff} 的密码已设置"))
    return 0
