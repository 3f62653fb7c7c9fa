"""Parse a large email without holding it many times: big bodies are set aside before parsing.

The standard library parser keeps every line of a body as its own string and, fed through
`message_from_bytes`, a 4-byte-a-character copy of the whole mail: 25 MB of mail cost about
200 MB. Here the parser sees a skeleton instead. A body bigger than `BIG` that is nothing but
base64 in a non-text part (an attachment) becomes one placeholder line naming its decoded
size; any other big body is cut to its first `BIG` bytes, which is more than any person writes.
The raw mail itself is never changed: the store keeps it whole.
"""

from __future__ import annotations

import re
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import compat32

BIG = 1 << 20  # bodies up to 1 MB are parsed as they are
_CHUNK = 1 << 16
_BASE64 = re.compile(rb"[A-Za-z0-9+/=\r\n]*")
_BLANK = re.compile(rb"\r?\n\r?\n")
_TEXT_PART = re.compile(rb"^content-type:[ \t]*text/", re.IGNORECASE | re.MULTILINE)
PLACEHOLDER = re.compile(r"BotSetAside(\d+)Bytes")


def _decoded_size(raw: bytes, start: int, end: int) -> int:
    chars = end - start - raw.count(b"\n", start, end) - raw.count(b"\r", start, end)
    padding = raw.count(b"=", max(start, end - 6), end)
    return max(0, (chars * 3) // 4 - padding)


def _segments(raw: bytes) -> list[tuple[int, int]]:
    """Stretches between lines starting "--" (where MIME boundaries can be), as offsets."""
    found, start = [], 0
    while True:
        dash = raw.find(b"\n--", start)
        if dash < 0:
            found.append((start, len(raw)))
            return found
        found.append((start, dash + 1))
        line_end = raw.find(b"\n", dash + 1)
        if line_end < 0:
            return found
        start = line_end + 1


def skeleton(raw: bytes) -> bytes:
    """`raw` with each big body set aside; the same bytes when nothing is big."""
    if len(raw) <= BIG:
        return raw
    pieces: list[bytes] = []
    kept = 0  # raw[kept:] has not been copied into pieces yet
    for start, end in _segments(raw):
        blank = _BLANK.search(raw, start, end)
        if blank is None or end - blank.end() <= BIG:
            continue
        body = blank.end()
        headers_are_text = _TEXT_PART.search(raw, start, blank.start()) is not None
        pieces.append(raw[kept:body])
        base64 = _BASE64.fullmatch(raw, body, end) is not None
        if base64 and not headers_are_text:
            pieces.append(f"BotSetAside{_decoded_size(raw, body, end)}Bytes\r\n".encode())
        else:
            cut = raw.rfind(b"\n", body, body + BIG) + 1 or body + BIG
            pieces.append(raw[body:cut])
            if not base64:  # a note in base64 would decode as garbage: then just cut
                pieces.append(f"\r\n[{end - cut} more bytes not read here]\r\n".encode())
        kept = end
    if not pieces:
        return raw
    pieces.append(raw[kept:])
    return b"".join(pieces)


def message_from_raw(raw: bytes) -> Message:
    """The parsed message (compat32), from a skeleton fed in pieces: never the whole text
    at once, so the parser's own copies stay small."""
    lean = skeleton(raw)
    parser = BytesFeedParser(policy=compat32)
    view = memoryview(lean)
    for offset in range(0, len(lean), _CHUNK):
        parser.feed(bytes(view[offset : offset + _CHUNK]))
    message = parser.close()
    assert isinstance(message, Message)
    return message


def set_aside_size(payload: object) -> int | None:
    """The decoded size of a body that was set aside, from its placeholder; None otherwise."""
    if not isinstance(payload, str) or len(payload) > 200:
        return None
    match = PLACEHOLDER.search(payload)
    return int(match.group(1)) if match else None
