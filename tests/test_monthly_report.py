"""The monthly report: on the first working day, once per month, references and figures only;
and the demo's report names its breaches by reference."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.demo.play import run_demo
from bot.procedure.case import Case
from bot.store import Store

SECRET = "the night carer left the back door unlocked"


def _reports(ws: Workspace) -> list[EmailMessage]:
    return [m for m in ws.sent() if "Timescale report" in str(m["Subject"])]


def test_sent_once_per_month_on_its_first_working_day(
    make_workspace: Callable[..., Workspace],
) -> None:
    ws = make_workspace(datetime(2026, 11, 2, 8, 0, tzinfo=LONDON))
    # A concern nobody screens: its same-day screening (Mon 2 Nov) is a breach.
    ws.email("sam.ward@council.example", "Concern about Oakview Care Home",
             f"I am worried about Oakview Care Home: {SECRET}.", at=ws.clock.now())
    ws.run(datetime(2026, 11, 2, 9, 0, tzinfo=LONDON))
    assert _reports(ws) == []
    # Tue 1 Dec 2026 is the first working day of December; letters go at 09:00.
    ws.run(datetime(2026, 12, 1, 8, 30, tzinfo=LONDON))
    assert _reports(ws) == []
    ws.run(datetime(2026, 12, 1, 9, 5, tzinfo=LONDON))
    ws.run(datetime(2026, 12, 1, 9, 6, tzinfo=LONDON))  # the tick twice: still one report
    ws.run(datetime(2026, 12, 2, 9, 5, tzinfo=LONDON))
    (mail,) = _reports(ws)
    assert str(mail["Subject"]) == "[CC-BOT] Timescale report: Nov 2026"
    assert sorted(str(mail["To"]).lower().split(", ")) == [
        "david.okafor@council.example", "mary.brown@council.example"]
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "CC-2026-0001: step 1" in text and "concerns received: 1" in text
    assert SECRET not in mail.as_string()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "timescale-report-2026-11.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert book["Breaches"]["A5"].value == "CC-2026-0001"
    saved = ws.app.config.shared_drive / "timescale-report-2026-11.xlsx"
    assert saved.read_bytes() == attachment.get_content()
    # January brings December's report, and only that.
    ws.run(datetime(2027, 1, 4, 9, 5, tzinfo=LONDON))
    assert [str(m["Subject"]) for m in _reports(ws)] == [
        "[CC-BOT] Timescale report: Nov 2026", "[CC-BOT] Timescale report: Dec 2026"]


def test_demo_points_at_its_report_which_names_every_breach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(workspace=tmp_path / "demo", quiet=True) == 0
    printed = capsys.readouterr().out
    (line,) = [x for x in printed.splitlines() if "timescale report" in x]
    page = Path(line.rsplit(": ", 1)[1]).read_text(encoding="utf-8")
    # Breaches worked out from the store itself: deadlines someone had to keep, missed.
    store = Store(tmp_path / "demo" / "var" / "store", read_only=True)
    try:
        cases = [Case.model_validate(store.get_case(r)) for r in store.closed_references()]
    finally:
        store.close()
    missed = {c.reference for c in cases for d in c.deadlines
              if d.remind and d.status == "missed"}
    assert missed
    breaches = page.split('id="view-2"', 1)[1].split("</section>", 1)[0]
    assert set(re.findall(r'<th scope="row">(CC-\d{4}-\d{4})</th>', breaches)) >= missed


def test_monthly_recipients_default_to_the_spo_and_head_of_procurement() -> None:
    from bot.config import load_config
    from bot.config.report_settings import report_recipients

    config = load_config(Path(__file__).resolve().parents[1] / "config.yaml")
    assert [p.id for p in report_recipients(config.reports, config.people)] == [
        "mbrown", "dokafor"]
