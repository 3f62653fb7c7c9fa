"""Read-only views: open cases, one case's timeline, and how an email reads."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from bot.app import Rules
from bot.cases import CaseIndex
from bot.clock import Clock
from bot.intake.reading import read_mail
from bot.procedure.case import Case
from bot.procedure.engine import Engine
from bot.store import Store


class _NoCases:
    """What the views see before the bot has ever run: no store, no cases."""

    def __init__(self) -> None:
        self.participants: dict[str, set[str]] = {}

    def open(self) -> list[Case]:
        return []

    def get(self, reference: str) -> Case | None:
        return None


def _open(config_path: Path) -> tuple[Rules, Store | None, CaseIndex | _NoCases]:
    rules = Rules.load(config_path)
    directory = rules.config.store.directory
    if not directory.exists():
        return rules, None, _NoCases()
    # Read-only: works beside a running daemon and never writes.
    store = Store(directory, read_only=True)
    return rules, store, CaseIndex(store)


def _close(store: Store | None) -> None:
    if store is not None:
        store.close()


def _fmt(moment: datetime, engine: Engine) -> str:
    return moment.astimezone(engine.calendar.zone).strftime("%a %d %b %Y %H:%M")


def show_cases(config_path: Path, clock: Clock) -> int:
    rules, store, cases = _open(config_path)
    engine = rules.engine()
    now = clock.now()
    rows = []
    for case in cases.open():
        nxt = case.next_deadline()
        overdue = [d.title for d in case.deadlines if engine.is_overdue(d, now)]
        provider = rules.config.provider(case.provider_id) if case.provider_id else None
        stage = rules.procedure.stages[case.stage]
        rows.append(
            (
                nxt.due.isoformat() if nxt else "9999",
                case.reference,
                provider.name if provider else "(no provider yet)",
                f"{stage.step} {stage.title}",
                f"{nxt.due:%a %d %b %Y} {nxt.title}" if nxt else "-",
                ", ".join(overdue) or "-",
            )
        )
    _close(store)
    if not rows:
        print("no open cases")
        return 0
    header = ("REFERENCE", "PROVIDER", "STAGE", "NEXT DEADLINE", "OVERDUE")
    table = [header, *[row[1:] for row in sorted(rows)]]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    for row in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"{len(rows)} open case(s)")
    return 0


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
    for entry in case.timeline:
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


def show_case(config_path: Path, reference: str, clock: Clock) -> int:
    from bot.intake.threading import normalise

    rules, store, cases = _open(config_path)
    case = cases.get(normalise(reference))
    _close(store)
    if case is None:
        print(f"no case {reference}")
        return 1
    print(render_case(case, rules, clock.now()))
    return 0


def inspect_file(config_path: Path, file: Path) -> int:
    rules, store, cases = _open(config_path)
    raw = file.read_bytes()
    received = datetime.fromtimestamp(file.stat().st_mtime, rules.engine().calendar.zone)
    reading = read_mail(
        raw,
        received,
        config=rules.config,
        rules=rules.classification,
        get_case=cases.get,
        participant_cases=cases.participants,
    )
    _close(store)
    print(json.dumps(reading.to_json(), indent=2, ensure_ascii=False))
    return 0
