"""Large emails without large copies: read from a skeleton, attached to letters as their own
bytes, and a letter carrying one written to the store as it is generated."""

from __future__ import annotations

import base64
import random
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from hostile_entries import basics, max_size

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.intake.lean import BIG, skeleton
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
    assert skeleton(raw) is raw


def test_a_large_email_keeps_its_text_and_its_attachment_sizes() -> None:
    content = random.Random(1).randbytes(6 * 1024 * 1024)
    raw = _mail(basics(SAM, "Concern: Oakview", AT, "l@council.example"), "Read me.", content)
    assert len(skeleton(raw)) < 64 * 1024 and len(raw) > BIG
    mail = parse_mail(raw)
    assert (mail.subject, mail.text, mail.raw_size) == ("Concern: Oakview", "Read me.", len(raw))
    (attachment,) = mail.attachments
    assert attachment.filename == "a.pdf"
    assert abs(attachment.size - len(content)) <= 3  # worked out from the encoded length


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


def test_a_letter_carrying_a_large_email_is_queued_by_its_sha(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", AT)
    try:
        concern = max_size(400 * 1024, AT, "concern@council.example")
        ws.server.inject(concern, AT)
        queued: list[dict[str, object]] = []
        pending = ws.app.store.outbox_pending

        def look() -> list[dict[str, object]]:
            found = pending()
            queued.extend(found)
            return found

        ws.app.store.outbox_pending = look  # type: ignore[method-assign]
        ws.run(AT.replace(minute=5))
        letters = [i for i in queued if i["kind"] == "mail" and i["reference"] != "CC-BOT"]
        # Every letter about a case waits as the copy kept with the case, never inline.
        assert letters and all("raw_sha" in i and "raw" not in i for i in letters)
        (forward,) = [m for m in ws.sent() if "Please screen" in str(m["Subject"])]
        (kept,) = [
            raw
            for raw in (ws.app.store.load_raw(str(i["raw_sha"])) for i in letters)
            if b"Please screen" in raw
        ]
        assert concern in kept  # the letter in the store holds the email byte for byte
        (part,) = [p for p in forward.walk() if p.get_content_type() == "message/rfc822"]
        assert part.get_payload()[0]["Message-ID"] == "<concern@council.example>"
    finally:
        ws.close()


def test_a_message_kept_as_it_is_generated_is_named_by_its_sha(tmp_path: Path) -> None:
    with Store(tmp_path / "store") as store:
        sha = store.keep_raw_chunks([b"letter one, ", memoryview(b"in two pieces")])
        assert store.load_raw(sha) == b"letter one, in two pieces"
        assert sha == store.keep_raw(b"letter one, in two pieces")  # the same file
        assert not list((tmp_path / "store" / "raw").glob(".writing-*"))
