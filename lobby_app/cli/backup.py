"""Backups of the branch store: backup and restore."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from lobby_app.cli.common import emit, open_store
from lobby_app.core.i18n import tr
from lobby_app.core.limits import BACKUPS_KEPT as KEEP

if TYPE_CHECKING:
    from lobby_app.cli.common import Subparsers


def add_parsers(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Register this module's commands."""
    p = sub.add_parser("backup", parents=[common], help=tr("备份网点数据库(网点主机运行时也可以)"))
    p.add_argument("--to", type=Path, help=tr("备份目录(默认：数据目录下的 backups)"))
    p.add_argument(
        "--keep", type=int, default=KEEP, help=tr(f"保留最近几份本网点的备份(默认 {KEEP})")
    )
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser(
        "restore", parents=[common], help=tr("用备份文件恢复网点数据库(须先关闭工作台和主机)")
    )
    p.add_argument(
        "file", type=Path, help=tr("备份文件，如 backups/branch-310115001-20261201-213000.sqlite3")
    )
    p.add_argument("--yes", action="store_true", help=tr("确认覆盖本机网点数据库"))
    p.set_defaults(handler=cmd_restore)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, n // 1024)} KB"


def cmd_backup(args: argparse.Namespace) -> int:
    from lobby_app.store.backup import backup

    result = backup(open_store(args), args.to, keep=args.keep)
    text = tr(
        f"已备份到 {result.path}（{_size(result.bytes)}，用时 {result.seconds:.1f} 秒）；"
        f"保留最近 {args.keep} 份"
    )
    if result.removed:
        text += tr(f"，删除了 {len(result.removed)} 份较早的备份")
    emit(args, result.as_json(), text)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from lobby_app.store.backup import restore
    from lobby_app.store.db import default_data_dir

    data_dir = getattr(args, "data_dir", None) or default_data_dir()
    result = restore(data_dir, args.file, confirmed=args.yes)
    info = result.info
    emit(
        args,
        result.as_json(),
        tr(
            f"已用备份 {info.path.name} 恢复网点数据库（网点 {info.branch_code} {info.branch_name}，"
            f"{info.tickets} 张票，最后营业日 {info.last_business_date or '无'}）。"
            f"原数据库另存为 {result.safety_copy}。下次同步会补传总行缺少的数据，"
            f"并由本机接管网点 {info.branch_code} 的上传。"
        ),
    )
    return 0
