"""The lobby desk (大堂经理工作台): identify, pick the business, flag, note, issue, watch.

Keyboard first: the search box has focus; Enter picks the highlighted customer (or a
walk-in when nothing was typed), digits 1-9 pick a business, Enter issues the ticket.
F3 registers a walk-in who agrees as a new customer.

The customer at the desk is the highlighted search result, by keyboard or mouse alike: the
header "客户：…" says who it is, and the ticket carries exactly that customer (or none,
when the header says 散客 or 未选择). A query that found nobody is said (未找到), never
quietly turned into a walk-in.

Someone signs in before the desk works, and everything it does is recorded as that person.
After the branch's idle time without a key or mouse the desk locks behind a sign-in panel:
the same person unlocks it, or another desk person signs in (a shift change, audited).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.business import NEED_TAGS, BusinessType, PriorityKind, green_channel_marker
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import NOTES_MASKED
from lobby_app.core.routing import suggest_zone
from lobby_app.core.search import match_label
from lobby_app.core.staffing import role_label
from lobby_app.core.zones import Zone
from lobby_app.desk_backend import DeskBackend, LocalDesk, RemoteDesk
from lobby_app.logs import set_log_zone
from lobby_app.models.base import utcnow
from lobby_app.store import commands
from lobby_app.store.admin import Person
from lobby_app.store.commands import NOTE_MAX, IssueRequest
from lobby_app.store.db import Store
from lobby_app.store.setup import DEFAULT_SETTINGS, BranchSettings, settings_from
from lobby_app.store.views import CustomerView, IssuedTicket, LobbySnapshot
from lobby_app.store.walkin import Registered
from lobby_app.ui.models import BusinessModel, CustomerModel, QueueModel
from lobby_app.ui.signin import SignInForm, person_label
from lobby_app.ui.worker import Worker

if TYPE_CHECKING:
    from collections.abc import Callable

    from lobby_app.hub.thread import HubThread
    from lobby_app.ui.hublink import HubLink
    from lobby_app.ui.register_dialog import RegisterDialog
    from lobby_app.ui.summary_dialog import SummaryDialog

log = logging.getLogger(__name__)
D = TypeVar("D", bound=QDialog)

SEARCH_DELAY_MS = 120
REFRESH_MS = 3000
SYNC_STATUS_MS = 60_000
ERROR_STYLE = "color: #b00020; font-weight: bold;"
NOTICE_STYLE = "color: #2e7d32; font-weight: bold;"
BANNER_STYLE = (
    "background: #fff3cd; color: #7a4b00; border: 1px solid #e0b252; padding: 6px;"
    " font-weight: bold;"
)
NO_COUNTERS = tr("本网点还没有设置柜台窗口：请网点负责人在 设置 → 网点设置 中添加柜台和员工")
NO_OPEN_WINDOW = tr("无开放窗口")
IDENTIFY_HINT = tr(
    "请输入查询条件识别客户；无客户信息的按 F2（或在空的查询框按 Enter）作为散客办理。"
)
# Result columns hidden first when the table is narrow: 证件号, then 手机号 (the customer's
# card below the table shows both, masked). 匹配 (why each row was found), 层级 · 贵宾卡 and
# 客户经理 stay: the lobby manager routes and refers by them (issue 18 item 8).
OPTIONAL_RESULT_COLUMNS = (6, 3)
TAG_COLUMNS = 5  # need tags per row: 13 tags in three rows
INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class _InputWatch(QObject):
    """Any key, click, mouse move or wheel in the application: the desk is in use."""

    def __init__(self, on_input: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        # weak: a reference back to the desk would make a cycle, and a cycle of Qt windows
        # may be collected on the worker thread, which Qt does not survive
        self.on_input = weakref.WeakMethod(on_input)
        self.active = True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self.active and event.type() in INPUT_EVENTS:
            callback = self.on_input()
            if callback is not None:
                callback()
        return False


class DeskWindow(QMainWindow):
    hub_pushed = Signal(str, dict)  # hub events, handed from the hub's thread to the GUI
    referral_done = Signal(dict)  # a referral made here or arriving, after its slip printed

    def __init__(
        self,
        backend: Store | DeskBackend,
        *,
        actor: Person,
        hub: HubThread | None = None,
        link: HubLink | None = None,
        relink: Callable[[str, str], HubLink] | None = None,
        idle_lock_ms: int | None = None,
    ) -> None:
        """``actor``: who signed in (everything is recorded as them). ``relink``: for a desk
        on another PC, a new hub link for another person (a shift change logs in again).
        ``idle_lock_ms``: lock after this long without input (default: the branch setting
        ``desk_idle_lock_min``; 0 never locks)."""
        super().__init__()
        self.backend: DeskBackend = LocalDesk(backend) if isinstance(backend, Store) else backend
        # The store, when it is on this PC (the desk that is the hub); None for a remote desk.
        self.store = backend if isinstance(backend, Store) else None
        self.person = actor
        self.relink = relink
        self.locked = False
        self.counters: list[Any] | None = None  # None until the first answer
        self.lobby_snapshot: LobbySnapshot | None = None
        self._idle_override = idle_lock_ms
        self._dialogs: list[weakref.ReferenceType[QDialog]] = []  # see _track
        self.register_dialog: RegisterDialog | None = None
        self.config_path: Path | None = None  # this PC's configuration file, when started from it
        self.hub = hub
        self.link = link
        self.worker = Worker(self)
        self.settings = (
            settings_from(DEFAULT_SETTINGS) if self.backend.remote else self.backend.settings()
        )
        if not self.backend.remote:  # the log in branch time (a remote desk: from the hub)
            set_log_zone(self.settings.timezone)
        self.customer: CustomerView | None = None
        self.walk_in = False
        self.last_issued: IssuedTicket | None = None
        self._search_seq = 0
        self._shown_seq = 0
        self._pick_when_found = False
        self._issuing = False
        self._build()
        self._show_person()
        self._idle_timer = QTimer(self, singleShot=True)
        self._idle_timer.timeout.connect(self.lock)
        self._apply_idle_interval()
        self._input_watch = _InputWatch(self._on_input, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._input_watch)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)
        self._refresh_timer = QTimer(self, interval=REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_lobby)
        self._refresh_timer.start()
        if self.backend.remote:  # the hub's answer comes before anything else on the worker
            self.worker.submit(self.backend.settings, self._set_settings, self._show_error)
        self.worker.submit(self.backend.business_types, self._set_businesses, self._show_error)
        self.refresh_lobby()
        self._hub_refresh = QTimer(self, singleShot=True, interval=250)
        self._hub_refresh.timeout.connect(self.refresh_lobby)
        self.hub_pushed.connect(self._on_hub_event)
        if hub is not None:
            hub.hub.add_listener(_relay_to(self))
        if link is not None:
            link.setParent(self)
            link.pushed.connect(self._on_hub_event)
            link.state.connect(self._on_link_state)
        self.worker.submit(_warm_up_printing, None, lambda e: log.warning("printing: %s", e))
        self._sync_timer = QTimer(self, interval=SYNC_STATUS_MS)
        self._sync_timer.timeout.connect(self.refresh_sync_status)
        self._sync_timer.start()
        self.refresh_sync_status()
        self.search.setFocus()

    @property
    def actor(self) -> str:
        """The staff number everything done here is recorded as."""
        return self.person.staff_no

    def refresh_sync_status(self) -> None:
        self.worker.submit(
            self.backend.sync_status,
            self._show_sync_status,
            lambda e: log.warning("sync status: %s", e),
        )

    def _show_sync_status(self, st: dict[str, Any]) -> None:
        """What staff need to know of the nightly sync (issue 18 item 9): when it last went
        through and when the next one runs; a missed night in red, with how long ago the
        last success was. How many records wait to go is for the tooltip."""
        tz = self.settings.tz
        now = datetime.now(UTC).astimezone(tz)
        last = st.get("last_success_at")
        last_local = datetime.fromisoformat(last).astimezone(tz) if last else None
        when = last_local.strftime("%m-%d %H:%M") if last_local else ""
        nxt = ""
        if st.get("due_at"):
            upcoming = (datetime.fromisoformat(st["due_at"]) + timedelta(days=1)).astimezone(tz)
            day = tr("今晚") if upcoming.date() == now.date() else tr("明天")
            nxt = f"{day} {upcoming:%H:%M}"
        if st.get("missed"):
            if last_local is None:
                text = tr("夜间同步未完成：本网点还没有成功上传过总行")
            else:
                days = (now.date() - last_local.date()).days
                text = tr(f"夜间同步未完成：上次成功 {when}（{days} 天前）")
            text += tr("，系统会自动重试")
            if st.get("last_error"):
                text += tr(f"：{st['last_error'][:60]}")
        elif last_local is None:
            text = tr("总行同步：尚未同步过") + (tr(f" · 首次同步 {nxt}") if nxt else "")
        else:
            text = tr(f"总行同步：上次成功 {when}") + (tr(f" · 下次 {nxt}") if nxt else "")
        pending = int(st.get("pending") or 0)
        tip = tr(f"待上传 {pending} 项记录(取号、叫号、转介等)，下次同步时上传")
        if st.get("last_error"):
            tip += "\n" + tr(f"上次出错：{st['last_error']}")
        held = int(st.get("quarantined") or 0)
        if held:  # rows head office refused: kept here, resent each night once fixed
            text += tr(f" · {held} 行被总行拒收(已隔离)")
            first = (st.get("quarantine") or [{}])[0]
            tip = "\n".join(
                p for p in (tip, tr(f"被总行拒收：{first.get('reason', '')}，请修正数据")) if p
            )
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tip)
        self.sync_label.setStyleSheet(ERROR_STYLE if st.get("missed") or held else "color: #555;")

    # ------------------------------------------------------------ who works here

    def _show_person(self) -> None:
        p = self.person
        who = person_label(p)
        role = role_label(p.role) if p.role else ""
        self.setWindowTitle(tr(f"大堂经理工作台 · {self.settings.display_name} · {who}"))
        self.person_label.setText(
            tr(f"已锁定 · {who}") if self.locked else tr(f"当前登录：{who} {role}").strip()
        )
        self.lock_who.setText(tr(f"当前登录：<b>{who}</b> {role}"))

    def _apply_idle_interval(self) -> None:
        ms = self.idle_lock_ms
        self._idle_timer.stop()
        if ms > 0:
            self._idle_timer.setInterval(ms)
            if not self.locked:
                self._idle_timer.start()

    @property
    def idle_lock_ms(self) -> int:
        """How long without input before the desk locks (0: never)."""
        if self._idle_override is not None:
            return self._idle_override
        return self.settings.desk_idle_lock_min * 60_000

    @idle_lock_ms.setter
    def idle_lock_ms(self, ms: int | None) -> None:
        self._idle_override = ms
        self._apply_idle_interval()

    def _on_input(self) -> None:
        if not self.locked and self._idle_timer.interval() > 0 and self._idle_timer.isActive():
            self._idle_timer.start()  # starts the wait again

    def lock(self) -> None:
        """Hide the desk behind the sign-in panel (idle, or 换班/签退)."""
        if self.locked:
            return
        self.locked = True
        self._idle_timer.stop()
        for ref in self._dialogs:  # a customer's data must not stay on screen
            dlg = ref()
            if dlg is not None and shiboken6.isValid(dlg) and dlg.isVisible():
                dlg.reject()
        self._dialogs.clear()
        for item in self._lockable:
            item.setEnabled(False)
        self.stack.setCurrentIndex(1)
        self.lock_form.reset(self.person.staff_no)
        self._show_person()
        log.info("desk locked (%s)", self.actor)

    def _track(self, dlg: D) -> D:
        """A dialog opened here, closed when the desk locks. (Not found by ``findChildren``:
        that wraps every Qt-internal child in Python, and Qt deletes some of those behind
        the wrappers' back.)"""
        self._dialogs = [r for r in self._dialogs if r() is not None]
        self._dialogs.append(weakref.ref(dlg))
        return dlg

    def _signed_in_at_lock(self, person: Person, pin: str) -> None:
        before = self.person
        if person.staff_no != before.staff_no:
            self._take_over(before, person, pin)
        self._unlock()
        if person.staff_no != before.staff_no:
            self._say(
                tr(
                    f"已换班：{person_label(before)} → {person_label(person)}，此后操作记在接班人名下"
                )
            )

    def _take_over(self, before: Person, after: Person, pin: str) -> None:
        self.person = after
        if isinstance(self.backend, RemoteDesk) and self.relink is not None:
            self._relink(after.staff_no, pin)
        backend = self.backend
        self.worker.submit(
            lambda: backend.record_takeover(before=before, after=after),
            None,
            lambda e: log.warning("takeover not recorded: %s", e),
        )
        self._reset_form()

    def _relink(self, staff: str, pin: str) -> None:
        """A desk on another PC logs in at the hub as the new person."""
        assert self.relink is not None and isinstance(self.backend, RemoteDesk)
        old = self.link
        new = self.relink(staff, pin)
        new.setParent(self)
        new.pushed.connect(self._on_hub_event)
        new.state.connect(self._on_link_state)
        self.backend.call = new.call
        self.link = new
        new.start()
        if old is not None:
            old.pushed.disconnect(self._on_hub_event)
            old.state.disconnect(self._on_link_state)
            old.close()
            old.deleteLater()

    def _unlock(self) -> None:
        self.locked = False
        for item in self._lockable:
            item.setEnabled(True)
        self.stack.setCurrentIndex(0)
        self._show_person()
        self._apply_idle_interval()
        self.search.setFocus()

    def _say(self, text: str) -> None:
        """A line for the person at the desk (not an error)."""
        self.error_label.setStyleSheet(NOTICE_STYLE)
        self.error_label.setText(text)

    # ------------------------------------------------------------ registration

    def open_register(self) -> RegisterDialog | None:
        """登记新客户 (F3): the new customer becomes the one at the desk."""
        from lobby_app.ui.register_dialog import RegisterDialog

        if self.locked:
            return None
        backend, actor = self.backend, self.actor

        def register(name: str, phone: str, ident: str | None, consent: bool) -> Registered:
            return backend.register(
                name=name, phone=phone, id_number=ident, consent=consent, actor=actor
            )

        dlg = RegisterDialog(register, self.worker, search_text=self.search.text(), parent=self)
        self.register_dialog = self._track(dlg)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.registered.connect(self._registered)
        dlg.open()
        return dlg

    def _registered(self, reg: Registered) -> None:
        backend, actor = self.backend, self.actor
        self.worker.submit(
            lambda: backend.customer(reg.customer_id, actor=actor),
            lambda c: self._use_registered(reg, c),
            self._show_error,
        )

    def _use_registered(self, reg: Registered, c: CustomerView) -> None:
        self._cancel_search()
        self.search.setText(reg.customer_no)
        self.customer_model.set_rows([c])
        self.results.selectRow(0)
        self._set_customer(c)
        self._after_identify()
        self._say(
            tr(f"已登记为潜在客户 客户号 {reg.customer_no}（{reg.name}，{reg.phone_masked}）")
        )

    # ------------------------------------------------------------ layout

    def _build(self) -> None:
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_identify())
        splitter.addWidget(self._build_form())
        splitter.addWidget(self._build_right())
        splitter.setStretchFactor(0, 6)
        splitter.setStretchFactor(1, 4)
        splitter.setStretchFactor(2, 5)
        splitter.setSizes([560, 400, 500])
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(4, 4, 4, 0)
        cl.setSpacing(4)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()
        cl.addWidget(self.banner)
        self.stack = QStackedWidget()
        self.stack.addWidget(splitter)
        self.stack.addWidget(self._build_lock())
        cl.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.person_label = QLabel()
        self.person_label.setStyleSheet("font-weight: bold; padding: 0 6px;")
        self.statusBar().addPermanentWidget(self.person_label)
        self.sync_label = QLabel()
        self.statusBar().addWidget(self.sync_label)
        # what a locked desk must not do: every menu action and shortcut
        self._lockable: list[QAction | QShortcut] = []

        def action(menu: Any, text: str, slot: Callable[[], object], key: Any = None) -> QAction:
            act = QAction(text, self)
            if key is not None:
                act.setShortcut(QKeySequence(key))
            act.triggered.connect(slot)
            menu.addAction(act)
            self._lockable.append(act)
            return act

        desk_menu = self.menuBar().addMenu(tr("工作台(&W)"))
        action(desk_menu, tr("登记新客户…"), self.open_register, Qt.Key.Key_F3)
        desk_menu.addSeparator()
        self.lock_action = action(desk_menu, tr("换班/签退(锁定工作台)"), self.lock, "Ctrl+L")
        menu = self.menuBar().addMenu(tr("设置(&S)"))
        action(menu, tr("网点设置…"), self.open_branch_setup)
        action(menu, tr("导入客户名录…"), self.open_directory_import)
        action(menu, tr("打印设置…"), self.open_print_settings)
        action(menu, tr("本机设置…"), self.open_local_settings)
        day_menu = self.menuBar().addMenu(tr("日终(&D)"))
        action(day_menu, tr("营业日终汇总…"), self.open_summary, Qt.Key.Key_F10)
        help_menu = self.menuBar().addMenu(tr("帮助(&H)"))
        action(help_menu, tr("关于…"), self.show_about)
        for key, slot in (
            (Qt.Key.Key_F2, self.choose_walk_in),
            (Qt.Key.Key_Escape, self.reset_customer),
            ("Ctrl+Return", self.issue),
            ("Ctrl+Enter", self.issue),
            (Qt.Key.Key_F8, self.refer),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            self._lockable.append(shortcut)

    def _build_lock(self) -> QWidget:
        """The lock panel: nothing of the desk shows behind it."""
        self.lock_page = page = QWidget()
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        # Every widget here is kept on the window: a widget only a layout refers to can be
        # freed behind PySide's back, and the garbage collector then trips over it.
        self.lock_box = box = QFrame()
        box.setObjectName("lockBox")
        box.setStyleSheet(
            "#lockBox { border: 1px solid #bbb; border-radius: 8px; background: #fafafa; }"
        )
        box.setMinimumWidth(440)
        box.setMaximumWidth(560)
        bl = QVBoxLayout(box)
        bl.setContentsMargins(24, 20, 24, 20)
        bl.setSpacing(10)
        self.lock_title = title = QLabel(tr("工作台已锁定"))
        title.setStyleSheet("font-size: 18pt; font-weight: bold;")
        bl.addWidget(title)
        self.lock_who = QLabel()
        self.lock_who.setWordWrap(True)
        bl.addWidget(self.lock_who)
        self.lock_hint = hint = QLabel(
            tr(
                "本人输入密码即可解锁；换班时由接班的大堂经理、大堂引导员或网点负责人"
                "输入自己的工号和密码，此后的操作记在接班人名下。"
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        bl.addWidget(hint)
        self.lock_form = SignInForm(self.backend.sign_in, self.worker, button=tr("解锁 / 接班登录"))
        self.lock_form.signed_in.connect(self._signed_in_at_lock)
        bl.addWidget(self.lock_form)
        row.addWidget(box, 1)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        return page

    def _build_identify(self) -> QWidget:
        box = QGroupBox(tr("① 识别客户"))
        lay = QVBoxLayout(box)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("手机号/证件号/客户号/卡号后4位/姓名/拼音(如 zs)"))
        self.search.setClearButtonEnabled(True)
        f = self.search.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        self.search.setFont(f)
        self.search.textEdited.connect(self._on_search_edited)
        self.search.installEventFilter(self)
        srow = QHBoxLayout()
        srow.addWidget(self.search, 1)
        self.register_button = QPushButton(tr("登记新客户 F3"))
        self.register_button.setToolTip(tr("查无此人且客户同意时，登记为潜在客户"))
        self.register_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.register_button.clicked.connect(self.open_register)
        srow.addWidget(self.register_button)
        lay.addLayout(srow)
        self.customer_model = CustomerModel()
        self.results = QTableView()
        self.results.setModel(self.customer_model)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.verticalHeader().hide()
        self.results.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.results.horizontalHeader().setStretchLastSection(True)
        self.results.verticalHeader().setDefaultSectionSize(24)
        self.results.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.customer_model.modelReset.connect(self._fit_result_columns)
        self.results.installEventFilter(self)
        # Enter in the list, or a double click: pick (a single click already selects)
        self.results.activated.connect(lambda idx: self.pick_customer(idx.row()))
        self.results.clicked.connect(lambda idx: self._select_row(idx.row()))
        self.results.selectionModel().currentRowChanged.connect(
            lambda cur, _prev: self._select_row(cur.row())
        )
        lay.addWidget(self.results, 3)
        row = QHBoxLayout()
        self.walk_in_button = QPushButton(tr("散客(无客户信息)  F2"))
        self.walk_in_button.clicked.connect(self.choose_walk_in)
        row.addWidget(self.walk_in_button)
        row.addStretch()
        lay.addLayout(row)
        self.detail = QLabel(IDENTIFY_HINT)
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setFrameShape(QFrame.Shape.StyledPanel)
        self.detail.setMinimumHeight(120)
        self.detail.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self.detail, 2)
        return box

    def _build_form(self) -> QWidget:
        box = QGroupBox(tr("② 业务 · 标记 · 需求"))
        lay = QVBoxLayout(box)
        self.who = QLabel(tr("客户：未选择"))
        self.who.setStyleSheet("font-weight: bold;")
        lay.addWidget(self.who)
        self.business_model = BusinessModel()
        self.business_list = QListView()
        self.business_list.setModel(self.business_model)
        self.business_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.business_list.installEventFilter(self)
        self.business_list.selectionModel().currentChanged.connect(lambda *_: self._update_zone())
        lay.addWidget(self.business_list, 3)

        zone_row = QGridLayout()
        zone_row.addWidget(QLabel(tr("建议区域：")), 0, 0)
        self.zone_suggestion = QLabel("—")
        self.zone_suggestion.setWordWrap(True)
        zone_row.addWidget(self.zone_suggestion, 0, 1, 1, 2)
        zone_row.addWidget(QLabel(tr("改派到：")), 1, 0)
        self.zone_combo = QComboBox()
        self.zone_combo.addItem(tr("按建议"), None)
        for z in Zone:
            self.zone_combo.addItem(z.label, z)
        self.zone_combo.currentIndexChanged.connect(lambda *_: self._update_zone())
        zone_row.addWidget(self.zone_combo, 1, 1)
        self.zone_reason = QLineEdit()
        self.zone_reason.setPlaceholderText(tr("改派原因"))
        self.zone_reason.setMaxLength(100)
        zone_row.addWidget(self.zone_reason, 1, 2)
        zone_row.setColumnStretch(2, 1)
        lay.addLayout(zone_row)

        flags = QGridLayout()
        self.vip_check = QCheckBox(tr("贵宾(绿色通道)"))
        self.vip_check.toggled.connect(lambda *_: self._update_zone())
        flags.addWidget(self.vip_check, 0, 0)
        self.vip_reason = QLineEdit()
        self.vip_reason.setPlaceholderText(tr("手动标记贵宾的原因"))
        self.vip_reason.setMaxLength(100)
        flags.addWidget(self.vip_reason, 0, 1)
        flags.addWidget(QLabel(tr("优先服务：")), 1, 0)
        self.priority_combo = QComboBox()
        self.priority_combo.addItem(tr("无"), None)
        for k in PriorityKind:
            self.priority_combo.addItem(k.label, k)
        self.priority_combo.currentIndexChanged.connect(lambda *_: self._update_zone())
        prow = QHBoxLayout()
        prow.addWidget(self.priority_combo)
        self.priority_reason = QLineEdit()
        self.priority_reason.setPlaceholderText(tr("优先原因(“其他”必填)"))
        self.priority_reason.setMaxLength(100)
        prow.addWidget(self.priority_reason, 1)
        flags.addLayout(prow, 1, 1)
        flags.setColumnStretch(1, 1)
        lay.addLayout(flags)

        lay.addWidget(QLabel(tr("需求标签：")))
        tags = QGridLayout()
        tags.setSpacing(4)
        self.need_buttons: dict[str, QPushButton] = {}
        for i, (code, label) in enumerate(NEED_TAGS.items()):
            b = QPushButton(label)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.setStyleSheet("QPushButton:checked { background: #2e7d32; color: white; }")
            self.need_buttons[code] = b
            tags.addWidget(b, i // TAG_COLUMNS, i % TAG_COLUMNS)
        lay.addLayout(tags)
        self.greeting = QLineEdit()
        self.greeting.setPlaceholderText(tr("迎宾备注(如：神色焦急、带老人同来)"))
        self.greeting.setMaxLength(NOTE_MAX)
        self.greeting.returnPressed.connect(self.issue)
        lay.addWidget(self.greeting)
        self.needs_note = QPlainTextEdit()
        self.needs_note.setPlaceholderText(tr("需求备注(Ctrl+Enter 取号)"))
        self.needs_note.setFixedHeight(64)
        self.needs_note.textChanged.connect(self._update_note_count)
        lay.addWidget(self.needs_note)
        self.note_count = QLabel()
        self.note_count.setAlignment(Qt.AlignmentFlag.AlignRight)
        lay.addWidget(self.note_count)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        lay.addWidget(self.error_label)
        self.issue_button = QPushButton(tr("取号 (Enter)"))
        self.issue_button.setMinimumHeight(44)
        bf = self.issue_button.font()
        bf.setPointSizeF(bf.pointSizeF() * 1.3)
        bf.setBold(True)
        self.issue_button.setFont(bf)
        self.issue_button.setStyleSheet(
            "QPushButton { background: #c62828; color: white; border-radius: 4px; }"
            "QPushButton:disabled { background: #aaa; }"
        )
        self.issue_button.clicked.connect(self.issue)
        lay.addWidget(self.issue_button)
        self._update_note_count()
        self._update_zone()
        return box

    def _build_right(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        card = QGroupBox(tr("③ 取号结果"))
        cl = QVBoxLayout(card)
        self.result_number = QLabel("—")
        nf = QFont(self.result_number.font())
        nf.setPointSizeF(nf.pointSizeF() * 2.6)
        nf.setBold(True)
        self.result_number.setFont(nf)
        self.result_number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cl.addWidget(self.result_number)
        self.result_text = QLabel(tr("尚未取号"))
        self.result_text.setWordWrap(True)
        self.result_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cl.addWidget(self.result_text)
        prow = QHBoxLayout()
        self.print_status = QLabel()
        self.print_status.setWordWrap(True)
        prow.addWidget(self.print_status, 1)
        self.reprint_button = QPushButton(tr("重打"))
        self.reprint_button.setEnabled(False)
        self.reprint_button.clicked.connect(self.reprint)
        prow.addWidget(self.reprint_button)
        self.refer_button = QPushButton(tr("转介… F8"))
        self.refer_button.clicked.connect(self.refer)
        prow.addWidget(self.refer_button)
        cl.addLayout(prow)
        lay.addWidget(card)

        lobby = QGroupBox(tr("④ 厅堂实况"))
        ll = QVBoxLayout(lobby)
        self.lobby_header = QLabel()
        ll.addWidget(self.lobby_header)
        inner = QWidget()
        self._queues_layout = il = QVBoxLayout(inner)
        il.setSpacing(2)
        il.setContentsMargins(0, 0, 0, 0)
        self.zone_stats: dict[Zone, QLabel] = {}
        self.zone_models: dict[Zone, QueueModel] = {}
        self.zone_views: dict[Zone, QTableView] = {}
        for z in Zone:
            stat = QLabel()
            stat.setTextFormat(Qt.TextFormat.RichText)
            stat.setStyleSheet("font-weight: bold; margin-top: 2px;")
            # one line: word wrap would make the scroll area size the queues by their
            # preferred height; a narrow column cuts the line short, never scrolls sideways
            stat.setWordWrap(False)
            stat.setMinimumWidth(1)
            stat.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            il.addWidget(stat)
            model = QueueModel()
            view = QTableView()
            view.setModel(model)
            view.verticalHeader().hide()
            view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            view.horizontalHeader().setStretchLastSection(True)
            view.verticalHeader().setDefaultSectionSize(22)
            view.setMinimumHeight(50)
            il.addWidget(view, 1)
            self.zone_stats[z], self.zone_models[z], self.zone_views[z] = stat, model, view
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, tr("各区排队"))
        self.counters_table = _table(COUNTER_COLUMNS)
        self.tabs.addTab(self.counters_table, tr("窗口状态"))
        self.referrals_table = _table(REFERRAL_COLUMNS)
        self.tabs.addTab(self.referrals_table, tr("今日转介"))
        ll.addWidget(self.tabs)
        self.hub_label = QLabel()
        self.hub_label.setWordWrap(True)
        ll.addWidget(self.hub_label)
        lay.addWidget(lobby, 1)
        return w

    # ------------------------------------------------------------ keyboard

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and obj is getattr(self, "results", None):
            self._fit_result_columns()
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if obj is self.search:
                if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                    self._move_result(1 if key == Qt.Key.Key_Down else -1)
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self._enter_in_search()
                    return True
            elif obj is self.business_list:
                if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and not event.modifiers():
                    row = key - Qt.Key.Key_1
                    if row < self.business_model.rowCount():
                        self.business_list.setCurrentIndex(self.business_model.index(row))
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.issue()
                    return True
        return super().eventFilter(obj, event)

    def _fit_result_columns(self) -> None:
        """On a narrow screen the columns the card below repeats give way, so the rest are
        read without scrolling sideways."""
        view, model = self.results, self.customer_model
        n = model.columnCount()
        head_fm, cell_fm = view.horizontalHeader().fontMetrics(), view.fontMetrics()
        horizontal = Qt.Orientation.Horizontal

        def need(c: int) -> int:  # measured from the text: a hidden column reports nothing
            cells = (str(model.index(r, c).data() or "") for r in range(model.rowCount()))
            widest = max((cell_fm.horizontalAdvance(t) for t in cells), default=0)
            title = str(model.headerData(c, horizontal) or "")
            return max(widest, head_fm.horizontalAdvance(title)) + 10

        for c in range(n):
            view.setColumnHidden(c, False)
        total = sum(need(c) for c in range(n))
        for c in OPTIONAL_RESULT_COLUMNS:
            if total <= view.viewport().width() or c >= n:
                break
            view.setColumnHidden(c, True)
            total -= need(c)

    def _share_queue_space(self) -> None:
        """The four queues share the panel by how many wait in each: an empty zone keeps
        its line and a one-row table, a busy one grows, so every zone's head is in view at
        once (issue 18 item 8), on 768 lines as on 1080."""
        for zone, view in self.zone_views.items():
            rows = self.zone_models[zone].rowCount()
            header = view.horizontalHeader().sizeHint().height()
            row_h = view.verticalHeader().defaultSectionSize()
            frame = 2 * view.frameWidth()
            one_row = header + row_h + frame + 2
            view.setMinimumHeight(one_row)
            # as tall as its rows need, no taller: the rest goes to the busier queues
            view.setMaximumHeight(header + max(1, rows) * row_h + frame + 2)
            self._queues_layout.setStretchFactor(view, max(1, min(rows, 40)))

    def _move_result(self, step: int) -> None:
        n = self.customer_model.rowCount()
        if not n:
            return
        cur = self.results.currentIndex().row()
        row = max(0, min(n - 1, (cur if cur >= 0 else -1) + step))
        self.results.selectRow(row)

    def _enter_in_search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self.choose_walk_in()
            return
        if self._search_pending():
            self._pick_when_found = True  # results are on their way: pick when they land
            if self._search_timer.isActive():
                self._search_timer.stop()
                self._run_search()
            return
        if self.customer_model.rowCount():
            row = max(0, self.results.currentIndex().row())
            self.pick_customer(row)
        else:
            self._say_not_found(text)

    # ------------------------------------------------------------ identify

    def _search_pending(self) -> bool:
        """Typed, and the results for it have not landed: the customer may still change."""
        return self._search_timer.isActive() or self._shown_seq != self._search_seq

    def _cancel_search(self) -> None:
        """Forget a search in flight: its answer must not replace who is at the desk."""
        self._search_timer.stop()
        self._search_seq += 1
        self._shown_seq = self._search_seq
        self._pick_when_found = False

    def _on_search_edited(self, _text: str) -> None:
        self._search_timer.start()

    def _run_search(self) -> None:
        text = self.search.text()
        self._search_seq += 1
        seq = self._search_seq
        if not text.strip():
            self._show_results(seq, [])
            return
        self.worker.submit(
            lambda: self.backend.lookup(text),
            lambda rows: self._show_results(seq, rows),
            self._show_error,
        )

    def _show_results(self, seq: int, rows: list[CustomerView]) -> None:
        """A new search's results: the first is highlighted, and so is the customer at the
        desk; nothing found leaves nobody (and says 未找到)."""
        if seq != self._search_seq:
            return  # an older query answered late: a newer one is on its way
        self._shown_seq = seq
        self.customer_model.set_rows(rows)  # a model reset: no current row, no signal
        text = self.search.text().strip()
        if rows:
            self.results.selectRow(0)
            self._set_customer(rows[0])
        else:
            self._set_customer(None)
            if text:
                self._say_not_found(text, focus=False)
            else:
                self.detail.setText(IDENTIFY_HINT)
        if self._pick_when_found:
            self._pick_when_found = False
            if rows:
                self.pick_customer(max(0, self.results.currentIndex().row()))
            else:
                self._say_not_found(text)

    def _select_row(self, row: int) -> None:
        """A highlighted result (arrow keys, a click) is the customer at the desk."""
        c = self.customer_model.customer(row)
        if c is not None:
            self._set_customer(c)

    def pick_customer(self, row: int) -> None:
        """Enter or a double click: this customer, their full notes, and on to the form."""
        c = self.customer_model.customer(row)
        if c is None:
            return
        if self.results.currentIndex().row() != row:
            self.results.selectRow(row)
        self._set_customer(c)
        self.worker.submit(
            lambda: self.backend.customer(c.id, actor=self.actor),
            self._show_customer,
            self._show_error,
        )
        self._after_identify()

    def choose_walk_in(self) -> None:
        """散客 (F2, or Enter in an empty search box): no customer, and no result left
        highlighted that could be mistaken for one."""
        self._cancel_search()
        self.search.clear()
        self.customer_model.set_rows([])
        self._set_customer(None, walk_in=True)
        self.detail.setText(tr("<b>散客</b>：无客户信息。如客户愿意，可在备注中记录需求。"))
        self._after_identify()

    def _set_customer(self, c: CustomerView | None, *, walk_in: bool = False) -> None:
        """The one place that changes who is at the desk; the header and the VIP flag
        follow, so what the header shows is what ``request()`` puts on the ticket."""
        same = c is not None and self.customer is not None and c.id == self.customer.id
        self.customer = c
        self.walk_in = walk_in and c is None
        self._show_who()
        if c is not None:
            self._render_detail(c)
        if not same:  # a manual VIP flag stays while the same customer stays
            entitled = bool(c and c.vip_entitled)
            self.vip_check.setChecked(entitled)
            self.vip_check.setText(
                tr("贵宾(绿色通道) · 自动") if entitled else tr("贵宾(绿色通道)")
            )
        self._update_zone()

    def _show_who(self) -> None:
        c = self.customer
        if c is not None:
            self.who.setText(tr(f"客户：{c.salutation}  {c.customer_no}  {c.tier.label}"))
        else:
            self.who.setText(tr("客户：散客") if self.walk_in else tr("客户：未选择"))

    def _say_not_found(self, text: str, *, focus: bool = True, at_issue: bool = False) -> None:
        """Nobody matched: say so beside the search (and beside 取号 when that was pressed);
        never make a walk-in of it. The typed text is selected, to type again."""
        self.detail.setText(f"<span style='{ERROR_STYLE}'>{_html(not_found_text(text))}</span>")
        if at_issue:
            self.error_label.setStyleSheet(ERROR_STYLE)
            self.error_label.setText(not_found_text(text))
        if focus:
            self.search.setFocus()
            self.search.selectAll()

    def _after_identify(self) -> None:
        self.error_label.clear()
        if self.business_model.rowCount() and not self.business_list.currentIndex().isValid():
            self.business_list.setCurrentIndex(self.business_model.index(0))
        self.business_list.setFocus()

    def _show_customer(self, c: CustomerView) -> None:
        """The full record of the customer picked (more notes), if they are still the one."""
        if self.customer is None or c.id != self.customer.id:
            return
        self._set_customer(replace(c, matched=c.matched or self.customer.matched))

    def _render_detail(self, c: CustomerView) -> None:
        card = c.vip_card.label if c.vip_card else tr("无")
        if c.card_note:  # 特批 with its approval, or 待降级 (003 第十二条, 第十四条)
            colour = "#b71c1c" if c.card_note.startswith(tr("待降级")) else "#1565c0"
            card += f"　<span style='color:{colour}'>{c.card_note}</span>"
        elif c.vip_special:
            card += tr("(特批)")
        found_by = match_label(c.matched)
        lines = [
            f"<b style='font-size:14pt'>{c.salutation}</b>　{c.customer_no}"
            + (f"　<span style='color:#555'>{tr(f'按{found_by}找到')}</span>" if found_by else ""),
            tr(
                f"层级：<b>{c.tier.label}</b>　贵宾卡：{card}"
                f"{'　<b style=color:#1565c0>潜在客户</b>' if c.prospect else ''}"
            ),
            tr(f"证件：{c.masked_id or '—'}　手机：{c.masked_phone or '—'}"),
            tr(f"卡号：{c.masked_card or '—'}"),
            tr(f"客户经理：{c.manager or '未分配'}"),
        ]
        if c.recent_notes:
            lines.append(tr("<b>以往来访：</b>"))
            lines += [f"· {_html(n.summary)}" for n in c.recent_notes]
        else:
            lines.append(tr("以往来访：无记录"))
        self.detail.setText("<br>".join(lines))

    def reset_customer(self) -> None:
        self._cancel_search()
        self.search.clear()
        self.customer_model.set_rows([])
        self._set_customer(None)
        self.detail.setText(IDENTIFY_HINT)
        self.search.setFocus()

    # ------------------------------------------------------------ form

    def _set_businesses(self, types: list[BusinessType]) -> None:
        self.business_model.set_rows(types)
        if types:
            self.business_list.setCurrentIndex(self.business_model.index(0))
        self._update_zone()

    def chosen_zone(self) -> Zone | None:
        data = self.zone_combo.currentData()  # Qt hands enum data back as plain str
        return Zone(data) if data else None

    def chosen_priority(self) -> PriorityKind | None:
        data = self.priority_combo.currentData()
        return PriorityKind(data) if data else None

    def current_business(self) -> BusinessType | None:
        return self.business_model.business(self.business_list.currentIndex().row())

    def _update_zone(self) -> None:
        b = self.current_business()
        override = self.chosen_zone()
        self.zone_reason.setVisible(override is not None)
        prio = self.chosen_priority()
        self.priority_reason.setVisible(prio is not None)
        c = self.customer
        manual_vip = self.vip_check.isChecked() and not (c and c.vip_entitled)
        self.vip_reason.setVisible(manual_vip)
        if b is None:
            self.zone_suggestion.setText("—")
            return
        s = suggest_zone(
            b,
            tier=c.tier if c else None,
            vip_card=c.vip_card if c else None,
            vip=self.vip_check.isChecked(),
            priority=prio,
            # the same open windows the store routes by (issue 15: live view = real ticket)
            served=set(self.lobby_snapshot.served_lanes) if self.lobby_snapshot else None,
        )
        target = override or s.zone
        warn = (
            f"<br><span style='color:#b00020'>{tr(f'{target.label}目前{NO_OPEN_WINDOW}，客户需等候开窗')}</span>"
            if self._zone_closed(target)
            else ""
        )
        self.zone_suggestion.setText(
            f"<b>{s.zone.label}</b>　<span style='color:#555'>{s.reason}</span>{warn}"
        )

    def _zone_closed(self, zone: Zone) -> bool:
        """No open window serves the zone now (known once the lobby has loaded)."""
        snap = self.lobby_snapshot
        if snap is None:
            return False
        return any(zq.zone == zone and zq.open_windows == 0 for zq in snap.zones)

    def _update_note_count(self) -> None:
        n = len(self.needs_note.toPlainText())
        self.note_count.setText(tr(f"需求备注 {n}/{NOTE_MAX} 字"))
        self.note_count.setStyleSheet(ERROR_STYLE if n > NOTE_MAX else "color: #777;")

    def request(self) -> IssueRequest:
        b = self.current_business()
        return IssueRequest(
            business_code=b.code if b else "",
            customer_id=self.customer.id if self.customer else None,
            vip=self.vip_check.isChecked() and not (self.customer and self.customer.vip_entitled),
            vip_reason=self.vip_reason.text(),
            priority=self.chosen_priority(),
            priority_reason=self.priority_reason.text(),
            needs=tuple(code for code, btn in self.need_buttons.items() if btn.isChecked()),
            greeting_note=self.greeting.text(),
            needs_note=self.needs_note.toPlainText(),
            zone=self.chosen_zone(),
            zone_reason=self.zone_reason.text(),
            actor=self.actor,
        )

    # ------------------------------------------------------------ issue

    def issue(self) -> None:
        if self._issuing:
            return
        if self.current_business() is None:
            self._show_error(LobbyError("no_business", tr("请先选择业务"), field="business"))
            return
        # The ticket carries who the header names; while a search may still change that,
        # or when what was typed found nobody, nothing is issued (issue 15.8 / 15.12).
        if self._search_pending():
            self._show_error(
                LobbyError("search_pending", tr("正在查询客户：请看清“客户：”一栏后再取号"))
            )
            return
        typed = self.search.text().strip()
        if self.customer is None and typed:
            self._say_not_found(typed, at_issue=True)
            return
        req = self.request()
        self._issuing = True
        self.issue_button.setEnabled(False)
        self.error_label.clear()
        backend = self.backend
        self.worker.submit(lambda: backend.issue(req), self._issued, self._issue_failed)

    def _issued(self, result: tuple[IssuedTicket, object]) -> None:
        from lobby_app.lobby import PrintOutcome

        issued, outcome = result
        assert isinstance(outcome, PrintOutcome)
        self._issuing = False
        self.issue_button.setEnabled(True)
        self.last_issued = issued
        self.result_number.setText(issued.number)
        color = "#2e7d32" if issued.green_channel else "#222"
        self.result_number.setStyleSheet(f"color: {color};")
        marker = green_channel_marker(
            issued.vip, issued.priority.label if issued.priority else None
        )
        flags = f"【{marker}】<br>" if marker else ""
        wait = tr(f"，预计等候约 <b>{issued.estimated_wait_min}</b> 分钟")
        ahead = (
            tr("前面没有人等候") + (wait if issued.estimated_wait_min > 0 else "")
            if issued.ahead == 0
            else tr(f"前面 <b>{issued.ahead}</b> 人") + wait
        )
        # the windows open for this ticket's queue, as the ticket names them (issue 15)
        where = tr(f"办理窗口：{'、'.join(issued.windows)}") if issued.windows else ""
        warn = ""
        if self.counters == []:
            warn = f"<br><span style='color:#b00020'>{tr('本网点还没有设置柜台窗口')}</span>"
        elif not issued.windows:
            warn = (
                f"<br><span style='color:#b00020'>"
                f"{tr(f'注意：{issued.zone.short_label}目前{NO_OPEN_WINDOW}，请安排开窗或告知客户')}"
                "</span>"
            )
        if issued.notes_masked:  # saved with the numbers masked (JR/T 0171): say so
            warn += f"<br><span style='color:#8a5a00'>{NOTES_MASKED}</span>"
        self.result_text.setText(
            f"{flags}<b>{issued.zone.label}</b>　{issued.business_name}<br>"
            f"{issued.zone.wait_area}<br>{where + '<br>' if where else ''}{ahead}{warn}"
        )
        self._show_print(outcome)
        self._reset_form()
        if issued.notes_masked:  # also beside the notes just typed: the card can be cut short
            self._say(NOTES_MASKED)
        self.refresh_lobby()
        if self.hub is not None:
            self.hub.changed("issue_ticket", issued.as_json())

    def _show_print(self, outcome: object) -> None:
        from lobby_app.lobby import PrintOutcome

        assert isinstance(outcome, PrintOutcome)
        if outcome.ok:  # amber when the store could not record it (a full disk)
            self.print_status.setStyleSheet(
                "color: #2e7d32;"
                if outcome.recorded and outcome.went != "none"
                else "color: #8a5a00;"
            )
            # say where it went: a file in a folder is not a printed ticket (issue 18 item 7)
            if outcome.went == "printer":
                self.print_status.setText(tr(f"已打印：{outcome.message}"))
            elif outcome.went == "none":
                self.print_status.setText(
                    tr("未打印：本机未设置打印机，请在“打印设置”中选择打印机或票据文件夹")
                )
            else:
                self.print_status.setText(tr(f"未送打印机，{outcome.message}"))
        else:
            self.print_status.setStyleSheet(ERROR_STYLE)
            self.print_status.setText(tr(f"打印失败：{outcome.message}"))
        self.reprint_button.setEnabled(True)

    def _issue_failed(self, error: object) -> None:
        self._issuing = False
        self.issue_button.setEnabled(True)
        self._show_error(error)

    def reprint(self) -> None:
        issued = self.last_issued
        if issued is None:
            return
        backend, actor = self.backend, self.actor
        self.reprint_button.setEnabled(False)
        self.worker.submit(
            lambda: backend.reprint(issued, actor=actor), self._show_print, self._show_error
        )

    def _reset_form(self) -> None:
        self.zone_combo.setCurrentIndex(0)
        self.zone_reason.clear()
        self.vip_reason.clear()
        self.priority_combo.setCurrentIndex(0)
        self.priority_reason.clear()
        for b in self.need_buttons.values():
            b.setChecked(False)
        self.greeting.clear()
        self.needs_note.clear()
        if self.business_model.rowCount():
            self.business_list.setCurrentIndex(self.business_model.index(0))
        self.reset_customer()

    def _show_error(self, error: object) -> None:
        self.error_label.setStyleSheet(ERROR_STYLE)
        if isinstance(error, LobbyError):
            self.error_label.setText(error.message)
            target = {
                "greeting_note": self.greeting,
                "needs_note": self.needs_note,
                "vip_reason": self.vip_reason,
                "priority_reason": self.priority_reason,
                "zone_reason": self.zone_reason,
                "business": self.business_list,
                "customer": self.search,
            }.get(error.field or "")
            if target is not None:
                target.setVisible(True)
                target.setFocus()
        else:
            log.exception(
                "desk command failed", exc_info=error if isinstance(error, BaseException) else None
            )
            self.error_label.setText(
                tr(f"操作未完成：{error}。请重试；如反复出现，请联系网点科技人员。")
            )

    # ------------------------------------------------------------ lobby

    def refresh_lobby(self) -> None:
        self.worker.submit(
            self.backend.lobby, self._show_all, lambda e: log.warning("lobby refresh failed: %s", e)
        )

    def _show_all(self, result: tuple[LobbySnapshot, list[Any], list[Any]]) -> None:
        snap, counters, refs = result
        self.counters = counters
        self.banner.setText(NO_COUNTERS)
        self.banner.setVisible(not counters)
        self._show_lobby(snap)
        now = datetime.now(UTC)
        rows: list[tuple[str, ...]] = []
        for c in counters:
            if c.current:
                since = _minutes_since(c.since, now)
                doing = tr(
                    f"{c.current} {'办理中' if c.current_status == 'serving' else '已叫号'}"
                    f" {since} 分钟"
                )
            else:
                doing = (
                    tr(f"空闲 {_minutes_since(c.idle_since, now)} 分钟")
                    if c.idle_since
                    else tr("空闲")
                )
            rows.append(
                (
                    c.name,
                    tr("开放") if c.is_open else tr("暂停"),
                    doing,
                    str(c.served_today),
                )
            )
        _fill(self.counters_table, rows)
        today = snap.business_date.isoformat()
        _fill(
            self.referrals_table,
            [
                (
                    r.referral_no,
                    r.ticket_number,
                    r.customer.salutation if r.customer else tr("未登记客户"),
                    r.need_label,
                    f"{r.referrer_name or r.referrer}→{r.to_name or r.to_staff}",
                    r.status_label,
                )
                for r in refs
                if r.business_date == today
            ],
        )

    def _show_lobby(self, snap: LobbySnapshot) -> None:
        self.lobby_snapshot = snap
        total = sum(len(z.waiting) for z in snap.zones)
        self.lobby_header.setText(
            tr(f"今日已取号 <b>{snap.issued_today}</b>　正在等候 <b>{total}</b> 人")
        )
        for zq in snap.zones:
            closed = zq.open_windows == 0
            stat = self.zone_stats[zq.zone]
            stat.setToolTip(zq.zone.label)
            stat.setText(
                tr(
                    f"{zq.zone.short_label}区：等候 {len(zq.waiting)} 人 · "
                    f"最长 {zq.longest_wait_min} 分 · 预计 {zq.estimated_wait_min} 分 · "
                )
                + (
                    f"<span style='color:#b00020'>{NO_OPEN_WINDOW}</span>"
                    if closed
                    else tr(f"开放窗口 {zq.open_windows}")
                )
            )
            self.zone_models[zq.zone].set_rows(zq.waiting)
        self._share_queue_space()
        self._update_zone()
        now = datetime.now(UTC).astimezone(self.settings.tz)
        self.status_label.setText(
            tr(
                f"{self.settings.display_name}　营业日 {snap.business_date:%Y-%m-%d}　"
                f"{now:%H:%M}　{self.backend.where}"
            )
        )

    # ------------------------------------------------------------ referrals

    def refer(self) -> None:
        """Refer a customer (the last ticket by default) to a customer manager; print the slip."""
        self.worker.submit(self.backend.managers, self._refer_to, self._show_error)

    def _refer_to(self, managers: list[dict[str, Any]]) -> None:
        from lobby_app.ui.teller import ReferDialog

        if not managers:
            self._show_error(LobbyError("no_managers", tr("网点没有在岗的客户经理，无法转介")))
            return
        last = self.last_issued
        number = last.number if last else ""
        # the customer's tagged needs and own manager come preselected
        own = ""
        if last is not None and self.customer is not None and last.customer_no:
            own = self.customer.manager if self.customer.customer_no == last.customer_no else ""
        dlg = self._track(
            ReferDialog(number, managers, self, needs=last.needs if last else (), manager=own or "")
        )
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        args = dlg.args()
        backend, actor = self.backend, self.actor

        def work() -> dict[str, Any]:
            return backend.refer(
                ticket=args["ticket"],
                to=args["to"],
                need=args["need"],
                note=args["note"],
                actor=actor,
            )

        self.worker.submit(work, self._referred, self._show_error)

    def _referred(self, ref: dict[str, Any]) -> None:
        if self.hub is not None:
            self.hub.changed("refer", {k: v for k, v in ref.items() if k != "print"})
        self._say_slip(ref)
        self.refresh_lobby()

    def _say_slip(self, ref: dict[str, Any]) -> None:
        printed = ref.get("print") or {}
        where = ref.get("to_location") or ref["to_staff"]
        text = tr(
            f"转介单 {ref['referral_no']}：{ref['ticket_number']} → {ref['to_name']}（{where}），"
            f"需求 {ref['need_label']}。"
        ) + (NOTES_MASKED + "。" if ref.get("notes_masked") else "")
        if printed.get("ok"):
            self.print_status.setStyleSheet("color: #2e7d32;")
            self.print_status.setText(text + printed.get("message", ""))
        else:
            self.print_status.setStyleSheet(ERROR_STYLE)
            self.print_status.setText(text + tr(f"转介单打印失败：{printed.get('message', '')}"))
        self.referral_done.emit(ref)

    def _on_hub_event(self, name: str, msg: dict[str, Any]) -> None:
        """A station changed something: reload; a teller's referral prints its slip here."""
        if name == "lobby":
            self._hub_refresh.start()  # many pushes in a burst make one reload
        elif name == "sync":
            self.refresh_sync_status()
        elif name == "referral":
            ref = msg.get("data", {})
            # The desk that is the hub prints the slips of the tellers' referrals, unless
            # the teller's own PC prints it (``slip_here``); a second desk elsewhere prints
            # only its own.
            mine = ref.get("referrer") == self.actor
            printed_there = bool(ref.get("slip_here"))
            if (
                ref.get("status") == "new"
                and not mine
                and not printed_there
                and not self.backend.remote
            ):
                self._print_arrived_slip(ref)
            else:
                self.refresh_lobby()

    def _print_arrived_slip(self, ref: dict[str, Any]) -> None:
        backend = self.backend
        self.worker.submit(lambda: backend.print_slip(ref), self._say_slip, self._show_error)
        self.refresh_lobby()

    def _set_settings(self, st: BranchSettings) -> None:
        self.settings = st
        set_log_zone(st.timezone)
        self._show_person()
        self._apply_idle_interval()

    def _on_link_state(self, up: bool, why: str) -> None:
        """A desk on another PC: say at once when the hub is lost; reload when it is back."""
        self.set_hub_state(why if up else tr(f"{why}　取号暂不可用，恢复后自动刷新"), error=not up)
        if up and self.link is not None:
            w = self.link.welcome
            if w.get("staff") == self.person.staff_no:  # the hub says the role (and the name)
                self.person = Person(
                    self.person.staff_no,
                    str(w.get("name") or self.person.name),
                    str(w.get("role") or self.person.role),
                )
                self._show_person()
        if up:
            self.worker.submit(self.backend.settings, self._set_settings, self._show_error)
            self.worker.submit(self.backend.business_types, self._set_businesses, self._show_error)
            self.refresh_lobby()

    def set_hub_state(self, text: str, *, error: bool = False) -> None:
        self.hub_label.setStyleSheet(ERROR_STYLE if error else "color: #555;")
        self.hub_label.setText(text)

    # ------------------------------------------------------------ settings

    def show_about(self) -> None:
        from lobby_app.ui.app import about_text

        QMessageBox.about(
            self,
            tr("关于"),
            about_text(self.config_path, self.store.data_dir if self.store else None),
        )

    def open_local_settings(self) -> None:
        from lobby_app.config import default_path, load
        from lobby_app.ui.setup_dialog import SetupDialog

        path = self.config_path or default_path()
        try:
            current = load(path)
        except LobbyError as exc:  # a broken file: start from defaults, say why
            QMessageBox.warning(self, tr("本机设置"), exc.message)
            current = None
        self._track(SetupDialog(path, current, first_run=False, parent=self)).exec()

    def open_summary(self) -> SummaryDialog:
        from lobby_app.ui.summary_dialog import SummaryDialog

        dlg = SummaryDialog(
            self.backend,
            actor=self.actor,
            actor_label=person_label(self.person),
            today=self.settings.business_date(utcnow()),
            parent=self,
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._track(dlg)
        dlg.show()
        return dlg

    def open_branch_setup(self) -> None:
        """设置 → 网点设置: counters and staff, on the PC that holds the store."""
        if self.store is None:
            QMessageBox.information(self, tr("网点设置"), tr("网点设置请在网点主机上进行。"))
            return
        from lobby_app.ui.branch_setup import open_branch_setup

        open_branch_setup(self, self.store)  # modal: asks the branch head's PIN itself
        self.worker.submit(self.backend.settings, self._set_settings, self._show_error)
        self.worker.submit(self.backend.business_types, self._set_businesses, self._show_error)
        self.refresh_lobby()

    def open_directory_import(self) -> QDialog | None:
        """设置 → 导入客户名录: on the PC that holds the store, with a progress bar."""
        if self.store is None:
            QMessageBox.information(
                self, tr("导入客户名录"), tr("导入客户名录请在网点主机上进行。")
            )
            return None
        from lobby_app.ui.directory_import import open_directory_import

        return self._track(open_directory_import(self, self.store, actor=self.actor))

    def open_print_settings(self) -> None:
        from lobby_app.ui.print_settings import PrintSettingsDialog

        if self.store is None:
            QMessageBox.information(
                self,
                tr("打印设置"),
                tr("本机通过网点主机工作，打印设置在网点主机(大堂经理工作台)上修改。"),
            )
            return
        dlg = self._track(PrintSettingsDialog(self.store, self.settings, self))
        if dlg.exec():
            self.settings = commands.settings(self.store)

    def closeEvent(self, event: object) -> None:
        # Not removeEventFilter: PySide's bookkeeping of the filter's reference does not
        # survive a second close; the filter goes quiet here and goes with the window.
        self._input_watch.active = False
        self._idle_timer.stop()
        self._refresh_timer.stop()
        self._hub_refresh.stop()
        self._sync_timer.stop()
        if self.link is not None:
            self.link.close()  # ends any wait for the hub on the worker
        self.worker.shutdown()
        super().closeEvent(event)  # type: ignore[arg-type]


def _relay_to(desk: DeskWindow) -> Callable[[str, dict[str, Any]], None]:
    """The hub's events, handed to the desk's signal from the hub's thread. Weak: the hub
    holding the desk would make a cycle (desk → hub → listener → desk) that the garbage
    collector may break on another thread, and Qt windows must be deleted on their own."""
    ref = weakref.ref(desk)

    def relay(name: str, msg: dict[str, Any]) -> None:
        d = ref()
        if d is not None and shiboken6.isValid(d):
            d.hub_pushed.emit(name, msg)

    return relay


COUNTER_COLUMNS = (tr("窗口"), tr("状态"), tr("正在服务"), tr("今日已办"))
REFERRAL_COLUMNS = (tr("单号"), tr("票号"), tr("客户"), tr("需求"), tr("转介"), tr("状态"))


def _table(columns: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(list(columns))
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    t.verticalHeader().setDefaultSectionSize(22)
    return t


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


def _minutes_since(iso: str | None, now: datetime) -> int:
    if not iso:
        return 0
    return max(0, int((now - datetime.fromisoformat(iso)).total_seconds() // 60))


def _warm_up_printing() -> None:
    """Load reportlab and register the CJK font before the first customer arrives, so
    the first ticket prints as fast as the rest."""
    from lobby_app.printing.fonts import cjk_font
    from lobby_app.printing.ticket import render_ticket_pdf  # noqa: F401

    cjk_font()


def not_found_text(query: str) -> str:
    return tr(f"未找到“{query}”：请核对后重新输入。无客户信息按 F2 作为散客；客户同意登记按 F3。")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
