"""A workspace with the example config, a local mailbox and a clock that moves only when told."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from bot.app import App, build_app
from bot.clock import LONDON, Clock, FixedClock
from bot.config import Config
from bot.mailbox.base import Mailbox, MailboxState
from bot.mailbox.maildir import LocalMailbox

PROJECT = Path(__file__).resolve().parents[2]
# When the clock moves over a day, the bot runs at these times: digest, letters, reminders.
DAILY_RUNS = (time(8, 5), time(9, 5), time(14, 5), time(17, 30))


def project_files() -> Path:
    """The folder holding the example config.yaml, rules/ and templates/: the checkout, or the
    copies an installed wheel carries. Never the current folder: run from a council's own
    config folder, the demo would play its story on that config and that mail system."""
    for candidate in (PROJECT, Path(__file__).resolve().parents[1] / "project_files"):
        if (candidate / "config.yaml").exists() and (candidate / "rules").is_dir():
            return candidate
    raise FileNotFoundError(
        "cannot find config.yaml, rules/ and templates/; run from the project folder"
    )


# What a workspace copies beside its config.yaml: the config names each of these folders.
EXAMPLE_FOLDERS = ("rules", "templates", "assets")


def copy_example(target: Path, *, source: Path | None = None, config: bool = True) -> Path:
    """The example's folders (and, with `config`, its config.yaml) copied into `target`;
    the path of `target`'s config.yaml."""
    source = source or project_files()
    for folder in EXAMPLE_FOLDERS:
        shutil.copytree(source / folder, target / folder, dirs_exist_ok=True)
    if config:
        shutil.copy(source / "config.yaml", target / "config.yaml")
    return target / "config.yaml"


class MailServer(Protocol):
    """A mail system seen from outside the bot: mail is dropped in, sent mail is read back."""

    def mailbox(self, clock: Clock, state: MailboxState) -> Mailbox: ...

    def inject(self, raw: bytes, received_at: datetime) -> None: ...

    def folder(self, name: str) -> list[bytes]: ...


class LocalServer:
    """The local folder mailbox as a MailServer: delivery is a file dropped in the inbox."""

    def __init__(self, mailbox: LocalMailbox) -> None:
        self.local = mailbox

    def mailbox(self, clock: Clock, state: MailboxState) -> Mailbox:
        return self.local

    def inject(self, raw: bytes, received_at: datetime) -> None:
        self.local.deliver(raw, received_at)

    def folder(self, name: str) -> list[bytes]:
        return [raw for _, raw in self.local.sent_messages(name)]


class Workspace:
    """The example config copied to `root`, the bot built on it, and helpers to drive it."""

    def __init__(
        self,
        root: Path,
        start: datetime,
        *,
        shadow: bool = False,
        source: Path | None = None,
        replace: dict[str, str] | None = None,  # text edits to the copied config.yaml
        server: MailServer | None = None,  # another mail system than the local folders
    ) -> None:
        source = source or project_files()
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        copy_example(root, source=source, config=False)
        text = (source / "config.yaml").read_text(encoding="utf-8")
        if shadow:
            text = text.replace("shadow_mode: false", "shadow_mode: true")
        for old, new in (replace or {}).items():
            if old not in text:
                raise ValueError(f"{old!r} is not in config.yaml")
            text = text.replace(old, new)
        (root / "config.yaml").write_text(text, encoding="utf-8")
        self.clock = FixedClock(start)
        if server is None:
            self.app: App = build_app(root / "config.yaml", self.clock)
            assert isinstance(self.app.mailbox, LocalMailbox)
            server = LocalServer(self.app.mailbox)
        else:
            chosen = server

            def opened(config: Config, clock: Clock, state: MailboxState) -> Mailbox:
                return chosen.mailbox(clock, state)

            self.app = build_app(root / "config.yaml", self.clock, mailbox_factory=opened)
        self.server: MailServer = server
        self.mailbox: Mailbox = self.app.mailbox
        self.domain = self.app.config.mailbox.address.split("@", 1)[1]

    def close(self) -> None:
        self.app.store.close()

    # --- mail in ----------------------------------------------------------------
    def email(
        self,
        sender: str,
        subject: str,
        body: str,
        *,
        at: datetime | None = None,
        name: str = "",
        cc: Iterable[str] = (),
        in_reply_to: str | None = None,
        headers: dict[str, str] | None = None,
        to: str | None = None,
    ) -> str:
        """Drop an email into the inbox as received at `at` (default: now); return its id."""
        at = at or self.clock.now()
        message = EmailMessage()
        message["From"] = f"{name} <{sender}>" if name else sender
        message["To"] = to or self.app.config.mailbox.address
        if cc:
            message["Cc"] = ", ".join(cc)
        message["Subject"] = subject
        message["Date"] = format_datetime(at)
        domain = sender.split("@", 1)[1]
        message_id = make_msgid(idstring=f"{int(at.timestamp())}", domain=domain)
        message["Message-ID"] = message_id
        if in_reply_to:
            message["In-Reply-To"] = f"<{in_reply_to}>"
            message["References"] = f"<{in_reply_to}>"
        for key, value in (headers or {}).items():
            message[key] = value
        message.set_content(body)
        self.server.inject(message.as_bytes(policy=email.policy.SMTP), at)
        return message_id.strip("<>")

    # --- time -------------------------------------------------------------------
    def run(self, at: datetime | None = None) -> None:
        if at is not None:
            self.clock.set(at)
        self.app.once()

    def advance_to(self, until: datetime) -> None:
        """Move the clock forward, running the bot at the daily times on the way and at `until`."""
        now = self.clock.now()
        day = now.astimezone(LONDON).date()
        while day <= until.date():
            for moment in self.daily_times(day):
                if now < moment < until:
                    self.run(moment)
            day += timedelta(days=1)
        self.run(until)

    @staticmethod
    def daily_times(day: date) -> list[datetime]:
        return [datetime.combine(day, t, LONDON) for t in DAILY_RUNS]

    # --- mail out ---------------------------------------------------------------
    def sent(self, folder: str = "sent") -> list[EmailMessage]:
        """What the bot sent (or, with folder="review", held in shadow mode), oldest first."""
        messages = []
        for raw in self.server.folder(folder):
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            messages.append(parsed)
        return messages
