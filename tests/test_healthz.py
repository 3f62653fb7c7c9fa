"""/healthz for monitoring: open without sign-in, no personal data, the same keys as status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from backends.web_app import LOCAL, client, dashboard, make_app
from starlette.testclient import TestClient

from bot.cli import main
from bot.clock import LONDON, FixedClock
from bot.demo.harness import Workspace
from bot.views.web.app import create_app

START = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path / "ws", START)
    workspace.email(
        "sam.ward@council.example",
        "Concern about Oakview Care Home",
        "Residents at Oakview Care Home missed their medication.",
        at=START,
    )
    workspace.run(START + timedelta(minutes=5))
    yield workspace
    workspace.close()


def probe(ws: Workspace, at: datetime) -> tuple[int, dict[str, object]]:
    web = TestClient(create_app(ws.root / "config.yaml", FixedClock(at)), base_url=LOCAL)
    answer = web.get("/healthz")
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    return answer.status_code, answer.json()


def test_healthz_says_when_the_bot_last_polled_and_names_no_one(ws: Workspace) -> None:
    status, body = probe(ws, START + timedelta(minutes=6))
    assert status == 200 and body["healthy"] is True
    assert body["last_poll"] == (START + timedelta(minutes=5)).isoformat()
    assert set(body) == {
        "now", "healthy", "last_poll", "last_tick", "poll_failing_since", "poll_running_since",
        "outbox_pending", "token_expires_at", "alerts",
    }
    text = json.dumps(body)
    assert "@" not in text and "CC-" not in text and "Oakview" not in text


def test_healthz_answers_503_when_polling_has_stopped(ws: Workspace) -> None:
    status, body = probe(ws, START + timedelta(hours=3))
    assert status == 503 and body["healthy"] is False
    assert [alert["kind"] for alert in body["alerts"]] == ["poll"]  # type: ignore[union-attr]


def test_status_json_gives_the_same_figures(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    at = START + timedelta(minutes=6)
    _, body = probe(ws, at)
    ws.close()
    config = str(ws.root / "config.yaml")
    main(["--config", config, "status", "--json", "--now", at.isoformat()])
    full = json.loads(capsys.readouterr().out)
    for key in ("now", "healthy", "last_poll", "last_tick", "outbox_pending", "token_expires_at"):
        assert full[key] == body[key], key


def test_healthz_is_open_without_sign_in_while_pages_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCBOT_TEST_DASHBOARD_SECRET", "unused-here")
    monkeypatch.setenv("CCBOT_TEST_SESSION_SECRET", "a-session-key-of-at-least-32-characters-x")
    signed = {"redirect_url": "https://dashboard.council.example/auth/callback"}
    app = make_app(dashboard(signed), FixedClock(START))
    web = client(app, "https://dashboard.council.example")
    assert web.get("/").status_code == 303  # pages send you to sign in
    # /healthz is not one of the minimal app's pages: 404, not a redirect to sign in.
    assert web.get("/healthz").status_code == 404
