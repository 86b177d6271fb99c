"""This PC's configuration file, the first-run dialog, log files and the crash message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lobby_app.config import Config, StationPart, load, save
from lobby_app.core.errors import LobbyError

GOOD = """
[branch]
code = "310115001"
name = "城东支行"

[station]
role = "teller"
window = 3
hub = "ws://192.168.1.10:8765"
key = "k3y"

[printer]
kind = "none"
"""


def test_good_missing_and_round_trip(tmp_path: Path) -> None:
    assert load(tmp_path / "none.toml") is None  # first run
    path = tmp_path / "lobby-app.toml"
    path.write_text(GOOD, encoding="utf-8")
    cfg = load(path)
    assert cfg is not None
    assert (cfg.station.role, cfg.station.window, cfg.station.hub) == (
        "teller",
        3,
        "ws://192.168.1.10:8765",
    )
    assert cfg.branch.name == "城东支行" and cfg.sync.time == "21:30"
    cfg.station.staff = "T01"
    save(cfg, path)
    assert load(path) == cfg
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # the station key is in it


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("[station\nrole = 'desk'", "格式", "TOML"),
        ("[station]\nrole = 'cashier'", "station.role", "desk / teller / manager / display"),
        ("[station]\nrole = 'teller'\nhub = 'ws://h:1'", "station.window", "窗口号"),
        ("[station]\nrole = 'teller'\nwindow = '3'\nhub = 'ws://h:1'", "station.window", "整数"),
        ("[station]\nrole = 'manager'\nhub = 'http://h:1'", "station.hub", "ws://"),
        ("[station]\nport = 70000", "station.port", "65535"),
        ("[printer]\nkind = 'printer'", "printer.name", "打印机名称"),
        ("[sync]\ntime = '25:00'", "sync.time", "21:30"),
        ("[sync]\nurl = 'mysql://x'", "sync.url", "postgresql"),
        ("[branch]\ncode = 3100", "branch.code", "文字"),
        ("[stations]\nrole = 'desk'", "stations", "不认识"),
        ("station = 3", "station", "小节"),
    ],
)
def test_bad_files_say_which_key_and_what_to_do(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LobbyError) as e:
        load(path)
    assert e.value.code == "config_invalid"
    assert where in e.value.message and says in e.value.message and str(path) in e.value.message
    assert "本机设置" in e.value.message


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes("[branch]\nname = '城东'".encode("gbk"))
    with pytest.raises(LobbyError) as e:
        load(path)
    assert "UTF-8" in e.value.message


def test_first_run_dialog_saves_a_teller_pc(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QPushButton

    from lobby_app.ui.app import qt_app
    from lobby_app.ui.setup_dialog import SetupDialog

    qt_app()
    path = tmp_path / "cfg" / "lobby-app.toml"
    dlg = SetupDialog(path, None, first_run=True)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.sync_box.isVisible() and not dlg.hub.isVisible()  # a desk by default
    dlg.branch_code.setText("310115001")
    dlg.branch_name.setText("城东支行")
    dlg.role.setCurrentIndex(dlg.role.findData("teller"))
    assert dlg.hub.isVisible() and dlg.window_no.isVisible() and not dlg.sync_box.isVisible()
    dlg.window_no.setValue(4)
    dlg.accept()  # no hub address yet: refused under the field, in the dialog's words
    says = dlg.field_error("station.hub")
    assert "ws://" in says and not path.exists()
    assert "文本编辑器" not in says and "本机设置" not in says and "station.hub" not in says
    dlg.hub.setText("ws://192.168.1.10:8765")
    dlg.key.setText("secret-key")
    dlg.print_kind.setCurrentIndex(dlg.print_kind.findData("folder"))
    dlg.folder.setText(str(tmp_path / "prints"))
    dlg.test_print()
    qtbot.waitUntil(lambda: "测试页已保存" in dlg.test_result.text(), timeout=10_000)
    assert list((tmp_path / "prints").glob("print-test*.pdf"))
    dlg.accept()
    cfg = load(path)
    assert cfg == dlg.saved and not dlg.wants_branch_setup  # a teller PC: no branch set-up
    assert cfg is not None and cfg.station == StationPart(
        role="teller", window=4, hub="ws://192.168.1.10:8765", key="secret-key"
    )
    # later, the same dialog as 本机设置, filled from the file
    again = SetupDialog(path, cfg, first_run=False)
    qtbot.addWidget(again)
    assert again.window_no.value() == 4 and again.key.text() == "secret-key"
    assert again.windowTitle() == "本机设置"
    words = {b.text() for b in again.findChildren(QPushButton)}
    assert {"保存", "取消", "测试打印"} <= words  # Qt's own buttons in Chinese too


def test_first_run_desk_asks_for_the_bank_and_leads_on_to_branch_setup(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from lobby_app.ui.app import qt_app
    from lobby_app.ui.setup_dialog import SetupDialog

    qt_app()
    path = tmp_path / "lobby-app.toml"
    dlg = SetupDialog(path, None, first_run=True)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.bank.isVisible() and "柜台和员工" in dlg.save_button.text()
    dlg.accept()  # the desk names the branch: bank, name and code are asked for
    assert "银行名称" in dlg.field_error("branch.bank")
    assert "网点名称" in dlg.field_error("branch.name")
    assert "网点代码" in dlg.field_error("branch.code")
    assert "(bank)" not in dlg.field_error("branch.bank")  # the command line's key: not here
    assert dlg.error.text() and not path.exists() and not dlg.wants_branch_setup

    # a teller PC takes the names from the hub: those messages go; its own field is asked
    dlg.role.setCurrentIndex(dlg.role.findData("teller"))
    assert not dlg.field_error("branch.bank") and not dlg.field_error("branch.code")
    dlg.accept()
    assert "ws://" in dlg.field_error("station.hub")
    dlg.sync_time.setText("25:99")  # the desk's field, refused once it is the desk again
    dlg.role.setCurrentIndex(dlg.role.findData("desk"))
    assert not dlg.field_error("station.hub") and not dlg.error.text()

    dlg.bank.setText("中国工商银行")
    dlg.branch_name.setText("城东支行")
    dlg.branch_code.setText("3101-15")
    dlg.print_kind.setCurrentIndex(dlg.print_kind.findData("none"))
    dlg.accept()
    assert "字母和数字" in dlg.field_error("branch.code")
    assert "21:30" in dlg.field_error("sync.time") and "文本编辑器" not in dlg.field_error(
        "sync.time"
    )
    assert dlg.bank.text() == "中国工商银行"  # input kept
    dlg.branch_code.setText("310115001")
    dlg.sync_time.setText("21:30")
    dlg.accept()
    cfg = load(path)
    assert cfg is not None and cfg == dlg.saved
    assert (cfg.branch.bank, cfg.branch.name, cfg.branch.code) == (
        "中国工商银行",
        "城东支行",
        "310115001",
    )
    assert dlg.wants_branch_setup  # the caller opens 网点设置 (counters and staff) next

    again = SetupDialog(path, cfg, first_run=False)  # 本机设置: no lead-on
    qtbot.addWidget(again)
    assert again.bank.text() == "中国工商银行"
    again.accept()
    assert again.saved == cfg and not again.wants_branch_setup


def test_logs_mask_id_and_phone_and_a_crash_is_explained(tmp_path: Path) -> None:
    code = (
        "from lobby_app.logs import setup_logging, install_crash_handler\n"
        "import logging\n"
        "setup_logging()\n"
        "install_crash_handler()\n"
        "logging.getLogger('lobby_app.x').warning('customer 310101196003010011 phone 13812345678')\n"
        "raise ValueError('bad id 31010119600301001X in row')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"LOBBY_LOG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 1
    assert "程序遇到意外错误" in proc.stderr and str(tmp_path) in proc.stderr
    log = (tmp_path / "lobby-app.log").read_text(encoding="utf-8")
    assert "ValueError" in log and "Traceback" in log
    for full in ("310101196003010011", "13812345678", "31010119600301001X"):
        assert full not in log
    assert "**************0011" in log and "138****5678" in log


def test_about_names_the_paths(tmp_path: Path) -> None:
    from lobby_app.ui.app import about_text

    text = about_text(tmp_path / "c.toml", tmp_path / "data")
    assert "0." in text and str(tmp_path / "c.toml") in text and "日志文件" in text


def test_config_defaults_are_a_valid_desk(tmp_path: Path) -> None:
    save(Config(), tmp_path / "d.toml")
    cfg = load(tmp_path / "d.toml")
    assert cfg is not None and cfg.station.role == "desk" and cfg.printer.kind == "folder"


def test_login_asks_only_for_the_person_when_the_pc_knows_the_key(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    from lobby_app.ui.app import LoginDialog, qt_app

    qt_app()
    known = LoginDialog("1 号窗口登录", need_staff=True, key="k", staff="")
    qtbot.addWidget(known)
    known.show()
    labels = [w.text() for w in known.findChildren(QLabel)]
    assert "站点密钥" not in labels and "工号" in labels and "密码" in labels
    qtbot.waitUntil(lambda: known.staff.hasFocus())
    fresh = LoginDialog("1 号窗口登录", need_staff=True, key="", staff="")
    qtbot.addWidget(fresh)
    assert "站点密钥" in [w.text() for w in fresh.findChildren(QLabel)]


def test_desk_config_seeds_a_fresh_branch_and_never_reverts_it(tmp_path: Path) -> None:
    """First run: the bank and branch typed in the set-up dialog become the branch's. Later
    the branch head's changes (网点设置) stay, although the PC's file still has the old names."""
    from lobby_app.cli.desk import _apply_desk_config
    from lobby_app.config import BranchPart, Config, PrinterPart
    from lobby_app.store import Store, admin, commands

    cfg = Config(
        branch=BranchPart(code="320106001", name="鼓楼支行", bank="江南银行"),
        printer=PrinterPart(kind="folder", folder=str(tmp_path / "tickets")),
    )
    _apply_desk_config(cfg, tmp_path / "data")
    store = Store.open(tmp_path / "data")
    try:
        st = commands.settings(store)
        assert (st.bank_name, st.branch_name, st.branch_code) == (
            "江南银行",
            "鼓楼支行",
            "320106001",
        )
        admin.set_branch(store, admin.branch_changes(name="鼓楼支行营业部"), actor="")
    finally:
        store.close()
    _apply_desk_config(cfg, tmp_path / "data")  # the next start, same file
    store = Store.open(tmp_path / "data")
    try:
        assert commands.settings(store).branch_name == "鼓楼支行营业部"
        assert commands.settings(store).print_folder == str(tmp_path / "tickets")
    finally:
        store.close()
