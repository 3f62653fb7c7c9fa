"""Attachments of a letter, a forwarded email above all, written out without being copied.

An email attached to a letter goes in as the bytes it came as, never parsed and written out
again: that cost several times its size in memory (a 25 MB concern took the bot past 300 MB)
and changed the email. Its part holds a placeholder while the letter is generated; the bytes
are put in its place only as the letter is written, a block at a time.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.encoders import encode_base64
from email.message import Message
from email.mime.base import MIMEBase

Chunk = bytes | memoryview
_LINE_END = re.compile(rb"\r\n|\r|\n")
_BLOCK = 57 * 16384  # bytes per base64 block: whole 76-character lines, about 1 MB
_SMTP_LINE = 998  # the longest line SMTP allows (RFC 5321 4.5.3.1.6)
_SPLIT_BYTES = 1 << 20


@dataclass(frozen=True)
class Splice:
    """Where a part's content goes in the generated letter, and how to write it."""

    placeholder: bytes
    chunks: Callable[[], Iterator[Chunk]]


def as_message_part(data: bytes) -> bytes | None:
    """`data` with CRLF line ends, if it can travel as a message/rfc822 part; else None."""
    if not data or data.isspace() or b"\0" in data:
        return None
    if data.count(b"\n") != data.count(b"\r\n") or data.count(b"\r") != data.count(b"\r\n"):
        data = _LINE_END.sub(b"\r\n", data)
    return None if _longest_line(data) > _SMTP_LINE else data


def _longest_line(data: bytes) -> int:
    if len(data) <= _SPLIT_BYTES:  # split into lines at C speed; a large email without a copy
        return max(map(len, data.split(b"\r\n")))
    longest, start = 0, 0
    while start < len(data):
        end = data.find(b"\r\n", start)
        end = len(data) if end == -1 else end
        longest, start = max(longest, end - start), end + 2
    return longest


def verbatim(data: bytes) -> Iterator[Chunk]:
    """An email's bytes (CRLF) as a message/rfc822 part's content, a block at a time."""
    view = memoryview(data)
    # The generator writes a line end before the next boundary; one of ours would add a line.
    if data.endswith(b"\r\n"):
        view = view[:-2]
    for start in range(0, len(view), _BLOCK):
        yield view[start : start + _BLOCK]


def _base64(data: bytes) -> Iterator[Chunk]:
    view = memoryview(data)
    for start in range(0, len(view), _BLOCK):
        encoded = base64.encodebytes(view[start : start + _BLOCK]).replace(b"\n", b"\r\n")
        yield encoded[:-2] if start + _BLOCK >= len(view) else encoded


def _placeholder() -> bytes:
    # Random, so that nothing a sender wrote into the letter's text can be taken for it.
    return f"=_attached_{secrets.token_hex(16)}_=".encode("ascii")


def attachment_part(
    filename: str, content_type: str, data: bytes, splices: list[Splice]
) -> Message:
    """The MIME part for one attachment; large contents are left to `splices`."""
    part: Message
    if content_type == "message/rfc822":
        wire = as_message_part(data)
        part = MIMEBase("message", "rfc822") if wire is not None else _octets()
        placeholder = _placeholder()
        part.set_payload(placeholder.decode("ascii"))
        if wire is not None:
            splices.append(Splice(placeholder, lambda: verbatim(wire)))
        else:
            # Mail that cannot travel as a message part (lines too long for SMTP, NUL bytes)
            # is sent as its exact bytes instead, which any mail client opens.
            part["Content-Transfer-Encoding"] = "base64"
            splices.append(Splice(placeholder, lambda: _base64(data)))
    else:
        maintype, _, subtype = content_type.partition("/")
        # Multipart/message types cannot be attached as opaque bytes; send them as plain data.
        if not maintype or not subtype or maintype in ("multipart", "message"):
            maintype, subtype = "application", "octet-stream"
        part = MIMEBase(maintype, subtype)
        part.set_payload(data)
        encode_base64(part)
    name: str | tuple[str, str, str] = filename if filename.isascii() else ("utf-8", "", filename)
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


def _octets() -> Message:
    return MIMEBase("application", "octet-stream")


def spliced(generated: bytes, splices: list[Splice]) -> Iterator[Chunk]:
    """The generated letter with each placeholder replaced by its part's content."""
    rest = generated
    for splice in splices:
        before, found, rest = rest.partition(splice.placeholder)
        if not found:
            raise AssertionError("a placeholder is missing from the generated letter")
        yield before
        yield from splice.chunks()
    yield rest
