"""Concerns made up for the tests that run the bot through a backlog: a referrer each."""

from __future__ import annotations

from datetime import datetime

from bot.demo.harness import Workspace

PROVIDERS = ["Oakview Care Home", "Brightpath Homecare", "Riverside Living"]


def concern(ws: Workspace, n: int, at: datetime) -> None:
    """Concern number `n` about one of PROVIDERS, from its own referrer, arriving `at`."""
    provider = PROVIDERS[n % len(PROVIDERS)]
    body = (
        f"Dear Contract Management Team,\n\nI am raising a contract concern about {provider}. "
        f"Visit {n} was cut short.\n\nThe safeguarding enquiry has concluded and found the "
        "concern substantiated.\n\nRegards"
    )
    ws.email(f"referrer{n}@nhs.example", f"Concern {n}: {provider}", body, at=at)
