"""Classification of representative emails by the shipped rule table, and rule-file validation."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.classify import (
    CHECKS,
    KINDS,
    NO_RULE,
    Classification,
    ClassificationRules,
    SenderInfo,
    classify,
    load_classification,
)
from bot.config.yamlsource import ProblemsError
from bot.intake.message import Attachment, ParsedMail

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "classification.yaml"
SENT = datetime(2026, 11, 3, 10, 15, tzinfo=ZoneInfo("Europe/London"))
CASE = "CC-2026-0042"


@pytest.fixture(scope="module")
def rules() -> ClassificationRules:
    return load_classification(RULES_FILE)


def mail(text: str, subject: str = f"Re: {CASE} Contract concern", files: int = 0) -> ParsedMail:
    return ParsedMail(
        message_id="reply-1@provider.example",
        content_hash="0" * 64,
        sender="manager@sunnydays.example",
        sender_name="Registered Manager",
        to=("concerns@council.example",),
        cc=(),
        subject=subject,
        date=SENT,
        in_reply_to=(),
        references=(),
        text=text,
        headers=(("Subject", subject),),
        attachments=tuple(
            Attachment(f"evidence{n}.pdf", "application/pdf", 1000) for n in range(files)
        ),
    )


def sender(
    role: str, stage: str | None = None, automated: bool = False, case: bool = True
) -> SenderInfo:
    has_case = case and stage is not None
    return SenderInfo(role, CASE if has_case else None, stage if has_case else None, automated)


def kind_of(text: str, who: SenderInfo, rules: ClassificationRules) -> str:
    return classify(mail(text), who, rules).kind


PROVIDER_WAITING = sender("provider", "awaiting_provider")


def test_automated_mail_wins_and_every_hit_is_recorded(rules: ClassificationRules) -> None:
    who = sender("provider", "awaiting_provider", automated=True)
    result = classify(mail("I am out of the office. We accept all post."), who, rules)
    assert result.kind == "automated"
    assert result.rule == "automated_mail"
    assert [hit.rule for hit in result.hits] == [
        "automated_mail",
        "provider_accepts_concern",
        "provider_response_unclear",
    ]
    assert result.hits[0].checks == ("automated: automated=True",)


@pytest.mark.parametrize("role", ["cmo", "spo"])
def test_officer_mail_is_a_command(role: str, rules: ClassificationRules) -> None:
    assert kind_of("screen: eligible", sender(role, "screening"), rules) == "command"
    assert kind_of("allocate to Jane", sender(role), rules) == "command"


@pytest.mark.parametrize("role", ["referrer", "referrer_domain", "staff"])
def test_staff_mail_without_a_case_is_a_new_referral(role: str, rules: ClassificationRules) -> None:
    text = "I would like to raise a concern about missed calls at Sunny Days."
    result = classify(mail(text, subject="Contract concern"), sender(role), rules)
    assert (result.kind, result.rule) == ("new_referral", "new_concern_from_referrer")
    assert "has_case: no case" in result.hits[0].checks


@pytest.mark.parametrize(
    "text",
    [
        "We accept the concerns raised and have retrained the staff involved.",
        "I fully accept the concern and apologise.",
        "We do not dispute the allegations.",
        "We don\u2019t dispute what happened on the day.",
        "Having investigated, the allegations are substantiated.",
        "We agree with the findings and attach our action plan.",
        "We acknowledge receipt of your letter. We accept the findings.",
    ],
)
def test_provider_accepts(text: str, rules: ClassificationRules) -> None:
    assert kind_of(text, PROVIDER_WAITING, rules) == "provider_accepts"


@pytest.mark.parametrize(
    "text",
    [
        "We do not accept the allegations.",
        "We don't accept the allegations made.",
        "We don\u2019t agree with the concern.",
        "We dispute the allegations in full.",
        "I can confirm the allegations are untrue.",
        "The allegations are not accepted.",
        "We are unable to accept the concern as described.",
        "We are not prepared to accept these allegations.",
        "The incident did not happen as described.",
        "We cannot\naccept these allegations.",  # the phrase is split across lines
    ],
)
def test_provider_disputes_including_negated_acceptance(
    text: str, rules: ClassificationRules
) -> None:
    assert kind_of(text, PROVIDER_WAITING, rules) == "provider_disputes"


@pytest.mark.parametrize(
    "text",
    [
        "We accept some points but dispute the rest.",  # both
        "Please find our response attached.",  # neither
        "We acknowledge receipt of your letter and will respond shortly.",
        "We accept no responsibility for the delay.",
    ],
)
def test_provider_both_or_neither_is_unclear(text: str, rules: ClassificationRules) -> None:
    result = classify(mail(text), PROVIDER_WAITING, rules)
    assert (result.kind, result.rule) == ("provider_unclear", "provider_response_unclear")


@pytest.mark.parametrize(
    "stage", ["awaiting_provider", "provider_reminded", "default_consideration"]
)
def test_provider_response_stages(stage: str, rules: ClassificationRules) -> None:
    assert kind_of("We accept the concern.", sender("provider", stage), rules) == "provider_accepts"


def test_quoted_history_does_not_count(rules: ClassificationRules) -> None:
    reply = (
        "Thank you, we accept the findings.\n\n"
        "On Tue, 3 Nov 2026 at 09:00, Contract Concerns <concerns@council.example> wrote:\n"
        "> We dispute the concern.\n"
    )
    assert kind_of(reply, PROVIDER_WAITING, rules) == "provider_accepts"
    only_quoted = "Noted.\n> we do not accept the allegations\n"
    assert kind_of(only_quoted, PROVIDER_WAITING, rules) == "provider_unclear"


@pytest.mark.parametrize(
    "text",
    [
        "We dispute the outcome of the concern.",
        "We do not accept the conclusion you have reached.",
        "We don't accept the remedial actions.",
        "The decision is unfair and disproportionate.",
        "We wish to appeal against the decision.",
        "Our grounds for appeal are attached.",
    ],
)
def test_outcome_dispute_after_conclusion(text: str, rules: ClassificationRules) -> None:
    assert kind_of(text, sender("provider", "follow_up"), rules) == "outcome_dispute"


@pytest.mark.parametrize(
    "text",
    [
        "Please find attached evidence of the staff training.",
        "We do not dispute the outcome; the training records are attached.",
    ],
)
def test_follow_up_evidence(text: str, rules: ClassificationRules) -> None:
    for stage in ("follow_up", "follow_up_reminded", "follow_up_review", "default_notice_issue"):
        assert kind_of(text, sender("provider", stage), rules) == "follow_up_evidence"


def test_referrer_comments_and_investigation_updates(rules: ClassificationRules) -> None:
    text = "I do not accept the provider's account."
    for stage in ("awaiting_referrer", "review"):
        result = classify(mail(text), sender("referrer", stage), rules)
        assert (result.kind, result.rule) == ("referrer_comment", "referrer_comments_on_dispute")
    pending = classify(
        mail("The investigation has concluded."), sender("referrer", "investigation_pending"), rules
    )
    assert pending.kind == "referrer_comment"
    assert pending.rule == "referrer_writes_while_investigation_pending"


def test_operational_team_validation(rules: ClassificationRules) -> None:
    text = "I visited on Monday and can confirm the care plans are updated."
    assert kind_of(text, sender("staff", "follow_up"), rules) == "operational_validation"
    for stage in ("follow_up_reminded", "follow_up_review"):
        assert kind_of(text, sender("staff", stage), rules) == "operational_validation"


@pytest.mark.parametrize(
    "who",
    [
        sender("unknown"),
        sender("provider"),  # a provider contact with no case to thread to
        sender("referrer", "follow_up"),
        sender("provider", "screening"),
    ],
)
def test_everything_else_is_unknown(who: SenderInfo, rules: ClassificationRules) -> None:
    assert classify(mail("Hello, any news?"), who, rules) == Classification("unknown", NO_RULE, ())


@pytest.mark.parametrize(
    "who",
    [
        sender("third_party", "awaiting_provider"),
        sender("staff", "awaiting_provider"),  # e.g. the referrer's manager, replying to all
        sender("third_party", "follow_up"),
    ],
)
def test_someone_in_the_thread_who_is_no_party_comments(
    who: SenderInfo, rules: ClassificationRules
) -> None:
    # Even words that would be a provider's acceptance move nothing: it is only a comment.
    assert kind_of("We accept the allegations.", who, rules) == "third_party_comment"


def test_a_third_party_needs_a_case(rules: ClassificationRules) -> None:
    assert kind_of("Any news?", sender("third_party", case=False), rules) == "unknown"


def test_hits_say_what_each_check_saw(rules: ClassificationRules) -> None:
    result = classify(mail("We do not accept the allegations."), PROVIDER_WAITING, rules)
    assert result.hits[0].rule == "provider_disputes_concern"
    assert result.hits[0].checks == (
        "sender_role: role provider",
        "stage_in: stage awaiting_provider",
        "body_matches: 'not accept'",
        "body_not_matches: none of 4 patterns",
    )
    assert [hit.kind for hit in result.hits] == ["provider_disputes", "provider_unclear"]


def test_every_kind_in_the_shipped_table_is_known(rules: ClassificationRules) -> None:
    assert {rule.kind for rule in rules.rules} <= set(KINDS)
    assert set(KINDS) - {rule.kind for rule in rules.rules} == {"unknown"}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "classification.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_subject_and_attachment_checks(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n"
        "  - name: evidence_pack\n"
        "    kind: follow_up_evidence\n"
        "    when:\n"
        "      subject_matches: '\\bevidence\\b'\n"
        "      has_attachment: true\n",
    )
    table = load_classification(path)
    who = sender("provider", "follow_up")
    hit = classify(mail("See attached.", subject="Evidence for CC-2026-0042", files=2), who, table)
    assert hit.kind == "follow_up_evidence"
    assert hit.hits[0].checks == ("subject_matches: 'Evidence'", "has_attachment: 2 attachment(s)")
    no_files = classify(mail("See attached.", subject="Evidence"), who, table)
    assert no_files.kind == "unknown"


def test_bad_regex_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n"
        "  - name: broken\n"
        "    kind: provider_accepts\n"
        "    when:\n"
        "      body_matches:\n"
        "        - 'fine'\n"
        "        - '(unclosed'\n",
    )
    with pytest.raises(ProblemsError) as caught:
        load_classification(path)
    [problem] = caught.value.problems
    assert problem.line == 7
    assert problem.key == "rules[0].when.body_matches[1]"
    assert "bad regular expression" in problem.message


def test_unknown_check_names_the_known_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n  - name: typo\n    kind: command\n    when:\n      sender_rol: [cmo]\n",
    )
    with pytest.raises(ProblemsError) as caught:
        load_classification(path)
    [problem] = caught.value.problems
    assert problem.line == 5
    assert "unknown check 'sender_rol'" in problem.message
    assert "did you mean 'sender_role'" in problem.fix
    assert all(name in problem.fix for name in CHECKS)


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n"
        "  - name: one\n"
        "    kind: accepted\n"  # line 3: unknown kind
        "    when: {automated: yes please}\n"  # line 4: not a boolean
        "  - name: one\n"  # line 5: duplicate name
        "    kind: command\n"
        "    when: {sender_role: [boss]}\n"  # line 7: unknown role
        "  - name: empty\n"
        "    kind: command\n"
        "    when: {}\n",  # line 10: no checks
    )
    with pytest.raises(ProblemsError) as caught:
        load_classification(path)
    found = {(p.line, p.message.split(" ")[0]) for p in caught.value.problems}
    assert found == {(3, "unknown"), (4, "automated:"), (7, "sender_role:"), (10, "a")}


def test_stage_names_are_checked_when_given(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n  - name: r\n    kind: referrer_comment\n    when:\n"
        "      stage_in: [review, reveiw]\n",
    )
    assert load_classification(path).rules[0].name == "r"
    with pytest.raises(ProblemsError) as caught:
        load_classification(path, stages={"review", "follow_up"})
    [problem] = caught.value.problems
    assert (problem.line, problem.message) == (5, "unknown stage 'reveiw'")
