"""Build the context a letter template sees, from a case, the directory and the triggering email."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.actions.concern import concern_copy, referrer_withheld
from bot.actions.recipients import Recipient
from bot.config import Config
from bot.intake.message import ParsedMail
from bot.procedure.case import Case, Deadline
from bot.procedure.model import Procedure


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _person(config: Config, person_id: str | None) -> dict[str, str] | None:
    person = config.person(person_id) if person_id else None
    return {"name": person.name, "email": person.email} if person else None


def deadline_view(deadline: Deadline, now: datetime, overdue: bool) -> dict[str, Any]:
    return {
        "name": deadline.name,
        "step": deadline.step,
        "title": deadline.title,
        "due": deadline.due,
        "explanation": deadline.explanation,
        "overdue": overdue,
    }


def case_view(
    case: Case,
    config: Config,
    procedure: Procedure,
    now: datetime,
    overdue: Mapping[str, bool] | None = None,
    *,
    for_provider: bool = False,
    enclosures: Sequence[str] = (),
    referral_attachments: Sequence[str] = (),
) -> dict[str, Any]:
    """The `case` variable of every template. For a letter to the provider it holds only what
    the provider may read: the approved copy of the concern, and no referrer it is not told of."""
    overdue = overdue or {}
    data = case.data
    provider = config.provider(case.provider_id) if case.provider_id else None
    stage = procedure.stages.get(case.stage)
    remedial = [
        {"action": item.get("action", ""), "due": _date(item.get("due"))}
        for item in data.get("remedial_actions", [])
    ]
    referrer_person = config.person_by_email(case.referrer)
    referrer = {
        "name": referrer_person.name if referrer_person else case.referrer_name,
        "email": case.referrer,
    }
    withheld = referrer_withheld(case, config)
    copy = concern_copy(case, config)
    if for_provider and withheld:
        referrer = {"name": "", "email": ""}
    return {
        "reference": case.reference,
        "stage": case.stage,
        "stage_title": stage.title if stage else case.stage,
        "step": stage.step if stage else "",
        "opened_on": case.opened_at.date(),
        "received_day": case.received_day,
        "subject": case.subject,
        # The provider never sees the referral itself, only the copy.
        "concern_text": copy if for_provider else case.concern_text,
        "concern_copy": copy,
        "referrer_withheld": withheld,
        "copy_enclosures": list(enclosures),
        "referral_attachments": list(referral_attachments),
        "concern_from": dict(referrer),
        "referrer": referrer,
        "provider": {"name": provider.name, "contract_reference": provider.contract_reference}
        if provider
        else None,
        "officer": _person(config, case.officer_id),
        "screening": {"proposal": case.screening_proposal, "reasons": list(case.screening_reasons)},
        "conclusion": data.get("conclusion", "") or "",
        "recommendation": data.get("recommendation", "") or "",
        "remedial_actions": remedial,
        "decision": data.get("decision", "") or "",
        "alternative": data.get("alternative", "") or "",
        "more_info": data.get("more_info", "") or "",
        "default_notice": data.get("default_notice"),
        "dispute": {
            "grounds_text": data.get("dispute_grounds", "") or "",
            "outcome": data.get("dispute_outcome", "") or "",
            "reasons": data.get("dispute_reasons", "") or "",
        },
        "follow_up_due": _date(data.get("follow_up_due")),
        # Every deadline the case has had, with what became of it (closure reports list them all).
        "deadlines": [
            {**deadline_view(d, now, overdue.get(d.name, False)), "status": d.status}
            for d in case.deadlines
        ],
        "default_reason": data.get("default_reason", "") or "",
    }


def mail_view(mail: ParsedMail | None) -> dict[str, str] | None:
    if mail is None:
        return None
    return {
        "sender": mail.sender,
        "sender_name": mail.sender_name,
        "subject": mail.subject,
        "text": mail.text,
    }


def build_context(
    *,
    config: Config,
    procedure: Procedure,
    case: Case | None,
    recipient: Recipient,
    deadline: Deadline | None,
    mail: ParsedMail | None,
    now: datetime,
    today: date,
    extra: Mapping[str, Any] | None = None,
    overdue: Mapping[str, bool] | None = None,
    letterhead: bool = False,
    enclosures: Sequence[str] = (),
    referral_attachments: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything a template sees. A recipient with an organisation is a provider's contact:
    its case view is the provider's (see case_view)."""
    council = config.council
    for_provider = bool(recipient.organisation)
    if for_provider and mail is not None and config.provider_by_address(mail.sender) is None:
        mail = None  # an officer's or a referrer's email is not the provider's to read
    return {
        "council": {
            "name": council.name,
            "team_name": council.team_name,
            "team_address": council.team_address,
        },
        "recipient": {
            "name": recipient.name,
            "email": recipient.email,
            "job_title": recipient.job_title,
            "organisation": recipient.organisation,
            "address": list(recipient.address),
        },
        # True when the text goes in a PDF on letterhead, which carries the council's details.
        "letterhead": letterhead,
        "case": case_view(
            case,
            config,
            procedure,
            now,
            overdue,
            for_provider=for_provider,
            enclosures=enclosures,
            referral_attachments=referral_attachments,
        )
        if case
        else None,
        "deadline": deadline_view(deadline, now, False) if deadline else None,
        "mail": mail_view(mail),
        "today": today,
        "extra": dict(extra or {}),
    }
