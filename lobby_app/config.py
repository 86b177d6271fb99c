"""This PC's configuration: which station it is, where the hub is, how it prints, where the
head office is. A TOML file in the platform's config directory (``--config`` chooses another),
written by the first-run dialog and the settings dialog, readable and editable by hand.

Example (``lobby-app.toml``)::

    [branch]
    bank = "中国工商银行"
    code = "310115001"
    name = "城东支行"

    [station]
    role = "teller"            # desk (lobby desk + hub) / teller / manager / display
    window = 3                 # teller only
    hub = "ws://192.168.1.10:8765"
    key = "…"                  # the branch's station key (not needed on the desk)
    staff = "T01"              # pre-filled at log-in (optional)

    [printer]
    kind = "printer"           # printer / folder / none
    name = "Receipt80"
    folder = ""

    [sync]                     # the desk (hub) only
    url = ""                   # empty: a local demo head office
    time = "21:30"

Loading checks every value and says which one is wrong, in which file, and how to fix it.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

FILE_NAME = "lobby-app.toml"
ROLES = ("desk", "teller", "manager", "display")
ROLE_LABELS = {
    "desk": tr("大堂经理工作台（兼网点主机）"),
    "teller": tr("柜员窗口"),
    "manager": tr("客户经理"),
    "display": tr("叫号显示屏"),
}
PRINT_KINDS = ("printer", "folder", "none")


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("lobby-app", appauthor=False)) / FILE_NAME


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("lobby-app", appauthor=False))


@dataclass
class BranchPart:
    code: str = ""
    name: str = ""
    bank: str = ""


@dataclass
class StationPart:
    role: str = "desk"
    window: int | None = None
    hub: str = ""
    key: str = ""
    staff: str = ""
    port: int = 8765
    data_dir: str = ""


@dataclass
class PrinterPart:
    kind: str = "folder"
    name: str = ""
    folder: str = ""


@dataclass
class SyncPart:
    url: str = ""
    time: str = "21:30"


@dataclass
class Config:
    branch: BranchPart = field(default_factory=BranchPart)
    station: StationPart = field(default_factory=StationPart)
    printer: PrinterPart = field(default_factory=PrinterPart)
    sync: SyncPart = field(default_factory=SyncPart)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConfigProblem(LobbyError):
    """A value of the configuration refused (code ``config_invalid``).

    ``message`` is for the file, edited by hand: which file, which key, what to do there.
    ``what`` is the bare reason, so the settings dialog can say it under its own field
    without pointing at the file it is editing; ``field`` is the key (``station.hub``)."""

    def __init__(self, path: Path, where: str, what: str) -> None:
        super().__init__(
            "config_invalid",
            tr(
                f"配置文件 {path} 中 {where}：{what}。请在“本机设置”里改正，或用文本编辑器修改该文件后重新打开。"
            ),
            field=where,
        )
        self.what = what


def _bad(path: Path, where: str, what: str) -> ConfigProblem:
    return ConfigProblem(path, where, what)


def _str(path: Path, sect: dict[str, Any], name: str, where: str, default: str = "") -> str:
    value = sect.get(name, default)
    if not isinstance(value, str):
        raise _bad(path, f"{where}.{name}", tr(f"应为文字（加引号），现为 {value!r}"))
    return value.strip()


def _int(
    path: Path, sect: dict[str, Any], name: str, where: str, default: int | None
) -> int | None:
    value = sect.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(path, f"{where}.{name}", tr(f"应为整数（不加引号），现为 {value!r}"))
    return value


def validate(cfg: Config, path: Path) -> Config:
    """Check what the values mean together; raise ``config_invalid`` naming the key."""
    st = cfg.station
    if st.role not in ROLES:
        raise _bad(path, "station.role", tr(f"应为 {' / '.join(ROLES)} 之一，现为“{st.role}”"))
    if st.role == "teller" and (st.window is None or not 1 <= st.window <= 999):
        raise _bad(path, "station.window", tr("柜员窗口需要窗口号（1–999 的整数）"))
    if st.role != "desk" and not st.hub.startswith(("ws://", "wss://")):
        raise _bad(path, "station.hub", tr("应为网点主机地址，如 ws://192.168.1.10:8765"))
    if not 1 <= st.port <= 65535:
        raise _bad(path, "station.port", tr("端口应为 1–65535"))
    if cfg.printer.kind not in PRINT_KINDS:
        raise _bad(
            path, "printer.kind", tr("应为 printer（打印机）/ folder（存为文件）/ none（不打印）")
        )
    if cfg.printer.kind == "printer" and not cfg.printer.name:
        raise _bad(path, "printer.name", tr("选择了打印机，但没有填打印机名称"))
    if cfg.sync.url and not cfg.sync.url.startswith(("postgresql", "sqlite:///")):
        raise _bad(
            path, "sync.url", tr("应为 postgresql+psycopg://用户:密码@主机:端口/库名，或留空")
        )
    hh, _, mm = cfg.sync.time.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise _bad(path, "sync.time", tr("应为 时:分，如 21:30"))
    if cfg.branch.code and not cfg.branch.code.isalnum():
        raise _bad(path, "branch.code", tr("网点代码只能是字母和数字"))
    return cfg


def load(path: Path | None = None) -> Config | None:
    """This PC's configuration, or None when there is none yet (first run)."""
    path = path or default_path()
    if not path.exists():
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _bad(path, tr("文件编码"), tr("不是 UTF-8 文本")) from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad(path, tr("格式"), tr(f"不是有效的 TOML（{exc}）")) from None
    except OSError as exc:
        raise LobbyError(
            "config_unreadable", tr(f"无法读取配置文件 {path}（{exc.strerror or exc}）")
        ) from exc
    sections = {}
    for name in ("branch", "station", "printer", "sync"):
        sect = raw.get(name, {})
        if not isinstance(sect, dict):
            raise _bad(path, name, tr("应为一个小节 [" + name + "]"))
        sections[name] = sect
    unknown = set(raw) - set(sections)
    if unknown:
        raise _bad(path, "、".join(sorted(unknown)), tr("不认识的小节"))
    b, s, p, y = (sections[n] for n in ("branch", "station", "printer", "sync"))
    cfg = Config(
        BranchPart(
            _str(path, b, "code", "branch"),
            _str(path, b, "name", "branch"),
            _str(path, b, "bank", "branch"),
        ),
        StationPart(
            role=_str(path, s, "role", "station", "desk"),
            window=_int(path, s, "window", "station", None),
            hub=_str(path, s, "hub", "station"),
            key=_str(path, s, "key", "station"),
            staff=_str(path, s, "staff", "station"),
            port=_int(path, s, "port", "station", 8765) or 8765,
            data_dir=_str(path, s, "data_dir", "station"),
        ),
        PrinterPart(
            _str(path, p, "kind", "printer", "folder"),
            _str(path, p, "name", "printer"),
            _str(path, p, "folder", "printer"),
        ),
        SyncPart(_str(path, y, "url", "sync"), _str(path, y, "time", "sync", "21:30")),
    )
    return validate(cfg, path)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    text = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def save(cfg: Config, path: Path | None = None) -> Path:
    """Write the file atomically (a crash leaves the old one); the station key and the head
    office's password are in it, so only this user may read it."""
    path = path or default_path()
    validate(cfg, path)
    lines = [tr("# 本机配置（网点厅堂管理）。可在程序的“本机设置”中修改。"), ""]
    for name, part in cfg.as_dict().items():
        lines.append(f"[{name}]")
        for k, v in part.items():
            if v is None or v == "":
                continue
            lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
