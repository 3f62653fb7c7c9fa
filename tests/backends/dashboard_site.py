"""The demo's workspace for dashboard tests: its story played, plus a hostile email on a case."""

from __future__ import annotations

import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.demo.script import END, SCENES, START, Story

# The case the demo leaves with its provider, and the one it leaves unscreened.
WITH_PROVIDER = "CC-2027-0002"
UNSCREENED = "CC-2027-0003"
STRANGER_TRIAGE = "T0002"  # the worried relative's email (T0001 was dismissed in the demo)
HOSTILE_SUBJECT = "Questions about the concern"
# What hostile mail tries: scripts, a javascript: link, handlers, a remote image, a frame.
HOSTILE_HTML = (
    "<html><head><style>body{display:none}</style>"
    "<script>window.__pwned = 'script';</script></head><body>"
    "<p onmouseover=\"window.__pwned='handler'\">We have <b>questions</b> about the concern.</p>"
    '<p><a id="js-link" href="javascript:window.__pwned=\'link\'">Click to see our evidence</a></p>'
    '<p><img id="tracker" src="http://127.0.0.1:9/pixel.png" alt="" '
    "onerror=\"window.__pwned='onerror'\"></p>"
    '<iframe src="http://127.0.0.1:9/frame"></iframe>'
    '<p><a href="https://provider.example/evidence">Our evidence</a></p></body></html>'
)
HOSTILE_TEXT = "We have questions <script>window.__pwned='text'</script> about the concern."


def play_demo(root: Path) -> Workspace:
    """The demo's whole story in a workspace under `root`; the bot stays open (the daemon)."""
    ws = Workspace(root, START)
    story = Story(ws)
    for scene in SCENES:
        scene(story)
    story.play(END - timedelta(hours=1))
    hostile_reply(ws, END - timedelta(minutes=50))
    ws.run(END)
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo played (`play_demo`), once per test module, closed after it."""
    workspace = play_demo(tmp_path_factory.mktemp("demo"))
    yield workspace
    workspace.close()


def hostile_reply(ws: Workspace, at: datetime) -> None:
    """The provider's reply on the open case, as HTML with every trick, and an attachment."""
    message = EmailMessage()
    message["From"] = "manager@oakview-care.example"
    message["To"] = ws.app.config.mailbox.address
    message["Subject"] = f"RE: [{WITH_PROVIDER}] {HOSTILE_SUBJECT}"
    message["Date"] = format_datetime(at.astimezone(LONDON))
    message["Message-ID"] = "<hostile.reply@oakview-care.example>"
    message.set_content(HOSTILE_TEXT)
    message.add_alternative(HOSTILE_HTML, subtype="html")
    message.add_attachment(
        b"<html><script>window.__pwned='attachment'</script></html>",
        maintype="text",
        subtype="html",
        filename="evidence.html",
    )
    ws.server.inject(message.as_bytes(policy=email.policy.SMTP), at)
