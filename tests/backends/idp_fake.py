"""A fake Entra ID over HTTPS on 127.0.0.1: discovery, authorize, token (with PKCE) and keys."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from backends.idp_tokens import FakeUser, Grant, KeyPair, Signer, id_token_for
from backends.tls_cert import TestTls, make_test_tls

Reply = tuple[int, dict[str, str], bytes]


class FakeIdentityProvider:
    """Answers like Entra's v2.0 endpoints for one tenant and one app registration.

    Test controls: `user` (None: the person cancels), `claims` (overrides for the next ID
    tokens; a None value removes the claim), `signing` ("own", "foreign" key, "tampered",
    "none": unsigned).
    """

    def __init__(
        self,
        folder: Path,
        clock: Callable[[], datetime],
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
    ) -> None:
        self.tls: TestTls = make_test_tls(folder)
        self.clock = clock
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.redirect_uris = list(redirect_uris)
        self.user: FakeUser | None = None
        self.claims: dict[str, Any] = {}
        self.signing = "own"
        self.keys = KeyPair.generate("fake-key-1")
        self.foreign = KeyPair.generate("fake-key-1")  # same kid, a key nobody published
        self.grants: dict[str, Grant] = {}
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- addresses -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant}"

    @property
    def issuer(self) -> str:
        return f"{self.authority}/v2.0"

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeIdentityProvider:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, data = fake.handle(self.command, self.path, body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        # Handshake in the request's own thread, so one slow client cannot stall the rest.
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self.server.server_address[1]
        # A short poll so stop() returns at once (shutdown waits for the next poll).
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(timeout=5)
            self.server = self.thread = None

    def signer(self) -> Signer:
        return Signer(self.foreign if self.signing == "foreign" else self.keys, self.signing)

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes) -> Reply:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        tenant = f"/{self.tenant}"
        routes: dict[tuple[str, str], Callable[[dict[str, str]], Reply]] = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", f"{tenant}/v2.0/.well-known/openid-configuration"): self._discovery,
            ("GET", f"{tenant}/oauth2/v2.0/authorize"): self._authorize,
            ("POST", f"{tenant}/oauth2/v2.0/token"): self._token,
            ("GET", f"{tenant}/discovery/v2.0/keys"): self._keys,
        }
        handler = routes.get((method, url.path))
        with self.lock:
            self.counts[url.path if handler else "unmatched"] += 1
            if handler is None:
                return _json(404, {"error": "not_found", "error_description": url.path})
            params = query if method == "GET" else dict(parse_qsl(body.decode()))
            return handler(params)

    def _discovery(self, _: dict[str, str]) -> Reply:
        prefix = f"{self.authority}/oauth2/v2.0"
        return _json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{prefix}/authorize",
                "token_endpoint": f"{prefix}/token",
                "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
                "response_types_supported": ["code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            },
        )

    def _keys(self, _: dict[str, str]) -> Reply:
        return _json(200, {"keys": [self.keys.public_jwk()]})

    def _authorize(self, q: dict[str, str]) -> Reply:
        # Like Entra: never redirect to an address the app registration does not list.
        if q.get("client_id") != self.client_id or q.get("redirect_uri") not in self.redirect_uris:
            return 400, {"Content-Type": "text/plain"}, b"unknown client or redirect_uri"
        back = q["redirect_uri"]
        wrong = (
            q.get("response_type") != "code"
            or "openid" not in q.get("scope", "").split()
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
        )
        if wrong:
            return _redirect(back, error="invalid_request", state=q.get("state", ""))
        if self.user is None:
            return _redirect(back, error="access_denied", state=q.get("state", ""))
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            self.client_id, back, q["code_challenge"], q.get("nonce", ""), self.user
        )
        return _redirect(back, code=code, state=q.get("state", ""), session_state="fake")

    def _token(self, f: dict[str, str]) -> Reply:
        if f.get("client_id") != self.client_id or f.get("client_secret") != self.client_secret:
            return _json(401, {"error": "invalid_client"})
        if f.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        grant = self.grants.get(f.get("code", ""))
        if grant is None or grant.used or grant.redirect_uri != f.get("redirect_uri"):
            return _json(400, {"error": "invalid_grant"})
        grant.used = True  # a code works once, even when the verifier is wrong
        verifier = f.get("code_verifier", "").encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if digest.decode() != grant.challenge:
            return _json(400, {"error": "invalid_grant", "error_description": "PKCE"})
        return _json(
            200,
            {
                "token_type": "Bearer",
                "scope": "openid profile email",
                "expires_in": 3600,
                "access_token": secrets.token_urlsafe(24),
                "id_token": id_token_for(
                    grant, self.issuer, self.tenant, self.clock(), self.claims, self.signer()
                ),
            },
        )


def _json(status: int, data: dict[str, Any]) -> Reply:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return status, headers, json.dumps(data).encode()


def _redirect(back: str, **params: str) -> Reply:
    return 302, {"Location": f"{back}?{urlencode(params)}"}, b""
