"""The desk's operations shared by the CLI and the windows: issue a ticket, print it."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.printing.dispatch import PrintError, PrintTarget, dispatch_pdf
from lobby_app.store import commands
from lobby_app.store.db import Store
from lobby_app.store.setup import BranchSettings
from lobby_app.store.views import IssuedTicket

if TYPE_CHECKING:  # reportlab loads when a PDF is made, not for a ticket printed nowhere
    from lobby_app.config import PrinterPart
    from lobby_app.printing.referral_slip import SlipPrint
    from lobby_app.printing.ticket import TicketPrint


@dataclass(frozen=True)
class PrintOutcome:
    ok: bool
    pdf: Path | None
    message: str  # Chinese, shown to the lobby manager
    code: str = ""  # stable error code when not ok
    # Whether the store heard how the print went (a full disk can refuse that record while
    # the ticket itself stands); the code of the refusal when it did not.
    recorded: bool = True
    record_error: str = ""
    # where it went: "printer" (sent to a printer), "folder" (saved as a file), "none" (this
    # PC prints nowhere); the desk says so rather than "printed" for a file
    went: str = "printer"

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "pdf": str(self.pdf) if self.pdf else None,
            "message": self.message,
            "error": self.code or None,
            "recorded": self.recorded,
            "record_error": self.record_error or None,
        }


log = logging.getLogger(__name__)
# What a failure after the ticket was saved says first: the number stands (issue 16 item 6).
ISSUED_ANYWAY = tr("号码已发出并已保存，客户可按号等候；")
_STORE_TROUBLE = {
    "disk_full": tr("磁盘已满"),
    "store_busy": tr("网点数据库正忙"),
    "store_readonly": tr("网点数据库只读"),
}


def after_issue_problem(exc: LobbyError) -> str:
    """A store refusal met after the ticket was saved, in words that do not say "未保存"
    (that would be read as "the ticket was not issued")."""
    return _STORE_TROUBLE.get(exc.code, exc.message)


def ticket_print(issued: IssuedTicket, st: BranchSettings) -> TicketPrint:
    from lobby_app.printing.ticket import TicketPrint

    return TicketPrint(
        branch_name=st.display_name,
        number=issued.number,
        business_name=issued.business_name,
        zone_label=issued.zone.label,
        wait_area=issued.zone.wait_area,
        ahead=issued.ahead,
        estimated_wait_min=issued.estimated_wait_min,
        issued_at=issued.issued_at.astimezone(st.tz),
        ticket_id=issued.id,
        green_channel=issued.green_channel,
        vip=issued.vip,
        priority_label=issued.priority.label if issued.priority else None,
        salutation=issued.salutation,
        windows=issued.windows,
    )


def print_target(store: Store, st: BranchSettings) -> PrintTarget:
    return target_for(st, store.data_dir)


def station_print_target(printer: PrinterPart) -> PrintTarget | None:
    """Where a station's own PC (a teller's) prints, from its configuration file; None when
    it has no printer of its own set up: the lobby desk then prints for it. A folder counts
    only when one is named (the default folder is the desk's tickets folder)."""
    if printer.kind == "printer" and printer.name:
        return PrintTarget(kind="printer", printer=printer.name)
    if printer.kind == "folder" and printer.folder:
        return PrintTarget(kind="folder", folder=Path(printer.folder))
    return None


def target_for(st: BranchSettings, data_dir: Path) -> PrintTarget:
    """Where this PC prints: the configured printer, a folder of PDFs, or nowhere."""
    if st.print_kind == "printer" and st.printer:
        return PrintTarget(kind="printer", printer=st.printer)
    if st.print_kind == "none":
        return PrintTarget(kind="none")
    return PrintTarget(kind="folder", folder=st.ticket_folder(data_dir))


Record = Callable[[bool, str], None]


def print_ticket(
    store: Store,
    issued: IssuedTicket,
    *,
    pdf_path: Path | None = None,
    target: PrintTarget | None = None,
    actor: str = "",
) -> PrintOutcome:
    """Render the ticket PDF and send it to the branch's printer or folder.

    The ticket is already issued when this runs: a failure here is reported and recorded,
    and the ticket can be reprinted; it never undoes the issue, nor raises (a full disk
    made a saved, queued ticket look refused: issue 16 item 6).
    """

    def record(ok: bool, detail: str) -> None:
        commands.record_print(store, issued.id, ok=ok, detail=detail, actor=actor)

    try:
        st = commands.settings(store)
    except LobbyError as exc:
        why = after_issue_problem(exc)
        return PrintOutcome(
            False,
            None,
            ISSUED_ANYWAY + tr(f"但读不到打印设置({why})，没有打印，可稍后重打。"),
            exc.code,
            recorded=False,
            record_error=exc.code,
        )
    return deliver_ticket(
        issued, st, store.data_dir, record=record, pdf_path=pdf_path, target=target
    )


def deliver_ticket(
    issued: IssuedTicket,
    st: BranchSettings,
    data_dir: Path,
    *,
    record: Record,
    pdf_path: Path | None = None,
    target: PrintTarget | None = None,
) -> PrintOutcome:
    """``print_ticket`` for a PC that reaches the store through the hub: ``record`` tells
    the store whether the ticket reached paper. Never raises: what fails here (the PDF,
    the printer, the record of it) is said in the outcome; the ticket stands."""
    outcome, detail = _deliver_ticket(issued, st, data_dir, pdf_path=pdf_path, target=target)
    try:
        record(outcome.ok, detail)
    except LobbyError as exc:  # e.g. the disk filled up after the ticket was saved
        log.warning("print result of %s not recorded: %s", issued.number, exc.code)
        return _unrecorded(outcome, after_issue_problem(exc), exc.code)
    except Exception as exc:  # the paper matters more than the record of it
        log.exception("print result of %s not recorded", issued.number)
        return _unrecorded(outcome, str(exc) or type(exc).__name__, "record_failed")
    return outcome


def _unrecorded(outcome: PrintOutcome, why: str, code: str) -> PrintOutcome:
    said = tr(f"打印结果未能记入网点数据库({why})。")
    message = f"{outcome.message}；{said}" if outcome.ok else f"{outcome.message}{said}"
    return replace(outcome, message=message, recorded=False, record_error=code)


def _deliver_ticket(
    issued: IssuedTicket,
    st: BranchSettings,
    data_dir: Path,
    *,
    pdf_path: Path | None = None,
    target: PrintTarget | None = None,
) -> tuple[PrintOutcome, str]:
    """Render and send the ticket: the outcome, and what the store records of it (where it
    went, or why not). Every failure becomes an outcome. A PC that prints nowhere makes no
    PDF (which nobody would see) and does not load reportlab (issue 17 item 5)."""
    if pdf_path is None and (target or target_for(st, data_dir)).kind == "none":
        return PrintOutcome(True, None, tr("本机未设置打印"), went="none"), ""
    from lobby_app.printing.fonts import FontMissingError
    from lobby_app.printing.ticket import write_ticket_pdf

    try:
        if pdf_path is not None:
            out = write_ticket_pdf(ticket_print(issued, st), pdf_path)
            return PrintOutcome(True, out, tr(f"票据已保存到 {out}"), went="folder"), str(out)
        target = target or target_for(st, data_dir)
        with tempfile.TemporaryDirectory(prefix="lobby-ticket-") as tmp:
            pdf = write_ticket_pdf(
                ticket_print(issued, st),
                Path(tmp) / f"{issued.business_date:%Y%m%d}-{issued.number}.pdf",
            )
            where = dispatch_pdf(pdf, target)
        dest = Path(where) if target.kind == "folder" else None
        msg = {
            "folder": tr(f"票据已保存到 {where}"),
            "printer": tr(f"已发送到打印机 {target.printer}"),
            "none": tr("本机未设置打印"),
        }[target.kind]
        return PrintOutcome(True, dest, msg, went=target.kind), where
    except PrintError as exc:
        return PrintOutcome(False, None, exc.message_zh, exc.code), exc.message_zh
    except FontMissingError as exc:
        return PrintOutcome(False, None, str(exc), "font_missing"), str(exc)
    except OSError as exc:
        msg = tr(f"票据文件无法写入（{exc.strerror or exc}）。号码已发出，可稍后重打。")
        return PrintOutcome(False, None, msg, "pdf_unwritable"), msg
    except Exception as exc:  # a rendering bug must not read as "no ticket"
        log.exception("ticket %s did not render", issued.number)
        msg = tr(f"票据打印出错（{type(exc).__name__}）。号码已发出，可稍后重打。")
        return PrintOutcome(False, None, msg, "print_failed"), msg


def slip_print(
    referral: dict[str, Any], st: BranchSettings, branch_name: str | None = None
) -> SlipPrint:
    """The slip from a referral as the store reports it (``ReferralView.as_json()``): what
    the customer may carry, and no more (no tier, ID digits, amounts or note)."""
    from lobby_app.printing.referral_slip import SlipPrint

    cust = referral.get("customer") or {}
    return SlipPrint(
        branch_name=branch_name or st.display_name,
        referral_no=str(referral["referral_no"]),
        created_at=datetime.fromisoformat(str(referral["created_at"])).astimezone(st.tz),
        ticket_number=str(referral.get("ticket_number") or ""),
        customer=str(cust.get("salutation") or ""),
        need_label=str(referral["need_label"]),
        to_name=str(referral.get("to_name") or ""),
        to_staff=str(referral["to_staff"]),
        to_location=str(referral.get("to_location") or ""),
        referrer_name=str(referral.get("referrer_name") or ""),
        referrer=str(referral["referrer"]),
    )


def print_slip(
    store: Store,
    referral: dict[str, Any],
    *,
    pdf_path: Path | None = None,
    target: PrintTarget | None = None,
    branch_name: str | None = None,
) -> PrintOutcome:
    """Render the referral slip and send it where the branch prints. The referral stands
    whether or not the slip prints; it can be printed again."""
    return deliver_slip(
        referral,
        commands.settings(store),
        store.data_dir,
        pdf_path=pdf_path,
        target=target,
        branch_name=branch_name,
    )


def deliver_slip(
    referral: dict[str, Any],
    st: BranchSettings,
    data_dir: Path,
    *,
    pdf_path: Path | None = None,
    target: PrintTarget | None = None,
    branch_name: str | None = None,
) -> PrintOutcome:
    """``print_slip`` with the settings in hand (a desk that reaches the store via the hub)."""
    from lobby_app.printing.referral_slip import write_slip_pdf

    slip = slip_print(referral, st, branch_name)
    return _deliver(
        lambda path: write_slip_pdf(slip, path),
        f"{slip.referral_no}.pdf",
        tr("转介单"),
        target or target_for(st, data_dir),
        save_to=pdf_path,
        to_printer=pdf_path is None,
        after_failure=tr("转介已记录，可稍后重打。"),
    )


def deliver_summary(
    figures: dict[str, Any],
    st: BranchSettings,
    data_dir: Path,
    *,
    pdf_path: Path | None = None,
    send_to_printer: bool = False,
    prepared_by: str = "",
) -> PrintOutcome:
    """Render the end-of-day summary (A4) to a file and/or the branch's printer. With neither
    given it goes to ``<data dir>/reports``."""
    from lobby_app.printing.summary import write_summary_pdf  # platypus: only when asked

    one_day = figures["from"] == figures["to"]
    name = f"summary-{figures['from'] if one_day else figures['from'] + '_' + figures['to']}.pdf"
    target = target_for(st, data_dir)
    if target.kind == "folder":
        target = PrintTarget(kind="folder", folder=data_dir / "reports")
    return _deliver(
        lambda path: write_summary_pdf(figures, path, prepared_by=prepared_by),
        name,
        tr("汇总表"),
        target,
        save_to=pdf_path
        if pdf_path is not None or send_to_printer
        else data_dir / "reports" / name,
        to_printer=send_to_printer,
        media_mm=(210, 297),
        timeout_s=30.0,
        after_failure=tr("请检查磁盘空间或换一个保存位置。"),
    )


def _deliver(
    write: Callable[[Path], Path],
    name: str,
    what: str,
    target: PrintTarget,
    *,
    save_to: Path | None,
    to_printer: bool,
    media_mm: tuple[int, int] = (80, 120),
    timeout_s: float = 10.0,
    after_failure: str = "",
) -> PrintOutcome:
    """Render once; keep the file at ``save_to`` and/or send it where the PC prints. A failure
    becomes a Chinese message, never an exception: what it printed stands regardless."""
    from lobby_app.printing.fonts import FontMissingError

    try:
        kept = write(save_to) if save_to is not None else None
        if not to_printer:
            assert kept is not None
            return PrintOutcome(True, kept, tr(f"{what}已保存到 {kept}"), went="folder")
        with tempfile.TemporaryDirectory(prefix="lobby-print-") as tmp:
            pdf = kept or write(Path(tmp) / name)
            where = dispatch_pdf(pdf, target, media_mm=media_mm, timeout_s=timeout_s)
        msg = {
            "folder": tr(f"{what}已保存到 {where}"),
            "printer": tr(f"{what}已发送到打印机 {target.printer}"),
            "none": tr(f"本机未设置打印，{what}没有打印"),
        }[target.kind]
        dest = kept or (Path(where) if target.kind == "folder" else None)
        return PrintOutcome(True, dest, msg, went=target.kind)
    except PrintError as exc:
        return PrintOutcome(False, None, exc.message_zh, exc.code)
    except FontMissingError as exc:
        return PrintOutcome(False, None, str(exc), "font_missing")
    except OSError as exc:
        msg = tr(f"{what}文件无法写入（{exc.strerror or exc}）。{after_failure}")
        return PrintOutcome(False, None, msg, "pdf_unwritable")
