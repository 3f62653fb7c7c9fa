"""`doctor`'s mail checks: the mailbox answers, and on Microsoft 365 each permission works."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.classify.reading import LOOP_HEADER
from bot.mailbox.base import Mailbox, MailboxAuthError, MailboxError
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.graph_client import GraphClient, user_path
from bot.mailbox.maildir import LocalMailbox
from bot.operations.doctor import Finding

CONSENT = (
    "grant admin consent for {permission} to the app registration (docs/microsoft-365.md), "
    "and check the RBAC for Applications scope includes this shared mailbox"
)


def check_mailbox(
    mailbox: Mailbox, since: datetime, now: datetime, probes: Sequence[str]
) -> list[Finding]:
    """Whichever backend is configured: reachable, and on Graph every permission the bot uses."""
    if isinstance(mailbox, GraphMailbox):
        return GraphChecks(mailbox, now).run(probes)
    try:
        waiting = len(mailbox.fetch_new(since))
    except MailboxAuthError as err:
        return [
            Finding(
                "mailbox",
                "fail",
                f"the mail system refused the login: {err}",
                "check the account and the secret its *_env setting names",
            )
        ]
    except (MailboxError, OSError) as err:
        return [
            Finding(
                "mailbox",
                "fail",
                f"the mail system did not answer: {err}",
                "check the host, the port and that this server may reach it",
            )
        ]
    where = f"folders under {mailbox.directory}" if isinstance(mailbox, LocalMailbox) else "inbox"
    return [Finding("mailbox", "ok", f"reachable ({where}); {waiting} email(s) waiting")]


class GraphChecks:
    """Each Graph permission tried once with the smallest call that needs it."""

    def __init__(self, mailbox: GraphMailbox, now: datetime) -> None:
        self.mailbox = mailbox
        self.client: GraphClient = mailbox.client
        self.address = mailbox.address
        self.now = now

    def run(self, probes: Sequence[str]) -> list[Finding]:
        token = self.token()
        if token.verdict == "fail":
            return [token]  # nothing else can be tried without one
        return [
            token,
            self.read(),
            self.send(),
            self.calendar(),
            self.drive(),
            *(self.other_mailbox(probe) for probe in probes),
        ]

    def _try(
        self, check: str, permission: str, method: str, path: str, ok: str, **kwargs: object
    ) -> Finding:
        try:
            self.client.call(method, path, **kwargs)
        except MailboxAuthError:
            return Finding(
                check,
                "fail",
                f"refused: {permission} is not granted for {self.address}",
                CONSENT.format(permission=permission),
            )
        except MailboxError as err:
            return Finding(check, "fail", f"failed: {err}", "see the message; try again later")
        return Finding(check, "ok", ok)

    def token(self) -> Finding:
        try:
            self.client.tokens.acquire(fresh=True)
        except MailboxAuthError as err:
            return Finding(
                "graph token",
                "fail",
                f"Entra ID refused the app's sign-in: {err}",
                "check mailbox.graph tenant_id and client_id, and the secret or "
                "certificate its *_env setting names (is it expired?)",
            )
        except MailboxError as err:
            return Finding(
                "graph token",
                "fail",
                f"the sign-in service did not answer: {err}",
                "check that this server may reach login.microsoftonline.com",
            )
        return Finding("graph token", "ok", "obtained an app-only token")

    def read(self) -> Finding:
        return self._try(
            "read mail",
            "Mail.ReadWrite",
            "GET",
            user_path(self.address, "messages"),
            f"can read {self.address}",
            params={"$top": "1", "$select": "id"},
        )

    def send(self) -> Finding:
        message = EmailMessage()
        message["From"] = message["To"] = self.address
        message["Subject"] = "Contract concerns bot: doctor's send check (no action needed)"
        message["Date"] = format_datetime(self.now)
        message["Message-ID"] = make_msgid("doctor", self.address.split("@")[-1])
        message[LOOP_HEADER] = "doctor"  # the bot files its own mail; it is never a concern
        message.set_content("Sent by `python -m bot doctor` to check the bot may send mail.")
        body = base64.b64encode(message.as_bytes())
        return self._try(
            "send mail",
            "Mail.Send",
            "POST",
            user_path(self.address, "sendMail"),
            "sent a check email to itself",
            data=body,
            headers={"Content-type": "text/plain"},
        )

    def calendar(self) -> Finding:
        return self._try(
            "calendar",
            "Calendars.ReadWrite",
            "GET",
            user_path(self.address, "events"),
            "can read the mailbox's calendar",
            params={"$top": "1", "$select": "id"},
        )

    def drive(self) -> Finding:
        files = self.mailbox.files
        where = f"'{files.folder}' in the document library"
        try:
            files.save_file("doctor-check.txt", b"written by python -m bot doctor")
        except MailboxAuthError:
            return Finding(
                "shared drive",
                "fail",
                f"refused: cannot write to {where}",
                CONSENT.format(permission="Sites.Selected (write on the library)"),
            )
        except MailboxError as err:
            return Finding(
                "shared drive",
                "fail",
                f"failed: {err}",
                "check mailbox.graph.drive_id names the team's document library",
            )
        return Finding("shared drive", "ok", f"can write to {where}")

    def other_mailbox(self, probe: str) -> Finding:
        check = f"other mailbox {probe}"
        try:
            response = self.client.request(
                "GET",
                user_path(probe, "messages"),
                accept=(404,),
                params={"$top": "1", "$select": "id"},
            )
        except MailboxAuthError:
            return Finding(check, "ok", "refused, as it should be: the app reaches only its own")
        except MailboxError as err:
            return Finding(check, "warn", f"could not tell: {err}")
        if response is not None and response.status_code == 404:
            return Finding(
                check,
                "warn",
                "no such mailbox, so the scope could not be tested",
                "name a real mailbox the bot must not read in doctor's probe list",
            )
        return Finding(
            check,
            "warn",
            "READABLE: this app registration reaches every mailbox in the tenant, "
            "including this one; anyone with its secret can read them all",
            "scope it to the shared mailbox with RBAC for Applications or an application "
            "access policy (docs/microsoft-365.md), then run doctor again",
        )
