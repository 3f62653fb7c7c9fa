"""`doctor` against the fake Graph set up right, and set up wrong in each way it can be."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from backends.graph import GraphHarness, running

from bot.cli import _parser as parser
from bot.cli import main
from bot.clock import LONDON, Clock, FixedClock
from bot.config import Config, load_config
from bot.demo.harness import copy_example
from bot.mailbox.base import Mailbox
from bot.mailbox.state import MemoryState
from bot.operations.doctor import Finding, check_holidays, check_secrets, report
from bot.operations.doctor_run import diagnose, probe_addresses
from bot.operations.doctor_store import account, check_store

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
TEAM = "contract.management@council.example"  # config.yaml's team address: must stay closed


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    copy_example(tmp_path, source=PROJECT)
    return tmp_path / "config.yaml"


@pytest.fixture
def graph(tmp_path: Path, config_path: Path) -> Iterator[GraphHarness]:
    with running(tmp_path) as harness:
        for probe in probe_addresses(load_config(config_path)):
            harness.fake.other_mailboxes[probe] = False  # scoped to the shared mailbox only
        yield harness
        assert harness.fake.errors == []  # the fake understood every call doctor made


def run_doctor(
    config_path: Path, graph: GraphHarness, probes: list[str] | None = None
) -> dict[str, Finding]:
    def opened(config: Config, clock: Clock) -> Mailbox:
        return graph.mailbox(clock, MemoryState())

    findings = diagnose(config_path, FixedClock(NOW), opened, probes)
    return {finding.check: finding for finding in findings}


def verdicts(findings: dict[str, Finding]) -> dict[str, str]:
    return {check: finding.verdict for check, finding in findings.items()}


def test_a_registration_set_up_right_passes_every_check(
    config_path: Path, graph: GraphHarness
) -> None:
    found = run_doctor(config_path, graph)
    assert set(verdicts(found).values()) == {"ok"}, verdicts(found)
    for check in ("graph token", "read mail", "mail folders", "send mail", "calendar"):
        assert check in found
    assert "shared drive" in found
    assert f"other mailbox {TEAM}" in found
    [sent] = graph.folder("sent")
    assert b"doctor" in sent and b"X-Contract-Concerns-Loop: doctor" in sent
    assert report(list(found.values()))[1] == 0


def test_what_doctor_writes_to_try_a_permission_it_removes_again(
    config_path: Path, graph: GraphHarness
) -> None:
    first = run_doctor(config_path, graph)
    assert "(made Processed, Quarantine, Review)" in first["mail folders"].detail
    fake = graph.fake
    assert fake.count("POST", "/users/{user}/events") == 1 and fake.api.events == {}
    assert fake.count("PUT", "/drives/{drive}/root:/{path}:/content") == 1
    assert graph.files() == {}
    # The folders stay: the bot files mail there. A second run finds them and makes none.
    assert {"Processed", "Quarantine", "Review"} <= {
        f["displayName"] for f in fake.store.folders.values()
    }
    again = run_doctor(config_path, graph)
    assert again["mail folders"].verdict == "ok" and "made" not in again["mail folders"].detail
    assert len([f for f in fake.store.folders.values() if f["displayName"] == "Review"]) == 1


@pytest.mark.parametrize(
    ("permission", "checks"),
    [
        ("Mail.ReadWrite", {"read mail", "mail folders"}),
        ("Mail.Send", {"send mail"}),
        ("Calendars.ReadWrite", {"calendar"}),
        ("Sites.Selected", {"shared drive"}),
    ],
)
def test_each_missing_permission_is_named_with_its_fix(
    config_path: Path, graph: GraphHarness, permission: str, checks: set[str]
) -> None:
    graph.fake.denied.add(permission)
    found = run_doctor(config_path, graph)
    failed = {name for name, verdict in verdicts(found).items() if verdict == "fail"}
    assert failed == checks
    for check in checks:
        assert permission in found[check].detail
        assert "admin consent" in found[check].fix
    assert report(list(found.values()))[1] == 1


@pytest.mark.parametrize(
    ("instead", "wanted", "passes", "fails"),
    [
        ("Mail.Read", "Mail.ReadWrite", "read mail", "mail folders"),
        ("Calendars.Read", "Calendars.ReadWrite", None, "calendar"),
    ],
)
def test_a_read_only_grant_where_the_bot_writes_fails(
    config_path: Path,
    graph: GraphHarness,
    instead: str,
    wanted: str,
    passes: str | None,
    fails: str,
) -> None:
    graph.fake.denied.add(wanted)
    graph.fake.granted.add(instead)
    found = run_doctor(config_path, graph)
    failed = {name for name, verdict in verdicts(found).items() if verdict == "fail"}
    assert failed == {fails}
    assert wanted in found[fails].detail
    if passes is not None:
        assert found[passes].verdict == "ok"


def test_without_read_access_the_scope_probe_proves_nothing_and_says_so(
    config_path: Path, graph: GraphHarness
) -> None:
    graph.fake.denied.add("Mail.ReadWrite")
    probe = run_doctor(config_path, graph)[f"other mailbox {TEAM}"]
    assert probe.verdict == "warn" and probe.detail.startswith("not tried")
    assert "read mail" in probe.fix


def test_a_refused_sign_in_stops_the_graph_checks_and_says_what_to_check(
    config_path: Path, graph: GraphHarness
) -> None:
    graph.fake.token_error = "invalid_client"
    found = run_doctor(config_path, graph)
    assert found["graph token"].verdict == "fail"
    assert "client_id" in found["graph token"].fix
    assert "read mail" not in found and "send mail" not in found


def test_a_registration_that_reaches_every_mailbox_is_warned_about_loudly(
    config_path: Path, graph: GraphHarness
) -> None:
    graph.fake.other_mailboxes[TEAM] = True
    found = run_doctor(config_path, graph)
    probe = found[f"other mailbox {TEAM}"]
    assert probe.verdict == "warn" and "every mailbox in the tenant" in probe.detail
    assert "RBAC for Applications" in probe.fix
    text, _ = report(list(found.values()))
    assert "WARN  other mailbox" in text and "READABLE" in text


def test_a_probe_that_is_no_mailbox_proves_nothing_and_another_can_be_named(
    config_path: Path, graph: GraphHarness
) -> None:
    ghost, chief = "nobody.here@council.example", "chief.executive@council.example"
    [unknown] = [f for f in run_doctor(config_path, graph, [ghost]).values() if ghost in f.check]
    assert unknown.verdict == "warn" and "--probe ADDRESS" in unknown.fix
    graph.fake.other_mailboxes[chief] = False
    named = run_doctor(config_path, graph, [chief])
    assert named[f"other mailbox {chief}"].verdict == "ok"
    assert not any(TEAM in check for check in named)  # the named probe replaces the defaults
    assert parser().parse_args(["doctor", "--probe", chief, "--probe", ghost]).probe == [
        chief,
        ghost,
    ]


def test_probes_are_other_peoples_mailboxes_never_the_bots_own(config_path: Path) -> None:
    config = load_config(config_path)
    probes = probe_addresses(config)
    assert TEAM in probes and config.mailbox.address not in probes


def test_secrets_missing_from_the_environment_are_named(tmp_path: Path) -> None:
    import yaml

    text = yaml.safe_load((PROJECT / "config.yaml").read_text(encoding="utf-8"))
    text.update(yaml.safe_load((PROJECT / "examples/mailbox-imap.yaml").read_text("utf-8")))
    copy_example(tmp_path, source=PROJECT, config=False)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False), encoding="utf-8")
    config = load_config(path)
    [missing] = check_secrets(config, environ={})
    assert missing.verdict == "fail" and "CCBOT_IMAP_PASSWORD" in missing.detail
    [present] = check_secrets(config, environ={"CCBOT_IMAP_PASSWORD": "x"})
    assert present.verdict == "ok"


def test_a_store_others_can_read_fails_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    (store / "open.json").write_text("{}")
    (store / "open.json").chmod(0o600)
    assert check_store(store)[0].verdict == "ok"
    (store / "open.json").chmod(0o644)
    [exposed] = check_store(store)
    assert exposed.verdict == "fail" and exposed.fix == f"chmod -R go-rwx {store}"


def test_a_store_file_left_by_another_account_fails_with_the_chown_that_fixes_it(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    (store / "open.json").write_text("{}")
    (store / "open.json").chmod(0o600)
    [ready] = check_store(store)
    assert ready.verdict == "ok" and account(os.getuid()) in ready.detail
    try:
        os.chown(store / "open.json", 65534, 65534)  # as if written by `nobody`
    except PermissionError:
        pytest.skip("changing a file's owner needs root")
    [foreign] = check_store(store)
    assert foreign.verdict == "fail" and "open.json" in foreign.detail
    assert foreign.fix.startswith(f"chown -R {account(os.getuid())} {store}")


def test_on_windows_the_store_check_asks_for_the_acl_instead_of_failing_on_modes(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    (store / "open.json").write_text("{}")
    (store / "open.json").chmod(0o644)  # how every file looks to Python on Windows
    [asked] = check_store(store, windows=True)
    assert asked.verdict == "warn" and asked.fix.startswith(f"icacls {store}")


def test_bank_holidays_are_known_for_next_year() -> None:
    [known] = check_holidays(NOW.date())
    assert known.verdict == "ok" and "2027" in known.detail
    [far] = check_holidays(datetime(2400, 1, 1).date())
    assert far.verdict in ("ok", "fail")  # the package computes far years; the check still runs


def test_a_broken_config_is_reported_at_its_line_and_nothing_else_runs(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path.write_text(
        config_path.read_text().replace("poll_interval_seconds:", "poll_intervall_seconds:")
    )
    assert main(["--config", str(config_path), "doctor", "--now", "2026-12-07T09:00"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL  config: ") and "config.yaml:" in out
    assert "mailbox" not in out


def test_doctor_on_the_example_local_mailbox_is_ready(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "doctor", "--now", "2026-12-07T09:00"]) == 0
    out = capsys.readouterr().out
    assert "ok    mailbox: reachable" in out and "everything checked is ready" in out
    assert "ok    letters: a sample PDF letter was made on the letterhead" in out


def test_doctor_says_when_a_letter_cannot_be_made(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = config_path.parent / "templates" / "_letter.html.j2"
    layout.write_text(layout.read_text().replace("{{ date }}", "{{ letterhead.motto }}"))
    assert main(["--config", str(config_path), "doctor", "--now", "2026-12-07T09:00"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  letters: a sample letter could not be made into a PDF" in out and "motto" in out
