"""Starting the desk: Qt application, a Chinese font, the store, qasync's event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import qasync  # imported after PySide6 so it picks this binding
from PySide6.QtCore import QLibraryInfo, QLocale, QSize, QThread, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from lobby_app import __version__
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.desk_backend import LocalDesk
from lobby_app.hub.thread import HubThread
from lobby_app.printing.dispatch import PrintTarget
from lobby_app.store.admin import Person
from lobby_app.store.db import Store
from lobby_app.ui.desk import DeskWindow
from lobby_app.ui.signin import SignInDialog

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
)


def use_chinese_font(app: QApplication) -> str | None:
    families = set(QFontDatabase.families())
    for fam in CJK_FAMILIES:
        if fam in families:
            font = QFont(fam)
            font.setPointSizeF(max(app.font().pointSizeF(), 10.5))
            app.setFont(font)
            return fam
    log.warning("no Chinese font found; install fonts-wqy-zenhei")
    return None


def app_icon() -> QIcon:
    from importlib import resources

    icon = QIcon()
    try:
        path = resources.files("lobby_app.resources") / "icon.png"
        icon.addFile(str(path))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return icon


def qt_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("lobby-app")
    app.setApplicationDisplayName(tr("网点厅堂管理"))
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    use_chinese_font(app)
    _use_chinese_qt_texts(app)
    collect_garbage_on_gui_thread(app)
    return app


GC_CHECK_MS = 500


def collect_garbage_on_gui_thread(app: QApplication) -> None:
    """Run Python's cycle collector only on the Qt thread.

    Left to itself the collector runs in whichever thread allocates at the moment: the
    store worker or the hub thread. Collecting a cycle that holds a Qt wrapper there frees
    the widget on the wrong thread, and the next paint or layout touches freed memory (seen
    as rare crashes in the desk's tests). Automatic collection is off; a timer on the Qt
    thread collects whenever a generation passed its threshold."""
    import gc

    if getattr(app, "_lobby_gc_timer", None) is not None:
        return
    from PySide6.QtCore import QTimer

    thresholds = gc.get_threshold()
    gc.disable()

    def check() -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    timer = QTimer(app)
    timer.setInterval(GC_CHECK_MS)
    timer.timeout.connect(check)
    timer.start()
    app._lobby_gc_timer = timer  # type: ignore[attr-defined]


def _use_chinese_qt_texts(app: QApplication) -> None:
    """Qt's own words (OK, Cancel, Save, Yes, the file dialog) in Simplified Chinese."""
    if getattr(app, "_lobby_translator", None) is not None:
        return
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qt", "_", folder):
        app.installTranslator(translator)
        app._lobby_translator = translator  # type: ignore[attr-defined]
    else:
        log.warning("Qt's Chinese translations not found in %s", folder)


def show_crash(message: str) -> None:
    """The crash handler's message box (only on the GUI thread; elsewhere it is logged)."""
    app = QApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("not on the GUI thread")
    QMessageBox.critical(None, tr("程序出错"), message)


def about_text(config_path: Path | None, data_dir: Path | None) -> str:
    from lobby_app.config import default_path
    from lobby_app.logs import log_file
    from lobby_app.store.db import default_data_dir

    return tr(
        f"网点厅堂管理 lobby-app {__version__}\n\n"
        f"数据目录：{data_dir or default_data_dir()}\n"
        f"配置文件：{config_path or default_path()}\n"
        f"日志文件：{log_file()}"
    )


# The desk's size where the screen has room; on a smaller screen (1366×768, 1280×1024)
# it takes the screen's free area, window frame included.
DESK_SIZE = QSize(1600, 900)
FRAME_ALLOWANCE = QSize(16, 40)  # a window manager's border and title bar


def fit_to_screen(widget: QWidget, wanted: QSize) -> None:
    """Size a top-level window to ``wanted`` or the screen's free area, whichever is
    smaller, and put it where it is wholly on the screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        widget.resize(wanted)
        return
    free = screen.availableGeometry()
    room = free.size() - FRAME_ALLOWANCE
    size = wanted.boundedTo(room).expandedTo(widget.minimumSizeHint().boundedTo(room))
    widget.resize(size)
    widget.move(
        free.x() + max(0, (free.width() - size.width() - FRAME_ALLOWANCE.width()) // 2),
        free.y() + max(0, (free.height() - size.height() - FRAME_ALLOWANCE.height()) // 2),
    )


def build_desk(store: Store, hub: HubThread | None = None, *, actor: Person) -> DeskWindow:
    window = DeskWindow(store, hub=hub, actor=actor)
    fit_to_screen(window, DESK_SIZE)
    return window


def _quit_all(app: QApplication) -> None:
    """End the application even while a dialog runs its own loop (the sign-in): quitting
    alone ends only the main loop, not a dialog's ``exec()``."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog):
            widget.reject()
    app.quit()


def set_up_before_sign_in(store: Store) -> bool:
    """A freshly installed branch has nobody who could sign in at the desk: the branch's
    set-up (counters, staff with PINs) opens first. False: the person chose to leave."""
    from lobby_app.store.admin import anyone_can_sign_in_at_desk
    from lobby_app.ui.branch_setup import open_branch_setup

    while not anyone_can_sign_in_at_desk(store):
        answer = QMessageBox.question(
            None,
            tr("本网点尚未设置"),
            tr(
                "本网点还没有可以登录大堂经理工作台的员工(大堂经理、大堂引导员或网点负责人，"
                "且已设置密码)。\n\n请网点负责人现在打开网点设置，添加柜台和员工。"
            ),
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close,
            QMessageBox.StandardButton.Open,
        )
        if answer != QMessageBox.StandardButton.Open:
            return False
        open_branch_setup(None, store)
    return True


def sign_in_at_desk(check: LocalDesk, *, staff: str = "") -> Person | None:
    """Who works at the desk now (None: they closed the dialog)."""
    dlg = SignInDialog(check.sign_in, title=tr("大堂经理工作台 · 登录"), staff=staff)
    if dlg.exec() != QDialog.DialogCode.Accepted or dlg.person is None:
        return None
    return dlg.person


def run_desk(
    data_dir: Path | None,
    *,
    hub_host: str = "0.0.0.0",
    hub_port: int = 8765,
    embed_hub: bool = True,
    config_path: Path | None = None,
    open_setup_first: bool = False,
    staff: str = "",
) -> int:
    """The lobby desk; by default it is also the branch hub that the stations connect to.

    A lobby manager, guide or branch head signs in first (``staff`` fills in the staff
    number). ``open_setup_first``: the branch's set-up (counters, staff) opens as soon as
    the desk shows, after a first-run set-up of this PC."""
    app = qt_app()
    try:
        store = Store.open(data_dir)
    except LobbyError as exc:
        QMessageBox.critical(None, tr("无法启动"), exc.message)
        return 2
    if os.environ.get("LOBBY_EXIT_AFTER_MS"):  # the start-up benchmark: also ends the sign-in
        QTimer.singleShot(int(os.environ["LOBBY_EXIT_AFTER_MS"]), lambda: _quit_all(app))
    if not set_up_before_sign_in(store):
        store.close()
        return 0
    person = sign_in_at_desk(LocalDesk(store), staff=staff)
    if person is None:  # 退出 at the sign-in: nothing went wrong
        store.close()
        return 0
    hub: HubThread | None = None
    hub_error = ""
    if embed_hub:
        hub = HubThread(store, hub_host, hub_port, nightly_sync=True)
        try:
            hub.start()
        except LobbyError as exc:
            log.warning("desk without hub: %s", exc.message)
            hub, hub_error = None, exc.message
    window = build_desk(store, hub, actor=person)
    window.config_path = config_path
    if hub is not None:
        window.set_hub_state(
            tr(f"本机是网点主机：{hub_host}:{hub.hub.port}，柜员窗口、客户经理和叫号屏可连接")
        )
    elif hub_error:
        window.set_hub_state(tr(f"网点主机未启动：{hub_error}"), error=True)
    window.show()
    if open_setup_first:
        QTimer.singleShot(0, window.open_branch_setup)

    async def until_closed() -> None:
        closed = asyncio.Event()
        app.lastWindowClosed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        await closed.wait()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            loop.run_until_complete(until_closed())
    finally:
        if hub is not None:
            hub.stop()
        store.close()
    return 0


class LoginDialog(QDialog):
    """Staff number, PIN and (once per PC) the branch's station key."""

    def __init__(self, title: str, *, need_staff: bool, key: str, staff: str) -> None:
        super().__init__()
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.key = QLineEdit(key)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.staff = QLineEdit(staff)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        if not key:  # a PC set up once already has the branch's key: ask only for the person
            form.addRow(tr("站点密钥"), self.key)
        if need_staff:
            form.addRow(tr("工号"), self.staff)
            form.addRow(tr("密码"), self.pin)
            (self.pin if staff else self.staff).setFocus()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def run_station(
    kind: str,
    *,
    hub_url: str,
    key: str,
    staff: str,
    pin: str,
    window: int | None = None,
    full_screen: bool = True,
    data_dir: Path | None = None,
    print_target: PrintTarget | None = None,
) -> int:
    """A teller window, a customer manager's inbox, the calling display or a second lobby
    desk, on a hub elsewhere. ``print_target``: this PC's own printer (from its
    configuration), where a teller's referral slips print; None: the lobby desk prints them."""
    from lobby_app.ui.hublink import HubLink

    app = qt_app()
    titles = {
        "teller": tr(f"{window} 号窗口登录"),
        "manager": tr("客户经理登录"),
        "display": tr("叫号显示屏"),
        "desk": tr("迎宾台登录"),
    }
    need_staff = kind != "display"
    if not key or (need_staff and not (staff and pin)):
        dlg = LoginDialog(titles[kind], need_staff=need_staff, key=key, staff=staff)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return 1
        key, staff, pin = dlg.key.text().strip(), dlg.staff.text().strip(), dlg.pin.text()
    link = HubLink(hub_url, station=kind, key=key, staff=staff, pin=pin, window=window)
    widget: QWidget
    if kind == "desk":
        from lobby_app.desk_backend import RemoteDesk
        from lobby_app.store.db import default_data_dir

        folder = data_dir or default_data_dir()

        def relink(who: str, their_pin: str) -> HubLink:  # a shift change logs in again
            return HubLink(hub_url, station="desk", key=key, staff=who, pin=their_pin)

        desk = DeskWindow(
            RemoteDesk(link.call, hub_url, folder, key=key),
            actor=Person(staff, "", ""),  # the hub's welcome brings the role
            link=link,
            relink=relink,
        )
        fit_to_screen(desk, DESK_SIZE)
        desk.set_hub_state(tr(f"正在连接网点主机 {hub_url}…"))
        widget = desk
    elif kind == "teller":
        from lobby_app.ui.teller import TellerWindow

        assert window is not None
        widget = TellerWindow(link, window, slip_target=print_target)
        widget.resize(480, 640)
    elif kind == "manager":
        from lobby_app.ui.manager import ManagerWindow

        widget = ManagerWindow(link)
        widget.resize(1200, 700)
    else:
        from lobby_app.ui.display import Announcer, DisplayWindow

        widget = DisplayWindow(link, Announcer.for_this_pc())
        widget.resize(1280, 720)

    def refused(up: bool, why: str) -> None:
        if not up and link.fatal is not None:
            QMessageBox.critical(widget, tr("网点主机拒绝登录"), link.fatal.message)

    link.state.connect(refused)
    if kind == "display" and full_screen:
        widget.showFullScreen()
    else:
        widget.show()
    link.start()
    if os.environ.get("LOBBY_EXIT_AFTER_MS"):
        QTimer.singleShot(int(os.environ["LOBBY_EXIT_AFTER_MS"]), app.quit)
    try:
        return app.exec()
    finally:
        link.close()
