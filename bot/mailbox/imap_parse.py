"""Reading imaplib's answers: UID lists, INTERNALDATE, FETCH items; writing UID sets."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_UID = re.compile(rb"\bUID (\d+)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def internaldate(text: str) -> datetime:
    """`03-Mar-2025 09:00:00 +0000` as an aware datetime (strptime's %b depends on locale)."""
    day, month, rest = text.strip().split("-", 2)
    year, clock, zone = rest.split(" ")
    stamp = f"{year}-{_MONTHS.index(month) + 1:02d}-{int(day):02d}T{clock}{zone}"
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z")


def uids(data: list[Any]) -> list[int]:
    words = b" ".join(d for d in data if isinstance(d, bytes)).split()
    return [int(w) for w in words if w.isdigit()]


def fetched(data: list[Any]) -> dict[int, tuple[datetime, bytes]]:
    """UID -> (INTERNALDATE, body) from a UID FETCH answer, whatever the item order."""
    found: dict[int, tuple[datetime, bytes]] = {}
    items = list(data)
    for index, item in enumerate(items):
        if isinstance(item, tuple):
            head, body = item[0], item[1]
            after = items[index + 1] if index + 1 < len(items) else b""
            head += after if isinstance(after, bytes) else b""  # items after the literal
        elif isinstance(item, bytes) and _UID.search(item):
            head, body = item, b""
        else:
            continue
        uid, date = _UID.search(head), _DATE.search(head)
        if uid and date:
            found[int(uid.group(1))] = (internaldate(date.group(1).decode("ascii")), body)
    return found


def uid_set(uids: list[int]) -> str:
    """`1:3,7` for [1, 2, 3, 7]: a long first read must not overrun the server's line limit."""
    runs: list[list[int]] = []
    for uid in sorted(set(uids)):
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in runs)
