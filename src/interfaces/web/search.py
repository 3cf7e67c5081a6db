"""The search page (issue #14, "search"): a box with the query language explained, the hits of
the documents the viewer may read with their highlighted snippets, the answer, filters with
facet counts, paging by the API's cursor, and a 1-5 rating of the results.

Everything goes through the use case the API's search routes call (`SearchService.search`,
`SearchService.rate`): a search is logged and takes feedback as one made through the API, and
the access rules are the service's, so nothing the viewer may not read is shown or counted.
The form's values are checked by the API's own request model (`SearchRequest`), so a refusal
reads as the API's problem details would; an empty query shows the form and searches nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import MultiDict
from litestar.params import FromPath
from markupsafe import Markup, escape
from pydantic import ValidationError

from application.context import RequestContext
from application.search import SearchFilters, SearchResult, SearchService
from domain.documents import DocumentType
from domain.errors import ValidationFailed
from domain.search import FacetCount, SearchHit
from interfaces.http.auth import client_ip
from interfaces.http.instants import instant_or_day
from interfaces.http.schemas.search import SearchRequest
from interfaces.web.navigation import same_site_path
from interfaces.web.rendering import page, signed_in_viewer
from interfaces.web.session import Viewer

SEARCH_PATH: Final = "/search"
PAGE_SIZE: Final = 10
DOCUMENT_TYPES: Final = tuple(t.value for t in DocumentType)

# The form's field that holds what the API's request model (or the use case) calls a field.
_FORM_FIELD_OF: Final = {
    "query": "q",
    "document_type": "type",
    "category": "category",
    "department": "department",
    "tags": "tag",
    "created_after": "created_after",
    "created_before": "created_before",
    "cursor": "cursor",
    "limit": "cursor",
    "rating": "rating",
    "comment": "comment",
}
_PYDANTIC_VALUE_ERROR: Final = "Value error, "
_MARK: Final = re.compile(r"(</?mark>)")


def highlighted(snippet: str) -> Markup:
    """A hit's snippet as markup. The search index escapes the text and wraps matches in
    `<mark>` (`infrastructure.search_text.to_html`); this keeps exactly that, whatever the
    snippet holds: every piece between the marks is escaped again from its text (so nothing
    else can be markup) and the marks are balanced."""
    out: list[str] = []
    marking = False
    for piece in _MARK.split(snippet):
        if piece == "<mark>":
            if not marking:
                out.append(piece)
                marking = True
        elif piece == "</mark>":
            if marking:
                out.append(piece)
                marking = False
        elif piece:
            out.append(str(escape(html.unescape(piece))))
    if marking:
        out.append("</mark>")
    return Markup("".join(out))  # noqa: S704 (each piece is escaped above)


@dataclass(frozen=True, slots=True)
class SearchForm:
    """What the search form holds, as sent in the query string (GET, so a search is a link)."""

    q: str = ""
    type: str = ""
    category: str = ""
    department: str = ""
    tags: tuple[str, ...] = ()
    created_after: str = ""
    created_before: str = ""
    cursor: str = ""

    @classmethod
    def of(cls, params: MultiDict[str]) -> SearchForm:
        def one(name: str) -> str:
            value = params.get(name)
            return value.strip() if isinstance(value, str) else ""

        tags = tuple(dict.fromkeys(t.strip() for t in params.getall("tag", []) if t.strip()))
        return cls(
            q=one("q"),
            type=one("type"),
            category=one("category"),
            department=one("department"),
            tags=tags,
            created_after=one("created_after"),
            created_before=one("created_before"),
            cursor=one("cursor"),
        )

    @property
    def has_filters(self) -> bool:
        return bool(
            self.type
            or self.category
            or self.department
            or self.tags
            or self.created_after
            or self.created_before
        )

    def url(self, **changes: Any) -> str:
        """This search's address with `changes` (a new filter starts again at the first page
        unless `cursor` is among them)."""
        changed = replace(self, **{"cursor": "", **changes})
        pairs: list[tuple[str, str]] = [("q", changed.q)]
        for name in ("type", "category", "department", "created_after", "created_before"):
            value = getattr(changed, name)
            if value:
                pairs.append((name, value))
        pairs.extend(("tag", tag) for tag in changed.tags)
        if changed.cursor:
            pairs.append(("cursor", changed.cursor))
        return f"{SEARCH_PATH}?{urlencode(pairs)}"

    def toggled_tag(self, tag: str) -> str:
        if tag in self.tags:
            return self.url(tags=tuple(t for t in self.tags if t != tag))
        return self.url(tags=(*self.tags, tag))


@dataclass(frozen=True, slots=True)
class FacetLink:
    """One value of a facet: how many hits have it, and the search with it chosen (or, when
    it is chosen, without it). `href` None: a value no filter can choose (no category)."""

    value: str | None
    count: int
    href: str | None
    chosen: bool


@dataclass(frozen=True, slots=True)
class Facet:
    name: str  # the form field: type, category, tag, department
    links: tuple[FacetLink, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: UUID
    title: str
    document_type: str
    score: float
    snippet: Markup

    @classmethod
    def of(cls, hit: SearchHit) -> Hit:
        return cls(
            hit.document_id, hit.title, hit.document_type, hit.score, highlighted(hit.snippet)
        )


@dataclass(frozen=True, slots=True)
class SearchView:
    """A search made: what the page shows of the use case's `SearchResult`."""

    query_id: UUID
    answer: str
    hits: tuple[Hit, ...]
    relaxed: bool
    total: int
    next_cursor: str | None
    facets: tuple[Facet, ...] = field(default=())


def _facet(
    form: SearchForm, name: str, counts: Iterable[FacetCount], chosen: Sequence[str]
) -> Facet:
    links = []
    for count in counts:
        if count.value is None:
            links.append(FacetLink(None, count.count, None, False))
            continue
        is_chosen = count.value in chosen
        if name == "tag":
            href = form.toggled_tag(count.value)
        else:
            href = form.url(**{name: "" if is_chosen else count.value})
        links.append(FacetLink(count.value, count.count, href, is_chosen))
    return Facet(name, tuple(links))


def search_view(form: SearchForm, result: SearchResult) -> SearchView:
    facets: tuple[Facet, ...] = ()
    if result.facets is not None:
        f = result.facets
        facets = (
            _facet(form, "type", f.document_type, [form.type]),
            _facet(form, "category", f.category, [form.category]),
            _facet(form, "department", f.department, [form.department]),
            _facet(form, "tag", f.tag, form.tags),
        )
    return SearchView(
        query_id=result.query_id,
        answer=result.answer,
        hits=tuple(Hit.of(h) for h in result.results),
        relaxed=result.relaxed,
        total=result.total,
        next_cursor=result.next_cursor,
        # A facet with nothing to choose (only "no category") narrows nothing down.
        facets=tuple(f for f in facets if any(link.href for link in f.links)),
    )


def _form_errors(err: ValidationError) -> dict[str, str]:
    """The API's field messages (as its problem details word them), by form field."""
    errors: dict[str, str] = {}
    for item in err.errors():
        loc = [str(part) for part in item["loc"] if isinstance(part, str)]
        name = _FORM_FIELD_OF.get(loc[-1] if loc else "", "q")
        errors.setdefault(name, str(item["msg"]).removeprefix(_PYDANTIC_VALUE_ERROR))
    return errors


def _domain_errors(err: ValidationFailed, default: str = "q") -> dict[str, str]:
    """The use case's field messages, by form field (`default`: where others are shown)."""
    if not err.errors:
        return {default: err.message}
    return {_FORM_FIELD_OF.get(e.field, default): e.message for e in err.errors}


def _checked_request(form: SearchForm) -> tuple[SearchRequest, SearchFilters]:
    """The search the form asks for, checked by the API's request model; `ValidationFailed`
    (dates) or pydantic's `ValidationError` (the rest) otherwise."""
    errors: dict[str, str] = {}
    dates: dict[str, Any] = {}
    for name in ("created_after", "created_before"):
        try:
            dates[name] = instant_or_day(getattr(form, name) or None, name)
        except ValidationFailed as err:
            errors.update(_domain_errors(err))
    try:
        checked = SearchRequest.model_validate(
            {
                "query": form.q,
                "filters": {
                    "tags": list(form.tags),
                    "category": form.category or None,
                    "document_type": form.type or None,
                    "department": form.department or None,
                    **dates,
                },
                "limit": PAGE_SIZE,
                "cursor": form.cursor or None,
                "facets": True,
            }
        )
    except ValidationError as err:
        errors = _form_errors(err) | errors
    if errors:
        raise _FormInvalid(errors)
    f = checked.filters
    assert f is not None  # sent above
    filters = SearchFilters(
        tags=tuple(f.tags),
        category=f.category,
        document_type=DocumentType(f.document_type) if f.document_type else None,
        department=f.department,
        created_after=f.created_after,
        created_before=f.created_before,
    )
    return checked, filters


class _FormInvalid(Exception):
    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("the search form is not valid")
        self.errors = dict(errors)


def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    viewer = signed_in_viewer(request)
    assert viewer is not None  # the admission hook sent anonymous visitors to sign in
    return viewer


def _context(request: Request[Any, Any, Any]) -> RequestContext:
    return RequestContext(
        actor=_viewer(request).user,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


def _search_service(request: Request[Any, Any, Any]) -> SearchService:
    service: SearchService = request.app.state.container.search()
    return service


def _back_to_search(raw: object) -> str:
    """Where the rating's page links back to: a search address on this site."""
    path = same_site_path(raw if isinstance(raw, str) else None)
    if path is None or urlsplit(path).path != SEARCH_PATH:
        return SEARCH_PATH
    return path


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _rating(raw: object) -> int:
    """The rating field as a number. Anything else is 0, out of range, so the use case
    refuses it with its own message."""
    if isinstance(raw, str) and raw.strip().isdecimal() and len(raw.strip()) <= 2:
        return int(raw.strip())
    return 0


class SearchPageController(Controller):
    path = SEARCH_PATH
    include_in_schema = False

    @get()
    async def search(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = SearchForm.of(request.query_params)
        context: dict[str, Any] = {
            "form": form,
            "errors": {},
            "result": None,
            "document_types": DOCUMENT_TYPES,
        }
        if not form.q:
            return page(request, "search/search.html", **context)
        try:
            checked, filters = _checked_request(form)
            result = await _search_service(request).search(
                _context(request),
                checked.query,
                filters,
                checked.limit,
                cursor=checked.cursor,
                facets=checked.facets,
            )
        except _FormInvalid as err:
            return page(
                request, "search/search.html", status=422, **context | {"errors": err.errors}
            )
        except ValidationFailed as err:
            errors = _domain_errors(err)
            return page(request, "search/search.html", status=422, **context | {"errors": errors})
        return page(
            request, "search/search.html", **context | {"result": search_view(form, result)}
        )

    @post("/{query_id:uuid}/rating", status_code=200)
    async def rate(
        self, request: Request[Any, Any, Any], query_id: FromPath[UUID]
    ) -> Response[Any]:
        """Rates one of the viewer's searches (1-5), as POST /search/{id}/feedback does:
        rating again replaces it; someone else's search is not found (404)."""
        form = await request.form()
        back = _back_to_search(form.get("back"))
        comment = form.get("comment")
        comment = comment if isinstance(comment, str) and comment.strip() else None
        try:
            stored = await _search_service(request).rate(
                _context(request), query_id, _rating(form.get("rating")), comment
            )
        except ValidationFailed as err:
            errors = _domain_errors(err, default="rating")
            if _wants_json(request):
                return Response({"errors": errors}, status_code=422)
            return page(
                request, "search/rated.html", status=422, errors=errors, back=back, rating=None
            )
        if _wants_json(request):
            return Response({"query_id": str(stored.query_id), "rating": stored.rating})
        return page(request, "search/rated.html", errors={}, back=back, rating=stored.rating)
