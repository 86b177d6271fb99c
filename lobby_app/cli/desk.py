"""The desk and lobby side: starting the PC's station, the desk window, the demo branch,
tickets and the queue, the customer directory, business types, referrals and marketing rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby_app.cli.common import (
    acting_person,
    config_path,
    emit,
    hub_request,
    open_store,
    staff_arg,
    station_flags,
)
from lobby_app.cli.day import cmd_simulate
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import NOTES_MASKED

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
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
    p.add_argument(
        "--date",
        help=tr(
            "模拟哪一天(须是今天以前、还没有票的日子；默认自动选最近的一天；YYYY-MM-DD / yesterday)"
        ),
    )
    p.add_argument("--visits", type=int, default=260, help=tr("模拟的到店人数"))
    p.add_argument("--seed", type=int, default=1, help=tr("随机种子(相同种子得到相同的一天)"))
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser(
        "import-customers",
        parents=[common],
        help=tr("从 CSV 导入客户名录(逐行读取，显示进度；中断后重新运行从中断处继续)"),
    )
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
    p.add_argument("--actor", help=tr("取号人工号(大堂经理或引导员；或环境变量 LOBBY_STAFF)"))
    p.set_defaults(handler=cmd_ticket)

    p = sub.add_parser("reprint", parents=[common], help=tr("重打当日的票"))
    p.add_argument("number")
    p.add_argument("--pdf", type=Path)
    p.set_defaults(handler=cmd_reprint)

    p = sub.add_parser("queue", parents=[common], help=tr("各区等候队列(按叫号顺序)"))
    p.set_defaults(handler=cmd_queue)

    p = sub.add_parser("refer", parents=[common], help=tr("把客户转介给客户经理并打印转介单"))
    p.add_argument("--ticket", required=True, help=tr("当日票号，如 V001"))
    p.add_argument("--to", required=True, help=tr("客户经理工号，如 M01"))
    p.add_argument("--need", required=True, help=tr("需求标签，如 wealth"))
    p.add_argument("--note", default="", help=tr("转介说明"))
    p.add_argument("--pdf", type=Path, help=tr("把转介单 PDF 写到此路径(不送打印机)"))
    p.add_argument("--no-print", action="store_true", help=tr("只记录，不打印转介单"))
    p.add_argument("--window", type=int, help=tr("从柜员窗口转介时给出窗口号"))
    station_flags(p)
    p.set_defaults(handler=cmd_refer)

    p = sub.add_parser("referrals", parents=[common], help=tr("转介清单(默认未结案的)"))
    p.add_argument("--to", help=tr("只看某位客户经理的"))
    p.add_argument("--all", action="store_true", help=tr("包括已结案的"))
    p.add_argument("--actor", help=tr("查看人工号(或环境变量 LOBBY_STAFF)"))
    p.set_defaults(handler=cmd_referrals)

    p = sub.add_parser("referral", parents=[common], help=tr("查看一张转介单(接收的客户经理)"))
    p.add_argument("referral", help=tr("转介单号"))
    p.add_argument("--actor", help=tr("查看人工号(或环境变量 LOBBY_STAFF)"))
    p.set_defaults(handler=cmd_referral)

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
    p.add_argument("--actor", help=tr("客户经理工号(或环境变量 LOBBY_STAFF)"))
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


def cmd_setup(args: argparse.Namespace) -> int:
    from lobby_app.config import load
    from lobby_app.ui.app import qt_app
    from lobby_app.ui.setup_dialog import SetupDialog

    qt_app()
    path = config_path(args)
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
    from lobby_app.lobby import station_print_target
    from lobby_app.ui.app import qt_app, run_desk, run_station
    from lobby_app.ui.setup_dialog import SetupDialog

    path = config_path(args)
    try:
        cfg = load(path)
    except LobbyError as exc:
        from PySide6.QtWidgets import QMessageBox

        qt_app()
        QMessageBox.warning(None, tr("配置有误"), exc.message)
        cfg = None
    setup_next = False  # a first-run hub PC leads on to counters and staff
    if cfg is None:
        qt_app()
        dlg = SetupDialog(path, None, first_run=True)
        if not dlg.exec() or dlg.saved is None:
            return 1
        cfg = dlg.saved
        setup_next = dlg.wants_branch_setup
    st = cfg.station
    import os

    if st.role == "desk":
        data_dir = getattr(args, "data_dir", None) or (Path(st.data_dir) if st.data_dir else None)
        _apply_desk_config(cfg, data_dir)
        return run_desk(
            data_dir,
            hub_port=st.port,
            config_path=path,
            open_setup_first=setup_next,
            staff=st.staff or os.environ.get("LOBBY_STAFF", ""),
        )

    return run_station(
        st.role,
        hub_url=st.hub,
        key=st.key,
        staff=st.staff or os.environ.get("LOBBY_STAFF", ""),
        pin=os.environ.get("LOBBY_PIN", ""),
        window=st.window,
        full_screen=st.role == "display",
        data_dir=getattr(args, "data_dir", None),
        print_target=station_print_target(cfg.printer),  # a teller's slips print here
    )


def _apply_desk_config(cfg: Any, data_dir: Path | None) -> None:
    """The desk PC's configuration goes into its store: this PC's printer and sync target
    every time; the bank and branch only into a store not yet set up (first run). After
    that the branch is the store's, changed by the branch head in 网点设置 (or
    ``lobby-app branch``), and a stale configuration file never reverts it."""
    from lobby_app.store import Store, commands
    from lobby_app.store.setup import DEFAULT_SETTINGS

    per_pc = {
        "print_kind": cfg.printer.kind,
        "printer": cfg.printer.name,
        "print_folder": cfg.printer.folder,
        "sync_url": cfg.sync.url,
        "sync_time": cfg.sync.time,
    }
    first_run = {
        "bank_name": getattr(cfg.branch, "bank", ""),
        "branch_code": cfg.branch.code,
        "branch_name": cfg.branch.name,
    }
    store = Store.open(data_dir)
    try:
        current = {k: str(v) for k, v in commands.settings(store).__dict__.items()}
        changes = {
            k: v
            for k, v in per_pc.items()
            if (v or k in ("printer", "print_folder", "sync_url")) and current.get(k) != v
        }
        changes |= {
            k: v
            for k, v in first_run.items()
            if v and current.get(k) == DEFAULT_SETTINGS[k] and current.get(k) != v
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
        staff=getattr(args, "staff", None) or os.environ.get("LOBBY_STAFF", ""),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from lobby_app.store.demo import seed_demo

    store = open_store(args)
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
        picked = tr("(未指定日期，选了今天以前最近一个没有票的日子)") if sim["picked"] else ""
        text += tr(
            f"\n已模拟 {day} 营业日{picked}：取号 {sim['issued']}，办理 {sim['served']}，过号 {sim['no_show']}，"
            f"转介 {sim['referrals']}(成交 {sim['sold']})，评价 {sim['ratings']}，"
            f"收门时仍在等候 {sim['left_waiting']}。"
            f"\n下一步：lobby-app close-day --date {day} --actor L01"
            f"\n　　　　lobby-app report --date {day} --pdf summary.pdf"
        )
    emit(args, doc, text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from lobby_app.store.directory import (
        ImportProgress,
        import_file,
        nothing_imported,
        progress_text,
        summary_lines,
    )

    # a progress bar on the terminal (stderr), never into a pipe, a log or --json output
    bar = sys.stderr.isatty() and not getattr(args, "json", False)
    told_resume = False

    def show(p: ImportProgress) -> None:
        nonlocal told_resume
        if p.resumed_from_line and not told_resume:
            told_resume = True
            sys.stderr.write(
                "\r\033[K" + tr(f"上次导入此文件中途停止，从第 {p.resumed_from_line} 行继续。\n")
            )
        sys.stderr.write("\r\033[K" + progress_text(p) + ("\n" if p.phase == "done" else ""))
        sys.stderr.flush()

    store = open_store(args)
    report = import_file(
        store,
        args.file,
        strict=args.strict,
        actor="cli",
        source=args.file.name,
        progress=show if bar else None,
    )
    lines = summary_lines(report)
    doc = report.as_json()
    nothing = nothing_imported(report)
    if report.rejected:
        doc = {"error": "import_rejected", **doc}
    elif nothing:
        doc = {"error": "nothing_imported", **doc}
    emit(args, doc, "\n".join(lines))
    return 1 if report.rejected or nothing else 0


def cmd_lookup(args: argparse.Namespace) -> int:
    # store.lookup, not store.commands: a lookup loads neither SQLAlchemy nor the ORM
    # models (tests/cli/test_quick_commands.py)
    from lobby_app.core.identity import mask_free_text
    from lobby_app.store import lookup

    store = open_store(args)
    found = lookup.lookup_customers(store, args.query, limit=args.limit)
    lookup.record_audit(
        store, actor="cli", action="lookup", detail=f"{mask_free_text(args.query)} -> {len(found)}"
    )
    text = "\n".join(
        f"{c.customer_no}  {c.name}  {c.masked_id or '-'}  {c.masked_phone or '-'}  "
        f"{c.tier.label}  {c.vip_card.label if c.vip_card else ''}"
        f"{f'  {c.card_note}' if c.card_note else ''}"
        f"{'  潜在客户' if c.prospect else ''}  {c.manager}"
        for c in found
    ) or tr("没有匹配的客户")
    emit(args, {"customers": [c.as_json() for c in found]}, text)
    return 0


def cmd_business_types(args: argparse.Namespace) -> int:
    from lobby_app.store import commands

    store = open_store(args)
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
    emit(args, doc, "\n".join(f"{b.code:<16}{b.name}  [{b.zone.short_label}]" for b in types))
    return 0


def cmd_ticket(args: argparse.Namespace) -> int:
    from lobby_app.core.business import parse_priority
    from lobby_app.core.staffing import DESK_ROLES
    from lobby_app.core.zones import parse_zone
    from lobby_app.lobby import print_ticket
    from lobby_app.store import commands

    priority = parse_priority(args.priority) if args.priority else None
    zone = parse_zone(args.zone) if args.zone else None
    store = open_store(args)
    actor = acting_person(args, store, DESK_ROLES, tr("取号"))
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
            actor=actor,
        ),
    )
    # The ticket is saved and queued: nothing from here on (the PDF, the printer, the record
    # of the print on a full disk) may make it read as refused (issue 16 item 6).
    outcome = print_ticket(store, issued, pdf_path=args.pdf, actor=actor)
    try:
        warning = commands.no_window_warning(store, issued.zone, issued.business_code)
    except LobbyError:
        warning = ""
    doc = {**issued.as_json(), "print": outcome.as_json()}
    if warning:
        doc["warning"] = warning
    flags = "  绿色通道" if issued.green_channel else ""
    emit(
        args,
        doc,
        tr(
            f"{issued.number}  {issued.zone.label}{flags}\n前面 {issued.ahead} 人，"
            f"预计等候约 {issued.estimated_wait_min} 分钟\n{outcome.message}"
        )
        + (tr(f"\n办理窗口：{'、'.join(issued.windows)}") if issued.windows else "")
        + (tr(f"\n注意：{warning}") if warning else "")
        + (f"\n{NOTES_MASKED}" if issued.notes_masked else ""),
    )
    return 0


def cmd_reprint(args: argparse.Namespace) -> int:
    from lobby_app.lobby import print_ticket
    from lobby_app.store import commands

    store = open_store(args)
    issued = commands.ticket_by_number(store, args.number)
    outcome = print_ticket(store, issued, pdf_path=args.pdf, actor="cli")
    emit(args, {"number": issued.number, "print": outcome.as_json()}, outcome.message)
    return 0 if outcome.ok else 3


def cmd_queue(args: argparse.Namespace) -> int:
    from lobby_app.store import commands

    snap = commands.lobby_snapshot(open_store(args))
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
                "lane": e.lane,
                "ahead": e.ahead,
                "estimated_wait_min": e.estimated_wait_min,
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
    emit(args, doc, "\n".join(lines))
    return 0


def cmd_refer(args: argparse.Namespace) -> int:
    from lobby_app.lobby import print_slip
    from lobby_app.store import referrals

    if args.hub:
        station = "teller" if args.window is not None else "desk"
        extra = {"ticket": args.ticket, "to": args.to, "need": args.need, "note": args.note}
        doc = hub_request(args, station, args.window, "refer", extra)
    else:
        from lobby_app.core.staffing import DESK_ROLES, SELF_SERVICE_ROLES

        store = open_store(args)
        doc = referrals.refer(
            store,
            ticket_number=args.ticket,
            to_staff=args.to,
            need=args.need,
            note=args.note,
            actor=acting_person(args, store, (*DESK_ROLES, *SELF_SERVICE_ROLES), tr("转介")),
            request_id=args.request_id,
        )
    lines = [
        tr(
            f"转介单 {doc['referral_no']}：{doc['ticket_number']} → {doc['to_name']}({doc['to_staff']})"
            f" {doc['to_location']}，需求 {doc['need_label']}"
        )
    ]
    if doc.get("notes_masked"):
        lines.append(NOTES_MASKED)
    if not args.no_print and (not args.hub or args.pdf):
        # Through a hub, the slip prints here only to a given file: the printer is the desk's.
        lobby = getattr(args, "hub_welcome", {}).get("lobby", {})
        outcome = print_slip(
            open_store(args), doc, pdf_path=args.pdf, branch_name=lobby.get("branch_name")
        )
        doc = {**doc, "print": outcome.as_json()}
        lines.append(outcome.message)
    emit(args, doc, "\n".join(lines))
    return 0


def cmd_referrals(args: argparse.Namespace) -> int:
    from lobby_app.store import referrals

    items = referrals.referrals_for(
        open_store(args), staff_arg(args), to_staff=args.to, open_only=not args.all
    )
    docs = [r.as_json() for r in items]
    lines = [
        f"{r.referral_no}  {r.status_label:<4}  {r.ticket_number:<5} "
        f"{r.customer.salutation if r.customer else tr('未登记客户')}  {r.need_label}  "
        f"{r.referrer}→{r.to_staff}"
        for r in items
    ] or [tr("没有转介")]
    emit(args, docs, "\n".join(lines))
    return 0


def cmd_referral(args: argparse.Namespace) -> int:
    """One referral as the person asking may see it: the details for the manager it was
    sent to and the branch head, its status for the referrer and the desk; else refused."""
    from lobby_app.store import referrals

    r = referrals.referral_detail(open_store(args), args.referral, viewer=staff_arg(args))
    cust = r.customer
    lines = [
        tr(f"转介单 {r.referral_no}：{r.status_label}"),
        tr(f"客户：{(cust.name if cust else '') or tr('未登记客户')}"),
        tr(f"排队号 {r.ticket_number}，需求 {r.need_label}"),
        tr(f"转介人 {r.referrer_name or r.referrer} → {r.to_name or r.to_staff}"),
    ]
    if r.note:
        lines.append(tr(f"转介说明：{r.note}"))
    if r.product:
        lines.append(tr(f"成交：{r.product} {r.amount_fen / 100:,.2f} 元"))
    if r.outcome_note:
        lines.append(tr(f"结果备注：{r.outcome_note}"))
    lines += [tr(f"近期来访：{n}") for n in r.recent_notes]
    emit(args, r.as_json(), "\n".join(lines))
    return 0


def cmd_referral_outcome(args: argparse.Namespace) -> int:
    from datetime import date
    from decimal import Decimal, InvalidOperation

    from lobby_app.core.staffing import MANAGER_ROLES
    from lobby_app.store import referrals

    store = open_store(args)
    actor = acting_person(args, store, MANAGER_ROLES, tr("记录转介结果"))
    if args.outcome == "accept":
        doc = referrals.accept(store, args.referral, actor=actor)
    elif args.outcome == "contact":
        doc = referrals.contact(store, args.referral, actor=actor)
    else:
        from lobby_app.core.limits import AMOUNT_MAX_FEN, check_day

        try:
            amount = Decimal(args.amount)
        except InvalidOperation:
            raise LobbyError(
                "bad_amount", tr(f"金额“{args.amount}”不是数字"), field="amount"
            ) from None
        # 1e400, inf, NaN, 99999999999999999999999: refused before any arithmetic on them
        if not (amount.is_finite() and 0 <= amount <= Decimal(AMOUNT_MAX_FEN) / 100):
            raise LobbyError(
                "bad_amount",
                tr(f"金额“{args.amount}”应在 0 到 {AMOUNT_MAX_FEN // 100:,} 元之间"),
                field="amount",
            )
        amount_fen = int((amount * 100).to_integral_value())
        try:
            follow = date.fromisoformat(args.follow_up) if args.follow_up else None
            follow = check_day(follow, field="follow_up") if follow else None
        except ValueError:
            raise LobbyError(
                "bad_date", tr(f"跟进日期“{args.follow_up}”应为 YYYY-MM-DD"), field="follow_up"
            ) from None
        doc = referrals.record_outcome(
            store,
            args.referral,
            outcome=args.outcome,
            actor=actor,
            product=args.product,
            amount_fen=amount_fen,
            follow_up_on=follow,
            note=args.note,
        )
    masked = f"\n{NOTES_MASKED}" if doc.get("notes_masked") else ""
    emit(args, doc, tr(f"转介单 {doc['referral_no']}：{doc['status_label']}") + masked)
    return 0


def cmd_marketing_rules(args: argparse.Namespace) -> int:
    from lobby_app.core.marketing import parse_rules_csv, rules_to_csv
    from lobby_app.store import referrals

    store = open_store(args)
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
    emit(args, docs, text)
    return 0
