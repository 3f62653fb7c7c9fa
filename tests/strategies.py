"""Hypothesis strategies for raw emails: well-formed ones built from parts, then byte damage."""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Callable
from urllib.parse import quote

from hypothesis import strategies as st

Part = tuple[list[bytes], bytes]  # header lines (no line ends) and the body bytes

# Senders the bot knows in different roles, mail servers, ourselves, and junk.
SENDERS = [
    "sam.ward@council.example", "jane.smith@council.example", "hannah.lee@nhs.example",
    "manager@oakview-care.example", "office@brightpath-homecare.example", "someone@example.org",
    "MAILER-DAEMON@mx.example.net", "postmaster@council.example",
    "contract.concerns@council.example", '"Smith, J" <j.smith@example.com>',
    "=?utf-8?b?w4lsw6huZQ==?= <elene@example.fr>", "<>", "not an address", "@@", "",
]
PHRASES = [
    "Oakview Care Home missed medication rounds.", "We accept the findings.",
    "We dispute this concern entirely.", "screen: eligible", "Decision: agreed",
    "I am out of the office until Monday.", "Delivery has failed to these recipients or groups:",
    "RE: [CC-2026-0001] Contract concern", "CC-2026-0001", "> quoted earlier text",
    "-- \nSent from my phone", "provider accepts", "Riverside Supported Living",
    "Cafe\u0301 \u2603",
]
SUBJECTS = [
    "Concern about Oakview Care Home", "RE: [CC-2026-0001] Contract concern",
    "Automatic reply: Contract concern", "Undeliverable: Contract concern received",
    "Fwd: WG: concern", "Out of Office", "", "Delivery Status Notification (Failure)",
]
EXTRA_NAMES = [
    "Auto-Submitted", "X-Auto-Response-Suppress", "Precedence", "List-Id", "List-Unsubscribe",
    "X-Failed-Recipients", "Return-Path", "X-MS-Exchange-Organization-AuthAs",
    "Authentication-Results", "X-Contract-Concerns-Loop", "Received", "X-Mailer",
    "Thread-Topic", "Content-Language", "X-Autoreply", "Reply-To",
]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "utf-16", "shift_jis"]
# Declared charsets: right, wrong, unknown, quoted, missing (None).
DECLARED = [*CHARSETS, "us-ascii", "x-unknown-charset", '"utf-8"', "utf8", "unicode-1-1-utf-7"]
ENCODINGS = ["7bit", "8bit", "binary", "quoted-printable", "base64", "x-uuencode", "bogus", None]
FILENAMES = [
    "winmail.dat", "report.pdf", "photo.JPG", "", "../../etc/passwd", "a" * 300,
    "=?utf-8?q?r=C3=A9sum=C3=A9?=.docx", "con.txt", "notes\u00e9.txt",
]

printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
unicode_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=40
)


def _encoded_word(text: str, charset: str, kind: str, wrong: bool) -> bytes:
    data = text.encode(charset, errors="replace")
    label = "x-bogus" if wrong else charset
    if kind == "B":
        return f"=?{label}?B?{base64.b64encode(data).decode()}?=".encode()
    quoted = quopri.encodestring(data, header=True).replace(b"=\n", b"").replace(b"?", b"=3F")
    return f"=?{label}?Q?".encode() + quoted + b"?="


@st.composite
def header_value(draw: st.DrawFn, base: st.SearchStrategy[str] = printable) -> bytes:
    """Plain ASCII, RFC 2047 words (good, bad charset), raw 8-bit bytes, long or folded."""
    pieces: list[bytes] = []
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.one_of(base, unicode_text))
        style = draw(st.sampled_from(["ascii", "word", "8bit", "long", "fold"]))
        if style == "ascii":
            pieces.append(text.encode("ascii", errors="replace"))
        elif style == "word":
            charset = draw(st.sampled_from(CHARSETS))
            kind = draw(st.sampled_from("BQ"))
            pieces.append(_encoded_word(text, charset, kind, draw(st.booleans())))
        elif style == "8bit":
            pieces.append(text.encode(draw(st.sampled_from(CHARSETS[:3])), errors="replace"))
        elif style == "long":
            pieces.append(b"x" * draw(st.integers(998, 5000)))
        else:
            pieces.append(text.encode("utf-8") + b"\n\t" + text.encode("ascii", "replace"))
    return b" ".join(pieces)


def body_text() -> st.SearchStrategy[str]:
    lines = st.lists(st.one_of(st.sampled_from(PHRASES), unicode_text), max_size=6)
    long_line = st.integers(1000, 20000).map(lambda n: "word" * (n // 4))
    return st.tuples(lines, st.one_of(st.just(""), long_line)).map(
        lambda t: "\n".join([*t[0], t[1]])
    )


def _transfer(data: bytes, cte: str | None) -> bytes:
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data  # 7bit, 8bit, binary, or one nobody knows: the bytes as they are


@st.composite
def text_part(draw: st.DrawFn) -> Part:
    subtype = draw(st.sampled_from(["plain", "html"]))
    text = draw(body_text())
    if subtype == "html":
        shape = draw(st.sampled_from(["<p>{}</p>", "<html><body><div>{}", "<script>x</script>{}"]))
        text = shape.format(text.replace("\n", "<br>"))
    data = text.encode(draw(st.sampled_from(CHARSETS)), errors="replace")
    declared = draw(st.one_of(st.none(), st.sampled_from(DECLARED)))
    cte = draw(st.sampled_from(ENCODINGS))
    ctype = f"Content-Type: text/{subtype}" + (f"; charset={declared}" if declared else "")
    headers = [ctype.encode()]
    if cte:
        headers.append(f"Content-Transfer-Encoding: {cte}".encode())
    if draw(st.booleans()):
        headers.append(b"Content-Disposition: " + draw(st.sampled_from([b"inline", b"attach"])))
    return headers, _transfer(data, cte)


@st.composite
def attachment_part(draw: st.DrawFn) -> Part:
    name = draw(st.sampled_from(FILENAMES))
    content = draw(
        st.one_of(st.just(b""), st.binary(max_size=3000), st.binary(max_size=200).map(
            lambda b: b"\x78\x9f\x3e\x22" + b))  # the TNEF signature, then noise
    )
    ctype = "application/ms-tnef" if name == "winmail.dat" else draw(
        st.sampled_from(["application/octet-stream", "application/pdf", "image/jpeg", "text/csv"])
    )
    style = draw(st.sampled_from(["quoted", "rfc2231", "none"]))
    disposition = {
        "quoted": f'attachment; filename="{name}"',
        "rfc2231": f"attachment; filename*=utf-8''{quote(name)}",
        "none": "attachment",
    }[style]
    cte = draw(st.sampled_from(["base64", "base64", "7bit", "bogus"]))
    headers = [f'Content-Type: {ctype}; name="{name}"', f"Content-Disposition: {disposition}"]
    headers.append(f"Content-Transfer-Encoding: {cte}")
    return [h.encode("utf-8") for h in headers], _transfer(content, cte)


def serialise(part: Part) -> bytes:
    headers, body = part
    return b"\n".join(headers) + b"\n\n" + body


BOUNDARIES = ["b1", "=_Part_0_123.456", "----=_NextPart_000_0001", "a b c", "x" * 70, "--"]


@st.composite
def multipart(draw: st.DrawFn, children: st.SearchStrategy[Part]) -> Part:
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed"]))
    boundary = draw(st.sampled_from(BOUNDARIES))
    parts = draw(st.lists(children, max_size=4))
    preamble = draw(st.sampled_from([b"", b"This is a multi-part message in MIME format.\n"]))
    body = preamble
    for part in parts:
        body += b"\n--" + boundary.encode() + b"\n" + serialise(part)
    body += b"\n--" + boundary.encode() + b"--\n" + draw(st.sampled_from([b"", b"epilogue\n"]))
    extra = "; report-type=delivery-status" if subtype == "report" else ""
    return [f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}'.encode()], body


@st.composite
def top_headers(draw: st.DrawFn) -> list[bytes]:
    """The header block: standard fields missing, once or twice; extra fields; any order."""
    fields: dict[str, st.SearchStrategy[bytes]] = {
        "From": st.sampled_from(SENDERS).map(str.encode),
        "To": st.sampled_from([b"contract.concerns@council.example", b"", b"a@b, c@d"]),
        "Cc": st.sampled_from(SENDERS).map(str.encode),
        "Subject": header_value(st.one_of(st.sampled_from(SUBJECTS), printable)),
        "Date": st.sampled_from([
            b"Tue, 01 Dec 2026 09:00:00 +0000", b"Mon, 32 Foo 2026 25:61:00", b"yesterday", b"",
            b"1 Dec 2026 09:00 GMT", b"Tue, 01 Dec 2026 09:00:00 -9999",
        ]),
        "Message-ID": st.one_of(
            st.from_regex(r"<[a-z0-9.]{1,12}@gen\.example>", fullmatch=True).map(str.encode),
            st.sampled_from([b"", b"<>", b"no-angle@gen.example", b"<a@gen.example> <b@x>"]),
        ),
        "In-Reply-To": st.sampled_from([b"<cc-2026-0001.ack@council.example>", b"<x@y>", b"<"]),
        "References": header_value(),
    }
    lines: list[bytes] = []
    for name, values in fields.items():
        count = draw(st.sampled_from([0, 1, 1, 1, 2] if name != "In-Reply-To" else [0, 0, 1]))
        lines += [name.encode() + b": " + draw(values) for _ in range(count)]
    names = st.one_of(
        st.sampled_from(EXTRA_NAMES), st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True)
    )
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(names).encode() + b": " + draw(header_value()))
    return list(draw(st.permutations(lines)))


def _rfc822(part: Part) -> st.SearchStrategy[Part]:
    return top_headers().map(
        lambda headers: ([b"Content-Type: message/rfc822"], serialise((headers + part[0], part[1])))
    )


parts: st.SearchStrategy[Part] = st.recursive(
    st.one_of(text_part(), attachment_part()),
    lambda children: st.one_of(multipart(children), children.flatmap(_rfc822)),
    max_leaves=6,
)


@st.composite
def well_formed(draw: st.DrawFn) -> bytes:
    """A whole message from generated parts, with LF or CRLF line ends."""
    headers, body = draw(parts)
    mime = [b"MIME-Version: 1.0"] if draw(st.booleans()) else []
    raw = serialise((draw(top_headers()) + mime + headers, body))
    return re.sub(rb"\r?\n", b"\r\n", raw) if draw(st.booleans()) else raw


Mutation = Callable[[st.DrawFn, bytes], bytes]


def _truncate(draw: st.DrawFn, raw: bytes) -> bytes:
    return raw[: draw(st.integers(0, len(raw)))]


def _flip(draw: st.DrawFn, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 8)) if data else 0):
        at = draw(st.integers(0, len(data) - 1))
        data[at] ^= draw(st.integers(1, 255))
    return bytes(data)


def _boundary(draw: st.DrawFn, raw: bytes) -> bytes:
    found = re.findall(rb'boundary="([^"]*)"', raw)
    if not found:
        return raw
    mark = b"--" + draw(st.sampled_from(found))
    how = draw(st.sampled_from(["no-close", "shorten", "swap", "drop-param"]))
    if how == "no-close":
        return raw.replace(mark + b"--", b"")
    if how == "shorten":
        return raw.replace(mark + b"\n", mark[:-1] + b"\n", 1)
    if how == "swap":
        return raw.replace(mark, b"--other-boundary", 1)
    return re.sub(rb'; boundary="[^"]*"', b"", raw, count=1)


def _header_line(draw: st.DrawFn, raw: bytes, copy: bool) -> bytes:
    blank = re.search(rb"\r?\n\r?\n", raw)
    end = blank.start() if blank else len(raw)
    lines = raw[:end].split(b"\n")
    at = draw(st.integers(0, len(lines) - 1))
    lines[at:at + 1] = [lines[at], lines[at]] if copy else []
    return b"\n".join(lines) + raw[end:]


MUTATIONS: list[Mutation] = [
    _truncate, _flip, _boundary,
    lambda draw, raw: _header_line(draw, raw, copy=False),
    lambda draw, raw: _header_line(draw, raw, copy=True),
    lambda draw, raw: re.sub(rb"\r?\n\r?\n", b"\n", raw, count=1),  # headers run into body
    lambda draw, raw: raw.replace(b"\n", b"\r"),  # old Mac line ends
]


@st.composite
def hostile_email(draw: st.DrawFn) -> bytes:
    """A generated email, then none to three mutations of its bytes."""
    raw = draw(well_formed())
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), max_size=3)):
        raw = mutation(draw, raw)
    return raw
