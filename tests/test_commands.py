"""The officers' command language: wordings, dates, receipts' lists, and the permission table."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.commands import (
    COMMAND_NAMES,
    DateError,
    load_command_policy,
    parse_commands,
    parse_date,
)
from bot.config.yamlsource import ProblemsError

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 1)


def one(line: str) -> tuple[str, dict[str, Any]]:
    parsed = parse_commands(line, TODAY)
    assert parsed.not_understood == (), parsed
    [command] = parsed.commands
    return command.name, command.args


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("screen: eligible", "screen.eligible"),
        ("Screened as eligible", "screen.eligible"),
        ("screening outcome - operational", "screen.operational"),
        ("Screening Outcome \u2013 Operational", "screen.operational"),  # en dash from Outlook
        ("outcome: in-house", "screen.in_house"),
        ("screening: too old", "screen.too_old"),
        ("over 6 months old", "screen.too_old"),
        ("screen isolated", "screen.isolated"),
        ("investigation pending", "screen.investigation_pending"),
        ("investigation concluded", "investigation.concluded"),
        ("Investigation complete.", "investigation.concluded"),
        ("provider accepts", "provider.accepts"),
        ("provider has disputed the concern", "provider.disputes"),
        ("the provider does not accept the allegations", "provider.disputes"),
        ("review complete", "review.concluded"),
        ("refer to SPO", "review.concluded"),
        ("send to SPO", "review.concluded"),
        ("decision: agreed", "decision.agreed"),
        ("recommendation agreed", "decision.agreed"),
        ("Approved", "decision.agreed"),
        ("default notice: yes", "default_notice.yes"),
        ("issue a default notice", "default_notice.yes"),
        ("no default notice", "default_notice.no"),
        ("default notice: no", "default_notice.no"),
        ("default notice issued", "default_notice.issued"),
    ],
)
def test_commands_without_arguments(line: str, name: str) -> None:
    assert one(line) == (name, {})


@pytest.mark.parametrize(
    ("line", "name", "args"),
    [
        ("allocate to Jane Smith", "allocate", {"officer": "Jane Smith"}),
        ("allocate: jsmith", "allocate", {"officer": "jsmith"}),
        ("provider: Acme Care", "provider", {"name": "Acme Care"}),
        ("referrer: someone@council.example", "referrer", {"email": "someone@council.example"}),
        (
            "Referrer - Jane Doe <Jane.Doe@nhs.example>",
            "referrer",
            {"email": "jane.doe@nhs.example"},
        ),
        (
            "conclusion: the concern is substantiated",
            "review.conclusion",
            {"text": "the concern is substantiated"},
        ),
        (
            "Recommendation: close with remedial actions.",
            "review.recommendation",
            {"text": "close with remedial actions"},
        ),
        (
            "decision: further information needed - obtain the rota",
            "decision.more_info",
            {"text": "obtain the rota"},
        ),
        ("more information: obtain the rota", "decision.more_info", {"text": "obtain the rota"}),
        (
            "decision: alternative - warning letter",
            "decision.alternative",
            {"text": "warning letter"},
        ),
        (
            "alternative outcome: no further action",
            "decision.alternative",
            {"text": "no further action"},
        ),
        (
            "follow-up not satisfactory: no training records",
            "follow_up.unsatisfactory",
            {"text": "no training records"},
        ),
        (
            "remedial action not taken: plans still out of date",
            "follow_up.unsatisfactory",
            {"text": "plans still out of date"},
        ),
        ("dispute upheld", "dispute.upheld", {"text": ""}),
        (
            "dispute upheld because the records were found",
            "dispute.upheld",
            {"text": "because the records were found"},
        ),
        ("dispute rejected: reasons", "dispute.rejected", {"text": "reasons"}),
        ("close", "close", {"text": ""}),
        ("close case", "close", {"text": ""}),
        ("close: duplicate of CC-2026-0007", "close", {"text": "duplicate of CC-2026-0007"}),
        ("Please close the case.", "close", {"text": ""}),
    ],
)
def test_commands_with_arguments(line: str, name: str, args: dict[str, Any]) -> None:
    assert one(line) == (name, args)


@pytest.mark.parametrize(
    ("line", "action", "due"),
    [
        ("remedial action: staff training by 15/01/2027", "staff training", date(2027, 1, 15)),
        ("action: update care plans within 28 days", "update care plans", date(2026, 12, 29)),
        (
            "remedial action - audit MAR charts (by 1st March 2027)",
            "audit MAR charts",
            date(2027, 3, 1),
        ),
        ("remedial action: new rota before 2027-02-01", "new rota", date(2027, 2, 1)),
        ("action: improve handover by the manager", "improve handover by the manager", None),
        ("remedial action: retrain staff", "retrain staff", None),
    ],
)
def test_remedial_actions_and_their_due_dates(line: str, action: str, due: date | None) -> None:
    assert one(line) == ("review.remedial", {"action": action, "due": due})


@pytest.mark.parametrize(
    ("line", "due"),
    [
        ("follow-up deadline: 2027-02-01", date(2027, 2, 1)),
        ("agreed deadline 1 February 2027", date(2027, 2, 1)),
        ("deadline agreed: Friday 5th February 2027", date(2027, 2, 5)),
        ("follow up deadline - in 4 weeks", date(2026, 12, 29)),
    ],
)
def test_follow_up_deadline(line: str, due: date) -> None:
    assert one(line) == ("follow_up.deadline", {"due": due})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/01/2027", date(2027, 1, 15)),
        ("2027-01-15", date(2027, 1, 15)),
        ("15 January 2027", date(2027, 1, 15)),
        ("15th Jan 2027", date(2027, 1, 15)),
        ("January 15, 2027", date(2027, 1, 15)),
        ("within 3 months", date(2027, 3, 1)),
        ("in two weeks", date(2026, 12, 15)),
    ],
)
def test_date_forms(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["31/02/2027", "10 working days", "next Tuesday"])
def test_unreadable_dates_raise(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text, TODAY)


@pytest.mark.parametrize(
    "line",
    [
        "remedial action: staff training by 31/02/2027",  # not a real date
        "follow-up deadline: soon",
        "Close monitoring is needed",  # free text without ":" must not close a case
        "closed",
        "conclusion the concern is substantiated",
        "referrer: Jane Doe",  # no email address
        "provider has now formally disputed the concern",
        "frobnicate the widgets",
    ],
)
def test_lines_not_understood(line: str) -> None:
    parsed = parse_commands(line, TODAY)
    assert parsed.commands == ()
    assert parsed.not_understood == (line,)


def test_a_whole_reply_bullets_greeting_signature_and_quote() -> None:
    body = (
        "Hi team,\n"
        "\n"
        "Please see below.\n"
        "- Screen: eligible\n"
        "* allocate to Jane Smith\n"
        "1. provider: Sunny Days Care Ltd\n"
        "2) frobnicate the widgets\n"
        "\n"
        "Kind regards\n"
        "Bob Jones\n"
        "Contract Management Officer\n"
        "\n"
        "On Tue, 1 Dec 2026 at 09:00, Contract Concerns <concerns@council.example> wrote:\n"
        "> close\n"
        "> Please confirm the screening outcome.\n"
    )
    parsed = parse_commands(body, TODAY)
    assert [(c.name, c.lineno, c.line) for c in parsed.commands] == [
        ("screen.eligible", 4, "- Screen: eligible"),
        ("allocate", 5, "* allocate to Jane Smith"),
        ("provider", 6, "1. provider: Sunny Days Care Ltd"),
    ]
    assert parsed.not_understood == ("2) frobnicate the widgets",)
    assert parsed.ignored == (
        "Hi team,",
        "Please see below.",
        "Kind regards",
        "Bob Jones",
        "Contract Management Officer",
    )


def test_a_name_alone_counts_as_ignored_only_after_a_sign_off() -> None:
    assert parse_commands("Jane", TODAY).not_understood == ("Jane",)
    assert parse_commands("Thanks\nJane", TODAY).ignored == ("Thanks", "Jane")


def test_signature_delimiter_and_outlook_history_are_cut() -> None:
    body = "decision: agreed\n-- \nclose\n"
    assert [c.name for c in parse_commands(body, TODAY).commands] == ["decision.agreed"]
    outlook = (
        "default notice: no\n\n"
        "From: Contract Concerns <concerns@council.example>\n"
        "Sent: 01 December 2026 09:00\n"
        "Subject: CC-2026-0042 decision needed\n\n"
        "default notice: yes\n"
    )
    assert [c.name for c in parse_commands(outlook, TODAY).commands] == ["default_notice.no"]


def test_case_reference_lines() -> None:
    parsed = parse_commands("case CC-2026-0042\nclose", TODAY)
    assert parsed.case_reference == "CC-2026-0042"
    assert [c.name for c in parsed.commands] == ["close"]
    assert parse_commands("Ref: cc-2026-0042", TODAY).case_reference == "CC-2026-0042"
    conflicting = parse_commands("case CC-2026-0042\nref: CC-2026-0043\nclose", TODAY)
    assert conflicting.case_reference == "CC-2026-0042"
    assert conflicting.not_understood == ("ref: CC-2026-0043",)


def test_examples_in_the_officers_guide_all_parse() -> None:
    guide = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    section = guide.split("## Instructions", 1)[1].split("## A complete example", 1)[0]
    examples = [line.strip() for line in section.splitlines() if line.startswith("    ")]
    table_rows = [line for line in section.splitlines() if line.startswith("| `")]
    examples += [found for row in table_rows for found in re.findall(r"`([^`]+)`", row)]
    assert len(examples) > 40
    for example in examples:
        parsed = parse_commands(example, TODAY)
        assert len(parsed.commands) == 1 and not parsed.not_understood, example


@pytest.fixture(scope="module")
def policy_file() -> Path:
    return ROOT / "rules" / "commands.yaml"


def test_shipped_policy_permissions_and_help(policy_file: Path) -> None:
    policy = load_command_policy(policy_file)
    assert policy.allowed("close", ["cmo"])
    assert not policy.allowed("decision.agreed", ["cmo"])
    assert policy.allowed("decision.agreed", ["cmo", "head_of_procurement"])
    assert not policy.allowed("dispute.upheld", [])
    assert not policy.allowed("no.such.command", ["spo"])
    for name in COMMAND_NAMES:
        spo_only = name.startswith(("decision.", "default_notice.", "dispute."))
        assert policy.allowed(name, ["spo"]) and policy.allowed(name, ["head_of_procurement"])
        assert policy.allowed(name, ["cmo"]) is not spo_only, name
    lines = policy.help_lines()
    assert len(lines) == len(COMMAND_NAMES)
    assert lines[0].startswith("screen: eligible  -  ")
    assert not any(line.startswith("decision:") for line in policy.help_lines(["cmo"]))


def test_policy_file_mistakes_name_their_lines(tmp_path: Path, policy_file: Path) -> None:
    text = policy_file.read_text(encoding="utf-8")
    text = text.replace("  close:\n", "  closer:\n")  # unknown name, and "close" now missing
    text = text.replace('example: "provider accepts"', 'example: "provider disputes"')
    broken = tmp_path / "commands.yaml"
    broken.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    with pytest.raises(ProblemsError) as caught:
        load_command_policy(broken)
    found = {(p.line, p.message) for p in caught.value.problems}
    assert (lines.index("  closer:") + 1, "unknown command 'closer'") in found
    assert (lines.index("commands:") + 1, "commands not listed: close") in found
    example_line = lines.index('    example: "provider disputes"') + 1
    assert (example_line, "the example reads as provider.disputes") in found
    assert len(found) == 3


def test_policy_roles_are_validated(tmp_path: Path, policy_file: Path) -> None:
    text = policy_file.read_text(encoding="utf-8").replace(
        "roles: [spo, head_of_procurement]", "roles: [spo, Head Of Procurement]", 1
    )
    broken = tmp_path / "commands.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_command_policy(broken)
    [problem] = caught.value.problems
    assert problem.message == "bad role 'Head Of Procurement'"
    assert problem.key == "commands.decision.agreed.roles[1]"
    with pytest.raises(ProblemsError):
        load_command_policy(policy_file, known_roles={"cmo", "spo"})


@pytest.mark.parametrize(
    ("line", "name", "args"),
    [
        ("approve the letter", "letter.approve", {}),
        ("Approve draft as it is", "letter.approve", {}),
        ("letter approved", "letter.approve", {}),
        ("send the letter", "letter.approve", {}),
        ("approve", "decision.agreed", {}),  # handling takes it as the letter while one waits
        ("concern copy: the provider missed four visits", "letter.edit",
         {"text": "the provider missed four visits"}),
        ("referrer identity: shared", "letter.identity", {"value": "shared"}),
        ("Referrer's name - withheld", "letter.identity", {"value": "withheld"}),
        ("name the referrer to the provider", "letter.identity", {"value": "shared"}),
        ("withhold the referrer's identity", "letter.identity", {"value": "withheld"}),
        ("attachments: keep", "letter.attachments", {"value": "keep"}),
        ("drop the attachments", "letter.attachments", {"value": "drop"}),
        ("referrer: jane.doe@council.example", "referrer", {"email": "jane.doe@council.example"}),
    ],
)
def test_what_goes_to_the_provider(line: str, name: str, args: dict[str, Any]) -> None:
    assert one(line) == (name, args)


def test_an_edited_copy_between_the_marker_lines_is_read_as_it_was_written() -> None:
    text = (
        "Hi Jane,\n\n=== concern copy ===\nFirst line, with a bullet below.\n- not a command\n\n"
        "close: this is text too\n=== end of concern copy ===\nattachments: keep\n\nThanks\nJane"
    )
    parsed = parse_commands(text, TODAY)
    assert [(c.name, c.lineno) for c in parsed.commands] == [
        ("letter.edit", 3),
        ("letter.attachments", 9),
    ]
    assert parsed.commands[0].args["text"] == (
        "First line, with a bullet below.\n- not a command\n\nclose: this is text too"
    )
    assert parsed.not_understood == () and parsed.ignored == ("Hi Jane,", "Thanks", "Jane")


def test_a_copy_without_its_end_line_changes_nothing() -> None:
    parsed = parse_commands("=== concern copy ===\nNew text\nclose\n", TODAY)
    assert parsed.commands == ()
    assert parsed.not_understood == (
        "=== concern copy === (no '=== end of concern copy ===' line after it)",
    )


def test_the_letter_approval_is_for_the_cases_officer_alone(policy_file: Path) -> None:
    policy = load_command_policy(policy_file)
    assert policy.case_officer_only("letter.approve") and policy.case_officer_only("letter.edit")
    assert not policy.case_officer_only("screen.eligible")
    assert any(line.endswith("(the case's officer)") for line in policy.help_lines())
