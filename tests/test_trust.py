"""Trustworthy intake: bounces of our letters, outsiders naming a case, reply-all threading."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from bot.clock import LONDON
from bot.demo.harness import Workspace

OAKVIEW = "manager@oakview-care.example"
JSMITH = "jane.smith@council.example"
SAM = "sam.ward@council.example"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def eligible_case(ws: Workspace) -> EmailMessage:
    """Open a case for Oakview, screen it eligible; return the concern letter the bot sent."""
    ws.email(
        SAM,
        "Concern: Oakview Care Home",
        "Oakview Care Home missed medication rounds.",
        at=at("2026-11-02T10:00"),
    )
    ws.run(at("2026-11-02T10:05"))
    ws.email(
        JSMITH, "RE: [CC-2026-0001] concern", "screen: eligible\napprove", at=at("2026-11-02T11:00")
    )
    ws.run(at("2026-11-02T11:05"))
    (letter,) = [m for m in ws.sent() if "request to review" in str(m["Subject"])]
    return letter


def dsn_for(letter: EmailMessage, failed: str) -> bytes:
    """A delivery status notification in the RFC 3464 shape, as a receiving MTA writes it."""
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.oakview-care.example>"
    report["To"] = "contract.concerns@council.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<dsn-1@mx.oakview-care.example>"
    report["Date"] = "Mon, 02 Nov 2026 11:20:00 +0000"
    report["Auto-Submitted"] = "auto-replied"
    report.set_content(
        f"I'm sorry to have to inform you that your message could not be "
        f"delivered to {failed}: mailbox unavailable."
    )
    status = EmailMessage()
    status.set_content(
        f"Reporting-MTA: dns; mx.oakview-care.example\n\n"
        f"Final-Recipient: rfc822; {failed}\nAction: failed\nStatus: 5.1.1\n"
    )
    headers = "".join(
        f"{k}: {v}\n"
        for k, v in letter.items()
        if k in ("From", "To", "Subject", "Message-ID", "Date")
    )
    report.add_attachment(headers.encode(), maintype="text", subtype="rfc822-headers")
    raw = bytes(report)
    # Mark it a DSN the way MTAs do: multipart/report; report-type=delivery-status.
    return raw.replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)


def test_a_bounced_letter_is_marked_undelivered_and_the_officer_told_the_same_day(
    workspace: Workspace,
) -> None:
    letter = eligible_case(workspace)
    workspace.mailbox.deliver(dsn_for(letter, OAKVIEW), at("2026-11-02T11:20"))
    before = len(workspace.sent())
    workspace.run(at("2026-11-02T11:25"))
    new = workspace.sent()[before:]
    (alert,) = [m for m in new if "Letter not delivered" in str(m["Subject"])]
    assert str(alert["To"]) == JSMITH
    assert "[CC-2026-0001]" in str(alert["Subject"])
    body = alert.get_body(("plain",))
    assert body is not None and OAKVIEW in body.get_content()
    # Never answered: nothing goes back to the mailer daemon.
    assert not [m for m in new if "mailer-daemon" in str(m["To"]).lower()]
    case = workspace.app.cases.get("CC-2026-0001")
    assert case is not None and case.stage == "awaiting_provider"  # no clock stopped
    assert case.data["undelivered"][0]["failed"] == [OAKVIEW]


def test_a_reference_named_by_an_outsider_goes_to_triage(workspace: Workspace) -> None:
    eligible_case(workspace)
    workspace.email(
        "someone@elsewhere.example",
        "RE: [CC-2026-0001] Contract concern",
        "We accept the allegations.",
        at=at("2026-11-03T10:00"),
    )
    workspace.run(at("2026-11-03T10:05"))
    case = workspace.app.cases.get("CC-2026-0001")
    assert case is not None and case.stage == "awaiting_provider"
    (item,) = workspace.app.store.triage_items()
    assert "takes no part" in item["reason"] and item["reference"] is None


def test_another_cases_referrer_is_a_third_party_here_and_moves_nothing(
    workspace: Workspace,
) -> None:
    eligible_case(workspace)
    before = len(workspace.sent())
    workspace.email(
        "chris.evans@council.example",
        "RE: [CC-2026-0001] Contract concern",
        "We accept the allegations.",  # read as the provider's, it would move the case on
        at=at("2026-11-03T10:00"),
    )
    workspace.run(at("2026-11-03T10:05"))
    case = workspace.app.cases.get("CC-2026-0001")
    assert case is not None and case.stage == "awaiting_provider"
    assert workspace.app.store.triage_items() == []
    assert [e.kind for e in case.timeline if "chris.evans" in e.text] == ["mail_in", "comment"]
    (told,) = workspace.sent()[before:]
    assert str(told["To"]) == JSMITH and "outside the case" in str(told["Subject"])


def test_the_provider_reply_to_a_forwarded_letter_threads_by_subject(workspace: Workspace) -> None:
    eligible_case(workspace)
    workspace.email(
        OAKVIEW,
        "FW: [CC-2026-0001] Contract concern",
        "We accept the allegations.",
        at=at("2026-11-03T10:00"),
    )
    workspace.run(at("2026-11-03T10:05"))
    case = workspace.app.cases.get("CC-2026-0001")
    assert case is not None and case.stage == "review"


def test_a_mail_loop_is_stopped_by_the_daily_cap_and_the_admins_told(
    workspace: Workspace,
) -> None:
    cap = workspace.app.config.limits.daily_cap_per_recipient
    # A robot that slips past the automated-mail checks and writes new "concerns" all day:
    # each one is acknowledged, until the cap holds the rest.
    for n in range(cap + 3):
        workspace.email(
            "loop.robot@council.example",
            f"Concern {n} about Oakview Care Home",
            "Oakview Care Home missed medication.",
            at=at("2026-11-02T10:00"),
        )
    workspace.run(at("2026-11-02T10:30"))
    to_robot = [m for m in workspace.sent() if str(m["To"]) == "loop.robot@council.example"]
    assert len(to_robot) == cap
    held = [i for i in workspace.app.store.outbox_pending() if "loop.robot" in str(i["to"])]
    assert len(held) == 3
    alerts = [
        body.get_content()
        for m in workspace.sent()
        if "needs attention" in str(m["Subject"]) and (body := m.get_body(("plain",)))
    ]
    # One alert per capped address per day (the officer's screening requests hit it too).
    assert len([a for a in alerts if "loop.robot@council.example" in a]) == 1
    # The next day the held acknowledgements go out.
    workspace.run(at("2026-11-03T09:30"))
    to_robot = [m for m in workspace.sent() if str(m["To"]) == "loop.robot@council.example"]
    assert len(to_robot) == cap + 3


AUTH_ON = {"require_authenticated_commands: false": "require_authenticated_commands: true"}


def command_mail(ws: Workspace, body: str, when: str, auth: str | None) -> None:
    headers = {"Authentication-Results": auth} if auth else {}
    ws.email(JSMITH, "RE: [CC-2026-0001] concern", body, at=at(when), headers=headers)


def test_an_unauthenticated_instruction_is_quarantined_and_the_officer_alerted(
    tmp_path: Path,
) -> None:
    ws = Workspace(tmp_path / "ws", at("2026-11-02T08:00"), replace=AUTH_ON)
    try:
        ws.email(
            SAM,
            "Concern: Oakview Care Home",
            "Oakview Care Home missed medication.",
            at=at("2026-11-02T10:00"),
        )
        ws.run(at("2026-11-02T10:05"))
        # Forged: claims to be the officer, but no trusted server vouches for it.
        command_mail(
            ws,
            "screen: eligible",
            "2026-11-02T11:00",
            "mx.attacker.example; dmarc=pass header.from=council.example",
        )
        ws.run(at("2026-11-02T11:05"))
        case = ws.app.cases.get("CC-2026-0001")
        assert case is not None and case.stage == "screening"
        assert len(ws.mailbox.sent_messages("quarantine")) == 1
        alerts = [m for m in ws.sent() if "Instruction not obeyed" in str(m["Subject"])]
        assert len(alerts) == 1 and str(alerts[0]["To"]) == JSMITH
        assert not [m for m in ws.sent() if "Commands received" in str(m["Subject"])]
        # Genuine: our own server checked DMARC for the council's domain.
        command_mail(
            ws,
            "screen: eligible\napprove",
            "2026-11-02T11:30",
            "mx.council.example; dkim=pass header.d=council.example; "
            "dmarc=pass (p=reject) header.from=council.example",
        )
        ws.run(at("2026-11-02T11:35"))
        case = ws.app.cases.get("CC-2026-0001")
        assert case is not None and case.stage == "awaiting_provider"
    finally:
        ws.close()


def test_a_manager_copied_in_replies_all_and_is_threaded_to_the_case(
    workspace: Workspace,
) -> None:
    letter = eligible_case(workspace)
    workspace.email(
        OAKVIEW,
        "RE: [CC-2026-0001] Contract concern",
        "We dispute the allegations.",
        at=at("2026-11-03T10:00"),
        in_reply_to=str(letter["Message-ID"]).strip("<>"),
    )
    workspace.run(at("2026-11-03T10:05"))
    # Day 7: the referrer is reminded, with their manager copied in.
    workspace.run(at("2026-11-10T09:05"))
    (reminder,) = [m for m in workspace.sent() if "laura.green" in str(m["Cc"])]
    manager = "laura.green@council.example"
    # The manager replies to all, quoting the reminder; no reference typed by hand.
    workspace.email(
        manager,
        "Re: reminder",
        "Sam is on leave; I will reply by Friday.",
        at=at("2026-11-10T11:00"),
        in_reply_to=str(reminder["Message-ID"]).strip("<>"),
    )
    workspace.run(at("2026-11-10T11:05"))
    case = workspace.app.cases.get("CC-2026-0001")
    assert case is not None
    assert manager in case.participants
    assert any(e.kind == "mail_in" and manager in e.text for e in case.timeline)
    assert not any("takes no part" in t["reason"] for t in workspace.app.store.triage_items())


def test_a_failed_dmarc_verdict_is_never_obeyed_even_on_the_demo_config(
    workspace: Workspace,
) -> None:
    ws = workspace  # the example config: require_authenticated_commands is false
    assert not ws.app.config.security.require_authenticated_commands
    ws.email(SAM, "Concern: Oakview Care Home", "Oakview missed meds.", at=at("2026-11-02T10:00"))
    ws.run(at("2026-11-02T10:05"))
    command_mail(
        ws,
        "screen: eligible",
        "2026-11-02T11:00",
        "mx.council.example; spf=fail smtp.mailfrom=council.example; "
        "dmarc=fail (p=reject) header.from=council.example",
    )
    ws.run(at("2026-11-02T11:05"))
    case = ws.app.cases.get("CC-2026-0001")
    assert case is not None and case.stage == "screening"
    ((_, kept),) = ws.mailbox.sent_messages("quarantine")
    assert b"dmarc=fail" in kept
    alerts = [m for m in ws.sent() if "Instruction not obeyed" in str(m["Subject"])]
    assert len(alerts) == 1 and str(alerts[0]["To"]) == JSMITH
    text = next(p for p in alerts[0].walk() if p.get_content_type() == "text/plain")
    assert "forged" in text.get_content()
    # Without the failed verdict the demo config obeys the same officer, as before.
    command_mail(ws, "screen: eligible", "2026-11-02T11:30", "")
    ws.run(at("2026-11-02T11:35"))
    case = ws.app.cases.get("CC-2026-0001")
    # Obeyed: screened eligible, the letter now waits for the officer's approval (issue 11).
    assert case is not None and case.stage == "letter_approval"
