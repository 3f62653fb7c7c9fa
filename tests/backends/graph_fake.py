"""A stateful fake Microsoft Graph on 127.0.0.1 for the real O365 client: routes, tokens, faults."""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from backends.graph_fake_api import GraphApi
from backends.graph_fake_batch import run_batch
from backends.graph_fake_call import Call, Reply, error, reply
from backends.graph_fake_store import MailStore

# (method, path template, handler); {name} is one path segment, {path} any rest.
ROUTES = [
    ("POST", "/$batch", "batch"),
    ("GET", "/users/{user}/mailFolders/inbox/messages/delta", "delta"),
    ("GET", "/users/{user}/messages/{mid}/$value", "value"),
    ("GET", "/users/{user}/messages", "list_messages"),
    ("POST", "/users/{user}/messages", "create_message"),
    ("POST", "/users/{user}/mailFolders/{fid}/messages", "create_message"),
    ("GET", "/users/{user}/mailFolders/{fid}/childFolders", "child_folders"),
    ("POST", "/users/{user}/mailFolders/{fid}/childFolders", "create_folder"),
    ("POST", "/users/{user}/messages/{mid}/move", "move"),
    ("POST", "/users/{user}/messages/{mid}/createReply", "create_reply"),
    ("POST", "/users/{user}/messages/{mid}/send", "send_draft"),
    ("POST", "/users/{user}/messages/{mid}/attachments", "add_attachment"),
    (
        "POST",
        "/users/{user}/messages/{mid}/attachments/createUploadSession",
        "attachment_session",
    ),
    ("PATCH", "/users/{user}/messages/{mid}", "patch_message"),
    ("DELETE", "/users/{user}/messages/{mid}", "delete_message"),
    ("POST", "/users/{user}/sendMail", "send_mail"),
    ("GET", "/users/{user}/events", "list_events"),
    ("POST", "/users/{user}/events", "create_event"),
    ("PATCH", "/users/{user}/events/{eid}", "patch_event"),
    ("DELETE", "/users/{user}/events/{eid}", "delete_event"),
    ("GET", "/users/{who}/manager", "manager"),
    ("PUT", "/drives/{drive}/root:/{path}:/content", "drive_put"),
    ("PUT", "/users/{user}/drive/root:/{path}:/content", "drive_put"),
    ("POST", "/drives/{drive}/root:/{path}:/createUploadSession", "drive_session"),
    ("POST", "/users/{user}/drive/root:/{path}:/createUploadSession", "drive_session"),
    ("DELETE", "/drives/{drive}/root:/{path}:", "drive_delete"),
    ("DELETE", "/users/{user}/drive/root:/{path}:", "drive_delete"),
]
TOKEN_ROUTE = "/{tenant}/oauth2/v2.0/token"
# The application permission each route needs, so a test can take one away (`denied`).
PERMISSIONS = {
    "Mail.ReadWrite": {
        "delta", "value", "list_messages", "create_message", "child_folders", "create_folder",
        "move", "create_reply", "add_attachment", "attachment_session", "patch_message",
        "delete_message",
    },
    "Mail.Send": {"send_mail", "send_draft"},
    "Calendars.ReadWrite": {"list_events", "create_event", "patch_event", "delete_event"},
    "Sites.Selected": {"drive_put", "drive_session", "drive_delete"},
    "User.Read.All": {"manager"},
}
# The narrower grants an administrator may give instead (`granted`): they allow the reads only.
READ_ONLY = {
    "Mail.Read": {"delta", "value", "list_messages", "child_folders"},
    "Calendars.Read": {"list_events"},
}
UPLOAD_ROUTE = "/upload/{token}"


def _compile(template: str, prefix: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    pattern = "".join(
        (f"(?P<{p[1:-1]}>.+)" if p == "{path}" else f"(?P<{p[1:-1]}>[^/]+)")
        if p.startswith("{")
        else re.escape(p)
        for p in parts
    )
    return re.compile(f"^{re.escape(prefix)}{pattern}$")


@dataclass
class Fault:
    status: int
    retry_after: str | None
    after: bool  # carry the call out, then answer the error (a reply lost on the way back)


class FakeGraph:
    """One shared mailbox behind a Graph-shaped HTTP API; counts every request by route."""

    def __init__(self, address: str, clock: Callable[[], datetime]) -> None:
        self.address = address
        self.lock = threading.RLock()
        self.store = MailStore(address, clock)
        self.counts: Counter[str] = Counter()
        self.total = 0
        self.faults: dict[str, list[Fault]] = {}
        self.tokens: set[str] = set()
        self.token_error: str | None = None  # e.g. "invalid_client": the token endpoint refuses
        self.consent_denied = False
        self.denied: set[str] = set()  # permissions the app registration lacks
        self.granted: set[str] = set()  # read-only permissions given in their place
        # Other mailboxes in the tenant: address -> whether this app may read it (True is an
        # unscoped registration that reaches every mailbox).
        self.other_mailboxes: dict[str, bool] = {}
        self.errors: list[str] = []
        self._token_ids = itertools.count(1)
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.connections: set[socket.socket] = set()  # open keep-alive connections
        self.connected = 0  # connections accepted, for tests of the client's keep-alive
        self.api = GraphApi(self.store, "")
        self.routes = [(m, t, _compile(t, "/v1.0"), h) for m, t, h in ROUTES]
        self.routes.append(("POST", TOKEN_ROUTE, _compile(TOKEN_ROUTE, ""), "token"))
        self.routes.append(("PUT", UPLOAD_ROUTE, _compile(UPLOAD_ROUTE, ""), "upload_put"))

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}fake-tenant/oauth2/v2.0/token"

    def start(self) -> FakeGraph:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as Graph's front door: a client reuses its connections, so each
            # request costs neither a new TCP connection nor a new server thread.
            protocol_version = "HTTP/1.1"
            # The headers and the body go out as two writes: without this, the second waits
            # for the client's delayed ACK (40 ms) on a kept-alive connection.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with fake.lock:
                    fake.connections.add(self.connection)
                    fake.connected += 1

            def finish(self) -> None:
                with fake.lock:
                    fake.connections.discard(self.connection)
                super().finish()

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, out, data = fake.handle(self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in out.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read counts, not logs

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.api.base_url = self.base_url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start` binds the same port again."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            with self.lock:
                open_connections = list(self.connections)
            for connection in open_connections:  # refused from now on, kept-alive ones too
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            assert self.thread is not None
            self.thread.join(timeout=5)
            self.server = self.thread = None

    # -- test controls -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        template: str,
        count: int = 1,
        status: int = 503,
        retry_after: str | None = "2",
        after: bool = False,
    ) -> None:
        """The next `count` calls to the route answer `status` (with Retry-After)."""
        with self.lock:
            fault = Fault(status, retry_after, after)
            self.faults.setdefault(f"{method} {template}", []).extend([fault] * count)

    def count(self, method: str, template: str) -> int:
        return self.counts[f"{method} {template}"]

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        with self.lock:
            self.total += 1
            for route_method, template, pattern, handler in self.routes:
                match = pattern.match(url.path)
                if route_method != method or not match:
                    continue
                label = f"{method} {template}"
                self.counts[label] += 1
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                call = Call(method, params, query, headers, body)
                fault = self.faults.get(label, []) and self.faults[label].pop(0)
                if fault and (not fault.after or handler == "batch"):
                    return self._fault(fault)
                if handler != "batch":
                    answer = self._dispatch(handler, call)
                    return self._fault(fault) if fault else answer
                refused = self._refused(handler, call)
                break
            else:
                self.counts[f"{method} unmatched"] += 1
                return error(400, "BadRequest", f"the fake has no route for {method} {url.path}")
        # A batch's requests are each checked, counted and answered on their own, side by
        # side as Graph runs them: outside the lock, which each of them takes.
        return refused or run_batch(self, call)

    def _fault(self, fault: Fault) -> Reply:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        code = "TooManyRequests" if fault.status == 429 else "ServiceUnavailable"
        status, out, data = error(fault.status, code, "try again later")
        return status, {**out, **headers}, data

    def _refused(self, handler: str, call: Call) -> Reply | None:
        """The answer to a request its token, consent or mailbox do not allow (else None)."""
        if call.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return error(401, "InvalidAuthenticationToken", "Access token has expired.")
        if self.consent_denied:
            return error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        if not self._permitted(handler):
            return error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        user = call.params.get("user")
        if user is not None and user.lower() != self.address.lower():
            readable = self.other_mailboxes.get(user.lower())
            if readable is None:
                return error(404, "ErrorInvalidUser", "The requested user is invalid.")
            if not readable:
                return error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
            return reply(200, {"value": []})  # the other mailbox, empty but open to us
        return None

    def _dispatch(self, handler: str, call: Call) -> Reply:
        if handler == "token":
            return self._token(call)
        if handler != "upload_put":
            refused = self._refused(handler, call)
            if refused is not None:
                return refused
        try:
            answer: Reply = getattr(self.api, handler)(call)
        except Exception as err:  # a fake bug or a malformed call: answer, and keep it for tests
            self.errors.append(f"{handler}: {type(err).__name__}: {err}")
            return error(500, "InternalServerError", "the fake failed")
        return answer

    def _permitted(self, handler: str) -> bool:
        needed = next((p for p, calls in PERMISSIONS.items() if handler in calls), None)
        if needed is None or needed not in self.denied:
            return True
        return any(handler in READ_ONLY.get(permission, ()) for permission in self.granted)

    def _token(self, call: Call) -> Reply:
        form = dict(parse_qsl(call.body.decode()))
        if self.token_error or form.get("grant_type") != "client_credentials":
            return reply(
                401,
                {
                    "error": self.token_error or "unsupported_grant_type",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure "
                    "the secret being sent in the request is the client secret value.\r\n"
                    "Trace ID: 0000",
                },
            )
        token = f"fake-token-{next(self._token_ids)}"
        self.tokens.add(token)
        return reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})
