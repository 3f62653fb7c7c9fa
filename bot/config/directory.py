"""The staff directory and the providers: who is who, by id and by address."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from bot.config.fields import Email, Identifier, PersonRef
from bot.config.mailbox_settings import STRICT

Role = Literal[
    "cmo",
    "spo",
    "head_of_procurement",
    "service_manager",
    "inhouse_service_manager",
    "operational_team",
    "referrer",
    "admin",
]
ROLES: tuple[str, ...] = get_args(Role)


class Person(BaseModel):
    """Someone the bot knows by name: staff, referrers, managers."""

    model_config = STRICT
    id: Identifier = Field(description="Short id used elsewhere in the config, like jsmith")
    name: str = Field(description="Full name, used in letters")
    email: Email = Field(description="Their email address")
    roles: list[Role] = Field(min_length=1, description="What they do in the procedure")
    manager: PersonRef | None = Field(
        default=None, description="Their manager: a person id or an email address"
    )

    def has_role(self, role: str) -> bool:
        return role in self.roles


class Teams(BaseModel):
    """Who receives what the procedure sends to a team rather than a person."""

    model_config = STRICT
    operational_teams: list[Email] = Field(
        default=[], description="Addresses told of conclusions, to validate remedial actions"
    )
    service_manager: Identifier = Field(
        description="Person id of the Service Manager (told of pending investigations)"
    )
    inhouse_service_manager: Identifier = Field(
        description="Person id of the In-house Service Manager (gets in-house concerns)"
    )


class Contact(BaseModel):
    """One address of a provider, with the person who reads it when the register names one."""

    model_config = STRICT
    email: Email = Field(description="The contact's email address")
    name: str = Field(default="", description="Their name, for the letter's greeting")
    job_title: str = Field(default="", description="Their job title, under the letter's address")


class Provider(BaseModel):
    """A contracted service provider and how to reach it."""

    model_config = STRICT
    id: Identifier = Field(description="Short id, like acme")
    name: str = Field(description="Registered name, used in letters")
    aliases: list[str] = Field(
        default=[], description="Other names people use for it, to spot it in a concern"
    )
    service_type: str = Field(default="", description="Care home, home care, day centre, ...")
    contract_reference: str = Field(description="The Council contract it is bought under")
    contact_list: list[Contact] = Field(
        alias="contacts",
        min_length=1,
        description="Where letters go, the first the main contact: an address, or "
        "{email, name, job_title} for a named person",
    )
    address: list[str] = Field(
        default=[], description="Postal address lines, for the address block of its letters"
    )
    allocated_officer: Identifier | None = Field(
        default=None, description="Person id of its CMO; None: allocate from the rota"
    )
    match_domain: bool = Field(
        default=True,
        description="Treat any address at its contacts' domain as this provider",
    )

    @field_validator("contact_list", mode="before")
    @classmethod
    def _plain_addresses(cls, value: Any) -> Any:
        # An entry may be just the address, as in configs written before contacts had names.
        if isinstance(value, list):
            return [{"email": item} if isinstance(item, str) else item for item in value]
        return value

    @property
    def contacts(self) -> list[str]:
        """The contact addresses, the main contact first."""
        return [contact.email for contact in self.contact_list]

    def contact(self, address: str) -> Contact | None:
        return next((c for c in self.contact_list if c.email == address.strip().lower()), None)

    def names(self) -> list[str]:
        return [self.name, *self.aliases]
