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
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


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
