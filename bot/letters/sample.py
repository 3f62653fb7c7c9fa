"""A complete example letter context: what `lint` renders every template with, and tests use."""

from __future__ import annotations

from datetime import date
from typing import Any


def _sample_extra(name: str) -> dict[str, Any]:
    row = {
        "reference": "CC-2026-0042",
        "title": "Provider response to the concern letter",
        "due": date(2026, 12, 17),
        "provider": "Meadowbank Care Ltd",
    }
    extras: dict[str, dict[str, Any]] = {
        "internal_reminder": {"overdue": False},
        "command_receipt": {
            "done": ["screen: eligible - screening recorded, case activated"],
            "not_understood": ["screen: maybe"],
            "ignored": ["Kind regards"],
            "help": ["screen: eligible | investigation pending | operational | isolated"],
        },
        "daily_digest": {
            "drafts": [dict(row, title="Send the concern letter to the provider")],
            "due_today": [row],
            "overdue": [row],
            "upcoming": [row],
            "triage_count": 1,
        },
        "triage_reminder": {
            "items": [
                {
                    "id": "t-7",
                    "received": date(2026, 12, 2),
                    "sender": "someone@elsewhere.example",
                    "subject": "Question about CC-2026-0042",
                    "reason": "unknown sender",
                }
            ]
        },
        "suspect_command_alert": {
            "sender": "jane.smith@council.example",
            "subject": "RE: [CC-2026-0042] decision",
            "reason": "no trusted Authentication-Results pass",
        },
        "undelivered_alert": {
            "failed_recipients": ["alex.morgan@meadowbank.example"],
            "letter_subject": "[CC-2026-0042] Contract concern",
        },
        "letter_email": {
            "letter": {
                "subject": "Contract concern: request to review, investigate and respond",
                "date": date(2026, 12, 3),
                "filename": "CC-2026-0042-concern-letter-20261203.pdf",
                "enclosures": ["call-log.pdf"],
            }
        },
        "letter_approval_request": {
            "copy_start": "=== concern copy ===",
            "copy_end": "=== end of concern copy ===",
        },
        "third_party_comment": {
            "sender": "lee.hart@council.example",
            "sender_name": "Lee Hart",
            "received": date(2026, 12, 10),
            "text": "I manage Tom; he is on leave until Monday and will reply then.",
        },
        "monthly_report": {
            "period": "Nov 2026",
            "file_name": "timescale-report-2026-11.xlsx",
            "received": 12,
            "fell_due": 30,
            "met": 28,
            "late": 2,
            "on_time": "93%",
            "steps": [{"step": "8", "title": "Review", "fell_due": 5, "met": 4, "late": 1}],
            "breaches": [
                {"reference": "CC-2026-0042", "step": "8", "title": "Review the concern",
                 "due": date(2026, 11, 20), "done": None, "late": 3},
            ],
        },
        "admin_alert": {
            "problem": "The mailbox could not be reached (CC-2026-0042 waiting).",
            "since": date(2026, 12, 3),
        },
    }
    if name:
        return dict(extras.get(name, {}))
    merged: dict[str, Any] = {}
    for values in extras.values():
        merged.update(values)
    return merged


def sample_context(name: str = "") -> dict[str, Any]:
    """A complete example context with invented data; `extra` holds what template `name` needs.

    With no name, `extra` merges every template's extras (where two templates share a key,
    the value suits both when used as a truth value).
    """
    provider = {"name": "Meadowbank Care Ltd", "contract_reference": "ASC-HC-2024-017"}
    officer = {"name": "Priya Shah", "email": "priya.shah@council.example"}
    referrer = {"name": "Tom Ellis", "email": "tom.ellis@council.example"}
    concern = (
        "Dear Contract Management Team,\n\n"
        "Following the conclusion of the safeguarding enquiry on 2 November, I am raising a\n"
        "concern about repeated missed evening calls for a resident at Meadowbank.\n\n"
        "Tom Ellis\nSocial Worker"
    )
    copy = (
        "Following the conclusion of the safeguarding enquiry on 2 November, I am raising a\n"
        "concern about repeated missed evening calls for a resident at Meadowbank."
    )
    deadline = {
        "name": "provider_response",
        "step": "3",
        "title": "Provider response to the concern letter",
        "due": date(2026, 12, 17),
        "explanation": "14 days after the concern letter of 3 December 2026",
    }
    return {
        "council": {
            "name": "Example Borough Council",
            "team_name": "Contract Management Team",
            "team_address": "Town Hall\nHigh Street\nExampleton EX1 1AA",
        },
        "recipient": {
            "name": "Alex Morgan",
            "email": "alex.morgan@meadowbank.example",
            "job_title": "Registered Manager",
            "organisation": "Meadowbank Care Ltd",
            "address": ["1 Mill Lane", "Exampleton", "EX2 2BB"],
        },
        "letterhead": False,
        "case": {
            "reference": "CC-2026-0042",
            "stage": "awaiting_provider",
            "stage_title": "Awaiting the provider's response",
            "step": "3",
            "opened_on": date(2026, 12, 1),
            "received_day": date(2026, 12, 1),
            "subject": "Concern: missed evening calls at Meadowbank",
            "concern_text": concern,
            "concern_copy": copy,
            "referrer_withheld": True,
            "copy_enclosures": ["call-log.pdf"],
            "referral_attachments": ["call-log.pdf"],
            "concern_from": dict(referrer),
            "referrer": referrer,
            "provider": provider,
            "officer": officer,
            "screening": {
                "proposal": "eligible",
                "reasons": [
                    "the safeguarding enquiry has concluded",
                    "the concern is less than 6 months old",
                ],
            },
            "conclusion": "The provider missed four evening calls in October.",
            "recommendation": "Agree an improvement plan with the provider.",
            "remedial_actions": [
                {"action": "Review the rota for evening calls", "due": date(2027, 1, 15)},
                {"action": "Refresher training for care staff", "due": None},
            ],
            "decision": "agreed",
            "alternative": "",
            "more_info": "Please obtain the call monitoring logs for October.",
            "default_notice": False,
            "dispute": {
                "grounds_text": "Two of the calls were cancelled by the family.",
                "outcome": "rejected",
                "reasons": "The call logs show no cancellation.",
            },
            "follow_up_due": date(2027, 1, 29),
            "default_reason": "",
            "deadlines": [
                {
                    "name": "screening",
                    "step": "1",
                    "title": "Screen the concern",
                    "due": date(2026, 12, 1),
                    "explanation": "the same working day as receipt",
                    "overdue": False,
                    "status": "met",
                },
                {
                    "name": "concern_letter",
                    "step": "3",
                    "title": "Send the concern letter",
                    "due": date(2026, 12, 3),
                    "explanation": "2 working days from receipt",
                    "overdue": False,
                    "status": "met",
                },
                dict(deadline, overdue=False, status="pending"),
            ],
        },
        "deadline": deadline,
        "mail": {
            "sender": "alex.morgan@meadowbank.example",
            "sender_name": "Alex Morgan",
            "subject": "RE: [CC-2026-0042] Contract concern",
            "text": "We do not accept the allegations.\nOur logs show the calls took place.",
        },
        "today": date(2026, 12, 3),
        "extra": _sample_extra(name),
    }

