"""The calling display (叫号显示屏) for the waiting-area TV: numbers and windows, never names.

It shows the latest call large ("请 A012 号 到 3 号窗口"), the last few calls, how many
wait in each zone, the branch name and the time. Each call is announced with a chime and a
Mandarin voice where the PC has a text-to-speech engine; where it has none the display
stays silent and says so once in the log.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QLocale, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from lobby_app.core.i18n import tr
from lobby_app.core.zones import Zone
from lobby_app.ui.hublink import HubLink

log = logging.getLogger(__name__)
RECENT = 6


def _chime_file() -> Path | None:
    from importlib import resources

    try:
        path = Path(str(resources.files("lobby_app.resources") / "chime.wav"))
    except ModuleNotFoundError:
        return None
    return path if path.exists() else None


def place_text(window: int, place: str = "") -> str:
    """Where the customer goes: the counter's own name ("贵宾理财室一") or "3 号窗口"."""
    return place or tr(f"{window} 号窗口")


def call_text(number: str, window: int, place: str = "") -> str:
    return tr(f"请 {number} 号 到 {place_text(window, place)}")


def spoken(number: str, window: int, place: str = "") -> str:
    """Letters read one by one and digits as digits: "请 A 零 一 二 号到 3 号窗口"."""
    digits = "零一二三四五六七八九"
    said = " ".join(digits[int(c)] if c.isdigit() else c for c in number)
    return tr(f"请 {said} 号，到 {place_text(window, place)}")


class Announcer(QObject):
    """Chime, then voice. ``speech`` is a QTextToSpeech (tests pass Qt's mock engine)."""

    announced = Signal(str)  # the sentence given to the voice, or "" when silent

    def __init__(
        self,
        speech: Any | None = None,
        chime: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.speech = speech
        self.chime = chime
        if speech is None:
            log.warning("no text-to-speech engine: calls are shown but not spoken")

    @classmethod
    def for_this_pc(cls, parent: QObject | None = None) -> Announcer:
        return cls(_find_voice(parent), _find_chime(parent), parent)

    def announce(self, number: str, window: int, place: str = "") -> None:
        if self.chime is not None:
            try:
                self.chime()
            except Exception:  # a sound card gone missing must not stop the display
                log.exception("chime failed")
        if self.speech is None:
            self.announced.emit("")
            return
        sentence = spoken(number, window, place)
        self.speech.say(sentence)
        self.announced.emit(sentence)


def _find_voice(parent: QObject | None) -> Any | None:
    try:
        from PySide6.QtTextToSpeech import QTextToSpeech
    except ImportError:
        log.warning("QtTextToSpeech is not installed (PySide6-Addons)")
        return None
    for engine in QTextToSpeech.availableEngines():
        if engine == "mock":
            continue
        tts = QTextToSpeech(engine, parent)
        if tts.state() == QTextToSpeech.State.Error:
            log.warning("speech engine %s is not working: %s", engine, tts.errorString())
            continue
        chinese = [
            loc for loc in tts.availableLocales() if loc.language() == QLocale.Language.Chinese
        ]
        if not chinese:
            log.warning("speech engine %s has no Mandarin voice", engine)
            continue
        tts.setLocale(chinese[0])
        log.info("announcing with speech engine %s (%s)", engine, chinese[0].name())
        return tts
    return None


def _find_chime(parent: QObject | None) -> Callable[[], None] | None:
    chime = _chime_file()
    if chime is None:
        return None
    try:
        from PySide6.QtCore import QUrl
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError:
        return None
    effect = QSoundEffect(parent)
    effect.setSource(QUrl.fromLocalFile(str(chime)))
    effect.setVolume(0.8)
    return effect.play


class DisplayWindow(QWidget):
    """Full-screen on the TV; everything it shows comes from public hub events."""

    def __init__(self, link: HubLink, announcer: Announcer | None = None) -> None:
        super().__init__()
        self.link = link
        link.setParent(self)  # the window owns its link: both go together
        self.announcer = announcer or Announcer()
        self.calls: deque[tuple[str, int, str]] = deque(maxlen=RECENT)
        self._tz: ZoneInfo | None = None  # the branch's time zone, from the hub
        self.setWindowTitle(tr("叫号显示屏"))
        self.setStyleSheet("background: #0b2545; color: white;")
        self._build()
        link.pushed.connect(self._on_event)
        link.state.connect(self._on_state)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        self._tick()

    def _font(self, size: float, bold: bool = False) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(size)
        f.setBold(bold)
        return f

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(40, 24, 40, 24)
        head = QHBoxLayout()
        self.branch = QLabel(tr("网点"))
        self.branch.setFont(self._font(26, True))
        self.clock = QLabel()
        self.clock.setFont(self._font(26))
        head.addWidget(self.branch)
        head.addStretch(1)
        head.addWidget(self.clock)
        root.addLayout(head)

        self.latest = QLabel(tr("欢迎光临"))
        self.latest.setFont(self._font(88, True))
        self.latest.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.latest.setStyleSheet("color: #ffd166; padding: 20px;")
        self.latest.setMinimumWidth(200)
        root.addWidget(self.latest, 3)

        body = QHBoxLayout()
        recent_box = QFrame()
        rl = QVBoxLayout(recent_box)
        title = QLabel(tr("最近叫号"))
        title.setFont(self._font(22, True))
        rl.addWidget(title)
        self.recent_labels = []
        for _ in range(RECENT - 1):
            lab = QLabel("")
            lab.setFont(self._font(30))
            rl.addWidget(lab)
            self.recent_labels.append(lab)
        rl.addStretch(1)
        wait_box = QFrame()
        self.wait_grid = QGridLayout(wait_box)
        wt = QLabel(tr("等候人数"))
        wt.setFont(self._font(22, True))
        self.wait_grid.addWidget(wt, 0, 0, 1, 2)
        self.wait_labels: dict[str, QLabel] = {}
        for i, z in enumerate(Zone):
            name = QLabel(z.label)
            name.setFont(self._font(22))
            count = QLabel("0")
            count.setFont(self._font(26, True))
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.wait_grid.addWidget(name, i + 1, 0)
            self.wait_grid.addWidget(count, i + 1, 1)
            self.wait_labels[z.value] = count
        body.addWidget(recent_box, 3)
        body.addWidget(wait_box, 2)
        root.addLayout(body, 2)
        self.footer = QLabel(tr("请留意叫号，过号请与大堂经理联系"))
        self.footer.setFont(self._font(18))
        self.footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.footer)

    def _fit_latest(self) -> None:
        """The call stays on one line, as large as the screen allows (88 pt at most)."""
        room = self.latest.contentsRect()
        width, height = room.width() - 40, room.height() - 40
        if width <= 0 or height <= 0:
            return
        size = 88.0
        while size > 20:
            metrics = QFontMetrics(self._font(size, True))
            box = metrics.size(0, self.latest.text())
            if box.width() <= width and box.height() <= height:
                break
            size -= 4
        if abs(self.latest.font().pointSizeF() - size) > 0.1:
            self.latest.setFont(self._font(size, True))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_latest()

    def _tick(self) -> None:
        self.clock.setText(datetime.now(self._tz).strftime("%Y-%m-%d  %H:%M:%S"))

    def _on_state(self, up: bool, why: str) -> None:
        if up:
            self.footer.setText(tr("请留意叫号，过号请与大堂经理联系"))
            self._show_lobby(self.link.welcome.get("lobby", {}))
        else:
            log.warning("display lost the hub: %s", why)
            self.footer.setText(tr("叫号系统连接中断，正在重连…请听从大堂工作人员引导"))

    def _on_event(self, name: str, msg: dict[str, Any]) -> None:
        data = msg.get("data", {})
        if name == "called":
            self.show_call(str(data["number"]), int(data["window"]), str(data.get("place") or ""))
        elif name == "lobby":
            self._show_lobby(data)

    def show_call(self, number: str, window: int, place: str = "") -> None:
        self.calls.appendleft((number, window, place))
        self._show_calls()
        self.announcer.announce(number, window, place)

    def _show_calls(self) -> None:
        """The latest call large, the ones before it in the list."""
        number, window, place = self.calls[0]
        self.latest.setText(call_text(number, window, place))
        self._fit_latest()
        earlier = list(self.calls)[1:]
        for lab, call in zip(self.recent_labels, earlier + [None] * RECENT, strict=False):
            lab.setText(tr(f"{call[0]} 号 → {place_text(call[1], call[2])}") if call else "")

    def _show_lobby(self, lobby: dict[str, Any]) -> None:
        recent = lobby.get("recent_calls")
        if isinstance(recent, list) and not self.calls and recent:
            # started (or restarted) mid-day: the day's last calls, shown, not announced
            for call in reversed(recent[:RECENT]):
                self.calls.appendleft(
                    (str(call["number"]), int(call["window"]), str(call.get("place") or ""))
                )
            self._show_calls()
        if lobby.get("branch_name"):
            self.branch.setText(str(lobby["branch_name"]))
        if lobby.get("timezone"):
            try:
                self._tz = ZoneInfo(str(lobby["timezone"]))
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("unknown branch time zone %s", lobby["timezone"])
        for z in lobby.get("zones", []):
            lab = self.wait_labels.get(z["zone"])
            if lab is not None:
                lab.setText(str(z["waiting_count"]))

    def visible_text(self) -> str:
        """Everything on screen, for checks that no personal data is shown."""
        return "\n".join(w.text() for w in self.findChildren(QLabel))

    def closeEvent(self, event: Any) -> None:
        self.link.close()
        super().closeEvent(event)
