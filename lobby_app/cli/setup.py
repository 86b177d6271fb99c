"""Branch set-up: the branch, its counters and staff, staff passwords, settings; walk-ins.

Set-up commands act for a branch head (``--actor`` or ``LOBBY_STAFF``) once the branch has
one; a freshly installed branch is set up without, until its first branch head has a PIN
(see ``lobby_app/store/admin.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby_app.cli.common import emit, open_store, staff_arg
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


KINDS = "closed_cash|open_service|vip_cash|vip_room|self_service"
ROLES = "lobby_manager|guide|teller|customer_manager|branch_head"


def _actor_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--actor", help=tr("网点负责人工号(或环境变量 LOBBY_STAFF；新装网点设置首位负责人前可不填)")
    )


def _counter_flags(p: argparse.ArgumentParser, *, adding: bool) -> None:
    p.add_argument("number", type=int, help=tr("窗口号"))
    p.add_argument("--name", required=adding, help=tr("客户看到的名称，如 3号窗口、贵宾理财室一"))
    p.add_argument("--kind", required=adding, help=tr(f"柜台类型：{KINDS}"))
    p.add_argument(
        "--zones", help=tr("服务区，按优先顺序，逗号分隔，如 vip,closed_counter(默认按类型)")
    )
    p.add_argument("--vip-window", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument(
        "--priority-window",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=tr("爱心窗口(老弱病残孕、军人优先)"),
    )
    _actor_flag(p)


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
    p = sub.add_parser(
        "branch", parents=[common], help=tr("查看或设置本网点(银行、名称、代码、营业时间)")
    )
    p.add_argument("--bank", help=tr("银行名称"))
    p.add_argument("--name", help=tr("网点名称"))
    p.add_argument("--code", help=tr("网点代码(字母和数字)"))
    p.add_argument("--hours", help=tr("营业时间，如 09:00-17:00"))
    p.add_argument("--wait-target", help=tr("等候时间目标(分钟)"))
    p.add_argument("--idle-lock", help=tr("迎宾台空闲多少分钟后锁屏"))
    _actor_flag(p)
    p.set_defaults(handler=cmd_branch)

    p = sub.add_parser("counter", parents=[common], help=tr("柜台窗口：新增、列表、修改、撤销"))
    csub = p.add_subparsers(dest="counter_command", metavar="ACTION", required=True)
    q = csub.add_parser("add", parents=[common], help=tr("新增柜台窗口"))
    _counter_flags(q, adding=True)
    q = csub.add_parser("edit", parents=[common], help=tr("修改柜台窗口"))
    _counter_flags(q, adding=False)
    q = csub.add_parser("retire", parents=[common], help=tr("撤销柜台窗口(历史数据保留)"))
    q.add_argument("number", type=int)
    _actor_flag(q)
    q = csub.add_parser("list", parents=[common], help=tr("柜台窗口列表"))
    q.add_argument("--all", action="store_true", help=tr("包括已撤销的"))
    p.set_defaults(handler=cmd_counter)

    p = sub.add_parser("staff", parents=[common], help=tr("员工：新增、列表、导入、锁定、停用"))
    ssub = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    q = ssub.add_parser("add", parents=[common], help=tr("新增员工"))
    q.add_argument("staff_no", help=tr("工号"))
    q.add_argument("--name", required=True)
    q.add_argument("--role", required=True, help=ROLES)
    q.add_argument("--pin", help=tr("初始密码(4到8位数字；也可以之后用 staff-pin 设置)"))
    q.add_argument("--location", default="", help=tr("客户在哪里找到此人，如 贵宾理财室一"))
    _actor_flag(q)
    q = ssub.add_parser("edit", parents=[common], help=tr("修改员工姓名、岗位、位置"))
    q.add_argument("staff_no")
    q.add_argument("--name")
    q.add_argument("--role", help=ROLES)
    q.add_argument("--location")
    _actor_flag(q)
    q = ssub.add_parser("list", parents=[common], help=tr("员工列表"))
    q.add_argument("--all", action="store_true", help=tr("包括已停用的"))
    q = ssub.add_parser(
        "import",
        parents=[common],
        help=tr("从 CSV 导入员工(列：staff_no,name,role[,pin][,location])"),
    )
    q.add_argument("file", type=Path)
    _actor_flag(q)
    for change, text in (
        ("lock", tr("锁定(不能登录，直到解锁)")),
        ("unlock", tr("解锁(也清除密码错误锁定)")),
        ("deactivate", tr("停用(离职、调出；历史保留)")),
        ("activate", tr("重新启用")),
    ):
        q = ssub.add_parser(change, parents=[common], help=text)
        q.add_argument("staff_no")
        _actor_flag(q)
    p.set_defaults(handler=cmd_staff)

    p = sub.add_parser(
        "register", parents=[common], help=tr("登记到店新客户(潜在客户，经客户同意)")
    )
    p.add_argument("--name", required=True, help=tr("客户姓名"))
    p.add_argument("--phone", required=True, help=tr("手机号"))
    p.add_argument("--id-number", help=tr("证件号码(选填)"))
    p.add_argument("--consent", action="store_true", help=tr("客户已同意登记并用于营销联系(必须)"))
    p.add_argument("--actor", help=tr("登记人工号(大堂经理或引导员；或环境变量 LOBBY_STAFF)"))
    p.set_defaults(handler=cmd_register)

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
    _actor_flag(p)
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
    if changes:
        from lobby_app.store.admin import check_head

        with store.read() as s:
            actor = check_head(s, staff_arg(args))
        st = commands.change_settings(store, changes, actor=actor)
    else:
        st = commands.settings(store)
    from lobby_app.core.redact import hide_password

    doc = asdict(st)
    doc["sync_url"] = hide_password(st.sync_url)  # the head office's password never shown
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
    set_pin(open_store(args), args.staff, pin, actor=staff_arg(args))
    emit(args, {"staff": args.staff, "pin_set": True}, tr(f"工号 {args.staff} 的密码已设置"))
    return 0


def cmd_branch(args: argparse.Namespace) -> int:
    from lobby_app.store import admin, commands

    store = open_store(args)
    changes = admin.branch_changes(
        bank=args.bank,
        name=args.name,
        code=args.code,
        hours=args.hours,
        wait_target=args.wait_target,
        idle_lock=args.idle_lock,
    )
    if changes:
        doc = admin.set_branch(store, changes, actor=staff_arg(args))
    else:
        doc = admin.branch_view(commands.settings(store))
    text = tr(
        f"{doc['bank_name']} {doc['branch_name']}(网点代码 {doc['branch_code']})\n"
        f"营业时间 {doc['hours']}，等候目标 {doc['wait_target_min']} 分钟，"
        f"迎宾台空闲 {doc['desk_idle_lock_min']} 分钟锁屏"
    )
    emit(args, doc, text)
    return 0


def _counter_line(c: Any) -> str:
    from lobby_app.core.zones import Zone

    zones = "→".join(Zone(z).short_label for z in c.zones)
    flags = "".join(
        f
        for f, on in ((tr(" 贵宾绿色通道"), c.vip_window), (tr(" 爱心窗口"), c.priority_window))
        if on
    )
    if c.retired:
        state = tr("已撤销")
    elif c.staff_no:
        state = tr(f"{c.staff_name or c.staff_no}({c.staff_no}) {'开放' if c.open else '暂停'}")
    else:
        state = tr("无人签到")
    return f"{c.window:>3}  {c.name}  [{c.kind_label}] {zones}{flags}  {state}"


def cmd_counter(args: argparse.Namespace) -> int:
    from lobby_app.store import admin

    store = open_store(args)
    action = args.counter_command
    if action == "list":
        items = admin.list_counters(store, include_retired=args.all)
        lines = [_counter_line(c) for c in items] or [
            tr("还没有柜台窗口：lobby-app counter add 1 --name 1号窗口 --kind closed_cash")
        ]
        emit(args, [c.as_json() for c in items], "\n".join(lines))
        return 0
    actor = staff_arg(args)
    if action == "retire":
        c = admin.retire_counter(store, args.number, actor=actor)
        emit(args, c.as_json(), tr(f"{c.window} 号窗口({c.name})已撤销，历史数据保留"))
        return 0
    fields = {
        "name": args.name,
        "kind": args.kind,
        "zones": args.zones,
        "vip_window": args.vip_window,
        "priority_window": args.priority_window,
    }
    if action == "add":
        c = admin.add_counter(
            store,
            args.number,
            name=args.name,
            kind=args.kind,
            zones=args.zones,
            vip_window=args.vip_window,
            priority_window=bool(args.priority_window),
            actor=actor,
        )
        said = tr("已新增：")
    else:
        c = admin.edit_counter(
            store, args.number, **{k: v for k, v in fields.items() if v is not None}, actor=actor
        )
        said = tr("已修改：")
    emit(args, c.as_json(), said + _counter_line(c))
    return 0


def _staff_line(p: Any) -> str:
    state = tr("停用") if not p.active else tr("锁定") if p.locked else tr("在岗")
    pin = "" if p.has_pin else tr("  未设密码")
    where = tr(f"  在 {p.window} 号窗口") if p.window else ""
    return f"{p.staff_no:<8}{p.name}  {p.role_label}  {state}{pin}{where}"


def cmd_staff(args: argparse.Namespace) -> int:
    from lobby_app.store import admin

    store = open_store(args)
    action = args.staff_command
    if action == "list":
        people = admin.list_staff(store, include_inactive=args.all)
        lines = [_staff_line(p) for p in people] or [
            tr("还没有员工：lobby-app staff add B01 --name 姓名 --role branch_head --pin 密码")
        ]
        emit(args, [p.as_json() for p in people], "\n".join(lines))
        return 0
    actor = staff_arg(args)
    if action == "import":
        try:
            text = args.file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise LobbyError(
                "unreadable_file",
                tr(f"读不了文件 {args.file}：{exc}。请用 UTF-8 编码的 CSV"),
                field="file",
            ) from None
        result = admin.import_staff(store, text, actor=actor)
        if result.rejected:
            lines = [tr(f"{args.file} 有错误，未导入任何员工，请改正后重新导入：")] + [
                tr(f"  第 {e['line']} 行 {e['field']}：{e['message']}") for e in result.errors
            ]
            emit(args, result.as_json(), "\n".join(lines))
            return 1
        emit(
            args,
            result.as_json(),
            tr(f"已导入员工：新增 {result.created} 人，更新 {result.updated} 人"),
        )
        return 0
    if action == "add":
        p = admin.add_staff(
            store,
            args.staff_no,
            name=args.name,
            role=args.role,
            pin=args.pin,
            location=args.location,
            actor=actor,
        )
        said = tr("已新增：")
    elif action == "edit":
        p = admin.edit_staff(
            store,
            args.staff_no,
            name=args.name,
            role=args.role,
            location=args.location,
            actor=actor,
        )
        said = tr("已修改：")
    else:
        p = admin.set_staff_state(store, args.staff_no, action, actor=actor)
        said = {
            "lock": tr("已锁定："),
            "unlock": tr("已解锁："),
            "deactivate": tr("已停用："),
            "activate": tr("已启用："),
        }[action]
    emit(args, p.as_json(), said + _staff_line(p))
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from lobby_app.store.walkin import register_walk_in

    reg = register_walk_in(
        open_store(args),
        name=args.name,
        phone=args.phone,
        id_number=args.id_number,
        consent=args.consent,
        actor=staff_arg(args),
    )
    emit(
        args,
        reg.as_json(),
        tr(f"已登记为潜在客户：{reg.name} 客户号 {reg.customer_no} 手机 {reg.phone_masked}"),
    )
    return 0
