"""`doctor` on Microsoft 365: the token, each permission the bot uses, and the mailbox scope."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from bot.mailbox.base import MailboxAuthError, MailboxError
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.graph_client import GraphClient, user_path
from bot.mailbox.graph_mail import FOLDER_NAMES
from bot.operations.doctor import Finding, check_email

CONSENT = (
    "grant admin consent for {permission} to the app registration (docs/microsoft-365.md), "
    "and check the RBAC for Applications scope includes this shared mailbox"
)
DOCTOR_FILE = "doctor-check.txt"


class GraphChecks:
    """Each Graph permission tried once with the smallest call that needs it; what doctor
    writes to try one (a folder the bot would make anyway aside) it removes again."""

    def __init__(self, mailbox: GraphMailbox, now: datetime) -> None:
        self.mailbox = mailbox
        self.client: GraphClient = mailbox.client
        self.address = mailbox.address
        self.now = now

    def run(self, probes: Sequence[str]) -> list[Finding]:
        token = self.token()
        if token.verdict == "fail":
            return [token]  # nothing else can be tried without one
        read = self.read()
        found = [token, read, self.folders(), self.send(), self.calendar(), self.drive()]
        if read.verdict != "ok":
            # Refused everywhere proves nothing about the scope: say so instead of "ok".
            return found + [
                Finding(
                    f"other mailbox {probe}",
                    "warn",
                    "not tried: the bot cannot read its own mailbox, so a refusal here "
                    "would prove nothing",
                    "fix 'read mail' first, then run doctor again",
                )
                for probe in probes
            ]
        return found + [self.other_mailbox(probe) for probe in probes]

    def _try(
        self,
        check: str,
        permission: str,
        what: str,
        action: Callable[[], str],
        otherwise: str = "see the message; try again later",
    ) -> Finding:
        """`action` makes the calls and returns what worked; a refusal names `permission`, any
        other failure gets the fix `otherwise`."""
        try:
            done = action()
        except MailboxAuthError:
            return Finding(
                check,
                "fail",
                f"refused: cannot {what}; {permission} is not granted for {self.address}",
                CONSENT.format(permission=permission),
            )
        except MailboxError as err:
            return Finding(check, "fail", f"failed: {err}", otherwise)
        return Finding(check, "ok", done)

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
        def read() -> str:
            params = {"$top": "1", "$select": "id"}
            self.client.call("GET", user_path(self.address, "messages"), params=params)
            return f"can read {self.address}"

        return self._try("read mail", "Mail.ReadWrite", "read the mail", read)

    def folders(self) -> Finding:
        """The bot's folders, made when missing as its first poll would; making one is a write,
        which a read-only Mail.Read grant refuses although the read check passed."""

        def make() -> str:
            parent = user_path(self.address, "mailFolders", "msgfolderroot", "childFolders")
            made = []
            for name in FOLDER_NAMES.values():
                answer = self.client.call("POST", parent, data={"displayName": name}, accept={409})
                if answer.status_code != 409:  # 409: it is there already
                    made.append(name)
            names = ", ".join(FOLDER_NAMES.values())
            return f"{names} present" + (f" (made {', '.join(made)})" if made else "")

        what = "make the bot's folders (it moves every email it handles)"
        return self._try("mail folders", "Mail.ReadWrite", what, make)

    def send(self) -> Finding:
        raw, _ = check_email(self.address, self.now)
        body = base64.b64encode(raw)

        def send() -> str:
            self.client.call(
                "POST",
                user_path(self.address, "sendMail"),
                data=body,
                headers={"Content-type": "text/plain"},
            )
            return "sent a check email to itself"

        return self._try("send mail", "Mail.Send", "send mail", send)

    def calendar(self) -> Finding:
        """An all-day event made and deleted: the bot writes deadlines, so reading is not enough."""
        day = self.now.date()
        event: dict[str, Any] = {
            "subject": "Contract concerns bot: doctor's calendar check (deleted at once)",
            "start": {"dateTime": f"{day.isoformat()}T00:00:00", "timeZone": "Europe/London"},
            "end": {
                "dateTime": f"{(day + timedelta(days=1)).isoformat()}T00:00:00",
                "timeZone": "Europe/London",
            },
            "isAllDay": True,
            "showAs": "free",
            "isReminderOn": False,
        }

        def write() -> str:
            made = self.client.call("POST", user_path(self.address, "events"), data=event).json()
            self.client.call(
                "DELETE", user_path(self.address, "events", str(made["id"])), accept={404}
            )
            return "can write the mailbox's calendar (an event made and deleted)"

        return self._try("calendar", "Calendars.ReadWrite", "write the calendar", write)

    def drive(self) -> Finding:
        files = self.mailbox.files
        where = f"'{files.folder}' in the document library"
        path = quote(f"{files.folder}/{DOCTOR_FILE}" if files.folder else DOCTOR_FILE)

        def write() -> str:
            files.save_file(DOCTOR_FILE, b"written by python -m bot doctor, and deleted")
            self.client.call("DELETE", f"{files.drive}/root:/{path}:", accept={404})
            return f"can write to {where} (a file saved and deleted)"

        return self._try(
            "shared drive",
            "Sites.Selected (write on the library)",
            f"write to {where}",
            write,
            "check mailbox.graph.drive_id names the team's document library",
        )

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
                "run doctor --probe ADDRESS with a real mailbox the bot must not read",
            )
        return Finding(
            check,
            "warn",
            "READABLE: this app registration reaches every mailbox in the tenant, "
            "including this one; anyone with its secret can read them all",
            "scope it to the shared mailbox with RBAC for Applications or an application "
            "access policy (docs/microsoft-365.md), then run doctor again",
        )
