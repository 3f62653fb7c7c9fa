"""The copy of a concern a provider may read: the author's words, nothing that identifies."""

from __future__ import annotations

import pytest

from bot.letters.concern_copy import EMAIL_REMOVED, NAME_WITHHELD, clean_concern, redact

CONCERN = "Two residents missed their evening medicines on 3 and 4 November."


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, 2 Nov 2026 at 09:12, Ruth Bellamy <ruth.bellamy@council.example> wrote:\n"
        "> Mrs Pryce told me her tablets were missed.",
        "________________________________\nFrom: Ruth Bellamy\nSent: 02 November 2026 09:12\n"
        "To: Sam Ward\nSubject: Mrs Pryce\n\nMrs Pryce told me her tablets were missed.",
        "---------- Forwarded message ---------\nFrom: Ruth Bellamy <ruth@x.example>\n"
        "Date: Mon, 2 Nov 2026\n\nMrs Pryce told me her tablets were missed.",
        "Begin forwarded message:\n\nFrom: Ruth Bellamy\nMrs Pryce said her tablets were missed.",
        "-----Original Message-----\nFrom: Ruth Bellamy\nMrs Pryce said her tablets were missed.",
    ],
    ids=["gmail-reply", "outlook", "gmail-forward", "apple-forward", "original-message"],
)
def test_quoted_and_forwarded_mail_is_cut(history: str) -> None:
    copy = clean_concern(f"{CONCERN}\n\n{history}")
    assert copy == CONCERN
    assert "Pryce" not in copy


def test_greeting_and_signature_block_go_the_words_stay() -> None:
    text = (
        "Dear Contract Management Team,\n\n"
        f"{CONCERN}\n\nThe safeguarding enquiry has concluded.\n\n"
        "Kind regards,\n\nSam Ward\nSocial Worker | Adult Social Care\nTel: 01632 960123\n"
        "Sent from my iPhone"
    )
    assert clean_concern(text) == f"{CONCERN}\n\nThe safeguarding enquiry has concluded."


def test_a_thanks_with_much_text_after_it_is_part_of_the_concern() -> None:
    after = "\n".join(f"Point {n}: more detail about the care." for n in range(20))
    text = f"{CONCERN}\nThanks\n{after}"
    assert clean_concern(text) == text


def test_a_greeting_in_the_middle_is_text() -> None:
    text = f"{CONCERN}\n\nHello was all the carer said when she arrived two hours late."
    assert clean_concern(text) == text


def test_addresses_are_removed_except_the_providers_own() -> None:
    text = "Ask sam.ward@council.example or family (p.jones@gmail.com); ops@oakview.example knows."
    assert redact(text, keep_domains=["oakview.example"]) == (
        f"Ask {EMAIL_REMOVED} or family ({EMAIL_REMOVED}); ops@oakview.example knows."
    )


def test_the_referrers_full_name_is_withheld_however_it_is_wrapped() -> None:
    text = "I, Sam Ward, saw it. SAM\nWARD reported it before. Samuel Wardle is someone else."
    assert redact(text, names=["Sam Ward", "Sam"]) == (
        f"I, {NAME_WITHHELD}, saw it. {NAME_WITHHELD} reported it before. "
        "Samuel Wardle is someone else."
    )
