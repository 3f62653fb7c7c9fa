"""A letter on the council's letterhead: its text laid out by _letter.html.j2, made a PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.config import Config
from bot.config.yamlsource import Problem
from bot.letters.pdf import PdfUnavailable, render_pdf
from bot.letters.render import LETTER_LAYOUT, Rendered, Renderer, paragraphs
from bot.letters.sample import sample_context

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Letterhead:
    """What the council puts at the top and the foot of every letter (config `letters`)."""

    council: str
    team: str
    address: tuple[str, ...]
    contact: tuple[str, ...]
    signature: tuple[str, ...]
    logo: str = ""
    signature_image: str = ""
    assets: Path | None = None

    @classmethod
    def from_config(cls, config: Config) -> Letterhead:
        letters = config.letters
        council = config.council
        return cls(
            council=council.name,
            team=council.team_name,
            address=tuple(letters.address),
            contact=tuple(letters.contact),
            signature=tuple(letters.signature) or (council.team_name, council.name),
            logo=letters.logo,
            signature_image=letters.signature_image,
            assets=letters.assets,
        )


@dataclass(frozen=True)
class Addressee:
    """Who the letter is addressed to, from the provider register."""

    name: str
    job_title: str
    organisation: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class LetterPdf:
    filename: str
    data: bytes


def letter_date(day: date) -> str:
    """'2 November 2026', as a letter is dated."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def letter_filename(reference: str, template: str, day: date) -> str:
    return f"{reference}-{template.replace('_', '-')}-{day:%Y%m%d}.pdf"


def letter_pdf(
    renderer: Renderer,
    rendered: Rendered,
    *,
    letterhead: Letterhead,
    addressee: Addressee,
    reference: str,
    template: str,
    day: date,
    draft: bool = False,
) -> LetterPdf:
    """The letter as a PDF; everything in it comes from these arguments, so it renders the
    same bytes again (a letter re-rendered after a crash is the letter that was stored)."""
    html = renderer.render_page(
        LETTER_LAYOUT,
        {
            "subject": rendered.subject,
            "letterhead": {
                "council": letterhead.council,
                "team": letterhead.team,
                "address": list(letterhead.address),
                "contact": list(letterhead.contact),
                "signature": list(letterhead.signature),
                "logo": letterhead.logo,
                "signature_image": letterhead.signature_image,
            },
            "recipient": {
                "name": addressee.name,
                "job_title": addressee.job_title,
                "organisation": addressee.organisation,
                "address": list(addressee.address),
            },
            "reference": reference,
            "date": letter_date(day),
            "date_iso": day.isoformat(),
            "paragraphs": paragraphs(rendered.text),
            "draft": draft,
        },
    )
    name = letter_filename(reference, template, day)
    if draft:
        name = f"DRAFT-{name}"
    return LetterPdf(name, render_pdf(html, letterhead.assets))


def letter_problems(config: Config, renderer: Renderer) -> list[Problem]:
    """Make a sample letter into a PDF on the configured letterhead: proves WeasyPrint, Pango,
    a font, the letter layout and the assets folder all work before a letter is due."""
    layout = renderer.directory / LETTER_LAYOUT
    if not layout.is_file() or "concern_letter" not in renderer.names():
        return []  # the template lint reports a missing layout or letter
    context = dict(sample_context("concern_letter"), letterhead=True)
    try:
        rendered = renderer.render("concern_letter", context)
        addressee = Addressee("Alex Morgan", "Registered Manager", "Meadowbank Care Ltd", ())
        letter_pdf(
            renderer,
            rendered,
            letterhead=Letterhead.from_config(config),
            addressee=addressee,
            reference="CC-2026-0042",
            template="concern_letter",
            day=date(2026, 12, 3),
        )
    except PdfUnavailable as err:
        fix = "install what it names; the letters to providers cannot go until then"
        return [Problem(str(layout), 1, LETTER_LAYOUT, str(err), fix)]
    except Exception as err:  # a council-edited layout or style sheet: say what broke
        message = f"a sample letter could not be made into a PDF: {type(err).__name__}: {err}"
        return [Problem(str(layout), 1, LETTER_LAYOUT, message, "correct the letter layout")]
    return []
