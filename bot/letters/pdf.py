"""HTML letters to tagged PDF (WeasyPrint); only files in the letter's assets folder are read."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

BUILTIN_ASSETS = Path(__file__).resolve().parent / "assets"
STYLESHEET = "letter.css"
# PDF/UA-1: a tagged PDF with a title and a language, which screen readers can follow.
VARIANT = "pdf/ua-1"


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango, fonts) are missing."""


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as err:  # OSError: Pango's shared library is missing
        raise PdfUnavailable(
            "letters to providers are PDFs made with WeasyPrint, which could not load "
            f"({type(err).__name__}: {err}); install it with pip install weasyprint, and "
            "Pango and fonts with apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            "fonts-dejavu-core"
        ) from err
    return weasyprint


def stylesheet(assets: Path | None) -> Path:
    """The council's letter.css when its assets folder has one, else the plain built-in one."""
    own = assets / STYLESHEET if assets is not None else None
    return own if own is not None and own.is_file() else BUILTIN_ASSETS / STYLESHEET


def render_pdf(html: str, assets: Path | None) -> bytes:
    """The letter as PDF bytes. The same HTML, assets and libraries give the same bytes."""
    weasyprint = _weasyprint()
    roots = [BUILTIN_ASSETS] + ([assets.resolve()] if assets is not None else [])

    class AssetsOnly(weasyprint.URLFetcher):  # type: ignore[misc,name-defined]
        """Nothing from the network or elsewhere on disk: a letter holds only its own assets."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
            if path is None or not any(path.is_relative_to(root) for root in roots):
                raise ValueError(f"a letter may only use files from its assets folder: {url}")
            return super().fetch(url, headers)

    fetcher = AssetsOnly(allowed_protocols=("file",))
    base = (assets or BUILTIN_ASSETS).resolve().as_uri() + "/"
    css = weasyprint.CSS(filename=str(stylesheet(assets)), url_fetcher=fetcher)
    document = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[css], pdf_variant=VARIANT)
    return pdf
