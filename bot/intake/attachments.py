"""The files a person attached to an email, with their bytes: what a concern's copy may carry."""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

from bot.intake.lean import message_from_raw
from bot.intake.parse import _filename, _is_body_candidate, leaves, part_payload


@dataclass(frozen=True)
class AttachedFile:
    filename: str
    content_type: str
    data: bytes


def attached_files(raw: bytes) -> list[AttachedFile]:
    """Files attached by the sender. Left out: inline pictures (signature logos), and attached
    emails, whose headers and history are exactly what must not travel on."""
    found: list[AttachedFile] = []
    for part in _files(email.message_from_bytes(raw, policy=compat32)):
        payload = part_payload(part)
        if isinstance(payload, bytes) and payload:
            name = _filename(part) or "attachment"
            found.append(AttachedFile(name, part.get_content_type(), payload))
    return found


def attachment_names(raw: bytes) -> list[str]:
    """The names of the files `attached_files` would give, without holding their bytes."""
    return [_filename(part) or "attachment" for part in _files(message_from_raw(raw))]


def _files(msg: Message) -> list[Message]:
    return [
        part
        for part in leaves(msg)
        if not _is_body_candidate(part)
        and part.get_content_maintype() not in ("message", "multipart")
        and not _inline_picture(part)
    ]


def _inline_picture(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    inline = disposition == "inline" or (not disposition and part.get("Content-ID"))
    return bool(inline) and part.get_content_maintype() == "image"
