"""Run the demo story and print each case's timeline; leave the letters as .eml and PDF files."""

from __future__ import annotations

import shlex
import tempfile
import time
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from bot.demo.harness import Workspace
from bot.demo.script import END, SCENES, START, Story
from bot.procedure.case import Case
from bot.views.reports.command import figures_from_store, render, write_private
from bot.views.reports.period import financial_year_of
from bot.views.timeline import render_case


def export_letters(ws: Workspace, folder: Path) -> tuple[int, list[Path]]:
    """Every sent email as an .eml file, and each PDF letter to a provider beside it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    count = 0
    pdfs: list[Path] = []
    for raw in ws.server.folder("sent"):
        message = message_from_bytes(raw, policy=default_policy)
        local = str(message.get("Message-ID", "")).strip().strip("<>").split("@", 1)[0]
        count += 1
        path = folder / f"{count:03d}-{local}.eml"
        path.write_bytes(raw)
        path.chmod(0o600)
        for part in message.walk():
            name = part.get_filename()
            data = part.get_payload(decode=True)
            if part.get_content_type() == "application/pdf" and name and isinstance(data, bytes):
                pdf = folder / f"{count:03d}-{Path(name).name}"
                pdf.write_bytes(data)
                pdf.chmod(0o600)
                pdfs.append(pdf)
    return count, pdfs


def run_demo(workspace: Path | None = None, quiet: bool = False) -> int:
    started = time.perf_counter()
    root = workspace or Path(tempfile.mkdtemp(prefix="ccbot-demo-"))
    ws = Workspace(root, START)
    story = Story(ws)
    try:
        for scene in SCENES:
            scene(story)
        story.play(END)
        store = ws.app.store
        references = sorted(
            {*(c.reference for c in ws.app.cases.open()), *store.closed_references()}
        )
        cases = [Case.model_validate(store.get_case(ref)) for ref in references]
        if not quiet:
            for case in cases:
                print(render_case(case, ws.app.rules, ws.clock.now()))
                print("-" * 100)
        letters, pdfs = export_letters(ws, root / "letters")
        stages = Counter(case.stage for case in cases)
        triage = store.triage_items()
        period = financial_year_of(START.date())
        figures = figures_from_store(store, ws.app.rules, period, ws.clock.now())
        report = root / f"timescales-{period.key}.html"
        write_private(report, render(figures, "html", ws.app.config.council.name))
    finally:
        ws.close()
    elapsed = time.perf_counter() - started
    print(
        f"Demo: {len(cases)} cases from {START:%d %b %Y} to {END:%d %b %Y} "
        f"(simulated, Europe/London) in {elapsed:.1f} s"
    )
    print("  final stages: " + ", ".join(f"{stage} {n}" for stage, n in sorted(stages.items())))
    print(
        f"  {letters} letters, reminders, receipts and calendar invitations sent, "
        f"as .eml files in {root / 'letters'}"
    )
    drafts = [p for p in pdfs if "DRAFT-" in p.name]
    print(
        f"  {len(pdfs) - len(drafts)} letters to providers as PDFs on letterhead, and "
        f"{len(drafts)} drafts sent to officers for approval; for example:"
    )
    shown = next((p for p in pdfs if "concern-letter" in p.name and p not in drafts), None)
    if shown is not None:
        print(f"    {shown}")
    print(f"  {len(triage)} email(s) waiting in triage for an officer")
    print(
        f"  timescale report, {period.label} ({len(figures.breaches)} breaches, by reference): "
        f"{report}"
    )
    print(f"  workspace (config, mailbox, store, shared drive): {root}")
    print("See it in the dashboard (then open http://127.0.0.1:8080/):")
    print(f"  {dashboard_command(root)}")
    return 0


def dashboard_command(root: Path) -> str:
    """The one command that shows the demo's workspace in the dashboard, as at its end."""
    config = shlex.quote(str(root / "config.yaml"))
    return f"python -m bot --config {config} web --now {END:%Y-%m-%dT%H:%M}"
