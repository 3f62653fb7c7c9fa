"""The command language: every accepted wording of each command, tried in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.commands.args import (
    Build,
    attachments,
    deadline,
    identity,
    nothing,
    officer,
    provider,
    referrer,
    remedial,
    text,
    triage_item,
)

# Lines reach here with en and em dashes made plain "-".
# After a keyword: a colon or dash, or just a space (for dates, emails and names after "to").
SEP = r"(?:\s*[:-]\s*|\s+)"
# Before free text a colon or dash is required: "close monitoring needed" must not close a case.
COLON = r"\s*[:-]\s*"
# Optional reason after a fixed phrase: "dispute upheld: ..." or "dispute upheld because ...".
TAIL = r"(?:(?:\s*[:,;-]\s*|\s+(?=(?:because|as|since|due|following)\b))(?P<text>\S.*))?"
TEXT = rf"{COLON}(?P<text>\S.*)"
_SCREEN = rf"(?:(?:screen(?:ing|ed)?(?:\s+(?:outcome|decision|result))?|outcome){SEP}(?:as\s+)?)?"
_PROVIDER = r"(?:the\s+)?(?:service\s+)?provider\s+(?:has\s+)?(?:now\s+)?"
_ALLEGATIONS = r"(?:\s+(?:the\s+|all\s+(?:the\s+)?)?(?:concerns?|allegations?|findings))?"
_DISPUTE = r"(?:the\s+)?(?:outcome\s+of\s+(?:the\s+)?)?dispute(?:\s+outcome)?"
_DISPUTE_VERB = rf"(?:{COLON}|\s+(?:is\s+|was\s+|has\s+been\s+)?)"
_DEFAULT = r"(?:the\s+)?default\s+notice"


@dataclass(frozen=True)
class Form:
    """One accepted wording of a command; `build` reads its args and raises ValueError if bad."""

    name: str
    pattern: re.Pattern[str]
    build: Build


_FORMS: list[tuple[str, str, Build]] = [
    # Screening outcomes (step 1).
    ("screen.eligible", rf"{_SCREEN}eligible(?:\s+concern)?", nothing),
    (
        "screen.investigation_pending",
        rf"{_SCREEN}(?:investigation\s+pending|pending\s+investigation|under\s+investigation"
        r"|awaiting\s+(?:the\s+)?investigation(?:\s+outcome)?|investigation\s+(?:ongoing|in\s+progress))",
        nothing,
    ),
    (
        "screen.operational",
        rf"{_SCREEN}(?:operational|low[\s-]level|manage\s+operationally)(?:\s+concern)?",
        nothing,
    ),
    (
        "screen.isolated",
        rf"{_SCREEN}isolated(?:\s+(?:and|&)\s+addressed)?(?:\s+concern)?",
        nothing,
    ),
    ("screen.in_house", rf"{_SCREEN}in[\s-]?house(?:\s+service)?(?:\s+concern)?", nothing),
    (
        "screen.too_old",
        rf"{_SCREEN}(?:too\s+old|out\s+of\s+time|(?:over|more\s+than|older\s+than)\s+(?:6|six)"
        r"\s+months(?:\s+old)?)",
        nothing,
    ),
    # Case details (step 2).
    (
        "allocate",
        rf"(?:re)?allocate(?:d)?(?:\s+(?:this\s+|the\s+)?case)?(?:\s+to)?{SEP}(?P<officer>\S.*)",
        officer,
    ),
    ("allocate", rf"assign(?:\s+(?:this\s+|the\s+)?case)?\s+to{SEP}(?P<officer>\S.*)", officer),
    # Settling an unclear provider response (steps 5 and 6); before "provider: name".
    (
        "provider.accepts",
        rf"{_PROVIDER}(?:accepts|accepted|accept|agrees|agreed)(?:\s+with)?{_ALLEGATIONS}",
        nothing,
    ),
    (
        "provider.accepts",
        rf"(?:provider\s+)?response{SEP}(?:accepts|accepted|acceptance)",
        nothing,
    ),
    (
        "provider.disputes",
        rf"{_PROVIDER}(?:disputes|disputed|dispute|denies|denied|rejects|rejected){_ALLEGATIONS}",
        nothing,
    ),
    (
        "provider.disputes",
        rf"(?:the\s+)?(?:service\s+)?provider\s+(?:does\s+not|doesn't|did\s+not|didn't)\s+accept"
        rf"{_ALLEGATIONS}",
        nothing,
    ),
    ("provider.disputes", rf"(?:provider\s+)?response{SEP}(?:disputes|disputed|dispute)", nothing),
    ("provider", rf"(?:service\s+)?provider(?:\s+name)?{COLON}(?P<name>\S.*)", provider),
    # What goes to the provider with its first letter (step 3); before "referrer: address".
    (
        "letter.identity",
        rf"(?:the\s+)?referrer(?:'s)?\s+(?:identity|name){SEP}(?P<value>shared|share|named|name"
        r"|withheld|withhold|hidden|hide|anonymous|not\s+shared)",
        identity,
    ),
    (
        "letter.identity",
        r"(?P<value>share|name|give|withhold|hide)\s+(?:the\s+)?referrer(?:'s)?"
        r"(?:\s+(?:identity|name))?(?:\s+(?:with|to)\s+the\s+provider)?",
        identity,
    ),
    (
        "letter.attachments",
        rf"(?:the\s+)?(?:referral(?:'s)?\s+)?attachments?{SEP}(?P<value>keep|send|include|yes|drop"
        r"|withhold|remove|exclude|no)",
        attachments,
    ),
    (
        "letter.attachments",
        r"(?P<value>keep|send|include|enclose|drop|withhold|remove|exclude)\s+(?:the\s+)?"
        r"(?:referral(?:'s)?\s+)?attachments?(?:\s+(?:with|to)\s+the\s+(?:provider|copy|letter))?",
        attachments,
    ),
    ("referrer", rf"referrer(?:'s)?(?:\s+(?:email|address|is))?{SEP}(?P<rest>\S.*)", referrer),
    (
        "investigation.concluded",
        r"(?:the\s+)?(?:safeguarding\s+|complaints?\s+)?investigation\s+(?:has\s+)?(?:now\s+)?"
        r"(?:been\s+)?(?:concluded|complete|completed|finished|closed)",
        nothing,
    ),
    # Review (steps 8 and 9).
    ("review.conclusion", rf"(?:review\s+)?conclusion{TEXT}", text),
    ("decision.agreed", rf"recommendations?{SEP}(?:is\s+|are\s+)?(?:agreed|approved)", nothing),
    ("review.recommendation", rf"recommend(?:ation|ations|ed)?{TEXT}", text),
    ("review.remedial", rf"(?:remedial\s+)?actions?(?:\s+required)?{TEXT}", remedial),
    (
        "review.concluded",
        r"review\s+(?:is\s+)?(?:now\s+)?(?:complete|completed|concluded|done|finished)"
        r"|(?:refer|send|pass|forward|submit)(?:\s+(?:this|it|the\s+case))?\s+to\s+(?:the\s+)?"
        r"(?:spo|senior\s+procurement\s+officer)(?:\s+for\s+(?:a\s+)?decision)?",
        nothing,
    ),
    # The case officer approves the letter to the provider (step 3). A bare "approve" reads as
    # the SPO's decision below; handling takes it as this while a draft waits for approval.
    (
        "letter.approve",
        r"(?:i\s+)?approve(?:d)?\s+(?:the\s+|this\s+)?(?:draft|(?:concern\s+)?letter|copy)"
        r"(?:\s+(?:letter|and\s+copy))?(?:\s+as\s+(?:it\s+is|drafted|written))?"
        r"|(?:the\s+)?(?:draft|letter)\s+(?:is\s+)?approved"
        r"|send\s+(?:the\s+)?(?:concern\s+)?letter(?:\s+as\s+(?:it\s+is|drafted))?",
        nothing,
    ),
    # An edited copy on one line; longer ones go between the marker lines (bot.commands.parser).
    ("letter.edit", rf"(?:new\s+|edited\s+)?concern\s+copy{TEXT}", text),
    # SPO decision (step 10).
    ("decision.agreed", rf"(?:decision{SEP})?(?:i\s+)?(?:agreed|approved|agree|approve)", nothing),
    (
        "decision.more_info",
        rf"(?:decision{SEP})?(?:further|more)\s+info(?:rmation)?(?:\s+(?:is\s+)?"
        rf"(?:needed|required|requested))?(?:{TEXT})?",
        text,
    ),
    (
        "decision.alternative",
        rf"(?:decision{SEP})?alternative(?:\s+(?:outcome|decision))?{TEXT}",
        text,
    ),
    (
        "default_notice.issued",
        rf"{_DEFAULT}\s+(?:has\s+been\s+|was\s+)?(?:issued|sent|served)",
        nothing,
    ),
    (
        "default_notice.no",
        rf"{_DEFAULT}{SEP}(?:no|n|none|not\s+required)|no\s+default\s+notice(?:\s+required)?"
        rf"|(?:do\s+not|don't)\s+issue\s+(?:a\s+)?default\s+notice|{_DEFAULT}\s+(?:is\s+)?not\s+required",
        nothing,
    ),
    (
        "default_notice.yes",
        rf"{_DEFAULT}{SEP}(?:yes|y|required|issue(?:\s+it)?)|(?:please\s+)?issue\s+(?:a\s+)?default\s+notice"
        rf"|{_DEFAULT}\s+(?:is\s+)?required",
        nothing,
    ),
    # Follow-up (steps 13 and 14).
    (
        "follow_up.deadline",
        rf"(?:(?:follow[\s-]?up|agreed)\s+)*deadline(?:\s+(?:agreed|is|set))?{SEP}(?P<when>\S.*)",
        deadline,
    ),
    (
        "follow_up.unsatisfactory",
        r"(?:follow[\s-]?up|remedial\s+actions?)\s+(?:is\s+|was\s+|has\s+|have\s+)?(?:not\s+satisfactory"
        r"|unsatisfactory|inadequate|not\s+acceptable|insufficient|not\s+(?:been\s+)?(?:taken|completed))"
        + TAIL,
        text,
    ),
    # Outcome disputes (step 16).
    ("dispute.upheld", rf"{_DISPUTE}{_DISPUTE_VERB}upheld{TAIL}", text),
    (
        "dispute.rejected",
        rf"{_DISPUTE}{_DISPUTE_VERB}(?:rejected|not\s+upheld|dismissed|refused){TAIL}",
        text,
    ),
    ("close", rf"close(?:\s+down)?(?:\s+(?:this|the))?(?:\s+case)?(?:{TEXT})?", text),
    # Triage: an officer places an email the bot could not place, or sets it aside.
    (
        "triage.attach",
        r"(?:attach|file|move|put)\s+(?:triage\s+(?:item\s+)?)?(?P<item>T\d{4,})\s+"
        r"(?:to|under|into|on|with)\s+(?:case\s+)?(?P<reference>CC-\d{4}-\d{4,6})",
        triage_item,
    ),
    (
        "triage.dismiss",
        rf"(?:dismiss|resolved?|done|clear|ignore)\s+(?:triage\s+(?:item\s+)?)?(?P<item>T\d{{4,}}){TAIL}",
        triage_item,
    ),
]

FORMS: tuple[Form, ...] = tuple(
    Form(name, re.compile(pattern, re.IGNORECASE), build) for name, pattern, build in _FORMS
)
# In the order of the procedure, for help text; every form's name must be here and vice versa.
COMMAND_NAMES: tuple[str, ...] = (
    "screen.eligible",
    "screen.investigation_pending",
    "screen.operational",
    "screen.isolated",
    "screen.in_house",
    "screen.too_old",
    "investigation.concluded",
    "allocate",
    "provider",
    "referrer",
    "letter.identity",
    "letter.attachments",
    "letter.approve",
    "letter.edit",
    "provider.accepts",
    "provider.disputes",
    "review.conclusion",
    "review.recommendation",
    "review.remedial",
    "review.concluded",
    "decision.agreed",
    "decision.more_info",
    "decision.alternative",
    "default_notice.yes",
    "default_notice.no",
    "default_notice.issued",
    "follow_up.deadline",
    "follow_up.unsatisfactory",
    "dispute.upheld",
    "dispute.rejected",
    "close",
    "triage.attach",
    "triage.dismiss",
)
if set(COMMAND_NAMES) != {form.name for form in FORMS}:  # pragma: no cover - a coding slip
    raise RuntimeError("COMMAND_NAMES and FORMS disagree")


def read_command(line: str, today: date) -> tuple[str, dict[str, Any]] | None:
    """The command a cleaned-up line gives, or None. Raises ValueError for a bad argument."""
    for form in FORMS:
        found = form.pattern.fullmatch(line)
        if found:
            return form.name, form.build(found, today)
    return None


__all__ = ["COMMAND_NAMES", "FORMS", "Form", "read_command"]
