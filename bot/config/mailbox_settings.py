"""Which mail system the bot uses and its non-secret settings; secrets are named by *_env keys."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.config.fields import ConfigPath, Email, EnvName, as_written

# defer_build: checked rules kept between runs (bot.rules_cache) are used without building the
# validators, which is most of the time a command such as `cases` would take to import these.
STRICT = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)

Backend = Literal["local", "graph", "ews", "imap"]


class LocalMailbox(BaseModel):
    """A folder mailbox (Maildir) on this machine: the default, needs no mail server."""

    model_config = STRICT
    directory: ConfigPath = Field(
        default=as_written("var/mailbox"),
        description="Folder holding the Maildir folders (Inbox, Sent, ...)",
    )


class GraphMailbox(BaseModel):
    """Microsoft 365 through Microsoft Graph with app-only access to the shared mailbox."""

    model_config = STRICT
    tenant_id: str = Field(description="Azure AD (Entra ID) tenant id")
    client_id: str = Field(description="Application (client) id of the app registration")
    client_secret_env: EnvName | None = Field(
        default=None,
        description="Name of the environment variable holding the client secret "
        "(give this or certificate_path_env)",
    )
    certificate_path_env: EnvName | None = Field(
        default=None,
        description="Name of the environment variable holding the path of the PEM private "
        "key of the app's certificate (instead of a secret)",
    )
    certificate_thumbprint: str | None = Field(
        default=None, description="SHA-1 thumbprint (hex) of that certificate"
    )
    request_timeout_seconds: float = Field(
        default=30.0, gt=0, le=300, description="Longest wait for any one Graph request"
    )
    requests_per_10_minutes: int = Field(
        default=6000,
        ge=100,
        le=10000,
        description="Most Graph requests in any 10 minutes (Graph's limit per mailbox is "
        "10,000); a backlog beyond it waits instead of being throttled",
    )
    drive_id: str | None = Field(
        default=None,
        description="SharePoint/OneDrive drive for closure reports; None: the mailbox's own",
    )
    drive_folder: str = Field(
        default="Contract concerns", description="Folder in that drive where closure reports go"
    )
    manager_from_directory: bool = Field(
        default=False,
        description="Ask the directory for a referrer's manager the config does not name "
        "(needs the User.Read.All application permission)",
    )

    @model_validator(mode="after")
    def _one_credential(self) -> GraphMailbox:
        if (self.client_secret_env is None) == (self.certificate_path_env is None):
            raise ValueError("give exactly one of client_secret_env and certificate_path_env")
        if self.certificate_path_env is not None and not self.certificate_thumbprint:
            raise ValueError("certificate_path_env needs certificate_thumbprint too")
        return self


class EwsMailbox(BaseModel):
    """On-premises Exchange through EWS: NTLM (a service account) or OAuth2 client credentials."""

    model_config = STRICT
    service_endpoint: str = Field(
        description="EWS URL, like https://mail.council.example/EWS/Exchange.asmx"
    )
    auth_type: Literal["NTLM", "OAuth2"] = Field(default="NTLM", description="How to log in")
    username: str | None = Field(
        default=None, description="NTLM: account used to log in (DOMAIN\\user or user@domain)"
    )
    password_env: EnvName | None = Field(
        default=None, description="NTLM: name of the environment variable holding the password"
    )
    tenant_id: str | None = Field(default=None, description="OAuth2: tenant id")
    client_id: str | None = Field(default=None, description="OAuth2: application (client) id")
    client_secret_env: EnvName | None = Field(
        default=None, description="OAuth2: name of the environment variable holding the secret"
    )
    access_type: Literal["delegate", "impersonation"] = Field(
        default="delegate",
        description="delegate: the account has rights on the shared mailbox; impersonation: "
        "it holds the ApplicationImpersonation role",
    )
    timeout_seconds: int = Field(
        default=60, ge=1, le=600, description="Longest wait for one EWS request"
    )
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate")

    @model_validator(mode="after")
    def _credentials_complete(self) -> EwsMailbox:
        needed = (
            ("username", "password_env")
            if self.auth_type == "NTLM"
            else ("tenant_id", "client_id", "client_secret_env")
        )
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth_type {self.auth_type} needs {', '.join(missing)}")
        return self


class ImapMailbox(BaseModel):
    """Any other mail system: IMAP to read, SMTP to send."""

    model_config = STRICT
    host: str = Field(description="IMAP server host name")
    port: int = Field(default=993, ge=1, le=65535, description="IMAP port")
    security: Literal["ssl", "starttls", "none"] = Field(
        default="ssl", description="IMAP encryption"
    )
    username: str = Field(description="IMAP login name")
    password_env: EnvName = Field(
        description="Name of the environment variable holding the password"
    )
    smtp_host: str = Field(description="SMTP server host name")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["ssl", "starttls", "none"] = Field(
        default="starttls", description="SMTP encryption"
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login; None: same as username"
    )
    smtp_password_env: EnvName | None = Field(
        default=None, description="Environment variable with the SMTP password; None: password_env"
    )
    ca_file: ConfigPath | None = Field(
        default=None,
        description="PEM file of the CA that signed the servers' certificates; None: the system's",
    )
    timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="How long any one IMAP or SMTP call may take"
    )


class MailboxSettings(BaseModel):
    """The shared mailbox the bot reads and sends from."""

    model_config = STRICT
    backend: Backend = Field(default="local", description="local | graph | ews | imap")
    address: Email = Field(description="The shared mailbox's address; letters are sent as it")
    # A dict default, so it is validated with the loader's context and its path resolved.
    local: LocalMailbox = Field(default=as_written({}), description="Settings for backend: local")
    graph: GraphMailbox | None = Field(default=None, description="Settings for backend: graph")
    ews: EwsMailbox | None = Field(default=None, description="Settings for backend: ews")
    imap: ImapMailbox | None = Field(default=None, description="Settings for backend: imap")

    def backend_settings(self) -> LocalMailbox | GraphMailbox | EwsMailbox | ImapMailbox | None:
        """The settings section of the chosen backend (checked to exist when the config loads)."""
        return {"local": self.local, "graph": self.graph, "ews": self.ews, "imap": self.imap}[
            self.backend
        ]
