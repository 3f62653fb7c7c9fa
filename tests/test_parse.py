"""Golden-file and edge-case tests for MIME parsing, quoting and the automated-mail verdict."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.intake.automated import detect_automated
from bot.intake.message import ParsedMail
from bot.intake.parse import (
    MailParseError,
    decode_bytes,
    decode_header_value,
    html_to_text,
    parse_mail,
)
from bot.intake.quoting import strip_quoted

MAIL_DIR = Path(__file__).parent / "data" / "mail"
SAMPLES = sorted(MAIL_DIR.glob("*.eml"))
OWN_DOMAINS = ["council.example"]
OWN_ADDRESSES = ["contract-concerns@council.example"]
DIRECT_FIELDS = ("message_id", "sender", "sender_name", "subject")
TUPLE_FIELDS = ("to", "cc", "in_reply_to", "references")


def _check_reading(mail: ParsedMail, expected: dict[str, Any]) -> None:
    for name in DIRECT_FIELDS:
        if name in expected:
            assert getattr(mail, name) == expected[name], name
    for name in TUPLE_FIELDS:
        if name in expected:
            assert getattr(mail, name) == tuple(expected[name]), name
    if "date" in expected:
        assert mail.date == datetime.fromisoformat(expected["date"])
    for fragment in expected.get("text_contains", []):
        assert fragment in mail.text
    for fragment in expected.get("text_not_contains", []):
        assert fragment not in mail.text
    if "subject_startswith" in expected:
        assert mail.subject.startswith(expected["subject_startswith"])
    if "text_min_length" in expected:
        assert len(mail.text) >= expected["text_min_length"]
    if "attachments" in expected:
        got = [(a.filename, a.content_type, a.size) for a in mail.attachments]
        assert len(got) == len(expected["attachments"])
        for (name, ctype, size), (want_name, want_type, want_size) in zip(
            got, expected["attachments"], strict=True
        ):
            assert (name, ctype) == (want_name, want_type)
            assert want_size is None or size == want_size
    for name, value in expected.get("header", {}).items():
        assert mail.header(name) == value
    for name, values in expected.get("header_all", {}).items():
        assert mail.header_all(name) == values
    if "dedupe_key_prefix" in expected:
        assert mail.dedupe_key.startswith(expected["dedupe_key_prefix"])
    if "new_text" in expected:
        assert strip_quoted(mail.text) == expected["new_text"]


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_golden_sample_reads_as_expected(sample: Path) -> None:
    raw = sample.read_bytes()
    expected = json.loads(sample.with_suffix(".json").read_text(encoding="utf-8"))
    mail = parse_mail(raw)
    assert mail.content_hash == hashlib.sha256(raw).hexdigest()
    assert mail.raw_size == len(raw)
    _check_reading(mail, expected)
    want = expected["automated"]
    verdict = detect_automated(mail, raw, OWN_DOMAINS, own_addresses=OWN_ADDRESSES)
    assert verdict.automated is want["automated"]
    assert verdict.kind == want["kind"]
    if "failed_recipients" in want:
        assert verdict.failed_recipients == tuple(want["failed_recipients"])
    if "original_message_id" in want:
        assert verdict.original_message_id == want["original_message_id"]
    for reason in want.get("reasons_include", []):
        assert reason in verdict.reasons


def test_every_sample_has_an_expectation() -> None:
    assert len(SAMPLES) >= 17
    assert all(p.with_suffix(".json").exists() for p in SAMPLES)


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"just some words, no headers\n"])
def test_nothing_mail_like_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_mail(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_or_raise_parse_error_only(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except MailParseError:
        return
    assert mail.raw_size == len(raw)
    detect_automated(mail, raw, OWN_DOMAINS)  # must not raise either


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_header_and_body_text_never_break_parsing(subject: str, body: str) -> None:
    raw = f"From: a@b.example\nSubject: {subject}\n\n{body}".encode("utf-8", "surrogatepass")
    mail = parse_mail(raw)
    assert mail.sender == "a@b.example"


def test_encoded_words_split_inside_a_multibyte_character_are_joined() -> None:
    # "é" (c3 a9) split across two adjacent encoded words, plus plain text after.
    value = "=?utf-8?b?Y2Fmw6k=?= =?utf-8?q?_caf=C3?= =?utf-8?q?=A9?= ok"
    assert decode_header_value(value) == "café café ok"


def test_unknown_charset_in_header_falls_back_instead_of_failing() -> None:
    assert decode_header_value("=?x-no-such-charset?q?caf=C3=A9?=") == "café"
    assert decode_header_value("=?utf-8?b?not*base64?=").startswith("not")


def test_folded_header_is_unfolded() -> None:
    assert decode_header_value("Contract\r\n concern\n\tCC-1") == "Contract concern CC-1"


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("£5".encode(), "utf-8", "£5"),
        ("£5".encode("latin-1"), "utf-8", "£5"),  # declared wrong: cp1252 rescues it
        ("£5".encode(), "no-such-charset", "£5"),
        (b"\x81\x8d", "ascii", "\x81\x8d"),  # bytes cp1252 lacks: latin-1 never fails
        ("€".encode("cp1252"), None, "€"),
        ("café".encode(), "iso-8859-1", "café"),  # UTF-8 mislabelled as Latin-1
        ("café".encode("latin-1"), "iso-8859-1", "café"),
    ],
)
def test_decode_bytes_fallbacks(data: bytes, declared: str | None, expected: str) -> None:
    assert decode_bytes(data, declared) == expected


def test_undeclared_8bit_header_is_read_as_utf8() -> None:
    raw = "From: Zoë <zoe@acme-care.example>\nSubject: Réponse\n\nbody\n".encode()
    mail = parse_mail(raw)
    assert (mail.sender_name, mail.subject) == ("Zoë", "Réponse")


def test_html_to_text_keeps_structure_and_drops_scripts() -> None:
    html = "<p>One &amp; two</p><script>x()</script><p>Three<br>four</p><ol><li>a</li></ol>"
    assert html_to_text(html) == "One & two\n\nThree\nfour\n\n- a"


def test_bad_date_is_none_and_naive_date_is_utc() -> None:
    bad = parse_mail(b"From: a@b.example\nDate: not a date\n\nx\n")
    naive = parse_mail(b"From: a@b.example\nDate: Mon, 3 Mar 2025 09:15:00 -0000\n\nx\n")
    assert bad.date is None
    assert naive.date is not None and naive.date.utcoffset() is not None


def test_message_id_without_brackets_and_references_list() -> None:
    raw = b"From: a@b.example\nMessage-ID: bare@x.example\nReferences: <1@x> <2@x>\n <3@x>\n\n.\n"
    mail = parse_mail(raw)
    assert mail.message_id == "bare@x.example"
    assert mail.references == ("1@x", "2@x", "3@x")


def test_broken_multipart_without_boundary_still_yields_text_and_defects() -> None:
    raw = b"From: a@b.example\nContent-Type: multipart/mixed\n\nplain words here\n"
    mail = parse_mail(raw)
    assert "plain words here" in mail.text
    assert "NoBoundaryInMultipartDefect" in mail.defects


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Agreed.\n\n> old text\n> more", "Agreed."),
        ("Yes\n\nOn Mon, 3 Mar 2025, Jo <jo@x.example> wrote:\n> hi", "Yes"),
        ("Yes\n\nOn Mon, 3 Mar 2025 at 09:00, Jo Bloggs <jo@x.example>\nwrote:\nhi", "Yes"),
        ("Fine\n-----Original Message-----\nFrom: x", "Fine"),
        ("Fine\n\nFrom: Jo Bloggs <jo@x.example>\nSent: 3 March 2025 09:00\nTo: y", "Fine"),
        ("Fine\n________________________________\nFrom: Jo", "Fine"),
        ("Thanks\n-- \nJo Bloggs\nManager", "Thanks"),
        ("From: the manager\nwe accept the concern", "From: the manager\nwe accept the concern"),
        ("Line one\r\n> quoted\r\nLine two\r\n", "Line one\nLine two"),
    ],
)
def test_strip_quoted_keeps_only_the_new_part(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_a_big_attachment_is_set_aside_but_its_size_and_the_text_are_read() -> None:
    import base64

    from bot.intake.lean import BIG, skeleton

    data = bytes(range(256)) * (3 * BIG // 256)
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    raw = (
        b"From: Sam Ward <sam.ward@council.example>\r\nSubject: scans\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nOakview missed medication.\r\n--b\r\n"
        b'Content-Type: application/pdf; name="scan.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n--b--\r\n"
    )
    assert len(skeleton(raw)) < 1000
    mail = parse_mail(raw)
    assert mail.text == "Oakview missed medication."
    ((attachment),) = mail.attachments
    assert (attachment.filename, attachment.size) == ("scan.pdf", len(data))
    assert mail.content_hash == hashlib.sha256(raw).hexdigest()  # of the mail, not the skeleton


def test_a_huge_text_body_is_read_only_as_far_as_a_person_writes() -> None:
    from bot.intake.lean import BIG

    line = b"Oakview Care Home missed the round.\r\n"
    raw = b"From: sam.ward@council.example\r\nSubject: long\r\n\r\n" + line * (2 * BIG // len(line))
    mail = parse_mail(raw)
    assert mail.text.startswith("Oakview Care Home missed the round.")
    assert BIG * 0.9 < len(mail.text) < BIG + 100  # CRLF read as one newline
    assert "more bytes not read here" in mail.text
    assert mail.raw_size == len(raw)
