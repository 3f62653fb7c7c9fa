"""Sign-in with Entra ID through msal, and checking the ID token's signature and claims."""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import jwt
import msal
import requests

from bot.config import SignInSettings
from bot.views.web.tokens import SignInFailed, check_times, identity_addresses

SCOPES = ["email"]  # msal adds openid and profile itself, and refuses them from callers
_TIMEOUT_SECONDS = 10.0
_KEY_REFRESH = timedelta(minutes=5)  # at most one extra fetch of the keys per 5 minutes

# msal prefers response_mode=form_post, but that return is a cross-site POST which carries
# no SameSite=Lax session cookie. With query, the code leaks nowhere: the callback sends no
# Referer (Referrer-Policy: no-referrer), redirects at once, and the code is single-use and
# bound to this sign-in's PKCE verifier.
warnings.filterwarnings("ignore", message="response_mode='form_post'", category=UserWarning)


class SignInUnavailable(Exception):
    """The sign-in service could not be reached or answered nonsense."""


class _Session(requests.Session):
    """requests with a timeout on every call, so a silent sign-in service cannot hang a page,
    and this session's own CA bundle (requests would let REQUESTS_CA_BUNDLE override it)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", _TIMEOUT_SECONDS)
        kwargs.setdefault("verify", self.verify)
        return super().request(*args, **kwargs)


class _NoTokenCache(msal.TokenCache):  # type: ignore[misc]
    """The dashboard needs only the sign-in: keep no tokens of anyone in memory."""

    def add(self, event: Any, **kwargs: Any) -> None:
        return None


class EntraSignIn:
    """The authorization code flow with PKCE against the configured authority."""

    def __init__(self, settings: SignInSettings, client_secret: str) -> None:
        self.settings = settings
        self._secret = client_secret
        self._http = _Session()
        if settings.ca_bundle is not None:
            self._http.verify = str(settings.ca_bundle)  # for this client only, not globally
        self._lock = threading.Lock()
        self._app: msal.ConfidentialClientApplication | None = None
        self._issuer = ""
        self._jwks_uri = ""
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched: datetime | None = None

    # -- talking to the sign-in service -----------------------------------------------------

    def _client(self) -> msal.ConfidentialClientApplication:
        """Built on first use, so the dashboard starts even while the service is down."""
        with self._lock:
            if self._app is None:
                authority = self.settings.authority_url()
                config = self._get_json(f"{authority}/v2.0/.well-known/openid-configuration")
                issuer, jwks_uri = config.get("issuer"), config.get("jwks_uri")
                if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
                    raise SignInUnavailable("the sign-in service's discovery has no issuer/keys")
                if "{" in issuer:
                    raise SignInUnavailable("the authority is multi-tenant; give your tenant id")
                try:
                    self._app = msal.ConfidentialClientApplication(
                        self.settings.client_id,
                        client_credential=self._secret,
                        authority=authority,
                        http_client=self._http,
                        instance_discovery=False,
                        exclude_scopes=["offline_access"],  # no refresh token: none is kept
                        token_cache=_NoTokenCache(),
                    )
                except (ValueError, requests.RequestException) as exc:
                    raise SignInUnavailable(f"msal could not use the authority: {exc}") from exc
                self._issuer, self._jwks_uri = issuer, jwks_uri
            return self._app

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SignInUnavailable(f"cannot read {url}: {exc}") from exc
        if not isinstance(data, dict):
            raise SignInUnavailable(f"{url} did not answer a JSON object")
        return data

    def _signing_key(self, kid: str, now: datetime) -> jwt.PyJWK:
        with self._lock:
            stale = self._keys_fetched is None or now - self._keys_fetched >= _KEY_REFRESH
            if kid not in self._keys and stale:  # keys rotate; fetch again, but not on every miss
                try:
                    jwks = jwt.PyJWKSet.from_dict(self._get_json(self._jwks_uri))
                except jwt.PyJWKSetError as exc:
                    raise SignInUnavailable(f"unusable signing keys: {exc}") from exc
                self._keys = {k.key_id: k for k in jwks.keys if k.key_id}
                self._keys_fetched = now
            key = self._keys.get(kid)
        if key is None:
            raise SignInFailed("id token signed by a key the sign-in service does not publish")
        return key

    # -- the flow -----------------------------------------------------------------------

    def begin(self) -> dict[str, Any]:
        """A new flow: its `auth_uri` is where to send the browser; keep the rest until the
        browser comes back (it holds the state, the nonce and the PKCE verifier)."""
        flow: dict[str, Any] = self._client().initiate_auth_code_flow(
            SCOPES, redirect_uri=self.settings.redirect_url, response_mode="query"
        )
        return flow

    def finish(
        self, flow: Mapping[str, Any], response: Mapping[str, str], now: datetime
    ) -> tuple[str, ...]:
        """Redeem the code and check the ID token; the addresses it vouches for, best first."""
        client = self._client()
        try:
            result = client.acquire_token_by_auth_code_flow(dict(flow), dict(response))
        except ValueError as exc:  # msal: state mismatch, or neither code nor error
            raise SignInFailed("the sign-in response does not belong to this sign-in") from exc
        except RuntimeError as exc:  # msal: the nonce in the token is not ours
            raise SignInFailed("id token nonce mismatch") from exc
        except requests.RequestException as exc:
            raise SignInUnavailable(f"token endpoint unreachable: {exc}") from exc
        if "error" in result:
            raise SignInFailed(f"sign-in service refused: {result.get('error')}")
        token = result.get("id_token")
        if not isinstance(token, str):
            raise SignInFailed("no id token in the token response")
        claims = self.verify(token, str(flow.get("nonce", "")), now)
        return identity_addresses(claims)

    def verify(self, token: str, nonce: str, now: datetime) -> dict[str, Any]:
        """The claims of `token` once its signature, issuer, audience, times and nonce hold."""
        self._client()  # discovery gives the issuer and where the keys are
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise SignInFailed("id token is not a JWT") from exc
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise SignInFailed("id token is not signed with RS256 and a key id")
        key = self._signing_key(header["kid"], now)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.settings.client_id,
                issuer=self._issuer,
                # Times are checked against the injected clock below, not the wall clock.
                options={
                    "require": ["iss", "aud", "exp", "iat", "sub", "nonce"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise SignInFailed("id token is for another application") from exc
        except jwt.InvalidIssuerError as exc:
            raise SignInFailed("id token is from another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise SignInFailed("id token signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"id token rejected: {type(exc).__name__}") from exc
        check_times(claims, now)
        # msal compared the nonce on the unverified token; compare it again on the verified one.
        if not nonce or claims.get("nonce") != hashlib.sha256(nonce.encode()).hexdigest():
            raise SignInFailed("id token nonce mismatch")
        return claims
