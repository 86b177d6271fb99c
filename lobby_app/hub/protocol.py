"""The hub's wire protocol, version 1: JSON text messages (see docs/protocol.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024  # a refusal above this; the socket itself closes at 1 MiB
SOCKET_MAX_BYTES = 1024 * 1024
STATION_KINDS = ("desk", "teller", "manager", "display")


MAX_DEPTH = 16  # nesting of arrays and objects: no command needs more than 3
MAX_ID_CHARS = 64  # a request id (kept, with the staff number, for exactly-once)


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer: ``true`` is not 1 (Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e400
        raise ValueError(text)
    return value


def _too_deep(doc: object) -> bool:
    stack: list[tuple[object, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                return True
            items = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in items)
    return False


@dataclass(frozen=True)
class Message:
    type: str
    id: str | None
    body: dict[str, Any]


def parse(raw: str | bytes) -> Message:
    if isinstance(raw, bytes):
        raise LobbyError("malformed", tr("消息应为 UTF-8 文本的 JSON，不能是二进制"))
    if len(raw.encode()) > MAX_MESSAGE_BYTES:
        raise LobbyError(
            "message_too_large", tr(f"消息超过 {MAX_MESSAGE_BYTES // 1024} KB 上限，已拒绝")
        )
    try:
        body = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise LobbyError(
            "malformed", tr(f"消息不是合法的 JSON（第{exc.lineno}行第{exc.colno}列）")
        ) from None
    except RecursionError:  # [[[[…]]]] 30,000 deep
        raise LobbyError("malformed", tr(f"消息嵌套过深(最多 {MAX_DEPTH} 层)")) from None
    except ValueError:  # NaN, Infinity, 1e400, an integer of thousands of digits
        raise LobbyError(
            "malformed", tr("消息含有 JSON 不允许的数字(NaN、Infinity、超出范围或位数过多)")
        ) from None
    if not isinstance(body, dict):
        raise LobbyError("malformed", tr("消息应为 JSON 对象"))
    if _too_deep(body):
        raise LobbyError("malformed", tr(f"消息嵌套过深(最多 {MAX_DEPTH} 层)"))
    if body.get("v") != PROTOCOL_VERSION:
        raise LobbyError(
            "unsupported_version",
            tr(f"协议版本应为 {PROTOCOL_VERSION}，收到 {body.get('v')!r}。请升级本机程序"),
        )
    kind = body.get("type")
    rid = body.get("id")
    if kind not in ("hello", "request") or (rid is not None and not isinstance(rid, str)):
        raise LobbyError("malformed", tr("消息缺少 type(hello/request)或 id 不是字符串"))
    if rid is not None and (len(rid) > MAX_ID_CHARS or not rid.isprintable()):
        raise LobbyError(
            "malformed", tr(f"id 最多 {MAX_ID_CHARS} 个字符，且不能含控制字符"), field="id"
        )
    if kind == "request" and (not rid or not isinstance(body.get("command"), str)):
        raise LobbyError("malformed", tr("请求须带 id 和 command"))
    if "args" in body and not isinstance(body["args"], dict):
        raise LobbyError("malformed", tr("args 应为 JSON 对象"))
    return Message(kind, rid, body)


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps({"v": PROTOCOL_VERSION, **doc}, ensure_ascii=False, default=str)


def reply(rid: str | None, result: object) -> str:
    return _dump({"type": "reply", "id": rid, "ok": True, "result": result})


def refusal(rid: str | None, exc: LobbyError) -> str:
    return _dump({"type": "reply", "id": rid, "ok": False, **exc.as_dict()})


def event(name: str, data: object, seq: int) -> str:
    return _dump({"type": "event", "event": name, "seq": seq, "data": data})
