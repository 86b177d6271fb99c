"""The stations: the headless hub, the teller / manager / display windows, and the station key."""

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
    p = sub.add_parser("hub", parents=[common], help=tr("运行网点主机(无界面)"))
    p.add_argument("--host", default="0.0.0.0", help=tr("监听地址(默认所有网卡)"))
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(handler=cmd_hub)

    for name, help_text in (
        ("teller", tr("打开柜员叫号窗口")),
        ("manager", tr("打开客户经理转介工作台")),
        ("display", tr("打开叫号显示屏(全屏)")),
    ):
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.add_argument(
            "--hub",
            default="ws://127.0.0.1:8765",
            help=tr("网点主机地址，如 ws://192.168.1.10:8765"),
        )
        p.add_argument("--key", help=tr("站点密钥(或环境变量 LOBBY_STATION_KEY)"))
        if name != "display":
            p.add_argument("--staff", help=tr("工号(或环境变量 LOBBY_STAFF)"))
            p.add_argument("--pin", help=tr("密码(或环境变量 LOBBY_PIN)"))
        if name == "teller":
            p.add_argument("--window", type=int, required=True, help=tr("窗口号"))
        if name == "display":
            p.add_argument("--windowed", action="store_true", help=tr("不全屏(调试用)"))
        p.set_defaults(handler=cmd_station, station=name)

    p = sub.add_parser(
        "station-key", parents=[common], help=tr("生成本网点的站点密钥(只显示这一次)")
    )
    p.add_argument(
        "--rotate",
        action="store_true",
        help=tr("换发新密钥(网点负责人)：旧密钥立即失效，各站点须改用新密钥"),
    )
    p.add_argument("--actor", help=tr("网点负责人工号(或环境变量 LOBBY_STAFF)"))
    p.set_defaults(handler=cmd_station_key)


def cmd_hub(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from lobby_app.hub.server import Hub
    from lobby_app.logs import MaskingFormatter

    # on stderr as in the log file: numbers masked, passwords as *** (issue 16 items 9, 10).
    # Added beside the log file's handler (``basicConfig`` does nothing once the root
    # logger has one, and the CLI has made it by now).
    to_stderr = logging.StreamHandler()
    to_stderr.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(to_stderr)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    store = open_store(args)
    hub = Hub(store, args.host, args.port, nightly_sync=True)

    def ready() -> None:  # after the port is bound: scripts wait for this line
        print(
            tr(f"网点主机运行中：{hub.url}  数据目录 {store.data_dir}"), file=sys.stderr, flush=True
        )
        if hub.key:  # made now: the store keeps only its hash, so this is the one showing
            print(
                tr(f"已生成本网点的站点密钥(只显示这一次，请抄给各站点)：{hub.key}"),
                file=sys.stderr,
                flush=True,
            )
        else:
            print(
                tr("站点密钥已设置(遗失可用 lobby-app station-key --rotate 换发)"),
                file=sys.stderr,
                flush=True,
            )
        print(tr("按 Ctrl+C 停止"), file=sys.stderr, flush=True)

    try:
        # warmed up and its start-up garbage frozen before the first station (issue 17)
        asyncio.run(hub.serve_forever(ready, tune_gc=True))
    except OSError as exc:
        raise LobbyError(
            "hub_port_busy",
            tr(f"无法在端口 {args.port} 监听（{exc.strerror}）。请换一个端口或停止占用它的程序"),
        ) from exc
    return 0


def cmd_station(args: argparse.Namespace) -> int:
    import os

    from lobby_app.ui.app import run_station

    return run_station(
        args.station,
        hub_url=args.hub,
        key=args.key or os.environ.get("LOBBY_STATION_KEY", ""),
        staff=getattr(args, "staff", None) or os.environ.get("LOBBY_STAFF", ""),
        pin=getattr(args, "pin", None) or os.environ.get("LOBBY_PIN", ""),
        window=getattr(args, "window", None),
        full_screen=not getattr(args, "windowed", False),
    )


def cmd_station_key(args: argparse.Namespace) -> int:
    """The branch's station key, shown once: when it is made (a branch without one) or
    replaced (``--rotate``, a branch head). The store keeps only its hash."""
    from lobby_app.cli.common import staff_arg
    from lobby_app.store.staff import rotate_station_key, station_key

    store = open_store(args)
    rotated = bool(args.rotate)
    key = rotate_station_key(store, actor=staff_arg(args)) if rotated else station_key(store)
    emit(args, {"station_key": key, "rotated": rotated}, key)
    print(
        tr("站点密钥只显示这一次，请抄给各站点(本机只保存其校验值)")
        + (tr("；旧密钥已失效，各站点须改用新密钥") if rotated else ""),
        file=sys.stderr,
    )
    return 0
