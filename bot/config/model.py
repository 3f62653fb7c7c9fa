"""The whole configuration as one validated, read-only object with lookup helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from bot.config.dashboard_settings import DashboardSettings
from bot.config.directory import Person, Provider, Role, Teams
from bot.config.fields import ConfigPath, Domain, Email, Identifier, as_written
from bot.config.letter_settings import LetterSettings
from bot.config.lookups import DirectoryIndex, domain_of
from bot.config.mailbox_settings import STRICT, MailboxSettings
from bot.config.report_settings import ReportSettings
from bot.config.safeguards import MonitoringSettings, RetentionSettings, SecuritySettings
from bot.config.settings import Council, Limits, RulesFiles, StoreSettings, TimeSettings


class Config(BaseModel):
    """Everything a council sets for the bot; load it with `bot.config.load_config`."""

    model_config = STRICT
    council: Council = Field(description="Who the bot works for")
    mailbox: MailboxSettings = Field(description="The shared mailbox and its mail system")
    start_date: dt.date = Field(description="Mail received before this date is never touched")
    shadow_mode: bool = Field(
        default=False, description="True: letters go to a review folder instead of out"
    )
    poll_interval_seconds: int = Field(default=60, ge=5, description="How often to check mail")
    store: StoreSettings = Field(default=as_written({}), description="The case database")
    shared_drive: ConfigPath = Field(
        default=as_written("var/shared-drive"),
        description="Where closure reports are saved (local backend)",
    )
    time: TimeSettings = Field(
        default=as_written({}), description="Working hours, send times, closure days"
    )
    rules: RulesFiles = Field(
        default=as_written({}), description="The council-editable rules files"
    )
    templates: ConfigPath = Field(
        default=as_written("templates"), description="Folder of letter templates"
    )
    letters: LetterSettings = Field(
        default=as_written({}), description="Letters to providers: approval and letterhead"
    )
    referrer_domains: list[Domain] = Field(
        default=[], description="Mail domains whose staff may send a new concern"
    )
    admin_contacts: list[Email] = Field(
        default=[], description="Told when the bot itself has a problem"
    )
    people: list[Person] = Field(description="The staff directory")
    teams: Teams = Field(description="Team-level recipients")
    rota: list[Identifier] = Field(
        default=[], description="CMO ids allocated in turn when a provider has no officer"
    )
    security: SecuritySettings = Field(
        default=as_written({}), description="Which mail may give the bot commands"
    )
    limits: Limits = Field(default=as_written({}), description="Safety limits")
    monitoring: MonitoringSettings = Field(
        default=as_written({}), description="When the admin contacts are alerted about the bot"
    )
    retention: RetentionSettings = Field(
        default=as_written({}), description="How long personal data is kept"
    )
    reports: ReportSettings = Field(
        default=as_written({}), description="The monthly timescale report and who gets it"
    )
    providers: list[Provider] = Field(default=[], description="Contracted providers")
    dashboard: DashboardSettings = Field(
        default=as_written({}), description="The web dashboard and how staff sign in to it"
    )

    _index: DirectoryIndex = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        shared = {*self.council.own_domains, *self.referrer_domains}
        self._index = DirectoryIndex(self.people, self.providers, shared)

    # People
    def person(self, person_id: str) -> Person | None:
        return self._index.people_by_id.get(person_id)

    def person_by_email(self, address: str) -> Person | None:
        return self._index.people_by_email.get(address.strip().lower())

    def people_with_role(self, role: Role) -> tuple[Person, ...]:
        return self._index.people_by_role.get(role, ())

    def has_role(self, address: str, role: Role) -> bool:
        person = self.person_by_email(address)
        return person is not None and role in person.roles

    def manager_email_of(self, address: str) -> str | None:
        """The manager's address of the person at `address`, when the directory knows it."""
        person = self.person_by_email(address)
        if person is None or person.manager is None:
            return None
        if "@" in person.manager:
            return person.manager
        manager = self.person(person.manager)
        return manager.email if manager is not None else None

    def is_staff(self, address: str) -> bool:
        """In the directory, or at one of the council's own domains."""
        return (
            self.person_by_email(address) is not None
            or domain_of(address) in self.council.own_domains
        )

    def may_refer(self, address: str) -> bool:
        """Whether this sender may raise a new concern (a referrer domain or a referrer)."""
        return domain_of(address) in self.referrer_domains or self.has_role(address, "referrer")

    def rota_officers(self) -> tuple[Person, ...]:
        return tuple(p for p in (self.person(pid) for pid in self.rota) if p is not None)

    def service_manager(self) -> Person | None:
        return self.person(self.teams.service_manager)

    def inhouse_service_manager(self) -> Person | None:
        return self.person(self.teams.inhouse_service_manager)

    # Providers
    def provider(self, provider_id: str) -> Provider | None:
        return self._index.providers_by_id.get(provider_id)

    def provider_by_address(self, address: str) -> Provider | None:
        """By exact contact address, else by a domain that only that provider's contacts use."""
        return self._index.provider_by_address(address)

    def providers_named_in(self, text: str) -> list[Provider]:
        """Providers whose name or alias appears in `text` as whole words, any case."""
        return self._index.providers_named_in(text)

    # Time
    def closure_days_map(self) -> dict[dt.date, str]:
        return {day.date: day.reason for day in self.time.closure_days}

    def close_of_business_time(self) -> dt.time:
        return self.time.close_of_business

    def letters_time(self) -> dt.time:
        return self.time.letters_time

    def digest_time(self) -> dt.time:
        return self.time.digest_time
