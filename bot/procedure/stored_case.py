"""A case read from its stored JSON with the timeline left unread, and written back whole."""

from __future__ import annotations

from bot.procedure.case import Case

# The model writes its fields in their declared order: the timeline is followed by the
# Message-IDs of the thread. Every quote inside a JSON string is escaped, so these bytes, with
# their bare quotes, only ever occur as the document's own structure: the timeline's key (the
# last one: the case's data, which may hold any key, comes before it) and the end of its array
# (timeline entries hold no arrays).
_KEY = b',"timeline":['
_NEXT = b'],"thread_ids":['
_KEY_TAIL = b'],"'  # a bracket before a key: structure, which no timeline entry holds


def read_case(doc: bytes) -> Case:
    """The case, its timeline read only when first asked for; a document not laid out as the
    model writes one (older, or written from a dict) is read whole."""
    start = doc.rfind(_KEY)
    end = doc.find(_NEXT, start) if start >= 0 else -1
    entries = doc[start + len(_KEY) - 1 : end + 1] if end >= 0 else b""
    if end < 0 or _KEY_TAIL in entries[:-1]:
        return Case.model_validate_json(doc)
    case = Case.model_validate_json(doc[:start] + b',"timeline":[]' + doc[end + 1 :])
    if case.timeline:  # the case's own timeline came before the one cut out: not its layout
        return Case.model_validate_json(doc)
    if len(entries) > 2:
        case.leave_unread(entries)
    return case


def case_json(case: Case) -> bytes:
    """The case as the model writes it; a timeline still unread is copied in as it was read,
    with the entries noted since after it, and from then on is held unread as written (so
    the entries noted since are always those the case's last written JSON lacks)."""
    parts = case.unread_parts()
    serializer = Case.__pydantic_serializer__
    if parts is None:
        return serializer.to_json(case)
    unread, noted = parts
    fields = case.with_timeline(noted)
    try:
        doc = serializer.to_json(case)
    finally:
        object.__setattr__(case, "__dict__", fields)
    at = doc.rfind(_KEY) + len(_KEY)  # just inside the noted entries' array
    if not noted:
        return doc[: at - 1] + unread + doc[at + 1 :]
    earlier = unread[1:-1]
    doc = doc[:at] + earlier + (b"," if earlier else b"") + doc[at:]
    case.leave_unread(doc[at - 1 : doc.find(_NEXT, at) + 1])
    return doc
