"""Pages from Jinja2 templates (always escaped) in the dashboard's layout, and dates for people."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.clock import LONDON
from bot.views.web.auth_pages import AuthPage
from bot.views.web.csrf import csrf_field

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
FLASH_KEY = "flash"
NAVIGATION = (
    ("cases", "/cases", "Cases"),
    ("triage", "/triage", "Triage"),
    ("workload", "/workload", "Workload"),
    ("reports", "/reports", "Reports"),
    ("procedure", "/procedure", "Procedure"),
    ("health", "/health", "Health"),
)


def long_date(value: date | datetime | None) -> str:
    """'Friday 9 April 2027', the GOV.UK style, whatever the server's locale."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {_MONTHS[value.month - 1][:3]} {value.year}"


def date_time(value: datetime | str | None) -> str:
    """'9 Apr 2027 10:15' in London time; stored ISO strings are read first."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{short_date(local)} {local:%H:%M}"


def days_left(value: int | None, overdue: bool) -> str:
    if value is None:
        return ""
    if value < 0 or (overdue and value == 0):
        late = -value
        return "Overdue today" if late == 0 else f"Overdue by {late} working day{'s'[: late != 1]}"
    if value == 0:
        return "Due today"
    return f"{value} working day{'s'[: value != 1]} left"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        long_date=long_date, short_date=short_date, date_time=date_time, days_left=days_left
    )
    return env


class Pages:
    """Renders a template in the layout, with the person, the navigation and the form token."""

    def __init__(self, council: str) -> None:
        self.env = environment()
        self.council = council

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> Response:
        user = getattr(request.state, "user", None)
        flash = request.session.pop(FLASH_KEY, None) if "session" in request.scope else None
        html = self.env.get_template(template).render(
            user=user,
            council=self.council,
            navigation=NAVIGATION,
            section=context.pop("section", ""),
            csrf_field=csrf_field(request) if "session" in request.scope else "",
            flash=flash if isinstance(flash, str) else None,
            errors=context.pop("errors", {}),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def auth_page(self, request: Request, page: AuthPage, status_code: int) -> Response:
        """Sign-in and form-refused pages, in the dashboard's own layout."""
        return self.render(request, "auth_page.html", status_code, page=page)


def flash(request: Request, message: str) -> None:
    """A one-line notice for the next page (it must hold no personal data: it is a cookie)."""
    request.session[FLASH_KEY] = message
