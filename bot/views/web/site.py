"""The parts every dashboard page uses, built once by the application factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import Clock
from bot.rules import Rules
from bot.views.web.data import DashboardData
from bot.views.web.queries import QueryMemory
from bot.views.web.render import Pages
from bot.views.web.staff import StaffMember


def _no_backlog() -> int | None:
    return None


@dataclass
class Site:
    """Rules, the read-only data, the page renderer, the clock, and remembered searches."""

    rules: Rules
    data: DashboardData
    pages: Pages
    clock: Clock
    queries: QueryMemory = field(default_factory=QueryMemory)
    # How many emails wait in the inbox, for Health; asked by the caller (views never open a
    # mailbox backend themselves).
    backlog: Callable[[], int | None] = _no_backlog

    @classmethod
    def build(
        cls, rules: Rules, clock: Clock, backlog: Callable[[], int | None] | None = None
    ) -> Site:
        pages = Pages(rules.config.council.name)
        return cls(rules, DashboardData(rules), pages, clock, backlog=backlog or _no_backlog)

    def not_found(self, request: Request, what: str = "page") -> Response:
        return self.pages.render(
            request,
            "not_found.html",
            404,
            heading=f"{what[:1].upper()}{what[1:]} not found",
            paragraphs=(f"There is no such {what}. Check the reference or go back to the list.",),
        )


def user_of(request: Request) -> StaffMember:
    """The person, as the sign-in gate put them on the request (always set behind it)."""
    member = request.state.user
    assert isinstance(member, StaffMember)
    return member
