"""A per-user cache of the parsed CJK TrueType font.

reportlab parses a font in pure Python: the 17 MB WenQuanYi collection takes about 150 ms,
which a cold process (``lobby-app ticket``) would pay on every ticket. What the parse
yields is plain data (the cmap, advance widths, glyph offsets, the table directory, names
and metrics), so it is stored once with ``marshal`` and read back in a few milliseconds.

The cache file holds data only, never code or pickled objects, and it is trusted only when
its header (magic, length, CRC-32) matches and its key equals the font's: the font's
path, subfont, size and mtime, reportlab's version, Python's version and this format's
version. Anything else (a stale key, a truncated or corrupt file, a folder that cannot be
written) means the font is parsed as before; the cache never makes a ticket fail.

A face read from the cache does not hold the font file's bytes: reportlab needs them only
to cut the subset embedded in a PDF, so they are read on first use, from a file checked to
be the one the cache was keyed on.
"""

from __future__ import annotations

import logging
import marshal
import os
import struct
import sys
import tempfile
import zlib
from array import array
from collections.abc import Callable, Iterable
from contextlib import suppress
from fnmatch import fnmatch
from itertools import chain
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import reportlab
from reportlab import rl_config
from reportlab.pdfbase.ttfonts import TTEncoding, TTFNameBytes, TTFont, TTFontFace

log = logging.getLogger(__name__)

CACHE_ENV = "LOBBY_FONT_CACHE"
FORMAT_VERSION = 1
MAGIC = b"LOBBYTTF"
_HEADER = struct.Struct("<8sII")  # magic, CRC-32 of the body, length of the body
# The parse's scratch and what cannot be stored: the file's bytes (read again on demand),
# the units-per-em scaling lambda (rebuilt), the read position (meaningless between runs).
_NOT_STORED = frozenset({"_ttf_data", "_pdfScale", "_pos"})
# Unpacked on first use: only cutting a subset reads the metrics and glyph offsets, only
# text shaping (uharfbuzz) the glyph-to-characters map.
_LAZY = frozenset({"glyphToChar", "hmetrics", "glyphPos"})
# What reportlab reads when it measures text and embeds a subset: a cache without these
# (of these types) was not written by this code and is ignored.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name": bytes,
    "filename": str,
    "charToGlyph": dict,
    "glyphToChar": dict,
    "charWidths": dict,
    "hmetrics": list,
    "glyphPos": list,
    "table": dict,
    "unitsPerEm": int,
    "defaultWidth": (int, float),
    "subfontNameX": bytes,
}

Stamp = tuple[int, int]  # the font file's size and mtime in nanoseconds


def cache_dir() -> Path | None:
    """Where parsed fonts are kept: ``$LOBBY_FONT_CACHE`` if set, else the user's cache
    folder (``$XDG_CACHE_HOME`` or ~/.cache, %LOCALAPPDATA% on Windows) / lobby_app/fonts."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    try:
        if sys.platform == "win32":
            base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        elif sys.platform == "darwin":
            base = str(Path.home() / "Library" / "Caches")
        else:
            xdg = os.environ.get("XDG_CACHE_HOME", "")
            base = xdg if os.path.isabs(xdg) else str(Path.home() / ".cache")
    except RuntimeError:  # no home folder to be found
        return None
    return Path(base) / "lobby_app" / "fonts"


def cache_file(path: Path, subfont: int) -> Path | None:
    """The cache file of one font: named after the font, unique to its full path."""
    folder = cache_dir()
    if folder is None:
        return None
    # Two paths sharing a checksum would only take turns at one file: the key inside decides.
    digest = zlib.crc32(str(path).encode("utf-8", "surrogatepass"))
    return folder / f"{path.stem[:40]}-{subfont}-{digest:08x}.ttfcache"


def cache_key(path: Path, subfont: int, stamp: Stamp) -> tuple[object, ...]:
    return (
        FORMAT_VERSION,
        reportlab.Version,
        sys.version_info[:2],
        marshal.version,
        str(path),
        subfont,
        *stamp,
    )


def load_ttfont(name: str, path: str | os.PathLike[str], subfont: int = 0) -> TTFont:
    """A reportlab ``TTFont`` for the font at ``path``: from the cache when it is current,
    else parsed (and the cache written for the next process). Raises what reportlab raises
    for a font it cannot use, and ``OSError`` for a file that cannot be read."""
    font_path = Path(path)
    stamp = _stamp(os.stat(font_path))
    target = cache_file(font_path, subfont)
    if target is not None:
        face = read_cache(target, font_path, subfont, stamp)
        if face is not None:
            return ttfont_from_face(name, face)
    font, stamp = parse_font(name, font_path, subfont)
    if target is not None:
        write_cache(target, cache_key(font_path, subfont, stamp), font.face)
    return font


def parse_font(name: str, path: Path, subfont: int) -> tuple[TTFont, Stamp]:
    """reportlab's own parse, from one open file: the stamp is that of the bytes parsed."""
    with open(str(path), "rb") as fh:  # the face's ``filename`` is the name it is opened by
        stamp = _stamp(os.fstat(fh.fileno()))
        kwargs = {"subfontIndex": subfont} if path.suffix.lower() == ".ttc" else {}
        return TTFont(name, fh, **kwargs), stamp


def ttfont_from_face(name: str, face: TTFontFace) -> TTFont:
    """What ``TTFont(name, file)`` makes with default options, around a face already made."""
    font = TTFont.__new__(TTFont)
    font.fontName = name
    font.face = face
    font.encoding = TTEncoding()
    font.state = WeakKeyDictionary()
    font._asciiReadable = rl_config.ttfAsciiReadable
    font.shapable = not any(fnmatch(name, glob) for glob in rl_config.unShapedFontGlob)
    return font


# --- the cache file ---------------------------------------------------------------------


def dump_face(face: TTFontFace) -> dict[str, Any]:
    """The face's parsed state as marshal-able data (see ``load_state``)."""
    state = {k: v for k, v in vars(face).items() if k not in _NOT_STORED}
    # marshal would store TTFNameBytes as plain bytes: say which ones to make again
    names = sorted(k for k, v in state.items() if isinstance(v, TTFNameBytes))
    packed: dict[str, tuple[object, ...]] = {}
    lazy: dict[str, tuple[object, ...]] = {}
    for k, v in list(state.items()):
        if k in names:
            state[k] = bytes(v)
        elif isinstance(v, dict | list) and (len(v) > 64 or k in _LAZY):
            (lazy if k in _LAZY else packed)[k] = _pack(v)
            del state[k]
    return {"plain": state, "names": names, "packed": packed, "lazy": lazy}


def load_state(stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
    """The face's attributes from ``dump_face``'s data, and those left to unpack on use."""
    state: dict[str, Any] = stored["plain"]
    for k in stored["names"]:
        state[k] = TTFNameBytes(state[k], "utf8")  # bytes that decode as UTF-8 stay the same
    for k, shape in stored["packed"].items():
        state[k] = _unpack(shape)
    return state, stored["lazy"]


# Large tables of numbers (the cmap, widths, metrics, glyph offsets: some 180,000 values)
# are not left to marshal as they are: it makes each number and tuple one by one. A table
# of few distinct values (widths) is marshalled with equal values made one object, which
# marshal then writes once; other tables become runs of machine arrays. A run holds numbers
# of one Python type, so ints stay ints and floats floats (``hmetrics`` mixes them).
_Runs = list[tuple[str, bytes]]
_INT64 = (-(2**63), 2**63 - 1)


def _pack(value: dict[Any, Any] | list[Any]) -> tuple[object, ...]:
    if isinstance(value, dict):
        try:  # by type too: 0 and 0.0 are equal, yet must stay an int and a float
            distinct = {(type(v), v): v for v in value.values()}
            if len(distinct) * 8 < len(value):
                shared = {k: distinct[type(v), v] for k, v in value.items()}
                return ("marshal", marshal.dumps(shared))
        except (TypeError, KeyError):  # unhashable values; NaNs
            pass
        keys, values = _runs(value.keys()), _runs(value.values())
        if keys is not None and values is not None:
            return ("dict", keys, values)
    elif all(type(v) is tuple and len(v) == 2 for v in value):
        first, second = _runs(v[0] for v in value), _runs(v[1] for v in value)
        if first is not None and second is not None:
            return ("pairs", first, second)
    else:
        runs = _runs(value)
        if runs is not None:
            return ("list", runs)
    return ("marshal", marshal.dumps(value))


def _unpack(shape: tuple[Any, ...]) -> Any:
    kind = shape[0]
    if kind == "marshal":
        return marshal.loads(shape[1])
    if kind == "dict":
        return dict(zip(_unruns(shape[1]), _unruns(shape[2]), strict=True))
    if kind == "pairs":
        return list(zip(_unruns(shape[1]), _unruns(shape[2]), strict=True))
    if kind == "list":
        return list(_unruns(shape[1]))
    raise ValueError(f"unknown packed shape {kind!r}")


def _runs(values: Iterable[object]) -> _Runs | None:
    items = list(values)
    kinds = set(map(type, items))
    if not kinds <= {int, float}:
        return None
    try:
        if len(kinds) == 1:  # the common case, in one pass in C
            return [_array_run(kinds.pop(), items)]
        out: _Runs = []
        run: list[Any] = []
        kind: type | None = None
        for v in items:
            if type(v) is not kind and run:
                out.append(_array_run(kind, run))
                run = []
            kind = type(v)
            run.append(v)
        if run:
            out.append(_array_run(kind, run))
    except OverflowError:  # an int beyond 64 bits: marshal stores the table instead
        return None
    return out


def _array_run(kind: type | None, run: list[Any]) -> tuple[str, bytes]:
    code = "q" if kind is int else "d"
    return code, array(code, run).tobytes()


def _unruns(runs: _Runs) -> Iterable[Any]:
    arrays = []
    for code, data in runs:
        arr = array(code)
        arr.frombytes(data)
        arrays.append(arr)
    return arrays[0] if len(arrays) == 1 else chain.from_iterable(arrays)


def write_cache(target: Path, key: tuple[object, ...], face: TTFontFace) -> bool:
    """Store the parsed face, atomically; False (and a log line) where that cannot be."""
    try:
        body = marshal.dumps((key, dump_face(face)))  # type: ignore[arg-type]
    except ValueError as exc:  # a value marshal cannot store: a newer reportlab's face
        log.info("font cache not written: %s", exc)
        return False
    data = _HEADER.pack(MAGIC, zlib.crc32(body), len(body)) + body
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".font-", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:  # read-only, full or missing folder: parse again next time
        log.info("font cache %s not written: %s", target, exc)
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
        return False
    return True


def read_cache(target: Path, path: Path, subfont: int, stamp: Stamp) -> CachedFace | None:
    """The face stored in ``target`` if the file is whole and keyed on this font file."""
    try:
        data = target.read_bytes()
    except OSError:  # no cache yet, or unreadable: the font is parsed
        return None
    key, stored = _decode(data)
    if stored is None:
        log.info("font cache %s is damaged; the font is parsed again", target)
        return None
    if key != cache_key(path, subfont, stamp):
        log.info("font cache %s is stale; the font is parsed again", target)
        return None
    try:
        state, lazy = load_state(stored)
    except (KeyError, TypeError, ValueError):  # whole, current, yet not what this code writes
        log.info("font cache %s is not readable; the font is parsed again", target)
        return None
    for k, kind in _REQUIRED.items():
        if not isinstance(state.get(k), kind) and k not in lazy:
            return None
    return CachedFace(state, lazy, path, subfont, stamp)


def _decode(data: bytes) -> tuple[object, dict[str, Any] | None]:
    """The key and the stored face of a cache file; ``None`` for the face if the file is
    not one this code wrote whole (the CRC is checked before marshal reads anything)."""
    if len(data) < _HEADER.size:
        return None, None
    magic, crc, length = _HEADER.unpack_from(data)
    body = memoryview(data)[_HEADER.size :]
    if magic != MAGIC or length != len(body) or zlib.crc32(body) != crc:
        return None, None
    try:
        loaded = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None, None
    if not (isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[1], dict)):
        return None, None
    return loaded[0], loaded[1]


def _stamp(st: os.stat_result) -> Stamp:
    return st.st_size, st.st_mtime_ns


def _scale(units_per_em: int) -> Callable[[float], float]:
    """reportlab's font-units-to-PDF-units scaling, as ``extractInfo`` makes it."""
    if units_per_em == 1000:
        return lambda x: x
    mult = 1000 / units_per_em
    return lambda x: x * mult


class CachedFace(TTFontFace):  # type: ignore[misc]  # reportlab has no type hints
    """A ``TTFontFace`` made from stored data: no parse, and the font file's bytes read
    only when reportlab asks for them (to cut a subset)."""

    def __init__(
        self,
        state: dict[str, Any],
        lazy: dict[str, tuple[Any, ...]],
        path: Path,
        subfont: int,
        stamp: Stamp,
    ) -> None:
        # No call to TTFontFace.__init__: that is the parse this class exists to skip.
        self.__dict__.update(state)
        self._pdfScale = _scale(self.unitsPerEm)
        self._pos = 0
        self._cached_from = (path, subfont, stamp)
        self._lazy = lazy

    def __getattr__(self, attr: str) -> Any:
        # Only called for attributes not set: ``_ttf_data`` until it is first read, and
        # the tables in ``_LAZY`` until they are first asked for.
        if attr == "_ttf_data":
            return self._read_font()
        lazy = self.__dict__.get("_lazy") or {}
        if attr in lazy:
            value = _unpack(lazy.pop(attr))
            self.__dict__[attr] = value
            return value
        raise AttributeError(attr)

    def _read_font(self) -> bytes:
        path, subfont, stamp = self._cached_from
        with open(path, "rb") as fh:
            now = _stamp(os.fstat(fh.fileno()))
            if now == stamp:
                data = fh.read()
                self.__dict__["_ttf_data"] = data
                return data
        # The font file was replaced since the cache was read (a long-running desk): glyph
        # offsets from the cache would cut the new file wrong, so take the new file whole.
        log.warning("font %s changed while in use; it is parsed again", path)
        fresh, _ = parse_font("reparsed", path, subfont)
        self._lazy = {}
        self.__dict__.update(vars(fresh.face))
        whole: bytes = self.__dict__["_ttf_data"]
        return whole
