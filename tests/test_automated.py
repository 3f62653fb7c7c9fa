"""Each automated-mail signal alone, how reports are read, and human mail never mistaken."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.intake import automated as automated_module
from bot.intake.automated import detect_automated
from bot.intake.message import AutomatedVerdict
from bot.intake.parse import parse_mail

OWN = ["council.example"]
BOT = "contract-concerns@council.example"
MAIL_DIR = Path(__file__).parent / "data" / "mail"
SAMPLES = sorted(MAIL_DIR.glob("*.eml"))
SCRIPT = Path(__file__).parent.parent / "scripts" / "detection_rate.py"


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


def _expected(sample: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sample.with_suffix(".json").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Auto-Submitted: auto-generated", "auto-reply"),
        ("Auto-Submitted: auto-replied; owner-email=pat@acme-care.example", "auto-reply"),
        ("Auto-Submitted: auto-replied (vacation)", "auto-reply"),
        ("X-Autorespond: yes", "auto-reply"),
        ("X-Autoresponder: on", "auto-reply"),
        ("X-Auto-Reply: yes", "auto-reply"),
        ("Precedence: junk", "auto-reply"),
        ("Precedence: auto_reply", "auto-reply"),
        ("Precedence: bulk", "list"),
        ("Precedence: list", "list"),
        ("List-Unsubscribe: <mailto:leave@news.example>", "list"),
        ("List-Post: <mailto:forum@lists.example>", "list"),
        ("Mailing-List: contact forum-help@lists.example; run by ezmlm", "list"),
        ("X-MS-Exchange-Inbox-Rules-Loop: pat.lee@acme-care.example", "auto-reply"),
        ("Subject: Auto-Reply: About CC-2025-030", "auto-reply"),
        ("Subject: Out of Office AutoReply: About CC-2025-030", "auto-reply"),
        ("Subject: Réponse automatique : About CC-2025-030", "auto-reply"),
        ("X-Failed-Recipients: gone@acme-care.example", "bounce"),
        ("X-MS-Exchange-Message-Is-Ndr:", "bounce"),
        ("From: Mail Delivery Subsystem <>", "bounce"),
        ("Return-Path: <MAILER-DAEMON@relay.acme-care.example>", "bounce"),
        ("From: postmaster@acme-care.example", "bounce"),
        ("Sender: mailer_daemon@relay.acme-care.example", "bounce"),
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
        "Subject: FW: Undeliverable: About CC-2025-030",
        "Precedence: normal",
        "From: Postmaster <jo.bright@acme-care.example>",  # a name is not a mail system
        "From: Post Master <post.master@acme-care.example>",
        "X-Loop: pat.lee@acme-care.example",
        "Disposition-Notification-To: pat.lee@acme-care.example",  # asks for a receipt: human
        "Return-Receipt-To: pat.lee@acme-care.example",
    ],
)
def test_human_mail_and_lone_weak_signals_are_not_automated(headers: str) -> None:
    assert _verdict(_mail(headers)) == AutomatedVerdict(automated=False)


def test_two_weak_signals_together_are_enough_and_null_sender_does_not_force_bounce() -> None:
    verdict = _verdict(_mail("Return-Path: <>\nSubject: Out of Office: back on Monday"))
    assert (verdict.automated, verdict.kind) == (True, "auto-reply")
    noreply = _verdict(_mail("Return-Path: <>\nFrom: no-reply@portal.acme-care.example"))
    assert (noreply.automated, noreply.kind) == (True, "auto-reply")
    named = _verdict(_mail("Return-Path: <>\nFrom: Postmaster <relay@acme-care.example>"))
    assert (named.automated, named.kind) == (True, "bounce")


def test_report_wording_in_the_body_only_supports_other_evidence() -> None:
    body = "Delivery has failed to these recipients or groups:\n\ngone@acme-care.example\n"
    assert not _verdict(_mail("", body)).automated  # a person pasting an NDR into a mail
    verdict = _verdict(_mail("Subject: Undeliverable: About CC-2025-030", body))
    assert (verdict.kind, verdict.failed_recipients) == ("bounce", ("gone@acme-care.example",))


def test_bounce_outranks_auto_submitted_when_both_present() -> None:
    raw = _mail("Auto-Submitted: auto-replied\nX-Failed-Recipients: a@x.example, B@X.example")
    verdict = _verdict(raw)
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("a@x.example", "b@x.example")
    assert "Auto-Submitted: auto-replied" in verdict.reasons


def _report(
    groups: list[str], report: str = "delivery-status", kinds: tuple[str, ...] = ()
) -> bytes:
    status_type, headers_type = kinds or ("message/delivery-status", "text/rfc822-headers")
    body = (
        "--b1\nContent-Type: text/plain\n\nReport for your message.\n\n"
        f"--b1\nContent-Type: {status_type}\n\nReporting-MTA: dns; relay.acme-care.example\n\n"
        + "\n".join(groups)
        + f"\n--b1\nContent-Type: {headers_type}\n\n"
        "From: contract-concerns@council.example\nTo: gone@acme-care.example\n"
        "Message-ID: <letter-cc-2025-031-1@council.example>\n"
        "Subject: Contract concern CC-2025-031\n\n--b1--\n"
    )
    head = f'MIME-Version: 1.0\nContent-Type: multipart/report; report-type={report}; boundary="b1"'
    return _mail(head, body)


def _group(address: str, action: str | None, status: str = "5.1.1") -> str:
    action_line = f"Action: {action}\n" if action else ""
    return f"Final-Recipient: rfc822; {address}\n{action_line}Status: {status}\n"


def test_dsn_with_headers_only_part_ties_back_to_the_letter() -> None:
    verdict = _verdict(_report([_group("Gone@Acme-Care.example", "failed")]))
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("gone@acme-care.example",)
    assert verdict.original_message_id == "letter-cc-2025-031-1@council.example"


@pytest.mark.parametrize(
    ("actions", "kind", "failed", "action"),
    [
        (("failed",), "bounce", ("a@acme-care.example",), ""),
        (("delayed",), "delivery-report", (), "delayed"),
        (("delivered",), "delivery-report", (), "delivered"),
        (("relayed", "expanded"), "delivery-report", (), "relayed"),
        (("delivered", "failed"), "bounce", ("b@acme-care.example",), ""),
        (("delayed", "delivered"), "delivery-report", (), "delayed"),
    ],
)
def test_per_recipient_actions_decide_failure_or_delivery_report(
    actions: tuple[str, ...], kind: str, failed: tuple[str, ...], action: str
) -> None:
    groups = [_group(f"{'ab'[i]}@acme-care.example", a) for i, a in enumerate(actions)]
    verdict = _verdict(_report(groups))
    assert (verdict.kind, verdict.failed_recipients) == (kind, failed)
    assert verdict.extra.get("action", "") == action
    assert verdict.original_message_id == "letter-cc-2025-031-1@council.example"
    if action:
        assert verdict.extra["recipients"].startswith("a@acme-care.example")


def test_recipient_groups_run_together_and_missing_action_uses_the_status() -> None:
    together = "".join(
        _group(a, None, s)
        for a, s in (
            ("x@acme-care.example", "5.2.2"),
            ("y@acme-care.example", "2.0.0"),
            ("z@acme-care.example", "5.1.1"),
        )
    )
    verdict = _verdict(_report([together]))
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("x@acme-care.example", "z@acme-care.example")


def test_internationalised_report_parts_are_read_like_their_ascii_forms() -> None:
    raw = _report(
        [_group("gone@acme-care.example", "failed")],
        kinds=("message/global-delivery-status", "message/global-headers"),
    )
    verdict = _verdict(raw)
    assert verdict.failed_recipients == ("gone@acme-care.example",)
    assert verdict.original_message_id == "letter-cc-2025-031-1@council.example"


def test_read_receipt_is_automated_but_not_a_bounce() -> None:
    raw = _report(
        ["Final-Recipient: rfc822; gone@acme-care.example\nDisposition: manual-action; seen\n"],
        report="disposition-notification",
        kinds=("message/disposition-notification", "text/rfc822-headers"),
    )
    verdict = _verdict(raw)
    assert (verdict.automated, verdict.kind) == (True, "auto-reply")
    assert verdict.failed_recipients == ()


def test_feedback_report_is_a_delivery_report_not_a_bounce() -> None:
    group = "Feedback-Type: abuse\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
    raw = _report(
        [group], report="feedback-report", kinds=("message/feedback-report", "text/rfc822-headers")
    )
    verdict = _verdict(raw)
    assert (verdict.kind, verdict.failed_recipients) == ("delivery-report", ())
    assert verdict.extra == {"action": "feedback", "feedback_type": "abuse"}


def test_person_forwarding_a_bounce_as_an_attachment_is_not_a_robot() -> None:
    bounce = _report([_group("gone@acme-care.example", "failed")]).decode()
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


def test_free_text_bounce_without_a_copy_skips_senders_and_helpdesks() -> None:
    body = (
        "Your message:\n   From:    contract-concerns@council.example\n\n"
        "Original Sender: <someone@council.example> (rejected)\n"
        "could not be delivered. If this persists contact postmaster@relay.example (550).\n\n"
        "The following recipients were affected:\n    gone@acme-care.example\n\n"
        "Reporting-Host: relay.example\n"
    )
    verdict = _verdict(_mail("From: postmaster@relay.example\nSubject: Undeliverable", body))
    assert verdict.failed_recipients == ("gone@acme-care.example",)
    assert verdict.original_message_id == ""


def test_text_only_delay_warning_is_a_delivery_report_naming_the_recipient() -> None:
    body = (
        "THIS IS A WARNING MESSAGE ONLY.\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\n"
        "Delivery to the following recipient has been delayed:\n\n     slow@acme-care.example\n"
    )
    raw = _mail("From: MAILER-DAEMON@relay.example\nReferences: <letter-7@council.example>", body)
    verdict = _verdict(raw)
    assert (verdict.kind, verdict.failed_recipients) == ("delivery-report", ())
    assert verdict.extra == {"action": "delayed", "recipients": "slow@acme-care.example"}
    assert verdict.original_message_id == "letter-7@council.example"


@pytest.mark.parametrize("filler", ["A" * 100_000, " " * 100_000 + "x", "a@b." * 25_000])
def test_huge_report_lines_are_read_in_one_pass(filler: str) -> None:
    # A quadratic address scan took minutes on lines like these (pasted base64, padding).
    body = f"Your message could not be delivered to gone@acme-care.example\n{filler}\n"
    verdict = _verdict(_mail("From: MAILER-DAEMON@relay.example", body))
    assert verdict.failed_recipients[:1] == ("gone@acme-care.example",)


def test_bounce_without_returned_copy_falls_back_to_in_reply_to() -> None:
    raw = _mail("From: MAILER-DAEMON@relay.example\nIn-Reply-To: <letter-9@council.example>")
    assert _verdict(raw).original_message_id == "letter-9@council.example"


def test_a_report_that_breaks_the_reader_still_gets_its_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_: object) -> None:
        raise ValueError("mangled")

    monkeypatch.setattr(automated_module, "_report", broken)
    raw = _mail("From: MAILER-DAEMON@relay.example\nIn-Reply-To: <letter-9@council.example>")
    verdict = _verdict(raw)
    assert (verdict.kind, verdict.failed_recipients) == ("bounce", ())
    assert verdict.original_message_id == "letter-9@council.example"


def _ses(message: dict[str, Any]) -> bytes:
    envelope = {"Type": "Notification", "Message": json.dumps(message)}
    return _mail("From: no-reply@sns.cloud.example", json.dumps(envelope, indent=2))


def test_amazon_ses_style_notification_is_a_bounce_with_its_recipient() -> None:
    body = '{"Message" : "{\\"notificationType\\":\\"Bounce\\",\\"bouncedRecipients\\":'
    body += '[{\\"emailAddress\\":\\"gone@acme-care.example\\"}]}"}\n'
    verdict = _verdict(_mail("From: no-reply@sns.cloud.example", body))
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == ("gone@acme-care.example",)


@pytest.mark.parametrize(
    ("event", "detail", "kind", "action"),
    [
        ("Bounce", {"bounceType": "Permanent"}, "bounce", ""),
        ("Bounce", {"bounceType": "Transient"}, "delivery-report", "delayed"),
        ("Complaint", {"complaintFeedbackType": "abuse"}, "delivery-report", "feedback"),
        ("Delivery", {"recipients": ["gone@acme-care.example"]}, "delivery-report", "delivered"),
    ],
)
def test_amazon_ses_events_are_told_apart(
    event: str, detail: dict[str, Any], kind: str, action: str
) -> None:
    key = {"Bounce": "bouncedRecipients", "Complaint": "complainedRecipients"}.get(event)
    people = {key: [{"emailAddress": "Gone@acme-care.example"}]} if key else {}
    message = {
        "notificationType": event,
        event.lower(): {**detail, **people},
        "mail": {"commonHeaders": {"messageId": "<letter-cc-2025-033-1@council.example>"}},
    }
    verdict = _verdict(_ses(message))
    assert (verdict.kind, verdict.extra.get("action", "")) == (kind, action)
    if kind == "delivery-report":
        assert verdict.extra["recipients"] == "gone@acme-care.example"
    assert verdict.failed_recipients == (("gone@acme-care.example",) if kind == "bounce" else ())
    assert verdict.original_message_id == "letter-cc-2025-033-1@council.example"


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


# Free-text report layouts after the common mail systems; the detector has no per-system code,
# so any layout that names the recipient on a failure line, a bare line or under a heading works.
LAYOUTS = [
    "Hi. This is the qmail-send program at {relay}.\nI'm afraid I wasn't able to deliver your "
    "message to the following addresses.\nThis is a permanent error; I've given up.\n\n"
    "<{rcpt}>:\n198.51.100.4 does not like recipient.\nRemote host said: 550 5.1.1 unknown\n",
    "This message was created automatically by mail delivery software.\n\nA message that you "
    "sent could not be delivered to one or more of its\nrecipients. This is a permanent error. "
    "The following address(es) failed:\n\n  {rcpt}\n    host {relay} [198.51.100.4]\n"
    "    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n    550 User unknown\n",
    "Delivery has failed to these recipients or groups:\n\n{rcpt}\nThe e-mail address you "
    "entered couldn't be found. Please contact your helpdesk at help@{relay}.\n",
    "   ----- Transcript of session follows -----\n>>> MAIL From:<{sender}>\n<<< 250 ok\n"
    ">>> RCPT To:<{rcpt}>\n<<< 550 5.1.1 <{rcpt}>... User unknown\n",
    "Your message\n\n  Subject: Contract concern\n\nwas not delivered to:\n\n  {rcpt}\n\n"
    "because:\n\n  User {rcpt} not listed in the directory\n",
    "{relay} rejected your message to the following email addresses:\n\nKay Ndlovu ({rcpt})"
    "<mailto:{rcpt}>\nYour message couldn't be delivered. Ask your email admin.\n",
    "Your message from {sender} to {rcpt} could not be delivered.\nFor help write to "
    "postmaster@{relay}.\n",
]
LOCAL = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z0-9]{1,8})?", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6})?\.example", fullmatch=True)


def _check_layout(
    layout: str, rcpt: str, cc: str, relay: str, with_copy: bool, sender: str
) -> None:
    body = layout.format(rcpt=rcpt, relay=relay, sender=BOT)
    if with_copy:
        body += (
            f"\n--- Below this line is a copy of the message.\n\nReceived: from mx.{relay}\n"
            f"From: Contract Concerns <{BOT}>\nTo: {rcpt}\nCc: {cc}\n"
            "Message-ID: <letter-cc-2025-034-1@council.example>\n\nDear provider\n"
        )
    raw = _mail(f"From: {sender.format(relay=relay)}\nSubject: failure notice", body)
    verdict = _verdict(raw)
    assert verdict.kind == "bounce"
    assert verdict.failed_recipients == (rcpt,)
    want_id = "letter-cc-2025-034-1@council.example" if with_copy else ""
    assert verdict.original_message_id == want_id


@pytest.mark.parametrize("with_copy", [False, True])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_free_text_layout_names_the_failed_recipient(layout: str, with_copy: bool) -> None:
    args = ("kay.ndlovu@greenfields.example", "cc.person@greenfields.example", "relay.example")
    _check_layout(layout, *args, with_copy, "MAILER-DAEMON@{relay}")


@settings(max_examples=120, deadline=None)
@given(
    layout=st.sampled_from(LAYOUTS),
    rcpt=st.builds("{}@{}".format, LOCAL, DOMAIN),
    cc=st.builds("{}@{}".format, LOCAL, DOMAIN),
    relay=DOMAIN,
    with_copy=st.booleans(),
    sender=st.sampled_from(["MAILER-DAEMON@{relay}", "postmaster@{relay}", "<>"]),
)
def test_free_text_reports_name_exactly_the_failed_recipient(
    layout: str, rcpt: str, cc: str, relay: str, with_copy: bool, sender: str
) -> None:
    _check_layout(layout, rcpt, cc, relay, with_copy, sender)


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_golden_sample_report_details(sample: Path) -> None:
    raw = sample.read_bytes()
    want = _expected(sample)["automated"]
    verdict = detect_automated(parse_mail(raw), raw, OWN, own_addresses=[BOT])
    assert (verdict.automated, verdict.kind) == (want["automated"], want["kind"])
    if "extra" in want:
        assert verdict.extra == want["extra"]
    if verdict.kind != "bounce":  # only a failure names failed recipients
        assert verdict.failed_recipients == ()
    if verdict.kind in ("bounce", "delivery-report"):
        assert all("@" in a and a == a.lower() for a in verdict.failed_recipients)
    if not verdict.automated:
        assert verdict == AutomatedVerdict(automated=False)


def test_golden_samples_cover_many_systems_and_the_human_mail_beside_them() -> None:
    kinds = Counter(_expected(p)["automated"]["kind"] or "human" for p in SAMPLES)
    assert len(SAMPLES) >= 40
    assert all(p.with_suffix(".json").exists() for p in SAMPLES)
    assert set(kinds) == {"bounce", "delivery-report", "auto-reply", "list", "loop", "human"}
    assert kinds["bounce"] >= 12 and kinds["human"] >= 15 and kinds["delivery-report"] >= 4


def _load_script(monkeypatch: pytest.MonkeyPatch) -> Any:
    spec = importlib.util.spec_from_file_location("detection_rate", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "detection_rate", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_detection_rate_script_reports_rates_kinds_and_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("postfix-bounce", "gmail-dsn-delay", "plain-referral"):
        for suffix in (".eml", ".json"):
            (tmp_path / f"{name}{suffix}").write_bytes((MAIL_DIR / f"{name}{suffix}").read_bytes())
    wrong = {"automated": {"automated": True, "kind": "bounce"}}
    (tmp_path / "gmail-dsn-delay.json").write_text(json.dumps(wrong), encoding="utf-8")
    (tmp_path / "empty.eml").write_bytes(b"")
    assert _load_script(monkeypatch).main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "files 4" in lines
    assert "detected automated 2 50.0%" in lines
    assert "kind bounce 1" in lines and "kind delivery-report (delayed) 1" in lines
    assert "bounces with failed recipients 1 100.0%" in lines
    assert lines[lines.index("not detected (2):") + 1 :][:2] == ["empty.eml", "plain-referral.eml"]
    assert "agrees with the expected reading: 2 of 3" in lines
    assert "disagrees: gmail-dsn-delay.eml (expected bounce)" in lines
