"""Head-office sync: sync, sync-status and ho-migrate."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from lobby_app.cli.common import emit, open_store
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
    p = sub.add_parser(
        "sync", parents=[common], help=tr("与总行同步一次(上传当日数据，下载客户名录等)")
    )
    p.add_argument(
        "--to",
        help=tr("总行数据库地址(默认：网点设置 sync_url；未设置时为本机演示库 headoffice.sqlite3)"),
    )
    p.add_argument("--direction", choices=("up", "down", "both"), default="both")
    p.add_argument(
        "--take-over-branch",
        action="store_true",
        help=tr("本机接管本网点在总行的上传(换新主机时用；总行会记录，旧主机此后同步会被拒绝)"),
    )
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser(
        "sync-status", parents=[common], help=tr("同步状态：上次成功、待传数量、被总行拒收的行")
    )
    p.set_defaults(handler=cmd_sync_status)

    p = sub.add_parser(
        "ho-migrate", parents=[common], help=tr("建立或升级总行数据库结构(总行工程师用)")
    )
    p.add_argument("--to", required=True, help=tr("总行数据库地址"))
    p.set_defaults(handler=cmd_ho_migrate)


def cmd_sync(args: argparse.Namespace) -> int:
    from lobby_app.sync.engine import run_sync

    result = run_sync(
        open_store(args),
        args.to,
        direction=args.direction,
        take_over=getattr(args, "take_over_branch", False),
    )
    doc = result.as_json()
    lines = [result.message]
    if result.uploaded:
        lines.append(tr("上传：") + "，".join(f"{k} {v}" for k, v in result.uploaded.items()))
    if result.downloaded:
        lines.append(tr("下载：") + "，".join(f"{k} {v}" for k, v in result.downloaded.items()))
    lines += result.warnings
    lines += _quarantine_lines(result.quarantine, result.quarantined)
    if result.status == "failed":
        if getattr(args, "json", False):
            print(json.dumps(doc, ensure_ascii=False, indent=2))
        print(tr(f"错误：{result.message}"), file=sys.stderr)
        return 2
    emit(args, doc, "\n".join(lines))
    return 0


def cmd_sync_status(args: argparse.Namespace) -> int:
    from datetime import datetime

    from lobby_app.store import commands
    from lobby_app.sync.engine import sync_status

    store = open_store(args)
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
    if st.quarantined:
        text += "\n" + "\n".join(
            [st.quarantine_note, *_quarantine_lines(st.quarantine, st.quarantined)]
        )
    if st.last_backup_at:
        at = datetime.fromisoformat(st.last_backup_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        text += tr(f"\n上次备份：{at}")
    emit(args, st.as_json(), text)
    return 0


def _quarantine_lines(rows: list[dict[str, Any]], total: int) -> list[str]:
    """The quarantined rows, one a line: table, key, why."""
    lines = [tr(f"  隔离：{r['table']} {r['id']}：{r['reason']}") for r in rows]
    if total > len(rows):
        lines.append(tr(f"  …… 另有 {total - len(rows)} 行"))
    return lines


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
    emit(
        args,
        {"before": before, "after": after},
        tr(f"总行库结构：{before or '空库'} → {after}（{shown_url(args.to)}）"),
    )
    return 0
