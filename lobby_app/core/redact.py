"""Passwords in database addresses are never shown: on screen, in output, logs or errors.

The head office address (``sync_url``) carries its password
(``postgresql+psycopg://user:password@host:5432/db``); wherever it is shown the password
reads ``***``, as SQLAlchemy's own ``hide_password`` renders it.
"""

from __future__ import annotations

import re

HIDDEN = "***"

# scheme://user:password@host — the password up to the last "@" before the host (an
# unencoded "@" in a password stays hidden), never across a space or a "/"
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<password>[^\s/]*)(?P<host>@[^\s@/]*)"
)


def hide_url_passwords(text: str) -> str:
    """``text`` with the password of every address in it replaced by ``***``."""
    if "://" not in text:
        return text
    return _URL_PASSWORD.sub(lambda m: m["head"] + HIDDEN + m["host"], text)


def hide_password(url: str) -> str:
    """An address as it may be shown: ``postgresql+psycopg://lobby:***@ho:5432/lobby``."""
    return hide_url_passwords(url)


def url_password(url: str) -> str | None:
    m = _URL_PASSWORD.search(url)
    return m["password"] if m else None


def restore_password(shown: str, original: str) -> str:
    """What a person saved from a field that showed ``hide_password(original)``: where the
    password still reads ``***``, the original password; a password they typed, as typed."""
    m = _URL_PASSWORD.search(shown)
    kept = url_password(original)
    if m is None or m["password"] != HIDDEN or kept is None:
        return shown
    return shown[: m.start("password")] + kept + shown[m.end("password") :]
