"""A minimal dashboard for web-security tests: three pages behind the real protective layers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.clock import Clock
from bot.config import Config, DashboardSettings, load_config
from bot.views.web.csrf import csrf_field
from bot.views.web.secured import secured_app
from bot.views.web.staff import StaffDirectory, staff_directory

REPO = Path(__file__).resolve().parents[2]
TENANT = "7d3c1c5e-0000-4000-8000-00000000c0c1"
CLIENT_ID = "b1e5a9f0-0000-4000-8000-0000000da5b0"
CLIENT_SECRET = "fake-client-secret-for-tests"
SESSION_SECRET = "a-session-key-of-at-least-32-characters-for-tests"
LOCAL = "http://127.0.0.1:8080"
CALLBACK = f"{LOCAL}/auth/callback"


def example_config() -> Config:
    return load_config(REPO / "config.yaml")


def example_directory() -> StaffDirectory:
    return staff_directory(example_config())


def dashboard(sign_in: dict[str, Any] | None = None, **keys: Any) -> DashboardSettings:
    data = dict(keys)
    if sign_in is not None:
        data["sign_in"] = {
            "tenant_id": TENANT,
            "client_id": CLIENT_ID,
            "client_secret_env": "CCBOT_TEST_DASHBOARD_SECRET",
            "session_secret_env": "CCBOT_TEST_SESSION_SECRET",
            "redirect_url": CALLBACK,
            **sign_in,
        }
    return DashboardSettings.model_validate(data)


def _home(request: Request) -> Response:
    user = request.state.user
    form = f'<form method="post" action="/note">{csrf_field(request)}<button>Note</button></form>'
    return HTMLResponse(f"<p>{user.name}|{user.address}|{','.join(user.roles)}</p>{form}")


def _case(request: Request) -> Response:
    return PlainTextResponse(f"case {request.path_params['ref']} for {request.state.user.name}")


async def _note(request: Request) -> Response:
    form = await request.form()
    return PlainTextResponse(f"noted: {form.get('text', '')}")


PAGES = [
    Route("/", _home),
    Route("/cases/{ref}", _case),
    Route("/note", _note, methods=["POST"]),
]


def make_app(
    settings: DashboardSettings, clock: Clock, directory: StaffDirectory | None = None, **kw: Any
) -> Starlette:
    return secured_app(PAGES, settings, directory or example_directory(), clock, **kw)


def client(app: Starlette, base_url: str = LOCAL) -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def through_idp(location: str, ca_file: Path) -> str:
    """What a browser does at the identity provider: follow its redirect back to the app."""
    answer = requests.get(location, verify=str(ca_file), allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def sign_in(web: TestClient, ca_file: Path, start: str = "/") -> httpx2.Response:
    """From a page, through /sign-in and the identity provider, to the callback's answer."""
    first = web.get(start)
    if first.headers.get("location") == "/sign-in":
        first = web.get("/sign-in")
    assert first.status_code == 303, first.text
    back = through_idp(first.headers["location"], ca_file)
    assert urlsplit(back).path == "/auth/callback"
    return web.get(back)


@contextmanager
def running(app: Starlette, sock: Any) -> Iterator[None]:
    """The app served by uvicorn on an already-listening socket, in a thread."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """The app served by uvicorn on a free port of 127.0.0.1, as `python -m bot web`; its
    base URL."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        with running(app, sock):
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
