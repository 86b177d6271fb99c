"""The 首次设置 / 本机设置 dialog (issue 18 items 11, 12): the head office asked in parts
(host, port, database, user, password) instead of an address with a password in it, every
message in the dialog's own words, and messages gone with the fields a role no longer asks."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QScrollArea
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from lobby_app.config import (
    ROLES,
    BranchPart,
    Config,
    ConfigProblem,
    PrinterPart,
    StationPart,
    SyncPart,
    load,
    validate,
)
from lobby_app.ui.app import qt_app
from lobby_app.ui.setup_dialog import SetupDialog

SHOTS = Path("/tmp/lobby-shots")


def branch() -> BranchPart:
    return BranchPart("310115001", "城东支行", "中国工商银行")


HUB = "ws://192.168.1.10:8765"
FIX = "请按红字提示改正后再保存"
# user, password and database with characters an address must quote
USER, PASSWORD, DATABASE = "lobby@ho", "p@ss:w/rd#%? 中", "lobby-2026"
QUOTED = (
    "postgresql+psycopg://lobby%40ho:p%40ss%3Aw%2Frd%23%25%3F%20%E4%B8%AD@10.1.2.3:6543/lobby-2026"
)
SAVED = "postgresql+psycopg://lobby:s3cr%40t%2Fpw@ho.bank.cn:5432/lobby"
SAVED_PASSWORD = "s3cr@t/pw"

# what each role asks for: a message may stay after a role switch only under these
BRANCH_KEYS = {"branch.bank", "branch.name", "branch.code"}
PRINT_KEYS = {"printer.kind", "printer.name", "printer.folder"}
SYNC_KEYS = {
    "sync.host",
    "sync.port",
    "sync.database",
    "sync.user",
    "sync.password",
    "sync.url",
    "sync.time",
}
STATION_KEYS = {"station.hub", "station.key"}
ASKED = {
    "desk": BRANCH_KEYS | {"station.port"} | PRINT_KEYS | SYNC_KEYS,
    "teller": {"station.window", "station.staff"} | STATION_KEYS | PRINT_KEYS,
    "manager": {"station.staff"} | STATION_KEYS | PRINT_KEYS,
    "display": STATION_KEYS,
}


def dialog(qtbot: QtBot, path: Path, cfg: Config | None = None) -> SetupDialog:
    qt_app()
    dlg = SetupDialog(path, cfg, first_run=cfg is None)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def desk_config(url: str = "") -> Config:
    return Config(branch(), printer=PrinterPart("none"), sync=SyncPart(url, "21:30"))


def shown_text(dlg: SetupDialog) -> str:
    """Everything the dialog shows in its fields and labels (a password field as its dots)."""
    edits = dlg.findChildren(QLineEdit)
    labels = dlg.findChildren(QLabel)
    return "\n".join(
        [e.displayText() + " " + e.placeholderText() for e in edits] + [x.text() for x in labels]
    )


def messages(dlg: SetupDialog) -> dict[str, str]:
    out = {key: dlg.field_error(key) for key in dlg._errors}
    return {k: v for k, v in out.items() if v}


def no_english(text: str, example: str = "") -> bool:
    return re.search(r"[A-Za-z]", text.replace(example, "")) is None


def fill_head_office(
    dlg: SetupDialog,
    host: str = "10.1.2.3",
    port: str = "6543",
    database: str = DATABASE,
    user: str = USER,
    password: str = PASSWORD,
) -> None:
    dlg.sync_host.setText(host)
    dlg.sync_port.setText(port)
    dlg.sync_database.setText(database)
    dlg.sync_user.setText(user)
    dlg.sync_password.setText(password)


# ------------------------------------------------------------------ head office in parts


def test_the_fields_round_trip_an_address_with_special_characters(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Was: one field for ``postgresql+psycopg://用户:密码@主机:5432/库名``, typed by hand, so a
    password with "@" or "/" broke the address. Now host, port, database, user and password
    are asked for; the address is built quoted, in today's format, and read back into the
    same fields."""
    path = tmp_path / "lobby-app.toml"
    dlg = dialog(qtbot, path, desk_config())
    assert dlg.sync_port.text() == "5432"  # PostgreSQL's own port, pre-filled
    assert dlg.sync_password.echoMode() == QLineEdit.EchoMode.Password
    fill_head_office(dlg)
    dlg.accept()
    cfg = load(path)
    assert cfg is not None and cfg.sync.url == QUOTED
    url = make_url(cfg.sync.url)  # what the sync engine reads
    assert (url.drivername, url.username, url.password) == ("postgresql+psycopg", USER, PASSWORD)
    assert (url.host, url.port, url.database) == ("10.1.2.3", 6543, DATABASE)

    again = dialog(qtbot, path, cfg)  # 本机设置: the saved address back in its fields
    assert (again.sync_host.text(), again.sync_port.text()) == ("10.1.2.3", "6543")
    assert (again.sync_database.text(), again.sync_user.text()) == (DATABASE, USER)
    assert again.sync_password.text() == ""
    assert "已保存" in again.sync_password.placeholderText()
    again.accept()
    kept = load(path)
    assert kept is not None and kept.sync.url == QUOTED


def test_an_empty_password_keeps_the_saved_one_and_a_typed_one_replaces_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "lobby-app.toml"
    dlg = dialog(qtbot, path, desk_config(SAVED))
    assert (dlg.sync_host.text(), dlg.sync_user.text()) == ("ho.bank.cn", "lobby")
    dlg.sync_database.setText("lobby2")  # another field changed, the password left empty
    dlg.accept()
    cfg = load(path)
    assert cfg is not None
    assert cfg.sync.url == "postgresql+psycopg://lobby:s3cr%40t%2Fpw@ho.bank.cn:5432/lobby2"
    assert make_url(cfg.sync.url).password == SAVED_PASSWORD

    again = dialog(qtbot, path, cfg)
    again.sync_password.setText("new pw@2")
    again.accept()
    cfg = load(path)
    assert cfg is not None and make_url(cfg.sync.url).password == "new pw@2"
    assert cfg.sync.url == "postgresql+psycopg://lobby:new%20pw%402@ho.bank.cn:5432/lobby2"

    cleared = dialog(qtbot, path, cfg)  # no host: the local demo head office, as before
    fill_head_office(cleared, host="", port="5432", database="", user="", password="")
    assert cleared.sync_address.text() == ""
    cleared.accept()
    cfg = load(path)
    assert cfg is not None and cfg.sync.url == ""


def test_the_address_shows_stars_and_never_the_password(qtbot: QtBot, tmp_path: Path) -> None:
    dlg = dialog(qtbot, tmp_path / "lobby-app.toml", desk_config(SAVED))
    assert dlg.sync_address.isReadOnly()
    assert dlg.sync_address.text() == "postgresql+psycopg://lobby:***@ho.bank.cn:5432/lobby"
    text = shown_text(dlg)
    assert "s3cr" not in text and SAVED_PASSWORD not in text and "***" in text
    dlg.sync_password.setText("typed-secret")
    dlg.sync_host.setText("10.9.8.7")
    assert dlg.sync_address.text() == "postgresql+psycopg://lobby:***@10.9.8.7:5432/lobby"
    text = shown_text(dlg)
    assert "typed-secret" not in text and "s3cr" not in text

    fresh = dialog(qtbot, tmp_path / "other.toml", desk_config())
    fill_head_office(fresh)
    text = shown_text(fresh)
    assert fresh.sync_address.text() == (
        "postgresql+psycopg://lobby%40ho:***@10.1.2.3:6543/lobby-2026"
    )
    assert "p%40ss" not in text and "p@ss" not in text


def test_another_kind_of_saved_address_survives_until_a_host_is_typed(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Tests and the demo sync to ``sqlite:///…``: kept as it is, shown with a note."""
    path = tmp_path / "lobby-app.toml"
    other = f"sqlite:///{tmp_path / 'ho.sqlite3'}"
    dlg = dialog(qtbot, path, desk_config(other))
    assert dlg.sync_host.text() == "" and dlg.sync_address.text() == other
    assert dlg.sync_note.isVisible() and "保持不变" in dlg.sync_note.text()
    dlg.accept()
    cfg = load(path)
    assert cfg is not None and cfg.sync.url == other

    again = dialog(qtbot, path, cfg)
    fill_head_office(again, password="pw")
    assert not again.sync_note.isVisible()
    again.accept()
    cfg = load(path)
    assert cfg is not None
    assert cfg.sync.url == "postgresql+psycopg://lobby%40ho:pw@10.1.2.3:6543/lobby-2026"


@pytest.mark.parametrize(
    ("fill", "key", "says"),
    [
        (dict(database="", user=""), "sync.database", "数据库名"),
        (dict(database="", user=""), "sync.user", "用户名"),
        (dict(user="my user"), "sync.user", "空格"),
        (dict(database="lobby db"), "sync.database", "空格"),
        (dict(port="70000"), "sync.port", "65535"),
        (dict(port="五四三二"), "sync.port", "65535"),
        (dict(host="10.1.2.3:5432"), "sync.host", "端口"),
        (dict(host="10.1.2.3 x"), "sync.host", "空格"),
        (dict(host="user@10.1.2.3/lobby"), "sync.host", "“@”"),
        (dict(host=""), "sync.host", "主机"),  # a database and user, but where?
    ],
)
def test_a_head_office_field_is_refused_under_it_in_chinese(
    qtbot: QtBot, tmp_path: Path, fill: dict[str, str], key: str, says: str
) -> None:
    path = tmp_path / "lobby-app.toml"
    dlg = dialog(qtbot, path, desk_config())
    fill_head_office(dlg, **fill)
    dlg.accept()
    message = dlg.field_error(key)
    assert says in message and no_english(message), message
    assert dlg.error.text() == FIX and not path.exists() and dlg.saved is None


# ------------------------------------------------------------------ the dialog's own words


def test_branch_messages_have_no_command_line_key_names(qtbot: QtBot, tmp_path: Path) -> None:
    """Was: "请填写银行名称(bank)", the command line's wording. The CLI keeps it."""
    dlg = dialog(qtbot, tmp_path / "lobby-app.toml")
    dlg.accept()
    for key in BRANCH_KEYS:
        assert dlg.field_error(key) and no_english(dlg.field_error(key)), key
    assert dlg.field_error("branch.bank") == "请填写银行名称"
    dlg.bank.setText("行" * 200)
    dlg.accept()
    assert dlg.field_error("branch.bank") == "银行名称最多80字，现为200字，请精简后重试"


BAD_CONFIGS: list[tuple[str, Callable[[Config], None]]] = [
    ("station.role", lambda c: setattr(c.station, "role", "cashier")),
    ("station.window", lambda c: setattr(c.station, "window", 1000)),
    ("station.hub", lambda c: setattr(c.station, "hub", "http://h:1")),
    ("station.port", lambda c: setattr(c.station, "port", 70000)),
    ("printer.kind", lambda c: setattr(c.printer, "kind", "fax")),
    ("printer.name", lambda c: setattr(c.printer, "kind", "printer")),
    ("sync.url", lambda c: setattr(c.sync, "url", "mysql://u:p@h/db")),
    ("sync.time", lambda c: setattr(c.sync, "time", "25:00")),
    ("branch.code", lambda c: setattr(c.branch, "code", "3101-15")),
]


@pytest.mark.parametrize(("key", "spoil"), BAD_CONFIGS, ids=[k for k, _ in BAD_CONFIGS])
def test_no_message_points_at_the_file_being_edited(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    spoil: Callable[[Config], None],
) -> None:
    """Each check of ``config.validate`` driven through the dialog (what its fields cannot
    produce is handed to it as the form's values): said under the field or at the bottom, never
    "在本机设置里…或用文本编辑器", nor the file or the key."""
    path = tmp_path / "lobby-app.toml"
    role = "teller" if key.startswith("station.") and key != "station.port" else "desk"
    cfg = Config(
        branch(),
        StationPart(role=role, window=3 if role == "teller" else None, hub=HUB),
        PrinterPart("none"),
        SyncPart("", "21:30"),
    )
    spoil(cfg)
    with pytest.raises(ConfigProblem) as refused:  # the file's wording stays for the file
        validate(cfg, path)
    assert refused.value.field == key and "文本编辑器" in refused.value.message
    assert "文本编辑器" not in refused.value.what and str(path) not in refused.value.what

    dlg = dialog(qtbot, path, desk_config() if role == "desk" else None)
    dlg.role.setCurrentIndex(dlg.role.findData(role))
    monkeypatch.setattr(dlg, "config", lambda: cfg)
    dlg.accept()
    said = "\n".join([*messages(dlg).values(), dlg.error.text()])
    assert said.replace(FIX, "").strip(), key  # something was said
    for word in ("文本编辑器", "本机设置", "配置文件", key, str(path), "://用户:密码"):
        assert word not in said, (key, word, said)
    assert not path.exists() and dlg.saved is None


def test_a_file_check_the_dialog_has_no_words_for_says_its_reason_only(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lobby_app.ui.setup_dialog as setup_dialog

    def refuse(cfg: Config, path: Path) -> Config:
        raise ConfigProblem(path, "station.data_dir", "数据目录无法创建")

    monkeypatch.setattr(setup_dialog, "validate", refuse)
    path = tmp_path / "lobby-app.toml"
    dlg = dialog(qtbot, path, desk_config())
    dlg.accept()
    assert dlg.error.text().startswith("数据目录无法创建")
    assert "文本编辑器" not in dlg.error.text() and str(path) not in dlg.error.text()


# ------------------------------------------------------------------ role switches


def test_the_display_is_not_asked_for_a_printer_and_its_message_goes(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Was: teller, 打印机 with no name, 保存 -> "请选择或填写打印机名称…"; switched to the
    calling display, the message and "请按红字提示改正后再保存" stayed."""
    path = tmp_path / "lobby-app.toml"
    dlg = dialog(qtbot, path)
    dlg.role.setCurrentIndex(dlg.role.findData("teller"))
    dlg.hub.setText(HUB)
    dlg.print_kind.setCurrentIndex(dlg.print_kind.findData("printer"))
    dlg.printer_name.setCurrentText("")
    dlg.accept()
    assert "打印机名称" in dlg.field_error("printer.name") and dlg.error.text() == FIX
    dlg.role.setCurrentIndex(dlg.role.findData("display"))
    assert not dlg.print_box.isVisible() and not dlg.test_btn.isVisible()
    assert dlg.field_error("printer.name") == "" and dlg.error.text() == ""
    dlg.accept()
    cfg = load(path)
    assert cfg is not None and cfg.station.role == "display" and cfg.printer.kind == "none"


def test_another_print_kind_takes_the_printer_message_and_the_bottom_line(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dlg = dialog(qtbot, tmp_path / "lobby-app.toml")
    dlg.role.setCurrentIndex(dlg.role.findData("manager"))
    dlg.hub.setText(HUB)
    dlg.print_kind.setCurrentIndex(dlg.print_kind.findData("printer"))
    dlg.printer_name.setCurrentText("")
    dlg.accept()
    assert dlg.field_error("printer.name") and dlg.error.text() == FIX
    dlg.print_kind.setCurrentIndex(dlg.print_kind.findData("folder"))
    assert dlg.field_error("printer.name") == "" and dlg.error.text() == ""


@pytest.mark.parametrize("start", ROLES)
def test_a_role_switch_takes_the_messages_of_fields_no_longer_asked(
    qtbot: QtBot, tmp_path: Path, start: str
) -> None:
    """Every role to every other, for every field's message, alone and all at once: a message
    stays only under a field the new role asks for, and the bottom line goes with the last."""
    dlg = dialog(qtbot, tmp_path / "lobby-app.toml")
    dlg.role.setCurrentIndex(dlg.role.findData(start))
    keys = sorted(dlg._errors)
    assert set(keys) >= set().union(*ASKED.values())
    shown_at_start = [k for k in keys if dlg._box_shown(k)]
    assert set(shown_at_start) >= ASKED[start]
    for to in ROLES:
        if to == start:
            continue
        batches = [[k] for k in shown_at_start] + [shown_at_start]
        for batch in batches:
            dlg.role.setCurrentIndex(dlg.role.findData(start))
            dlg._clear_errors()
            dlg.show_problems({k: f"请改正 {k}" for k in batch})
            assert set(messages(dlg)) == set(batch) and dlg.error.text() == FIX
            dlg.role.setCurrentIndex(dlg.role.findData(to))
            left = set(messages(dlg))
            assert left == set(batch) & ASKED[to], (start, to, batch, left)
            assert dlg.error.text() == (FIX if left else ""), (start, to, batch)
            for k in left:
                assert dlg._errors[k].isVisibleTo(dlg), k


# ------------------------------------------------------------------ layout


@pytest.mark.parametrize("role", ["desk", "teller"])
def test_the_dialog_fits_a_1366x768_screen(qtbot: QtBot, tmp_path: Path, role: str) -> None:
    """At most 708 px high (768 less the window frame), nothing cut off sideways even with
    every head-office message shown; the form scrolls down to its last field."""
    cfg = Config(
        branch(),
        StationPart(role=role, window=3 if role == "teller" else None, hub=HUB),
        PrinterPart("printer", "Receipt80"),
        SyncPart(SAVED if role == "desk" else "", "21:30"),
    )
    dlg = dialog(qtbot, tmp_path / "lobby-app.toml", cfg)
    assert dlg.height() <= 720
    dlg.resize(580, 708)
    if role == "desk":
        fill_head_office(dlg, host="10.1.2.3 x", port="0", database="", user="")
        dlg.accept()
        assert len(messages(dlg)) == 4
    qt_app().processEvents()
    scroll = dlg.findChild(QScrollArea)
    assert scroll is not None and scroll.horizontalScrollBar().maximum() == 0
    last = dlg.sync_time if role == "desk" else dlg.test_btn
    scroll.ensureWidgetVisible(last)
    qt_app().processEvents()
    top_left = last.mapTo(scroll.viewport(), last.rect().topLeft())
    assert top_left.y() >= 0 and top_left.y() + last.height() <= scroll.viewport().height()
    assert dlg.save_button.mapTo(dlg, dlg.save_button.rect().bottomRight()).y() <= 708
    SHOTS.mkdir(exist_ok=True)
    dlg.grab().save(str(SHOTS / f"setup-{role}-1366x768.png"))
