"""`cases`: the open cases as a table, and one case's timeline and deadlines."""

from __future__ import annotations

from bot.clock import Clock
from bot.procedure.overdue import is_overdue
from bot.views.reader import Reader


def show_cases(reader: Reader, clock: Clock) -> int:
    """Print the open cases, soonest deadline first; 0."""
    listing = reader.listing  # plain data: listing loads neither the rules' models nor pydantic
    now = clock.now()
    rows = []
    # From the summaries the store keeps beside each case: listing parses no case.
    for view in reader.cases.views() if reader.cases else []:
        nxt = view.deadlines[view.next_deadline] if view.next_deadline is not None else None
        late = [d.title for d in view.deadlines if is_overdue(d, now, listing.close_of_business)]
        provider = listing.providers.get(view.provider_id) if view.provider_id else None
        stage = listing.stages.get(view.stage)
        rows.append(
            (
                nxt.due.isoformat() if nxt else "9999",
                view.reference,
                provider or "(no provider yet)",
                f"{stage[0]} {stage[1]}" if stage else view.stage or "?",
                f"{nxt.due:%a %d %b %Y} {nxt.title}" if nxt else "-",
                ", ".join(late) or "-",
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
    from bot.intake.threading import normalise  # here: the list of cases needs neither
    from bot.views.timeline import render_case

    case = reader.cases.get(normalise(reference)) if reader.cases else None
    if case is None:
        print(f"no case {reference}")
        return 1
    print(render_case(case, reader.rules, clock.now()))
    return 0
