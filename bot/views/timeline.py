"""One case as text: where it stands, its timeline, and every deadline with its reason."""

from __future__ import annotations

from datetime import datetime

from bot.procedure.case import Case
from bot.procedure.engine import Engine
from bot.rules import Rules


def _fmt(moment: datetime, engine: Engine) -> str:
    return moment.astimezone(engine.calendar.zone).strftime("%a %d %b %Y %H:%M")


def render_case(case: Case, rules: Rules, now: datetime) -> str:
    engine = rules.engine()
    provider = rules.config.provider(case.provider_id) if case.provider_id else None
    officer = rules.config.person(case.officer_id) if case.officer_id else None
    stage = rules.procedure.stages[case.stage]
    lines = [
        f"{case.reference}  {case.status}  stage {stage.step}: {stage.title}",
        f"  provider: {provider.name if provider else '-'}"
        f"   officer: {officer.name if officer else '-'}",
        f"  referrer: {case.referrer}"
        f"   received: {case.received_day:%a %d %b %Y} ({case.received_note})",
        f"  screening proposal: {case.screening_proposal} ({'; '.join(case.screening_reasons)})",
        "",
        "Timeline:",
    ]
    for entry in case.ordered_timeline():
        step = f"[{entry.step}]" if entry.step else ""
        lines.append(f"  {_fmt(entry.at, engine)}  {entry.kind:<9} {step:<7} {entry.text}")
        if entry.rule:
            lines.append(f"  {'':>22}{'':<18}  ({entry.rule})")
    lines += ["", "Deadlines:"]
    for deadline in case.deadlines:
        flag = " OVERDUE" if engine.is_overdue(deadline, now) else ""
        lines.append(
            f"  [{deadline.step}] {deadline.title}: {deadline.due:%a %d %b %Y} "
            f"({deadline.status}{flag}) rule: {deadline.rule}"
        )
        lines.append(f"        {deadline.explanation}")
    return "\n".join(lines)
