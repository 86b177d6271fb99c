"""What the command modules share: the common flags, the store, output, dates, staff, hub.

Nothing heavy is imported here at module level: SQLAlchemy, PySide6 and the store load
inside the functions that need them, so ``lobby-app --help`` stays quick.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date as date_cls
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from typing import TypeAlias

    Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

Handler = Callable[[argparse.Namespace], int]


def common_parser() -> argparse.ArgumentParser:
    """The flags every command takes (``--data-dir``, ``--json``, ``--config``)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help=tr("网点数据目录(默认：用户数据目录)"),
    )
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help=tr("输出一个 JSON 文档，供脚本使用"),
    )
    p.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help=tr("本机配置文件(默认：系统配置目录下的 lobby-app.toml)"),
    )
    return p


def station_flags(p: argparse.ArgumentParser) -> None:
    """The flags of a command that may run through the hub as a station."""
    p.add_argument("--request-id", help=tr("请求编号：同一编号重试不会重复执行"))
    p.add_argument("--hub", help=tr("经网点主机执行，如 ws://192.168.1.10:8765"))
    p.add_argument("--key", help=tr("站点密钥(或环境变量 LOBBY_STATION_KEY)"))
    p.add_argument("--staff", help=tr("工号(或环境变量 LOBBY_STAFF)"))
    p.add_argument("--pin", help=tr("密码(或环境变量 LOBBY_PIN)"))
    p.add_argument("--actor", help=tr("不经主机时的操作人工号(或环境变量 LOBBY_STAFF)"))


def check_arguments(args: argparse.Namespace) -> None:
    """Text given on the command line, as the store and the screen can hold it: bytes that
    are not UTF-8 (a GBK terminal, a script's raw bytes) arrive as lone surrogates, which
    SQLite and the output cannot encode (a traceback in ``lookup``). File paths are left
    alone: such a name is a real file on Linux."""
    for name, value in vars(args).items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and any("\ud800" <= ch <= "\udfff" for ch in v):
                flag = "--" + name.replace("_", "-")
                raise LobbyError(
                    "bad_argument",
                    tr(f"参数 {flag} 含有无效的字符(不是 UTF-8 编码)，请检查终端或脚本的编码"),
                    field=name,
                )


def open_store(args: argparse.Namespace) -> Any:
    from lobby_app.store import Store

    return Store.open(getattr(args, "data_dir", None))


def emit(args: argparse.Namespace, doc: object, text: str) -> None:
    if getattr(args, "json", False):
        print(printable(json.dumps(doc, ensure_ascii=False, indent=2, default=str)))
    else:
        print(printable(text))


def printable(text: str) -> str:
    """``text`` with any lone surrogate (a file name that is not UTF-8) written as ``\\udcff``:
    UTF-8 output cannot hold one, and printing it was a traceback after the work was done."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def config_path(args: argparse.Namespace) -> Path:
    from lobby_app.config import default_path

    return getattr(args, "config", None) or default_path()


def parse_day(value: str | None, today: date_cls, field: str = "date") -> date_cls:
    """YYYY-MM-DD, or today / yesterday (今天 / 昨天)."""
    if value is None or value.strip().lower() in ("today", "今天"):
        return today
    v = value.strip().lower()
    if v in ("yesterday", "昨天"):
        return today - timedelta(days=1)
    try:
        day = date_cls.fromisoformat(v)
    except ValueError:
        raise LobbyError(
            "bad_date",
            tr(f"日期“{value}”格式不对，请写成 2026-11-20，或 today / yesterday"),
            field=field,
        ) from None
    from lobby_app.core.limits import check_day

    return check_day(day, field=field)  # 0001-01-01 / 9999-12-31 overflowed in report


def business_today(store: Any) -> date_cls:
    from lobby_app.models.base import utcnow
    from lobby_app.store import commands

    return commands.settings(store).business_date(utcnow())


def staff_arg(args: argparse.Namespace) -> str:
    import os

    return (getattr(args, "actor", None) or os.environ.get("LOBBY_STAFF", "")).strip()


def acting_person(args: argparse.Namespace, store: Any, roles: Any, doing: str) -> str:
    """The staff number a command acts for (``--actor`` or ``LOBBY_STAFF``): an existing,
    active, unlocked person with one of ``roles``; refused otherwise, in words. Plain SQL
    (``closed.check_staff``, the rule ``admin.check_person`` keeps): a quick command such as
    ``lobby-app ticket`` checks its person without loading SQLAlchemy."""
    from lobby_app.store.closed import check_staff

    with store.read_sql() as con:
        staff_no, _name, _role = check_staff(con, staff_arg(args), roles, doing=doing)
    return staff_no


def staff_name(store: Any, staff_no: str) -> str:
    from lobby_app.store.closed import staff_label

    if not staff_no:
        return ""
    with store.read_sql() as con:
        return staff_label(con, staff_no)


def hub_request(
    args: argparse.Namespace,
    station: str,
    window: int | None,
    command: str,
    extra: dict[str, Any],
) -> Any:
    """One request to the hub as a station, with the credentials from flags or environment."""
    import asyncio
    import os

    from lobby_app.hub.client import HubClient

    client = HubClient(
        args.hub,
        station=station,
        window=window,
        key=args.key or os.environ.get("LOBBY_STATION_KEY", ""),
        staff=args.staff or os.environ.get("LOBBY_STAFF", ""),
        pin=args.pin or os.environ.get("LOBBY_PIN", ""),
    )

    async def go() -> Any:
        await client.connect_once()
        args.hub_welcome = client.welcome
        receiving = asyncio.create_task(client._receive())
        try:  # a script's --request-id goes with it: a retry acts once (issue 16 item 7)
            return await client.request(
                command, request_id=getattr(args, "request_id", None) or None, **extra
            )
        finally:
            await client.close()
            receiving.cancel()

    return asyncio.run(go())
