"""Tests for letter templates, the sandboxed renderer and the MIME composer."""

from __future__ import annotations

from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import TemplateNotFound, UndefinedError
from jinja2.exceptions import SecurityError

from bot.demo.harness import Workspace
from bot.letters import Rendered, Renderer, compose, message_id_for, sample_context
from bot.letters.compose import subject_with_reference
from bot.letters.render import longdate, shortdate

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LONDON = ZoneInfo("Europe/London")
REF = "CC-2026-0042"
CASELESS = {"daily_digest", "triage_reminder", "admin_alert"}
EXPECTED = {
    "acknowledgement", "screening_request", "not_processed_investigation", "returned_operational",
    "returned_isolated", "returned_too_old", "forward_in_house", "in_house_referrer_notice",
    "concern_letter", "provider_reminder", "provider_response_to_referrer", "referrer_reminder",
    "refer_to_spo", "more_info_request", "conclusion_letter", "conclusion_email", "closure_report",
    "follow_up_reminder", "follow_up_received", "refer_default_to_spo", "default_notice_to_spo",
    "dispute_acknowledgement", "dispute_to_spo", "dispute_outcome", "internal_reminder",
    "command_receipt", "daily_digest", "triage_reminder", "undelivered_alert", "admin_alert",
    "suspect_command_alert", "letter_email", "letter_approval_request", "third_party_comment",
    "monthly_report",
}  # fmt: skip
PROVIDER_LETTERS = {
    "concern_letter", "provider_reminder", "conclusion_letter", "follow_up_reminder",
    "dispute_acknowledgement", "dispute_outcome",
}  # fmt: skip
LAYOUT = (TEMPLATES / "_layout.html.j2").read_text(encoding="utf-8")
LETTER_LAYOUT = (TEMPLATES / "_letter.html.j2").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def scratch(tmp_path: Path, **templates: str) -> Renderer:
    """A renderer over a temporary template folder holding the real layout plus `templates`."""
    (tmp_path / "_layout.html.j2").write_text(LAYOUT, encoding="utf-8")
    (tmp_path / "_letter.html.j2").write_text(LETTER_LAYOUT, encoding="utf-8")
    for name, source in templates.items():
        (tmp_path / name.replace("__", ".")).write_text(source, encoding="utf-8")
    return Renderer(tmp_path)


def with_case(**changes: Any) -> dict[str, Any]:
    context = sample_context()
    context["case"] = {**context["case"], **changes}
    return context


# --- the shipped templates -------------------------------------------------------------------


def test_every_expected_template_is_present(renderer: Renderer) -> None:
    assert renderer.names() == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_template_renders_and_names_the_reference(renderer: Renderer, name: str) -> None:
    rendered = renderer.render(name, sample_context(name))
    assert rendered.subject and "\n" not in rendered.subject
    assert REF in rendered.text
    assert REF in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")


def test_shipped_templates_lint_clean(renderer: Renderer) -> None:
    assert renderer.lint() == []


@pytest.mark.parametrize("name", sorted(CASELESS))
def test_caseless_templates_need_no_case(renderer: Renderer, name: str) -> None:
    context = sample_context(name)
    del context["case"]
    assert renderer.render(name, context).text.strip()


def test_provider_letters_are_formal(renderer: Renderer) -> None:
    for name in PROVIDER_LETTERS:
        text = renderer.render(name, sample_context(name)).text
        assert text.startswith("Dear Alex Morgan,"), name
        assert "Yours sincerely," in text, name
        assert "Contract Management Team\nExample Borough Council\nTown Hall" in text, name


def test_concern_letter_carries_concern_and_deadline(renderer: Renderer) -> None:
    text = renderer.render("concern_letter", sample_context()).text
    assert "> concern about repeated missed evening calls" in text
    assert "respond to us in writing by Thursday 17 December 2026" in text


def test_blank_recipient_name_gets_dear_colleague(renderer: Renderer) -> None:
    context = sample_context()
    context["recipient"] = dict(context["recipient"], name="", organisation="")
    assert renderer.render("acknowledgement", context).text.startswith("Dear colleague,")


def test_an_unnamed_provider_contact_is_sir_or_madam_never_the_provider(
    renderer: Renderer,
) -> None:
    context = sample_context()
    context["recipient"] = dict(context["recipient"], name="", organisation="The Meadows")
    for name in PROVIDER_LETTERS:
        text = renderer.render(name, context).text
        assert text.startswith("Dear Sir or Madam,"), name
        assert "Yours faithfully," in text and "Dear The" not in text, name


def test_missing_provider_and_deadline_are_handled(renderer: Renderer) -> None:
    context = with_case(provider=None)
    context["deadline"] = None
    text = renderer.render("acknowledgement", context).text
    assert "Meadowbank" not in text
    assert " by " not in text.split("What happens next:")[1].split("\n")[0]


def test_conclusion_letter_uses_the_spo_alternative(renderer: Renderer) -> None:
    context = with_case(decision="alternative", alternative="A written warning is issued.")
    text = renderer.render("conclusion_letter", context).text
    assert "Conclusion:\nA written warning is issued." in text
    assert "15 January 2027" in text


def test_internal_reminder_says_overdue(renderer: Renderer) -> None:
    context = sample_context("internal_reminder")
    assert renderer.render("internal_reminder", context).subject.startswith("Due:")
    context["extra"] = {"overdue": True}
    rendered = renderer.render("internal_reminder", context)
    assert rendered.subject == "Overdue: Provider response to the concern letter (17/12/2026)"
    assert "is overdue" in rendered.text


def test_date_filters() -> None:
    assert longdate(date(2026, 12, 3)) == "Thursday 3 December 2026"
    assert shortdate(date(2026, 12, 3)) == "03/12/2026"
    assert longdate(datetime(2027, 1, 1, 9, 30, tzinfo=LONDON)) == "Friday 1 January 2027"
    with pytest.raises(TypeError):
        longdate("2026-12-03")


# --- safety: escaping and the sandbox --------------------------------------------------------


def test_html_escapes_markup_from_email_text(renderer: Renderer) -> None:
    context = with_case(concern_text='<script>alert("x")</script> & <b>bold</b>')
    rendered = renderer.render("concern_letter", context)
    assert "<script>" not in rendered.html and "<b>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html and "&amp;" in rendered.html
    assert '> <script>alert("x")</script> & <b>bold</b>' in rendered.text


def test_template_syntax_in_email_text_is_not_evaluated(renderer: Renderer) -> None:
    context = with_case(concern_text="{{ council.name }} {% for x in y %}")
    text = renderer.render("concern_letter", context).text
    assert "> {{ council.name }} {% for x in y %}" in text


def test_subject_from_email_cannot_inject_headers(renderer: Renderer) -> None:
    context = with_case(subject="Hello\r\nBcc: victim@example.org")
    assert renderer.render("acknowledgement", context).subject.endswith(
        "Hello Bcc: victim@example.org"
    )


def test_sandbox_blocks_dunder_attributes(tmp_path: Path) -> None:
    renderer = scratch(
        tmp_path,
        probe__txt__j2="{% block subject %}x{% endblock %}"
        "{% block body %}{{ case.reference.__class__.__mro__ }}{% endblock %}",
    )
    with pytest.raises(SecurityError):
        renderer.render("probe", sample_context())


def test_sandbox_forbids_changing_the_context(tmp_path: Path) -> None:
    renderer = scratch(
        tmp_path,
        probe__txt__j2="{% block subject %}x{% endblock %}"
        "{% block body %}{{ case.remedial_actions.append(1) }}{% endblock %}",
    )
    context = sample_context()
    with pytest.raises(SecurityError):
        renderer.render("probe", context)
    assert len(context["case"]["remedial_actions"]) == 2


def test_unknown_or_unsafe_template_name(renderer: Renderer) -> None:
    with pytest.raises(TemplateNotFound):
        renderer.render("../pyproject", sample_context())
    with pytest.raises(TemplateNotFound):
        renderer.render("_base", sample_context())
    with pytest.raises(TemplateNotFound):
        renderer.render("no_such_letter", sample_context())


# --- strict variables and lint ---------------------------------------------------------------


def test_undefined_variable_raises(tmp_path: Path) -> None:
    renderer = scratch(
        tmp_path,
        bad__txt__j2="{% block subject %}Hi{% endblock %}\n{% block body %}\n{{ case.nope }}\n"
        "{% endblock %}\n",
    )
    with pytest.raises(UndefinedError):
        renderer.render("bad", sample_context())


def test_lint_reports_file_and_line_of_undefined_variable(tmp_path: Path) -> None:
    renderer = scratch(
        tmp_path,
        bad__txt__j2="{% block subject %}Hi{% endblock %}\n{% block body %}\nline three\n"
        "Dear {{ recipent.name }}\n{% endblock %}\n",
    )
    [problem] = renderer.lint()
    assert problem.file == str(tmp_path / "bad.txt.j2")
    assert problem.line == 4
    assert "recipent" in problem.message
    assert str(problem).startswith(f"{tmp_path / 'bad.txt.j2'}:4: bad.txt.j2: undefined variable")


def test_lint_reports_syntax_error_and_missing_block(tmp_path: Path) -> None:
    renderer = scratch(
        tmp_path,
        broken__txt__j2="{% block subject %}Hi{% endblock %}\n\n{% if x %}\n{% block body %}"
        "{% endblock %}\n",
        nobody__txt__j2="{% block subject %}Hi{% endblock %}\n",
    )
    problems = {Path(p.file).name: p for p in renderer.lint()}
    assert problems["broken.txt.j2"].message.startswith("syntax error:")
    assert problems["broken.txt.j2"].line == 4  # where the parser meets the stray endblock
    assert problems["nobody.txt.j2"].message == "no {% block body %}"


def test_lint_blames_the_base_template_once(tmp_path: Path) -> None:
    child = '{% extends "_base.txt.j2" %}{% block subject %}S{% endblock %}'
    renderer = scratch(
        tmp_path,
        _base__txt__j2="{% block body %}{% endblock %}\n\n{{ council.motto }}\n",
        one__txt__j2=child,
        two__txt__j2=child,
    )
    [problem] = renderer.lint()
    assert (Path(problem.file).name, problem.line) == ("_base.txt.j2", 3)


# --- compose ---------------------------------------------------------------------------------


def compose_letter(**changes: Any) -> bytes:
    arguments: dict[str, Any] = {
        "rendered": Rendered(
            subject="Contract concern", text="Dear Alex,\n\nText £5.\n", html="<p>Dear Alex,</p>"
        ),
        "sender": "concerns@council.example",
        "sender_name": "Contract Management Team",
        "to": ["Alex Morgan <alex.morgan@meadowbank.example>"],
        "cc": ["tom.ellis@council.example"],
        "reference": REF,
        "message_id": "cc-2026-0042.s3.concern_letter.20261203@council.example",
        "in_reply_to": "<parent@mail.example>",
        "references": ["<root@mail.example>"],
        "date": datetime(2026, 12, 3, 9, 15, tzinfo=LONDON),
    }
    arguments.update(changes)
    return compose(**arguments)


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_compose_headers_and_alternative_parts() -> None:
    message = parse(compose_letter())
    assert message["Subject"] == f"[{REF}] Contract concern"
    assert message["From"] == "Contract Management Team <concerns@council.example>"
    assert message["To"] == "Alex Morgan <alex.morgan@meadowbank.example>"
    assert message["Cc"] == "tom.ellis@council.example"
    assert message["Message-ID"] == "<cc-2026-0042.s3.concern_letter.20261203@council.example>"
    assert message["In-Reply-To"] == "<parent@mail.example>"
    assert message["References"] == "<root@mail.example> <parent@mail.example>"
    assert message["Date"] == "Thu, 03 Dec 2026 09:15:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["X-Contract-Concerns-Loop"] == "concerns@council.example"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == "Dear Alex,\n\nText £5.\n"
    assert html is not None and html.get_content().strip() == "<p>Dear Alex,</p>"


def test_compose_summer_date_keeps_british_summer_time_offset() -> None:
    message = parse(compose_letter(date=datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)))
    assert message["Date"] == "Wed, 01 Jul 2026 09:00:00 +0100"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Contract concern", f"[{REF}] Contract concern"),
        (f"[{REF}] Contract concern [{REF.lower()}]", f"[{REF}] Contract concern"),
        (f"RE: Fwd: [ {REF} ] Your comments", f"RE: Fwd: [{REF}] Your comments"),
        ("Line one\nBcc: x@example.org", f"[{REF}] Line one Bcc: x@example.org"),
    ],
)
def test_subject_carries_the_reference_once(subject: str, expected: str) -> None:
    assert subject_with_reference(subject, REF) == expected
    rendered = Rendered(subject=subject, text="t\n", html="<p>t</p>")
    message = parse(compose_letter(rendered=rendered))
    assert message["Subject"] == expected
    assert message["Subject"].count(f"[{REF}]") == 1


def test_compose_attaches_the_original_email_as_rfc822() -> None:
    original = (
        b"From: Tom Ellis <tom.ellis@council.example>\r\nTo: concerns@council.example\r\n"
        b"Subject: Missed calls\r\nMessage-ID: <orig@council.example>\r\n\r\nThe concern.\r\n"
    )
    raw = compose_letter(
        attachments=[
            ("concern.eml", "message/rfc822", original),
            ("..\\evidence/log.pdf", "application/pdf", b"%PDF-1.4 test"),
        ]
    )
    message = parse(raw)
    assert message.get_content_type() == "multipart/mixed"
    parts = list(message.iter_attachments())
    assert [p.get_content_type() for p in parts] == ["message/rfc822", "application/pdf"]
    inner = parts[0].get_content()
    assert inner["Subject"] == "Missed calls"
    assert inner["Message-ID"] == "<orig@council.example>"
    assert parts[0].get_filename() == "concern.eml"
    assert parts[1].get_filename() == "log.pdf"
    assert parts[1].get_content() == b"%PDF-1.4 test"
    body = message.get_body(("plain",))
    assert body is not None and "Text £5." in body.get_content()


def test_compose_is_deterministic() -> None:
    attachments = [("note.txt", "text/plain", b"evidence")]
    assert compose_letter(attachments=attachments) == compose_letter(attachments=attachments)
    assert compose_letter() != compose_letter(message_id="other@council.example")


def test_compose_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compose_letter(date=datetime(2026, 12, 3, 9, 0))
    with pytest.raises(ValueError, match="recipient"):
        compose_letter(to=[], cc=[])
    with pytest.raises(ValueError, match="address"):
        compose_letter(to=["not an address"])
    with pytest.raises(ValueError, match="Message-ID"):
        compose_letter(message_id="two words@council.example")


def test_message_id_for_is_deterministic_and_safe() -> None:
    first = message_id_for(REF, "s11", "conclusion_letter", "20261203", domain="council.example")
    assert first == "cc-2026-0042.s11.conclusion_letter.20261203@council.example"
    assert first == message_id_for(
        REF, "s11", "conclusion_letter", "20261203", domain="council.example"
    )
    odd = message_id_for("CC 2026/0042", "step 13.1", "", "<x>", domain="Council.Example.")
    assert odd == "cc-2026-0042.step-13-1.x@council.example"
    with pytest.raises(ValueError):
        message_id_for("", domain="council.example")


# Pieces of text, joined: the awkward ones (line ends of every kind, spaces before them, long
# lines, non-ASCII, "From ", lone dots and equals signs) as often as the plain ones.
_PIECES = ["abc", " ", "XYZ 019", ".", ",", "=", "\t", "\n", "\r\n", "\r", " \n", "\t\n", "é"]
_PIECES += ["—", "€", "中", "From ", "<p>", "&amp;", "x" * 80, "  ", "'\""]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    subject=_TEXTS,
    text=_TEXTS,
    html=_TEXTS,
    name=st.sampled_from(["Contract Management Team", "Équipe contrats", ""]),
    reply=st.booleans(),
)
def test_a_letter_is_written_as_the_email_package_writes_it(
    subject: str, text: str, html: str, name: str, reply: bool
) -> None:
    # The common letter is written by letters/wire.py; the email package must agree.
    rendered = Rendered(subject=" ".join(subject.split()) or "x", text=text, html=html)
    arguments: dict[str, Any] = {
        "rendered": rendered,
        "sender": "contract.concerns@council.example",
        "sender_name": name,
        "to": ["manager@oakview-care.example", "Sam Ward <sam.ward@council.example>"],
        "cc": ["jane.smith@council.example"] if reply else [],
        "reference": "CC-2026-0007",
        "message_id": "cc-2026-0007.letter@council.example",
        "in_reply_to": "abc.1@oakview-care.example" if reply else None,
        "references": ["cc-2026-0007.ack@council.example"] if reply else [],
        "date": datetime(2026, 11, 2, 9, 0, tzinfo=LONDON),
    }
    assert compose(**arguments) == compose(**arguments, generic=True)


_NAMES = ["concern.eml", "Re: Oakview \"urgent\".eml", "référence.eml", "a" * 90 + ".eml", ""]
_EMAILS = st.lists(
    st.sampled_from(
        [b"From: a@b.example\r\n", b"Subject: x\n", b"\r\n", b"body line", b"\r", b"\n",
         b"=E9t=E9", b"\xc3\xa9", b"From the ward", b"y" * 200, b"\r\n\r\n"]
    ),
    min_size=1,
    max_size=30,
).map(b"".join)


_WORD = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=";,"),
    min_size=1,
    max_size=90,
)


@given(
    words=st.lists(_WORD, min_size=1, max_size=30),
    name=st.sampled_from(["Subject", "References", "To", "X-Contract-Concerns-Loop"]),
)
@settings(max_examples=400, deadline=None)
def test_a_long_header_of_plain_words_is_folded_as_the_email_package_folds_it(
    words: list[str], name: str
) -> None:
    # The wire policy folds a long subject itself (letters/headers.py); compat32's Header,
    # which it stands in for, must give the same bytes, long words and all.
    from email.policy import Compat32

    from bot.letters.headers import WIRE

    value = " ".join(words)
    assert WIRE.fold_binary(name, value) == Compat32(linesep="\r\n").fold_binary(name, value)


@settings(max_examples=200, deadline=None)
@given(
    text=_TEXTS,
    html=_TEXTS,
    attached=st.lists(st.tuples(st.sampled_from(_NAMES), _EMAILS), min_size=1, max_size=3),
)
def test_a_letter_carrying_emails_is_written_as_the_email_package_writes_it(
    text: str, html: str, attached: list[tuple[str, bytes]]
) -> None:
    # An email attached (message/rfc822) is written by wire.with_messages, unless one cannot
    # travel as a message part; either way the email package must agree.
    arguments: dict[str, Any] = {
        "rendered": Rendered(subject="Please screen this concern", text=text, html=html),
        "sender": "contract.concerns@council.example",
        "sender_name": "Contract Management Team",
        "to": ["cmo@council.example"],
        "cc": [],
        "reference": "CC-2026-0007",
        "message_id": "cc-2026-0007.screen@council.example",
        "in_reply_to": None,
        "references": [],
        "date": datetime(2026, 11, 2, 9, 0, tzinfo=LONDON),
        "attachments": [(name, "message/rfc822", data) for name, data in attached],
    }
    assert compose(**arguments) == compose(**arguments, generic=True)


def test_an_email_with_a_line_too_long_for_smtp_travels_as_its_exact_bytes() -> None:
    from bot.letters.attached import as_message_part

    assert as_message_part(b"Subject: x\n\n" + b"a" * 998 + b"\n") is not None
    assert as_message_part(b"Subject: x\n\n" + b"a" * 999 + b"\n") is None
    assert as_message_part(b"Subject: x\r" + b"a" * 999) is None  # a bare CR ends a line too


def test_an_edited_template_is_used_once_the_bot_looks_again(tmp_path: Path) -> None:
    source = '{% block subject %}Hello{% endblock %}{% block body %}First text.{% endblock %}'
    renderer = scratch(tmp_path, note__txt__j2=source)
    assert renderer.render("note", {}).text == "First text.\n"
    (tmp_path / "note.txt.j2").write_text(source.replace("First", "Second, longer"))
    assert renderer.render("note", {}).text == "First text.\n"  # not looked at per letter
    assert renderer.refresh() is True
    assert renderer.render("note", {}).text == "Second, longer text.\n"
    assert renderer.refresh() is False  # nothing new since


def test_the_bot_uses_a_template_edited_while_it_runs(workspace: Workspace) -> None:
    at = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
    workspace.email("sam.ward@council.example", "Oakview Care Home: missed medication",
                    "Residents at Oakview Care Home missed their evening medication.", at=at)
    workspace.run(at.replace(minute=1))  # the acknowledgement's template is loaded and used
    template = workspace.root / "templates" / "acknowledgement.txt.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "{% block body %}", "{% block body %}\nEdited while the bot runs.\n", 1
        ),
        encoding="utf-8",
    )
    workspace.email("ann.lee@council.example", "Elm House: a fall not reported",
                    "A resident at Elm House fell and the family were not told.", at=at)
    workspace.run(at.replace(minute=5))
    acks = {
        str(m["To"]): m.get_body(("plain",)).get_content()
        for m in workspace.sent()
        if "Contract concern received" in str(m["Subject"])
    }
    assert "Edited while the bot runs." not in acks["sam.ward@council.example"]
    assert "Edited while the bot runs." in acks["ann.lee@council.example"]
