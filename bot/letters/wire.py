"""The common letter (text and HTML alternatives, no attachment) written straight to bytes,
exactly as the email package writes it, for a fraction of the time."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from email import quoprimime
from email.header import Header
from email.message import Message

from bot.letters.attached import Chunk, verbatim
from bot.letters.headers import WIRE

_NL = "\r\n"
_LINE = re.compile(r"\r\n|\r|\n")  # the generator's line splitter (email.generator.NLCRE)

HeaderValue = str | Header


def alternative(
    headers: Sequence[tuple[str, HeaderValue]], boundary: str, text: str, html: str
) -> bytes:
    """multipart/alternative with `headers` after Content-Type and MIME-Version, as the email
    package's MIMEMultipart, MIMEText and BytesGenerator (compat32, CRLF) write it:
    tests/test_letters.py holds the two to the same bytes over many letters."""
    out = [
        f'Content-Type: multipart/alternative;{_NL} boundary="{boundary}"{_NL}'.encode(),
        f"MIME-Version: 1.0{_NL}".encode(),
    ]
    out += [WIRE.fold_binary(name, value) for name, value in headers]  # type: ignore[arg-type]
    out.append(_alternatives(boundary, text, html))
    return b"".join(out)


def with_messages(
    headers: Sequence[tuple[str, HeaderValue]],
    stem: str,
    text: str,
    html: str,
    messages: Sequence[tuple[str, bytes]],
) -> Iterator[Chunk]:
    """multipart/mixed: the text and HTML alternatives, then each (file name, email) attached
    as message/rfc822, the email's bytes as they came (already CRLF, `as_message_part`), as
    the email package writes the same letter (tests/test_letters.py). A forwarded concern is
    the common attachment; this writes it without building the message objects."""
    outer = f"=_{stem}_0"
    head = [
        WIRE.fold_binary("Content-Type", f'multipart/mixed; boundary="{outer}"'),
        f"MIME-Version: 1.0{_NL}".encode(),
    ]
    head += [WIRE.fold_binary(name, value) for name, value in headers]  # type: ignore[arg-type]
    inner = f"=_{stem}_1"
    head.append(f"{_NL}--{outer}{_NL}".encode())
    head.append(WIRE.fold_binary("Content-Type", f'multipart/alternative; boundary="{inner}"'))
    head.append(_alternatives(inner, text, html))
    yield b"".join(head)
    for name, data in messages:
        disposition = Message()
        # As attachment_part names it: RFC 2231 for a name that is not ASCII.
        disposition.add_header(
            "Content-Disposition",
            "attachment",
            filename=name if name.isascii() else ("utf-8", "", name),
        )
        yield b"".join(
            (
                f"{_NL}--{outer}{_NL}".encode(),
                WIRE.fold_binary("Content-Type", "message/rfc822"),
                WIRE.fold_binary("Content-Disposition", disposition["Content-Disposition"]),
                _NL.encode(),
            )
        )
        yield from verbatim(data)
    yield f"{_NL}--{outer}--{_NL}".encode()


def _alternatives(boundary: str, text: str, html: str) -> bytes:
    """From the blank line after the Content-Type header to the closing boundary."""
    return b"".join(
        (
            f"{_NL}--{boundary}{_NL}".encode(),
            _part("plain", text),
            f"{_NL}--{boundary}{_NL}".encode(),
            _part("html", html),
            f"{_NL}--{boundary}--{_NL}".encode(),
        )
    )


def _part(subtype: str, content: str) -> bytes:
    """A MIMEText part: ASCII as 7bit, anything else as quoted-printable UTF-8."""
    if content.isascii():
        charset, encoding, payload = "us-ascii", "7bit", content
    else:
        # What email.charset.Charset.body_encode does for UTF-8 with QP body encoding.
        charset, encoding = "utf-8", "quoted-printable"
        payload = quoprimime.body_encode(content.encode("utf-8").decode("latin1"))
    head = f'Content-Type: text/{subtype}; charset="{charset}"{_NL}'
    head += f"Content-Transfer-Encoding: {encoding}{_NL}{_NL}"
    lines = _LINE.split(payload) if payload else [""]
    return (head + _NL.join(lines)).encode("ascii", "surrogateescape")
