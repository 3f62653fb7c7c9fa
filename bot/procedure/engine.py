"""The pure procedure engine: apply(case, event) -> (new case, actions). No I/O; time comes in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bot.procedure.case import Case
from bot.procedure.deadlines import Times, set_deadline
from bot.procedure.model import DeadlineSpec, Procedure, TransitionSpec
from bot.procedure.overdue import DeadlineState, is_overdue
from bot.procedure.workdays import WorkCalendar

# Bounds a chain of deadlines all due at once (a bot back after a long outage).
MAX_CHAINED_TIMERS = 50


@dataclass(frozen=True)
class Event:
    """Something that happened to a case: a classified email, a command, or a deadline."""

    name: str
    at: datetime
    args: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # Message-ID of the email, or the deadline's name
    mail_sha: str = ""  # the triggering email as kept in the store


@dataclass(frozen=True)
class Action:
    """A side effect for the composition root to carry out once the new state is stored."""

    kind: Literal["send", "diarise", "save_report", "remind"]
    step: str
    template: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    attach: str | None = None
    deadline: str | None = None
    mail_sha: str = ""
    key: str = ""  # stable part of the outgoing Message-ID: the same action never sends twice
    draft: str | None = None  # template of the provider letter whose draft goes for approval


@dataclass
class Outcome:
    case: Case
    applied: bool
    reason: str = ""
    actions: list[Action] = field(default_factory=list)


class Engine:
    """Applies events to cases according to a Procedure and a WorkCalendar."""

    def __init__(self, procedure: Procedure, calendar: WorkCalendar, times: Times) -> None:
        self.procedure = procedure
        self.calendar = calendar
        self.times = times

    # --- opening ---------------------------------------------------------
    def open_case(self, case: Case, event: Event) -> Outcome:
        """Start a freshly built case (stage unset) at the procedure's start stage."""
        new = case.model_copy(deep=True)
        day, note = self.calendar.effective_day(event.at)
        new.received_day = day
        new.received_note = note
        new.stage = self.procedure.start
        new.note(
            event.at, "mail_in", f"Concern received from {new.referrer}", "1", note, event.source
        )
        outcome = Outcome(new, True)
        self._enter(outcome, self.procedure.start, event, step="1")
        self._run(outcome, self.procedure.opening, event)
        return outcome

    # --- events ------------------------------------------------------------
    def apply(self, case: Case, event: Event) -> Outcome:
        if case.status == "closed":
            return Outcome(case, False, f"case {case.reference} is closed")
        new = case.model_copy(deep=True)
        outcome = Outcome(new, False)
        record = self.procedure.records.get(event.name)
        if record is not None:
            for key, value in record.set.items():
                new.data[key] = self._value(value, event)
            for key, item in record.append.items():
                new.data.setdefault(key, []).append(
                    {k: self._value(v, event) for k, v in item.items()}
                )
            outcome.applied = True
        candidates = [
            t for t in self.procedure.transitions(new.stage, event.name) if self._holds(t.when, new)
        ]
        if not candidates:
            if not outcome.applied:
                stage = self.procedure.stages[new.stage]
                outcome.reason = (
                    f"not expected while the case is at stage {stage.step} ({stage.title})"
                )
            return outcome
        transition = candidates[0]
        missing = self._missing(transition, new)
        if missing:
            outcome.reason = missing
            return outcome if outcome.applied else Outcome(case, False, missing)
        outcome.applied = True
        for key, value in transition.set.items():
            new.data[key] = self._value(value, event)
        if transition.to is not None:
            self._leave(new, event)
            self._enter(outcome, transition.to, event, step=transition.step or "")
        self._run(outcome, transition, event)
        return outcome

    # --- time --------------------------------------------------------------
    def fire_due(self, case: Case, now: datetime, *, owned: bool = False) -> Outcome:
        """Fire every deadline due by `now`, in date order, feeding timer events back in.

        The case is copied first unless the caller `owned` it (read for this alone, held by
        no one else): then it is changed in place, sparing a copy of every case due."""
        if case.status == "closed" or not any(d.fires_at <= now for d in case.pending()):
            return Outcome(case, False)
        outcome = Outcome(case if owned else case.model_copy(deep=True), False)
        for _ in range(MAX_CHAINED_TIMERS):
            due = [d for d in outcome.case.pending() if d.fires_at <= now]
            if not due or outcome.case.status == "closed":
                break
            deadline = min(due, key=lambda d: d.fires_at)
            current = outcome.case
            deadline.status = "fired"
            outcome.applied = True
            if deadline.remind:
                current.note(
                    deadline.fires_at,
                    "reminder",
                    f"Reminder: {deadline.title} is due",
                    deadline.step,
                    deadline.explanation,
                    deadline.name,
                )
                outcome.actions.append(
                    Action(
                        "remind",
                        deadline.step,
                        "internal_reminder",
                        (deadline.remind,),
                        deadline=deadline.name,
                        key=f"remind.{deadline.name}.{deadline.due.isoformat()}",
                    )
                )
                continue
            assert deadline.event is not None
            event = Event(deadline.event, deadline.fires_at, source=deadline.name)
            result = self.apply(current, event)
            if not result.applied:
                current.note(
                    deadline.fires_at,
                    "note",
                    f"{deadline.title}: nothing to do ({result.reason})",
                    deadline.step,
                    ref=deadline.name,
                )
                continue
            outcome.case = result.case
            outcome.actions.extend(result.actions)
        return outcome

    def is_overdue(self, deadline: DeadlineState, now: datetime) -> bool:
        return is_overdue(deadline, now, self.calendar.close_of_business, self.calendar.zone)

    # --- internals ---------------------------------------------------------
    @staticmethod
    def _holds(when: str | None, case: Case) -> bool:
        if not when:
            return True
        negate = when.startswith("not ")
        value = bool(case.data.get(when.removeprefix("not ").strip()))
        return value != negate

    @staticmethod
    def _missing(transition: TransitionSpec, case: Case) -> str:
        for need in transition.require:
            if need == "provider" and not case.provider_id:
                return "the case has no provider yet: add a line 'provider: <name>'"
            if need == "officer" and not case.officer_id:
                return "the case has no officer yet: add a line 'allocate: <officer>'"
            if need.startswith("data.") and not case.data.get(need[5:]):
                field_name = need[5:]
                return f"the case has no {field_name} yet: add a line '{field_name}: ...'"
        return ""

    def _value(self, value: Any, event: Event) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            name = value[1:]
            if name == "today":
                return self.calendar.effective_day(event.at)[0].isoformat()
            found = event.args.get(name)
            return found.isoformat() if isinstance(found, date) else found
        return value

    def _leave(self, case: Case, event: Event) -> None:
        day = self.calendar.effective_day(event.at)[0]
        for deadline in case.deadlines:
            if deadline.scope == "stage" and deadline.status in ("pending", "fired"):
                if deadline.status == "pending" or deadline.remind:
                    deadline.status = "met" if day <= deadline.due else "missed"
                deadline.closed_at = event.at

    def _enter(self, outcome: Outcome, stage_name: str, event: Event, step: str) -> None:
        case = outcome.case
        stage = self.procedure.stages[stage_name]
        previous = case.stage
        case.stage = stage_name
        case.note(
            event.at,
            "stage",
            f"Stage {stage.step}: {stage.title}",
            step or stage.step,
            f"{event.name} at stage {previous}" if previous != stage_name else event.name,
            event.source,
        )
        if stage.final:
            case.status = "closed"
            case.closed_at = event.at
            for deadline in case.deadlines:
                if deadline.status == "pending":
                    deadline.status = "cancelled"
                    deadline.closed_at = event.at
            return
        for spec in stage.deadlines:
            self._set_deadline(case, spec, event, step or stage.step)

    def _run(self, outcome: Outcome, transition: TransitionSpec, event: Event) -> None:
        case = outcome.case
        for spec in transition.deadlines:
            self._set_deadline(case, spec, event, transition.step or "")
        day = self.calendar.effective_day(event.at)[0].isoformat()
        for action in transition.actions:
            if action.record:
                case.note(
                    event.at, "note", action.record.text, action.record.step, ref=event.source
                )
            elif action.cancel:
                for deadline in case.deadlines:
                    if deadline.name in action.cancel and deadline.status == "pending":
                        deadline.status = "cancelled"
                        deadline.closed_at = event.at
            elif action.send:
                send = action.send
                target = case.deadline(send.deadline) if send.deadline else None
                due = target.due.isoformat() if target else day
                step = send.step or transition.step or self.procedure.stages[case.stage].step
                outcome.actions.append(
                    Action(
                        "send",
                        step,
                        send.template,
                        send.to,
                        send.cc,
                        send.attach,
                        send.deadline,
                        event.mail_sha,
                        key=f"s{step}.{send.template}.{due}",
                        draft=send.draft,
                    )
                )
            elif action.diarise:
                target = case.deadline(action.diarise.deadline)
                if target is not None:
                    outcome.actions.append(
                        Action(
                            "diarise",
                            target.step,
                            deadline=target.name,
                            key=f"diary.{target.name}.{target.due.isoformat()}",
                        )
                    )
            elif action.save_report:
                outcome.actions.append(
                    Action(
                        "save_report",
                        action.save_report.step or transition.step or "13",
                        action.save_report.template,
                        key=f"report.{case.stage}.{day}",
                    )
                )

    def _set_deadline(self, case: Case, spec: DeadlineSpec, event: Event, step: str) -> None:
        if not self._holds(spec.when, case):
            return
        known = self.procedure.steps.get(step)
        label = f"step {step}, {known.title.lower()}" if known else event.name
        set_deadline(case, spec, event.at, label, self.calendar, self.times)
