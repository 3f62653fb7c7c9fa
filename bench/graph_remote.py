"""The tests' fake Graph in a process of its own, as Microsoft Graph is to the bot: its work
does not share the bot's interpreter, so what is timed is the bot's side of each request.

`python -m bench.graph_remote` runs the fake and prints its port; the bench drives it through
a few `/_bench/` routes (deliver mail, read a folder, the request counts and the most requests
it served at once) beside the Graph API the bot uses.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from bot.clock import Clock
from bot.mailbox.base import MailboxState
from bot.mailbox.graph import GraphMailbox

CONTROL = "/_bench/"


class RemoteFake:
    """The parent's view of the fake in the child: what bench code reads from `server.fake`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token_url = f"{base_url}fake-tenant/oauth2/v2.0/token"
        self.session = requests.Session()

    def _get(self, what: str) -> Any:
        answer = self.session.get(f"{self.base_url}_bench/{what}", timeout=30)
        answer.raise_for_status()
        return answer.json()

    @property
    def counts(self) -> Counter[str]:
        return Counter(self._get("counts")["counts"])

    @property
    def total(self) -> int:
        return int(self._get("counts")["total"])

    def peak(self) -> int:
        return int(self._get("counts")["peak"])


class RemoteGraph:
    """A MailServer (bot.demo.harness) for the fake Graph running in another process."""

    name = "graph"

    def __init__(self, base_url: str) -> None:
        from backends.graph import ADDRESS, DRIVE_ID

        self.address = ADDRESS
        self.drive_id = DRIVE_ID
        self.fake = RemoteFake(base_url)
        self.waits: list[float] = []

    def mailbox(self, clock: Clock, state: MailboxState) -> GraphMailbox:
        from backends.graph import FakeTokenSource

        return GraphMailbox(
            self.address,
            state,
            clock,
            FakeTokenSource(self.fake.token_url, clock),
            base_url=self.fake.base_url,
            sleep=self.waits.append,
            timeout=30.0,
            drive_id=self.drive_id,
            drive_folder="Contract concerns",
        )

    def inject(self, raw: bytes, received_at: datetime) -> None:
        url = f"{self.fake.base_url}_bench/inject"
        params = {"received": received_at.isoformat()}
        self.fake.session.post(url, params=params, data=raw, timeout=30).raise_for_status()

    def folder(self, name: str) -> list[bytes]:
        return [base64.b64decode(raw) for raw in self.fake._get(f"folder/{name}")]


@contextmanager
def remote_graph(root: Path) -> Iterator[RemoteGraph]:
    """The fake Graph in a child process for the length of the block."""
    root.mkdir(parents=True, exist_ok=True)
    # The child runs in `root`: it finds the harness and the test fakes by the path given here.
    here = Path(__file__).resolve().parent.parent
    path = [str(here), str(here / "tests"), os.environ.get("PYTHONPATH", "")]
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.graph_remote"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)},
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline().strip())
        yield RemoteGraph(f"http://127.0.0.1:{port}/")
    finally:
        child.terminate()
        child.wait(timeout=30)


def _serve() -> None:
    """The child: the fake, with the bench's routes in front of its own."""
    from backends.graph import running

    with running(Path(".")) as server:
        fake = server.fake
        real = fake.handle
        lock = threading.Lock()
        flight = {"now": 0, "peak": 0}

        def handle(method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
            url = urlsplit(target)
            if url.path.startswith(CONTROL):
                return _control(server, url.path[len(CONTROL) :], url.query, body, flight)
            if url.path.endswith("/$batch"):  # an envelope: its requests are counted as they run
                return real(method, target, headers, body)
            with lock:
                flight["now"] += 1
                flight["peak"] = max(flight["peak"], flight["now"])
            try:
                return real(method, target, headers, body)
            finally:
                with lock:
                    flight["now"] -= 1

        fake.handle = handle
        print(fake.port, flush=True)
        threading.Event().wait()  # until the parent ends the process


def _control(server: Any, what: str, query: str, body: bytes, flight: dict[str, int]) -> Any:
    ok = {"Content-Type": "application/json"}
    if what == "inject":
        received = datetime.fromisoformat(dict(parse_qsl(query))["received"])
        server.inject(body, received)
        return 200, ok, b"{}"
    if what.startswith("folder/"):
        raws = [base64.b64encode(raw).decode() for raw in server.folder(what[len("folder/") :])]
        return 200, ok, json.dumps(raws).encode()
    if what == "counts":
        fake = server.fake
        with fake.lock:
            data = {"counts": dict(fake.counts), "total": fake.total, "peak": flight["peak"]}
        return 200, ok, json.dumps(data).encode()
    return 404, ok, b"{}"


if __name__ == "__main__":
    tests = Path(__file__).resolve().parents[1] / "tests"
    sys.path.insert(0, str(tests))
    _serve()
