"""Checks across sections (references, uniqueness, roles), each reported at its own line."""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable

from bot.config.dashboard_checks import dashboard_problems
from bot.config.directory import Role
from bot.config.letter_checks import letter_problems
from bot.config.model import Config
from bot.config.network import is_loopback
from bot.config.report_settings import report_problems
from bot.config.safeguard_checks import safeguard_problems
from bot.config.yamlsource import Problem, YamlDoc

Loc = tuple[str | int, ...]


def cross_check(config: Config, doc: YamlDoc) -> list[Problem]:
    """Every problem that needs more than one field to see."""
    problems: list[Problem] = []
    problems += _unique(doc, "people", [p.id for p in config.people], "id", "person id")
    problems += _unique(doc, "people", [p.email for p in config.people], "email", "email")
    problems += _unique(doc, "providers", [p.id for p in config.providers], "id", "provider id")
    problems += _unique_contacts(config, doc)
    problems += _unique(
        doc,
        ("time", "closure_days"),
        [d.date for d in config.time.closure_days],
        "date",
        "closure day",
    )
    problems += _check_people(config, doc)
    problems += _check_roles_present(config, doc)
    problems += _check_assignments(config, doc)
    problems += _check_backend(config, doc)
    problems += _check_plain_imap(config, doc)
    problems += safeguard_problems(config, doc)
    problems += dashboard_problems(config.dashboard, doc)
    problems += letter_problems(config.letters, doc)
    problems += report_problems(config.reports, config.people, doc)
    return problems


def _unique(
    doc: YamlDoc, section: str | Loc, values: list[Hashable], key: str, what: str
) -> list[Problem]:
    base: Loc = (section,) if isinstance(section, str) else section
    first: dict[Hashable, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in first:
            line = doc.line_for((*base, first[value], key))
            problems.append(
                doc.problem(
                    (*base, index, key),
                    f"{what} '{value}' is used twice (first on line {line})",
                    f"give each entry its own {what}, or remove the repeat",
                )
            )
        else:
            first[value] = index
    return problems


def _unique_contacts(config: Config, doc: YamlDoc) -> list[Problem]:
    owner: dict[str, str] = {}
    problems = []
    for index, provider in enumerate(config.providers):
        for c_index, contact in enumerate(provider.contacts):  # addresses, main one first
            if contact in owner and owner[contact] != provider.id:
                problems.append(
                    doc.problem(
                        ("providers", index, "contacts", c_index),
                        f"'{contact}' is also a contact of provider '{owner[contact]}'",
                        "an address can belong to one provider only; remove it from one of them",
                    )
                )
            owner.setdefault(contact, provider.id)
    return problems


def _suggest(value: str, candidates: Iterable[str]) -> str:
    names = sorted(set(candidates))
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    if not names:
        listing = "add such a person to people"
    elif len(names) <= 8:
        listing = f"use one of {', '.join(names)}"
    else:  # a long list helps nobody
        listing = "use an id from people"
    return f"did you mean '{close[0]}'? Otherwise {listing}" if close else listing


def _person_with_role(
    config: Config, doc: YamlDoc, loc: Loc, person_id: str, role: Role, label: str
) -> list[Problem]:
    """`person_id` at `loc` must be in people and hold `role`."""
    ids_with_role = [p.id for p in config.people_with_role(role)]
    person = config.person(person_id)
    if person is None:
        return [
            doc.problem(
                loc, f"'{person_id}' is not a person in people", _suggest(person_id, ids_with_role)
            )
        ]
    if role not in person.roles:
        others = ", ".join(ids_with_role) or "(nobody has it yet)"
        return [
            doc.problem(
                loc,
                f"'{person_id}' is in people but is not a {role} ({label})",
                f"add {role} to their roles, or use one of {others}",
            )
        ]
    return []


def _check_people(config: Config, doc: YamlDoc) -> list[Problem]:
    problems = []
    all_ids = [p.id for p in config.people]
    for index, person in enumerate(config.people):
        loc: Loc = ("people", index, "manager")
        manager = person.manager
        if manager is None or "@" in manager:
            continue
        if manager == person.id:
            problems.append(
                doc.problem(
                    loc,
                    f"'{person.id}' is their own manager",
                    "name their manager's id or email address",
                )
            )
        elif config.person(manager) is None:
            problems.append(
                doc.problem(
                    loc,
                    f"manager '{manager}' is not a person in people",
                    _suggest(manager, all_ids) + ", or give the manager's email address",
                )
            )
    return problems


def _check_roles_present(config: Config, doc: YamlDoc) -> list[Problem]:
    problems = []
    needed: tuple[tuple[Role, str], ...] = (
        ("spo", "decisions go to them"),
        ("cmo", "cases are allocated to them"),
    )
    for role, why in needed:
        if not config.people_with_role(role):
            problems.append(
                doc.problem(
                    ("people",),
                    f"nobody in people has the role {role}",
                    f"add {role} to someone's roles: {why}",
                )
            )
    return problems


def _check_assignments(config: Config, doc: YamlDoc) -> list[Problem]:
    problems: list[Problem] = []
    for index, provider in enumerate(config.providers):
        if provider.allocated_officer is not None:
            problems += _person_with_role(
                config,
                doc,
                ("providers", index, "allocated_officer"),
                provider.allocated_officer,
                "cmo",
                "an allocated officer must be a cmo",
            )
    if not config.rota:
        cmos = ", ".join(p.id for p in config.people_with_role("cmo"))
        problems.append(
            doc.problem(
                ("rota",),
                "the rota is empty",
                f"list the CMOs who take new cases in turn, like [{cmos}]",
            )
        )
    seen: set[str] = set()
    for index, person_id in enumerate(config.rota):
        if person_id in seen:
            problems.append(
                doc.problem(
                    ("rota", index), f"'{person_id}' is in the rota twice", "list each CMO once"
                )
            )
        seen.add(person_id)
        problems += _person_with_role(
            config, doc, ("rota", index), person_id, "cmo", "the rota is of CMOs"
        )
    problems += _person_with_role(
        config,
        doc,
        ("teams", "service_manager"),
        config.teams.service_manager,
        "service_manager",
        "teams.service_manager must have that role",
    )
    problems += _person_with_role(
        config,
        doc,
        ("teams", "inhouse_service_manager"),
        config.teams.inhouse_service_manager,
        "inhouse_service_manager",
        "teams.inhouse_service_manager must have that role",
    )
    return problems


_BACKEND_KEYS = {
    "graph": "tenant_id, client_id and client_secret_env or certificate_path_env "
    "(see examples/mailbox-graph.yaml)",
    "ews": "service_endpoint, username, password_env (see examples/mailbox-ews.yaml)",
    "imap": "host, username, password_env, smtp_host (see examples/mailbox-imap.yaml)",
}


def _check_backend(config: Config, doc: YamlDoc) -> list[Problem]:
    backend = config.mailbox.backend
    if backend == "local" or config.mailbox.backend_settings() is not None:
        return []
    return [
        doc.problem(
            ("mailbox", "backend"),
            f"backend '{backend}' needs a '{backend}:' section under mailbox",
            f"add mailbox.{backend} with {_BACKEND_KEYS[backend]}",
        )
    ]


def _check_plain_imap(config: Config, doc: YamlDoc) -> list[Problem]:
    """`security: none` sends the password in clear text: only to this machine (a local relay
    or a tunnel), never across a network."""
    settings = config.mailbox.imap
    if config.mailbox.backend != "imap" or settings is None:
        return []
    links = (
        ("security", settings.host, "host"),
        ("smtp_security", settings.smtp_host, "smtp_host"),
    )
    return [
        doc.problem(
            ("mailbox", "imap", key),
            f"{key}: none would send the password unencrypted to {host}",
            f"use ssl or starttls; none is only allowed when {host_key} is a loopback "
            "address (localhost, 127.0.0.1, ::1)",
        )
        for key, host, host_key in links
        if getattr(settings, key) == "none" and not is_loopback(host)
    ]
