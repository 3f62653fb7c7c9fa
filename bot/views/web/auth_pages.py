"""The few pages sign-in and web security show (refused, failed, signed out, form expired)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response


@dataclass(frozen=True)
class AuthPage:
    """What to tell the person; `kind` lets a page renderer pick its own template."""

    kind: str  # refused | failed | unavailable | signed-out | form-expired | sign-in-needed
    title: str
    paragraphs: tuple[str, ...]
    link_href: str = ""
    link_text: str = ""
    button_action: str = ""  # a POST form with the CSRF field (sign-out)
    button_text: str = ""
    csrf_token: str = ""


class Render(Protocol):
    """How the page developer's layout draws an AuthPage; the default below is plain."""

    def __call__(self, request: Request, page: AuthPage, status_code: int) -> Response: ...


_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page.title }} - Contract concerns</title>
</head>
<body>
<main id="main-content" class="govuk-main-wrapper">
<h1 class="govuk-heading-l">{{ page.title }}</h1>
{% for paragraph in page.paragraphs %}<p class="govuk-body">{{ paragraph }}</p>
{% endfor %}{% if page.button_action %}<form method="post" action="{{ page.button_action }}">
<input type="hidden" name="csrf_token" value="{{ page.csrf_token }}">
<button type="submit" class="govuk-button">{{ page.button_text }}</button>
</form>
{% endif %}{% if page.link_href %}<p class="govuk-body">
<a class="govuk-link" href="{{ page.link_href }}">{{ page.link_text }}</a></p>
{% endif %}</main>
</body>
</html>
"""

_ENV = Environment(
    loader=DictLoader({"auth_page.html": _TEMPLATE}),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def plain_render(request: Request, page: AuthPage, status_code: int) -> Response:
    """A standalone, escaped page with no scripts, styles or outside resources."""
    html = _ENV.get_template("auth_page.html").render(page=page)
    return HTMLResponse(html, status_code=status_code)
