"""The deadline tick: a case that fails is left as it was, and the others' deadlines fire."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from referrals import refer

from bot.clock import LONDON
from bot.demo.harness import Workspace

START = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)  # a Tuesday
REMINDERS = datetime(2026, 12, 1, 14, 5, tzinfo=LONDON)  # after internal_reminder_time


def screening(case: Any) -> str:
    return next(d.status for d in case.deadlines if d.name == "screening")


def test_a_case_that_fails_in_the_tick_is_left_as_it_was_and_fires_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = Workspace(tmp_path / "ws", START)
    try:
        refer(space, ("Oakview Care Home", "Brightpath Home Care"), START)
        space.run(START + timedelta(minutes=5))
        app = space.app
        broken, fine = sorted(v.reference for v in app.cases.views())
        assert {screening(app.cases.get(r)) for r in (broken, fine)} == {"pending"}

        queue = app.handler.queue_outcome

        def failing(outcome: Any, *args: Any, **kwargs: Any) -> Any:
            if outcome.case.reference == broken:
                raise RuntimeError("a template that cannot be read")
            return queue(outcome, *args, **kwargs)

        monkeypatch.setattr(app.handler, "queue_outcome", failing)
        space.clock.set(REMINDERS)
        report = app.tick()
        assert report.cases_changed == [fine]
        # The broken case was changed in memory before the failure; none of it is kept.
        assert screening(app.cases.get(broken)) == "pending"
        assert screening(app.cases.get(fine)) == "fired"
        errors = [e for e in app.store.audit_entries(broken) if e["event"] == "tick-error"]
        assert [e["error"] for e in errors] == ["RuntimeError"]

        monkeypatch.setattr(app.handler, "queue_outcome", queue)
        space.clock.set(REMINDERS + timedelta(minutes=1))
        again = app.tick()
        assert again.cases_changed == [broken]  # fired now, and the other not a second time
        assert screening(app.cases.get(broken)) == "fired"
        # One reminder a case, each sent once.
        sent = [raw for raw in space.server.folder("sent") if b"Due: Screen the concern" in raw]
        assert sorted(ref for raw in sent for ref in (broken, fine) if ref.encode() in raw) == [
            broken, fine
        ]  # fmt: skip
    finally:
        space.close()
