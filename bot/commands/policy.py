"""Who may give each command, and the help text, loaded and checked from rules/commands.yaml."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.commands.grammar import COMMAND_NAMES
from bot.commands.parser import parse_commands
from bot.config.yamlsource import Problem, ProblemsError, YamlDoc, load_yaml

_ENTRY_KEYS = ("roles", "example", "help", "case_officer")
_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")
# Examples are parsed only to check they name their own command; any fixed day will do.
_EXAMPLE_DAY = date(2026, 1, 1)


@dataclass(frozen=True)
class CommandRule:
    name: str
    roles: frozenset[str]
    example: str
    help: str
    case_officer: bool = False  # only the officer the case is allocated to may give it


@dataclass(frozen=True)
class CommandPolicy:
    """The permission and help table, one entry for every command the parser knows."""

    rules: dict[str, CommandRule]

    def allowed(self, name: str, roles: Iterable[str]) -> bool:
        """Whether someone holding any of `roles` may give command `name`."""
        rule = self.rules.get(name)
        return rule is not None and not rule.roles.isdisjoint(roles)

    def case_officer_only(self, name: str) -> bool:
        """Whether only the case's own officer may give command `name`."""
        rule = self.rules.get(name)
        return rule is not None and rule.case_officer

    def help_lines(self, roles: Iterable[str] | None = None) -> list[str]:
        """One line per command, in the parser's order; only those `roles` may give, if given."""
        held = None if roles is None else set(roles)
        lines: list[str] = []
        for name in COMMAND_NAMES:
            rule = self.rules[name]
            if held is not None and rule.roles.isdisjoint(held):
                continue
            who = "the case's officer" if rule.case_officer else ", ".join(sorted(rule.roles))
            lines.append(f"{rule.example}  -  {rule.help} ({who})")
        return lines


def load_command_policy(path: Path, *, known_roles: Collection[str] | None = None) -> CommandPolicy:
    """Read `path`; raise ProblemsError naming the line of every mistake."""
    doc = load_yaml(path)
    problems: list[Problem] = []
    table = doc.data.get("commands") if isinstance(doc.data, dict) else None
    if not isinstance(table, dict):
        fix = "start the file with 'commands:' and one entry per command"
        raise ProblemsError([doc.problem((), "expected a 'commands:' mapping", fix)])
    rules: dict[str, CommandRule] = {}
    for name, entry in table.items():
        if name not in COMMAND_NAMES:
            fix = f"use one of: {', '.join(COMMAND_NAMES)}"
            problems.append(doc.problem(("commands", name), f"unknown command '{name}'", fix))
            continue
        rule = _read_entry(doc, str(name), entry, problems, known_roles)
        if rule is not None:
            rules[rule.name] = rule
    missing = [name for name in COMMAND_NAMES if name not in table]
    if missing:
        problems.append(
            doc.problem(
                ("commands",),
                f"commands not listed: {', '.join(missing)}",
                "add an entry (roles, example, help) for each",
            )
        )
    if problems:
        raise ProblemsError(problems)
    return CommandPolicy(rules)


def _read_entry(
    doc: YamlDoc,
    name: str,
    entry: Any,
    problems: list[Problem],
    known_roles: Collection[str] | None,
) -> CommandRule | None:
    loc = ("commands", name)
    if not isinstance(entry, dict):
        problems.append(doc.problem(loc, "expected roles, example and help", "see other entries"))
        return None
    before = len(problems)
    for key in entry:
        if key not in _ENTRY_KEYS:
            fix = f"use {', '.join(_ENTRY_KEYS)}"
            problems.append(doc.problem((*loc, key), f"unknown key '{key}'", fix))
    roles = entry.get("roles")
    if not isinstance(roles, list) or not roles:
        problems.append(
            doc.problem(
                (*loc, "roles"), "roles must be a non-empty list", "write e.g. roles: [cmo, spo]"
            )
        )
        roles = []
    for index, role in enumerate(roles):
        if (
            not isinstance(role, str)
            or not _ROLE.match(role)
            or (known_roles is not None and role not in known_roles)
        ):
            fix = f"use one of: {', '.join(sorted(known_roles))}" if known_roles else "fix the name"
            problems.append(doc.problem((*loc, "roles", index), f"bad role {role!r}", fix))
    for key in ("example", "help"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
            problems.append(
                doc.problem((*loc, key), f"'{key}' must be one line of text", f"write {key}: ...")
            )
    case_officer = entry.get("case_officer", False)
    if not isinstance(case_officer, bool):
        fix = "write case_officer: true, or leave it out"
        where = (*loc, "case_officer")
        problems.append(doc.problem(where, "case_officer must be true or false", fix))
    example = entry.get("example")
    if isinstance(example, str) and example.strip():
        parsed = parse_commands(example, _EXAMPLE_DAY).commands
        if len(parsed) != 1 or parsed[0].name != name:
            got = ", ".join(c.name for c in parsed) or "nothing"
            problems.append(
                doc.problem(
                    (*loc, "example"),
                    f"the example reads as {got}",
                    f"write an example the parser reads as {name}",
                )
            )
    if len(problems) > before:
        return None
    return CommandRule(
        name,
        frozenset(roles),
        str(example).strip(),
        str(entry["help"]).strip(),
        case_officer is True,
    )
