"""The command line as an operator uses it: lint, once --now, cases, cases show, inspect."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import LONDON
from bot.demo.harness import copy_example

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    copy_example(tmp_path, source=PROJECT)
    return tmp_path


def referral(path: Path) -> Path:
    message = EmailMessage()
    message["From"] = "Sam Ward <sam.ward@council.example>"
    message["To"] = "contract.concerns@council.example"
    message["Subject"] = "Concern about Oakview Care Home"
    message["Message-ID"] = "<referral-1@council.example>"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message.set_content("Oakview Care Home missed medication. The safeguarding enquiry concluded.")
    path.write_bytes(bytes(message))
    return path


def test_lint_passes_on_the_example(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(workspace / "config.yaml"), "lint"]) == 0
    assert "ok" in capsys.readouterr().out


def test_lint_names_file_line_and_fix(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = workspace / "config.yaml"
    config.write_text(
        config.read_text().replace("poll_interval_seconds:", "poll_intervall_seconds:")
    )
    assert main(["--config", str(config), "lint"]) == 1
    out = capsys.readouterr().out
    line = next(i for i, t in enumerate(config.read_text().splitlines(), 1) if "intervall" in t)
    assert f"config.yaml:{line}:" in out and "poll_interval_seconds" in out


def test_once_then_cases(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime

    from bot.clock import LONDON
    from bot.mailbox.maildir import LocalMailbox

    config = str(workspace / "config.yaml")
    mailbox = LocalMailbox(
        workspace / "var/mailbox",
        "contract.concerns@council.example",
        "contract.management@council.example",
        workspace / "var/shared-drive",
    )
    mailbox.deliver(
        referral(workspace / "r.eml").read_bytes(), datetime(2026, 12, 1, 10, 0, tzinfo=LONDON)
    )
    assert main(["--config", config, "once", "--now", "2026-12-01T10:05"]) == 0
    assert "1 handled" in capsys.readouterr().out
    assert main(["--config", config, "cases", "--now", "2026-12-01T10:06"]) == 0
    listing = capsys.readouterr().out
    assert "CC-2026-0001" in listing and "Oakview Care Home Ltd" in listing
    assert main(["--config", config, "cases", "show", "cc-2026-0001"]) == 0
    shown = capsys.readouterr().out
    assert "Screen the concern" in shown and "Tue 01 Dec 2026" in shown


def test_a_read_only_command_ends_at_once_with_its_output_whole(workspace: Path) -> None:
    """`python -m bot cases` skips the interpreter's teardown: what it printed still arrives
    whole through a pipe, and its exit status is kept."""
    import os
    import subprocess
    import sys

    from bot.demo.harness import Workspace

    start = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
    space = Workspace(workspace / "ws", start)
    for n in range(40):  # a listing that waits in stdout's buffer until the end
        space.email(f"referrer{n}@nhs.example", f"Concern {n}: Oakview Care Home",
                    f"I am raising a contract concern about Oakview Care Home, visit {n}.",
                    at=start + timedelta(minutes=n))
    space.run(start + timedelta(hours=1))
    space.close()
    config = str(workspace / "ws" / "config.yaml")

    # Block-buffered output, as in a person's pipe: what the process ends without flushing
    # is lost.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", "--config", config, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)

    listed = bot("cases", "--now", "2026-12-01T11:00")
    assert listed.returncode == 0, listed.stderr
    references = re.findall(r"^CC-2026-\d{4}", listed.stdout, flags=re.MULTILINE)
    assert sorted(references) == [f"CC-2026-{n:04d}" for n in range(1, 41)]
    assert listed.stdout.endswith("\n40 open case(s)\n"), listed.stdout[-200:]
    missing = bot("cases", "show", "CC-2026-0099")
    assert missing.returncode == 1 and "no case CC-2026-0099" in missing.stdout + missing.stderr


def test_inspect_reads_without_changing_state(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(workspace / "config.yaml")
    assert main(["--config", config, "once", "--now", "2026-12-01T09:00"]) == 0
    capsys.readouterr()
    store = workspace / "var/store/open.json"
    before = store.read_bytes()
    assert main(["--config", config, "inspect", str(referral(workspace / "r.eml"))]) == 0
    reading = json.loads(capsys.readouterr().out)
    assert reading["kind"] == "new_referral"
    assert reading["sender_role"] == "referrer"
    assert reading["automated"]["automated"] is False
    assert reading["rules_hit"]
    assert store.read_bytes() == before


def test_daemon_stops_cleanly_on_interrupt(workspace: Path) -> None:
    import signal
    import subprocess
    import sys

    daemon = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(workspace / "config.yaml"), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        assert "polling contract.concerns@council.example" in daemon.stdout.readline()
        # A second bot on the same data refuses to start, and says why.
        second = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(workspace / "config.yaml"), "once"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert "another bot is running" in second.stderr
        daemon.send_signal(signal.SIGINT)
        assert daemon.wait(timeout=30) == 0
        assert "stopped" in daemon.stdout.read()
    finally:
        if daemon.poll() is None:
            daemon.kill()


def test_config_may_follow_the_command(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace.parent)  # no ./config.yaml here: only the option finds it
    config = str(workspace / "config.yaml")
    assert main(["lint", "--config", config]) == 0
    assert main(["once", "--now", "2026-12-01T09:00", "--config", config]) == 0
    assert main(["cases", "--config", config]) == 0
    assert main(["status", "--config", config, "--now", "2026-12-01T09:01"]) in (0, 1)
    out = capsys.readouterr().out
    assert "ok" in out and "poll: 0 fetched" in out and "no open cases" in out
    # Given in both places, the one after the command wins.
    assert main(["--config", "nowhere.yaml", "lint", "--config", config]) == 0


def test_a_maildir_with_a_broken_folder_stops_once_with_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(workspace / "config.yaml")
    assert main(["--config", config, "once", "--now", "2026-12-01T09:00"]) == 0
    (workspace / "var/mailbox/inbox/tmp").rmdir()  # missing: made again
    assert main(["--config", config, "once", "--now", "2026-12-01T09:05"]) == 0
    (workspace / "var/mailbox/inbox/tmp").rmdir()
    (workspace / "var/mailbox/inbox/tmp").write_text("a file where a folder belongs")
    capsys.readouterr()
    assert main(["--config", config, "once", "--now", "2026-12-01T09:10"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "var/mailbox/inbox/tmp is broken" in err


def test_lint_makes_a_sample_pdf_letter_and_names_what_breaks_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = workspace / "templates" / "_letter.html.j2"
    layout.write_text(layout.read_text().replace("{{ reference }}", "{{ letterhead.crest }}"))
    assert main(["lint", "--config", str(workspace / "config.yaml")]) == 1
    out = capsys.readouterr().out
    assert f"{layout}:1: _letter.html.j2: a sample letter could not be made into a PDF" in out
    assert "crest" in out
