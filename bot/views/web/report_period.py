"""The Reports page's choice of period, from its form's query: a named period or two dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from bot.views.reports.period import Period, financial_year_of, month, previous_month, quarter

CHOICES = (
    ("this-month", "This month"),
    ("last-month", "Last month"),
    ("this-quarter", "This quarter"),
    ("this-year", "This financial year, from 1 April"),
    ("dates", "Choose the dates"),
)
DEFAULT = "this-month"
PARTS = ("day", "month", "year")
ENDS = {"from": "the date the report starts from", "to": "the date the report ends on"}
MAX_YEARS = 5  # a longer report is a page of hundreds of months nobody reads


@dataclass
class PeriodForm:
    """What the form holds (to show it again) and, when it reads, the period."""

    choice: str = DEFAULT
    values: dict[str, str] = field(default_factory=dict)  # "from-day" -> what was typed
    errors: dict[str, str] = field(default_factory=dict)  # first field in error -> message
    error_fields: set[str] = field(default_factory=set)  # every input to mark in error
    period: Period | None = None

    def message(self, end: str) -> str:
        """The error to show in one end's fieldset ("" when it reads)."""
        return next((m for key, m in self.errors.items() if key.startswith(f"{end}-")), "")

    def query(self) -> str:
        """The same choice as a query string, for the download links."""
        params = {"period": self.choice}
        if self.choice == "dates":
            params.update(self.values)
        return urlencode(params)


def quarter_of(day: date) -> Period:
    """The financial quarter (April to June is the first) that `day` is in."""
    year = day.year if day.month >= 4 else day.year - 1
    return quarter(year, (day.month - 4) % 12 // 3 + 1)


def named(choice: str, today: date) -> Period:
    if choice == "last-month":
        return previous_month(today)
    if choice == "this-quarter":
        return quarter_of(today)
    if choice == "this-year":
        return financial_year_of(today)
    return month(today.year, today.month)


def read_form(query: Mapping[str, str], today: date) -> PeriodForm:
    """The period the query asks for, or the errors to show, GOV.UK style."""
    choice = query.get("period", DEFAULT)
    if choice not in dict(CHOICES):
        choice = DEFAULT
    form = PeriodForm(choice)
    if choice != "dates":
        form.period = named(choice, today)
        return form
    form.values = {
        f"{end}-{part}": query.get(f"{end}-{part}", "").strip()[:10]
        for end in ENDS
        for part in PARTS
    }
    days = {end: _date(form, end) for end in ENDS}
    start, end = days["from"], days["to"]
    if start is None or end is None:
        return form
    if end < start:
        _error(form, "to", PARTS, f"{ENDS['to'].capitalize()} must be the same as or after "
               f"{ENDS['from']}")  # fmt: skip
    elif end.year - start.year > MAX_YEARS or (end - start).days > 366 * MAX_YEARS:
        _error(form, "from", PARTS, f"The report can cover at most {MAX_YEARS} years")
    else:
        form.period = Period(start, end)
    return form


def _date(form: PeriodForm, end: str) -> date | None:
    """One end's date from its three inputs; None with the error recorded when it does not read."""
    what = ENDS[end]
    typed = {part: form.values[f"{end}-{part}"] for part in PARTS}
    missing = tuple(part for part in PARTS if not typed[part])
    if len(missing) == len(PARTS):
        _error(form, end, PARTS, f"Enter {what}")
        return None
    if missing:
        names = " and a ".join(missing)
        _error(form, end, missing, f"{what.capitalize()} must include a {names}")
        return None
    if not all(typed[part].isdigit() for part in PARTS):
        wrong = tuple(part for part in PARTS if not typed[part].isdigit())
        _error(form, end, wrong, f"{what.capitalize()} must be a real date")
        return None
    if len(typed["year"]) != 4:
        _error(form, end, ("year",), "Year must include 4 numbers")
        return None
    try:
        return date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
    except ValueError:
        _error(form, end, PARTS, f"{what.capitalize()} must be a real date")
        return None


def _error(form: PeriodForm, end: str, parts: tuple[str, ...], message: str) -> None:
    """The summary links to the first input in error (GOV.UK's date input pattern)."""
    form.errors[f"{end}-{parts[0]}"] = message
    form.error_fields.update(f"{end}-{part}" for part in parts)
