"""What leaves the council: PDF letters on letterhead, an approved clean copy, nothing leaked."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.actions.recipients import resolve
from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.store.spool import Instruction, new_id

REF = "CC-2026-0001"
JSMITH = "jane.smith@council.example"  # Oakview's allocated officer
AKHAN = "aisha.khan@council.example"  # another officer
SPO = "mary.brown@council.example"
SAM = "sam.ward@council.example"
CHRIS = "chris.evans@council.example"
LAURA = "laura.green@council.example"  # Chris's manager
OAKVIEW = "manager@oakview-care.example"
MEADOWS = "centre.manager@meadows-day.example"
REFERRAL = Path(__file__).parent / "data" / "referrals" / "outlook-forwarded-thread.eml"
CONCERN = "did not receive their evening medication"
# What the referral carries that must never reach a provider.
LEAKS = (
    "X-MS-Exchange", "AuthSource", "EX01.council.example", "Authentication-Results",
    "AM6PR07MB5541", "10.20.30.4", "Thread-Index", SAM, "Sam Ward", "01632 960123",
    "Ruth Bellamy", "ruth.bellamy", "Edna Pryce", "Albert Finch", "room 12", "night nurse said",
    "incident-log.docx", "image001", "invented test bytes", "Social Worker",
)  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def subject(message: EmailMessage) -> str:
    return " ".join(str(message["Subject"]).split())


def to(message: EmailMessage) -> set[str]:
    header = message["To"]
    return {a.addr_spec.lower() for a in header.addresses} if header is not None else set()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def pdfs(message: EmailMessage) -> list[tuple[str, bytes]]:
    found = []
    for part in message.walk():
        if part.get_content_type() == "application/pdf":
            data = part.get_content()
            assert isinstance(data, bytes)
            found.append((str(part.get_filename()), data))
    return found


def pdf_text(data: bytes) -> str:
    """The PDF's text on one line, as a reader's copy-and-paste would give it."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


class Bot:
    """A workspace driven by emails and a clock; remembers what it has already seen go out."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.seen = 0

    def run(self, when: datetime) -> list[EmailMessage]:
        self.ws.run(when)
        sent = self.ws.sent()
        fresh, self.seen = sent[self.seen :], len(sent)
        return fresh

    def mail(self, when: str, sender: str, text: str, subject: str = "") -> list[EmailMessage]:
        self.ws.email(sender, subject or f"RE: [{REF}] Contract concern", text, at=at(when))
        return self.run(at(when) + timedelta(minutes=1))

    def raw_referral(self, when: str) -> list[EmailMessage]:
        self.ws.server.inject(REFERRAL.read_bytes(), at(when))
        return self.run(at(when) + timedelta(minutes=1))

    def to_provider(self, address: str = OAKVIEW) -> list[EmailMessage]:
        return [m for m in self.ws.sent() if address in to(m)]

    def stage(self) -> str:
        case = self.ws.app.cases.get(REF)
        assert case is not None
        return case.stage


@pytest.fixture
def bot(workspace: Workspace) -> Bot:
    return Bot(workspace)


def one(messages: list[EmailMessage], part: str) -> EmailMessage:
    found = [m for m in messages if part in subject(m)]
    assert len(found) == 1, (part, [subject(m) for m in messages])
    return found[0]


# --- the clean copy, approved by the officer ------------------------------------------------


def test_an_outlook_referral_reaches_the_provider_with_nothing_it_should_not_carry(
    bot: Bot,
) -> None:
    bot.raw_referral("2026-11-02T10:00")
    out = bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible")
    assert bot.to_provider() == [] and bot.stage() == "letter_approval"
    draft = one(out, "Approve the letter to Oakview Care Home Ltd")
    assert to(draft) == {JSMITH}
    [(name, data)] = pdfs(draft)
    assert name.startswith("DRAFT-") and "Draft for the case officer's approval" in pdf_text(data)
    shown = body(draft)
    assert CONCERN.replace(" ", "") in shown.replace(" ", "").replace("\n", "")
    assert "Edna Pryce" not in shown and "Kind regards" not in shown
    assert "incident-log.docx" in shown and '"attachments: keep"' in shown

    out = bot.mail("2026-11-02T11:30", JSMITH, "approve")
    letter = one(out, "request to review, investigate and respond")
    assert bot.stage() == "awaiting_provider"
    # Everything the provider has been sent: the bytes of each email and the text of its PDF.
    [sent] = bot.to_provider()
    assert sent is letter or subject(sent) == subject(letter)
    raw = letter.as_bytes(policy=email.policy.SMTP)
    [(_, data)] = pdfs(letter)
    text = pdf_text(data)
    assert CONCERN in text
    for leak in LEAKS:
        assert leak.encode() not in raw, leak
        assert leak not in text, leak
    assert [p.get_content_type() for p in letter.walk() if p.get_filename()] == ["application/pdf"]
    assert "A concern was raised with the council on Monday 2 November 2026" in text


def test_the_officer_edits_the_copy_by_reply_and_the_letter_carries_their_text(bot: Bot) -> None:
    bot.raw_referral("2026-11-02T10:00")
    bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible")
    edited = (
        "On three evenings in late October, residents on the first floor did not\n"
        "receive their evening medication although the charts were signed.\n\n"
        "A second paragraph, written by the officer."
    )
    reply = f"Hi,\n\n=== concern copy ===\n{edited}\n=== end of concern copy ===\n\nThanks\nJane"
    out = bot.mail("2026-11-02T11:30", JSMITH, reply)
    receipt = one(out, "Commands received")
    assert "=== concern copy ===: done" in " ".join(body(receipt).split())
    [(_, data)] = pdfs(one(out, "request to review"))
    text = pdf_text(data)
    assert "A second paragraph, written by the officer." in text
    assert "signed as given" not in text  # the automatic copy's words are gone
    case = bot.ws.app.cases.get(REF)
    assert case is not None and case.data["concern_copy"] == edited
    assert case.data["letter_approved_by"] == JSMITH
    # Later letters carry the same approved copy: the day-14 reminder.
    reminder = one(bot.run(at("2026-11-16T09:00")), "Reminder: response needed")
    assert "A second paragraph, written by the officer." in pdf_text(pdfs(reminder)[0][1])


@pytest.mark.parametrize("sender", [AKHAN, SPO], ids=["another officer", "the SPO"])
def test_only_the_cases_officer_may_approve_and_the_receipt_says_why(bot: Bot, sender: str) -> None:
    bot.raw_referral("2026-11-02T10:00")
    bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible")
    out = bot.mail("2026-11-02T11:30", sender, "approved")
    [receipt] = out
    assert to(receipt) == {sender} and "Commands received" in subject(receipt)
    said = " ".join(body(receipt).split())
    assert "approved: not done: only the case's officer, Jane Smith, may approve" in said
    assert bot.to_provider() == [] and bot.stage() == "letter_approval"
    # The officer's own "approve" still works afterwards.
    bot.mail("2026-11-02T12:00", JSMITH, "approve")
    assert len(bot.to_provider()) == 1


def test_the_step_3_deadline_runs_and_the_digest_shows_the_draft_waiting(bot: Bot) -> None:
    bot.raw_referral("2026-11-02T10:00")
    bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible")
    digest = one(bot.run(at("2026-11-03T08:05")), "Contract concerns digest")
    assert to(digest) == {JSMITH}
    listed = " ".join(body(digest).split())
    assert "Letters waiting for your approval" in listed
    assert f"{REF}: Concern letter to approve (Oakview Care Home Ltd), due to go by Wednesday " \
        "4 November 2026" in listed  # fmt: skip
    # Two working days from receipt: the officer is reminded on Wednesday afternoon.
    assert [m for m in bot.run(at("2026-11-04T13:59")) if "Due:" in subject(m)] == []
    reminder = one(bot.run(at("2026-11-04T14:00")), "Send the concern letter to the provider")
    assert to(reminder) == {JSMITH}
    bot.mail("2026-11-05T10:00", JSMITH, "approve")
    case = bot.ws.app.cases.get(REF)
    assert case is not None
    step3 = case.deadline("concern_letter")
    assert step3 is not None and step3.status == "missed"  # approved a day late: on the record
    assert len(bot.to_provider()) == 1


def test_approval_from_the_dashboard_takes_the_same_path(bot: Bot) -> None:
    bot.raw_referral("2026-11-02T10:00")
    bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible")
    now = at("2026-11-02T11:40")
    spool = bot.ws.app.spool
    spool.submit(Instruction(new_id(now), now, "akhan", "Aisha Khan", AKHAN, REF, ("approve",)))
    bot.run(now + timedelta(minutes=1))
    [refused] = spool.results(REF)
    assert refused["done"] == [] and "only the case's officer" in refused["refused"][0]
    assert bot.to_provider() == []
    later = now + timedelta(minutes=5)
    edit = ("concern copy: Residents on the first floor missed medication.",)
    spool.submit(Instruction(new_id(later), later, "jsmith", "Jane Smith", JSMITH, REF, edit))
    bot.run(later + timedelta(minutes=1))
    done = [r for r in spool.results(REF) if r["done"]]
    assert len(done) == 1 and done[0]["refused"] == []
    [letter] = bot.to_provider()
    text = pdf_text(pdfs(letter)[0][1])
    assert "Residents on the first floor missed medication." in text and CONCERN not in text
    case = bot.ws.app.cases.get(REF)
    assert case is not None and case.stage == "awaiting_provider"
    assert any(e.kind == "command" and "from the dashboard" in e.text for e in case.timeline)


def test_with_approval_off_the_letter_goes_at_once_with_the_kept_attachments(
    approval_off: Workspace,
) -> None:
    bot = Bot(approval_off)
    bot.raw_referral("2026-11-02T10:00")
    out = bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible")
    letter = one(out, "request to review")
    names = [p.get_filename() for p in letter.walk() if p.get_filename()]
    assert names == ["CC-2026-0001-concern-letter-20261102.pdf", "incident-log.docx"]
    text = pdf_text(pdfs(letter)[0][1])
    assert CONCERN in text and "Enclosed with the concern: incident-log.docx" in text
    raw = letter.as_bytes(policy=email.policy.SMTP)
    for leak in ("Edna Pryce", "X-MS-Exchange", SAM, "image001", "Sam Ward"):
        assert leak.encode() not in raw and leak not in text, leak


@pytest.fixture
def approval_off(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(
        tmp_path / "ws",
        at("2026-11-02T08:00"),
        replace={
            "approval: required": "approval: off",
            "concern_attachments: drop": "concern_attachments: keep",
        },
    )
    yield ws
    ws.close()


# --- the letter as a document ----------------------------------------------------------------


def test_the_pdf_names_the_reference_date_and_addressee_and_is_tagged(bot: Bot) -> None:
    bot.raw_referral("2026-11-02T10:00")
    bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible\napprove")
    [letter] = bot.to_provider()
    assert len(body(letter)) < 900  # the email is short: it says what is attached
    assert "Please find attached our letter of Monday 2 November 2026" in body(letter)
    [(name, data)] = pdfs(letter)
    assert name == "CC-2026-0001-concern-letter-20261102.pdf"
    text = pdf_text(data)
    for expected in (
        "Our reference: CC-2026-0001",
        "Date: 2 November 2026",
        "Grace Okoye Registered Manager Oakview Care Home Ltd 14 Oak Lane Exampleton EX2 4OV",
        "Dear Grace Okoye,",
        "Yours sincerely,",
        "Example Borough Council",
        "Telephone 01632 960000",
        "Page 1 of",
    ):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged
    assert root["/Lang"] == "en-GB"
    assert reader.metadata is not None
    assert reader.metadata.title == "Contract concern: request to review, investigate and respond"


def test_the_letter_kept_with_the_case_is_byte_for_byte_what_was_sent_and_renders_the_same(
    bot: Bot,
) -> None:
    bot.raw_referral("2026-11-02T10:00")
    bot.mail("2026-11-02T11:00", JSMITH, "screen: eligible\napprove")
    [letter] = bot.to_provider()
    [(_, sent)] = pdfs(letter)
    message_id = str(letter["Message-ID"]).strip("<>")
    sent_folder = bot.ws.server.folder("sent")
    [as_sent] = [raw for raw in sent_folder if message_id.encode() in raw.split(b"\r\n\r\n")[0]]
    case = bot.ws.app.cases.get(REF)
    assert case is not None
    [kept] = [d for d in case.documents if d.get("message_id") == message_id]
    stored = bot.ws.app.store.load_raw(kept["sha"])
    assert kept["kind"] == "letter" and stored == as_sent
    parsed = email.message_from_bytes(stored, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage) and pdfs(parsed)[0][1] == sent
    # Rendered again, as after a crash before the send: the same bytes.
    letters = bot.ws.app.outbox.letters
    contact = resolve("provider", case, bot.ws.app.config)[0]
    deadline = case.deadline("provider_reminder")
    _, again = letters.render(case, "concern_letter", contact, at("2026-11-02T11:01"),
                              deadline=deadline)  # fmt: skip
    assert again.data == sent


def test_an_unnamed_provider_contact_is_dear_sir_or_madam(bot: Bot) -> None:
    concern = "The Meadows Day Centre left people waiting for transport for hours."
    bot.mail("2026-11-02T10:00", SAM, concern, "Meadows Day Centre transport")
    bot.mail("2026-11-02T11:00", "peter.jones@council.example", "screen: eligible\napprove")
    [letter] = bot.to_provider(MEADOWS)
    text = pdf_text(pdfs(letter)[0][1])
    assert "Dear Sir or Madam," in text and "Yours faithfully," in text
    assert "Dear The" not in text and "Dear The" not in body(letter)
    assert body(letter).startswith("Dear Sir or Madam,")


# --- replies from outside the case ------------------------------------------------------------


def test_a_managers_reply_to_all_is_filed_as_a_comment_and_moves_nothing(bot: Bot) -> None:
    concern = "Riverside Supported Living did not record a tenant's allowance."
    bot.mail("2026-11-30T09:15", CHRIS, concern, "Riverside concern")
    bot.mail("2026-11-30T10:00", JSMITH, "screen: eligible\napprove")
    bot.mail("2026-12-04T15:00", "enquiries@riverside-living.example",
             "We dispute the allegations: every payment was logged.")  # fmt: skip
    reminder = one(bot.run(at("2026-12-11T09:00")), "Reminder: your comments")
    assert LAURA in str(reminder["Cc"])
    assert bot.stage() == "review"
    # The manager replies to all on the step-7 reminder, in words that read like a comment.
    bot.ws.email(
        LAURA,
        f"RE: {reminder['Subject']}",
        "Chris is on leave; I agree with the provider that payments were logged.",
        at=at("2026-12-11T11:00"),
        in_reply_to=str(reminder["Message-ID"]).strip("<>"),
    )
    out = bot.run(at("2026-12-11T11:01"))
    told = one(out, "Comment from someone outside the case")
    assert to(told) == {JSMITH}
    assert "Chris is on leave" in body(told)
    case = bot.ws.app.cases.get(REF)
    assert case is not None and case.stage == "review"
    assert bot.ws.app.store.triage_items() == []
    [comment] = [e for e in case.timeline if e.kind == "comment"]
    assert LAURA in comment.text and "stage is unchanged" in comment.text
