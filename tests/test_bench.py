"""The benchmark harness runs end to end on a tiny workload and writes every section."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.workload import MIX, kinds_for

PROJECT = Path(__file__).resolve().parents[1]


def test_the_bench_ticks_when_the_daemon_would() -> None:
    """Each working day's digest, letters and reminders ticks, in order, from the bench's
    Monday morning (its afternoon reminders included) through the next working days."""
    from bench.scale import daemon_ticks
    from bench.site import NOW
    from bot.rules import Rules

    rules = Rules.check(PROJECT / "config.yaml")
    ticks = daemon_ticks(rules.config, rules.procedure, 2)
    shown = [(kind, f"{moment:%a %H:%M}") for kind, moment in ticks]
    assert NOW.strftime("%a %H:%M") == "Mon 09:30"
    assert shown == [
        ("reminders", "Mon 14:05"),
        ("digest", "Tue 08:05"), ("letters", "Tue 09:05"), ("reminders", "Tue 14:05"),
        ("digest", "Wed 08:05"), ("letters", "Wed 09:05"), ("reminders", "Wed 14:05"),
    ]  # fmt: skip


def test_the_mix_has_the_proportions_a_shared_mailbox_sees() -> None:
    kinds = kinds_for(1000, random.Random(1))
    assert len(kinds) == 1000
    for kind, share in MIX:
        assert kinds.count(kind) == round(share * 1000)


def test_the_harness_runs_on_a_tiny_workload_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    assert main(["--tiny", "--repeat", "1", "--seed", "7", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    for section in ("machine", "command", "intake", "store_cost", "memory", "graph_economy",
                    "latency", "opening", "cases_command", "targets"):
        assert section in results, section
    assert {row["backend"] for row in results["intake"]} == {"local", "graph"}
    for row in results["intake"]:
        run = row["last_run"]
        assert run["fetched"] == row["backlog"] == sum(run["kinds"].values())
        assert run["handled"] + run["retrying"] <= run["fetched"]
        assert run["handled"] > 0 and run["letters"] > 0
        assert row["emails_per_second"]["median"] > 0
        assert row["parse_only_emails_per_second"]["median"] > 0
    for cell in results["store_cost"]:
        assert cell["seconds_per_email"]["median"] > 0
        assert cell["idle_tick_seconds"]["runs"] == 1
        # The digests go in their own tick at digest time, as the daemon's, not with the letters.
        assert cell["digest_tick_seconds"]["runs"] == 1
        assert cell["digests_sent"]["digest"] > 0
        assert cell["digests_sent"]["letters"] == cell["digests_sent"]["reminders"] == 0
    assert all(row["peak_rss_mb"]["median"] > 0 for row in results["memory"])
    graph = results["graph_economy"]
    assert graph["emails"] == 20 and graph["idle_poll_requests"] >= 1
    assert graph["max_concurrent_requests"] >= 1
    latency = results["latency"]
    assert latency["acknowledged_in_same_poll"] == latency["referrals"]
    assert all(t["pass"] in (True, False) for t in results["targets"])
    assert all(row["start_seconds"]["median"] > 0 for row in results["opening"])
    assert results["cases_command"]["demo_end"]["median"] > 0
    assert {t["issue"] for t in results["targets"]} == {5, 12}
    printed = capsys.readouterr().out
    assert "targets (from issue 5)" in printed and "PASS" in printed
    assert "targets (from issue 12)" in printed


def test_the_report_benchmark_runs_on_a_tiny_store_and_judges_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.reports import main as reports

    args = ["--open", "20", "--closed", "60", "--repeat", "1", "--seeds", str(tmp_path)]
    assert reports(args) == 0
    printed = capsys.readouterr().out
    assert "financial year 2026/27:" in printed and "cases counted" in printed
    assert "PASS: the whole report" in printed or "FAIL: the whole report" in printed
    assert (tmp_path / "store-20-60" / "store" / "cache" / "closed-briefs.tsv").exists()
