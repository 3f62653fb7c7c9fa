"""A request as the fake Graph's endpoints see it, their answers, and the OData it reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Reply = tuple[int, dict[str, str], bytes]
_Q = r"'((?:[^']|'')*)'"
ANY_PROPERTY = re.compile(
    rf"^singleValueExtendedProperties/Any\(ep: ep/id eq {_Q} and ep/value eq {_Q}\)$"
)
MESSAGE_ID = re.compile(rf"^internetMessageId eq {_Q}$")
DISPLAY_NAME = re.compile(rf"^displayName eq {_Q}$")
EXPAND_PROPERTY = re.compile(rf"^singleValueExtendedProperties\(\$filter=id eq {_Q}\)$")
ATTACHMENT_LIMIT = 3 * 1024 * 1024
SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024


def unq(text: str) -> str:
    return text.replace("''", "'")


@dataclass
class Call:
    method: str
    params: dict[str, str]  # path parameters, unquoted
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


def reply(status: int, data: Any = None, headers: dict[str, str] | None = None) -> Reply:
    body = b"" if data is None else json.dumps(data).encode()
    kind = {"Content-Type": "application/json"} if data is not None else {}
    return status, {**kind, **(headers or {})}, body


def error(status: int, code: str, message: str = "") -> Reply:
    return reply(status, {"error": {"code": code, "message": message or code}})
