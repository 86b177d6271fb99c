"""The hub's wire protocol, version 1: JSON text messages (see docs/protocol.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024  # a refusal above this; the socket itself closes at 1 MiB
SOCKET_MAX_BYTES = 1024 * 1024
STATION_KINDS = ("desk", "teller", "manager", "display")


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
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LobbyError(
            "malformed", tr(f"消息不是合法的 JSON（第{exc.lineno}行第{exc.colno}列）")
        ) from None
    if not isinstance(body, dict):
        raise LobbyError("malformed", tr("消息应为 JSON 对象"))
    if body.get("v") != PROTOCOL_VERSION:
        raise LobbyError(
            "unsupported_version",
            tr(f"协议版本应为 {PROTOCOL_VERSION}，收到 {body.get('v')!r}。请升级本机程序"),
        )
    kind = body.get("type")
    rid = body.get("id")
    if kind not in ("hello", "request") or (rid is not None and not isinstance(rid, str)):
        raise LobbyError("malformed", tr("消息缺少 type(hello/request)或 id 不是字符串"))
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
