"""Large emails without large copies: read from a lean stand-in, attached to letters as their
own bytes, and queued letters kept as files that go once the letter has gone."""

from __future__ import annotations

import base64
import random
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from hostile import basics, max_size

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.intake.lean import LEAN_ABOVE, MAX_SEGMENTS, lean_copy
from bot.intake.parse import parse_mail
from bot.letters.compose import compose
from bot.letters.render import Rendered
from bot.store import Store

AT = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
SAM = "Sam Ward <sam.ward@council.example>"


def _mail(headers: list[tuple[str, str]], text: str, attachment: bytes = b"") -> bytes:
    boundary = "=_large_test"
    lines = [f"{k}: {v}" for k, v in headers]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{boundary}"', ""]
    parts = f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    if attachment:
        encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
        parts += (
            f"--{boundary}\r\nContent-Type: application/pdf; name=a.pdf\r\n"
            "Content-Disposition: attachment; filename=a.pdf\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}"
        )
    return ("\r\n".join(lines) + "\r\n" + parts + f"--{boundary}--\r\n").encode()


def test_a_small_email_is_read_as_it_is() -> None:
    raw = _mail(basics(SAM, "Small", AT, "s@council.example"), "Hello.", b"x" * 1000)
    assert lean_copy(raw).data is raw


def test_a_large_email_keeps_its_text_and_its_attachment_sizes() -> None:
    content = random.Random(1).randbytes(6 * 1024 * 1024)
    raw = _mail(basics(SAM, "Concern: Oakview", AT, "l@council.example"), "Read me.", content)
    lean = lean_copy(raw)
    assert len(lean.data) < 600 * 1024 and len(raw) > LEAN_ABOVE
    mail = parse_mail(raw)
    assert (mail.subject, mail.text, mail.raw_size) == ("Concern: Oakview", "Read me.", len(raw))
    (attachment,) = mail.attachments
    assert attachment.filename == "a.pdf"
    assert abs(attachment.size - len(content)) <= 3  # estimated from the encoded length
    assert mail.defects == ()


def test_a_huge_header_field_keeps_its_start_and_end_and_the_fields_after_it() -> None:
    refs = " ".join(f"<r{n}@elsewhere.example>" for n in range(200000))
    refs += " <parent@council.example>"
    headers = [("References", refs), *basics(SAM, "After the long field", AT, "h@council.example")]
    raw = _mail(headers, "Text.", b"y" * (2 * 1024 * 1024))
    assert len(refs) > 4 * 1024 * 1024
    mail = parse_mail(raw)
    assert mail.subject == "After the long field" and mail.sender == "sam.ward@council.example"
    assert mail.references[0] == "r0@elsewhere.example"
    assert mail.references[-1] == "parent@council.example"  # the parent, which threads it


def test_a_flood_of_parts_is_read_only_so_far() -> None:
    boundary = "=_flood"
    part = f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n{'z' * 400}\r\n"
    head = "\r\n".join(f"{k}: {v}" for k, v in basics(SAM, "Flood", AT, "f@council.example"))
    raw = (
        f'{head}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"'
        f"\r\n\r\n{part * 5000}--{boundary}--\r\n"
    ).encode()
    mail = parse_mail(raw)
    assert mail.subject == "Flood"
    assert MAX_SEGMENTS - 5 <= len(mail.attachments) <= MAX_SEGMENTS


def _letter(attached: bytes) -> tuple[bytes, EmailMessage]:
    raw = compose(
        rendered=Rendered(subject="Concern", text="See the email attached.\n", html="<p>See</p>"),
        sender="contract.concerns@council.example",
        sender_name="Contract Management Team",
        to=["jane.smith@council.example"],
        cc=[],
        reference="CC-2026-0001",
        message_id="cc-2026-0001.test@council.example",
        in_reply_to=None,
        references=[],
        date=AT,
        attachments=[("concern.eml", "message/rfc822", attached)],
    )
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return raw, message


def test_an_attached_email_is_its_own_bytes_with_crlf_line_ends() -> None:
    sent = max_size(3 * 1024 * 1024, AT, "big@council.example")
    raw, letter = _letter(sent.replace(b"\r\n", b"\n"))  # as a Unix tool may have kept it
    (part,) = [p for p in letter.walk() if p.get_content_type() == "message/rfc822"]
    assert part.get_payload()[0]["Message-ID"] == "<big@council.example>"
    assert sent in raw  # byte for byte, line ends as sent


def test_an_email_with_lines_too_long_for_smtp_goes_as_its_exact_bytes() -> None:
    original = b"From: a@b.example\r\nX-Long: " + b"q" * 5000 + b"\r\n\r\nbody\r\n"
    _, letter = _letter(original)
    (part,) = [p for p in letter.walk() if p.get_filename() == "concern.eml"]
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_payload(decode=True) == original


def test_a_letter_carrying_a_large_email_waits_as_a_file_and_goes_once_sent(
    tmp_path: Path,
) -> None:
    ws = Workspace(tmp_path / "ws", AT)
    try:
        concern = max_size(400 * 1024, AT, "concern@council.example")
        ws.server.inject(concern, AT)
        letters = ws.app.store.directory / "letters"
        queued: list[dict[str, object]] = []
        real_deliver = ws.app.outbox.store.outbox_pending

        def look() -> list[dict[str, object]]:
            pending = real_deliver()
            queued.extend(pending)
            if pending:
                assert sorted(p.name for p in letters.iterdir()) == sorted(
                    f"{i['raw_sha']}.eml" for i in pending if "raw_sha" in i
                )
            return pending

        ws.app.store.outbox_pending = look  # type: ignore[method-assign]
        ws.run(AT.replace(minute=5))
        assert any("raw_sha" in item and "raw" not in item for item in queued)
        assert list(letters.iterdir()) == []  # sent, recorded, and then removed
        (forward,) = [m for m in ws.sent() if "Please screen" in str(m["Subject"])]
        (part,) = [p for p in forward.walk() if p.get_content_type() == "message/rfc822"]
        assert part.get_payload()[0]["Message-ID"] == "<concern@council.example>"
    finally:
        ws.close()


def test_a_queued_letter_file_lives_exactly_as_long_as_its_outbox_item(tmp_path: Path) -> None:
    with Store(tmp_path / "store") as store:
        letters = tmp_path / "store" / "letters"
        sha = store.keep_letter([b"letter one, ", memoryview(b"in two pieces")])
        assert (letters / f"{sha}.eml").read_bytes() == b"letter one, in two pieces"
        store.rollback()  # the poll that queued it failed: the file goes with it
        assert list(letters.iterdir()) == []
        sha = store.keep_letter([b"letter two"])
        store.outbox_add({"message_id": "m2@council.example", "kind": "mail", "raw_sha": sha})
        store.commit()
        assert store.load_letter(sha) == b"letter two"
        store.outbox_mark_sent("m2@council.example", {"at": "2026-11-02T09:00:00+00:00"})
        assert (letters / f"{sha}.eml").exists()  # until the commit that records it sent
        store.commit()
        assert list(letters.iterdir()) == []
