"""Load the ordered classification rule table from YAML, validating every rule and check."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.classify.checks import CHECKS, Check, ParamError
from bot.classify.model import KINDS
from bot.config.yamlsource import Loc, Problem, ProblemsError, YamlDoc, load_yaml

_RULE_KEYS = ("name", "kind", "when")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Rule:
    """One row of the table: every check in `when` must match for the rule to hit."""

    name: str
    kind: str
    checks: tuple[tuple[Check, Any], ...]  # (check, its prepared parameter), in file order
    line: int


@dataclass(frozen=True)
class ClassificationRules:
    """The rule table in evaluation order, and the file it came from."""

    rules: tuple[Rule, ...]
    source: str


def load_classification(
    path: Path, *, stages: Collection[str] | None = None
) -> ClassificationRules:
    """Read `path`; raise ProblemsError listing every mistake with its line.

    The file is a mapping with `rules:` (the ordered list) and optionally `phrases:`, a place
    to define YAML anchors (&name) for phrase lists that several rules share. Pass the
    procedure's stage ids as `stages` to have `stage_in` names checked too.
    """
    doc = load_yaml(path)
    problems: list[Problem] = []
    rules = _read_table(doc, problems, stages)
    if problems:
        raise ProblemsError(problems)
    return ClassificationRules(tuple(rules), doc.file)


def _read_table(
    doc: YamlDoc, problems: list[Problem], stages: Collection[str] | None
) -> list[Rule]:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        problems.append(doc.problem((), "expected a 'rules:' list", "start the file with 'rules:'"))
        return []
    for key in data:
        if key not in ("rules", "phrases"):
            problems.append(doc.problem((key,), f"unknown key '{key}'", "use 'rules' or 'phrases'"))
    if not data["rules"]:
        problems.append(doc.problem(("rules",), "the rule list is empty", "add at least one rule"))
    rules: list[Rule] = []
    names: set[str] = set()
    for index, raw in enumerate(data["rules"]):
        rule = _read_rule(doc, ("rules", index), raw, problems, stages)
        if rule is None:
            continue
        if rule.name in names:
            problems.append(
                doc.problem(
                    ("rules", index, "name"),
                    f"rule name '{rule.name}' is used twice",
                    "give each rule its own name",
                )
            )
        names.add(rule.name)
        rules.append(rule)
    return rules


def _read_rule(
    doc: YamlDoc, loc: Loc, raw: Any, problems: list[Problem], stages: Collection[str] | None
) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append(doc.problem(loc, "a rule must be a mapping", "write name, kind and when"))
        return None
    before = len(problems)
    for key in raw:
        if key not in _RULE_KEYS:
            problems.append(
                doc.problem((*loc, key), f"unknown key '{key}'", f"use {', '.join(_RULE_KEYS)}")
            )
    name, kind, when = raw.get("name"), raw.get("kind"), raw.get("when")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(
            doc.problem(
                (*loc, "name"),
                f"bad or missing rule name {name!r}",
                "use lower_case_with_underscores",
            )
        )
    if kind not in KINDS:
        problems.append(
            doc.problem((*loc, "kind"), f"unknown kind {kind!r}", f"use one of: {', '.join(KINDS)}")
        )
    if not isinstance(when, dict) or not when:
        problems.append(
            doc.problem(
                (*loc, "when"),
                "a rule needs at least one check under 'when'",
                f"add checks such as: {', '.join(sorted(CHECKS))}",
            )
        )
        return None
    checks = [
        _read_check(doc, (*loc, "when", str(key)), key, value, problems, stages)
        for key, value in when.items()
    ]
    if len(problems) > before:
        return None
    assert isinstance(name, str) and isinstance(kind, str)
    return Rule(name, kind, tuple(c for c in checks if c is not None), doc.line_for(loc))


def _read_check(
    doc: YamlDoc,
    loc: Loc,
    key: Any,
    value: Any,
    problems: list[Problem],
    stages: Collection[str] | None,
) -> tuple[Check, Any] | None:
    check = CHECKS.get(str(key))
    if check is None:
        close = difflib.get_close_matches(str(key), list(CHECKS), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            doc.problem(
                loc, f"unknown check '{key}'", f"{hint}known checks: {', '.join(sorted(CHECKS))}"
            )
        )
        return None
    try:
        prepared = check.prepare(value)
    except ParamError as err:
        problems.append(
            doc.problem(
                (*loc, *err.at), f"{key}: {err.message}", f"{err.fix}; usage: {check.usage}"
            )
        )
        return None
    if check.name == "stage_in" and stages is not None:
        for index, stage in enumerate(prepared):
            if stage not in stages:
                problems.append(
                    doc.problem(
                        (*loc, index),
                        f"unknown stage '{stage}'",
                        f"use one of: {', '.join(sorted(stages))}",
                    )
                )
    return check, prepared
