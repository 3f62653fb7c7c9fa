"""Header values a letter is written with: addresses, Message-IDs, encoded words, and the
compat32 policy that writes them on the wire."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.charset import QP, Charset
from email.header import Header
from email.policy import Compat32
from email.utils import formataddr, getaddresses
from typing import cast

UTF8 = Charset("utf-8")
UTF8.body_encoding = QP


class Wire(Compat32):
    """compat32 with CRLF line ends that writes a short, printable ASCII header as it is: the
    bytes Header folding would give (it has nothing to fold or encode), without building a
    Header for every line of every letter, which was a third of the cost of composing one."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= 78
            and value.replace("\t", "").isprintable()
        ):
            return f"{name}: {value}{self.linesep}"
        if isinstance(value, str) and _WORDS.fullmatch(value):
            return f"{name}: {_fold_words(len(name) + 2, value, self.linesep)}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


# Printable ASCII words between single spaces, without the `;` and `,` Header prefers to fold
# after: a long subject, most often. Header's folding of these is simple enough to write here.
_WORDS = re.compile(r"[!-+\--:<-~]+(?: [!-+\--:<-~]+)*")


def _fold_words(start: int, value: str, linesep: str) -> str:
    """What Header(value).encode(maxlinelen=78) gives for words `_WORDS` matches, after a
    header name taking `start` characters: each line ends before the word that would take
    it past 78, the next line starting with the space; a word too long for any line stays
    whole on a line of its own, and one too long to follow the name leaves the name alone
    on the first line (tests/test_letters.py holds the two to the same text)."""
    lines: list[str] = []
    words = value.split(" ")
    line, used = words[0], start + len(words[0])
    if used > 78:  # the first word does not fit after the name: the name has its own line
        lines.append("")
        line, used = " " + words[0], 1 + len(words[0])
    for word in words[1:]:
        if used + 1 + len(word) > 78:
            lines.append(line)
            line, used = " " + word, 1 + len(word)
        else:
            line += " " + word
            used += 1 + len(word)
    lines.append(line)
    return linesep.join(lines)


WIRE = Wire(linesep="\r\n")
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
_MSG_ID = re.compile(r"^[!#$%&'*+/=?^_`{|}~a-zA-Z0-9.-]+@[a-zA-Z0-9.\[\]:-]+$")


def header_value(value: str) -> str:
    if value.isascii():
        return value
    # compat32 takes a Header and folds its encoded words itself; the stubs say str only.
    return cast(str, Header(value, UTF8))


def one_line(value: str) -> str:
    return " ".join(value.split())


# A bare address as the directory and the cases hold them: read as it is, without the parser.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _parsed(value: str) -> list[tuple[str, str]]:
    if _PLAIN_ADDRESS.fullmatch(value):
        return [("", value)]
    return getaddresses([value])


def bare(address: str) -> str:
    found = _parsed(address)
    if len(found) != 1 or "@" not in found[0][1]:
        raise ValueError(f"not an email address: {address!r}")
    return found[0][1]


def mailbox(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def addresses(values: Sequence[str]) -> str:
    result = []
    for value in values:
        for name, addr in _parsed(value):
            if "@" not in addr:
                raise ValueError(f"not an email address: {value!r}")
            result.append(mailbox(one_line(name), addr))
    return ", ".join(result)


def angle(message_id: str) -> str:
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    if not _MSG_ID.match(bare):
        raise ValueError(f"not a usable Message-ID: {message_id!r}")
    return f"<{bare}>"
