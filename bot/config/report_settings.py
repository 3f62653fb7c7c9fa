"""The reports section: who gets the monthly timescale report, and whether it is sent."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.config.directory import Person
from bot.config.fields import Identifier
from bot.config.mailbox_settings import STRICT
from bot.config.yamlsource import Problem, YamlDoc

DEFAULT_ROLES = ("spo", "head_of_procurement")


class ReportSettings(BaseModel):
    """The monthly report, sent on the first working day of each month for the month before."""

    model_config = STRICT
    monthly: bool = Field(
        default=True, description="Email and save the monthly timescale report"
    )
    recipients: list[Identifier] = Field(
        default=[],
        description=(
            "Person ids from people who get the monthly report; empty: the Senior Procurement "
            "Officer and the Head of Procurement"
        ),
    )


def report_recipients(settings: ReportSettings, people: list[Person]) -> list[Person]:
    """Who the monthly report goes to: those named, or by default the SPO and Head of
    Procurement roles from the directory."""
    if settings.recipients:
        by_id = {p.id: p for p in people}
        return [by_id[i] for i in settings.recipients if i in by_id]
    return [p for p in people if any(role in p.roles for role in DEFAULT_ROLES)]


def report_problems(settings: ReportSettings, people: list[Person], doc: YamlDoc) -> list[Problem]:
    ids = [p.id for p in people]
    return [
        doc.problem(
            ("reports", "recipients", index),
            f"'{person_id}' is not a person in people",
            f"use an id from people ({', '.join(ids)}), or leave recipients empty for the "
            "Senior Procurement Officer and the Head of Procurement",
        )
        for index, person_id in enumerate(settings.recipients)
        if person_id not in ids
    ]
