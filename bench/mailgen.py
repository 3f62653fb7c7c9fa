"""Raw RFC 5322 emails of each kind a council's shared mailbox receives (all text invented here)."""

from __future__ import annotations

import base64
import random
from datetime import datetime
from email.utils import format_datetime

MAILBOX = "contract.concerns@council.example"
AUTH = (
    "mx.council.example; dmarc=pass header.from=council.example; "
    "spf=pass smtp.mailfrom=council.example; dkim=pass header.d=council.example"
)
ISSUES = (
    ("missed medication rounds", "Two residents did not receive their evening medicines."),
    ("late and missed visits", "Carers arrived over two hours late on several mornings."),
    ("staffing below the agreed level", "Night shifts ran with one carer instead of two."),
    ("poor record keeping", "Daily notes were blank for most of last week."),
    ("unsafe moving and handling", "A hoist was used without the sling assessment."),
    ("complaints not answered", "Three family complaints have had no reply in six weeks."),
    ("cleanliness of the kitchen", "Food was stored past its date in the main fridge."),
)
PROVIDER_REPLIES = (
    "We accept the findings and have begun an internal review of the rota.",
    "We do not accept the allegations. Our records show every visit was made on time.",
    "Thank you for your letter. We accept the concern and attach our action plan.",
    "We dispute the concern and would like to meet to go through the evidence.",
    "Could you confirm the dates you are referring to? We will reply in full this week.",
)
OFFICER_LINES = (
    "screen: eligible",
    "screen: operational",
    "investigation concluded",
    "Conclusion: the concern is substantiated in part.\nRecommendation: close with remedial "
    "actions.\nRemedial action: refresher training for all staff within 28 days\nRefer to SPO",
    "Decision: agreed\nDefault notice: no",
    "provider accepts",
    "review complete",
    "note: spoke to the registered manager on the phone today",
)
SPAM = (
    ("Your invoice is overdue", "Please pay the attached invoice today to avoid suspension."),
    ("Webinar: procurement trends", "Join our free webinar on the future of public contracts."),
    ("You have a new voicemail", "Click the link to listen to your new voicemail message."),
    ("Quick question", "Are you the right person to talk to about office supplies?"),
)
SIGNATURE = "\r\n\r\nKind regards\r\n{name}\r\n"


def _headers(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key}: {value}\r\n" for key, value in pairs)


def _text(
    pairs: list[tuple[str, str]], body: str, charset: str = "utf-8", cte: str = "8bit"
) -> bytes:
    """A message as a desktop mail client sends it: text and HTML alternatives, the HTML with
    the client's style sheet and the sender's disclaimer, which is most of a real email's size."""
    seed = sum(map(ord, body)) + len(body)
    boundary = f"=_alt_{seed:x}_{len(pairs)}"
    text = (body + DISCLAIMER).replace("\n", "\r\n")
    html = _html(body).replace("\n", "\r\n")
    head = [
        *pairs,
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    parts = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=\"{charset}\"\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n{text}\r\n"
        f"--{boundary}\r\nContent-Type: text/html; charset=\"{charset}\"\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n{html}\r\n--{boundary}--\r\n"
    )
    return (_headers(head) + "\r\n" + parts).encode()


# Invented for the benchmark: the kind of disclaimer a public body appends to every email.
DISCLAIMER = (
    "\n\n--\nThis email and any files sent with it are intended only for the named recipient "
    "and may contain personal or sensitive information. If it reached you by mistake, please "
    "tell the sender and delete it: do not copy, use or pass on any part of it. Emails sent to "
    "or from this organisation may be monitored and may have to be disclosed under the Freedom "
    "of Information Act 2000 or data protection law. Viruses: although we check outgoing mail, "
    "we cannot accept liability for any damage caused by this email or its attachments.\n"
)
_FONTS = ("Cambria Math", "Calibri", "Aptos", "Segoe UI", "Arial", "Verdana", "Tahoma")
# A style sheet shaped like a desktop client's (font faces, paragraph and list classes).
_STYLE = "\n".join(
    [f"@font-face {{font-family:\"{font}\"; panose-1:2 4 5 3 5 4 6 3 2 4;}}" for font in _FONTS]
    + [
        f"p.Style{n}, li.Style{n}, div.Style{n} {{margin:0cm; font-size:{10 + n % 4}.0pt; "
        f"font-family:\"{_FONTS[n % len(_FONTS)]}\",sans-serif; mso-ligatures:standardcontextual;}}"
        for n in range(40)
    ]
    + ["@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}",
       "div.WordSection1 {page:WordSection1;}"]
)


def _html(body: str) -> str:
    paragraphs = "".join(
        f'<p class="Style{n % 40}"><span lang="EN-GB">{line or "&nbsp;"}</span></p>\n'
        for n, line in enumerate(body.split("\n"))
    )
    notice = "".join(f"<p class=\"Style3\">{line}</p>\n" for line in DISCLAIMER.split("\n") if line)
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        f"<style><!--\n{_STYLE}\n--></style></head>\n"
        f'<body lang="EN-GB" link="#467886"><div class="WordSection1">\n{paragraphs}'
        f'<div style="border-top:solid #E1E1E1 1.0pt">{notice}</div></div></body></html>'
    )


def basics(sender: str, subject: str, at: datetime, message_id: str) -> list[tuple[str, str]]:
    return [
        ("From", sender),
        ("To", MAILBOX),
        ("Subject", subject),
        ("Date", format_datetime(at)),
        ("Message-ID", f"<{message_id}>"),
    ]


def referral(
    rng: random.Random, sender: str, name: str, provider: str, at: datetime, message_id: str
) -> bytes:
    issue, detail = rng.choice(ISSUES)
    subject = f"Concern: {provider} {issue}"
    body = (
        f"Dear Contract Management Team,\n\nI am raising a contract concern about {provider}. "
        f"{detail}\n\nThe safeguarding enquiry has concluded and found the concern "
        f"substantiated.{SIGNATURE.format(name=name)}"
    )
    pairs = basics(f"{name} <{sender}>", subject, at, message_id)
    if rng.random() < 0.2:  # one in five comes with a document
        return _with_attachment(pairs, body, rng)
    return _text(pairs, body)


def _with_attachment(pairs: list[tuple[str, str]], body: str, rng: random.Random) -> bytes:
    boundary = f"=_part_{rng.getrandbits(48):x}"
    blob = base64.encodebytes(rng.randbytes(rng.randrange(2000, 20000))).decode()
    parts = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + body.replace("\n", "\r\n")
        + f"\r\n--{boundary}\r\nContent-Type: application/pdf; name=notes.pdf\r\n"
        "Content-Disposition: attachment; filename=notes.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + blob.replace("\n", "\r\n")
        + f"\r\n--{boundary}--\r\n"
    )
    head = [*pairs, ("MIME-Version", "1.0")]
    head.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
    return (_headers(head) + "\r\n" + parts).encode()


def reply(
    sender: str,
    reference: str,
    in_reply_to: str | None,
    body: str,
    at: datetime,
    message_id: str,
    *,
    extra: list[tuple[str, str]] | None = None,
    subject: str = "RE: [{ref}] Contract concern",
) -> bytes:
    pairs = basics(sender, subject.format(ref=reference), at, message_id)
    if in_reply_to:
        pairs += [("In-Reply-To", f"<{in_reply_to}>"), ("References", f"<{in_reply_to}>")]
    quoted = (
        f"\n\nOn {format_datetime(at)}, Contract Concerns <{MAILBOX}> wrote:\n"
        f"> Case {reference}: please reply to this email.\n"
    )
    return _text(pairs + (extra or []), body + quoted)


def auto_reply(
    rng: random.Random, sender: str, reference: str, at: datetime, message_id: str
) -> bytes:
    extra = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
    if rng.random() < 0.5:
        extra.append(("X-MS-Exchange-Inbox-Rules-Loop", sender))
    body = "I am out of the office until Monday and have limited access to email."
    subject = "Automatic reply: [{ref}] Contract concern"
    return reply(sender, reference, None, body, at, message_id, extra=extra, subject=subject)


def bounce(
    rng: random.Random, recipient: str, original_id: str, at: datetime, message_id: str
) -> bytes:
    boundary = f"=_dsn_{rng.getrandbits(48):x}"
    domain = recipient.rsplit("@", 1)[-1]
    pairs = basics(
        f"Mail Delivery System <MAILER-DAEMON@mx.{domain}>",
        "Undelivered Mail Returned to Sender",
        at,
        message_id,
    )
    pairs += [
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/report; report-type=delivery-status; boundary="{boundary}"'),
    ]
    body = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message to <{recipient}> could not be delivered: the mailbox does not exist.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.{domain}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: user unknown\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {MAILBOX}\r\nTo: {recipient}\r\nSubject: Contract concern\r\n"
        f"Message-ID: <{original_id}>\r\n"
        f"--{boundary}--\r\n"
    )
    return (_headers(pairs) + "\r\n" + body).encode()


def stranger(rng: random.Random, at: datetime, message_id: str) -> bytes:
    subject, body = rng.choice(SPAM)
    domain = f"{rng.choice(('promo', 'deals', 'mailer', 'news'))}{rng.randrange(100)}.example"
    pairs = basics(f"Sales <hello@{domain}>", subject, at, message_id)
    if rng.random() < 0.5:
        pairs += [("List-Unsubscribe", f"<mailto:unsubscribe@{domain}>"), ("Precedence", "bulk")]
    return _text(pairs, body + "\n\nTo stop these emails, reply STOP.")


def malformed(rng: random.Random, at: datetime, message_id: str) -> bytes:
    """Broken mail of the kinds real mailboxes hold; which one is chosen at random."""
    kind = rng.randrange(6)
    date = format_datetime(at)
    if kind == 0:  # no From, no Date
        return f"To: {MAILBOX}\r\nSubject: no sender\r\n\r\nWho sent this?\r\n".encode()
    if kind == 1:  # multipart whose boundary never closes
        return (
            f"From: a.person@nhs.example\r\nTo: {MAILBOX}\r\nDate: {date}\r\n"
            f"Message-ID: <{message_id}>\r\nSubject: broken parts\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="never"\r\n\r\n'
            "--never\r\nContent-Type: text/plain\r\n\r\nThe rest was lost.\r\n"
        ).encode()
    if kind == 2:  # says utf-8, is latin-1
        pairs = basics("b.person@nhs.example", "Caf\u00e9 visit", at, message_id)
        return _headers(pairs).encode() + (
            b'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n'
            b"We met at the caf\xe9 on the \xbd day.\r\n"
        )
    if kind == 3:  # raw 8-bit bytes in a header
        return (
            f"From: c.person@council.example\r\nTo: {MAILBOX}\r\nDate: {date}\r\n"
            f"Message-ID: <{message_id}>\r\n"
        ).encode() + b"Subject: Concern \xff\xfe about \xe9\r\n\r\nBody text.\r\n"
    if kind == 4:  # base64 that is not base64
        return (
            f"From: d.person@council.example\r\nTo: {MAILBOX}\r\nDate: {date}\r\n"
            f"Message-ID: <{message_id}>\r\nSubject: scan\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "This is !!not*** base64 at all=\r\n"
        ).encode()
    # an encoded word in a charset nobody knows, and a Date nobody can read
    return (
        f"From: =?x-unknown?B?{base64.b64encode(b'Someone').decode()}?= <e@nhs.example>\r\n"
        f"To: {MAILBOX}\r\nDate: yesterday-ish\r\nMessage-ID: <{message_id}>\r\n"
        "Subject: =?utf-8?Q?broken=ZZ?=\r\n\r\nHello.\r\n"
    ).encode()
