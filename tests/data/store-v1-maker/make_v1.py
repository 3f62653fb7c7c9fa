"""Made the schema-1 store fixture with the bot as it was before issue 12 (see README)."""

import shutil
import sys
from pathlib import Path

from bot.demo.harness import Workspace
from bot.demo.script import SCENES, START, Story, at

root = Path(sys.argv[1])
ws = Workspace(root / "ws", START)
story = Story(ws)
for scene in SCENES:
    scene(story)
until = at("2026-12-01T12:00")
story.steps = [s for s in story.steps if s[0] <= until]
story.play(until)
store = ws.app.store
# One letter left in the outbox, as a crash between commit and delivery leaves it.
store.outbox_add(
    {
        "message_id": "<fixture-pending.cc-2026-0001@council.example>",
        "kind": "file",
        "name": "fixture-note.txt",
        "content": "kept for the migration test",
        "reference": "CC-2026-0001",
        "queued_at": until.isoformat(),
    }
)
note = "the last commit of the old layout"
store.audit({"at": until.isoformat(), "event": "fixture", "note": note})
store.set_meta("fixture", {"made_by": "scripts in tests/data/store-v1/README.md"})
store.commit()
opened = [c.reference for c in ws.app.cases.open()]
print("open", opened, "closed", store.closed_references(), "triage", len(store.triage_items()))
ws.close()
kept = shutil.ignore_patterns("bot.lock")
shutil.copytree(root / "ws" / "var" / "store", root / "store-v1", ignore=kept)
