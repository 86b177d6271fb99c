"""Private data in the store (issue 16 items 9-11): free text is saved with ID, phone and
card numbers masked; the data folder and its files are the user's only; the station key
is kept as a hash; a referral's details only for its manager and the branch head."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.zones import Zone
from lobby_app.models import AuditEvent, DayClose, Referral, Setting, Ticket, TicketEvent
from lobby_app.models.base import utcnow
from lobby_app.store import Store, commands, dayclose, referrals, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.store.staff import (
    check_station_key,
    ensure_station_key,
    rotate_station_key,
    station_key,
)
from tests.conftest import open_demo_copy

# the probe's note, and the same numbers typed other ways
NOTE = "身份证110101198409227176 / 186-1205-7623"
FULL_ID, FULL_MOBILE, FULL_CARD = "110101198409227176", "18612057623", "6222021234567890123"
SPELLINGS = (
    FULL_ID,
    FULL_MOBILE,
    FULL_CARD,
    "186-1205-7623",
    "6222 0212 3456 7890 123",
    "１８６１２０５７６２３",
)


@pytest.fixture
def branch(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 50)
    yield s
    s.close()


def audit(store: Store, action: str) -> list[AuditEvent]:
    with store.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def leaks(text: str) -> list[str]:
    return [n for n in SPELLINGS if n in text]


# ---------------------------------------------------------------- item 9: free text


def test_ticket_notes_and_reasons_are_saved_masked_and_the_desk_is_told(branch: Store) -> None:
    """Was: greeting and needs notes, VIP / priority / zone reasons kept the numbers as typed,
    and the teller's card showed them; now masked when saved, and ``notes_masked`` says so."""
    issued = commands.issue_ticket(
        branch,
        IssueRequest(
            "cash",
            greeting_note=NOTE,
            needs_note="卡号6222 0212 3456 7890 123，想办理财",
            vip=True,
            vip_reason="手机１８６１２０５７６２３",
            priority=PriorityKind.OTHER,
            priority_reason="身份证110101198409227176",
            zone=Zone.OPEN_COUNTER,
            zone_reason="客户电话186 1205 7623",
            actor="L01",
        ),
    )
    assert issued.notes_masked and issued.as_json()["notes_masked"] is True
    with branch.read() as s:
        t = s.get(Ticket, issued.id)
        assert t is not None
        saved = [
            t.greeting_note,
            t.needs_note,
            t.vip_reason,
            t.priority_reason,
            t.zone_override_reason,
        ]
        events = [e.detail for e in s.scalars(select(TicketEvent))]
    assert saved == [
        "身份证**************7176 / 186****7623",
        "卡号622202*********0123，想办理财",
        "手机186****7623",
        "身份证**************7176",
        "客户电话186****7623",
    ]
    assert not leaks(" ".join(saved + events))
    card = referrals.ticket_card(branch, issued.id)
    assert not leaks(json.dumps(card, ensure_ascii=False))
    plain = commands.issue_ticket(
        branch, IssueRequest("cash", needs_note="30万定期 2026-12-01 到期，A001 陪同", actor="L01")
    )
    assert not plain.notes_masked  # ordinary text: nothing to tell


def test_referral_and_outcome_notes_are_saved_masked(branch: Store) -> None:
    """Was: the referral note, the outcome note and the product name went into the store,
    to the manager's screen and to head office as typed."""
    t = commands.issue_ticket(branch, IssueRequest("wealth", actor="L01"))
    ref = referrals.refer(
        branch, ticket_number=t.number, to_staff="M02", need="wealth", note=NOTE, actor="L01"
    )
    assert ref["notes_masked"] is True and ref["note"] == "身份证**************7176 / 186****7623"
    done = referrals.record_outcome(
        branch,
        str(ref["referral_no"]),
        outcome="sold",
        product="理财(卡6222021234567890123)",
        amount_fen=100_000,
        note="回访电话 186-1205-7623",
        actor="M02",
    )
    assert done["notes_masked"] is True
    with branch.read() as s:
        r = s.scalar(select(Referral))
        assert r is not None
        assert not leaks(r.note + r.outcome_note + r.product)
        assert (
            r.outcome_note == "回访电话 186****7623" and r.product == "理财(卡622202*********0123)"
        )


def test_transfer_and_day_close_reasons_and_audit_details_are_saved_masked(
    branch: Store,
) -> None:
    """Was: a transfer's reason, a day close's reason and an audit detail kept a number
    typed with separators ("186-1205-7623"): only unbroken runs of 7+ digits were masked."""
    commands.issue_ticket(branch, IssueRequest("cash", actor="L01"))
    commands.issue_ticket(branch, IssueRequest("cash", actor="L01"))
    teller.call_next(branch, 1, actor="T01")
    teller.transfer(branch, 1, to_zone=Zone.OPEN_COUNTER, reason=NOTE, actor="T01")
    commands.record_audit(branch, actor="L01", action="lookup", detail="186-1205-7623 -> 0")
    bdate = commands.settings(branch).business_date(utcnow())
    dayclose.close_day(branch, bdate, actor="L01", reason="客户 186 1205 7623 未等", force=True)
    with branch.read() as s:
        texts = [e.detail for e in s.scalars(select(TicketEvent))]
        texts += [a.detail for a in s.scalars(select(AuditEvent))]
        texts += [d.reason for d in s.scalars(select(DayClose))]
        texts += [t.settle_reason for t in s.scalars(select(Ticket))]
    assert not leaks(" ".join(texts))
    assert any("186****7623" in t for t in texts)


def test_no_full_number_is_in_the_store_files_or_at_head_office(branch: Store) -> None:
    """End to end: after notes with numbers and a nightly sync, neither the branch's files
    nor head office's database hold a full ID, phone or card number in any spelling."""
    from lobby_app.sync.engine import run_sync

    t = commands.issue_ticket(branch, IssueRequest("wealth", needs_note=NOTE, actor="L01"))
    referrals.refer(
        branch,
        ticket_number=t.number,
        to_staff="M02",
        need="wealth",
        note="卡号 6222 0212 3456 7890 123",
        actor="L01",
    )
    result = run_sync(branch)
    assert result.status in ("ok", "warning"), result
    blobs = b""
    for f in sorted(branch.data_dir.glob("*.sqlite3*")):
        blobs += f.read_bytes()
    assert b"headoffice" in b"".join(f.name.encode() for f in branch.data_dir.iterdir())
    assert not leaks(blobs.decode("utf-8", "replace"))


# ---------------------------------------------------------------- item 10: files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_its_files_are_the_users_only(tmp_path: Path) -> None:
    """Was: branch.sqlite3 and its WAL/SHM, headoffice.sqlite3 and ticket PDFs were 0644 in
    a 0755 folder, readable by every user of the PC."""
    from lobby_app.lobby import print_ticket

    os.umask(0o022)  # as a login shell leaves it
    store = Store.open(tmp_path / "d")
    try:
        issued = commands.issue_ticket(store, IssueRequest("cash", actor="L01"))
        outcome = print_ticket(store, issued, actor="L01")
        assert outcome.ok, outcome.message
        files = [p for p in (tmp_path / "d").rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {
            "branch.sqlite3",
            "branch.sqlite3-wal",
            "branch.sqlite3-shm",
            "id-hash.key",
        }
        assert any(p.suffix == ".pdf" for p in files)
        assert mode(tmp_path / "d") == 0o700 and mode(tmp_path / "d" / "tickets") == 0o700
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        store.close()


def test_an_older_stores_files_are_made_private_when_it_opens(tmp_path: Path) -> None:
    """Was: a store made by an older version stayed world-readable. Opening it takes group
    and other access off its folder and files once; a file of the person's own is left."""
    data = tmp_path / "d"
    Store.open(data).close()
    (data / "tickets").mkdir()
    (data / "tickets" / "20261201-A001.pdf").write_bytes(b"%PDF")
    (data / "headoffice.sqlite3").write_bytes(b"")
    (data / "readme.txt").write_text("mine")
    for p in [data, *data.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    Store.open(data).close()
    assert mode(data) == 0o700 and mode(data / "tickets") == 0o700
    for name in (
        "branch.sqlite3",
        "headoffice.sqlite3",
        "id-hash.key",
        "tickets/20261201-A001.pdf",
    ):
        assert mode(data / name) == 0o600, name
    assert mode(data / "readme.txt") == 0o644  # not the app's: left alone
    old = os.umask(0o022)
    os.umask(old)
    assert old & 0o077 == 0o077  # what the process makes from now on is private too


# ---------------------------------------------------------------- item 10: station key


def test_the_station_key_is_kept_as_its_hash_and_shown_once(branch: Store) -> None:
    """Was: the station key sat in the settings table in plain text, and ``station-key``
    showed it to anyone with the files."""
    key = ensure_station_key(branch)
    assert key and ensure_station_key(branch) is None  # made once
    with branch.read() as s:
        row = s.get(Setting, "station_key")
        assert row is not None and row.value.startswith("sha256:") and key not in row.value
    assert check_station_key(branch, key) and not check_station_key(branch, key + "x")
    assert not check_station_key(branch, "") and not check_station_key(branch, ["k"])
    with pytest.raises(LobbyError) as e:
        station_key(branch)  # not kept, so it cannot be shown again
    assert e.value.code == "station_key_hidden" and "--rotate" in e.value.message
    branch.close()
    assert key.encode() not in b"".join(p.read_bytes() for p in branch.data_dir.glob("*.sqlite3*"))


def test_a_plain_key_from_an_older_version_is_hashed_on_open_and_still_works(
    branch: Store,
) -> None:
    """Was: plain text. An existing store keeps working: its stations' key is accepted,
    and from the next open only the hash is kept."""
    with branch.write() as s:
        s.add(Setting(key="station_key", value="old-plain-key-123"))
    branch.close()
    again = Store.open(branch.data_dir)
    try:
        with again.read() as s:
            row = s.get(Setting, "station_key")
            assert row is not None and row.value.startswith("sha256:")
        assert check_station_key(again, "old-plain-key-123")
    finally:
        again.close()


def test_rotating_the_key_needs_the_branch_head_and_retires_the_old_one(branch: Store) -> None:
    """A new station learns the key from ``station-key --rotate``: the branch head's change,
    audited; the old key stops working at once."""
    old = ensure_station_key(branch)
    assert old
    with pytest.raises(LobbyError) as e:
        rotate_station_key(branch, actor="L01")
    assert e.value.code == "wrong_role"
    new = rotate_station_key(branch, actor="B01")
    assert check_station_key(branch, new) and not check_station_key(branch, old)
    assert [a.detail for a in audit(branch, "station_key")] == ["created", "rotated"]


# ---------------------------------------------------------------- item 11: referrals


@pytest.fixture
def referral(branch: Store) -> str:
    """A referral of a directory customer from teller T04 to M02, sold, with notes."""
    from lobby_app.models import Customer

    with branch.read() as s:
        cust = s.scalars(select(Customer.id).where(Customer.prospect.is_(False))).first()
    t = commands.issue_ticket(
        branch, IssueRequest("wealth", customer_id=cust, needs_note="定期到期", actor="L01")
    )
    ref = referrals.refer(
        branch, ticket_number=t.number, to_staff="M02", need="wealth", note="想买理财", actor="T04"
    )
    no = str(ref["referral_no"])
    referrals.record_outcome(
        branch,
        no,
        outcome="sold",
        product="稳健理财",
        amount_fen=5_000_000,
        note="客户家里有变故",
        actor="M02",
    )
    return no


def test_only_the_referrals_manager_and_the_branch_head_open_its_details(
    branch: Store, referral: str
) -> None:
    """Was: any customer manager could open another manager's referral (the customer's
    name, notes and outcome) by its number. Now: the manager it was sent to and the branch
    head see the details; the teller who referred and the desk its status; another manager
    is refused, in Chinese, and the refusal is audited."""
    for who in ("M02", "B01"):
        full = referrals.referral_detail(branch, referral, viewer=who)
        assert full.outcome_note == "客户家里有变故" and full.product == "稳健理财"
        assert full.customer is not None and len(full.customer.name) >= 2
        assert full.recent_notes  # the customer's earlier visits
    for who in ("T04", "L01"):
        status = referrals.referral_detail(branch, referral, viewer=who)
        assert (status.status, status.to_staff, status.note) == ("sold", "M02", "想买理财")
        assert status.outcome_note == "" and status.product == "" and status.amount_fen == 0
        assert status.recent_notes == [] and status.credits == []
        assert status.customer is not None
        assert status.customer.name == status.customer.salutation
        assert status.customer.masked_phone == "" and status.customer.masked_id == ""
    for who in ("M01", "T01", "X99", ""):
        with pytest.raises(LobbyError) as e:
            referrals.referral_detail(branch, referral, viewer=who)
        assert e.value.code == "not_your_referral" and "无权查看" in e.value.message
    refused = audit(branch, "referral_refused")
    assert [a.actor for a in refused] == ["M01", "T01", "X99", "?"]
    assert all(a.detail == referral for a in refused)
    assert {a.actor for a in audit(branch, "view_referral")} == {"M02", "B01", "T04", "L01"}


def test_listing_referrals_follows_the_same_rule(branch: Store, referral: str) -> None:
    """Was: ``referrals --to M02`` listed another manager's referrals with their notes."""
    mine = referrals.referrals_for(branch, "M02", open_only=False)
    assert [r.referral_no for r in mine] == [referral] and mine[0].outcome_note
    assert referrals.referrals_for(branch, "M01", open_only=False) == []  # only their own
    with pytest.raises(LobbyError) as e:
        referrals.referrals_for(branch, "M01", to_staff="M02", open_only=False)
    assert e.value.code == "not_your_referral"
    assert audit(branch, "referral_refused")[-1].detail == "list M02"
    (desk,) = referrals.referrals_for(branch, "L01", open_only=False)
    assert desk.status_label and not desk.outcome_note and not desk.recent_notes
    (referrer,) = referrals.referrals_for(branch, "T04", open_only=False)
    assert referrer.referral_no == referral and not referrer.product
    assert referrals.referrals_for(branch, "T01", open_only=False) == []
    assert referrals.referrals_for(branch, "B01", to_staff="M02", open_only=False)[0].product
    with pytest.raises(LobbyError):
        referrals.referrals_for(branch, "X99")


def test_acting_on_another_managers_referral_is_refused_and_audited(
    branch: Store, referral: str
) -> None:
    """The refusal of accept / contact / outcome by another manager is audited too (it used
    to roll back with the refused command)."""
    with pytest.raises(LobbyError) as e:
        referrals.accept(branch, referral, actor="M01")
    assert e.value.code == "not_your_referral"
    assert [(a.actor, a.detail) for a in audit(branch, "referral_refused")] == [
        ("M01", f"accept_referral {referral}")
    ]
