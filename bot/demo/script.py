"""The demo's story: who writes what and when, through every path of the procedure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.clock import LONDON
from bot.demo.harness import Workspace

JSMITH = "jane.smith@council.example"
AKHAN = "aisha.khan@council.example"
PJONES = "peter.jones@council.example"
SPO = "mary.brown@council.example"
SAM = "sam.ward@council.example"
LAURA = "laura.green@council.example"  # Chris Evans's manager
CHRIS = "chris.evans@council.example"
HANNAH = "hannah.lee@nhs.example"
NINA = "nina.novak@nhs.example"
OAKVIEW = "manager@oakview-care.example"
BRIGHTPATH = "office@brightpath-homecare.example"
RIVERSIDE = "enquiries@riverside-living.example"
MEADOWS = "centre.manager@meadows-day.example"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@dataclass
class Story:
    """Collects each scene's timed emails; the demo plays them all in time order."""

    ws: Workspace
    refs: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)

    def _add(self, when: str, action: Callable[[], None]) -> None:
        self.steps.append((at(when), len(self.steps), action))

    def refer(self, label: str, when: str, sender: str, subject: str, body: str) -> None:
        def send() -> None:
            message_id = self.ws.email(sender, subject, body, at=at(when))
            self.ws.run(at(when) + timedelta(minutes=1))
            for case in self.ws.app.cases.open():
                if case.concern_message_id == message_id:
                    self.refs[label] = case.reference
                    return
            raise RuntimeError(f"the demo referral {label!r} did not open a case")

        self._add(when, send)

    def reply(self, label: str, when: str, sender: str, body: str, subject: str = "") -> None:
        def send() -> None:
            reference = self.refs[label]
            self.ws.email(
                sender, f"RE: [{reference}] {subject or 'Contract concern'}", body, at=at(when)
            )
            self.ws.run(at(when) + timedelta(minutes=1))

        self._add(when, send)

    def email(self, when: str, sender: str, subject: str, body: str, **kw: Any) -> None:
        def send() -> None:
            self.ws.email(sender, subject, body, at=at(when), **kw)
            self.ws.run(at(when) + timedelta(minutes=1))

        self._add(when, send)

    def play(self, until: datetime) -> None:
        for when, _, action in sorted(self.steps, key=lambda step: (step[0], step[1])):
            self.ws.advance_to(when)
            action()
        self.ws.advance_to(until)


def concern(provider: str, what: str, extra: str = "") -> str:
    return (
        f"Dear Contract Management Team,\n\nI am raising a contract concern about {provider}. "
        f"{what}\n\nThe safeguarding enquiry has concluded and found the concern substantiated."
        f"{extra}\n\nRegards"
    )


Scene = Callable[[Story], None]


def accepted_path(s: Story) -> None:
    """Provider accepts -> review -> SPO agrees -> conclusion -> follow-up received -> closed."""
    s.refer(
        "accepted",
        "2026-11-02T10:12",
        SAM,
        "Concern: Oakview Care Home medication errors",
        concern("Oakview Care Home", "Residents missed evening medication on three nights."),
    )
    s.reply("accepted", "2026-11-02T11:30", JSMITH, "screen: eligible")
    # The draft letter comes back to the officer; nothing goes to the provider until approved.
    s.reply("accepted", "2026-11-02T14:10", JSMITH, "approve")
    s.reply(
        "accepted",
        "2026-11-12T10:00",
        OAKVIEW,
        "We accept the findings and have started a medication audit.",
    )
    s.reply(
        "accepted",
        "2026-11-18T15:00",
        JSMITH,
        "Conclusion: medication rounds were missed because of agency staff shortages.\n"
        "Recommendation: weekly medication audits for three months.\n"
        "Remedial action: complete a full medication audit by 18/12/2026\n"
        "Remedial action: train agency staff on the MAR system within 28 days\n"
        "Refer to SPO",
    )
    s.reply("accepted", "2026-11-20T10:00", SPO, "Decision: agreed\nDefault notice: no")
    s.reply(
        "accepted",
        "2026-12-02T09:30",
        OAKVIEW,
        "Please find attached the completed medication audit and training records.",
    )
    s.reply("accepted", "2026-12-03T10:00", JSMITH, "close")


def silent_provider_path(s: Story) -> None:
    """Provider silent -> reminder on day 14 -> no response -> step 14 -> default notice issued."""
    s.refer(
        "silent",
        "2026-11-03T16:40",
        HANNAH,
        "Concern about Brightpath Home Care visits",
        concern("Brightpath Home Care", "Visits were cut short and two were missed entirely."),
    )
    s.reply("silent", "2026-11-04T09:30", AKHAN, "Screening outcome - eligible\napprove")
    s.email(
        "2026-11-04T09:40",
        BRIGHTPATH,
        "Automatic reply: Contract concern",
        "I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    s.reply("silent", "2026-12-03T11:00", SPO, "default notice: yes")
    s.reply("silent", "2026-12-07T10:00", SPO, "Default notice issued")


def disputed_path(s: Story) -> None:
    """Disputed -> referrer silent -> day 7 reminder -> review -> more information -> agreed;
    then the provider disputes the outcome (16 -> 16.1 -> 16.2), follow-up lapses -> step 14."""
    s.refer(
        "disputed",
        "2026-11-30T09:15",
        CHRIS,
        "Riverside Supported Living - tenancy concern",
        concern("Riverside Supported Living", "A tenant's personal allowance was not recorded."),
    )
    s.reply("disputed", "2026-11-30T10:00", AKHAN, "screen: eligible")
    # Only the case's officer (Peter Jones, from the rota) may approve the letter; he edits the
    # copy of the concern by reply, which approves it.
    s.reply("disputed", "2026-11-30T10:30", AKHAN, "approve")
    s.reply(
        "disputed",
        "2026-11-30T11:00",
        PJONES,
        "=== concern copy ===\n"
        "A tenant's personal allowance was not recorded in October and November 2026.\n\n"
        "The safeguarding enquiry has concluded and found the concern substantiated.\n"
        "=== end of concern copy ===\n\nThanks\nPeter",
    )
    s.reply(
        "disputed",
        "2026-12-04T15:00",
        RIVERSIDE,
        "We dispute the allegations: our records show every payment was logged.",
    )
    # The referrer's manager replies to all on the day-7 reminder: a comment, nothing moves.
    s.reply(
        "disputed",
        "2026-12-11T11:00",
        LAURA,
        "Chris is on leave until the 14th and will send his comments then.",
        subject="Reminder: your comments on the provider's response",
    )
    s.reply(
        "disputed",
        "2026-12-17T11:00",
        AKHAN,
        "conclusion: records were incomplete for six weeks\n"
        "remedial action: introduce a finance log audit by 2027-02-01\nrefer to SPO",
    )
    s.reply(
        "disputed",
        "2026-12-23T10:00",
        SPO,
        "Decision: further information needed - ask for the provider's finance policy",
    )
    s.reply(
        "disputed",
        "2027-01-06T14:00",
        AKHAN,
        "conclusion: the finance policy was not followed\nfollow-up deadline: 2027-02-05\n"
        "refer to SPO",
    )
    s.reply("disputed", "2027-01-08T10:00", SPO, "decision: agreed\ndefault notice: no")
    s.reply(
        "disputed",
        "2027-01-12T16:00",
        RIVERSIDE,
        "We dispute the outcome of the concern and the conclusion reached; "
        "our supporting evidence is attached.",
    )
    s.reply(
        "disputed",
        "2027-01-21T12:00",
        SPO,
        "dispute rejected: the evidence does not change the finding",
    )
    s.reply("disputed", "2027-02-22T10:00", SPO, "Default notice: no")


def default_notice_path(s: Story) -> None:
    """Agreed with a default notice; not disputed -> step 15 -> issued -> follow-up -> closed."""
    s.refer(
        "default",
        "2027-03-01T10:00",
        NINA,
        "Meadows Day Centre transport concern",
        concern(
            "The Meadows Day Centre", "Service users were left waiting for transport for hours."
        ),
    )
    s.reply("default", "2027-03-01T12:00", PJONES, "screen: eligible\napprove")
    s.reply("default", "2027-03-04T10:00", MEADOWS, "We accept the concern and apologise.")
    s.reply(
        "default",
        "2027-03-09T10:00",
        PJONES,
        "conclusion: transport was not scheduled\n"
        "remedial action: new transport rota by 2027-04-09\n"
        "refer to SPO",
    )
    s.reply(
        "default",
        "2027-03-11T10:00",
        SPO,
        "decision: alternative - a formal improvement plan instead of audits\ndefault notice: yes",
    )
    s.reply("default", "2027-03-30T10:00", SPO, "default notice issued")
    s.reply(
        "default",
        "2027-03-31T10:00",
        MEADOWS,
        "Our new transport rota and improvement plan are attached.",
    )
    s.reply("default", "2027-04-01T10:00", PJONES, "close")


def screening_paths(s: Story) -> None:
    """The five other screening outcomes, and an investigation that concludes later."""
    s.refer(
        "investigation",
        "2026-11-10T10:00",
        SAM,
        "Oakview Care Home - falls",
        "Concern about Oakview Care Home: two falls. The safeguarding investigation is still "
        "ongoing.\nRegards",
    )
    s.reply("investigation", "2026-11-10T12:00", JSMITH, "screen: investigation pending")
    s.refer(
        "operational",
        "2026-11-11T10:00",
        SAM,
        "Brightpath Home Care - late visit",
        "Brightpath Home Care were 20 minutes late once. A low level issue really.\nThanks",
    )
    s.reply("operational", "2026-11-11T11:00", AKHAN, "screen: operational")
    s.refer(
        "isolated",
        "2026-11-12T10:00",
        CHRIS,
        "Meadows Day Centre - lunch",
        "The Meadows Day Centre served the wrong lunch to one person, an isolated incident the "
        "manager has already addressed.\nThanks",
    )
    s.reply("isolated", "2026-11-12T11:00", PJONES, "screen: isolated")
    s.refer(
        "in_house",
        "2026-11-13T10:00",
        CHRIS,
        "Elmfield Day Service",
        "A concern about the council-run Elmfield Day Service, an in-house service: staff "
        "shortages on Fridays.\nThanks",
    )
    s.reply("in_house", "2026-11-13T11:00", JSMITH, "screen: in-house")
    s.refer(
        "too_old",
        "2026-11-16T10:00",
        HANNAH,
        "Old concern: Riverside Supported Living",
        "Riverside Supported Living: the incident happened on 12/03/2026 and was never raised.\n"
        "Regards",
    )
    s.reply("too_old", "2026-11-16T11:00", AKHAN, "screen: too old")
    s.reply(
        "investigation",
        "2027-01-15T10:00",
        SAM,
        "The safeguarding investigation has now concluded; please screen again.",
    )
    s.reply("investigation", "2027-01-15T12:00", JSMITH, "screen: operational")


def odd_mail(s: Story) -> None:
    """Mail the bot must not guess about: a stranger, and a decision from someone not allowed;
    an officer clears the triage list by email."""
    s.email(
        "2026-11-05T10:00", "someone@example.org", "Question", "Who do I talk to about a care home?"
    )
    s.email("2026-11-06T10:30", AKHAN, "Triage", "dismiss T0001: member of the public; phoned back")
    s.reply("accepted", "2026-11-19T09:00", JSMITH, "decision: agreed")


def still_open(s: Story) -> None:
    """What the team finds on the last day: a concern with the provider, one not yet screened
    (overdue by the evening), and an email from a member of the public nobody has placed."""
    s.refer(
        "night_staffing",
        "2027-04-06T10:00",
        HANNAH,
        "Oakview Care Home - night staffing",
        concern("Oakview Care Home", "Only one member of staff was on duty at night."),
    )
    s.reply("night_staffing", "2027-04-06T11:00", JSMITH, "screen: eligible\napprove")
    s.email(
        "2027-04-08T15:00",
        "worried.relative@example.org",
        "My mother's care",
        "I am worried about the care my mother gets at home. Who should I speak to?",
    )
    s.refer(
        "missed_visits",
        "2027-04-09T10:00",
        SAM,
        "Brightpath Home Care - missed lunchtime visits",
        concern("Brightpath Home Care", "Two lunchtime visits were missed last week."),
    )


SCENES: tuple[Scene, ...] = (
    accepted_path,
    silent_provider_path,
    disputed_path,
    default_notice_path,
    screening_paths,
    odd_mail,
    still_open,
)
START = at("2026-11-02T08:00")
END = at("2027-04-09T18:00")
