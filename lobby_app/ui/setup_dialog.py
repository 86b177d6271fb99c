"""First-run setup (and later 本机设置): what this PC is, once, without a terminal.

The bank, branch name and code, this PC's role (the lobby desk, which is also the branch hub;
a teller window and its number; a customer manager; the calling display), the hub's address
and the branch's station key, the printer with a test print, and the head-office sync target.

Each mistake is said under its field, in the dialog's own words (the file's wording, "edit
the file", is for ``config.load``: the dialog shows a ``ConfigProblem``'s bare reason, never
its file wording, and the branch checks' messages without their command-line key names). A
message goes as soon as its field is no longer asked for (a role switch); the line at the bottom
goes with the last of them. After a first-run save of the desk PC, ``wants_branch_setup`` is
True: the caller goes on to 网点设置 (counters and staff).

The head office is asked for in parts (host, port, database, user, password), never as an
address with a password in it: the address built from them (today's
``postgresql+psycopg://user:password@host:5432/db``, user, password and database URL-quoted) is
shown read-only with its password as ``***``. An empty password field keeps the saved password.
A saved address of another kind (``sqlite:///…``, tests and the demo) is kept as it is unless a
host is typed.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lobby_app.config import (
    PRINT_KINDS,
    ROLE_LABELS,
    ROLES,
    BranchPart,
    Config,
    ConfigProblem,
    PrinterPart,
    StationPart,
    SyncPart,
    save,
    validate,
)
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.redact import hide_password
from lobby_app.store.admin import branch_changes
from lobby_app.ui.worker import Worker

if TYPE_CHECKING:
    from lobby_app.printing.dispatch import PrintTarget

PRINT_LABELS = {
    "printer": tr("打印机"),
    "folder": tr("存为 PDF 文件"),
    "none": tr("不打印"),
}

ERROR_STYLE = "color: #b00020;"
# messages a switch to another PC than the desk takes away (the names come from the hub)
ROLE_CLEARS = ("station.role", "branch.bank", "branch.name", "branch.code")
HUB_EXAMPLE = "ws://192.168.1.10:8765"

# What to fix, said in the dialog's words, for each configuration key ``config.validate``
# may refuse (its own messages point at the file, for a file edited by hand).
FIELD_MESSAGES = {
    "station.role": tr("请选择本机用途"),
    "station.window": tr("请填写本机的窗口号(1–999)"),
    "station.hub": tr(f"请填写网点主机地址，以 ws:// 开头，如 {HUB_EXAMPLE}"),
    "station.port": tr("主机端口应为 1–65535"),
    "printer.kind": tr("请选择打印方式"),
    "printer.name": tr("请选择或填写打印机名称，或把打印方式改为“存为 PDF 文件”"),
    "sync.url": tr(
        "总行地址无效：请重新填写主机、端口、数据库名和用户名，或清空主机(使用本机演示库)"
    ),
    "sync.time": tr("每日同步时间请写成 时:分，如 21:30"),
    "branch.code": tr("网点代码只能是字母和数字"),
}


# "请填写银行名称(bank)": the branch checks name the command line's key; not said here
_CLI_KEY = re.compile(r"\s*\([A-Za-z_][A-Za-z0-9_.]*\)")

PG_SCHEME = "postgresql+psycopg"
PG_PORT = "5432"


def dialog_words(message: str) -> str:
    """A store check's message as the dialog says it: without "(bank)"-style key names."""
    return _CLI_KEY.sub("", message)


@dataclass
class HeadOffice:
    """The head office's PostgreSQL address in the parts a person fills in."""

    host: str = ""
    port: str = PG_PORT
    database: str = ""
    user: str = ""
    password: str = ""
    scheme: str = PG_SCHEME
    query: str = ""  # kept as saved (e.g. sslmode=require)


def parse_head_office(url: str) -> HeadOffice | None:
    """The parts of a saved ``postgresql…://user:password@host:port/db`` address (user,
    password and database unquoted); None for another kind of address or one without a host."""
    if not url.startswith("postgresql"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    userinfo, _, hostport = parts.netloc.rpartition("@")  # an unquoted "@" stays in the password
    if hostport.startswith("["):  # [IPv6]:port
        host, _, rest = hostport[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    if not host:
        return None
    user, _, password = userinfo.partition(":")
    return HeadOffice(
        host=host,
        port=port or PG_PORT,
        database=unquote(parts.path.removeprefix("/")),
        user=unquote(user),
        password=unquote(password),
        scheme=parts.scheme,
        query=parts.query,
    )


def head_office_url(ho: HeadOffice) -> str:
    """The address the sync engine reads: ``postgresql+psycopg://user:password@host:5432/db``."""
    host = f"[{ho.host}]" if ":" in ho.host else ho.host
    who = quote(ho.user, safe="")
    if ho.password:
        who += ":" + quote(ho.password, safe="")
    url = f"{ho.scheme}://{who}@{host}:{ho.port}/{quote(ho.database, safe='')}"
    return f"{url}?{ho.query}" if ho.query else url


def test_page_pdf(path: Path) -> Path:
    """A small test page (80 mm) in Chinese: proves the printer and the font."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from lobby_app.printing.fonts import cjk_font

    font = cjk_font()
    c = Canvas(str(path), pagesize=(80 * mm, 50 * mm))
    c.setFont(font, 14)
    c.drawCentredString(40 * mm, 35 * mm, tr("打印测试"))
    c.setFont(font, 9)
    c.drawCentredString(40 * mm, 25 * mm, tr("网点厅堂管理 · 如能看清这几行字，打印正常"))
    c.drawCentredString(40 * mm, 18 * mm, "A001 V001 0123456789")
    c.save()
    return path


class SetupDialog(QDialog):
    def __init__(
        self,
        path: Path,
        current: Config | None = None,
        *,
        first_run: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.first_run = first_run
        self.saved: Config | None = None
        # True after a first-run save of the desk PC: the caller opens 网点设置 next.
        self.wants_branch_setup = False
        self._errors: dict[str, QLabel] = {}
        self._boxes: dict[str, QWidget] = {}
        self._loose = ""  # a message for no field shown (e.g. the file cannot be written)
        cfg = current or Config()
        self.setWindowTitle(tr("首次设置") if first_run else tr("本机设置"))
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        page = QWidget()
        root = QVBoxLayout(page)
        root.setContentsMargins(0, 0, 4, 0)
        scroll.setWidget(page)
        outer.addWidget(scroll, 1)
        intro = QLabel(
            tr("请设置这台电脑在网点中的用途。只需设置一次，以后可在“本机设置”中修改。")
            if first_run
            else tr("修改本机设置。角色、主机地址和端口在重新打开程序后生效。")
        )
        intro.setWordWrap(True)
        root.addWidget(intro)

        branch = QGroupBox(tr("网点"))
        bf = QFormLayout(branch)
        self.bank = QLineEdit(cfg.branch.bank)
        self.bank.setPlaceholderText(tr("例如 中国工商银行"))
        self.branch_name = QLineEdit(cfg.branch.name)
        self.branch_name.setPlaceholderText(tr("例如 城东支行"))
        self.branch_code = QLineEdit(cfg.branch.code)
        self.branch_code.setPlaceholderText(tr("例如 310115001"))
        bf.addRow(tr("银行名称"), self._field("branch.bank", self.bank))
        bf.addRow(tr("网点名称"), self._field("branch.name", self.branch_name))
        bf.addRow(tr("网点代码"), self._field("branch.code", self.branch_code))
        self.branch_hint = QLabel(tr("大堂经理电脑必填：显示在票据、叫号屏和日终汇总表上。"))
        self.branch_hint.setWordWrap(True)
        self.branch_hint.setStyleSheet("color: #555;")
        bf.addRow(self.branch_hint)
        root.addWidget(branch)

        station = QGroupBox(tr("本机角色"))
        sf = QFormLayout(station)
        self.role = QComboBox()
        for r in ROLES:
            self.role.addItem(ROLE_LABELS[r], r)
        self.role.setCurrentIndex(ROLES.index(cfg.station.role))
        self.window_no = QSpinBox()
        self.window_no.setRange(1, 999)
        self.window_no.setValue(cfg.station.window or 1)
        self.hub = QLineEdit(cfg.station.hub)
        self.hub.setPlaceholderText(HUB_EXAMPLE)
        self.key = QLineEdit(cfg.station.key)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(
            tr(
                "在大堂经理电脑上运行 lobby-app station-key 生成(已生成过：网点负责人加 --rotate 换发)"
            )
        )
        self.staff = QLineEdit(cfg.station.staff)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(cfg.station.port)
        sf.addRow(tr("用途"), self._field("station.role", self.role))
        sf.addRow(tr("窗口号"), self._field("station.window", self.window_no))
        sf.addRow(tr("网点主机地址"), self._field("station.hub", self.hub))
        sf.addRow(tr("站点密钥"), self._field("station.key", self.key))
        sf.addRow(tr("默认工号（可不填）"), self._field("station.staff", self.staff))
        sf.addRow(tr("主机端口"), self._field("station.port", self.port))
        self.next_hint = QLabel(
            tr("保存后接着设置本网点的柜台(窗口)和员工，也可以以后在工作台的“网点设置”中设置。")
        )
        self.next_hint.setWordWrap(True)
        self.next_hint.setStyleSheet("color: #555;")
        sf.addRow(self.next_hint)
        self._station_form = sf
        root.addWidget(station)

        self.print_box = QGroupBox(tr("打印"))
        pf = QFormLayout(self.print_box)
        self.print_kind = QComboBox()
        for k in PRINT_KINDS:
            self.print_kind.addItem(PRINT_LABELS[k], k)
        self.print_kind.setCurrentIndex(PRINT_KINDS.index(cfg.printer.kind))
        self.printer_name = QComboBox()
        self.printer_name.setEditable(True)
        self.printer_name.setCurrentText(cfg.printer.name)
        self.worker = Worker(self)  # the print system answers slowly; the dialog does not wait
        self.worker.submit(_printers, self._set_printers)
        self.folder = QLineEdit(cfg.printer.folder)
        self.folder.setPlaceholderText(tr("留空：数据目录下的 tickets 文件夹"))
        test_row = QHBoxLayout()
        self.test_btn = QPushButton(tr("测试打印"))
        self.test_btn.clicked.connect(self.test_print)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_btn)
        test_row.addWidget(self.test_result, 1)
        pf.addRow(tr("方式"), self._field("printer.kind", self.print_kind))
        pf.addRow(tr("打印机"), self._field("printer.name", self.printer_name))
        pf.addRow(tr("文件夹"), self._field("printer.folder", self.folder))
        pf.addRow(test_row)
        root.addWidget(self.print_box)

        self.sync_box = QGroupBox(tr("总行同步（仅大堂经理电脑）"))
        yf = QFormLayout(self.sync_box)
        # asked in parts; the password is never shown, an empty field keeps the saved one
        self._sync_saved_url = cfg.sync.url
        self._sync_saved = parse_head_office(cfg.sync.url)
        # a saved address of another kind (sqlite:///… for tests and the demo): kept as it is
        self._sync_other = cfg.sync.url if self._sync_saved is None else ""
        ho = self._sync_saved or HeadOffice()
        self.sync_host = QLineEdit(ho.host)
        self.sync_host.setPlaceholderText(tr("如 10.1.2.3；留空：使用本机演示库"))
        self.sync_port = QLineEdit(ho.port)
        self.sync_port.setPlaceholderText(PG_PORT)
        self.sync_database = QLineEdit(ho.database)
        self.sync_user = QLineEdit(ho.user)
        self.sync_password = QLineEdit()
        self.sync_password.setEchoMode(QLineEdit.EchoMode.Password)
        if ho.password:
            self.sync_password.setPlaceholderText(tr("已保存，不修改请留空"))
        self.sync_address = QLineEdit()
        self.sync_address.setReadOnly(True)  # made from the fields above, not typed
        self.sync_address.setStyleSheet("background: palette(window); color: #333;")
        self.sync_address.setPlaceholderText(tr("未设置总行：使用本机演示库"))
        self.sync_note = QLabel()
        self.sync_note.setWordWrap(True)
        self.sync_note.setStyleSheet("color: #555;")
        self.sync_time = QLineEdit(cfg.sync.time)
        yf.addRow(tr("主机"), self._field("sync.host", self.sync_host))
        yf.addRow(tr("端口"), self._field("sync.port", self.sync_port))
        yf.addRow(tr("数据库名"), self._field("sync.database", self.sync_database))
        yf.addRow(tr("用户名"), self._field("sync.user", self.sync_user))
        yf.addRow(tr("密码"), self._field("sync.password", self.sync_password))
        yf.addRow(tr("总行地址"), self._field("sync.url", self.sync_address))
        yf.addRow(self.sync_note)
        yf.addRow(tr("每日同步时间"), self._field("sync.time", self.sync_time))
        for edit in (
            self.sync_host,
            self.sync_port,
            self.sync_database,
            self.sync_user,
            self.sync_password,
        ):
            edit.textChanged.connect(self._sync_changed)
        self._sync_changed()
        root.addWidget(self.sync_box)
        root.addStretch(1)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        outer.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.role.currentIndexChanged.connect(self._role_changed)
        self.print_kind.currentIndexChanged.connect(self._print_changed)
        self._role_changed()
        self._print_changed()
        self._fit()

    def _fit(self) -> None:
        """560×720 at most, less on a smaller screen (the form scrolls)."""
        width, height = 580, 720
        screen = self.screen()
        if screen is not None:
            avail = screen.availableGeometry()
            width, height = min(width, avail.width() - 40), min(height, avail.height() - 60)
        self.resize(width, height)

    # ---------------------------------------------------------------- form

    def _field(self, key: str, widget: QWidget) -> QWidget:
        """A field with the message for it underneath (hidden while there is none)."""
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(widget)
        error = QLabel()
        error.setWordWrap(True)
        error.setStyleSheet(ERROR_STYLE)
        error.setVisible(False)
        col.addWidget(error)
        self._errors[key] = error
        self._boxes[key] = box
        return box

    def field_error(self, key: str) -> str:
        """The message shown under a field now ("" when none)."""
        label = self._errors.get(key)
        return label.text() if label is not None and not label.isHidden() else ""

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each message under its field (one for no field shown: at the bottom), and the line
        at the bottom saying to correct the red ones."""
        for key, text in problems.items():
            label = self._errors.get(key)
            if label is None or not self._box_shown(key):
                self._loose = text
                continue
            label.setText(text)
            label.setVisible(True)
        self._summarise()

    def _summarise(self) -> None:
        lines = [self._loose] if self._loose else []
        if any(label.text() for label in self._errors.values()):
            lines.append(tr("请按红字提示改正后再保存"))
        self.error.setText("\n".join(lines))

    def _box_shown(self, key: str) -> bool:
        box = self._boxes[key]
        if key.startswith("sync.") and not self.sync_box.isVisibleTo(self):
            return False
        if key.startswith("printer.") and not self.print_box.isVisibleTo(self):
            return False
        if key.startswith("station."):
            return self._station_form.isRowVisible(box)
        return True

    def _clear_errors(self, *, hidden_only: bool = False) -> None:
        """Messages go when saving again, and when their field is no longer asked for; the
        line at the bottom goes with the last of them."""
        if not hidden_only:
            self._loose = ""
        for key, label in self._errors.items():
            if not hidden_only or not self._box_shown(key):
                label.clear()
                label.setVisible(False)
        self._summarise()

    def _show_row(self, widget: QWidget, shown: bool) -> None:
        box = next(b for b in self._boxes.values() if widget.parent() is b)
        self._station_form.setRowVisible(box, shown)

    def _role_changed(self) -> None:
        role = self.role.currentData()
        self._show_row(self.window_no, role == "teller")
        self._show_row(self.hub, role != "desk")
        self._show_row(self.key, role != "desk")
        self._show_row(self.staff, role in ("teller", "manager"))
        self._show_row(self.port, role == "desk")
        self._station_form.setRowVisible(self.next_hint, role == "desk" and self.first_run)
        self.sync_box.setVisible(role == "desk")
        self.print_box.setVisible(role != "display")  # the calling display prints nothing
        self.branch_hint.setVisible(role == "desk")
        # a role was chosen; the names are required on the desk only
        for key in ("station.role",) if role == "desk" else ROLE_CLEARS:
            self._errors[key].clear()
            self._errors[key].setVisible(False)
        self.save_button.setText(
            tr("保存，下一步：柜台和员工")
            if self.first_run and role == "desk"
            else tr("保存并启动")
            if self.first_run
            else tr("保存")
        )
        self._clear_errors(hidden_only=True)

    def _print_changed(self) -> None:
        kind = self.print_kind.currentData()
        self.printer_name.setEnabled(kind == "printer")
        self.folder.setEnabled(kind == "folder")
        self.test_btn.setEnabled(kind != "none")
        if kind != "printer":  # no printer name asked for any more
            self._errors["printer.name"].clear()
            self._errors["printer.name"].setVisible(False)
            self._summarise()

    # ---------------------------------------------------------------- head office

    def _sync_url(self) -> str:
        """The head office's address from the fields; empty host: none (the local demo
        head office), or the saved address of another kind, kept as it is."""
        host = self.sync_host.text().strip()
        if not host:
            return self._sync_other
        saved = self._sync_saved
        typed = HeadOffice(
            host=host,
            port=self.sync_port.text().strip() or PG_PORT,
            database=self.sync_database.text().strip(),
            user=self.sync_user.text().strip(),
            password=self.sync_password.text(),
            scheme=saved.scheme if saved else PG_SCHEME,
            query=saved.query if saved else "",
        )
        if saved is not None and not typed.password:
            if (typed.host, typed.port, typed.database, typed.user) == (
                saved.host,
                saved.port,
                saved.database,
                saved.user,
            ):
                return self._sync_saved_url  # unchanged: exactly as saved
            typed.password = saved.password  # an empty field keeps the saved password
        return head_office_url(typed)

    def _sync_changed(self) -> None:
        """The address the fields make, shown with its password as ***."""
        self.sync_address.setText(hide_password(self._sync_url()))
        self.sync_address.setCursorPosition(0)
        other = bool(self._sync_other) and not self.sync_host.text().strip()
        self.sync_note.setText(
            tr("这是测试或演示用的地址，保存时保持不变；填写主机后改为连接总行数据库。")
            if other
            else ""
        )
        self.sync_note.setVisible(other)

    def _sync_problems(self) -> dict[str, str]:
        """The head office's fields, checked: a host asks for the database and the user."""
        out: dict[str, str] = {}
        host = self.sync_host.text().strip()
        port = self.sync_port.text().strip()
        database = self.sync_database.text().strip()
        user = self.sync_user.text().strip()
        if not host:
            if database or user or self.sync_password.text():
                out["sync.host"] = tr(
                    "请填写总行数据库的主机(名称或地址，如 10.1.2.3)；不连总行时请清空数据库名、用户名和密码"
                )
            return out
        if host.count(":") == 1:
            out["sync.host"] = tr("主机只填名称或地址，端口请填在“端口”栏")
        elif any(c.isspace() or c in "/@[]" for c in host):
            out["sync.host"] = tr("主机只填名称或地址(如 10.1.2.3)，不要含空格、“/”或“@”")
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            out["sync.port"] = tr(f"端口应为 1–65535 的整数，通常为 {PG_PORT}")
        if not database:
            out["sync.database"] = tr("请填写总行数据库名")
        elif any(c.isspace() for c in database):
            out["sync.database"] = tr("数据库名不能含空格")
        if not user:
            out["sync.user"] = tr("请填写登录总行数据库的用户名")
        elif any(c.isspace() for c in user):
            out["sync.user"] = tr("用户名不能含空格")
        return out

    def problems(self, cfg: Config) -> dict[str, str]:
        """What to fix, by configuration key, in the dialog's words (empty: nothing)."""
        out: dict[str, str] = {}
        st, desk = cfg.station, cfg.station.role == "desk"
        names = {"branch.bank": "bank", "branch.name": "name", "branch.code": "code"}
        values = {"bank": cfg.branch.bank, "name": cfg.branch.name, "code": cfg.branch.code}
        for key, arg in names.items():
            if not desk and not values[arg]:
                continue  # another PC takes the branch's names from the hub
            try:
                branch_changes(**{arg: values[arg]})
            except LobbyError as exc:
                out[key] = dialog_words(exc.message)
        if st.role == "teller" and (st.window is None or not 1 <= st.window <= 999):
            out["station.window"] = FIELD_MESSAGES["station.window"]
        if not desk and not st.hub.startswith(("ws://", "wss://")):
            out["station.hub"] = FIELD_MESSAGES["station.hub"]
        if cfg.printer.kind == "printer" and not cfg.printer.name:
            out["printer.name"] = FIELD_MESSAGES["printer.name"]
        if desk:
            out.update(self._sync_problems())
        if (
            desk
            and "sync.host" not in out
            and cfg.sync.url
            and not cfg.sync.url.startswith(("postgresql", "sqlite:///"))
        ):
            out["sync.url"] = FIELD_MESSAGES["sync.url"]
        hh, _, mm = cfg.sync.time.partition(":")
        if desk and not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            out["sync.time"] = FIELD_MESSAGES["sync.time"]
        return out

    def config(self) -> Config:
        role = str(self.role.currentData())
        return Config(
            BranchPart(
                self.branch_code.text().strip(),
                self.branch_name.text().strip(),
                self.bank.text().strip(),
            ),
            StationPart(
                role=role,
                window=self.window_no.value() if role == "teller" else None,
                hub=self.hub.text().strip() if role != "desk" else "",
                key=self.key.text().strip() if role != "desk" else "",
                staff=self.staff.text().strip(),
                port=self.port.value(),
            ),
            PrinterPart(
                # the calling display prints nothing (its printer is not asked for)
                "none" if role == "display" else str(self.print_kind.currentData()),
                self.printer_name.currentText().strip(),
                self.folder.text().strip(),
            ),
            SyncPart(self._sync_url(), self.sync_time.text().strip() or "21:30")
            if role == "desk"
            else SyncPart(),
        )

    # ---------------------------------------------------------------- actions

    def test_print(self) -> None:
        """Render and send a test page on the worker thread: a printer may take seconds."""
        from lobby_app.printing.dispatch import PrintTarget

        kind = str(self.print_kind.currentData())
        folder = self.folder.text().strip()
        target = PrintTarget(
            kind="printer" if kind == "printer" else "folder",
            printer=self.printer_name.currentText().strip() or None,
            folder=Path(folder) if folder else Path(tempfile.gettempdir()) / "lobby-app-test",
        )
        self.test_btn.setEnabled(False)
        self.test_result.setText(tr("正在打印测试页…"))
        self.test_result.setStyleSheet("")
        self.worker.submit(
            lambda: _send_test_page(target),
            lambda where: self._tested(
                tr(f"已发送测试页（{where}），请看打印机是否出纸")
                if kind == "printer"
                else tr(f"测试页已保存到 {where}"),
                ok=True,
            ),
            lambda exc: self._tested(
                getattr(exc, "message_zh", None) or tr(f"测试页未能生成：{exc}"), ok=False
            ),
        )

    def _tested(self, text: str, *, ok: bool) -> None:
        self.test_btn.setEnabled(True)
        self.test_result.setText(text)
        self.test_result.setStyleSheet("color: #1a7f37;" if ok else "color: #b00020;")

    def _set_printers(self, names: list[str]) -> None:
        typed = self.printer_name.currentText()
        self.printer_name.clear()
        self.printer_name.addItems(names)
        self.printer_name.setCurrentText(typed)

    def done(self, result: int) -> None:
        self.worker.shutdown()
        super().done(result)

    def accept(self) -> None:
        self._clear_errors()
        cfg = self.config()
        problems = self.problems(cfg)
        if problems:
            self.show_problems(problems)
            return
        try:
            validate(cfg, self.path)
            save(cfg, self.path)
        except ConfigProblem as exc:  # a check the form does not make itself
            key = exc.field or ""
            # the file's wording ("edit the file") is not for this dialog: its reason only
            self.show_problems({key: FIELD_MESSAGES.get(key) or exc.what})
            return
        except LobbyError as exc:
            self.show_problems({exc.field or "": dialog_words(exc.message)})
            return
        except OSError as exc:
            self.show_problems({"": tr(f"配置无法保存到 {self.path}（{exc.strerror or exc}）")})
            return
        self.saved = cfg
        self.wants_branch_setup = self.first_run and cfg.station.role == "desk"
        super().accept()


def _send_test_page(target: PrintTarget) -> str:
    from lobby_app.printing.dispatch import dispatch_pdf

    with tempfile.TemporaryDirectory(prefix="lobby-test-print-") as tmp:
        return dispatch_pdf(test_page_pdf(Path(tmp) / "print-test.pdf"), target)


def _printers() -> list[str]:
    from lobby_app.printing.dispatch import list_printers

    try:
        return list_printers(timeout_s=3)
    except Exception:  # no print system: the name can still be typed
        return []
