"""The files a person attached to an email, with their bytes: what a concern's copy may carry."""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

from bot.intake.parse import _filename, _is_body_candidate, _leaves, part_payload


@dataclass(frozen=True)
class AttachedFile:
    filename: str
    content_type: str
    data: bytes


def attached_files(raw: bytes) -> list[AttachedFile]:
    """Files attached by the sender. Left out: inline pictures (signature logos), and attached
    emails, whose headers and history are exactly what must not travel on."""
    msg = email.message_from_bytes(raw, policy=compat32)
    found: list[AttachedFile] = []
    for part in _leaves(msg):
        if _is_body_candidate(part) or part.get_content_maintype() in ("message", "multipart"):
            continue
        if _inline_picture(part):
            continue
        payload = part_payload(part)
        if not isinstance(payload, bytes) or not payload:
            continue
        name = _filename(part) or "attachment"
        found.append(AttachedFile(name, part.get_content_type(), payload))
    return found


def _inline_picture(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    inline = disposition == "inline" or (not disposition and part.get("Content-ID"))
    return bool(inline) and part.get_content_maintype() == "image"
