"""The copy of a concern a provider may read: the author's own words, nothing that identifies."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.intake.quoting import strip_quoted

EMAIL_REMOVED = "[email address removed]"
NAME_WITHHELD = "[name withheld]"
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@([\w-]+(?:\.[\w-]+)+)")
# Forwarded mail that strip_quoted does not already cut (Gmail, Apple Mail, Thunderbird).
_FORWARDED = re.compile(
    r"^\s*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:|-{2,}\s*Original Message"
    r"|-{5,}\s*Forwarded|>?\s*Forwarded by\b)",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^(?:dear|hi|hello|hey|good\s+(?:morning|afternoon|evening)|to\s+whom\s+it\s+may\s+concern)"
    r"\b[^.!?\n]{0,60}[,!:]?$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(?:(?:with\s+)?(?:kind(?:est)?|best|warm(?:est)?|many)\s+(?:regards|wishes|thanks)"
    r"|regards|thanks(?:\s+(?:again|very\s+much|so\s+much|in\s+advance))?"
    r"|thank\s+you(?:\s+(?:again|very\s+much|so\s+much|in\s+advance))?|many\s+thanks|cheers"
    r"|yours\s+(?:sincerely|faithfully|truly)|best)[\s,!.]*$",
    re.IGNORECASE,
)
_SENT_FROM = re.compile(r"^(?:sent\s+from\s+my\s+|get\s+outlook\s+for\s+)", re.IGNORECASE)
# A sign-off with more lines than this after it is part of the text, not a signature block.
_SIGNATURE_LINES = 15


def clean_concern(text: str) -> str:
    """The concern's text without quoted or forwarded mail, the greeting or the signature."""
    lines = strip_quoted(text).split("\n")
    for index, line in enumerate(lines):
        if _FORWARDED.match(line):
            lines = lines[:index]
            break
    lines = [line for line in lines if not _SENT_FROM.match(line.strip())]
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and _GREETING.match(lines[0].strip()):
        lines.pop(0)
    sign_offs = [i for i, line in enumerate(lines) if _SIGN_OFF.match(line.strip())]
    if sign_offs:
        last = sign_offs[-1]
        after = [line for line in lines[last + 1 :] if line.strip()]
        if len(after) <= _SIGNATURE_LINES:
            lines = lines[:last]
    return _tidy("\n".join(lines))


def redact(text: str, *, names: Iterable[str] = (), keep_domains: Iterable[str] = ()) -> str:
    """Email addresses (except at `keep_domains`) and the given full names taken out."""
    kept = {domain.lower() for domain in keep_domains}

    def address(found: re.Match[str]) -> str:
        return found.group(0) if found.group(1).lower() in kept else EMAIL_REMOVED

    text = _EMAIL.sub(address, text)
    for name in sorted({n.strip() for n in names if len(n.strip().split()) >= 2}, key=len)[::-1]:
        # Any spacing or line break between the words; whole words only.
        words = r"\s+".join(re.escape(word) for word in name.split())
        text = re.sub(rf"(?<!\w){words}(?!\w)", NAME_WITHHELD, text, flags=re.IGNORECASE)
    return text


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
