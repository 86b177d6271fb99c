"""Staff PINs: kept only as a slow salted hash (scrypt), compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

# scrypt cost: ~50 ms and 16 MB per check on a branch PC, which makes guessing a 6-digit
# PIN from a stolen store slow, while a login stays instant for a person.
N, R, P = 2**14, 8, 1
MAX_FAILURES = 5
LOCK_MINUTES = 15


def check_pin_format(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise LobbyError("bad_pin", tr("密码应为4到8位数字"), field="pin")


def hash_pin(pin: str) -> str:
    check_pin_format(pin)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    enc = base64.b64encode
    return f"scrypt${N}${R}${P}${enc(salt).decode()}${enc(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(got, base64.b64decode(digest))
