"""The Graph sender's quick read of a letter equals the email package's own (policy.default)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import hostile_email, well_formed

from bot.mailbox import graph_mime
from bot.mailbox.graph_mime import Outgoing, parse_outgoing

RECIPIENTS = ["provider@oakview.example", "cmo@council.example"]


def by_the_book(raw: bytes) -> Outgoing | str:
    """parse_outgoing with the message read as the email package reads it, or the error."""
    def read(data: bytes) -> EmailMessage:
        mail = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(mail, EmailMessage)
        return mail

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(graph_mime, "read_message", read)
        return outcome(raw)


def outcome(raw: bytes) -> Outgoing | str:
    try:
        return parse_outgoing(raw, RECIPIENTS, "out-1@council.example")
    except Exception as err:  # the same failure, if any, is what must match
        return type(err).__name__


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_formed())
def test_a_well_formed_letter_reads_the_same(raw: bytes) -> None:
    assert outcome(raw) == by_the_book(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_email())
def test_a_damaged_message_reads_the_same(raw: bytes) -> None:
    assert outcome(raw) == by_the_book(raw)


def test_a_letter_with_an_attached_email_and_an_inline_image_reads_the_same() -> None:
    inner = EmailMessage()
    inner["From"] = "provider@oakview.example"
    inner["Subject"] = "=?utf-8?q?Caf=C3=A9?= concern"
    inner.set_content("The concern as sent.\n")
    letter = EmailMessage()
    letter["From"] = "contract.concerns@council.example"
    letter["To"] = '"Ward, Sam" <sam.ward@council.example>, provider@oakview.example'
    letter["Cc"] = "cmo@council.example"
    letter["Subject"] = "[CC-2027-0001] Your concern about Café Rouge, long enough to be folded"
    letter["In-Reply-To"] = "<in-1@oakview.example>"
    letter.set_content("Dear provider,\n\nPlease reply.\n")
    letter.add_alternative("<p>Dear provider,</p><p>Please reply.</p>", subtype="html")
    html = letter.get_payload()[1]
    html.add_related(b"\x89PNG-bytes", maintype="image", subtype="png", cid="<crest@council>")
    letter.add_attachment(inner)
    letter.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="a.pdf")
    raw = letter.as_bytes()
    read = outcome(raw)
    assert isinstance(read, Outgoing)
    assert read == by_the_book(raw)
    assert read.subject.startswith("[CC-2027-0001] Your concern about Café Rouge")
    assert read.body_type == "html"
    assert {a.name for a in read.attachments} >= {"a.pdf"}
