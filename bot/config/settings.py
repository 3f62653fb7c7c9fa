"""Config sections about the council, time, files and limits."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from bot.config.fields import ClockTime, ConfigPath, Domain, Email, as_written
from bot.config.mailbox_settings import STRICT


class Council(BaseModel):
    """Who the bot works for."""

    model_config = STRICT
    name: str = Field(description="The council's name, used in letters")
    team_name: str = Field(description="The team that runs the procedure, used in letters")
    team_address: Email = Field(description="Team address: calendar invitations go here")
    own_domains: list[Domain] = Field(
        min_length=1, description="The council's own mail domains (its staff)"
    )


class ClosureDay(BaseModel):
    """A day the council is closed, which does not count as a working day."""

    model_config = STRICT
    date: dt.date = Field(description="The day, like 2026-12-29")
    reason: str = Field(default="Council closure", description="Why, shown next to deadlines")


class TimeSettings(BaseModel):
    """Working hours and send times, all Europe/London."""

    model_config = STRICT
    close_of_business: ClockTime = Field(
        default=as_written("17:00"),
        description='Mail after this counts from the next working day ("HH:MM")',
    )
    letters_time: ClockTime = Field(
        default=as_written("09:00"), description='When day-N letters and reminders go out ("HH:MM")'
    )
    digest_time: ClockTime = Field(
        default=as_written("08:00"), description='When officers get their daily digest ("HH:MM")'
    )
    closure_days: list[ClosureDay] = Field(
        default=[], description="Council closure days, on top of bank holidays"
    )


class RulesFiles(BaseModel):
    """Where the council-editable rules live."""

    model_config = STRICT
    procedure: ConfigPath = Field(
        default=as_written("rules/procedure.yaml"), description="Stages, deadlines and transitions"
    )
    classification: ConfigPath = Field(
        default=as_written("rules/classification.yaml"),
        description="How incoming mail is classified",
    )
    commands: ConfigPath = Field(
        default=as_written("rules/commands.yaml"), description="Commands officers may send the bot"
    )


class StoreSettings(BaseModel):
    """Where the case database lives."""

    model_config = STRICT
    directory: ConfigPath = Field(
        default=as_written("var/store"), description="Folder for the case database"
    )


class Limits(BaseModel):
    """Safety limits on what comes in and goes out."""

    model_config = STRICT
    max_attachment_mb: int = Field(
        default=25, gt=0, description="An email with a larger attachment is quarantined (MB)"
    )
    max_message_mb: int = Field(
        default=25,
        gt=0,
        description="Larger emails are quarantined without being read (MB, whole message)",
    )
    max_read_seconds: int = Field(
        default=30,
        gt=0,
        description="Longest reading one email may take; a slower one is quarantined (seconds)",
    )
    daily_cap_per_recipient: int = Field(
        default=20, gt=0, description="Most messages one address may get from the bot in a day"
    )
    max_attempts: int = Field(
        default=3,
        gt=0,
        description="Failed handling attempts before an email is quarantined",
    )
