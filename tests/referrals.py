"""Referrals for tests that need a few cases open: one a provider, a minute apart."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.demo.harness import Workspace


def refer(space: Workspace, providers: Iterable[str], start: datetime) -> None:
    """Email one referral naming each provider, from referrers of the NHS, a minute apart."""
    for n, provider in enumerate(providers):
        space.email(
            f"referrer{n}@nhs.example",
            f"Concern about {provider}",
            f"I am raising a contract concern about {provider}: missed visits.",
            at=start + timedelta(minutes=n),
        )
