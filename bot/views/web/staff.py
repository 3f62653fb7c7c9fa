"""Who may use the dashboard: staff in the config's directory, or the local operator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import ROLES, Config, Person

# A referrer-only entry is someone outside the team (a GP, a social worker) who may raise
# concerns by email; the dashboard is for the staff who run the procedure.
_OUTSIDE_ROLES = frozenset({"referrer"})
OPERATOR_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r not in _OUTSIDE_ROLES)


@dataclass(frozen=True)
class StaffMember:
    """The person using the dashboard, as `request.state.user`."""

    id: str
    name: str
    address: str
    roles: tuple[str, ...]
    local: bool = False  # the operator on this machine, without sign-in

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class StaffDirectory:
    """The staff who may sign in, looked up by address, and who to ask when someone may not."""

    people: tuple[Person, ...]
    ask: str  # "Ask ... to add you", shown to someone refused

    def find(self, address: str) -> StaffMember | None:
        wanted = address.strip().lower()
        for person in self.people:
            if person.email == wanted:
                if not set(person.roles) - _OUTSIDE_ROLES:
                    return None
                return StaffMember(person.id, person.name, person.email, tuple(person.roles))
        return None

    def by_id(self, person_id: str) -> StaffMember | None:
        person = next((p for p in self.people if p.id == person_id), None)
        return self.find(person.email) if person is not None else None


def staff_directory(config: Config) -> StaffDirectory:
    """The directory of `config` and whom a refused person should ask to be added."""
    return StaffDirectory(tuple(config.people), _who_to_ask(config))


def _who_to_ask(config: Config) -> str:
    admins: Sequence[Person] = config.people_with_role("admin")
    if admins:
        named = " or ".join(f"{p.name} ({p.email})" for p in admins[:2])
        return f"Ask {named} to add you to the staff directory in the bot's config.yaml."
    if config.admin_contacts:
        return (
            f"Ask {config.admin_contacts[0]} to add you to the staff directory in the "
            "bot's config.yaml."
        )
    return (
        f"Ask the {config.council.team_name} ({config.council.team_address}) to add you "
        "to the staff directory in the bot's config.yaml."
    )


def local_operator(directory: StaffDirectory, person_id: str | None = None) -> StaffMember:
    """Who uses a dashboard without sign-in: a named person from the directory, or else the
    operator of this machine, who could run every command from its shell anyway."""
    if person_id is not None:
        member = directory.by_id(person_id)
        if member is None:
            raise ValueError(f"'{person_id}' is not a member of staff in the directory")
        return StaffMember(member.id, member.name, member.address, member.roles, local=True)
    return StaffMember("operator", "Local operator", "", OPERATOR_ROLES, local=True)
