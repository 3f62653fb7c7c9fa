"""The named checks a classification rule combines; each returns what it saw, or None."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.classify.model import ROLES, SenderInfo
from bot.classify.text import flat_new_part
from bot.intake.message import ParsedMail

RunFn = Callable[[ParsedMail, SenderInfo, Any], "str | None"]
PrepareFn = Callable[[Any], Any]

# What the audit trail quotes from a body: enough to see why, not the whole message.
_SNIPPET = 60


class ParamError(ValueError):
    """A rule gave a check a parameter it cannot use; `at` points inside a list parameter."""

    def __init__(self, message: str, fix: str, at: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.at = at


@dataclass(frozen=True)
class Check:
    """A registered check: `prepare` validates and compiles the rule's parameter once, at load."""

    name: str
    prepare: PrepareFn
    run: RunFn
    usage: str


CHECKS: dict[str, Check] = {}


def register(name: str, prepare: PrepareFn, usage: str) -> Callable[[RunFn], RunFn]:
    def add(run: RunFn) -> RunFn:
        CHECKS[name] = Check(name, prepare, run, usage)
        return run

    return add


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"expected true or false, got {value!r}", "write true or false")
    return value


def _names(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ParamError(f"expected a name or a list of names, got {value!r}", "write [a, b]")
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise ParamError(f"expected a name, got {item!r}", "write a plain name", (index,))
    return tuple(item.strip() for item in items)


def _roles(value: Any) -> tuple[str, ...]:
    names = _names(value)
    for index, name in enumerate(names):
        if name not in ROLES:
            raise ParamError(
                f"unknown sender role {name!r}", f"use one of: {', '.join(ROLES)}", (index,)
            )
    return names


def _regex(value: Any) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise ParamError(f"expected a regular expression, got {value!r}", "write a quoted regex")
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as err:
        raise ParamError(
            f"bad regular expression {value!r}: {err}", "fix the pattern (quote it in YAML)"
        ) from err


def _regexes(value: Any) -> tuple[re.Pattern[str], ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ParamError(f"expected a list of regular expressions, got {value!r}", "write [a, b]")
    compiled: list[re.Pattern[str]] = []
    for index, item in enumerate(items):
        try:
            compiled.append(_regex(item))
        except ParamError as err:
            raise ParamError(err.message, err.fix, (index,)) from err
    return tuple(compiled)


def _first_match(patterns: Sequence[re.Pattern[str]], text: str) -> str | None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return repr(found.group(0)[:_SNIPPET])
    return None


@register("automated", _flag, "automated: true  (the automated-mail detector's verdict)")
def automated(mail: ParsedMail, sender: SenderInfo, wanted: bool) -> str | None:
    return f"automated={sender.automated}" if sender.automated is wanted else None


@register("sender_role", _roles, f"sender_role: [{', '.join(ROLES)}]  (any of)")
def sender_role(mail: ParsedMail, sender: SenderInfo, roles: tuple[str, ...]) -> str | None:
    return f"role {sender.role}" if sender.role in roles else None


@register("has_case", _flag, "has_case: true|false  (the mail threads to a case)")
def has_case(mail: ParsedMail, sender: SenderInfo, wanted: bool) -> str | None:
    if (sender.case_reference is not None) is not wanted:
        return None
    return f"case {sender.case_reference}" if wanted else "no case"


@register("stage_in", _names, "stage_in: [stage_id, ...]  (the case's current stage, any of)")
def stage_in(mail: ParsedMail, sender: SenderInfo, stages: tuple[str, ...]) -> str | None:
    return f"stage {sender.case_stage}" if sender.case_stage in stages else None


@register("subject_matches", _regex, "subject_matches: 'regex'")
def subject_matches(mail: ParsedMail, sender: SenderInfo, pattern: re.Pattern[str]) -> str | None:
    return _first_match((pattern,), mail.subject)


@register("body_matches", _regexes, "body_matches: ['regex', ...]  (any, quoted text ignored)")
def body_matches(
    mail: ParsedMail, sender: SenderInfo, patterns: tuple[re.Pattern[str], ...]
) -> str | None:
    return _first_match(patterns, flat_new_part(mail.text))


@register("body_not_matches", _regexes, "body_not_matches: ['regex', ...]  (none may match)")
def body_not_matches(
    mail: ParsedMail, sender: SenderInfo, patterns: tuple[re.Pattern[str], ...]
) -> str | None:
    if _first_match(patterns, flat_new_part(mail.text)) is not None:
        return None
    return f"none of {len(patterns)} patterns"


@register("has_attachment", _flag, "has_attachment: true|false")
def has_attachment(mail: ParsedMail, sender: SenderInfo, wanted: bool) -> str | None:
    if bool(mail.attachments) is not wanted:
        return None
    return f"{len(mail.attachments)} attachment(s)"
