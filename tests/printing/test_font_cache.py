"""The parsed-font cache: written once, read back the same, never trusted when stale or
damaged, never in the way of a ticket; and a ticket that imports only what it draws."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import reportlab
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

from lobby_app.printing import font_cache, ticket
from lobby_app.printing.fonts import FONT_NAME, _candidates
from tests.printing.test_ticket_pdf import ticket as a_ticket

SYSTEM_FONT = next((p for p in _candidates() if p.is_file() and p.suffix == ".ttc"), None)
pytestmark = pytest.mark.skipif(SYSTEM_FONT is None, reason="no CJK TrueType collection here")


@pytest.fixture(scope="module")
def font_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A font file the tests may touch (its mtime) without touching the system's."""
    assert SYSTEM_FONT is not None
    dest = tmp_path_factory.mktemp("font") / SYSTEM_FONT.name
    shutil.copyfile(SYSTEM_FONT, dest)
    return dest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "font-cache"
    monkeypatch.setenv("LOBBY_FONT_CACHE", str(folder))
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every real parse of a font file, by path."""
    seen: list[Path] = []
    real = font_cache.parse_font

    def counting(name: str, path: Path, subfont: int) -> tuple[TTFont, font_cache.Stamp]:
        seen.append(path)
        return real(name, path, subfont)

    monkeypatch.setattr(font_cache, "parse_font", counting)
    return seen


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the font file was parsed")

    monkeypatch.setattr(font_cache, "parse_font", refuse)
    monkeypatch.setattr(TTFontFace, "__init__", refuse)


def cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ttfcache"))


def test_cache_written_on_first_use_and_read_on_the_second(
    font_copy: Path, cache: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = font_cache.load_ttfont("A", font_copy)
    assert parses == [font_copy]
    assert type(first.face) is TTFontFace
    [written] = cache_files(cache)
    assert font_copy.stem in written.name

    no_parsing(monkeypatch)
    second = font_cache.load_ttfont("A", font_copy)
    assert isinstance(second.face, font_cache.CachedFace)
    assert "_ttf_data" not in vars(second.face), "the font's bytes are read only for a subset"
    assert second.stringWidth("您的号码 A012", 10) == first.stringWidth("您的号码 A012", 10)
    assert "_ttf_data" not in vars(second.face)
    assert second.face._ttf_data == first.face._ttf_data


def test_cached_face_is_the_parsed_face(font_copy: Path, cache: Path) -> None:
    fresh = font_cache.load_ttfont("A", font_copy)
    cached = font_cache.load_ttfont("A", font_copy)
    assert isinstance(cached.face, font_cache.CachedFace)
    for attr, value in vars(fresh.face).items():
        if attr in ("_pdfScale", "_pos"):
            continue
        got = getattr(cached.face, attr)
        assert type(got) is type(value), attr
        assert got == value, attr
    assert cached.face.name.ustr == fresh.face.name.ustr
    # ints stay ints and floats floats, as reportlab made them
    for attr in ("charWidths", "charToGlyph"):
        got, want = getattr(cached.face, attr), getattr(fresh.face, attr)
        assert list(got.items()) == list(want.items())
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]
    assert [tuple(map(type, m)) for m in cached.face.hmetrics] == [
        tuple(map(type, m)) for m in fresh.face.hmetrics
    ]
    for x in (0, 1, 1024, 377.5):
        assert cached.face._pdfScale(x) == fresh.face._pdfScale(x)
    # the font around the face is what TTFont() makes
    assert vars(cached).keys() == vars(fresh).keys()
    for attr in vars(fresh).keys() - {"face", "state", "encoding"}:
        assert getattr(cached, attr) == getattr(fresh, attr), attr
    assert vars(cached.encoding) == vars(fresh.encoding)


@pytest.fixture
def registered() -> Iterator[Callable[[TTFont], None]]:
    """Register a font as the app's CJK font for one test, then put back what was there."""
    before = pdfmetrics._fonts.get(FONT_NAME)
    faces = dict(pdfmetrics._dynFaceNames)

    def register(font: TTFont) -> None:
        pdfmetrics._fonts.pop(FONT_NAME, None)
        pdfmetrics._dynFaceNames.pop(font.face.name, None)
        pdfmetrics.registerFont(font)
        assert pdfmetrics.getFont(FONT_NAME) is font

    yield register
    pdfmetrics._fonts.pop(FONT_NAME, None)
    if before is not None:
        pdfmetrics._fonts[FONT_NAME] = before
    pdfmetrics._dynFaceNames.clear()
    pdfmetrics._dynFaceNames.update(faces)


def render(path: Path) -> bytes:
    ticket.write_ticket_pdf(a_ticket(), path)
    return path.read_bytes()


def test_ticket_from_cached_font_is_the_ticket_from_parsed_font(
    font_copy: Path,
    cache: Path,
    tmp_path: Path,
    registered: Callable[[TTFont], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ticket, "cjk_font", lambda: FONT_NAME)
    monkeypatch.setattr(rl_config, "invariant", 1)  # fixed dates and document id
    fresh = font_cache.load_ttfont(FONT_NAME, font_copy)
    registered(fresh)
    parsed_pdf = render(tmp_path / "parsed.pdf")

    no_parsing(monkeypatch)
    cached = font_cache.load_ttfont(FONT_NAME, font_copy)
    assert isinstance(cached.face, font_cache.CachedFace)
    registered(cached)
    cached_pdf = render(tmp_path / "cached.pdf")

    assert b"/FontFile2" in cached_pdf  # a subset was cut and embedded
    assert "_ttf_data" in vars(cached.face)
    assert cached_pdf == parsed_pdf  # same glyphs, widths, cmap, text, byte for byte
    if shutil.which("pdftotext"):
        texts = [
            subprocess.run(
                ["pdftotext", "-layout", str(tmp_path / f), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for f in ("parsed.pdf", "cached.pdf")
        ]
        assert "A012" not in texts[0] and "V003" in texts[0]
        assert texts[0] == texts[1]


def test_stale_key_means_a_fresh_parse(
    font_copy: Path, cache: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    font_cache.load_ttfont("A", font_copy)
    [written] = cache_files(cache)
    first_bytes = written.read_bytes()

    # the same name, another file (here: another mtime)
    st = font_copy.stat()
    os.utime(font_copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    font = font_cache.load_ttfont("A", font_copy)
    assert type(font.face) is TTFontFace
    assert len(parses) == 2
    assert written.read_bytes() != first_bytes, "the cache is rewritten with the new key"
    assert isinstance(font_cache.load_ttfont("A", font_copy).face, font_cache.CachedFace)
    assert len(parses) == 2

    # a cache written by another reportlab
    monkeypatch.setattr(reportlab, "Version", reportlab.Version + ".other")
    assert type(font_cache.load_ttfont("A", font_copy).face) is TTFontFace
    assert len(parses) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:100] + bytes([b[100] ^ 0xFF]) + b[101:],  # a flipped byte
        lambda b: b"",  # empty
        lambda b: b"not a cache at all",
    ],
    ids=["truncated", "flipped", "empty", "garbage"],
)
def test_damaged_cache_means_a_fresh_parse_and_a_rewrite(
    font_copy: Path, cache: Path, parses: list[Path], damage: Callable[[bytes], bytes]
) -> None:
    font_cache.load_ttfont("A", font_copy)
    [written] = cache_files(cache)
    good = written.read_bytes()
    written.write_bytes(damage(good))

    font = font_cache.load_ttfont("A", font_copy)
    assert type(font.face) is TTFontFace
    assert len(parses) == 2
    assert written.read_bytes() == good
    assert isinstance(font_cache.load_ttfont("A", font_copy).face, font_cache.CachedFace)


def test_well_formed_cache_of_wrong_shape_is_ignored(
    font_copy: Path, cache: Path, parses: list[Path]
) -> None:
    """A file whole by its checksum but missing what reportlab needs is not used."""
    font = font_cache.load_ttfont("A", font_copy)
    [written] = cache_files(cache)
    key = font_cache.cache_key(font_copy, 0, font_cache._stamp(font_copy.stat()))
    stored = font_cache.dump_face(font.face)
    del stored["packed"]["charToGlyph"]
    font_cache.write_cache(written, key, font.face)  # a good one, then a bad one
    import marshal
    import zlib

    body = marshal.dumps((key, stored))
    written.write_bytes(
        font_cache._HEADER.pack(font_cache.MAGIC, zlib.crc32(body), len(body)) + body
    )
    assert type(font_cache.load_ttfont("A", font_copy).face) is TTFontFace
    assert len(parses) == 2


def test_unwritable_cache_still_makes_a_ticket(
    font_copy: Path,
    tmp_path: Path,
    parses: list[Path],
    registered: Callable[[TTFont], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LOBBY_FONT_CACHE", str(blocker / "fonts"))  # cannot be made
    font = font_cache.load_ttfont(FONT_NAME, font_copy)
    assert len(parses) == 1

    # a folder that exists but refuses the write (tests run as root: chmod would not do)
    folder = tmp_path / "ro"
    folder.mkdir()
    monkeypatch.setenv("LOBBY_FONT_CACHE", str(folder))

    def refuse(*args: object) -> None:
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", refuse)
        font = font_cache.load_ttfont(FONT_NAME, font_copy)
    assert len(parses) == 2
    assert list(folder.iterdir()) == [], "no half-written file is left behind"

    registered(font)
    monkeypatch.setattr(ticket, "cjk_font", lambda: FONT_NAME)
    pdf = render(tmp_path / "t.pdf")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf


def test_unreadable_cache_file_is_parsed_past(
    font_copy: Path, cache: Path, parses: list[Path]
) -> None:
    font_cache.load_ttfont("A", font_copy)
    [written] = cache_files(cache)
    written.unlink()
    written.mkdir()  # reading it fails with an OSError; so does replacing it
    assert type(font_cache.load_ttfont("A", font_copy).face) is TTFontFace
    assert len(parses) == 2


def test_font_replaced_while_in_use_is_read_whole_again(
    font_copy: Path,
    cache: Path,
    tmp_path: Path,
    parses: list[Path],
    registered: Callable[[TTFont], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    font_cache.load_ttfont(FONT_NAME, font_copy)
    cached = font_cache.load_ttfont(FONT_NAME, font_copy)
    assert isinstance(cached.face, font_cache.CachedFace)
    assert len(parses) == 1
    st = font_copy.stat()
    os.utime(font_copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    registered(cached)
    monkeypatch.setattr(ticket, "cjk_font", lambda: FONT_NAME)
    pdf = render(tmp_path / "t.pdf")
    assert b"/FontFile2" in pdf
    assert len(parses) == 2, "the changed file is parsed, not cut with the cached offsets"


def test_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOBBY_FONT_CACHE", str(tmp_path / "x"))
    assert font_cache.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("LOBBY_FONT_CACHE")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert font_cache.cache_dir() == tmp_path / "xdg" / "lobby_app" / "fonts"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
        assert font_cache.cache_dir() == Path.home() / ".cache" / "lobby_app" / "fonts"
    monkeypatch.setattr(font_cache.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert font_cache.cache_dir() == tmp_path / "local" / "lobby_app" / "fonts"


def test_packing_keeps_values_and_types() -> None:
    values: list[Any] = [
        {1: 2, 3: 4.5, 5: 0, 6: 0.0},  # 0 and 0.0 are equal, not the same
        dict.fromkeys(range(500), 0.0) | dict.fromkeys(range(500, 600), 0),
        [(1, 2), (3.5, 4)] * 50,
        [*range(100), 1.5, 2**70],  # too big for an array: marshalled
        {"a": [1, 2]},
    ]
    for value in values:
        back = font_cache._unpack(font_cache._pack(value))
        assert back == value
        if isinstance(value, dict):
            assert [type(v) for v in back.values()] == [type(v) for v in value.values()]
        else:
            assert [type(v) for v in back] == [type(v) for v in value]


def test_ticket_loads_no_barcode_widgets_nor_layout_engine() -> None:
    """The QR encoder without reportlab's barcode package (which loads platypus)."""
    code = (
        "import sys\n"
        "from lobby_app.printing.ticket import qr_modules\n"
        "grid = qr_modules('5B7C1F0E-1D2A')\n"
        "assert len(grid) >= 21\n"
        "bad = [m for m in sys.modules if m.startswith(('reportlab.graphics', 'reportlab.platypus'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_qr_is_the_one_reportlab_encodes() -> None:
    from reportlab.graphics.barcode import qrencoder

    value = "5b7c1f0e-1d2a-4a7b-9c3e-0a1b2c3d4e5f"
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(value.upper())
    qr.version = qr.calculate_version()
    qr.makeImpl(False, 0)
    n = qr.getModuleCount()
    assert ticket.qr_modules(value) == [[bool(qr.isDark(r, c)) for c in range(n)] for r in range(n)]
