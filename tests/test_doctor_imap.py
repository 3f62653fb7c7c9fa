"""`doctor` on an IMAP and SMTP mail system (Dovecot and a local SMTP server): reading and
sending are two logins, and each is checked on its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from backends.imap import ImapHarness, running

from bot.clock import LONDON, Clock, FixedClock
from bot.config import Config
from bot.demo.harness import copy_example
from bot.mailbox.base import Mailbox
from bot.mailbox.imap import ImapMailbox
from bot.mailbox.state import MemoryState
from bot.operations.doctor import Finding, report
from bot.operations.doctor_run import diagnose

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    copy_example(tmp_path, source=PROJECT)
    return tmp_path / "config.yaml"


@pytest.fixture
def imap(tmp_path: Path) -> Iterator[ImapHarness]:
    with running(tmp_path) as harness:
        yield harness


def run_doctor(
    config_path: Path, imap: ImapHarness, *, smtp_password: str | None = None
) -> dict[str, Finding]:
    def opened(config: Config, clock: Clock) -> Mailbox:
        reading, sending = imap.endpoints()
        if smtp_password is not None:  # the account may read, but its sending secret is wrong
            sending = replace(sending, password=smtp_password)
        box = ImapMailbox(
            reading,
            sending,
            imap.address,
            imap.team_address,
            imap.drive,
            clock=clock,
            state=MemoryState(),
        )
        imap.clients.append(box)  # closed with the harness
        return box

    findings = diagnose(config_path, FixedClock(NOW), opened)
    return {finding.check: finding for finding in findings}


def test_an_imap_mailbox_set_up_right_reads_and_sends_to_itself(
    config_path: Path, imap: ImapHarness
) -> None:
    found = run_doctor(config_path, imap)
    assert found["mailbox"].verdict == "ok" and "reachable (inbox)" in found["mailbox"].detail
    assert found["send mail"].verdict == "ok"
    [arrived] = imap.folder("inbox")  # through the SMTP server into the mailbox itself
    assert b"X-Contract-Concerns-Loop: doctor" in arrived
    assert report(list(found.values()))[1] == 0


def test_a_wrong_sending_password_fails_the_send_check_alone(
    config_path: Path, imap: ImapHarness
) -> None:
    found = run_doctor(config_path, imap, smtp_password="not-the-password")
    assert found["mailbox"].verdict == "ok"
    assert found["send mail"].verdict == "fail" and "refused" in found["send mail"].detail
    assert "smtp_password_env" in found["send mail"].fix
    assert imap.folder("inbox") == []
    assert report(list(found.values()))[1] == 1
