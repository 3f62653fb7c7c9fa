"""A stateful fake EWS service over real HTTP on 127.0.0.1, for the real exchangelib client."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from backends.ews_ops import OPERATIONS
from backends.ews_soap import ItemError, S, SoapFault, envelope, fault
from backends.ews_store import EwsStore, FakeItem, headers_of
from bot.clock import LONDON


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one connection per request, so "server down" needs no open sockets closed.
    protocol_version = "HTTP/1.0"
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, answer = fake.answer(body, self.headers.get("Authorization"))
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the fake keeps its own log of operations


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, fake: FakeEws) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", port), _Handler)


class FakeEws:
    """The server: `calls` logs each operation; `busy`, `break_connection` and `reject_auth`
    inject faults; the rest reads and changes the mailbox from the server's side."""

    def __init__(self, address: str = "contract.concerns@council.example") -> None:
        self.address = address
        self.store = EwsStore()
        self.calls: list[str] = []
        self.busy_left = 0
        self.back_off_ms = 1500
        self.reject_auth = False
        self.token: str | None = None  # when set, "Bearer <token>" is required
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeEws:
        self._server = _Server(self.port, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakeEws:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/EWS/Exchange.asmx"

    # -- faults --------------------------------------------------------------------

    def busy(self, requests: int, back_off_ms: int = 1500) -> None:
        """The next `requests` requests are answered ErrorServerBusy with that back-off."""
        self.busy_left, self.back_off_ms = requests, back_off_ms

    def break_connection(self) -> None:
        """Stop listening: connections are refused until `restore` (same port)."""
        self.stop()

    def restore(self) -> None:
        if self._server is None:
            self.start()

    # -- the protocol ---------------------------------------------------------------

    def answer(self, body: bytes, authorization: str | None) -> tuple[int, bytes]:
        try:
            request = ET.fromstring(body).find(f"{{{S}}}Body")
            operation = request[0] if request is not None and len(request) else None
        except ET.ParseError:
            operation = None
        if operation is None:
            return 500, fault("ErrorInvalidRequest", "not a SOAP request")
        name = operation.tag.split("}")[1]
        self.calls.append(name)
        if self.reject_auth or (self.token and authorization != f"Bearer {self.token}"):
            return 401, b""
        if self.busy_left > 0:
            self.busy_left -= 1
            return 500, fault(
                "ErrorServerBusy",
                "The server cannot service this request right now.",
                self.back_off_ms,
            )
        handler = OPERATIONS.get(name)
        if handler is None:
            return 500, fault("ErrorInvalidRequest", f"the fake does not answer {name}")
        try:
            with self.store.lock:
                return 200, envelope(name, handler(self.store, operation))
        except (SoapFault, ItemError) as err:
            return 500, fault(err.code, str(err))

    # -- the server's side of the mailbox -------------------------------------------

    def inject(self, raw: bytes, received_at: datetime) -> str:
        inbox = self.store.distinguished("inbox")
        assert inbox is not None
        return self.store.add_message(raw, inbox.id, received_at, draft=False).id

    def folder_items(self, name: str) -> list[FakeItem]:
        """Items in a distinguished folder ("inbox", "sentitems", ...) or a named one."""
        folder = self.store.distinguished(name) or self.store.folder_named(name)
        return [] if folder is None else self.store.in_folder(folder.id)

    def messages(self, name: str) -> list[bytes]:
        return [item.mime for item in self.folder_items(name)]

    def delivered_to(self, address: str) -> list[bytes]:
        return [mime for rcpts, mime in self.store.deliveries if address.lower() in rcpts]

    def find_by_message_id(self, message_id: str) -> FakeItem | None:
        wanted = f"<{message_id.strip().strip('<>')}>"
        with self.store.lock:
            return next((i for i in self.store.items.values() if i.message_id == wanted), None)

    def calendar(self) -> list[tuple[FakeItem, date]]:
        """Calendar items with their day in London, where all-day items start at midnight."""
        found = []
        for item in self.folder_items("calendar"):
            assert item.start is not None
            found.append((item, item.start.astimezone(LONDON).date()))
        return found

    def subject_of(self, raw: bytes) -> str:
        return headers_of(raw).get("subject", "")
