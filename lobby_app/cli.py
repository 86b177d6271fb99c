"""The ``lobby-app`` command: the desk window, and commands for scripts (``--json``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date as date_cls
from datetime import timedelta
from pathlib import Path
from typing import Any

from lobby_app import __version__
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

Handler = Callable[[argparse.Namespace], int]


def _common() -> argparse.ArgumentParser:
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


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="lobby-app",
        parents=[common],
        description=tr("网点厅堂管理：迎宾识别、取号分区、绿色通道、需求记录"),
    )
    parser.add_argument("--version", action="version", version=f"lobby-app {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help=tr("按本机配置启动(默认；首次运行先设置)"))
    p.set_defaults(handler=cmd_start)

    p = sub.add_parser("setup", parents=[common], help=tr("修改本机设置(角色、主机、打印机、同步)"))
    p.set_defaults(handler=cmd_setup)

    p = sub.add_parser("desk", parents=[common], help=tr("打开大堂经理工作台"))
    p.add_argument("--host", default="0.0.0.0", help=tr("内置网点主机的监听地址"))
    p.add_argument("--port", type=int, default=8765, help=tr("内置网点主机的端口"))
    p.add_argument("--no-hub", action="store_true", help=tr("不启动内置网点主机"))
    p.add_argument(
        "--hub",
        help=tr("作为第二个迎宾台连接到别处的网点主机，如 ws://192.168.1.10:8765"),
    )
    p.add_argument("--key", help=tr("站点密钥(或环境变量 LOBBY_STATION_KEY)"))
    p.add_argument("--staff", help=tr("工号(或环境变量 LOBBY_STAFF)"))
    p.add_argument("--pin", help=tr("密码(或环境变量 LOBBY_PIN)"))
    p.set_defaults(handler=cmd_desk)

    p = sub.add_parser("demo", parents=[common], help=tr("建立示范网点(可重复运行)"))
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument(
        "--simulate-day",
        action="store_true",
        help=tr("再模拟一个完整营业日(取号、叫号、转介、评价)，用于日终和汇总表演示"),
    )
    p.add_argument("--date", help=tr("模拟哪一天(默认昨天；YYYY-MM-DD / yesterday / today)"))
    p.add_argument("--visits", type=int, default=260, help=tr("模拟的到店人数"))
    p.add_argument("--seed", type=int, default=1, help=tr("随机种子(相同种子得到相同的一天)"))
    p.set_defaults(handler=cmd_demo)

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

    p = sub.add_parser(
        "sync", parents=[common], help=tr("与总行同步一次(上传当日数据，下载客户名录等)")
    )
    p.add_argument(
        "--to",
        help=tr("总行数据库地址(默认：网点设置 sync_url；未设置时为本机演示库 headoffice.sqlite3)"),
    )
    p.add_argument("--direction", choices=("up", "down", "both"), default="both")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("sync-status", parents=[common], help=tr("同步状态：上次成功、待传数量"))
    p.set_defaults(handler=cmd_sync_status)

    p = sub.add_parser(
        "ho-migrate", parents=[common], help=tr("建立或升级总行数据库结构(总行工程师用)")
    )
    p.add_argument("--to", required=True, help=tr("总行数据库地址"))
    p.set_defaults(handler=cmd_ho_migrate)

    p = sub.add_parser("report", parents=[common], help=tr("营业日终汇总表(或一段时间的汇总)"))
    p.add_argument("--date", required=True, help=tr("营业日，或期间的第一天"))
    p.add_argument("--to", help=tr("期间的最后一天(周报、月报)"))
    p.add_argument("--pdf", type=Path, help=tr("汇总表 PDF 保存到此文件"))
    p.add_argument("--print", action="store_true", dest="send_to_printer", help=tr("送网点打印机"))
    p.add_argument("--actor", help=tr("制表人工号(默认：日终操作人)"))
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("import-customers", parents=[common], help=tr("从 CSV 导入客户名录"))
    p.add_argument("file", type=Path)
    p.add_argument("--strict", action="store_true", help=tr("有任何错误行则整个文件不导入"))
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("lookup", parents=[common], help=tr("查询客户(脱敏显示)"))
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler=cmd_lookup)

    p = sub.add_parser("business-types", parents=[common], help=tr("业务类型表"))
    p.add_argument(
        "--load",
        type=Path,
        metavar="CSV",
        help=tr("用 CSV 替换业务类型表(列：code,name,zone,service_minutes[,active])"),
    )
    p.set_defaults(handler=cmd_business_types)

    p = sub.add_parser("settings", parents=[common], help=tr("查看或修改网点设置"))
    p.add_argument(
        "changes",
        nargs="*",
        metavar="KEY=VALUE",
        help=tr("例如 branch_name=城东支行 print_kind=printer printer=PDF"),
    )
    p.set_defaults(handler=cmd_settings)

    p = sub.add_parser("ticket", parents=[common], help=tr("取号"))
    p.add_argument("--business", required=True, help=tr("业务代码，见 business-types"))
    p.add_argument("--customer", help=tr("客户号、证件号、手机号或姓名"))
    p.add_argument("--vip", action="store_true", help=tr("标记贵宾"))
    p.add_argument("--vip-reason", default="")
    p.add_argument("--priority", help="elderly|disabled|ill|pregnant|military|other")
    p.add_argument("--priority-reason", default="")
    p.add_argument("--need", action="append", default=[], help=tr("需求标签，可多次"))
    p.add_argument("--note", default="", help=tr("需求备注"))
    p.add_argument("--greeting", default="", help=tr("迎宾备注"))
    p.add_argument("--zone", help="self_service|closed_counter|open_counter|vip")
    p.add_argument("--zone-reason", default="")
    p.add_argument("--pdf", type=Path, help=tr("把票据 PDF 写到此路径(不送打印机)"))
    p.add_argument("--actor", default="cli")
    p.set_defaults(handler=cmd_ticket)

    p = sub.add_parser("reprint", parents=[common], help=tr("重打当日的票"))
    p.add_argument("number")
    p.add_argument("--pdf", type=Path)
    p.set_defaults(handler=cmd_reprint)

    p = sub.add_parser("queue", parents=[common], help=tr("各区等候队列(按叫号顺序)"))
    p.set_defaults(handler=cmd_queue)

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

    p = sub.add_parser("station-key", parents=[common], help=tr("显示本网点的站点密钥"))
    p.set_defaults(handler=cmd_station_key)

    p = sub.add_parser("staff-pin", parents=[common], help=tr("设置员工登录密码"))
    p.add_argument("staff")
    p.add_argument("--pin", help=tr("4到8位数字；不给则从标准输入读取"))
    p.set_defaults(handler=cmd_staff_pin)

    p = sub.add_parser("refer", parents=[common], help=tr("把客户转介给客户经理并打印转介单"))
    p.add_argument("--ticket", required=True, help=tr("当日票号，如 V001"))
    p.add_argument("--to", required=True, help=tr("客户经理工号，如 M01"))
    p.add_argument("--need", required=True, help=tr("需求标签，如 wealth"))
    p.add_argument("--note", default="", help=tr("转介说明"))
    p.add_argument("--pdf", type=Path, help=tr("把转介单 PDF 写到此路径(不送打印机)"))
    p.add_argument("--no-print", action="store_true", help=tr("只记录，不打印转介单"))
    p.add_argument("--window", type=int, help=tr("从柜员窗口转介时给出窗口号"))
    _station_flags(p)
    p.set_defaults(handler=cmd_refer)

    p = sub.add_parser("referrals", parents=[common], help=tr("转介清单(默认未结案的)"))
    p.add_argument("--to", help=tr("只看某位客户经理的"))
    p.add_argument("--all", action="store_true", help=tr("包括已结案的"))
    p.set_defaults(handler=cmd_referrals)

    p = sub.add_parser("referral-outcome", parents=[common], help=tr("记录转介结果"))
    p.add_argument("referral", help=tr("转介单号"))
    p.add_argument(
        "--outcome",
        required=True,
        choices=("accept", "contact", *("sold", "declined", "follow_up")),
    )
    p.add_argument("--product", default="")
    p.add_argument("--amount", default="0", help=tr("成交金额(元)"))
    p.add_argument("--follow-up", help=tr("跟进日期 YYYY-MM-DD"))
    p.add_argument("--note", default="")
    p.add_argument("--actor", required=True, help=tr("客户经理工号"))
    p.set_defaults(handler=cmd_referral_outcome)

    p = sub.add_parser("marketing-rules", parents=[common], help=tr("一句话营销话术表"))
    p.add_argument(
        "--load",
        type=Path,
        metavar="CSV",
        help=tr("用 CSV 替换话术表(列：tier,need,sentence[,sort_order][,active])"),
    )
    p.add_argument("--export", action="store_true", help=tr("以 CSV 输出当前话术表"))
    p.set_defaults(handler=cmd_marketing_rules)

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
        _station_flags(p)
        if name == "transfer":
            p.add_argument("--to-zone", help="self_service|closed_counter|open_counter|vip")
            p.add_argument("--to-window", type=int)
            p.add_argument("--reason", default="")
        if name == "call-back":
            p.add_argument("--ticket", required=True, help=tr("过号的票号，如 A012"))
        if name == "window":
            p.add_argument("state", choices=("open", "close"))
        if name == "rate":
            p.add_argument("--score", type=int, required=True, help=tr("1 很不满意 … 5 非常满意"))
        p.set_defaults(handler=cmd_teller, teller_command=name)
    return parser


def _station_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--request-id", help=tr("请求编号：同一编号重试不会重复执行"))
    p.add_argument("--hub", help=tr("经网点主机执行，如 ws://192.168.1.10:8765"))
    p.add_argument("--key", help=tr("站点密钥(或环境变量 LOBBY_STATION_KEY)"))
    p.add_argument("--staff", help=tr("工号(或环境变量 LOBBY_STAFF)"))
    p.add_argument("--pin", help=tr("密码(或环境变量 LOBBY_PIN)"))
    p.add_argument("--actor", default="cli", help=tr("不经主机时记作谁做的(工号)"))


def _store(args: argparse.Namespace) -> Any:
    from lobby_app.store import Store

    return Store.open(getattr(args, "data_dir", None))


def _emit(args: argparse.Namespace, doc: object, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


# ---------------------------------------------------------------- handlers


def _config_path(args: argparse.Namespace) -> Path:
    from lobby_app.config import default_path

    return getattr(args, "config", None) or default_path()


def cmd_setup(args: argparse.Namespace) -> int:
    from lobby_app.config import load
    from lobby_app.ui.app import qt_app
    from lobby_app.ui.setup_dialog import SetupDialog

    qt_app()
    path = _config_path(args)
    try:
        current = load(path)
    except LobbyError as exc:
        print(tr(f"错误：{exc.message}"), file=sys.stderr)
        current = None
    dlg = SetupDialog(path, current, first_run=current is None)
    return 0 if dlg.exec() else 1


def cmd_start(args: argparse.Namespace) -> int:
    """What an installed PC does when its icon is clicked: the first time, the setup dialog;
    then the station it was set up as."""
    from lobby_app.config import load
    from lobby_app.ui.app import qt_app, run_desk, run_station
    from lobby_app.ui.setup_dialog import SetupDialog

    path = _config_path(args)
    try:
        cfg = load(path)
    except LobbyError as exc:
        from PySide6.QtWidgets import QMessageBox

        qt_app()
        QMessageBox.warning(None, tr("配置有误"), exc.message)
        cfg = None
    if cfg is None:
        qt_app()
        dlg = SetupDialog(path, None, first_run=True)
        if not dlg.exec() or dlg.saved is None:
            return 1
        cfg = dlg.saved
    st = cfg.station
    if st.role == "desk":
        data_dir = getattr(args, "data_dir", None) or (Path(st.data_dir) if st.data_dir else None)
        _apply_desk_config(cfg, data_dir)
        return run_desk(data_dir, hub_port=st.port, config_path=path)
    import os

    return run_station(
        st.role,
        hub_url=st.hub,
        key=st.key,
        staff=st.staff or os.environ.get("LOBBY_STAFF", ""),
        pin=os.environ.get("LOBBY_PIN", ""),
        window=st.window,
        full_screen=st.role == "display",
        data_dir=getattr(args, "data_dir", None),
    )


def _apply_desk_config(cfg: Any, data_dir: Path | None) -> None:
    """The desk PC's configuration becomes the branch's settings in its store."""
    from lobby_app.store import Store, commands

    wanted = {
        "branch_code": cfg.branch.code,
        "branch_name": cfg.branch.name,
        "print_kind": cfg.printer.kind,
        "printer": cfg.printer.name,
        "print_folder": cfg.printer.folder,
        "sync_url": cfg.sync.url,
        "sync_time": cfg.sync.time,
    }
    store = Store.open(data_dir)
    try:
        current = {k: str(v) for k, v in commands.settings(store).__dict__.items()}
        changes = {
            k: v
            for k, v in wanted.items()
            if (v or k in ("printer", "print_folder", "sync_url")) and current.get(k) != v
        }
        if changes:
            commands.change_settings(store, changes, actor="setup")
    finally:
        store.close()


def cmd_desk(args: argparse.Namespace) -> int:
    import os

    from lobby_app.ui.app import run_desk, run_station

    if getattr(args, "hub", None):
        return run_station(
            "desk",
            hub_url=args.hub,
            key=args.key or os.environ.get("LOBBY_STATION_KEY", ""),
            staff=args.staff or os.environ.get("LOBBY_STAFF", ""),
            pin=args.pin or os.environ.get("LOBBY_PIN", ""),
            data_dir=getattr(args, "data_dir", None),
        )
    return run_desk(
        getattr(args, "data_dir", None),
        hub_host=getattr(args, "host", "0.0.0.0"),
        hub_port=getattr(args, "port", 8765),
        embed_hub=not getattr(args, "no_hub", False),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from lobby_app.store.demo import seed_demo

    store = _store(args)
    report = seed_demo(store, customers=args.customers)
    doc: dict[str, Any] = report.as_json()
    text = tr(
        f"示范网点已就绪：客户 {report.customers_total} 位(本次新增 {report.customers_created})，"
        f"员工新增 {report.staff}，窗口新增 {report.counters}。数据目录：{store.data_dir}"
    )
    if args.simulate_day:
        sim = cmd_simulate(args, store)
        doc["simulated_day"] = sim
        day = sim["business_date"]
        text += tr(
            f"\n已模拟 {day} 营业日：取号 {sim['issued']}，办理 {sim['served']}，过号 {sim['no_show']}，"
            f"转介 {sim['referrals']}(成交 {sim['sold']})，评价 {sim['ratings']}，"
            f"收门时仍在等候 {sim['left_waiting']}。"
            f"\n下一步：lobby-app close-day --date {day} --actor L01"
            f"\n　　　　lobby-app report --date {day} --pdf summary.pdf"
        )
    _emit(args, doc, text)
    return 0


def parse_day(value: str | None, today: date_cls, field: str = "date") -> date_cls:
    """YYYY-MM-DD, or today / yesterday (今天 / 昨天)."""
    if value is None or value.strip().lower() in ("today", "今天"):
        return today
    v = value.strip().lower()
    if v in ("yesterday", "昨天"):
        return today - timedelta(days=1)
    try:
        return date_cls.fromisoformat(v)
    except ValueError:
        raise LobbyError(
            "bad_date",
            tr(f"日期“{value}”格式不对，请写成 2026-11-20，或 today / yesterday"),
            field=field,
        ) from None


def _today(store: Any) -> date_cls:
    from lobby_app.models.base import utcnow
    from lobby_app.store import commands

    return commands.settings(store).business_date(utcnow())


def _staff_arg(args: argparse.Namespace) -> str:
    import os

    return (getattr(args, "actor", None) or os.environ.get("LOBBY_STAFF", "")).strip()


def cmd_simulate(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    from lobby_app.store.simulate import simulate_day

    day = parse_day(args.date or "yesterday", _today(store))
    result = simulate_day(store, day, visits=args.visits, seed=args.seed)
    return result.as_json()


def cmd_close_day(args: argparse.Namespace) -> int:
    from lobby_app.store import dayclose

    store = _store(args)
    day = parse_day(args.date, _today(store))
    actor = _staff_arg(args)
    if args.correct:
        rec = dayclose.correct_day(store, day, actor=actor, reason=args.reason)
        _emit(args, rec.as_json(), tr(f"{day} 已记录更正(第 {rec.version} 版)：{rec.reason}"))
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
    _emit(
        args,
        rec.as_json(),
        tr(f"{day} 已日终（{rec.actor_name}）。")
        + (tr(f"结算未办结的票：{settled}。") if settled else tr("没有未办结的票。"))
        + tr(f"\n打印汇总表：lobby-app report --date {day} --print"),
    )
    return 0


def cmd_reopen_day(args: argparse.Namespace) -> int:
    from lobby_app.store import dayclose

    store = _store(args)
    day = parse_day(args.date, _today(store))
    rec = dayclose.reopen_day(store, day, actor=_staff_arg(args), reason=args.reason)
    _emit(args, rec.as_json(), tr(f"{day} 的日终已撤销（第 {rec.version} 版记录）：{rec.reason}"))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lobby_app.lobby import deliver_summary
    from lobby_app.store import commands, dayclose

    store = _store(args)
    today = _today(store)
    start = parse_day(args.date, today)
    end = parse_day(args.to, today, "to") if args.to else start
    figures = dayclose.summary(store, start, end)
    close = figures.get("close") or {}
    prepared = _staff_name(store, _staff_arg(args)) or close.get("actor_name", "")
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
            _emit(args, doc, "\n".join(lines))
            return 1
    _emit(args, doc, "\n".join(lines))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from lobby_app.sync.engine import run_sync

    result = run_sync(_store(args), args.to, direction=args.direction)
    doc = result.as_json()
    lines = [result.message]
    if result.uploaded:
        lines.append(tr("上传：") + "，".join(f"{k} {v}" for k, v in result.uploaded.items()))
    if result.downloaded:
        lines.append(tr("下载：") + "，".join(f"{k} {v}" for k, v in result.downloaded.items()))
    lines += result.warnings
    if result.status == "failed":
        if getattr(args, "json", False):
            print(json.dumps(doc, ensure_ascii=False, indent=2))
        print(tr(f"错误：{result.message}"), file=sys.stderr)
        return 2
    _emit(args, doc, "\n".join(lines))
    return 0


def cmd_sync_status(args: argparse.Namespace) -> int:
    from datetime import datetime

    from lobby_app.store import commands
    from lobby_app.sync.engine import sync_status

    store = _store(args)
    st = sync_status(store)
    tz = commands.settings(store).tz
    last = (
        datetime.fromisoformat(st.last_success_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if st.last_success_at
        else tr("从未")
    )
    text = tr(f"上次成功同步：{last}；待上传 {st.pending} 项；总行：{st.target}")
    if st.missed:
        text += tr("\n注意：错过了计划的夜间同步，请运行 lobby-app sync")
    if st.last_error:
        text += tr(f"\n上次出错：{st.last_error}")
    _emit(args, st.as_json(), text)
    return 0


def cmd_ho_migrate(args: argparse.Namespace) -> int:
    from lobby_app.headoffice.migrate import current, upgrade
    from lobby_app.sync.engine import connect, explain, shown_url

    engine = connect(args.to)
    try:
        before = current(engine)
        after = upgrade(engine)
    except Exception as exc:  # a database failure: say it plainly
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise explain(exc, shown_url(args.to)) from exc
        raise
    finally:
        engine.dispose()
    _emit(
        args,
        {"before": before, "after": after},
        tr(f"总行库结构：{before or '空库'} → {after}（{shown_url(args.to)}）"),
    )
    return 0


def _staff_name(store: Any, staff_no: str) -> str:
    from lobby_app.store.closed import staff_label

    if not staff_no:
        return ""
    with store.read() as s:
        return staff_label(s, staff_no)


def cmd_import(args: argparse.Namespace) -> int:
    from lobby_app.core.customer_csv import decode_csv_bytes, parse_customer_csv
    from lobby_app.store.directory import import_records

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise LobbyError(
            "file_unreadable", tr(f"无法读取文件 {args.file}：{exc.strerror or exc}"), field="file"
        ) from exc
    parsed = parse_customer_csv(decode_csv_bytes(data))
    store = _store(args)
    report = import_records(store, parsed, strict=args.strict, actor="cli", source=args.file.name)
    lines = [
        tr(
            f"导入 {report.imported} 行(新增 {report.created}，更新 {report.updated})，"
            f"跳过 {report.skipped} 行。"
        )
    ]
    if report.rejected:
        lines = [tr(f"严格模式：文件有 {len(report.errors)} 处错误，整个文件未导入。")]
    lines += [tr(f"第 {e['line']} 行 [{e['field']}]：{e['reason']}") for e in report.errors]
    doc = report.as_json()
    if report.rejected:
        doc = {"error": "import_rejected", **doc}
    _emit(args, doc, "\n".join(lines))
    return 1 if report.rejected else 0


def cmd_lookup(args: argparse.Namespace) -> int:
    from lobby_app.core.identity import mask_free_text
    from lobby_app.store import commands

    store = _store(args)
    found = commands.lookup_customers(store, args.query, limit=args.limit)
    commands.record_audit(
        store, actor="cli", action="lookup", detail=f"{mask_free_text(args.query)} -> {len(found)}"
    )
    text = "\n".join(
        f"{c.customer_no}  {c.name}  {c.masked_id or '-'}  {c.masked_phone or '-'}  "
        f"{c.tier.label}  {c.vip_card.label if c.vip_card else ''}"
        f"{'  潜在客户' if c.prospect else ''}  {c.manager}"
        for c in found
    ) or tr("没有匹配的客户")
    _emit(args, {"customers": [c.as_json() for c in found]}, text)
    return 0


def cmd_business_types(args: argparse.Namespace) -> int:
    from lobby_app.store import commands

    store = _store(args)
    if args.load:
        from lobby_app.core.business import parse_business_table

        try:
            text = args.load.read_bytes()
        except OSError as exc:
            raise LobbyError(
                "file_unreadable", tr(f"无法读取文件 {args.load}：{exc.strerror}"), field="file"
            ) from exc
        from lobby_app.core.customer_csv import decode_csv_bytes

        commands.replace_business_types(
            store, parse_business_table(decode_csv_bytes(text)), actor="cli"
        )
    types = commands.business_types(store)
    doc = {
        "business_types": [
            {
                "code": b.code,
                "name": b.name,
                "category": b.category.value,
                "zone": b.zone.value,
                "service_minutes": b.service_minutes,
            }
            for b in types
        ]
    }
    _emit(args, doc, "\n".join(f"{b.code:<16}{b.name}  [{b.zone.short_label}]" for b in types))
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from lobby_app.store import commands

    store = _store(args)
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
    _emit(args, doc, "\n".join(f"{k} = {v}" for k, v in doc.items()))
    return 0


def cmd_ticket(args: argparse.Namespace) -> int:
    from lobby_app.core.business import parse_priority
    from lobby_app.core.zones import parse_zone
    from lobby_app.lobby import print_ticket
    from lobby_app.store import commands

    priority = parse_priority(args.priority) if args.priority else None
    zone = parse_zone(args.zone) if args.zone else None
    store = _store(args)
    customer_id = None
    if args.customer:
        customer_id = commands.find_one_customer(store, args.customer).id
    issued = commands.issue_ticket(
        store,
        commands.IssueRequest(
            business_code=args.business,
            customer_id=customer_id,
            vip=args.vip,
            vip_reason=args.vip_reason,
            priority=priority,
            priority_reason=args.priority_reason,
            needs=tuple(args.need),
            needs_note=args.note,
            greeting_note=args.greeting,
            zone=zone,
            zone_reason=args.zone_reason,
            actor=args.actor,
        ),
    )
    outcome = print_ticket(store, issued, pdf_path=args.pdf, actor=args.actor)
    doc = {**issued.as_json(), "print": outcome.as_json()}
    flags = "  绿色通道" if issued.green_channel else ""
    _emit(
        args,
        doc,
        tr(
            f"{issued.number}  {issued.zone.label}{flags}\n前面 {issued.ahead} 人，"
            f"预计等候约 {issued.estimated_wait_min} 分钟\n{outcome.message}"
        ),
    )
    return 0


def cmd_reprint(args: argparse.Namespace) -> int:
    from lobby_app.lobby import print_ticket
    from lobby_app.store import commands

    store = _store(args)
    issued = commands.ticket_by_number(store, args.number)
    outcome = print_ticket(store, issued, pdf_path=args.pdf, actor="cli")
    _emit(args, {"number": issued.number, "print": outcome.as_json()}, outcome.message)
    return 0 if outcome.ok else 3


def cmd_queue(args: argparse.Namespace) -> int:
    from lobby_app.store import commands

    snap = commands.lobby_snapshot(_store(args))
    doc = {
        "business_date": snap.business_date.isoformat(),
        "issued_today": snap.issued_today,
        "zones": [z.as_json() for z in snap.zones],
        "waiting": [
            {
                "number": e.number,
                "zone": e.zone.value,
                "green_channel": e.green_channel,
                "issued_at": e.issued_at.isoformat(),
                "position": e.position,
            }
            for z in snap.zones
            for e in z.waiting
        ],
    }
    lines = []
    for z in snap.zones:
        lines.append(
            tr(
                f"{z.zone.label}：等候 {len(z.waiting)} 人，最长 {z.longest_wait_min} 分钟，"
                f"预计 {z.estimated_wait_min} 分钟"
            )
        )
        lines += [
            f"  {e.number}{' 绿' if e.green_channel else ''}  {e.business_name}" for e in z.waiting
        ]
    _emit(args, doc, "\n".join(lines))
    return 0


def cmd_hub(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from lobby_app.hub.server import Hub

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store = _store(args)
    hub = Hub(store, args.host, args.port, nightly_sync=True)

    def ready() -> None:  # after the port is bound: scripts wait for this line
        print(
            tr(f"网点主机运行中：{hub.url}  数据目录 {store.data_dir}"), file=sys.stderr, flush=True
        )
        print(
            tr("站点密钥请用 lobby-app station-key 查看；按 Ctrl+C 停止"),
            file=sys.stderr,
            flush=True,
        )

    try:
        asyncio.run(hub.serve_forever(ready))
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
    from lobby_app.store.staff import station_key

    key = station_key(_store(args))
    _emit(args, {"station_key": key}, key)
    return 0


def cmd_staff_pin(args: argparse.Namespace) -> int:
    import getpass

    from lobby_app.store.staff import set_pin

    pin = args.pin
    if pin is None:
        pin = (
            getpass.getpass(tr("新密码：")) if sys.stdin.isatty() else sys.stdin.readline().strip()
        )
    set_pin(_store(args), args.staff, pin, actor="cli")
    _emit(args, {"staff": args.staff, "pin_set": True}, tr(f"工号 {args.staff} 的密码已设置"))
    return 0


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
    result: dict[str, Any] = _hub_request(args, "teller", args.window, command, extra)
    return result


def _hub_request(
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
        try:
            return await client.request(command, **extra)
        finally:
            await client.close()
            receiving.cancel()

    return asyncio.run(go())


def cmd_teller(args: argparse.Namespace) -> int:
    from lobby_app.core.zones import parse_zone
    from lobby_app.store import teller

    if args.hub:
        return _say_teller(args, args.teller_command, _through_hub(args))
    store = _store(args)
    kw = {"actor": args.actor, "request_id": args.request_id}
    command = args.teller_command
    if command == "window":
        is_open = teller.set_window_open(store, args.window, args.state == "open", actor=args.actor)
        state = tr("已开窗") if is_open else tr("已暂停服务")
        _emit(args, {"window": args.window, "open": is_open}, f"{args.window} 号窗口{state}")
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
    said = {
        "call": tr(f"请 {number} 号到 {window} 号窗口"),
        "recall": tr(f"再次请 {number} 号到 {window} 号窗口"),
        "call-back": tr(f"请 {number} 号到 {window} 号窗口"),
        "start": tr(f"{number} 开始办理"),
        "finish": tr(f"{number} 办理完成"),
        "no-show": tr(f"{number} 已过号"),
        "transfer": tr(f"{number} 已转到 {zone}"),
        "rate": tr(f"{number} 的服务评价已记录"),
    }[command]
    _emit(args, doc, said)
    return 0


def cmd_refer(args: argparse.Namespace) -> int:
    from lobby_app.lobby import print_slip
    from lobby_app.store import referrals

    if args.hub:
        station = "teller" if args.window is not None else "desk"
        extra = {"ticket": args.ticket, "to": args.to, "need": args.need, "note": args.note}
        doc = _hub_request(args, station, args.window, "refer", extra)
    else:
        doc = referrals.refer(
            _store(args),
            ticket_number=args.ticket,
            to_staff=args.to,
            need=args.need,
            note=args.note,
            actor=args.actor,
            request_id=args.request_id,
        )
    lines = [
        tr(
            f"转介单 {doc['referral_no']}：{doc['ticket_number']} → {doc['to_name']}({doc['to_staff']})"
            f" {doc['to_location']}，需求 {doc['need_label']}"
        )
    ]
    if not args.no_print and (not args.hub or args.pdf):
        # Through a hub, the slip prints here only to a given file: the printer is the desk's.
        lobby = getattr(args, "hub_welcome", {}).get("lobby", {})
        outcome = print_slip(
            _store(args), doc, pdf_path=args.pdf, branch_name=lobby.get("branch_name")
        )
        doc = {**doc, "print": outcome.as_json()}
        lines.append(outcome.message)
    _emit(args, doc, "\n".join(lines))
    return 0


def cmd_referrals(args: argparse.Namespace) -> int:
    from lobby_app.store import referrals

    items = referrals.inbox(_store(args), to_staff=args.to, open_only=not args.all)
    docs = [r.as_json() for r in items]
    lines = [
        f"{r.referral_no}  {r.status_label:<4}  {r.ticket_number:<5} "
        f"{r.customer.salutation if r.customer else tr('未登记客户')}  {r.need_label}  "
        f"{r.referrer}→{r.to_staff}"
        for r in items
    ] or [tr("没有转介")]
    _emit(args, docs, "\n".join(lines))
    return 0


def cmd_referral_outcome(args: argparse.Namespace) -> int:
    from datetime import date
    from decimal import Decimal, InvalidOperation

    from lobby_app.store import referrals

    store = _store(args)
    if args.outcome == "accept":
        doc = referrals.accept(store, args.referral, actor=args.actor)
    elif args.outcome == "contact":
        doc = referrals.contact(store, args.referral, actor=args.actor)
    else:
        try:
            amount_fen = int(Decimal(args.amount) * 100)
        except InvalidOperation:
            raise LobbyError(
                "bad_amount", tr(f"金额“{args.amount}”不是数字"), field="amount"
            ) from None
        try:
            follow = date.fromisoformat(args.follow_up) if args.follow_up else None
        except ValueError:
            raise LobbyError(
                "bad_date", tr(f"跟进日期“{args.follow_up}”应为 YYYY-MM-DD"), field="follow_up"
            ) from None
        doc = referrals.record_outcome(
            store,
            args.referral,
            outcome=args.outcome,
            actor=args.actor,
            product=args.product,
            amount_fen=amount_fen,
            follow_up_on=follow,
            note=args.note,
        )
    _emit(args, doc, tr(f"转介单 {doc['referral_no']}：{doc['status_label']}"))
    return 0


def cmd_marketing_rules(args: argparse.Namespace) -> int:
    from lobby_app.core.marketing import parse_rules_csv, rules_to_csv
    from lobby_app.store import referrals

    store = _store(args)
    if args.load:
        try:
            text = args.load.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise LobbyError("unreadable_file", tr(f"读不了文件 {args.load}：{exc}")) from None
        referrals.replace_marketing_rules(store, parse_rules_csv(text), actor="cli")
    rules = referrals.marketing_rules(store)
    if args.export and not args.json:
        sys.stdout.write(rules_to_csv(rules))
        return 0
    docs = [r.__dict__ for r in rules]
    text = "\n".join(f"[{r.tier or '*'}/{r.need or '*'}] {r.sentence}" for r in rules)
    _emit(args, docs, text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    from lobby_app.logs import install_crash_handler, setup_logging

    setup_logging()  # the log file; messages reach the person as text, not as log lines
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = getattr(args, "handler", cmd_start)
    if handler in (cmd_start, cmd_setup, cmd_desk, cmd_station):
        from lobby_app.ui.app import show_crash

        install_crash_handler(show_crash)
    elif handler is cmd_hub:
        install_crash_handler()
    logging.getLogger("lobby_app").info(
        "lobby-app %s: %s", __version__, getattr(args, "command", None) or "run"
    )
    try:
        return handler(args)
    except LobbyError as exc:
        if getattr(args, "json", False):
            print(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2))
        print(tr(f"错误：{exc.message}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: not our error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
