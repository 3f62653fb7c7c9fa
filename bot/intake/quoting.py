"""Cut a reply down to what its author newly wrote: no quoted history, no signature."""

from __future__ import annotations

import re

_WROTE = re.compile(r"^\s*On\s.*\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_OUTLOOK_FROM = re.compile(r"^\s*\*?From:\*?\s+\S")
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date):\*?\s", re.IGNORECASE)
_SIGNATURE = {"-- ", "--"}


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL.match(line) or _RULE.match(line) or _WROTE.match(line):
        return True
    following = lines[index + 1 : index + 4]
    # Mail clients wrap long "On <date>, <name> wrote:" lines onto a second line.
    if line.lstrip().startswith("On ") and following and _WROTE.match(f"{line} {following[0]}"):
        return True
    # Outlook's header block: a "From:" line followed closely by "Sent:" (or "Date:").
    return bool(_OUTLOOK_FROM.match(line)) and any(_OUTLOOK_NEXT.match(n) for n in following)


def strip_quoted(text: str) -> str:
    """Return the new part of a reply: quoted lines, the reply history and signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line in _SIGNATURE or _starts_history(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip("\n")
