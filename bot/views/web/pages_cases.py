"""The case list: search and filters posted and kept behind a token, sortable, paged."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.views.web.listing import SORTS, STATUSES, Filters, list_cases
from bot.views.web.site import Site, user_of
from bot.views.web.summary import CaseSummary, Judge

COLUMNS = (
    ("reference", "Reference"),
    ("provider", "Provider"),
    ("officer", "Officer"),
    ("stage", "Stage"),
    ("due", "Next deadline"),
    ("", "Working days left"),
)
SORT_NAMES = {
    "due": "next deadline",
    "reference": "reference",
    "provider": "provider",
    "officer": "officer",
    "stage": "stage",
    "opened": "date received",
}
MAX_WORDS = 200  # characters of a search


def routes(site: Site) -> list[Route]:
    def summaries(filters: Filters) -> list[CaseSummary]:
        if filters.status == "closed":
            return site.data.closed_summaries()
        if filters.status == "all":
            return site.data.open_summaries() + site.data.closed_summaries()
        return site.data.open_summaries()

    def show(request: Request, filters: Filters, heading: str, view: str = "") -> Response:
        me = user_of(request)
        params = request.query_params
        sort = params.get("sort", "due")
        descending = params.get("order") == "desc"
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            page = 1
        judge = Judge(site.rules, site.clock.now())
        listing = list_cases(
            summaries(filters), judge, filters, me=me.id, sort=sort, descending=descending,
            page=page,
        )  # fmt: skip
        base = {"view": view} if view else {}

        def href(**changes: object) -> str:
            query = {**base, "sort": listing.sort, "order": "desc" if descending else "asc"}
            query.update({k: str(v) for k, v in changes.items()})
            return f"{request.url.path}?{urlencode(query)}"

        def sort_href(key: str) -> str:
            flip = key == listing.sort and not listing.descending
            return href(sort=key, order="desc" if flip else "asc", page=1)

        return site.pages.render(
            request,
            "cases.html",
            section="cases",
            heading=heading,
            filters=filters,
            listing=listing,
            columns=COLUMNS,
            sort_names=SORT_NAMES,
            sort_href=sort_href,
            page_href=lambda number: href(page=number),
            stages=_stages(site),
            officers=[(p.id, p.name) for p in site.rules.config.people_with_role("cmo")],
            providers=[(p.id, p.name) for p in site.rules.config.providers],
            expired=bool(request.query_params.get("view")) and not view,
        )

    def cases(request: Request) -> Response:
        token = request.query_params.get("view", "")
        filters = site.queries.find(user_of(request).id, token) if token else None
        if filters is None:
            return show(request, Filters(), "Cases")
        heading = "Cases found" if filters.words else "Cases"
        return show(request, filters, heading, view=token)

    def mine(request: Request) -> Response:
        return show(request, Filters(mine=True), "My cases")

    async def search(request: Request) -> Response:
        form = await request.form()

        def text(name: str) -> str:
            value = form.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        status = text("status")
        filters = Filters(
            status=status if status in STATUSES else "open",
            stage=text("stage") if text("stage") in site.rules.procedure.stages else "",
            officer=text("officer"),
            provider=text("provider"),
            overdue=text("overdue") == "yes",
            due_this_week=text("due_this_week") == "yes",
            words=" ".join(text("words").split())[:MAX_WORDS],
        )
        if filters == Filters():
            return RedirectResponse("/cases", 303)
        token = site.queries.keep(user_of(request).id, filters)
        return RedirectResponse(f"/cases?{urlencode({'view': token})}", 303)

    def home(request: Request) -> Response:
        return RedirectResponse("/cases", 303)

    return [
        Route("/", home, methods=["GET"]),
        Route("/cases", cases, methods=["GET"]),
        Route("/cases", search, methods=["POST"]),
        Route("/cases/mine", mine, methods=["GET"]),
    ]


def _stages(site: Site) -> list[tuple[str, str]]:
    procedure = site.rules.procedure
    return [(name, f"Step {s.step}: {s.title}") for name, s in procedure.stages.items()]


__all__ = ["SORTS", "routes"]
