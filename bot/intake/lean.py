"""What the parser reads of a large email: each long body and header block cut short.

The standard library's parser holds five or six times an email's size while it works (every
line a string of its own, then the parts joined again), so a 25 MB attachment would cost the
bot some 150 MB. The bot needs only the start of each part to read an email: its headers and
its first pages of text. Everything after is replaced with a short note, and the size of what
was cut is kept, so the attachments list still shows their sizes (estimated from the encoded
length). The email itself is kept whole; only the reading is made from this stand-in.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

LEAN_ABOVE = 1024 * 1024  # smaller emails are read exactly as they are
BODY_KEEP = 256 * 1024  # of each part's body: ample text for classification and commands
HEADER_KEEP = 1024 * 1024  # of each header block
FIELD_KEEP = 64 * 1024  # of each header field: far more than any real one needs
MAX_SEGMENTS = 2000  # more parts than this are not read (and are not mail a person wrote)

_BLANK = re.compile(rb"\n\r?\n")  # the end of a header block
_BASE64 = re.compile(rb"^content-transfer-encoding:[ \t]*base64", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Cut:
    """A note standing where bytes were cut, and about how many decoded bytes it stands for."""

    marker: str
    size: int


@dataclass(frozen=True)
class Lean:
    data: bytes  # what the parser reads: the email itself when nothing was cut
    cuts: tuple[Cut, ...] = ()

    def extra_size(self, encoded_payload: str) -> int:
        """The decoded bytes cut from a part, given the part's payload as the parser holds it."""
        return sum(cut.size for cut in self.cuts if cut.marker in encoded_payload)


def _note(index: int, cut_bytes: int) -> str:
    return f"[the bot did not read the rest of this part: {cut_bytes:,} bytes, note {index}]"


class _Builder:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pieces: list[bytes] = []
        self.cuts: list[Cut] = []

    def keep(self, start: int, end: int) -> None:
        if end > start:
            self.pieces.append(self.raw[start:end])

    def cut(self, start: int, end: int, base64_body: bool, mid_line: bool) -> None:
        """Replace raw[start:end] with a note line of the part's own transfer encoding."""
        raw = self.raw
        note = _note(len(self.cuts) + 1, end - start)
        if mid_line:
            self.pieces.append(b"\r\n")
        if base64_body:
            # The same characters as the text around it, so the part decodes cleanly.
            decoded_note = f"\n{note}\n".encode()
            marker = base64.b64encode(decoded_note).decode()
            letters = end - start - sum(raw.count(c, start, end) for c in (b"\n", b"\r", b" "))
            padding = raw.count(b"=", max(start, end - 8), end)
            # What the cut stands for, less what the note itself decodes to.
            size = letters // 4 * 3 - padding - len(decoded_note)
        else:
            marker = note
            size = end - start - len(marker) - 2
        self.pieces.append(marker.encode() + b"\r\n")
        self.cuts.append(Cut(marker, size))

    def header_block(self, start: int, end: int) -> None:
        """Keep a header block, each field longer than FIELD_KEEP shortened to its start and
        end (for References the end matters most), the whole cut after HEADER_KEEP."""
        if end - start <= FIELD_KEEP:  # nothing in it can be long
            self.keep(start, end)
            return
        raw, kept, run, field = self.raw, 0, start, start
        while field < end:
            after = _field_end(raw, field, end)
            if kept > HEADER_KEEP:
                self.keep(run, field)
                cut = f"X-Contract-Concerns-Cut: {end - field:,} bytes of headers not read\r\n"
                self.pieces.append(cut.encode())
                return
            if after - field > FIELD_KEEP:
                half = FIELD_KEEP // 2
                self.keep(run, field + half)
                note = f"\r\n\t[the bot did not read {after - field - 2 * half:,} bytes here]\r\n\t"
                self.pieces.append(note.encode())
                run = after - half
                kept += FIELD_KEEP
            else:
                kept += after - field
            field = after
        self.keep(run, end)


def _field_end(raw: bytes, start: int, end: int) -> int:
    """Where the header field at `start` ends: after a line end not followed by a fold."""
    position = start
    while True:
        newline = raw.find(b"\n", position, end)
        if newline == -1:
            return end
        if raw[newline + 1 : newline + 2] not in (b" ", b"\t"):
            return newline + 1
        position = newline + 1


def lean_copy(raw: bytes) -> Lean:
    """A stand-in for `raw` small enough to parse; `raw` itself when it is small already."""
    if len(raw) <= LEAN_ABOVE:
        return Lean(raw)
    builder = _Builder(raw)
    starts = [0]
    dashes = raw.find(b"\n--")  # where a boundary line may start
    while dashes != -1 and len(starts) <= MAX_SEGMENTS:
        starts.append(dashes + 1)
        dashes = raw.find(b"\n--", dashes + 1)
    ends = [*starts[1:], len(raw)]
    if len(starts) > MAX_SEGMENTS:
        ends[-1] = starts[-1]  # the parts after MAX_SEGMENTS are not read at all
    for start, end in zip(starts, ends, strict=True):
        blank = _BLANK.search(raw, start, end)
        if blank is None:  # no body in this stretch (a boundary line, a run of header lines)
            builder.header_block(start, end)
            continue
        builder.header_block(start, blank.start() + 1)
        body = blank.start() + 1
        if end - blank.end() <= BODY_KEEP:
            builder.keep(body, end)
            continue
        stop = raw.rfind(b"\n", blank.end(), blank.end() + BODY_KEEP) + 1
        mid_line = stop <= blank.end()
        if mid_line:
            stop = blank.end() + BODY_KEEP
        builder.keep(body, stop)
        base64_body = _BASE64.search(raw, start, blank.start() + 1) is not None
        builder.cut(stop, end, base64_body, mid_line)
    if len(starts) > MAX_SEGMENTS:
        builder.cut(ends[-1], len(raw), False, False)
    return Lean(b"".join(builder.pieces), tuple(builder.cuts))
