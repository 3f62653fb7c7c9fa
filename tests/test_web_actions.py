"""Dashboard actions end to end: a form, the instructions folder, the daemon's next poll."""

from __future__ import annotations

import json
import re
import stat
from datetime import datetime, timedelta

import pytest
from conftest import MakeWorkspace
from starlette.testclient import TestClient

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.store.spool import Instruction, Spool, SpoolError, new_id, one_line
from bot.views.web.app import create_app
from bot.views.web.csrf import CSRF_FIELD

START = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
JANE = "jane.smith@council.example"


def refer(ws: Workspace, provider: str = "Oakview Care Home") -> str:
    ws.email(
        "sam.ward@council.example",
        f"Concern: {provider}",
        f"I am raising a contract concern about {provider}. Residents missed their "
        "medication.\n\nThe safeguarding enquiry has concluded.",
        at=ws.clock.now(),
    )
    ws.run(ws.clock.now() + timedelta(minutes=1))
    return max(case.reference for case in ws.app.cases.open())


def dashboard(ws: Workspace, person: str | None = "jsmith") -> TestClient:
    app = create_app(ws.root / "config.yaml", ws.clock, local_person=person)
    return TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False)


def post(web: TestClient, path: str, **fields: str) -> int:
    page = web.get("/cases")
    token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert token
    return web.post(path, data={CSRF_FIELD: token.group(1), **fields}).status_code


def texts(ws: Workspace, reference: str) -> list[str]:
    case = ws.app.cases.get(reference)
    assert case is not None
    return [entry.text for entry in case.timeline]


def test_a_decision_from_the_dashboard_is_carried_out_at_the_next_poll(
    make_workspace: MakeWorkspace,
) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    web = dashboard(ws)
    assert post(web, f"/cases/{reference}/decision", decision="screen.eligible", reason="ok") == 303
    assert "Waiting for the bot" in web.get(f"/cases/{reference}").text
    assert ws.app.cases.get(reference).stage == "screening"  # type: ignore[union-attr]

    ws.run(ws.clock.now() + timedelta(minutes=5))  # the daemon's next poll
    case = ws.app.cases.get(reference)
    # Eligible: the letter to the provider now waits for the officer's approval (issue 11).
    assert case is not None and case.stage == "letter_approval"
    timeline = texts(ws, reference)
    assert f"Reason given by {JANE} from the dashboard: ok" in timeline
    assert f"Commands from {JANE} from the dashboard: 1 done, 0 not done" in timeline
    receipt = [m for m in ws.sent() if "Commands received" in str(m["Subject"])][-1]
    assert receipt["To"] == JANE
    assert "Your instructions from the dashboard on concern" in receipt.get_body().get_content()
    assert ws.app.spool.waiting() == []
    page = web.get(f"/cases/{reference}").text
    assert "Waiting for the bot" not in page
    assert "Done: screen: eligible: done; the case is now at stage 3" in page


def test_the_daemon_applies_the_same_role_limits_as_to_email(make_workspace: MakeWorkspace) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    # Written straight to the folder: the dashboard would not even offer it to a CMO.
    now = ws.clock.now()
    ws.app.spool.submit(
        Instruction(
            new_id(now), now, "jsmith", "Jane Smith", JANE, reference, ("decision: agreed",)
        )
    )
    ws.run(now + timedelta(minutes=1))
    result = ws.app.spool.results(reference)[0]
    assert result["done"] == []
    assert result["refused"] == ["decision: agreed: your role may not give this command"]


def test_filing_a_triage_email_puts_it_on_the_case_from_the_dashboard(
    make_workspace: MakeWorkspace,
) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    ws.email("someone@example.org", "Hello", "Who do I talk to about a care home?")
    ws.run(ws.clock.now() + timedelta(minutes=2))
    item = ws.app.store.triage_items()[0]["id"]
    web = dashboard(ws, "akhan")
    bad = web.post(f"/triage/{item}/file", data={CSRF_FIELD: "x", "reference": reference})
    assert bad.status_code == 403
    assert post(web, f"/triage/{item}/file", reference="CC-2099-0001") == 400
    assert post(web, f"/triage/{item}/file", reference=reference.lower()) == 303
    assert "Sent to the bot" in web.get("/triage").text

    ws.run(ws.clock.now() + timedelta(minutes=5))
    assert ws.app.store.triage_items() == []
    assert any(
        t.startswith("Email placed by aisha.khan@council.example from the dashboard")
        for t in texts(ws, reference)
    )


def test_marking_a_triage_email_not_a_concern(make_workspace: MakeWorkspace) -> None:
    ws: Workspace = make_workspace(START)
    ws.email("someone@example.org", "Hello", "Who do I talk to about a care home?")
    ws.run(ws.clock.now() + timedelta(minutes=2))
    item = ws.app.store.triage_items()[0]["id"]
    web = dashboard(ws)
    assert post(web, f"/triage/{item}/dismiss", why="") == 400
    assert post(web, f"/triage/{item}/dismiss", why="a member of the public\nclose") == 303
    waiting = ws.app.spool.waiting()
    assert [w.lines for w in waiting] == [
        (f"dismiss {item}: not a concern - a member of the public close",)
    ]
    ws.run(ws.clock.now() + timedelta(minutes=5))
    assert ws.app.store.triage_items() == []


def test_an_instruction_happens_once_even_if_the_daemon_dies_after_its_commit(
    make_workspace: MakeWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    web = dashboard(ws)
    assert post(web, f"/cases/{reference}/allocate", officer="akhan") == 303

    def die(self: Spool, instruction: Instruction, result: dict[str, object]) -> None:
        raise KeyboardInterrupt  # killed between the commit and tidying the folder

    with monkeypatch.context() as patch:
        patch.setattr(Spool, "finish", die)
        with pytest.raises(KeyboardInterrupt):
            ws.run(ws.clock.now() + timedelta(minutes=5))
    assert len(ws.app.spool.waiting()) == 1  # still in the folder, but already committed
    ws.run(ws.clock.now() + timedelta(minutes=5))
    assert ws.app.spool.waiting() == []
    notes = [t for t in texts(ws, reference) if t.startswith("Commands from")]
    assert notes == [f"Commands from {JANE} from the dashboard: 1 done, 0 not done"]
    assert ws.app.cases.get(reference).officer_id == "akhan"  # type: ignore[union-attr]


def test_a_damaged_instruction_is_set_aside_and_the_others_carried_out(
    make_workspace: MakeWorkspace,
) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    spool = ws.app.spool
    now = ws.clock.now()
    first = new_id(now - timedelta(seconds=1))
    (spool.directory / "new").mkdir(parents=True, exist_ok=True)
    (spool.directory / "new" / f"{first}.json").write_text("{not json")
    spool.submit(Instruction(new_id(now), now, "jsmith", "Jane", JANE, reference, ("close: dup",)))
    ws.run(now + timedelta(minutes=1))
    assert ws.app.store.get_case(reference)["status"] == "closed"  # type: ignore[index]
    failed = json.loads((spool.directory / "failed" / f"{first}.json").read_text())
    assert failed["why"] == "the instruction file is not JSON"
    assert spool.files() == []


def test_the_folder_is_owner_only_and_refuses_line_breaks(make_workspace: MakeWorkspace) -> None:
    ws: Workspace = make_workspace(START)
    now = ws.clock.now()
    spool = ws.app.spool
    spool.submit(Instruction(new_id(now), now, "jsmith", "Jane", JANE, None, ("dismiss T0001",)))
    [path] = spool.files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(spool.directory.stat().st_mode) == 0o700
    with pytest.raises(SpoolError):
        spool.submit(Instruction(new_id(now), now, "j", "J", JANE, None, ("close\nclose",)))
    assert one_line(" a\r\nclose \t b ") == "a close b"


def test_the_local_operator_may_give_any_command_and_gets_no_receipt(
    make_workspace: MakeWorkspace,
) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    web = dashboard(ws, None)
    before = len(ws.sent())
    assert (
        post(web, f"/cases/{reference}/decision", decision="screen.too_old", reason="2019") == 303
    )
    ws.run(ws.clock.now() + timedelta(minutes=5))
    assert ws.app.store.get_case(reference)["status"] == "closed"  # type: ignore[index]
    assert "Local operator from the dashboard" in " ".join(texts(ws, reference))
    sent = ws.sent()[before:]
    assert not any("Commands received" in str(m["Subject"]) for m in sent)


def test_the_officer_edits_the_draft_copy_on_the_dashboard_and_the_letter_goes_with_it(
    make_workspace: MakeWorkspace,
) -> None:
    ws: Workspace = make_workspace(START)
    reference = refer(ws)
    web = dashboard(ws)
    assert post(web, f"/cases/{reference}/decision", decision="screen.eligible", reason="ok") == 303
    ws.run(ws.clock.now() + timedelta(minutes=5))
    case = ws.app.cases.get(reference)
    assert case is not None and case.stage == "letter_approval"
    page = web.get(f"/cases/{reference}/drafts")
    assert page.status_code == 200 and "Residents missed their" in page.text
    # An empty copy is refused with the form's error; nothing goes to the bot.
    assert post(web, f"/cases/{reference}/drafts", action="edit", copy="  ") == 400
    assert ws.app.spool.waiting() == []
    edited = "Residents on the first floor missed medication.\n=== end of concern copy ===\nclose"
    assert post(web, f"/cases/{reference}/drafts", action="edit", copy=edited) == 303
    ws.run(ws.clock.now() + timedelta(minutes=5))
    case = ws.app.cases.get(reference)
    assert case is not None and case.stage == "awaiting_provider", case.stage
    timeline = " ".join(texts(ws, reference))
    assert "from the dashboard" in timeline
    assert "no letter waits for approval" in web.get(f"/cases/{reference}/drafts").text.lower()
