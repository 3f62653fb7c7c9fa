"""Who gave the bot a set of commands, when, and how: by email or from the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.classify.reading import Reading


@dataclass(frozen=True)
class Origin:
    """Who gave a set of commands, when, and how: by email, or from the dashboard."""

    sender: str  # their address ("" for the local operator of a dashboard without sign-in)
    name: str
    at: datetime  # when the email was received, or the dashboard form sent
    ref: str  # the email's Message-ID, or the dashboard instruction's id
    source: str = "email"  # email | dashboard
    reading: Reading | None = None  # the email, when there is one

    @property
    def who(self) -> str:
        """How the timeline and the receipt name them."""
        person = self.sender or self.name
        return f"{person} from the dashboard" if self.source == "dashboard" else person
