"""Reading a customer directory file: encodings, English or Chinese headers, row checks.

Each bad row is reported with its line, field and reason and left out; good rows come back
as records. A row whose VIP card neither the 3-month average earns nor a valid special
approval (特批) covers is kept at the level the assets earn and flagged (``warnings``): its
card is due for downgrade (003 第十二条, 第十四条; ``core.tiers.decide_card``). Nothing here
echoes a full ID or phone number, nor an amount.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import BinaryIO, NamedTuple, TypeVar

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import IdNumber, Phone, validate_id_number, validate_phone
from lobby_app.core.limits import (
    AMOUNT_MAX_FEN,
    APPROVER_MAX,
    MANAGER_MAX,
    check_name,
    check_text,
)
from lobby_app.core.tiers import (
    CARD_THRESHOLD_FEN,
    CARD_VALID_YEARS,
    YUAN,
    CardStanding,
    SpecialApproval,
    VipCard,
    decide_card,
    parse_vip_card,
)

HEADERS: dict[str, tuple[str, ...]] = {
    "customer_no": ("customer_no", "客户号", "客户编号", "客户号码"),
    "name": ("name", "姓名", "客户姓名", "客户名称"),
    "id_number": ("id_number", "证件号码", "身份证号", "身份证号码", "证件号"),
    "phone": ("phone", "手机号", "手机号码", "联系电话", "电话"),
    "assets": ("assets", "金融资产", "个人金融资产", "资产", "金融资产余额"),
    "loans": ("loans", "贷款", "贷款余额", "个人贷款", "个人贷款余额"),
    "avg_assets_3m": (
        "avg_assets_3m",
        "三个月日均资产",
        "近三月日均资产",
        "月日均资产",
        "三月日均",
    ),
    "vip_card": ("vip_card", "贵宾卡", "贵宾卡等级", "卡等级"),
    "manager": ("manager", "客户经理", "归属客户经理", "管户经理"),
    "prospect": ("prospect", "潜在客户", "潜在"),
    "card_no": ("card_no", "卡号", "银行卡号"),
    "vip_approved_by": ("vip_approved_by", "特批审批人", "审批人"),
    "vip_approved_until": ("vip_approved_until", "特批有效期至", "特批有效期", "有效期至"),
}
T = TypeVar("T")
REQUIRED = ("customer_no", "name")
_ALIASES = {alias.lower(): key for key, names in HEADERS.items() for alias in names}
_CUSTOMER_NO = re.compile(r"^[A-Za-z0-9-]{1,32}$")
TRUE = {"1", "true", "yes", "y", "是"}
FALSE = {"", "0", "false", "no", "n", "否"}
_TRUE_OR_FALSE = frozenset(TRUE | FALSE)
_CARD_GAPS = re.compile(r"[\s-]")
_AMOUNT_GAPS = re.compile(r"[,，\s]")
# the common shape of an amount: whole yuan with at most two decimals, read without Decimal
_PLAIN_AMOUNT = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,2}))?")


def broken_csv(exc: csv.Error, line: int) -> LobbyError:
    """A file the csv module cannot read, said on its line: a field over the module's limit
    (128 KiB, nearly always a quote opened and never closed) or bad quoting."""
    if "field larger than field limit" in str(exc):
        why = tr(
            f'有一个字段超过 {csv.field_size_limit() // 1024} KB，多半是某个引号(")没有配对，'
            "之后的内容都被读成了一个字段"
        )
    else:
        why = tr(f"格式错误({exc})")
    return LobbyError(
        "bad_csv",
        tr(f"第 {line} 行起无法读取：{why}。整个文件未导入，请在表格软件中检查该行后另存为 CSV"),
        line=line,
    )


def guarded(rows: Iterable[T], line: Callable[[], int]) -> Iterator[T]:
    """``rows`` from a csv reader (``line()``: its ``line_num``), a ``csv.Error`` becoming
    ``broken_csv`` on the line where the row it could not read starts."""
    it = iter(rows)
    while True:
        start = line() + 1
        try:
            row = next(it)
        except StopIteration:
            return
        except csv.Error as exc:
            raise broken_csv(exc, start) from None
        yield row


_NOT_UTF8_NOR_GBK = tr(
    "文件既不是 UTF-8 也不是 GBK 编码。请在表格软件中另存为 UTF-8 或 GBK 编码的 CSV。"
)


def decode_csv_bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise LobbyError("bad_encoding", _NOT_UTF8_NOR_GBK, line=1) from None


_SCAN_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileScan:
    """What a first read of a directory file found: its encoding and its fingerprint."""

    encoding: str  # "utf-8" (a byte-order mark is dropped from the first line) or "gb18030"
    fingerprint: str  # SHA-256 of the bytes: the same file when an import is run again
    size: int


def scan_csv_bytes(fh: BinaryIO) -> FileScan:
    """Read a file once in chunks (constant memory) to tell its encoding as
    ``decode_csv_bytes`` does (UTF-8 with or without BOM, else GBK/GB18030, else refused)
    and take its fingerprint."""
    for encoding in ("utf-8", "gb18030"):
        fh.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        digest = hashlib.sha256()
        size = 0
        try:
            while chunk := fh.read(_SCAN_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return FileScan(encoding, digest.hexdigest(), size)
    raise LobbyError("bad_encoding", _NOT_UTF8_NOR_GBK, line=1)


class FileLines:
    """The physical lines of a binary file, decoded, and how many bytes they took (where
    the next row starts: an import's checkpoint). A line break byte never occurs inside a
    UTF-8 or GB18030 character, so lines are cut on the bytes and decoded one by one."""

    def __init__(self, fh: BinaryIO, encoding: str) -> None:
        self._fh = fh
        self._encoding = encoding
        self.offset = 0

    def __iter__(self) -> Iterator[str]:
        encoding = self._encoding
        for raw in self._fh:
            self.offset += len(raw)
            yield raw.decode(encoding)


@dataclass(frozen=True)
class CustomerRecord:
    line: int
    customer_no: str
    name: str
    id_number: IdNumber | None
    phone: Phone | None
    card_first6: str
    card_last4: str
    assets_fen: int
    loans_fen: int
    avg_assets_3m_fen: int
    vip_card: VipCard | None  # the level served at (earned, or an approved special)
    vip_special: bool
    manager: str
    prospect: bool
    vip_approved_by: str = ""  # a special card's approval (特批): who, and until when
    vip_approved_until: date | None = None
    vip_card_held: VipCard | None = None  # the card held, when it is due for downgrade


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ParseResult:
    records: list[CustomerRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # rows left out
    warnings: list[RowError] = field(default_factory=list)  # rows taken in, flagged


def parse_amount_fen(text: str) -> int:
    """``1,234.50`` / ``25万`` / ``3000元`` in yuan -> integer fen; ValueError if not money."""
    plain = _PLAIN_AMOUNT.fullmatch(text)
    if plain is not None:  # 12345.67: the same value as below, a tenth of the time
        whole, cents = plain.groups()
        fen = int(whole) * YUAN + (int(cents.ljust(2, "0")) if cents else 0)
        if fen > AMOUNT_MAX_FEN:
            raise ValueError(text)
        return fen
    t = _AMOUNT_GAPS.sub("", text).removesuffix("元")
    scale = Decimal(1)
    if t.endswith("万"):
        t, scale = t[:-1], Decimal(10_000)
    if not t:
        return 0
    try:
        number = Decimal(t)
    except InvalidOperation:
        raise ValueError(text) from None
    # 1e400 or 1e999999999 yuan: refused before any arithmetic (a decimal overflow, or an
    # integer SQLite cannot hold); the limit is head office's (core/limits.py)
    if not number.is_finite() or number < 0 or number > Decimal(AMOUNT_MAX_FEN) / YUAN / scale:
        raise ValueError(text)
    value = number * scale
    if scale == 1 and value != value.quantize(Decimal("0.01")):
        raise ValueError(text)
    return int((value * YUAN).to_integral_value())


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_customer_csv(text: str, *, today: date | None = None) -> ParseResult:
    """The file's rows, all held (small files: the demo, tests); ``today`` (default: the
    computer's date) is the day special approvals are checked against. A large file is read
    row by row with ``DirectoryRows`` instead."""
    rows = DirectoryRows(iter(io.StringIO(text)), today=today)
    result = ParseResult()
    for row in rows:
        if row.record is not None:
            result.records.append(row.record)
            if row.warning is not None:
                result.warnings.append(row.warning)
        else:
            result.errors.extend(row.errors)
    return result


class RowOutcome(NamedTuple):
    """One data row of a file: its record, or the reasons it is left out."""

    line: int  # where the row starts
    record: CustomerRecord | None
    errors: list[RowError]
    warning: RowError | None  # a row taken in, flagged (a card due for downgrade)


class SeenNumbers:
    """The customer numbers taken so far and the line of each (a repeat is refused naming
    the first). A table of open addressing over one byte arena: about 40 bytes a number,
    where a dict of strings takes about 130, so a million-row file stays small."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1 << max(4, (max(capacity, 1) * 2 - 1).bit_length())
        self._arena = bytearray()
        self._slots = array("q", [-1]) * size  # arena offset << 6 | length; -1: empty
        self._lines = array("q", [0]) * size
        self._mask = size - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _find(self, key: bytes) -> int:
        slots, arena, mask = self._slots, self._arena, self._mask
        i = hash(key) & mask
        while True:
            s = slots[i]
            if s < 0:
                return i
            off = s >> 6
            if arena[off : off + (s & 63)] == key:
                return i
            i = (i + 1) & mask

    def get(self, number: str) -> int | None:
        i = self._find(number.encode())
        return None if self._slots[i] < 0 else self._lines[i]

    def add(self, number: str, line: int) -> None:
        """``number``: a customer number already checked (ASCII, at most 32 characters)."""
        key = number.encode()
        i = self._find(key)
        if self._slots[i] >= 0:
            return
        self._slots[i] = len(self._arena) << 6 | len(key)
        self._lines[i] = line
        self._arena += key
        self._count += 1
        if self._count * 2 > self._mask:
            self._grow()

    def _grow(self) -> None:
        slots, lines, arena = self._slots, self._lines, self._arena
        size = (self._mask + 1) * 2
        self._slots = array("q", [-1]) * size
        self._lines = array("q", [0]) * size
        self._mask = mask = size - 1
        new_slots, new_lines = self._slots, self._lines
        for s, line in zip(slots, lines, strict=True):
            if s < 0:
                continue
            off = s >> 6
            i = hash(bytes(arena[off : off + (s & 63)])) & mask
            while new_slots[i] >= 0:
                i = (i + 1) & mask
            new_slots[i] = s
            new_lines[i] = line


class DirectoryRows:
    """A directory file read row by row, holding nothing but the customer numbers seen.

    ``lines``: the file's physical lines, decoded (``FileLines`` for a file on disk). The
    header is read at once: an empty file, a missing required column or an unreadable first
    line raise here. Iterating gives each data row as a ``RowOutcome`` (blank rows are
    skipped); ``skim()`` only checks that the rest can be read as CSV (for the check before
    an import writes anything)."""

    def __init__(
        self, lines: Iterator[str], *, today: date | None = None, expected_rows: int = 0
    ) -> None:
        self.today = today or date.today()
        first = next(lines, None)
        if first is not None:
            first = first.lstrip("\ufeff")
            lines = chain((first,), lines)
        self._reader = csv.reader(lines, delimiter=_delimiter(first or ""))
        self._rows = guarded(self._reader, lambda: self._reader.line_num)
        try:
            self.header = next(self._rows)
        except StopIteration:
            raise LobbyError("empty_file", tr("文件是空的"), line=1) from None
        self.columns: dict[int, str] = {}
        for i, h in enumerate(self.header):
            key = _ALIASES.get(h.strip().lower())
            if key and key not in self.columns.values():
                self.columns[i] = key
        for req in REQUIRED:
            if req not in self.columns.values():
                found = "、".join(h.strip() for h in self.header if h.strip()) or tr("(无)")
                raise LobbyError(
                    "missing_column",
                    tr(f"缺少必需的列“{req}”({HEADERS[req][1]})。文件中的列：{found}"),
                    line=1,
                    field=req,
                )
        self.seen = SeenNumbers(expected_rows)

    @property
    def line_num(self) -> int:
        """Physical lines read so far."""
        return self._reader.line_num

    def skim(self) -> int:
        """Read the rest as CSV only (no row checks); the number of non-blank rows."""
        n = 0
        for row in self._rows:
            if any(cell.strip() for cell in row):
                n += 1
        return n

    def __iter__(self) -> Iterator[RowOutcome]:
        reader, header_len, columns = self._reader, len(self.header), self.columns
        items = list(columns.items())
        today, seen = self.today, self.seen
        line = reader.line_num + 1
        for row in self._rows:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > header_len:
                reason = tr(
                    f"字段数({len(row)})多于表头({header_len})，可能有未加引号的逗号，请检查该行"
                )
                yield RowOutcome(start, None, [RowError(start, "row", reason)], None)
                continue
            n = len(row)
            values = {key: (row[i].strip() if i < n else "") for i, key in items}
            errors: list[RowError] = []
            record = _record(start, values, errors, seen, today)
            if errors or record is None:
                yield RowOutcome(start, None, errors, None)
                continue
            seen.add(record.customer_no, start)
            yield RowOutcome(start, record, errors, card_flag(record, today))


def _record(
    line: int, v: dict[str, str], errors: list[RowError], seen: SeenNumbers, today: date
) -> CustomerRecord | None:
    def bad(field: str, reason: str) -> None:
        errors.append(RowError(line, field, reason))

    no = v.get("customer_no", "")
    if not no:
        bad("customer_no", tr("客户号不能为空"))
    elif not _CUSTOMER_NO.match(no):
        bad("customer_no", tr("客户号只能包含字母、数字和短横线，最多32位"))
    elif (first := seen.get(no)) is not None:
        bad("customer_no", tr(f"与第{first}行客户号重复"))
    name = v.get("name", "")
    if not name:
        bad("name", tr("姓名不能为空"))
    else:  # head office's column; no control characters, no spreadsheet formula
        try:
            name = check_name(name)
        except LobbyError as exc:
            bad("name", exc.message)
    id_number = phone = None
    if v.get("id_number"):
        try:
            id_number = validate_id_number(v["id_number"])
        except LobbyError as exc:
            bad("id_number", exc.message)
    if v.get("phone"):
        try:
            phone = validate_phone(v["phone"])
        except LobbyError as exc:
            bad("phone", exc.message)
    first6 = last4 = ""
    card = _CARD_GAPS.sub("", v.get("card_no", ""))
    if card:
        if not card.isdigit() or not 12 <= len(card) <= 19:
            bad("card_no", tr("卡号应为12到19位数字"))
        else:
            first6, last4 = card[:6], card[-4:]
    amounts: dict[str, int] = {}
    for key, label in (
        ("assets", "金融资产"),
        ("loans", "贷款余额"),
        ("avg_assets_3m", "三个月日均资产"),
    ):
        try:
            amounts[key] = parse_amount_fen(v.get(key, ""))
        except ValueError:
            bad(key, tr(f"{label}应为不小于0的金额(元)，最多两位小数，例如 12345.67 或 25万"))
    named_card: VipCard | None = None
    try:
        named_card = parse_vip_card(v.get("vip_card", ""))
    except ValueError:
        bad("vip_card", tr("贵宾卡应为 标准卡/白金卡/黑金卡(standard/platinum/black_gold)或留空"))
    prospect_text = v.get("prospect", "").lower()
    if prospect_text not in _TRUE_OR_FALSE:
        bad("prospect", tr("潜在客户应为 是/否 或 1/0"))
    approval = _approval(v, named_card, today, bad)
    manager = ""
    try:
        manager = check_text(
            v.get("manager", ""), field="manager", label=tr("客户经理"), limit=MANAGER_MAX
        )
    except LobbyError as exc:
        bad("manager", exc.message)
    if errors:
        return None
    decided = decide_card(named_card, amounts["avg_assets_3m"], approval, today)
    keep_approval = decided.special or decided.held is not None
    return CustomerRecord(
        line=line,
        customer_no=no,
        name=name,
        id_number=id_number,
        phone=phone,
        card_first6=first6,
        card_last4=last4,
        assets_fen=amounts["assets"],
        loans_fen=amounts["loans"],
        avg_assets_3m_fen=amounts["avg_assets_3m"],
        vip_card=decided.card,
        vip_special=decided.special,
        manager=manager,
        prospect=prospect_text in TRUE,
        # an approval is kept with the card it approves, also when it has run out (the
        # desk then shows the card as due for downgrade, naming the approval); one for a
        # card the assets earn anyway approves nothing
        vip_approved_by=approval.approved_by if approval and keep_approval else "",
        vip_approved_until=approval.valid_until if approval and keep_approval else None,
        vip_card_held=decided.held,
    )


def _approval(
    v: dict[str, str],
    named_card: VipCard | None,
    today: date,
    bad: Callable[[str, str], None],
) -> SpecialApproval | None:
    """The row's special approval (特批审批人 + 特批有效期至), checked: both or neither, a
    real date, no longer than a card is valid (003 第十四条: two years), for a named card."""
    by, until_text = v.get("vip_approved_by", ""), v.get("vip_approved_until", "")
    if not by and not until_text:
        return None
    if not by:
        bad("vip_approved_by", tr("填写了特批有效期至，但没有特批审批人"))
    else:
        try:
            check_name(by, field="vip_approved_by", label=tr("特批审批人"), limit=APPROVER_MAX)
        except LobbyError as exc:
            bad("vip_approved_by", exc.message)
    until: date | None = None
    if not until_text:
        bad("vip_approved_until", tr("填写了特批审批人，但没有特批有效期至(例如 2027-06-30)"))
    else:
        try:
            until = date.fromisoformat(until_text.replace("/", "-"))
        except ValueError:
            bad("vip_approved_until", tr("特批有效期至应为日期，例如 2027-06-30"))
    if until is not None:
        try:
            limit = today.replace(year=today.year + CARD_VALID_YEARS)
        except ValueError:  # 29 February
            limit = date(today.year + CARD_VALID_YEARS, 3, 1)
        if until > limit:
            bad(
                "vip_approved_until",
                tr(f"特批有效期至 {until} 超过贵宾卡两年有效期(最晚 {limit})"),
            )
    if named_card is None:
        bad("vip_card", tr("填写了特批审批，但没有贵宾卡等级(标准卡/白金卡/黑金卡)"))
    if not by or until is None:
        return None
    return SpecialApproval(by, until)


def card_flag(r: CustomerRecord, today: date) -> RowError | None:
    """The flag on a row whose card is due for downgrade (taken in at the level its 3-month
    average earns), or whose special approval has run out; None for a row in order."""
    if r.vip_card_held is None:
        return None
    card = r.vip_card_held
    yuan = CARD_THRESHOLD_FEN[card] // YUAN // 10_000
    served = r.vip_card.label if r.vip_card else tr("非贵宾卡客户")
    if r.vip_approved_until is not None:
        return RowError(
            r.line,
            "vip_approved_until",
            tr(
                f"{card.label}的特批已于 {r.vip_approved_until} 到期，近三个月日均资产未达"
                f"{yuan}万元：已按待降级导入，按{served}服务"
            ),
        )
    return RowError(
        r.line,
        "vip_card",
        tr(
            f"{card.label}需近三个月日均资产不低于{yuan}万元，本行未达到，也没有特批审批"
            f"(特批审批人、特批有效期至)：已按待降级导入，按{served}服务"
        ),
    )


def standing_of(r: CustomerRecord) -> CardStanding:
    """Where a parsed row's card stands."""
    if r.vip_card_held is not None:
        return CardStanding.DUE_DOWNGRADE
    if r.vip_special:
        return CardStanding.SPECIAL
    return CardStanding.EARNED if r.vip_card else CardStanding.NONE
