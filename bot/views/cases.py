"""`cases`: the open cases as a table, and one case's timeline and deadlines."""

from __future__ import annotations

from bot.clock import Clock
from bot.views.reader import Reader
from bot.views.timeline import render_case


def show_cases(reader: Reader, clock: Clock) -> int:
    """Print the open cases, soonest deadline first; 0."""
    rules = reader.rules
    engine = rules.engine()
    now = clock.now()
    rows = []
    for case in reader.cases.open() if reader.cases else []:
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


def show_case(reader: Reader, reference: str, clock: Clock) -> int:
    """Print one case's timeline and deadlines; 1 when there is no such case."""
    from bot.intake.threading import normalise  # here: the list of cases never needs it

    case = reader.cases.get(normalise(reference)) if reader.cases else None
    if case is None:
        print(f"no case {reference}")
        return 1
    print(render_case(case, reader.rules, clock.now()))
    return 0
