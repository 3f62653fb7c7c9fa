"""The IMAP backend's folders: finding Sent by SPECIAL-USE, creating folders, moving by UID."""

from __future__ import annotations

import imaplib
import re

from bot.mailbox.imap_transport import ImapSession, check, quote

PROCESSED = "Processed"
QUARANTINE = "Quarantine"
REVIEW = "Review"
SENT = "Sent"  # used (and created) when no folder is marked \Sent

_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def list_folders(conn: imaplib.IMAP4) -> dict[str, frozenset[str]]:
    """Every folder's name (as the server spells it) and its flags, lower-cased."""
    typ, data = conn.list('""', "*")
    check(typ, data, "LIST")
    folders: dict[str, frozenset[str]] = {}
    for item in data:
        if isinstance(item, tuple):  # a name sent as a literal: the header, then the name
            match = _LIST_LINE.match(item[0])
            if match:
                folders[item[1].decode("utf-8", "replace")] = _flags(match.group("flags"))
            continue
        if not isinstance(item, bytes) or item == b")":
            continue
        match = _LIST_LINE.match(item)
        if match:
            folders[_unquote(match.group("name"))] = _flags(match.group("flags"))
    return folders


def _flags(raw: bytes) -> frozenset[str]:
    return frozenset(raw.decode("ascii", "replace").lower().split())


class Folders:
    """Folder names found once per connection; the bot's own folders are made on first use."""

    def __init__(self, session: ImapSession) -> None:
        self.session = session
        self._known: dict[str, frozenset[str]] | None = None
        self._logins_seen = -1

    def _folders(self, conn: imaplib.IMAP4) -> dict[str, frozenset[str]]:
        # A new connection may be to a server whose folders changed: look again.
        if self._known is None or self._logins_seen != self.session.logins:
            self._known = list_folders(conn)
            self._logins_seen = self.session.logins
        return self._known

    def exists(self, conn: imaplib.IMAP4, name: str) -> bool:
        return name in self._folders(conn)

    def ensure(self, conn: imaplib.IMAP4, name: str) -> str:
        known = self._folders(conn)
        if name not in known:
            typ, data = conn.create(quote(name))
            # ALREADYEXISTS: another client (or our own lost answer) made it first.
            if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(
                d for d in data if isinstance(d, bytes)
            ):
                check(typ, data, f"CREATE {name}")
            conn.subscribe(quote(name))
            known[name] = frozenset()
        return name

    def sent(self, conn: imaplib.IMAP4) -> str:
        """The folder marked \\Sent (RFC 6154), else one named Sent."""
        known = self._folders(conn)
        marked = sorted(name for name, flags in known.items() if "\\sent" in flags)
        return marked[0] if marked else SENT

    def move(self, conn: imaplib.IMAP4, uid: int, target: str, *, use_move: bool) -> None:
        """Move one message out of the selected folder; a UID no longer there is no error."""
        self.ensure(conn, target)
        if use_move:
            typ, data = conn.uid("MOVE", str(uid), quote(target))
            check(typ, data, f"UID MOVE to {target}")
            return
        typ, data = conn.uid("COPY", str(uid), quote(target))
        check(typ, data, f"UID COPY to {target}")
        typ, data = conn.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        check(typ, data, "UID STORE \\Deleted")
        if "UIDPLUS" in self.session.capabilities:
            typ, data = conn.uid("EXPUNGE", str(uid))
        else:  # plain EXPUNGE also removes others' \Deleted mail; the inbox is the bot's own
            typ, data = conn.expunge()
        check(typ, data, "EXPUNGE")
