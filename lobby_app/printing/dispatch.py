"""Sends a finished PDF where the branch prints: a CUPS queue, or a folder of PDFs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lobby_app.core.i18n import tr

AFTER = tr("号码已发出，可在工作台或用 lobby-app reprint 重打。")


@dataclass(frozen=True)
class PrintTarget:
    kind: Literal["folder", "printer", "none"]
    folder: Path | None = None
    printer: str | None = None


class PrintError(Exception):
    def __init__(self, code: str, message_zh: str) -> None:
        super().__init__(message_zh)
        self.code = code
        self.message_zh = message_zh


def dispatch_pdf(
    pdf: Path,
    target: PrintTarget,
    *,
    media_mm: tuple[int, int] = (80, 120),
    timeout_s: float = 10.0,
) -> str:
    """Print or file ``pdf``; returns where it went (a path or a print job id)."""
    if target.kind == "none":
        return ""
    if target.kind == "folder":
        return str(_to_folder(pdf, target.folder or Path.cwd()))
    if not target.printer:
        raise PrintError("printer_not_set", tr(f"未选择打印机。请在打印设置中选择打印机。{AFTER}"))
    if sys.platform == "win32":  # pragma: no cover - Windows only
        try:
            os.startfile(str(pdf), "print")  # type: ignore[attr-defined]
        except OSError as exc:
            raise PrintError("print_failed", tr(f"打印失败：{exc}。{AFTER}")) from exc
        return ""
    return _lp(pdf, target.printer, media_mm, timeout_s)


def _to_folder(pdf: Path, folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / pdf.name
        n = 2
        while dest.exists():
            dest = folder / f"{pdf.stem}-{n}{pdf.suffix}"
            n += 1
        shutil.copyfile(pdf, dest)
    except OSError as exc:
        raise PrintError(
            "folder_unwritable",
            tr(
                f"票据文件夹 {folder} 无法写入（{exc.strerror or exc}）。请检查文件夹或改选打印机。{AFTER}"
            ),
        ) from exc
    return dest


def _lp(pdf: Path, printer: str, media_mm: tuple[int, int], timeout_s: float) -> str:
    lp = shutil.which("lp")
    if lp is None:
        raise PrintError(
            "lp_missing",
            tr(f"本机没有打印系统(CUPS 的 lp 命令)。请安装 CUPS 或改为保存到文件夹。{AFTER}"),
        )
    w, h = media_mm
    try:
        proc = subprocess.run(
            [lp, "-d", printer, "-o", f"media=Custom.{w}x{h}mm", "-t", pdf.stem, str(pdf)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as exc:
        raise PrintError(
            "print_timeout",
            tr(f"打印机 {printer} 在 {timeout_s:.0f} 秒内没有响应。请检查打印机。{AFTER}"),
        ) from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        code = (
            "printer_not_found" if "not exist" in detail or "不存在" in detail else "print_failed"
        )
        raise PrintError(
            code,
            tr(
                f"打印到 {printer} 失败（{detail}）。请检查打印机是否开机、有纸，或改选其他打印机。{AFTER}"
            ),
        )
    return proc.stdout.strip()


def list_printers(timeout_s: float = 5.0) -> list[str]:
    """The print queues CUPS knows (empty where there is no CUPS)."""
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return []
    try:
        proc = subprocess.run([lpstat, "-e"], capture_output=True, text=True, timeout=timeout_s)
    except (subprocess.TimeoutExpired, OSError):
        return []
    if proc.returncode != 0:
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]
