"""Scenario tests: each path through the procedure, driven by email and clock, read from mail."""

from __future__ import annotations

import io
import re
import stat
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

import pytest
from pypdf import PdfReader

from bot.clock import LONDON
from bot.demo.harness import LocalServer, Workspace
from bot.mailbox.base import SentRecord
from bot.mailbox.maildir import LocalMailbox

MakeWorkspace = Callable[..., Workspace]

REF = "CC-2026-0001"
TAG = f"[{REF}]"
# People and providers from config.yaml.
JSMITH = "jane.smith@council.example"
AKHAN = "aisha.khan@council.example"
PJONES = "peter.jones@council.example"
SPO = "mary.brown@council.example"
SERVICE_MANAGER = "laura.green@council.example"
INHOUSE_MANAGER = "ravi.patel@council.example"
OPS_TEAMS = {"adult.ops@council.example", "learning.disability.ops@council.example"}
TEAM_CALENDAR = "contract.management@council.example"
SAM = "sam.ward@council.example"
CHRIS = "chris.evans@council.example"
HANNAH = "hannah.lee@nhs.example"
NINA = "nina.novak@nhs.example"
OAKVIEW = "manager@oakview-care.example"
BRIGHTPATH = {
    "office@brightpath-homecare.example", "registered.manager@brightpath-homecare.example",
}
RIVERSIDE = "enquiries@riverside-living.example"
MEADOWS = "centre.manager@meadows-day.example"


# Screened as eligible, and the draft letter to the provider approved in the same reply.
ELIGIBLE = "screen: eligible\napprove"


def at(text: str) -> datetime:
    """A Europe/London wall time: at("2026-11-02T10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def message_id(message: EmailMessage) -> str:
    return str(message["Message-ID"]).strip()


def subject_of(message: EmailMessage) -> str:
    return " ".join(str(message["Subject"]).split())


def recipients(message: EmailMessage, field: str) -> set[str]:
    header = message[field]
    return {a.addr_spec.lower() for a in header.addresses} if header is not None else set()


def sent_at(message: EmailMessage) -> datetime:
    """The Date header, with the UTC offset it was written with."""
    value: datetime = message["Date"].datetime
    return value


def letter_text(message: EmailMessage) -> str:
    """The text of the one PDF letter attached, on one line (provider letters are PDFs)."""
    pdfs = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [p.get_content_type() for p in message.walk()]
    data = pdfs[0].get_content()
    assert isinstance(data, bytes)
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def body_of(message: EmailMessage) -> str:
    """The plain-text body on one line, so assertions do not depend on wrapping."""
    part = message.get_body(("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


class Driver:
    """One workspace, moved only by emails dropped in its inbox and by runs at chosen times."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._seen: set[str] = set()

    def run(self, when: datetime) -> list[EmailMessage]:
        """Run the bot once at `when`; what it sent (or held for review) in that run."""
        self.ws.run(when)
        fresh = []
        for message in [*self.ws.sent(), *self.held()]:
            if message_id(message) not in self._seen:
                self._seen.add(message_id(message))
                fresh.append(message)
        return fresh

    def held(self) -> list[EmailMessage]:
        """What shadow mode put in the local mailbox's review folder instead of sending."""
        return self.ws.sent("review")

    def mail(self, when: datetime, sender: str, subject: str, body: str,
             headers: dict[str, str] | None = None) -> list[EmailMessage]:
        """Drop an email received at `when`, run the bot a minute later; what went out."""
        self.ws.email(sender, subject, body, at=when, headers=headers)
        return self.run(when + timedelta(minutes=1))

    def reply(self, reference: str, when: datetime, sender: str, body: str,
              headers: dict[str, str] | None = None) -> list[EmailMessage]:
        """A reply on the case's thread, which the reference in the subject finds."""
        return self.mail(when, sender, f"RE: [{reference}] Contract concern", body, headers)

    def refer(self, when: datetime, sender: str, subject: str, body: str) -> str:
        """A new concern; returns the reference the acknowledgement to the referrer carries."""
        out = self.mail(when, sender, subject, body)
        acks = [m for m in out if recipients(m, "To") == {sender}
                and "Contract concern received" in subject_of(m)]
        assert len(acks) == 1, [subject_of(m) for m in out]
        found = re.search(r"\[(CC-\d{4}-\d{4})\]", subject_of(acks[0]))
        assert found is not None
        return found.group(1)

    def status(self, reference: str) -> str:
        case = self.ws.app.cases.get(reference)
        assert case is not None
        return case.status


@pytest.fixture
def bot(workspace: Workspace) -> Driver:
    return Driver(workspace)



def concern(provider: str, what: str) -> str:
    return (
        f"Dear Contract Management Team,\n\nI am raising a contract concern about {provider}. "
        f"{what}\n\nThe safeguarding enquiry has concluded and found the concern substantiated."
        "\n\nRegards"
    )


def about(messages: list[EmailMessage], reference: str = REF) -> list[EmailMessage]:
    """The messages on one case (digests and triage reminders left out)."""
    return [m for m in messages if f"[{reference}]" in subject_of(m)]


def one(messages: list[EmailMessage], subject_part: str) -> EmailMessage:
    found = [m for m in messages if subject_part in subject_of(m)]
    assert len(found) == 1, (subject_part, [subject_of(m) for m in messages])
    return found[0]


def to_and_cc(message: EmailMessage) -> tuple[set[str], set[str]]:
    return recipients(message, "To"), recipients(message, "Cc")


def attached_mail(message: EmailMessage) -> EmailMessage:
    """The one message/rfc822 attachment, as the email it carries."""
    parts = [p for p in message.walk() if p.get_content_type() == "message/rfc822"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    payload = parts[0].get_payload()
    assert isinstance(payload, list) and len(payload) == 1
    inner = payload[0]
    assert isinstance(inner, EmailMessage)
    return inner


def open_oakview(bot: Driver, when: str = "2026-11-02T10:00") -> str:
    """Sam Ward's concern about Oakview Care Home (Jane Smith's provider) received at `when`."""
    return bot.refer(at(when), SAM, "Concern: Oakview Care Home medication errors",
                     concern("Oakview Care Home", "Residents missed evening medication."))


def agreed_oakview(bot: Driver, decision: str = "Decision: agreed\nDefault notice: no") -> None:
    """Oakview: referred 2 Nov, eligible, accepted 12 Nov, reviewed 18 Nov, decided 20 Nov."""
    open_oakview(bot)
    bot.reply(REF, at("2026-11-02T11:30"), JSMITH, ELIGIBLE)
    bot.reply(REF, at("2026-11-12T10:00"), OAKVIEW,
              "We accept the findings and have started a medication audit.")
    bot.reply(REF, at("2026-11-18T15:00"), JSMITH,
              "Conclusion: medication rounds were missed because of agency staff shortages.\n"
              "Recommendation: weekly medication audits for three months.\n"
              "Remedial action: complete a full medication audit by 18/12/2026\n"
              "Refer to SPO")
    bot.reply(REF, at("2026-11-20T10:00"), SPO, decision)


# --- 1. screening ----------------------------------------------------------------------------

def test_eligible_sends_the_concern_letter_to_the_provider_with_a_copy_of_the_concern(
        bot: Driver) -> None:
    bot.ws.email(SAM, "Concern: Oakview Care Home medication errors",
                 concern("Oakview Care Home", "Residents missed medication."),
                 at=at("2026-11-02T10:00"))
    bot.run(at("2026-11-02T10:01"))
    out = about(bot.reply(REF, at("2026-11-02T11:30"), JSMITH, ELIGIBLE))
    letter = one(out, "request to review, investigate and respond")
    assert to_and_cc(letter) == ({OAKVIEW}, set())
    assert sent_at(letter) == at("2026-11-02T11:31")
    # Step 4's reminder is on the 14th day, so the provider is asked to respond by then.
    text = letter_text(letter)
    assert "respond to us in writing by Monday 16 November 2026" in text
    assert "Residents missed medication." in text
    # The copy, not the referrer's email: no attached message, no referrer.
    assert not [p for p in letter.walk() if p.get_content_type() == "message/rfc822"]
    assert SAM not in letter.as_string() and "Sam Ward" not in text
    receipt = one(out, "Commands received")
    assert recipients(receipt, "To") == {JSMITH}
    assert {recipients(m, "To").pop() for m in out} == {OAKVIEW, JSMITH}


Letters = dict[str, tuple[set[str], set[str]]]  # subject part -> (To, Cc)
SCREENING: list[tuple[str, Letters, str]] = [
    ("screen: investigation pending",
     {"Concern not processed while an investigation is under way": ({SAM}, {SERVICE_MANAGER})},
     "open"),  # parked until the investigation concludes
    ("screen: operational",
     {"Concern returned to be managed operationally": ({SAM}, set())}, "closed"),
    ("screen: isolated",
     {"Concern returned: isolated and already addressed": ({SAM}, set())}, "closed"),
    ("screen: in-house",
     {"In-house service concern for your investigation": ({INHOUSE_MANAGER}, set()),
      "Concern forwarded to the In-house Service Manager": ({SAM}, set())}, "closed"),
    ("screen: too old",
     {"Concern returned: more than 6 months old": ({SAM}, set())}, "closed"),
]


@pytest.mark.parametrize(("command", "letters", "status"), SCREENING,
                         ids=[c.removeprefix("screen: ") for c, _, _ in SCREENING])
def test_other_screening_outcomes_write_to_the_right_people_and_never_to_the_provider(
        bot: Driver, command: str, letters: Letters, status: str) -> None:
    open_oakview(bot)
    out = about(bot.reply(REF, at("2026-11-02T11:30"), JSMITH, command))
    assert {subject: to_and_cc(one(out, subject)) for subject in letters} == letters
    assert len(out) == len(letters) + 1  # and the command receipt to the officer
    assert to_and_cc(one(out, "Commands received")) == ({JSMITH}, set())
    assert all(sent_at(m) == at("2026-11-02T11:31") for m in out)
    assert bot.status(REF) == status
    # Nothing ever goes to the provider, not even on the days its letters would have been due.
    later = bot.run(at("2026-11-16T09:00")) + bot.run(at("2026-11-30T09:00"))
    assert not [m for m in out + later if OAKVIEW in recipients(m, "To") | recipients(m, "Cc")]


def test_in_house_concern_is_forwarded_with_the_original_email(bot: Driver) -> None:
    concern_id = bot.ws.email(CHRIS, "Elmfield Day Service",
                              "A concern about the council-run Elmfield Day Service, an in-house "
                              "service: staff shortages on Fridays.\nThanks",
                              at=at("2026-11-13T10:00"))
    bot.run(at("2026-11-13T10:01"))
    out = about(bot.reply(REF, at("2026-11-13T11:00"), JSMITH, "screen: in-house"))
    forward = one(out, "In-house service concern")
    assert message_id(attached_mail(forward)) == f"<{concern_id}>"
    assert bot.status(REF) == "closed"


def test_parked_concern_is_screened_again_when_the_investigation_concludes(bot: Driver) -> None:
    open_oakview(bot, "2026-11-10T10:00")
    bot.reply(REF, at("2026-11-10T12:00"), JSMITH, "screen: investigation pending")
    assert about(bot.run(at("2026-11-24T09:00")) + bot.run(at("2027-01-14T17:30"))) == []
    bot.reply(REF, at("2027-01-15T10:00"), SAM,
              "The safeguarding investigation has now concluded; please screen again.")
    out = about(bot.reply(REF, at("2027-01-15T12:00"), JSMITH, "screen: operational"))
    returned = one(out, "Concern returned to be managed operationally")
    assert to_and_cc(returned) == ({SAM}, set())
    assert sent_at(returned) == at("2027-01-15T12:01")
    assert bot.status(REF) == "closed"


def test_screening_again_after_an_investigation_is_due_that_day_not_overdue(
        bot: Driver) -> None:
    open_oakview(bot, "2026-11-10T10:00")
    bot.reply(REF, at("2026-11-10T12:00"), JSMITH, "screen: investigation pending")
    out = about(bot.reply(REF, at("2027-01-15T10:00"), SAM,
                          "The safeguarding investigation has now concluded; please screen again."))
    assert not [m for m in out if "Overdue" in subject_of(m)]
    reminder = one(about(bot.run(at("2027-01-15T14:00"))), "Screen the concern")
    assert subject_of(reminder) == f"{TAG} Due: Screen the concern (15/01/2027)"


# --- 2. accepted -> closed ----------------------------------------------------------------------

def test_accepted_concern_is_concluded_followed_up_and_closed_with_a_report(bot: Driver) -> None:
    open_oakview(bot)
    bot.reply(REF, at("2026-11-02T11:30"), JSMITH, ELIGIBLE)
    out = bot.reply(REF, at("2026-11-12T10:00"), OAKVIEW,
                    "We accept the findings and have started a medication audit.")
    diary = [m for m in out if recipients(m, "To") == {TEAM_CALENDAR}]
    assert len(diary) == 1 and "Thursday 19 November 2026" in subject_of(diary[0])
    assert sent_at(diary[0]) == at("2026-11-12T10:01")  # the bot's clock, not the wall clock
    assert not [m for m in out if OAKVIEW in recipients(m, "To")]

    out = about(bot.reply(REF, at("2026-11-18T15:00"), JSMITH,
                          "Conclusion: medication rounds were missed.\n"
                          "Remedial action: complete a full medication audit by 18/12/2026\n"
                          "Refer to SPO"))
    referral = one(out, "Decision needed: closure recommendation")
    assert to_and_cc(referral) == ({SPO}, set())
    assert "Please decide by Wednesday 25 November 2026" in body_of(referral)

    out = about(bot.reply(REF, at("2026-11-20T10:00"), SPO, "Decision: agreed\nDefault notice: no"))
    letter = one(out, "Contract concern: conclusion and remedial action")
    assert to_and_cc(letter) == ({OAKVIEW}, set())
    assert sent_at(letter).date() == date(2026, 11, 20)
    assert "complete a full medication audit" in letter_text(letter)
    assert "Residents missed evening medication." in letter_text(letter)
    conclusion = one(out, "Concern concluded: please validate remedial action")
    assert to_and_cc(conclusion) == ({SAM}, OPS_TEAMS | {JSMITH})
    assert sent_at(conclusion).date() == sent_at(letter).date()

    out = about(bot.reply(REF, at("2026-12-02T09:30"), OAKVIEW,
                          "Please find attached the completed medication audit and training "
                          "records."))
    review = one(out, "Follow-up received: please review")
    assert to_and_cc(review) == ({JSMITH}, set())
    assert "completed medication audit" in body_of(review)

    out = about(bot.reply(REF, at("2026-12-03T10:00"), JSMITH, "close"))
    assert [subject_of(m) for m in out] == [f"{TAG} Commands received"]
    drive = bot.ws.root / "var" / "shared-drive"
    report = drive / f"{REF}-closure-report-20261203.txt"
    assert report.is_file()
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert f"Reference: {REF}" in text and "Report prepared: Thursday 3 December 2026" in text
    # Closed: the follow-up reminder due on Friday 4 December never goes to the provider.
    assert about(bot.run(at("2026-12-04T09:00")) + bot.run(at("2026-12-18T09:00"))) == []


def test_the_closure_report_keeps_the_cases_deadlines(bot: Driver) -> None:
    agreed_oakview(bot)
    bot.reply(REF, at("2026-12-02T09:30"), OAKVIEW, "Please find attached the completed audit.")
    bot.reply(REF, at("2026-12-03T10:00"), JSMITH, "close")
    report = bot.ws.root / "var" / "shared-drive" / f"{REF}-closure-report-20261203.txt"
    text = " ".join(report.read_text(encoding="utf-8").split())
    assert "Step 8, Review the concern and recommend: due Thursday 19 November 2026" in text
    assert "Step 10, Management decision: due Wednesday 25 November 2026" in text


# --- 3. disputed -> referrer silent -> more information -> agreed -----------------------------

def test_disputed_concern_with_a_silent_referrer_and_a_request_for_more_information(
        bot: Driver) -> None:
    bot.refer(at("2026-11-30T09:15"), CHRIS, "Riverside Supported Living - tenancy concern",
              concern("Riverside Supported Living", "A tenant's allowance was not recorded."))
    # Riverside has no allocated officer: the rota's first officer has the case.
    bot.reply(REF, at("2026-11-30T10:00"), JSMITH, ELIGIBLE)
    out = about(bot.reply(REF, at("2026-12-04T15:00"), RIVERSIDE,
                          "We dispute the allegations: our records show every payment was "
                          "logged."))
    forwarded = one(out, "Provider's response to your concern: your comments please")
    assert to_and_cc(forwarded) == ({CHRIS}, set())
    assert "send us your comments by Friday 11 December 2026" in body_of(forwarded)
    assert recipients(attached_mail(forwarded), "From") == {RIVERSIDE}

    assert about(bot.run(at("2026-12-11T08:59"))) == []
    out = bot.run(at("2026-12-11T09:00"))
    reminder = one(about(out), "Reminder: your comments on the provider's response")
    assert to_and_cc(reminder) == ({CHRIS}, {SERVICE_MANAGER})  # Chris's manager, Laura Green
    assert sent_at(reminder) == at("2026-12-11T09:00")
    assert sent_at(reminder).utcoffset() == timedelta(0)
    diary = [m for m in out if recipients(m, "To") == {TEAM_CALENDAR}]
    assert len(diary) == 1 and "Friday 18 December 2026" in subject_of(diary[0])

    out = about(bot.reply(REF, at("2026-12-17T11:00"), JSMITH,
                          "conclusion: records were incomplete for six weeks\n"
                          "remedial action: introduce a finance log audit by 2027-02-01\n"
                          "refer to SPO"))
    assert "Please decide by Thursday 24 December 2026" in body_of(one(out, "Decision needed"))

    out = about(bot.reply(REF, at("2026-12-23T10:00"), SPO,
                          "Decision: further information needed - ask for the provider's "
                          "finance policy"))
    more = one(out, "Further information needed before closure")
    assert to_and_cc(more) == ({JSMITH}, set())
    assert "ask for the provider's finance policy" in body_of(more)
    assert not [m for m in out if RIVERSIDE in recipients(m, "To")]

    # Back at review: 5 working days over Christmas and the closure days, to Thursday 7 January.
    for moment in ("2026-12-31T14:00", "2027-01-06T14:00", "2027-01-07T13:59"):
        assert about(bot.run(at(moment))) == []
    reminder = one(about(bot.run(at("2027-01-07T14:00"))), "Review the concern and recommend")
    assert to_and_cc(reminder) == ({JSMITH}, set())
    assert "due on Thursday 7 January 2027" in body_of(reminder)

    out = about(bot.reply(REF, at("2027-01-07T15:00"), JSMITH,
                          "conclusion: the finance policy was not followed\nrefer to SPO"))
    again = one(out, "Decision needed")
    assert "Please decide by Thursday 14 January 2027" in body_of(again)
    assert "the finance policy was not followed" in body_of(again)

    out = about(bot.reply(REF, at("2027-01-12T10:00"), SPO, "decision: agreed\ndefault notice: no"))
    assert to_and_cc(one(out, "conclusion and remedial action")) == ({RIVERSIDE}, set())
    assert to_and_cc(one(out, "Concern concluded")) == ({CHRIS}, OPS_TEAMS | {JSMITH})


@pytest.mark.parametrize(("referrer", "manager"), [
    (CHRIS, {SERVICE_MANAGER}),  # manager by person id in the directory
    (HANNAH, {"tom.morris@nhs.example"}),  # manager by address, outside the directory
    (NINA, set()),  # no manager: the reminder still goes, and a config item goes to triage
])
def test_referrer_reminder_copies_the_referrers_manager(
        bot: Driver, referrer: str, manager: set[str]) -> None:
    bot.refer(at("2026-11-30T09:15"), referrer, "Riverside Supported Living - tenancy concern",
              concern("Riverside Supported Living", "A tenant's allowance was not recorded."))
    bot.reply(REF, at("2026-11-30T10:00"), JSMITH, ELIGIBLE)
    bot.reply(REF, at("2026-12-04T15:00"), RIVERSIDE, "We dispute the allegations.")
    reminder = one(about(bot.run(at("2026-12-11T09:00"))), "Reminder: your comments")
    assert to_and_cc(reminder) == ({referrer}, manager)
    config_items = [t for t in bot.ws.app.store.triage_items() if t["kind"] == "config"]
    assert len(config_items) == (0 if manager else 1)


class DirectoryMailbox(LocalMailbox):
    """A local mailbox whose mail system also keeps a directory of managers, as Graph does."""

    asked: ClassVar[list[str]] = []

    def manager_of(self, address: str) -> str | None:
        self.asked.append(address)
        return "olga.price@nhs.example" if address == NINA else None


def test_the_directory_names_a_manager_the_config_does_not(tmp_path: Path) -> None:
    directory = DirectoryMailbox(tmp_path / "mailbox", "contract.concerns@council.example",
                                 "contract.management@council.example", tmp_path / "drive")
    graph = ("  graph: {tenant_id: t-1, client_id: c-1, client_secret_env: CCBOT_UNUSED,\n"
             "          manager_from_directory: true}\n")
    marker = "  # Microsoft 365, on-premises"
    ws = Workspace(tmp_path / "ws", at("2026-11-30T09:00"), server=LocalServer(directory),
                   replace={marker: graph + marker})
    try:
        bot = Driver(ws)
        test_referrer_reminder_copies_the_referrers_manager(
            bot, NINA, {"olga.price@nhs.example"})
    finally:
        ws.close()
    assert DirectoryMailbox.asked == [NINA]  # asked once, though the reminder may be replayed

# --- 4. provider silent -> reminder -> step 14 ----------------------------------------------------

def test_silent_provider_is_reminded_on_day_14_then_referred_to_the_spo(bot: Driver) -> None:
    bot.refer(at("2026-11-03T16:40"), HANNAH, "Concern about Brightpath Home Care visits",
              concern("Brightpath Home Care", "Visits were cut short and two were missed."))
    out = about(bot.reply(REF, at("2026-11-04T09:30"), AKHAN,
                          "Screening outcome - eligible\napprove"))
    letter = one(out, "request to review")
    assert recipients(letter, "To") == BRIGHTPATH
    assert sent_at(letter).date() == date(2026, 11, 4)

    assert about(bot.run(at("2026-11-17T17:30"))) == []
    assert about(bot.run(at("2026-11-18T08:59"))) == []
    reminder = one(about(bot.run(at("2026-11-18T09:00"))), "Reminder: response needed")
    assert to_and_cc(reminder) == (BRIGHTPATH, set())
    assert sent_at(reminder) == at("2026-11-18T09:00")  # the 14th day after Wednesday 4th
    assert "Please send us your response by Wednesday 2 December 2026" in letter_text(reminder)

    assert about(bot.run(at("2026-12-02T08:59"))) == []
    out = about(bot.run(at("2026-12-02T09:00")))
    referral = one(out, "Consider a default notice")
    assert to_and_cc(referral) == ({SPO}, set())
    assert sent_at(referral) == at("2026-12-02T09:00")
    assert "Please decide by Friday 4 December 2026" in body_of(referral)
    assert not [m for m in out if recipients(m, "To") & BRIGHTPATH]


def test_the_officers_digest_does_not_list_a_letter_already_sent_as_coming_up(
        bot: Driver) -> None:
    bot.refer(at("2026-11-03T16:40"), HANNAH, "Concern about Brightpath Home Care visits",
              concern("Brightpath Home Care", "Visits were cut short and two were missed."))
    bot.reply(REF, at("2026-11-04T09:30"), AKHAN, ELIGIBLE)
    one(about(bot.run(at("2026-11-18T09:00"))), "Reminder: response needed")
    bot.run(at("2026-11-19T08:05"))
    digest = one(bot.run(at("2026-11-26T08:05")), "Contract concerns digest")
    assert recipients(digest, "To") == {AKHAN}
    assert "Provider's last day to respond, due Wednesday 2 December 2026" in body_of(digest)
    assert "Reminder letter to the provider" not in body_of(digest)  # sent on 18 November


def test_default_notice_after_no_response_does_not_claim_a_sign_off(bot: Driver) -> None:
    bot.refer(at("2026-11-03T16:40"), HANNAH, "Concern about Brightpath Home Care visits",
              concern("Brightpath Home Care", "Visits were cut short and two were missed."))
    bot.reply(REF, at("2026-11-04T09:30"), AKHAN, ELIGIBLE)
    bot.run(at("2026-11-18T09:00"))
    bot.run(at("2026-12-02T09:00"))
    out = about(bot.reply(REF, at("2026-12-03T11:00"), SPO, "default notice: yes"))
    notice = one(out, "Please issue the default notice")
    assert to_and_cc(notice) == ({SPO}, {AKHAN})
    assert "by Monday 7 December 2026" in body_of(notice)
    assert "At sign-off" not in body_of(notice)


def test_step_14_referral_after_no_response_does_not_say_no_remedial_action_is_required(
        bot: Driver) -> None:
    bot.refer(at("2026-11-03T16:40"), HANNAH, "Concern about Brightpath Home Care visits",
              concern("Brightpath Home Care", "Visits were cut short and two were missed."))
    bot.reply(REF, at("2026-11-04T09:30"), AKHAN, ELIGIBLE)
    bot.run(at("2026-11-18T09:00"))
    referral = one(about(bot.run(at("2026-12-02T09:00"))), "Consider a default notice")
    assert "has not responded" in body_of(referral)
    assert "No remedial action is required" not in body_of(referral)


# --- 5. default notice (step 15) -----------------------------------------------------------------

def test_default_notice_goes_to_the_spo_when_the_outcome_is_not_disputed(bot: Driver) -> None:
    bot.refer(at("2027-03-01T10:00"), NINA, "Meadows Day Centre transport concern",
              concern("The Meadows Day Centre", "Service users were left waiting for hours."))
    ref = "CC-2027-0001"
    bot.reply(ref, at("2027-03-01T12:00"), PJONES, ELIGIBLE)
    bot.reply(ref, at("2027-03-04T10:00"), MEADOWS, "We accept the concern and apologise.")
    bot.reply(ref, at("2027-03-09T10:00"), PJONES,
              "conclusion: transport was not scheduled\n"
              "remedial action: new transport rota by 2027-04-09\nrefer to SPO")
    out = about(bot.reply(ref, at("2027-03-11T10:00"), SPO,
                          "decision: agreed\ndefault notice: yes"), ref)
    assert to_and_cc(one(out, "conclusion and remedial action")) == ({MEADOWS}, set())
    assert not [m for m in out if "default notice" in subject_of(m).lower()]

    # The provider has 14 days (to Thursday 25 March) to dispute the outcome; it does not.
    assert about(bot.run(at("2027-03-24T17:30")), ref) == []
    out = about(bot.run(at("2027-03-25T09:00")), ref)
    notice = one(out, "Please issue the default notice")
    assert to_and_cc(notice) == ({SPO}, {PJONES})
    assert sent_at(notice) == at("2027-03-25T09:00")
    # Two working days, skipping Good Friday and Easter Monday 2027.
    assert "by Wednesday 31 March 2027" in body_of(notice)
    assert "new transport rota" in body_of(notice)


def test_default_notice_is_not_passed_on_when_the_provider_disputes_the_outcome(
        bot: Driver) -> None:
    agreed_oakview(bot, "Decision: agreed\nDefault notice: yes")
    out = about(bot.reply(REF, at("2026-11-24T11:00"), OAKVIEW,
                          "We dispute the outcome of the concern; our evidence is attached."))
    one(out, "Your dispute of the concern outcome has been received")
    later = about(bot.run(at("2026-12-04T09:00")) + bot.run(at("2026-12-07T09:00")))
    assert not [m for m in later if "Please issue the default notice" in subject_of(m)]


# --- 6. outcome disputed (16 -> 16.1 -> 16.2) ----------------------------------------------------

@pytest.mark.parametrize(("ruling", "verdict"), [
    ("dispute upheld: the audit shows the rounds were covered", "the dispute has been upheld"),
    ("dispute rejected: the evidence does not change the finding",
     "the dispute has not been upheld"),
], ids=["upheld", "rejected"])
def test_outcome_dispute_is_acknowledged_reviewed_and_answered(
        bot: Driver, ruling: str, verdict: str) -> None:
    agreed_oakview(bot)
    out = about(bot.reply(REF, at("2026-11-24T16:00"), OAKVIEW,
                          "We dispute the outcome of the concern and the conclusion reached; "
                          "our supporting evidence is attached."))
    ack = one(out, "Your dispute of the concern outcome has been received")
    to_spo = one(out, "Provider dispute to review")
    assert to_and_cc(ack) == ({OAKVIEW}, set())
    assert to_and_cc(to_spo) == ({SPO}, set())
    assert sent_at(ack).date() == sent_at(to_spo).date() == date(2026, 11, 24)
    assert "by Tuesday 8 December 2026" in letter_text(ack)  # 14 days from receipt
    assert "by Tuesday 8 December 2026" in body_of(to_spo)
    assert recipients(attached_mail(to_spo), "From") == {OAKVIEW}

    # 16.1: the SPO is reminded on the due day, at the internal reminder time.
    assert about(bot.run(at("2026-12-08T13:59"))) == []
    reminder = one(about(bot.run(at("2026-12-08T14:00"))), "Review the provider's dispute")
    assert to_and_cc(reminder) == ({SPO}, set())
    assert "08/12/2026" in subject_of(reminder)

    out = about(bot.reply(REF, at("2026-12-09T10:00"), SPO, ruling))
    outcomes = [m for m in out if "Outcome of the dispute" in subject_of(m)]
    assert sorted(recipients(m, "To").pop() for m in outcomes) == sorted([OAKVIEW, SAM])
    for message in outcomes:  # a PDF letter to the provider, an email to the referrer
        assert verdict in (letter_text(message) if OAKVIEW in recipients(message, "To")
                           else body_of(message))
        assert sent_at(message).date() == date(2026, 12, 9)


def test_the_spo_is_shown_the_providers_grounds_for_disputing_the_outcome(bot: Driver) -> None:
    agreed_oakview(bot)
    out = about(bot.reply(REF, at("2026-11-24T16:00"), OAKVIEW,
                          "We dispute the outcome of the concern: agency staff covered every "
                          "round, as the rota we attach shows."))
    to_spo = one(out, "Provider dispute to review")
    assert "agency staff covered every round" in body_of(to_spo)


# --- 7. dates: bank holidays, closure days, clock change -----------------------------------------

def test_spo_decision_over_christmas_counts_five_working_days(bot: Driver) -> None:
    bot.refer(at("2026-12-14T10:00"), SAM, "Oakview Care Home medication errors",
              concern("Oakview Care Home", "Residents missed evening medication."))
    bot.reply(REF, at("2026-12-14T11:00"), JSMITH, ELIGIBLE)
    bot.reply(REF, at("2026-12-16T10:00"), OAKVIEW, "We accept the findings.")
    out = about(bot.reply(REF, at("2026-12-23T10:00"), JSMITH,
                          "conclusion: medication was missed\nrefer to SPO"))
    # Thu 24 Dec, then 25-28 Dec holidays and weekend, 29-31 Dec closure, 1 Jan, weekend:
    # Mon 4, Tue 5, Wed 6, Thu 7 January.
    assert "Please decide by Thursday 7 January 2027" in body_of(one(out, "Decision needed"))
    for moment in ("2026-12-31T14:00", "2027-01-06T14:00", "2027-01-07T13:59"):
        assert not [m for m in about(bot.run(at(moment))) if SPO in recipients(m, "To")]
    reminder = one(about(bot.run(at("2027-01-07T14:00"))), "Management decision")
    assert to_and_cc(reminder) == ({SPO}, set())
    assert sent_at(reminder) == at("2027-01-07T14:00")


def test_provider_reminder_due_on_a_closure_day_moves_to_the_next_working_day(
        bot: Driver) -> None:
    open_oakview(bot, "2026-12-15T10:00")
    letter = one(about(bot.reply(REF, at("2026-12-15T11:00"), JSMITH, ELIGIBLE)),
                 "request to review")
    # 14 days after Tue 15 Dec is Tue 29 Dec, a closure day; then 30, 31 Dec, 1 Jan, a weekend.
    assert "respond to us in writing by Monday 4 January 2027" in letter_text(letter)
    for moment in ("2026-12-29T09:00", "2026-12-31T17:30", "2027-01-04T08:59"):
        assert about(bot.run(at(moment))) == []
    reminder = one(about(bot.run(at("2027-01-04T09:00"))), "Reminder: response needed")
    assert sent_at(reminder) == at("2027-01-04T09:00")
    assert sent_at(reminder).utcoffset() == timedelta(0)


def test_a_concern_after_close_of_business_counts_from_the_next_working_day(
        bot: Driver) -> None:
    open_oakview(bot, "2026-11-06T17:30")  # a Friday evening
    assert about(bot.run(at("2026-11-06T17:45"))) == []
    assert not [m for m in about(bot.run(at("2026-11-09T13:59"))) if "Screen" in subject_of(m)]
    reminder = one(about(bot.run(at("2026-11-09T14:00"))), "Screen the concern")
    assert subject_of(reminder) == f"{TAG} Due: Screen the concern (09/11/2026)"
    assert to_and_cc(reminder) == ({JSMITH}, set())


def test_calendar_day_reminder_across_the_spring_clock_change_goes_at_9_bst(bot: Driver) -> None:
    open_oakview(bot, "2027-03-22T10:00")
    ref = "CC-2027-0001"
    letter = one(about(bot.reply(ref, at("2027-03-22T11:00"), JSMITH, ELIGIBLE), ref),
                 "request to review")
    assert sent_at(letter).utcoffset() == timedelta(0)  # GMT before Sunday 28 March
    assert "respond to us in writing by Monday 5 April 2027" in letter_text(letter)
    # 09:00 GMT would be 10:00 BST: nothing may go an hour early or an hour late.
    assert about(bot.run(at("2027-04-05T08:59")), ref) == []
    reminder = one(about(bot.run(at("2027-04-05T09:00")), ref), "Reminder: response needed")
    assert sent_at(reminder) == at("2027-04-05T09:00")
    assert sent_at(reminder).utcoffset() == timedelta(hours=1)
    assert str(reminder["Date"]).endswith("09:00:00 +0100")


# --- 8. mail the bot must not answer, and running safely -----------------------------------------

def test_out_of_office_reply_is_not_answered_and_is_not_the_providers_response(
        bot: Driver) -> None:
    bot.refer(at("2026-11-03T16:40"), HANNAH, "Concern about Brightpath Home Care visits",
              concern("Brightpath Home Care", "Visits were cut short and two were missed."))
    bot.reply(REF, at("2026-11-04T09:30"), AKHAN, ELIGIBLE)
    auto = {"Auto-Submitted": "auto-replied"}
    # Without the header this would read as the provider accepting the concern.
    out = bot.reply(REF, at("2026-11-04T09:40"), "office@brightpath-homecare.example",
                    "I am out of the office until Monday. We accept that your email has arrived.",
                    headers=auto)
    assert out == []
    # An officer's own out-of-office is no command either: no receipt goes back.
    assert bot.reply(REF, at("2026-11-04T09:50"), AKHAN,
                     "I am on leave until Monday. screen: eligible", headers=auto) == []
    case = bot.ws.app.cases.get(REF)
    assert case is not None and case.stage == "awaiting_provider"
    assert len([e for e in case.timeline if e.kind == "automated"]) == 2  # logged, not answered
    reminder = one(about(bot.run(at("2026-11-18T09:00"))), "Reminder: response needed")
    assert recipients(reminder, "To") == BRIGHTPATH


def test_a_decision_only_the_spo_may_give_is_refused_when_a_cmo_sends_it(bot: Driver) -> None:
    open_oakview(bot)
    bot.reply(REF, at("2026-11-02T11:30"), JSMITH, ELIGIBLE)
    bot.reply(REF, at("2026-11-12T10:00"), OAKVIEW, "We accept the findings.")
    bot.reply(REF, at("2026-11-18T15:00"), JSMITH, "conclusion: medication missed\nrefer to SPO")
    out = about(bot.reply(REF, at("2026-11-19T09:00"), JSMITH, "decision: agreed"))
    receipt = one(out, "Commands received")
    assert [recipients(m, "To") for m in out] == [{JSMITH}]
    assert "decision: agreed: your role may not give this command" in body_of(receipt)
    assert "Awaiting the SPO's decision" in body_of(receipt)
    # Nothing moved: the SPO's own decision still concludes the case.
    out = about(bot.reply(REF, at("2026-11-20T10:00"), SPO, "decision: agreed"))
    assert to_and_cc(one(out, "conclusion and remedial action")) == ({OAKVIEW}, set())


def test_a_strangers_email_goes_to_triage_and_gets_no_reply(bot: Driver) -> None:
    stranger = "someone@example.org"
    bot.mail(at("2026-11-05T10:00"), stranger, "Question", "Who do I talk to about a care home?")
    bot.run(at("2026-11-06T09:05"))
    bot.run(at("2026-11-09T08:05"))
    everything = bot.ws.sent()
    assert not [m for m in everything if stranger in recipients(m, "To") | recipients(m, "Cc")]
    triage = bot.ws.app.store.triage_items()
    assert [item["sender"] for item in triage] == [stranger]
    assert list(bot.ws.app.cases.open()) == []


def test_shadow_mode_sends_nothing_and_keeps_the_letters_for_review(
        make_workspace: MakeWorkspace) -> None:
    bot = Driver(make_workspace(at("2026-11-02T08:00"), shadow=True))
    open_oakview(bot)
    bot.reply(REF, at("2026-11-02T11:30"), JSMITH, ELIGIBLE)
    bot.reply(REF, at("2026-11-12T10:00"), OAKVIEW, "We accept the findings.")
    assert bot.ws.sent() == []
    held = [subject_of(m) for m in about(bot.held())]
    assert f"{TAG} Contract concern: request to review, investigate and respond" in held
    assert any("Contract concern received" in s for s in held)
    assert not list((bot.ws.root / "var" / "mailbox" / "calendar").iterdir())


def test_running_twice_at_the_same_moment_sends_nothing_twice(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Count what reaches the mailbox's send: a real backend would not drop a second copy.
    sent_ids: list[str] = []
    real_send = bot.ws.mailbox.send

    def counting_send(message: bytes, to: list[str], message_id: str) -> SentRecord:
        sent_ids.append(message_id)
        return real_send(message, to, message_id)

    monkeypatch.setattr(bot.ws.mailbox, "send", counting_send)
    open_oakview(bot)
    after_referral = len(sent_ids)
    assert after_referral >= 2  # acknowledgement and screening request (and the digest)
    bot.run(at("2026-11-02T10:01"))
    assert len(sent_ids) == after_referral
    bot.reply(REF, at("2026-11-02T11:30"), JSMITH, ELIGIBLE)
    bot.run(at("2026-11-02T11:31"))
    bot.run(at("2026-11-16T09:00"))
    before = len(sent_ids)
    bot.run(at("2026-11-16T09:00"))
    assert len(sent_ids) == before
    assert len(sent_ids) == len(set(sent_ids))
    reminders = [m for m in about(bot.ws.sent()) if "Reminder: response needed" in subject_of(m)]
    assert len(reminders) == 1


def test_mail_received_before_the_start_date_is_never_touched(
        make_workspace: MakeWorkspace) -> None:
    bot = Driver(make_workspace(at("2026-10-30T08:00")))
    bot.mail(at("2026-10-30T10:00"), SAM, "Concern: Oakview Care Home",
             concern("Oakview Care Home", "Residents missed evening medication."))
    assert bot.run(at("2026-11-02T10:00")) == []
    assert list(bot.ws.app.cases.open()) == []
    waiting = bot.ws.mailbox.fetch_new(at("2026-10-01T00:00"))
    assert [item.received_at for item in waiting] == [at("2026-10-30T10:00")]
