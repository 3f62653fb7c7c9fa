"""Each automated-mail signal on its own, and the human mail that must never be mistaken."""

from __future__ import annotations

import pytest

from bot.intake.automated import detect_automated
from bot.intake.message import AutomatedVerdict
from bot.intake.parse import parse_mail

OWN = ["council.example"]
BOT = "contract-concerns@council.example"


def _mail(headers: str, body: str = "Hello.\n") -> bytes:
    base = "To: contract-concerns@council.example\nDate: Mon, 7 Apr 2025 10:00:00 +0100\n"
    if "From:" not in headers:
        base += "From: Pat Lee <pat.lee@acme-care.example>\n"
    if "Subject:" not in headers:
        base += "Subject: About CC-2025-030\n"
    return (base + headers.strip("\n") + "\n\n" + body).encode("utf-8")


def _verdict(
    raw: bytes,
    own_addresses: tuple[str, ...] = (BOT,),
    loop_header: str = "X-Contract-Concerns-Loop",
) -> AutomatedVerdict:
    return detect_automated(parse_mail(raw), raw, OWN, loop_header, own_addresses=own_addresses)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Auto-Submitted: auto-generated", "auto-reply"),
        ("Auto-Submitted: auto-replied; owner-email=pat@acme-care.example", "auto-reply"),
        ("X-Autorespond: yes", "auto-reply"),
        ("X-Autoresponder: on", "auto-reply"),
        ("Precedence: junk", "auto-reply"),
        ("Precedence: bulk", "list"),
        ("Precedence: list", "list"),
        ("List-Unsubscribe: <mailto:leave@news.example>", "list"),
        ("X-MS-Exchange-Inbox-Rules-Loop: pat.lee@acme-care.example", "auto-reply"),
        ("Subject: Auto-Reply: About CC-2025-030", "auto-reply"),
        ("X-Failed-Recipients: gone@acme-care.example", "bounce"),
        ("From: Mail Delivery Subsystem <>", "bounce"),
        ("Return-Path: <MAILER-DAEMON@relay.acme-care.example>", "bounce"),
        ("From: postmaster@acme-care.example", "bounce"),
    ],
)
def test_single_strong_signal_decides(headers: str, kind: str) -> None:
    verdict = _verdict(_mail(headers))
    assert verdict.automated
    assert verdict.kind == kind
    assert verdict.reasons


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: no",
        "Subject: Out of office: Friday, cover arrangements",
        "Subject: Delivery failure at Oakwood: missed care visits",
        "Return-Path: <>",
        "From: No Reply Team <no-reply@acme-care.example>",
        "Subject: Re: Automatic reply: About CC-2025-030",
        "Precedence: normal",
    ],
)
def test_human_mail_and_lone_weak_signals_are_not_automated(headers: str) -> None:
    assert _verdict(_mail(headers)) == AutomatedVerdict(automated=False)


def test_two_weak_signals_together_are_enough_and_null_sender_does_not_force_bounce() -> None:
    verdict = _verdict(_mail("Return-Path: <>\nSubject: Out of Office: back on Monday"))
    assert (verdict.automated, verdict.kind) == (True, "auto-reply")
    noreply = _verdict(_mail("Return-Path: <>\nFrom: no-reply@portal.acme-care.example"))
    assert (noreply.automated, noreply.kind) == (True, "auto-reply")


def test_bounce_outranks_auto_submitted_when_both_present() -> None:
    raw = _mail("Auto-Submitted: auto-replied\nX-Failed-Recipients: a@x.example, B@X.example")
    verdict = _verdict(raw)
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("a@x.example", "b@x.example")
    assert "Auto-Submitted: auto-replied" in verdict.reasons


REPORT = """MIME-Version: 1.0
Content-Type: multipart/report; report-type={report}; boundary="b1"

--b1
Content-Type: text/plain

Report for your message.

--b1
Content-Type: {status_type}

Reporting-MTA: dns; relay.acme-care.example

Final-Recipient: rfc822; Gone@Acme-Care.example
Action: failed
Status: 5.1.1

--b1
Content-Type: text/rfc822-headers

From: contract-concerns@council.example
To: gone@acme-care.example
Message-ID: <letter-cc-2025-031-1@council.example>
Subject: Contract concern CC-2025-031

--b1--
"""


def test_dsn_with_headers_only_part_ties_back_to_the_letter() -> None:
    body = REPORT.format(report="delivery-status", status_type="message/delivery-status")
    head, _, rest = body.partition("\n\n")
    verdict = _verdict(_mail(head, rest))
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("gone@acme-care.example",)
    assert verdict.original_message_id == "letter-cc-2025-031-1@council.example"


def test_read_receipt_is_automated_but_not_a_bounce() -> None:
    body = REPORT.format(
        report="disposition-notification", status_type="message/disposition-notification"
    )
    head, _, rest = body.partition("\n\n")
    verdict = _verdict(_mail(head, rest))
    assert (verdict.automated, verdict.kind) == (True, "auto-reply")
    assert verdict.failed_recipients == ()


def test_person_forwarding_a_bounce_as_an_attachment_is_not_a_robot() -> None:
    bounce = REPORT.format(report="delivery-status", status_type="message/delivery-status")
    inner = "From: MAILER-DAEMON@relay.acme-care.example\nSubject: Undeliverable\n" + bounce
    body = (
        "--fw\nContent-Type: text/plain\n\nSee the bounce below - which address is right?\n\n"
        f"--fw\nContent-Type: message/rfc822\n\n{inner}\n--fw--\n"
    )
    raw = _mail('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="fw"', body)
    assert _verdict(raw) == AutomatedVerdict(automated=False)


def test_free_text_bounce_trusts_only_addresses_the_letter_was_sent_to() -> None:
    body = (
        "Your message could not be delivered to visits@acme-care.example.\n"
        "Contact helpdesk@relay.example for help.\n\n"
        "Received: from mx.council.example\n"
        "From: contract-concerns@council.example\n"
        "To: Visits <visits@acme-care.example>\n"
        "Message-ID: <letter-cc-2025-032-1@council.example>\n\nDear provider\n"
    )
    verdict = _verdict(_mail("From: postmaster@relay.example\nSubject: Undeliverable", body))
    assert verdict.failed_recipients == ("visits@acme-care.example",)
    assert verdict.original_message_id == "letter-cc-2025-032-1@council.example"


def test_bounce_without_returned_copy_falls_back_to_in_reply_to() -> None:
    raw = _mail("From: MAILER-DAEMON@relay.example\nIn-Reply-To: <letter-9@council.example>")
    assert _verdict(raw).original_message_id == "letter-9@council.example"


def test_amazon_ses_style_notification_is_a_bounce_with_its_recipient() -> None:
    body = '{"Message" : "{\\"notificationType\\":\\"Bounce\\",\\"bouncedRecipients\\":'
    body += '[{\\"emailAddress\\":\\"gone@acme-care.example\\"}]}"}\n'
    verdict = _verdict(_mail("From: no-reply@sns.cloud.example", body))
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("gone@acme-care.example",)


@pytest.mark.parametrize(
    ("headers", "own_addresses", "automated"),
    [
        # Staff share the council domain: their Message-IDs are council ones too.
        ("From: amir@council.example\nMessage-ID: <a1@council.example>", (BOT,), False),
        (f"From: {BOT}\nMessage-ID: <letter-1@council.example>", (BOT,), True),
        (f"From: {BOT}\nMessage-ID: <letter-1@mail.council.example>", (BOT,), True),
        (f"From: {BOT}\nMessage-ID: <a1@prod.outlook.example>", (BOT,), False),
        (f"From: {BOT}\nMessage-ID: <letter-1@council.example>", (), False),
    ],
)
def test_own_message_id_is_a_loop_only_from_our_own_address(
    headers: str, own_addresses: tuple[str, ...], automated: bool
) -> None:
    verdict = _verdict(_mail(headers), own_addresses=own_addresses)
    assert verdict.automated is automated
    assert verdict.kind == ("loop" if automated else "")


def test_loop_header_name_is_configurable() -> None:
    raw = _mail("X-Our-Bot: CC-2025-030")
    assert not _verdict(raw).automated
    assert _verdict(raw, loop_header="X-Our-Bot").kind == "loop"


def test_unparseable_raw_still_gives_a_header_based_verdict() -> None:
    mail = parse_mail(_mail("Auto-Submitted: auto-replied"))
    verdict = detect_automated(mail, b"\xff\xfe not mail", OWN)
    assert (verdict.automated, verdict.kind) == (True, "auto-reply")
