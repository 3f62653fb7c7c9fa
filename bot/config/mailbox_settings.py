"""Which mail system the bot uses and its non-secret settings; secrets are named by *_env keys."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.config.fields import ConfigPath, Email, EnvName, as_written

STRICT = ConfigDict(extra="forbid", frozen=True, validate_default=True)

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
    client_secret_env: EnvName = Field(
        description="Name of the environment variable holding the client secret"
    )
    drive_id: str | None = Field(
        default=None,
        description="SharePoint/OneDrive drive for closure reports; None: the mailbox's own",
    )
    drive_folder: str = Field(
        default="Contract concerns", description="Folder in that drive where closure reports go"
    )


class EwsMailbox(BaseModel):
    """On-premises Exchange through EWS."""

    model_config = STRICT
    service_endpoint: str = Field(
        description="EWS URL, like https://mail.council.example/EWS/Exchange.asmx"
    )
    username: str = Field(description="Account used to log in (DOMAIN\\user or user@domain)")
    password_env: EnvName = Field(
        description="Name of the environment variable holding the password"
    )
    auth_type: Literal["NTLM", "basic", "digest"] = Field(
        default="NTLM", description="How to log in"
    )
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate")


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
