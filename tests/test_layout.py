"""The layout holds: one composition root, handling callable without it, folders documented."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from bot.actions.outbox import Outbox
from bot.classify.reading import Reading, read_mail
from bot.clock import LONDON
from bot.demo.harness import copy_example
from bot.handling.handle import Handler
from bot.handling.poll import Poller
from bot.mailbox.maildir import LocalMailbox
from bot.rules import Rules
from bot.store import Store
from bot.store.case_index import CaseIndex

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bot"
# The command line, the entry point, the composition root and two small shared modules.
TOP_LEVEL = {"__init__", "__main__", "cli", "app", "clock", "rules"}
AT = datetime(2026, 12, 1, 9, 30, tzinfo=LONDON)
OPENED = "opened"  # what handling reports for an email that opened a new case


def test_only_the_agreed_modules_sit_at_the_top_of_the_package() -> None:
    found = {path.stem for path in PACKAGE.glob("*.py")}
    assert found <= TOP_LEVEL, f"move {sorted(found - TOP_LEVEL)} into a folder"


def test_every_folder_says_what_it_is_for_in_one_line() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init.relative_to(ROOT)} has no docstring"
        assert "\n" not in doc.strip(), f"{init.relative_to(ROOT)}: keep it to one line"


def test_importing_the_poll_does_not_build_or_import_the_application() -> None:
    probe = (
        "import sys, bot.handling.poll, bot.upkeep.daemon, bot.views.status; "
        "print(sorted(m for m in sys.modules if m in ('bot.app', 'bot.cli')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_one_poll_runs_with_a_maildir_a_store_and_the_rules_alone(tmp_path: Path) -> None:
    copy_example(tmp_path, source=ROOT)
    rules = Rules.load(tmp_path / "config.yaml")
    config = rules.config
    assert config.mailbox.local is not None
    mailbox = LocalMailbox(
        config.mailbox.local.directory,
        config.mailbox.address,
        config.council.team_address,
        config.shared_drive,
    )
    store = Store(config.store.directory)
    try:
        cases = CaseIndex(store)
        engine = rules.engine()
        outbox = Outbox(config, rules.procedure, rules.renderer, store, None)

        def read(
            raw: bytes, received: datetime, placed_by: tuple[str, str] | None = None
        ) -> Reading:
            return read_mail(
                raw,
                received,
                config=config,
                rules=rules.classification,
                get_case=cases.get,
                participant_cases=cases.participants,
                placed_by=placed_by,
            )

        handler = Handler(
            config=config,
            engine=engine,
            outbox=outbox,
            store=store,
            cases=cases,
            policy=rules.policy,
            reread=read,
        )
        poller = Poller(
            mailbox=mailbox,
            store=store,
            cases=cases,
            outbox=outbox,
            handler=handler,
            read=read,
            limits=config.limits,
            start=datetime.combine(config.start_date, datetime.min.time(), LONDON),
        )
        message = EmailMessage()
        message["From"] = "sam.ward@council.example"
        message["To"] = config.mailbox.address
        message["Subject"] = "Concern about Oakview Care Home"
        message["Date"] = format_datetime(AT)
        message["Message-ID"] = make_msgid(domain="council.example")
        message.set_content("Residents at Oakview Care Home missed their medication rounds.")
        mailbox.deliver(message.as_bytes(), AT)

        report = poller.poll(AT.replace(minute=31))

        assert report.fetched == 1 and not report.quarantined
        [(_, outcome, reference)] = report.handled
        assert outcome == OPENED, outcome
        assert reference is not None and cases.get(reference) is not None
        assert store.outbox_pending(), "the acknowledgement waits in the outbox, committed"
        assert mailbox.fetch_new(poller.start) == [], "the email left the inbox"
    finally:
        store.close()
