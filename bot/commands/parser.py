"""Read officers' commands from the new part of an email, line by line, Mailman-style."""

from __future__ import annotations

import re
from datetime import date

from bot.classify.text import new_part
from bot.commands.grammar import read_command
from bot.commands.model import Command, ParsedCommands

_BULLET = re.compile(r"^(?:[-*•·]+|\(?\d{1,2}[.)]|\(?[a-h][.)])\s+")
_SPACES = re.compile(r"\s+")
# Mail clients turn " - " into en or em dashes; the grammar is written with plain hyphens.
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-"})
_POLITE = re.compile(r"^(?:please|pls|kindly)\s+|[\s,]+(?:please|pls|thanks|thank\s+you)$", re.I)
_CASE_REF = re.compile(
    r"(?:(?:case|ref|reference|case\s+ref(?:erence)?|re|our\s+ref)(?:\s+(?:no\.?|number))?"
    r"\s*[:#-]?\s*)?(?P<ref>[a-z]{1,6}-\d{4}-\d{1,6})",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"(?:hi|hello|hey|dear|greetings|good\s+(?:morning|afternoon|evening)|morning|afternoon"
    r"|thanks|thank\s+you|many\s+thanks)"
    r"(?:[\s,]+[\w.'-]+){0,4}[\s,!.:]*",
    re.IGNORECASE,
)
# A sign-off ends the message proper: what follows is a signature, ignored unless it is a command.
_SIGN_OFF = re.compile(
    r"(?:(?:(?:with\s+)?(?:kind|best|warm|warmest|many)\s+)?(?:regards|wishes|thanks)"
    r"|thanks(?:\s+(?:again|all|very\s+much|so\s+much|in\s+advance))?"
    r"|thank\s+you(?:\s+(?:again|all|very\s+much|so\s+much|in\s+advance))?"
    r"|cheers|yours\s+(?:sincerely|faithfully|truly)|best|br|rgds|kr|ta"
    r"|sent\s+from\s+my\s+.+|get\s+outlook\s+for\s+.+)[\s,!.]*",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"(?:(?:please\s+)?(?:see|find)\s+(?:below|attached)|please\s+(?:action|note)"
    r"(?:\s+the\s+following)?|as\s+discussed|fyi|the\s+following|[-_=*~.]{2,})[\s,:.!]*",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = "--"
# An edited copy of the concern goes between these lines (the draft letter's email shows them).
COPY_START = "=== concern copy ==="
COPY_END = "=== end of concern copy ==="
_ONE_LINE_COPY = re.compile(r".*?concern\s+copy\s*[:-]\s*(?P<text>\S.*)$", re.IGNORECASE)
_MARKER = re.compile(r"^\s*={2,}\s*(?P<words>[a-z ]+?)\s*={2,}\s*$", re.IGNORECASE)


def _marker(line: str) -> str:
    found = _MARKER.match(line)
    return " ".join(found["words"].lower().split()) if found else ""


def parse_commands(text: str, today: date) -> ParsedCommands:
    """Every command in the new part of `text`; relative dates count from `today`."""
    commands: list[Command] = []
    not_understood: list[str] = []
    ignored: list[str] = []
    reference: str | None = None
    signed_off = False
    lines = new_part(text).split("\n")
    block_end = 0  # lines before this index were read as an edited copy of the concern
    for lineno, raw in enumerate(lines, start=1):
        if lineno <= block_end:
            continue
        if _marker(raw) == "concern copy":
            closing = "end of concern copy"
            end = next((i for i in range(lineno, len(lines)) if _marker(lines[i]) == closing), None)
            if end is None:
                # Without its end line the copy cannot be told from what follows: change nothing.
                not_understood.append(f"{raw.strip()} (no '{COPY_END}' line after it)")
                break
            copy = "\n".join(line.rstrip() for line in lines[lineno:end]).strip("\n")
            commands.append(Command("letter.edit", {"text": copy}, raw.strip(), lineno))
            block_end = end + 1
            continue
        if raw.rstrip() == _SIGNATURE_DELIMITER:
            break  # the standard "-- " signature delimiter: nothing below it is an instruction
        original = raw.strip()
        if not original:
            continue
        line = _tidy(original)
        ref = _CASE_REF.fullmatch(line)
        if ref:
            found = ref["ref"].upper()
            if reference is None:
                reference = found
            elif found != reference:
                # Two different cases named in one mail: do not guess which one is meant.
                not_understood.append(original)
            continue
        try:
            result = read_command(line, today)
        except ValueError:
            not_understood.append(original)
            continue
        if result is not None:
            name, args = result
            if name == "letter.edit":
                # A copy of the concern is taken as written, its closing full stop included.
                written = _ONE_LINE_COPY.match(original.translate(_DASHES))
                args = {"text": written["text"].strip()} if written else args
            commands.append(Command(name, args, original, lineno))
        elif _SIGN_OFF.fullmatch(line):
            signed_off = True
            ignored.append(original)
        elif signed_off or _GREETING.fullmatch(line) or _FILLER.fullmatch(line):
            ignored.append(original)
        else:
            not_understood.append(original)
    return ParsedCommands(tuple(commands), tuple(not_understood), tuple(ignored), reference)


def _tidy(line: str) -> str:
    """Bullets, politeness, closing punctuation and extra spaces off; the words stay."""
    line = _BULLET.sub("", line.translate(_DASHES))
    line = _SPACES.sub(" ", line).strip()
    line = _POLITE.sub("", line).strip()
    return line.rstrip(".!;,").strip()
