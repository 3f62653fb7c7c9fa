"""Turn the procedure's recipient roles into names and addresses for one case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Config
from bot.procedure.case import Case

# Asks the organisation's directory for someone's manager (Graph's /users/{id}/manager).
ManagerLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class Recipient:
    name: str  # the person, or "" when the directory names no one at the address
    email: str
    job_title: str = ""
    organisation: str = ""  # set for a provider's contacts: the letter goes to the provider
    address: tuple[str, ...] = ()  # postal address lines, for a letter's address block


def resolve(
    role: str,
    case: Case | None,
    config: Config,
    sender: str = "",
    manager_of: ManagerLookup | None = None,
) -> list[Recipient]:
    """Everyone a role stands for on this case; empty when the directory has no one for it."""
    people = _resolve(role, case, config, sender, manager_of)
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.email and person.email not in seen:
            seen.add(person.email)
            unique.append(person)
    return unique


def _named(config: Config, address: str, fallback: str = "") -> Recipient:
    person = config.person_by_email(address)
    return Recipient(person.name if person else fallback, address.lower())


def _resolve(
    role: str, case: Case | None, config: Config, sender: str, manager_of: ManagerLookup | None
) -> list[Recipient]:
    if role == "sender":
        return [_named(config, sender)] if sender else []
    if role == "team":
        return [Recipient(config.council.team_name, config.council.team_address)]
    if role == "spo":
        return [Recipient(p.name, p.email) for p in config.people_with_role("spo")]
    if role == "head_of_procurement":
        return [Recipient(p.name, p.email) for p in config.people_with_role("head_of_procurement")]
    if role in ("service_manager", "inhouse_service_manager"):
        person = (
            config.service_manager()
            if role == "service_manager"
            else (config.inhouse_service_manager())
        )
        return [Recipient(person.name, person.email)] if person else []
    if role == "operational_teams":
        return [_named(config, address) for address in config.teams.operational_teams]
    if case is None:
        return []
    if role == "referrer":
        return [_named(config, case.referrer, case.referrer_name)]
    if role == "referrer_manager":
        # The config wins; the organisation's directory is asked only when it names no one.
        manager_address = config.manager_email_of(case.referrer)
        if not manager_address and manager_of is not None:
            manager_address = manager_of(case.referrer)
        return [_named(config, manager_address)] if manager_address else []
    if role == "provider":
        provider = config.provider(case.provider_id) if case.provider_id else None
        if provider is None:
            return []
        # A named contact is greeted by name; an unnamed one as "Sir or Madam", never by the
        # provider's name ("Dear The Meadows Day Centre").
        return [
            Recipient(c.name, c.email, c.job_title, provider.name, tuple(provider.address))
            for c in provider.contact_list
        ]
    if role == "officer":
        officer = config.person(case.officer_id) if case.officer_id else None
        return [Recipient(officer.name, officer.email)] if officer else []
    raise ValueError(f"unknown recipient role {role!r}")
