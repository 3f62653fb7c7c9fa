"""Logs for a log system: one JSON object a line with the case's reference, and no addresses."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import LONDON
from bot.demo.harness import copy_example
from bot.mailbox.maildir import LocalMailbox
from bot.upkeep.logs import REDACTED, configure_logging, redact

PROJECT = Path(__file__).resolve().parents[1]
BODY = "Residents at Oakview Care Home missed their medication rounds on Tuesday."


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_redact_takes_out_every_address_and_keeps_the_rest() -> None:
    text = "sent CC-2026-0001 to Sam.Ward+concerns@council.example and o'neil@care.co.uk ok"
    assert redact(text) == f"sent CC-2026-0001 to {REDACTED} and {REDACTED} ok"


def test_addresses_in_arguments_and_errors_never_reach_the_log(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", stream)
    log = logging.getLogger("bot.test")
    log.warning("mail from %s refused", "hannah.lee@nhs.example")
    try:
        raise ValueError("no such recipient: chris.evans@council.example")
    except ValueError:
        log.exception("send failed")
    written = stream.getvalue()
    assert "@" not in written
    # The message, the traceback's source line and the error itself.
    assert written.count(REDACTED) == 3 and "ValueError" in written


def test_json_lines_carry_the_case_context(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logging.getLogger("bot.test").info(
        "deadline fired", extra={"reference": "CC-2026-0007", "step": "step_4", "event": "tick"}
    )
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "deadline fired" and line["level"] == "INFO"
    assert (line["reference"], line["step"], line["event"]) == ("CC-2026-0007", "step_4", "tick")
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_a_poll_logged_as_json_names_the_case_and_never_the_mail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    copy_example(tmp_path, source=PROJECT)
    message = EmailMessage()
    message["From"] = "Sam Ward <sam.ward@council.example>"
    message["To"] = "contract.concerns@council.example"
    message["Subject"] = "Concern about Oakview Care Home"
    message["Message-ID"] = "<referral-logs@council.example>"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message.set_content(BODY)
    LocalMailbox(
        tmp_path / "var/mailbox",
        "contract.concerns@council.example",
        "contract.management@council.example",
        tmp_path / "var/shared-drive",
    ).deliver(bytes(message), datetime(2026, 12, 1, 10, 0, tzinfo=LONDON))
    config = str(tmp_path / "config.yaml")
    argv = ["--log-format", "json", "--log-level", "info", "--config", config]
    assert main([*argv, "once", "--now", "2026-12-01T10:05"]) == 0
    lines = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    handled = [line for line in lines if line.get("event") == "mail"]
    assert [line.get("reference") for line in handled] == ["CC-2026-0001"]
    # Each letter sent says which, for which case (the digest's is the bot's own, CC-BOT).
    sent = [line for line in lines if line.get("event") == "sent"]
    letters = {line.get("letter") for line in sent if line.get("reference") == "CC-2026-0001"}
    assert {"acknowledgement", "screening_request"} <= letters
    everything = json.dumps(lines)
    assert "@" not in everything and "medication" not in everything
