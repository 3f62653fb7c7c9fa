"""Indexes over people and providers, built once so each lookup is a dict access."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.config.directory import ROLES, Person, Provider

# Domains shared by many unrelated senders: a contact here identifies only that one address.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "btinternet.com",
        "gmail.com",
        "googlemail.com",
        "hotmail.co.uk",
        "hotmail.com",
        "icloud.com",
        "live.co.uk",
        "live.com",
        "me.com",
        "nhs.net",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "yahoo.co.uk",
        "yahoo.com",
    }
)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _name_pattern(names: Iterable[str]) -> re.Pattern[str]:
    # Any run of spaces or a line break between words, and no letter or digit either side.
    parts = [
        r"\s+".join(re.escape(word) for word in name.split()) for name in names if name.strip()
    ]
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


class DirectoryIndex:
    """Who is who, by id, by address and by role; which provider an address or text means."""

    def __init__(
        self,
        people: Sequence[Person],
        providers: Sequence[Provider],
        shared_domains: Iterable[str] = (),
    ) -> None:
        self.people_by_id = {person.id: person for person in people}
        self.people_by_email = {person.email: person for person in people}
        self.people_by_role: dict[str, tuple[Person, ...]] = {
            role: tuple(person for person in people if role in person.roles) for role in ROLES
        }
        self.providers_by_id = {provider.id: provider for provider in providers}
        self.providers_by_contact = {
            contact: provider for provider in providers for contact in provider.contacts
        }
        self.providers_by_domain = self._domain_owners(providers, set(shared_domains))
        self.name_patterns = [(provider, _name_pattern(provider.names())) for provider in providers]

    @staticmethod
    def _domain_owners(providers: Sequence[Provider], shared: set[str]) -> dict[str, Provider]:
        """Domains that belong to exactly one provider and are not the council's or public."""
        owners: dict[str, set[str]] = {}
        for provider in providers:
            for contact in provider.contacts:
                owners.setdefault(domain_of(contact), set()).add(provider.id)
        by_id = {provider.id: provider for provider in providers}
        return {
            domain: by_id[next(iter(ids))]
            for domain, ids in owners.items()
            if len(ids) == 1
            and domain not in shared
            and domain not in PUBLIC_MAIL_DOMAINS
            and by_id[next(iter(ids))].match_domain
        }

    def provider_by_address(self, address: str) -> Provider | None:
        addr = address.strip().lower()
        exact = self.providers_by_contact.get(addr)
        return exact if exact is not None else self.providers_by_domain.get(domain_of(addr))

    def providers_named_in(self, text: str) -> list[Provider]:
        return [provider for provider, pattern in self.name_patterns if pattern.search(text)]
