"""Log files: rotating, in the platform's log directory, never with a full ID or phone number.

Every line is masked as the screens are (ID, phone and card numbers however typed, and
other runs of 7+ digits; ``core.identity.mask_free_text``) and any address's password reads
``***``, after the message and any traceback are formatted, so nothing personal or secret
reaches the disk by accident.
A crash is written to the log and the person at the PC is told in plain Chinese what to do.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lobby_app.core.i18n import tr
from lobby_app.core.identity import mask_free_text
from lobby_app.core.redact import hide_url_passwords

LOG_NAME = "lobby-app.log"
MAX_BYTES = 2_000_000
BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


_zone: tzinfo | None = None  # the branch's time zone once known; else the PC's own


def set_log_zone(name: str) -> None:
    """Write log times in the branch's time zone (from its settings, or the hub's welcome),
    so a line reads as the screens do (issue 18 item 16). An unknown name is ignored."""
    global _zone
    try:
        _zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logging.getLogger(__name__).warning("unknown time zone %r for the log", name)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return hide_url_passwords(mask_free_text(super().format(record)))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """2026-12-01 13:09:05.123+08:00: the branch's time with its offset, never a bare
        clock time that might be UTC."""
        when = datetime.fromtimestamp(record.created, _zone or datetime.now().astimezone().tzinfo)
        return when.isoformat(sep=" ", timespec="milliseconds")


class QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file, which must never get in the way: when a line cannot be written (a full
    disk, a removed folder), the person is told once, on stderr and in Chinese, and the app
    goes on; Python's own "--- Logging error ---" and traceback are not printed (issue 16
    item 12). Lines are tried again as they come, so logging resumes when there is room."""

    told = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self.told:
            return
        self.told = True
        exc = sys.exc_info()[1]
        why = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
        try:
            sys.stderr.write(
                tr(
                    f"注意：日志文件 {self.baseFilename} 无法写入（{why}），程序照常运行，"
                    "日志暂不记录。请清理磁盘或检查日志目录。\n"
                )
            )
            sys.stderr.flush()
        except Exception:  # stderr itself is gone: nothing more to say
            pass


def log_dir() -> Path:
    from lobby_app.config import log_dir as platform_log_dir

    env = os.environ.get("LOBBY_LOG_DIR")
    return Path(env) if env else platform_log_dir()


def log_file() -> Path:
    return log_dir() / LOG_NAME


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to the rotating file (once per process); None if the folder cannot be written
    (then logging stays silent rather than stopping the app)."""
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler):
            return Path(h.baseFilename)
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = QuietFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        root.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(MaskingFormatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    return path


def crash_message(path: Path | None) -> str:
    where = tr(f"已记录到日志文件：{path}") if path else tr("（日志文件无法写入）")
    return tr(
        f"程序遇到意外错误，需要关闭。{where}\n\n"
        "已经保存的取号、叫号和转介都不会丢失。请重新打开程序；"
        "如果反复出现，请把这个日志文件交给网点的科技（IT）人员。"
    )


def install_crash_handler(show: Callable[[str], None] | None = None) -> None:
    """Uncaught errors, on any thread: to the log with the traceback, and a plain message."""
    log = logging.getLogger("lobby_app.crash")

    def on_error(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught error", exc_info=(kind, exc, tb))
        message = crash_message(log_file())
        if show is not None:
            try:
                show(message)
                return
            except Exception:  # the message box itself failed: fall back to the terminal
                log.exception("could not show the crash message")
        print(message, file=sys.stderr)

    def on_thread_error(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            on_error(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = on_error
    threading.excepthook = on_thread_error
