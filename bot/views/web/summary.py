"""One line of the case list: what a case shows and is searched by, and its days left at `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.procedure.case import Case
from bot.rules import Rules


@dataclass(frozen=True)
class DueView:
    """A live deadline as the list needs it (pending, or fired with nothing acted on yet)."""

    title: str
    step: str
    due: date
    status: str
    event: str | None


@dataclass(frozen=True)
class CaseSummary:
    """Everything the case list, its filters and its search need, without the whole case."""

    reference: str
    status: str
    stage: str
    stage_order: int
    stage_label: str  # "Step 3: Awaiting the provider's response"
    provider_id: str
    provider_name: str
    officer_id: str
    officer_name: str
    opened: date
    deadlines: tuple[DueView, ...]  # live ones only
    next_title: str
    next_due: date | None
    search_text: str  # lower case: reference, provider, referrer, subject, the concern's words


@dataclass(frozen=True)
class Standing:
    """Where a case stands at one moment: next deadline, working days left, overdue."""

    days_left: int | None  # working days to the next deadline; negative when past it
    overdue: bool  # any live deadline past its day's close of business
    due_this_week: bool


def summarise(case: Case, rules: Rules) -> CaseSummary:
    config = rules.config
    provider = config.provider(case.provider_id) if case.provider_id else None
    officer = config.person(case.officer_id) if case.officer_id else None
    stages = list(rules.procedure.stages)
    stage = rules.procedure.stages.get(case.stage)
    live = tuple(
        DueView(d.title, d.step, d.due, d.status, d.event)
        for d in case.deadlines
        if d.status == "pending" or (d.status == "fired" and not d.event)
    )
    # The next thing due: a live deadline, so one that has fired and is still not done (an
    # overdue screening) counts as well as those still to come.
    nxt = min(live, key=lambda d: d.due) if live else None
    words = (
        case.reference,
        provider.name if provider else "",
        case.referrer,
        case.referrer_name,
        case.subject,
        case.concern_text,
    )
    return CaseSummary(
        reference=case.reference,
        status=case.status,
        stage=case.stage,
        stage_order=stages.index(case.stage) if case.stage in stages else len(stages),
        stage_label=f"Step {stage.step}: {stage.title}" if stage else case.stage,
        provider_id=case.provider_id or "",
        provider_name=provider.name if provider else "",
        officer_id=case.officer_id or "",
        officer_name=officer.name if officer else "",
        opened=case.received_day,
        deadlines=live if case.status == "open" else (),
        next_title=nxt.title if nxt and case.status == "open" else "",
        next_due=nxt.due if nxt and case.status == "open" else None,
        search_text=" ".join(" ".join(words).lower().split()),
    )


class Judge:
    """Days left and overdue at one moment, remembered per due day: thousands of cases share
    a few dozen due days, so a list of 10,000 cases costs a few dozen calendar sums."""

    def __init__(self, rules: Rules, now: datetime) -> None:
        self.engine = rules.engine()
        self.now = now
        self.today = now.astimezone(self.engine.calendar.zone).date()
        self.week_end = self.today + timedelta(days=6 - self.today.weekday())
        self._days: dict[date, int] = {}
        self._late: dict[date, bool] = {}
        self._standing: dict[date | None, Standing] = {}

    def days_left(self, due: date) -> int:
        if due not in self._days:
            self._days[due] = self.engine.calendar.working_days_between(self.today, due)
        return self._days[due]

    def late(self, deadline: DueView) -> bool:
        if deadline.status == "fired" and deadline.event:
            return False
        if deadline.due not in self._late:
            self._late[deadline.due] = self.engine.is_overdue(deadline, self.now)
        return self._late[deadline.due]

    def standing(self, summary: CaseSummary) -> Standing:
        """The next deadline is the earliest live one, so it alone says whether the case is
        overdue: the standing depends on that day only."""
        due = summary.next_due
        found = self._standing.get(due)
        if found is None:
            found = Standing(
                days_left=self.days_left(due) if due else None,
                overdue=due is not None and self.late(DueView("", "", due, "pending", None)),
                due_this_week=due is not None and self.today <= due <= self.week_end,
            )
            self._standing[due] = found
        return found
