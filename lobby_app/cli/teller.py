"""The teller's window: call, recall, start, finish, no-show, transfer, call-back, window, rate,
locally or through the hub."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from lobby_app.cli.common import acting_person, emit, hub_request, open_store, station_flags
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
    for name, help_text in (
        ("call", tr("叫下一位(按排队规则)")),
        ("recall", tr("重呼当前客户")),
        ("start", tr("开始办理当前客户")),
        ("finish", tr("完成当前客户")),
        ("no-show", tr("过号(当前客户未到，可稍后再叫)")),
        ("transfer", tr("把当前客户转到其他区域或窗口")),
        ("call-back", tr("再叫一位过号的客户")),
        ("window", tr("开窗或暂停窗口服务")),
        ("rate", tr("记录评价器的服务评价(1-5分)")),
    ):
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.add_argument("--window", type=int, required=True, help=tr("窗口号"))
        station_flags(p)
        if name == "transfer":
            p.add_argument("--to-zone", help="self_service|closed_counter|open_counter|vip")
            p.add_argument("--to-window", type=int)
            p.add_argument("--reason", default="")
        if name == "call-back":
            p.add_argument("--ticket", required=True, help=tr("过号的票号，如 A012"))
        if name == "window":
            p.add_argument(
                "state",
                choices=("open", "close", "sign-out"),
                help=tr("open 开窗(操作人在本窗口签到) / close 暂停 / sign-out 签退"),
            )
        if name == "rate":
            p.add_argument("--score", type=int, required=True, help=tr("1 很不满意 … 5 非常满意"))
        p.set_defaults(handler=cmd_teller, teller_command=name)


HUB_COMMANDS = {
    "call": "call_next",
    "recall": "recall",
    "start": "start",
    "finish": "finish",
    "no-show": "no_show",
    "transfer": "transfer",
    "rate": "rate",
}


def _through_hub(args: argparse.Namespace) -> dict[str, Any]:
    command = HUB_COMMANDS.get(args.teller_command)
    if command is None:
        raise LobbyError("not_on_hub", tr(f"{args.teller_command} 暂不支持经网点主机执行"))
    extra: dict[str, Any] = {}
    if command == "transfer":
        extra = {
            k: v
            for k, v in (
                ("to_zone", args.to_zone),
                ("to_window", args.to_window),
                ("reason", args.reason),
            )
            if v
        }
    if command == "rate":
        extra = {"score": args.score}
    result: dict[str, Any] = hub_request(args, "teller", args.window, command, extra)
    return result


def cmd_teller(args: argparse.Namespace) -> int:
    from lobby_app.core.zones import parse_zone
    from lobby_app.store import teller

    if args.hub:
        return _say_teller(args, args.teller_command, _through_hub(args))
    from lobby_app.core.staffing import DESK_ROLES, SELF_SERVICE_ROLES

    store = open_store(args)
    command = args.teller_command
    actor = ""
    if command != "rate":  # the evaluation pad is the customer's, not a person's
        roles = (*SELF_SERVICE_ROLES, *DESK_ROLES) if command == "window" else SELF_SERVICE_ROLES
        actor = acting_person(args, store, roles, tr(f"在 {args.window} 号窗口操作"))
    kw = {"actor": actor, "request_id": args.request_id}
    if command == "window":
        if args.state == "sign-out":
            from lobby_app.store.admin import sign_out_counter

            c = sign_out_counter(store, args.window, actor=actor)
            emit(args, c.as_json(), tr(f"{args.window} 号窗口已签退，不再分配新客户"))
            return 0
        is_open = teller.set_window_open(store, args.window, args.state == "open", actor=actor)
        state = tr("已开窗") if is_open else tr("已暂停服务")
        emit(args, {"window": args.window, "open": is_open}, f"{args.window} 号窗口{state}")
        return 0
    if command == "transfer":
        zone = parse_zone(args.to_zone) if args.to_zone else None
        result = teller.transfer(
            store, args.window, to_zone=zone, to_window=args.to_window, reason=args.reason, **kw
        )
    elif command == "call-back":
        result = teller.call_back(store, args.window, args.ticket, **kw)
    elif command == "rate":
        result = teller.rate(store, args.window, args.score, request_id=args.request_id)
    else:
        fn = {
            "call": teller.call_next,
            "recall": teller.recall,
            "start": teller.start,
            "finish": teller.finish,
            "no-show": teller.no_show,
        }[command]
        result = fn(store, args.window, **kw)
    return _say_teller(args, command, result.as_json())


def _say_teller(args: argparse.Namespace, command: str, doc: dict[str, Any]) -> int:
    number, window, zone = doc["number"], doc["window"], doc["zone"]
    place = doc.get("place") or tr(f"{window} 号窗口")  # as the display announces it
    said = {
        "call": tr(f"请 {number} 号到 {place}"),
        "recall": tr(f"再次请 {number} 号到 {place}"),
        "call-back": tr(f"请 {number} 号到 {place}"),
        "start": tr(f"{number} 开始办理"),
        "finish": tr(f"{number} 办理完成"),
        "no-show": tr(f"{number} 已过号"),
        "transfer": tr(f"{number} 已转到 {zone}"),
        "rate": tr(f"{number} 的服务评价已记录"),
    }[command]
    emit(args, doc, said)
    return 0
