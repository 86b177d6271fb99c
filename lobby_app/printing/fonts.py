"""Finds and registers one CJK TrueType font for every PDF the app makes.

reportlab embeds only TrueType outlines: OpenType/CFF fonts (Noto CJK .otf) fail to load,
so each candidate is tried in turn and the first that loads is used.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

from reportlab.pdfbase import pdfmetrics

from lobby_app.core.i18n import tr
from lobby_app.printing.font_cache import load_ttfont

FONT_NAME = "LobbyCJK"

SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)


class FontMissingError(Exception):
    """No usable Chinese font: the message says what to install."""


def _candidates() -> list[Path]:
    out: list[Path] = []
    env = os.environ.get("LOBBY_CJK_FONT")
    if env:
        out.append(Path(env))
    try:
        bundled = resources.files("lobby_app.resources") / "fonts"
        if bundled.is_dir():
            out += sorted(
                Path(str(f)) for f in bundled.iterdir() if f.name.lower().endswith((".ttf", ".ttc"))
            )
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    out += [Path(p) for p in SYSTEM_FONTS]
    return out


@cache
def cjk_font() -> str:
    """The registered font's name. Parsing a 16 MB collection is slow: once per process,
    and once per font file for the user (``font_cache``)."""
    for path in _candidates():
        if not path.is_file():
            continue
        try:
            pdfmetrics.registerFont(load_ttfont(FONT_NAME, path, 0))
        except Exception:  # any font that fails to load is skipped
            continue
        return FONT_NAME
    raise FontMissingError(
        tr(
            "找不到可用的中文字体，无法生成票据。请安装文泉驿正黑字体(Debian/Ubuntu："
            "apt-get install fonts-wqy-zenhei)，或设置环境变量 LOBBY_CJK_FONT 指向一个 TrueType 中文字体文件。"
        )
    )
