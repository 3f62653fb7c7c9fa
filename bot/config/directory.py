"""The staff directory and the providers: who is who, by id and by address."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

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
    contacts: list[Email] = Field(
        min_length=1, description="Where letters go; the first is the main contact"
    )
    allocated_officer: Identifier | None = Field(
        default=None, description="Person id of its CMO; None: allocate from the rota"
    )
    match_domain: bool = Field(
        default=True,
        description="Treat any address at its contacts' domain as this provider",
    )

    def names(self) -> list[str]:
        return [self.name, *self.aliases]
