"""The documents list's query string: its filters, sort and page, read as the API reads
`GET /documents` (the same parameter names and checks, so a refused value carries the API's
message), and the links of the page (next, previous, another sort) as plain GET queries.

Paging is the API's keyset paging. "Next" sends the listing's own `next_cursor` as `cursor`.
"Previous" is the same listing walked the other way: `before` is a cursor of the reversed
sort (`REVERSED`) at the first row shown, so the rows before it come back nearest first and
are turned around (`Window`). A cursor is the position of a row in the keyset's order (the
sorted column, then the id: `domain.pagination.Keyset`), so a position read from one sort's
cursor is a cursor of the reversed sort too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

from domain.document_ports import TITLE_QUERY_MAX, DocumentFilter, DocumentSort
from domain.documents import CATEGORY_NAME_MAX, Document, tag_name
from domain.errors import ValidationFailed
from domain.pagination import MAX_LIMIT
from domain.processing import ProcessingFilter
from domain.taxonomy import parse_path, parse_version
from domain.values import DEPARTMENT_MAX
from interfaces.http.controllers.documents import document_type_of
from interfaces.http.instants import instant_or_day
from interfaces.web.form_support import field_errors

LIST_PATH: Final = "/documents"
DEFAULT_LIMIT: Final = 50
LIMITS: Final = (25, 50, 100)
CURSOR_MAX: Final = 512
# The query parameters of a listing (the API's names) that the links carry along.
FILTERS: Final = (
    "q",
    "tag",
    "category",
    "document_type",
    "department",
    "access_level",
    "owner_id",
    "created_after",
    "created_before",
    "taxonomy",
    "taxonomy_version",
    "processing",
    "needs_ocr",
    "deleted",
    "sort",
    "limit",
)
REVERSED: Final = {
    DocumentSort.CREATED: DocumentSort.CREATED_DESC,
    DocumentSort.CREATED_DESC: DocumentSort.CREATED,
    DocumentSort.TITLE: DocumentSort.TITLE_DESC,
    DocumentSort.TITLE_DESC: DocumentSort.TITLE,
    DocumentSort.SIZE: DocumentSort.SIZE_DESC,
    DocumentSort.SIZE_DESC: DocumentSort.SIZE,
}


def N_(message: str) -> str:
    """Marks `message` for the catalogs; the template translates it where it is shown."""
    return message


SORT_LABELS: Final = {
    DocumentSort.CREATED_DESC: N_("Newest first"),
    DocumentSort.CREATED: N_("Oldest first"),
    DocumentSort.TITLE: N_("Title, A to Z"),
    DocumentSort.TITLE_DESC: N_("Title, Z to A"),
    DocumentSort.SIZE_DESC: N_("Largest first"),
    DocumentSort.SIZE: N_("Smallest first"),
}
PROCESSING_LABELS: Final = {
    "pending": N_("In progress"),
    "failed": N_("Failed"),
    "done": N_("Done"),
}


@dataclass
class Listing:
    """A listing request: what was asked (`values`, `tags`: to fill the filter form back in
    and to build links), and, when every value is good, the API's filter, sort and page.
    `errors`: the message of each refused field ("" for the page as a whole)."""

    values: dict[str, str]
    tags: list[str]
    sort: DocumentSort = DocumentSort.CREATED_DESC
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    before: str | None = None
    filters: DocumentFilter | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def trash(self) -> bool:
        return self.values.get("deleted") == "true"

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the listing (the trash view aside)."""
        narrowing = set(FILTERS) - {"deleted", "sort", "limit"}
        return bool(self.tags) or any(self.values.get(name) for name in narrowing)

    def params(self, **changes: str | None) -> list[tuple[str, str]]:
        """The listing's query parameters, with `changes` (None: left out)."""
        values: dict[str, str | None] = {**self.values, **changes}
        pairs = [("tag", t) for t in self.tags] if "tag" not in changes else []
        pairs += [(k, v) for k in FILTERS if k != "tag" and (v := values.get(k))]
        return pairs

    def link(self, **changes: str | None) -> str:
        """This listing's address with `changes`: another page, the trash, a tag."""
        pairs = self.params(**changes)
        extra = [(k, v) for k, v in changes.items() if k not in FILTERS and v]
        query = urlencode(pairs + extra)
        return f"{LIST_PATH}?{query}" if query else LIST_PATH

    def first_page(self) -> str:
        return self.link()

    def with_tag(self, name: str) -> str:
        """The first page of this listing, also narrowed to the tag `name`."""
        return self._with_tags([*self.tags, name] if name not in self.tags else self.tags)

    def without_tag(self, name: str) -> str:
        """The first page of this listing, no longer narrowed to the tag `name`."""
        return self._with_tags([t for t in self.tags if t != name])

    def _with_tags(self, tags: list[str]) -> str:
        pairs = [("tag", t) for t in tags] + self.params(tag=None)
        return f"{LIST_PATH}?{urlencode(pairs)}" if pairs else LIST_PATH


def read_listing(query: Mapping[str, Sequence[str]]) -> Listing:
    """The listing `query` asks for (`query`: each parameter's values, as given)."""

    def first(name: str) -> str:
        values = query.get(name) or []
        return values[0].strip() if values else ""

    values = {name: first(name) for name in FILTERS if name != "tag" and first(name)}
    tags = [t.strip() for t in query.get("tag") or [] if t.strip()]
    listing = Listing(values, tags)
    errors: dict[str, str] = {}

    def attempt(name: str, read: Any) -> Any:
        try:
            return read()
        except ValidationFailed as error:
            for key, message in field_errors(error).items():
                errors.setdefault(key if key in FILTERS else name, message)
            return None

    listing.sort = attempt("sort", lambda: _sort(values.get("sort"))) or DocumentSort.CREATED_DESC
    listing.limit = attempt("limit", lambda: _limit(values.get("limit"))) or DEFAULT_LIMIT
    listing.cursor = attempt("cursor", lambda: _cursor(first("cursor"), "cursor"))
    listing.before = attempt("cursor", lambda: _cursor(first("before"), "cursor"))
    checked = {
        "tag": attempt("tag", lambda: tuple(tag_name(t) for t in tags)),
        "category": attempt("category", lambda: _bounded(values, "category", CATEGORY_NAME_MAX)),
        "document_type": attempt(
            "document_type", lambda: document_type_of(values.get("document_type"))
        ),
        "department": attempt("department", lambda: _bounded(values, "department", DEPARTMENT_MAX)),
        "access_level": attempt("access_level", lambda: _level(values.get("access_level"))),
        "owner_id": attempt("owner_id", lambda: _uuid(values.get("owner_id"), "owner_id")),
        "created_after": attempt(
            "created_after", lambda: instant_or_day(values.get("created_after"), "created_after")
        ),
        "created_before": attempt(
            "created_before",
            lambda: instant_or_day(values.get("created_before"), "created_before"),
        ),
        "taxonomy": attempt("taxonomy", lambda: _path(values.get("taxonomy"))),
        "taxonomy_version": attempt(
            "taxonomy_version",
            lambda: _version(values.get("taxonomy_version")),
        ),
        "processing": attempt(
            "processing",
            lambda: (
                ProcessingFilter.parse(values["processing"]) if "processing" in values else None
            ),
        ),
        "needs_ocr": attempt("needs_ocr", lambda: _yes_no(values.get("needs_ocr"), "needs_ocr")),
        "deleted": attempt("deleted", lambda: _yes_no(values.get("deleted"), "deleted")),
        "q": attempt("q", lambda: _title_query(values.get("q"))),
    }
    if not errors:
        listing.filters = attempt(
            "",
            lambda: DocumentFilter(
                tags=checked["tag"],
                category=checked["category"],
                document_type=checked["document_type"],
                department=checked["department"],
                access_level=checked["access_level"],
                owner_id=checked["owner_id"],
                created_after=checked["created_after"],
                created_before=checked["created_before"],
                deleted=bool(checked["deleted"]),
                taxonomy_path=checked["taxonomy"],
                taxonomy_version=checked["taxonomy_version"],
                processing=checked["processing"],
                needs_ocr=checked["needs_ocr"],
                title_contains=checked["q"],
            ),
        )
    listing.errors = errors
    return listing


def _sort(raw: str | None) -> DocumentSort:
    if not raw:
        return DocumentSort.CREATED_DESC
    try:
        return DocumentSort(raw)
    except ValueError:
        names = ", ".join(s.value for s in DocumentSort)
        raise ValidationFailed.on("sort", f"must be one of {names}") from None


def _limit(raw: str | None) -> int:
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
    return int(raw)


def _cursor(raw: str, name: str) -> str | None:
    if len(raw) > CURSOR_MAX:
        raise ValidationFailed.on(name, f"must be at most {CURSOR_MAX} characters")
    return raw or None


def _bounded(values: Mapping[str, str], name: str, most: int) -> str | None:
    raw = values.get(name)
    if raw is not None and len(raw) > most:
        raise ValidationFailed.on(name, f"must be at most {most} characters")
    return raw


def _level(raw: str | None) -> int | None:
    if not raw:
        return None
    if raw not in ("1", "2", "3"):
        raise ValidationFailed.on("access_level", "must be an integer from 1 to 3")
    return int(raw)


def _uuid(raw: str | None, name: str) -> UUID | None:
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationFailed.on(name, "must be a user id (a UUID)") from None


def _path(raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    if len(raw) > 2100:
        raise ValidationFailed.on("taxonomy", "must be at most 2100 characters")
    return parse_path(raw, "taxonomy")


def _version(raw: str | None) -> str | None:
    return parse_version(raw, "taxonomy_version") if raw else None


def _yes_no(raw: str | None, name: str) -> bool | None:
    if not raw:
        return None
    if raw not in ("true", "false"):
        raise ValidationFailed.on(name, "must be true or false")
    return raw == "true"


def _title_query(raw: str | None) -> str | None:
    if raw is not None and len(raw) > TITLE_QUERY_MAX:
        raise ValidationFailed.on("q", f"must be at most {TITLE_QUERY_MAX} characters")
    return raw or None


# --- paging both ways ---------------------------------------------------------------------------


def position(doc: Document, sort: DocumentSort) -> tuple[object, UUID]:
    """Where `doc` stands in `sort`'s order: the sorted column, then the id."""
    column = sort.value.removeprefix("-")
    return getattr(doc, column), doc.id


@dataclass(frozen=True)
class Window:
    """One page of the listing as shown, in the listing's order, with the cursors of the
    pages beside it: `next_cursor` (a cursor of the sort) and `before` (of the reversed
    sort); None where there is no page."""

    items: Sequence[Document]
    next_cursor: str | None
    before: str | None


def forward_window(listing: Listing, items: Sequence[Document], next_cursor: str | None) -> Window:
    """The page read after `listing.cursor` (or the first page)."""
    back = REVERSED[listing.sort].keyset
    if listing.cursor is None:
        return Window(items, next_cursor, None)
    if items:
        return Window(items, next_cursor, back.encode(position(items[0], listing.sort)))
    # Past the last row: the page before is the one that ends at the cursor.
    return Window(items, None, back.encode(listing.sort.keyset.decode(listing.cursor)))


def backward_window(
    listing: Listing, reversed_items: Sequence[Document], more_before: str | None
) -> Window:
    """The page read before `listing.before`, in the reversed sort (nearest first)."""
    assert listing.before is not None
    items = list(reversed(reversed_items))
    ahead = listing.sort.keyset
    if items:
        following = ahead.encode(position(items[-1], listing.sort))
        earlier = REVERSED[listing.sort].keyset.encode(position(items[0], listing.sort))
    else:
        # Nothing before: the page after is the one that starts at `before`.
        following = ahead.encode(REVERSED[listing.sort].keyset.decode(listing.before))
        earlier = None
    return Window(items, following, earlier if more_before is not None else None)
