"""Template cases for seeding: the demo story played once, open cases snapshotted each day."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.demo.script import END, SCENES, START, Story

# After the day's 08:05 and 09:05 runs: every deadline still pending fires later than this.
SNAPSHOT_TIME = time(9, 30)


@dataclass
class Template:
    """One case as the engine left it, and the day (at SNAPSHOT_TIME) it was taken."""

    doc: dict[str, Any]
    taken: str  # ISO date
    mails: int  # emails the case took in (seen keys a clone carries)
    letters: int  # letters it sent (sent lines a clone carries)


@dataclass
class Library:
    open: list[Template]
    closed: list[Template]
    raw: dict[str, str]  # sha256 -> base64 of kept mail the templates point to (concerns...)

    def save(self, path: Path) -> None:
        data = {
            "open": [asdict(t) for t in self.open],
            "closed": [asdict(t) for t in self.closed],
            "raw": self.raw,
        }
        path.write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Library:
        data = json.loads(path.read_text(encoding="utf-8"))
        opened = [Template(**t) for t in data["open"]]
        return cls(opened, [Template(**t) for t in data["closed"]], data["raw"])


def kept_mail(doc: dict[str, Any]) -> set[str]:
    """The sha256 of every kept email a case points to."""
    shas = {doc.get("concern_sha") or ""} | {d.get("sha") or "" for d in doc.get("documents", [])}
    return {sha for sha in shas if sha}


def _template(doc: dict[str, Any], taken: date) -> Template:
    kinds = [entry.get("kind") for entry in doc.get("timeline", [])]
    mails = sum(kind in ("mail_in", "command", "automated") for kind in kinds)
    letters = sum(kind in ("letter", "reminder") for kind in kinds)
    return Template(doc, taken.isoformat(), max(mails, 1), max(letters, 1))


def build_library(root: Path) -> Library:
    """Play every demo scene (about 3 s), keeping each distinct open state and the closed cases."""
    ws = Workspace(root, START)
    story = Story(ws)
    try:
        for scene in SCENES:
            scene(story)
        steps = sorted(story.steps, key=lambda step: (step[0], step[1]))
        opened: list[Template] = []
        states: set[tuple[str, str, int]] = set()
        day, index = START.date(), 0
        while day <= END.date():
            moment = datetime.combine(day, SNAPSHOT_TIME, LONDON)
            while index < len(steps) and steps[index][0] <= moment:
                ws.advance_to(steps[index][0])
                steps[index][2]()
                index += 1
            if moment > ws.clock.now():
                ws.advance_to(moment)
            for case in ws.app.cases.open():
                state = (case.reference, case.stage, len(case.timeline))
                if day.weekday() < 5 and state not in states:
                    states.add(state)
                    opened.append(_template(case.model_dump(mode="json"), day))
            day = date.fromordinal(day.toordinal() + 1)
        store = ws.app.store
        closed = []
        for reference in store.closed_references():
            doc = store.get_case(reference)
            if doc is not None:
                closed_day = datetime.fromisoformat(doc["closed_at"]).date()
                closed.append(_template(doc, closed_day))
        raw = {
            sha: base64.b64encode(store.load_raw(sha)).decode()
            for template in (*opened, *closed)
            for sha in kept_mail(template.doc)
            if store.raw_path(sha).exists()
        }
        return Library(opened, closed, raw)
    finally:
        ws.close()
