"""The business day: close-day, reopen-day, the summary report, and the simulated day of
``demo --simulate-day``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby_app.cli.common import business_today, emit, open_store, parse_day, staff_arg, staff_name
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
    p = sub.add_parser("close-day", parents=[common], help=tr("日终：结算未办结的票，冻结当日数字"))
    p.add_argument("--date", help=tr("营业日(默认今天；YYYY-MM-DD / yesterday / today)"))
    p.add_argument("--reason", default="", help=tr("说明(结算原因；更正时必填)"))
    p.add_argument("--actor", help=tr("操作人工号(大堂经理或网点负责人；或环境变量 LOBBY_STAFF)"))
    p.add_argument(
        "--waiting",
        choices=("left", "not_served", "done"),
        default="left",
        help=tr(
            "仍在柜台区等候的客户按何结算：left 离开未办理(默认) / not_served 未能办理 / done 已办理"
        ),
    )
    p.add_argument(
        "--self-service",
        choices=("done", "left"),
        default="done",
        help=tr("自助区未叫号的客户：done 已在自助设备办理(默认) / left 离开"),
    )
    p.add_argument(
        "--force",
        action="store_true",
        help=tr("还有窗口在办理也日终(办理中按已办理、已叫未到按过号)"),
    )
    p.add_argument(
        "--correct",
        action="store_true",
        help=tr("对已日终的一天按现有数据记录更正版本(需 --reason)"),
    )
    p.set_defaults(handler=cmd_close_day)

    p = sub.add_parser("reopen-day", parents=[common], help=tr("撤销误操作的日终(网点负责人)"))
    p.add_argument("--date", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", help=tr("网点负责人工号(或环境变量 LOBBY_STAFF)"))
    p.set_defaults(handler=cmd_reopen_day)

    p = sub.add_parser("report", parents=[common], help=tr("营业日终汇总表(或一段时间的汇总)"))
    p.add_argument("--date", required=True, help=tr("营业日，或期间的第一天"))
    p.add_argument("--to", help=tr("期间的最后一天(周报、月报)"))
    p.add_argument("--pdf", type=Path, help=tr("汇总表 PDF 保存到此文件"))
    p.add_argument("--print", action="store_true", dest="send_to_printer", help=tr("送网点打印机"))
    p.add_argument("--actor", help=tr("制表人工号(默认：日终操作人)"))
    p.set_defaults(handler=cmd_report)


def cmd_simulate(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    from lobby_app.store.simulate import simulate_day

    # no --date: the latest past day without tickets (never today's live queue)
    day = parse_day(args.date, business_today(store)) if args.date else None
    result = simulate_day(store, day, visits=args.visits, seed=args.seed)
    return {**result.as_json(), "picked": day is None}


def cmd_close_day(args: argparse.Namespace) -> int:
    from lobby_app.store import dayclose

    store = open_store(args)
    day = parse_day(args.date, business_today(store))
    actor = staff_arg(args)
    if args.correct:
        rec = dayclose.correct_day(store, day, actor=actor, reason=args.reason)
        emit(args, rec.as_json(), tr(f"{day} 已记录更正(第 {rec.version} 版)：{rec.reason}"))
        return 0
    rec = dayclose.close_day(
        store,
        day,
        actor=actor,
        reason=args.reason,
        waiting=args.waiting,
        self_service=args.self_service,
        force=args.force,
    )
    labels = dayclose.OUTCOME_LABELS
    settled = "，".join(f"{labels.get(k, k)} {len(v)} 张" for k, v in rec.settled.items())
    emit(
        args,
        rec.as_json(),
        tr(f"{day} 已日终（{rec.actor_name}）。")
        + (tr(f"结算未办结的票：{settled}。") if settled else tr("没有未办结的票。"))
        + tr(f"\n打印汇总表：lobby-app report --date {day} --print"),
    )
    return 0


def cmd_reopen_day(args: argparse.Namespace) -> int:
    from lobby_app.store import dayclose

    store = open_store(args)
    day = parse_day(args.date, business_today(store))
    rec = dayclose.reopen_day(store, day, actor=staff_arg(args), reason=args.reason)
    emit(args, rec.as_json(), tr(f"{day} 的日终已撤销（第 {rec.version} 版记录）：{rec.reason}"))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lobby_app.lobby import deliver_summary
    from lobby_app.store import commands, dayclose

    store = open_store(args)
    today = business_today(store)
    start = parse_day(args.date, today)
    end = parse_day(args.to, today, "to") if args.to else start
    figures = dayclose.summary(store, start, end)
    close = figures.get("close") or {}
    if staff_arg(args):  # the person named as 制表 must be one of the branch's staff
        from lobby_app.core.staffing import ROLE_LABELS
        from lobby_app.store.admin import require_person

        require_person(store, staff_arg(args), tuple(ROLE_LABELS), doing=tr("制表"))
    prepared = staff_name(store, staff_arg(args)) or close.get("actor_name", "")
    doc = dict(figures)
    lines = [
        tr(
            f"{figures['branch_name']} {start}{'' if end == start else f' 至 {end}'}："
            f"取号 {figures['issued']}，办理 {figures['served']}，过号 {figures['no_show']}，"
            f"平均等候 {figures['wait_avg_min'] if figures['wait_avg_min'] is not None else '—'} 分钟，"
            f"90% 等候 {figures['wait_p90_min'] if figures['wait_p90_min'] is not None else '—'} 分钟，"
            f"超过 {figures['wait_target_min']} 分钟 {figures['over_target']} 人，"
            f"转介 {figures['referrals']['made']} 笔"
        )
    ]
    if args.pdf or args.send_to_printer:
        outcome = deliver_summary(
            figures,
            commands.settings(store),
            store.data_dir,
            pdf_path=args.pdf,
            send_to_printer=args.send_to_printer,
            prepared_by=prepared,
        )
        doc["print"] = outcome.as_json()
        lines.append(outcome.message)
        if not outcome.ok:
            emit(args, doc, "\n".join(lines))
            return 1
    emit(args, doc, "\n".join(lines))
    return 0
