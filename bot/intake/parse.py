"""Read raw RFC 5322 bytes into a ParsedMail, tolerating the broken mail real systems send."""

from __future__ import annotations

import binascii
import codecs
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from bot.intake.lean import message_from_raw, set_aside_size
from bot.intake.message import Attachment, ParsedMail

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_MAX_DEPTH = 40  # deeper MIME nesting than this is hostile, not mail a person wrote
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr"}
_BLOCK_TAGS |= {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"}
_SKIP_TAGS = {"script", "style", "title"}
_WESTERN = {"iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252", "us-ascii", "ascii"}


class MailParseError(ValueError):
    """The bytes are not recognisably an email at all; the caller quarantines them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text whose declared charset may be missing, unknown or simply wrong."""
    if declared and declared.strip().strip('"').lower() in _WESTERN and not data.isascii():
        try:
            # UTF-8 labelled as Latin-1 is common; real Latin-1 is almost never valid UTF-8.
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared:
        try:
            return data.decode(codecs.lookup(declared.strip().strip('"')).name)
        except (LookupError, UnicodeDecodeError, ValueError):
            pass  # fall through: senders mislabel charsets all the time
    for charset in ("utf-8", "cp1252"):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", errors="replace")


def _unsurrogate(value: str) -> str:
    # compat32 keeps undeclared 8-bit header bytes as surrogate escapes; recover them.
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def _decode_word(encoding: str, text: str) -> bytes:
    try:
        if encoding in "bB":
            return binascii.a2b_base64(text + "=" * (-len(text) % 4))
        return binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return text.encode("ascii", "replace")


def decode_header_value(value: str) -> str:
    """Unfold a header and decode its RFC 2047 words; bad charsets degrade, never fail."""
    text = _FOLD.sub(" ", _unsurrogate(value))
    out: list[str] = []
    pending = b""
    pending_charset = ""
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        # Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
        if between and not (pos and between.isspace()):
            out.append(decode_bytes(pending, pending_charset))
            pending, pending_charset = b"", ""
            out.append(between)
        charset = match.group(1).split("*")[0].lower()
        if charset != pending_charset:
            out.append(decode_bytes(pending, pending_charset))
            pending, pending_charset = b"", charset
        # Multibyte characters may be split across adjacent words: join bytes before decoding.
        pending += _decode_word(match.group(2), match.group(3))
        pos = match.end()
    out.append(decode_bytes(pending, pending_charset))
    out.append(text[pos:])
    return "".join(out).strip()


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    # Split addresses before decoding names, so an encoded comma cannot split an address.
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    raw = [_FOLD.sub(" ", _unsurrogate(v)) for v in values]
    try:
        pairs = getaddresses(raw)
    except Exception:  # malformed address lists must not sink the whole message
        pairs = []
    for name, address in pairs:
        bare = address.strip().strip("<>").lower()
        if bare and bare not in seen:
            seen.add(bare)
            found.append((decode_header_value(name).strip('"').strip(), bare))
    return found


def _sender(value: str | None) -> tuple[str, str]:
    # Bounces often say "MAILER-DAEMON <>": keep the name even when there is no address.
    try:
        pairs = getaddresses([_FOLD.sub(" ", _unsurrogate(value))]) if value else []
    except Exception:  # malformed From must not sink the whole message
        pairs = []
    name, address = next(((n, a) for n, a in pairs if n or a), ("", ""))
    return decode_header_value(name).strip('"').strip(), address.strip().strip("<>").lower()


def _message_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    value = _unsurrogate(value)
    ids = _ANGLE_ID.findall(value)
    return tuple(ids) if ids else tuple(value.strip("<> \t").split())


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # parsedate_to_datetime raises several types on junk dates
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _TextFromHtml(HTMLParser):
    """Readable text from HTML: block tags become line breaks, scripts and styles vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS and tag != "li":  # the next item's "- " starts its own line
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            # HTML collapses ASCII whitespace only; a no-break space is content.
            self.chunks.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> str:
    """Turn an HTML body into plain text a person (or the classifier) can read."""
    parser = _TextFromHtml()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.chunks)
    except Exception:  # HTMLParser is lenient, but a last resort keeps intake going
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def leaves(part: Message, max_depth: int = _MAX_DEPTH, depth: int = 0) -> Iterator[Message]:
    """The parts of `part` that are not multipart containers, in order, no deeper than
    `max_depth`. A message/rfc822 part is a leaf: a forwarded mail's text is not this mail's
    body."""
    payload = part.get_payload()
    if part.is_multipart() and part.get_content_maintype() == "multipart" and depth < max_depth:
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from leaves(sub, max_depth, depth + 1)
    else:
        yield part


def raw_filename(part: Message) -> str:
    """A part's file name as it stands in its headers (encoded words not decoded), or ""."""
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # RFC 2231 parameters with bogus charsets
        return ""
    return str(name) if isinstance(name, str) else ""


def _filename(part: Message) -> str:
    return decode_header_value(raw_filename(part))


def part_payload(part: Message) -> bytes | list[Message]:
    """A part's transfer-decoded bytes, or its sub-messages for multipart and message/* parts."""
    if part.is_multipart():
        return [sub for sub in part.get_payload() if isinstance(sub, Message)]
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    return str(payload or "").encode("utf-8", "surrogateescape")


def _part_bytes(part: Message) -> bytes:
    payload = part_payload(part)
    if isinstance(payload, bytes):
        return payload
    # message/* parts hold parsed sub-messages; their size is their serialised size.
    return b"".join(sub.as_bytes() for sub in payload)


def _part_text(part: Message) -> str:
    text = decode_bytes(_part_bytes(part), part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_body_candidate(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    ctype = part.get_content_type()
    textual = ctype in ("text/plain", "text/html") or part.get_content_maintype() == "multipart"
    return textual and disposition != "attachment" and not _filename(part)


def _body_and_attachments(msg: Message) -> tuple[str, tuple[Attachment, ...]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in leaves(msg):
        try:
            if _is_body_candidate(part):
                target = html if part.get_content_type() == "text/html" else plain
                target.append(_part_text(part))
            else:
                aside = set_aside_size(part.get_payload())
                size = len(_part_bytes(part)) if aside is None else aside
                attachments.append(Attachment(_filename(part), part.get_content_type(), size))
        except Exception:  # one broken part must not hide the rest of the message
            attachments.append(Attachment(_filename(part), part.get_content_type(), 0))
    text = next((t for t in plain if t.strip()), "")
    if not text and html:
        text = html_to_text(next((h for h in html if h.strip()), html[0]))
    return text.strip("\n"), tuple(attachments)


def _defects(msg: Message) -> tuple[str, ...]:
    names: list[str] = []
    for part in msg.walk():
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__
            if name not in names:
                names.append(name)
    return tuple(names)


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw email bytes; raise MailParseError only when there is nothing mail-like."""
    return parse_message(raw)[0]


def parse_message(raw: bytes) -> tuple[ParsedMail, Message]:
    """`parse_mail`, and the parsed message itself for readers that need its MIME parts (the
    standard parser is most of what reading an email costs: it parses each email once)."""
    if not raw or raw.isspace():  # isspace, not strip: no copy of a 25 MB email
        raise MailParseError("empty message")
    try:
        msg = message_from_raw(raw)
        headers = tuple((name, decode_header_value(str(v))) for name, v in msg.raw_items())
    except Exception as exc:  # the stdlib parser is lenient; reaching here means garbage
        raise MailParseError(f"unparseable message ({type(exc).__name__})") from exc
    if not headers:
        raise MailParseError("no header block")
    lookup = {name.lower(): str(value) for name, value in reversed(list(msg.raw_items()))}
    raw_all = [(name.lower(), str(value)) for name, value in msg.raw_items()]
    sender_name, sender = _sender(lookup.get("from"))
    body, attachments = _body_and_attachments(msg)
    ids = _message_ids(decode_header_value(lookup.get("message-id", "")))
    parsed = ParsedMail(
        message_id=ids[0] if ids else "",
        content_hash=hashlib.sha256(raw).hexdigest(),
        sender=sender,
        sender_name=sender_name,
        to=tuple(a for _, a in _addresses([v for n, v in raw_all if n == "to"])),
        cc=tuple(a for _, a in _addresses([v for n, v in raw_all if n == "cc"])),
        subject=decode_header_value(lookup.get("subject", "")),
        date=_date(_unsurrogate(lookup.get("date", ""))),
        in_reply_to=_message_ids(lookup.get("in-reply-to")),
        references=_message_ids(lookup.get("references")),
        text=body,
        headers=headers,
        attachments=attachments,
        defects=_defects(msg),
        raw_size=len(raw),
    )
    return parsed, msg
