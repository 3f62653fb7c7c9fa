"""The dashboard's pages on the demo's workspace, through Starlette's TestClient (fast)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml
from backends.dashboard_site import (
    HOSTILE_SUBJECT,
    STRANGER_TRIAGE,
    UNSCREENED,
    WITH_PROVIDER,
    ws,
)
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.clock import FixedClock
from bot.demo.harness import Workspace
from bot.demo.script import END
from bot.views.web.app import create_app
from bot.views.web.csrf import CSRF_FIELD

__all__ = ["ws"]  # the played demo, a fixture shared by the dashboard tests

LOCAL = "http://127.0.0.1:8080"


def web_for(ws: Workspace, person: str | None = None) -> TestClient:
    app: Starlette = create_app(ws.root / "config.yaml", FixedClock(END), local_person=person)
    return TestClient(app, base_url=LOCAL, follow_redirects=False)


@pytest.fixture(scope="module")
def web(ws: Workspace) -> TestClient:
    return web_for(ws)


def token(web: TestClient, path: str = "/cases") -> str:
    page = web.get(path)
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def search(web: TestClient, **fields: str) -> str:
    answer = web.post("/cases", data={CSRF_FIELD: token(web), **fields})
    assert answer.status_code == 303
    return str(answer.headers["location"])


def references(html: str) -> list[str]:
    return re.findall(r'href="/cases/(CC-\d{4}-\d{4})"', html)


def test_the_case_list_shows_open_cases_with_their_next_deadline_and_days_left(
    web: TestClient,
) -> None:

    page = web.get("/cases")
    assert page.status_code == 200
    assert references(page.text) == [UNSCREENED, WITH_PROVIDER]  # soonest deadline first
    assert "Screen the concern, 9 Apr 2027" in page.text
    assert "Overdue" in page.text  # the unscreened concern, past close of business
    assert "Reminder letter to the provider, 20 Apr 2027" in page.text
    assert "7 working days left" in page.text


def test_a_search_is_posted_and_kept_behind_a_token_never_in_the_address(
    web: TestClient, ws: Workspace
) -> None:
    where = search(web, words="night staffing", status="open")
    assert "night" not in where and "staffing" not in where
    assert re.fullmatch(r"/cases\?view=[A-Za-z0-9_-]{16}", where)
    found = web.get(where)
    assert references(found.text) == [WITH_PROVIDER]
    # By the referrer's address and by reference, in closed cases too.
    assert references(web.get(search(web, words="sam.ward", status="closed")).text)
    assert references(web.get(search(web, words="cc-2026-0001", status="all")).text) == [
        "CC-2026-0001"
    ]
    # Another person's browser cannot use the token: it is only the searcher's.
    other = web_for(ws, "akhan").get(where)
    assert "That search has expired" in other.text


def test_filters_and_sorting(web: TestClient) -> None:
    overdue = web.get(search(web, overdue="yes"))
    assert references(overdue.text) == [UNSCREENED]
    by_provider = web.get(search(web, provider="oakview", status="all"))
    assert WITH_PROVIDER in references(by_provider.text)
    assert UNSCREENED not in references(by_provider.text)
    screening = web.get(search(web, stage="screening"))
    assert references(screening.text) == [UNSCREENED]
    reversed_refs = web.get("/cases?sort=reference&order=desc")
    assert references(reversed_refs.text) == [UNSCREENED, WITH_PROVIDER]
    assert 'aria-sort="descending"' in reversed_refs.text


def test_my_cases_are_the_signed_in_officers(ws: Workspace) -> None:
    assert references(web_for(ws, "jsmith").get("/cases/mine").text) == [WITH_PROVIDER]
    assert references(web_for(ws, "akhan").get("/cases/mine").text) == [UNSCREENED]


def test_a_case_page_shows_stages_deadlines_timeline_parties_and_mail(web: TestClient) -> None:
    page = web.get(f"/cases/{WITH_PROVIDER}").text
    assert 'aria-current="step"' in page and "Awaiting the provider&#39;s response" in page
    assert "14 calendar days after Tue 6 Apr 2027" in page  # the deadline's reason
    assert "Tuesday 20 April 2027" in page and "7 working days left" in page
    assert "Email from manager@oakview-care.example (provider): provider_unclear" in page
    assert "How it was read: rule" in page  # the classifier's rule
    assert "Cause: screen.eligible at stage screening" in page  # a stage change's cause
    assert "Oakview Care Home Ltd (care home, contract CON-2025-014)" in page
    assert "hannah.lee@nhs.example" in page
    assert "Read the letter" in page and "Read the email" in page


def test_bank_holidays_are_named_in_a_deadlines_reason(web: TestClient) -> None:
    # The disputed case's deadlines ran over Christmas, the council's closure days included.
    page = web.get("/cases/CC-2026-0008").text
    assert "Fri 25 Dec 2026 (Christmas Day, bank holiday)" in page
    assert "Council closure" in page


def test_a_letter_downloads_as_an_attachment_byte_for_byte(web: TestClient, ws: Workspace) -> None:
    page = web.get(f"/cases/{WITH_PROVIDER}").text
    letter = re.search(rf'href="(/cases/{WITH_PROVIDER}/documents/\d+)">Letter 1<', page)
    assert letter
    shown = web.get(letter.group(1))
    assert "Dear" in shown.text
    download = web.get(letter.group(1) + "/original")
    assert download.headers["content-type"] == "message/rfc822"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    sent = [raw for raw in ws.server.folder("sent") if download.content == raw]
    assert len(sent) == 1  # exactly what the mailbox sent


def test_hostile_mail_is_shown_inert(web: TestClient) -> None:
    page = web.get(f"/cases/{WITH_PROVIDER}").text
    number = re.findall(rf'/cases/{WITH_PROVIDER}/documents/(\d+)">Read the email', page)[-1]
    shown = web.get(f"/cases/{WITH_PROVIDER}/documents/{number}").text
    assert HOSTILE_SUBJECT in shown
    assert "<script" not in shown.lower() and "javascript:" not in shown.lower()
    assert "<img" not in shown and "<iframe" not in shown and "onmouseover" not in shown
    assert "&lt;script&gt;window.__pwned=&#39;text&#39;&lt;/script&gt;" in shown  # as text
    assert (
        '<a href="https://provider.example/evidence" rel="noopener noreferrer nofollow">' in shown
    )
    attachment = web.get(f"/cases/{WITH_PROVIDER}/documents/{number}/attachments/1")
    assert attachment.headers["content-type"] == "application/octet-stream"
    assert attachment.headers["content-disposition"] == 'attachment; filename="evidence.html"'
    assert "sandbox" in attachment.headers["content-security-policy"]


def test_triage_lists_oldest_first_with_why(web: TestClient) -> None:
    page = web.get("/triage").text
    items = re.findall(r'href="/triage/(T\d{4})"', page)
    assert items == [STRANGER_TRIAGE, "T0003"]
    assert "the bot could not tell what this email is" in page
    one = web.get(f"/triage/{STRANGER_TRIAGE}").text
    assert "I am worried about the care my mother gets at home" in one


def test_workload_procedure_and_health(web: TestClient) -> None:
    workload = web.get("/workload").text
    assert re.search(r"Jane Smith</th>\s*<td[^>]*>1</td>\s*<td[^>]*>0</td>", workload)
    assert re.search(r"Aisha Khan</th>\s*<td[^>]*>1</td>\s*<td[^>]*>1</td>", workload)
    procedure = web.get("/procedure").text
    assert "Within 2 working days from receipt of concern" in procedure
    assert "Senior Procurement Officer" in procedure
    svg = web.get("/procedure.svg?current=review")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.text)
    groups = root.findall("{http://www.w3.org/2000/svg}g")
    rules = Path(__file__).resolve().parents[1] / "rules" / "procedure.yaml"
    stages = yaml.safe_load(rules.read_text(encoding="utf-8"))["stages"]
    assert [g.get("id") for g in groups] == [f"stage-{name}" for name in stages]  # one a stage
    assert "Current stage" in ElementTree.tostring(
        next(g for g in groups if g.get("id") == "stage-review"), encoding="unicode"
    )
    health = web.get("/health").text
    assert "Last successful poll" in health and "9 Apr 2027 18:00" in health


def test_unknown_pages_are_404_and_a_case_without_a_draft_says_so(web: TestClient) -> None:
    assert web.get("/cases/CC-2099-0001").status_code == 404
    assert web.get("/nothing-here").status_code == 404
    drafts = web.get(f"/cases/{WITH_PROVIDER}/drafts")
    assert drafts.status_code == 200 and "No letter waits for approval" in drafts.text


def test_a_form_without_its_token_is_refused_and_changes_nothing(
    web: TestClient, ws: Workspace
) -> None:
    answer = web.post(f"/cases/{UNSCREENED}/allocate", data={"officer": "jsmith"})
    assert answer.status_code == 403
    assert ws.app.spool.waiting() == []


def test_a_decision_without_a_reason_gets_the_error_summary(web: TestClient) -> None:
    answer = web.post(
        f"/cases/{UNSCREENED}/decision",
        data={CSRF_FIELD: token(web), "decision": "screen.eligible", "reason": ""},
    )
    assert answer.status_code == 400
    assert "There is a problem" in answer.text and 'href="#reason"' in answer.text
    assert "<title>Error: " in answer.text


def test_a_cmo_is_offered_only_what_a_cmo_may_decide(ws: Workspace) -> None:
    jane = web_for(ws, "jsmith")
    page = jane.get(f"/cases/{WITH_PROVIDER}").text
    assert "The provider accepts the concern" in page
    assert "Issue a default notice" not in page  # the SPO's and the Head's alone
    forged = jane.post(
        f"/cases/{WITH_PROVIDER}/decision",
        data={CSRF_FIELD: token(jane), "decision": "default_notice.yes", "reason": "x"},
    )
    assert forged.status_code == 400
    assert ws.app.spool.waiting() == []


def test_pages_hold_no_personal_data_in_their_links(web: TestClient) -> None:
    for path in ("/cases", f"/cases/{WITH_PROVIDER}", "/triage", f"/triage/{STRANGER_TRIAGE}"):
        links = re.findall(r'(?:href|action|src)="([^"]*)"', web.get(path).text)
        assert links
        for link in links:
            assert "@" not in link.removeprefix("mailto:") or link.startswith("mailto:"), link
            assert not re.search(r"[?&](words|q|search)=", link), link


def test_the_demo_prints_a_command_that_opens_its_workspace(tmp_path: Path) -> None:
    from bot.cli import _parser
    from bot.demo.play import dashboard_command

    command = dashboard_command(tmp_path / "demo space")
    assert command.startswith("python -m bot --config ")
    args = _parser().parse_args(__import__("shlex").split(command)[3:])
    assert args.command == "web" and args.config == tmp_path / "demo space" / "config.yaml"
    assert args.now == END


def test_a_slow_store_is_reloaded_in_the_background_serving_the_last_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.rules import Rules
    from bot.views.web import data as data_module

    ws = Workspace(tmp_path / "ws", END)
    try:
        ws.email(
            "sam.ward@council.example", "Concern: Oakview Care Home", "Oakview Care Home: falls."
        )
        ws.run()
        data = data_module.DashboardData(Rules.load(ws.root / "config.yaml"))
        assert len(data.open_summaries()) == 1
        monkeypatch.setattr(data_module, "BACKGROUND_AFTER_SECONDS", 0.0)  # every load is slow
        ws.email("sam.ward@council.example", "Concern: Brightpath", "Brightpath Home Care: late.")
        ws.run()
        assert len(data.open_summaries()) == 1  # the last load, while the new one is made
        loading = data._loading
        assert loading is not None
        loading.join()
        assert len(data.open_summaries()) == 2
        data.close()
    finally:
        ws.close()


def test_web_refuses_to_listen_beyond_this_machine_without_sign_in(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    status = main(["--config", str(ws.root / "config.yaml"), "web", "--host", "0.0.0.0"])
    assert status == 2
    assert "The dashboard cannot start" in capsys.readouterr().err
