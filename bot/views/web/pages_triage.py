"""Triage and quarantine: what the bot could not place, oldest first, with why."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.views.web.downloads import download
from bot.views.web.mailview import read_mail
from bot.views.web.site import Site

_ITEM = re.compile(r"^T\d{4,}$")


def _item(site: Site, item_id: str) -> dict[str, Any] | None:
    if not _ITEM.match(item_id):
        return None
    return next((i for i in site.data.triage() if i.get("id") == item_id), None)


def triage_page(
    site: Site,
    request: Request,
    item_id: str,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Response:
    item = _item(site, item_id)
    if item is None:
        return site.not_found(request, "triage item")
    sha = str(item.get("sha") or "")
    raw = site.data.raw_mail(sha) if sha else None
    return site.pages.render(
        request,
        "triage_item.html",
        400 if errors else 200,
        section="triage",
        item=item,
        mail=read_mail(raw) if raw is not None else None,
        where=f"/triage/{item_id}",
        waiting=[w for w in site.data.spool.waiting() if item_id in " ".join(w.lines)],
        errors=dict(errors or {}),
        values=dict(values or {}),
    )


def routes(site: Site) -> list[Route]:
    def listing(request: Request) -> Response:
        items = site.data.triage()
        waiting = {word for w in site.data.spool.waiting() for word in " ".join(w.lines).split()}
        return site.pages.render(
            request, "triage.html", section="triage", items=items, waiting=waiting
        )

    def one(request: Request) -> Response:
        return triage_page(site, request, str(request.path_params["item"]))

    def raw_of(request: Request) -> bytes | None:
        item = _item(site, str(request.path_params["item"]))
        sha = str(item.get("sha") or "") if item else ""
        return site.data.raw_mail(sha) if sha else None

    def original(request: Request) -> Response:
        raw = raw_of(request)
        if raw is None:
            return site.not_found(request, "email")
        return download(raw, f"{request.path_params['item']}.eml", "message/rfc822")

    def attachment(request: Request) -> Response:
        raw = raw_of(request)
        parts = read_mail(raw).attachments if raw is not None else ()
        index = int(request.path_params["index"])
        if not 1 <= index <= len(parts):
            return site.not_found(request, "attachment")
        return download(parts[index - 1].data, parts[index - 1].filename)

    return [
        Route("/triage", listing, methods=["GET"]),
        Route("/triage/{item:str}", one, methods=["GET"]),
        Route("/triage/{item:str}/original", original, methods=["GET"]),
        Route("/triage/{item:str}/attachments/{index:int}", attachment, methods=["GET"]),
    ]
