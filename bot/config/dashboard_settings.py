"""The dashboard section: where the web dashboard listens and how staff sign in to it."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from bot.config.fields import ConfigPath, EnvName, problem
from bot.config.mailbox_settings import STRICT
from bot.config.network import is_loopback

CALLBACK_PATH = "/auth/callback"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TENANT_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
# Multi-tenant aliases: any organisation's users could sign in, and the issuer is not fixed.
_SHARED_TENANTS = frozenset({"common", "organizations", "consumers"})


def _check_tenant(value: str) -> str:
    cleaned = value.strip().lower()
    if cleaned in _SHARED_TENANTS:
        raise problem(
            "'{value}' would let people from any organisation sign in",
            "give your own Directory (tenant) ID from the app registration's Overview page",
            value=value,
        )
    if not (_GUID.match(cleaned) or _TENANT_DOMAIN.match(cleaned)):
        raise problem(
            "'{value}' is not a tenant id",
            "give the Directory (tenant) ID, like 00000000-0000-0000-0000-000000000000",
            value=value,
        )
    return cleaned


def _check_client_id(value: str) -> str:
    cleaned = value.strip().lower()
    if not _GUID.match(cleaned):
        raise problem(
            "'{value}' is not an application (client) id",
            "copy the Application (client) ID from the app registration's Overview page",
            value=value,
        )
    return cleaned


def _check_https_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise problem(
            "'{value}' is not an https address",
            "write it like https://login.microsoftonline.com/<tenant id>",
            value=value,
        )
    return value.strip().rstrip("/")


def _check_redirect_url(value: str) -> str:
    parts = urlsplit(value.strip())
    fine = parts.scheme in ("http", "https") and parts.hostname and not parts.query
    if not fine or not parts.path.endswith(CALLBACK_PATH) or parts.fragment:
        raise problem(
            "'{value}' is not the dashboard's sign-in return address",
            f"give the dashboard's own address ending in {CALLBACK_PATH}, like "
            f"https://dashboard.council.example{CALLBACK_PATH}",
            value=value,
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        # The session cookie and the authorization code would cross the network in clear.
        raise problem(
            "'{value}' is plain http on another machine",
            "use https (put the dashboard behind your TLS proxy); plain http is only for "
            "127.0.0.1 or localhost",
            value=value,
        )
    return value.strip()


def _check_bind_host(value: str) -> str:
    cleaned = value.strip()
    if cleaned.lower() == "localhost":
        return cleaned
    try:
        ipaddress.ip_address(cleaned.strip("[]"))
    except ValueError:
        raise problem(
            "'{value}' is not an address to listen on",
            "give an IP address of this machine, like 127.0.0.1 (this machine only) "
            "or 0.0.0.0 (every network it is on)",
            value=value,
        ) from None
    return cleaned.strip("[]")


TenantId = Annotated[str, AfterValidator(_check_tenant)]
ClientId = Annotated[str, AfterValidator(_check_client_id)]
HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]
RedirectUrl = Annotated[str, AfterValidator(_check_redirect_url)]
BindHost = Annotated[str, AfterValidator(_check_bind_host)]


class SignInSettings(BaseModel):
    """Sign-in with Microsoft Entra ID (OpenID Connect) through the dashboard's app registration."""

    model_config = STRICT
    tenant_id: TenantId = Field(description="Directory (tenant) ID of the council's Entra ID")
    client_id: ClientId = Field(description="Application (client) ID of the dashboard's app")
    client_secret_env: EnvName = Field(
        description="Name of the environment variable holding the app's client secret"
    )
    redirect_url: RedirectUrl = Field(
        description=f"The dashboard's address ending in {CALLBACK_PATH}, as registered in Entra"
    )
    session_secret_env: EnvName = Field(
        description="Name of the environment variable holding a random key (32+ characters) "
        "that signs the session cookie"
    )
    authority: HttpsUrl | None = Field(
        default=None,
        description="Sign-in service; None: https://login.microsoftonline.com/<tenant_id>",
    )
    ca_bundle: ConfigPath | None = Field(
        default=None,
        description="PEM file of the certificate authorities to trust for the sign-in "
        "service (only behind a TLS-inspecting proxy); None: the usual ones",
    )
    session_hours: int = Field(
        default=8, ge=1, le=24, description="Hours a sign-in lasts before signing in again"
    )

    def authority_url(self) -> str:
        return self.authority or f"https://login.microsoftonline.com/{self.tenant_id}"

    def secure_cookies(self) -> bool:
        """Cookies are marked Secure whenever the browser reaches the dashboard over https."""
        return urlsplit(self.redirect_url).scheme == "https"


class DashboardSettings(BaseModel):
    """The web dashboard: where it listens, who signs in, and what officers see."""

    model_config = STRICT
    bind_host: BindHost = Field(
        default="127.0.0.1",
        description="Address to listen on; anything but 127.0.0.1 needs sign_in",
    )
    port: int = Field(default=8080, ge=1, le=65535, description="Port to listen on")
    restrict_to_own_cases: bool = Field(
        default=False,
        description="True: an officer sees only the cases allocated to them",
    )
    sign_in: SignInSettings | None = Field(
        default=None,
        description="Microsoft Entra ID sign-in; None: no sign-in, this machine (127.0.0.1) only",
    )
