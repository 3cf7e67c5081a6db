"""Request and response examples of the main routes, for the docs page (issue #13 item 6).

Each is what the API answers to the same request (taken from a run, ids and instants kept
plausible); tests/api/test_openapi.py checks every example against its schema, and sends the
request examples. A handler takes them with `operation_class=with_examples(...)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar.openapi.spec import Example, OpenAPIResponse, Operation

_DOC_ID: Final = "57a03191-f4a2-478c-bb27-db705f3e46ac"
_OWNER_ID: Final = "0e7aec55-ec96-471c-a612-06daf342abd9"

UPLOADED_DOCUMENT: Final[dict[str, Any]] = {
    "id": _DOC_ID,
    "title": "Invoice 2025-001",
    "document_type": "TXT",
    "source": "",
    "access_level": 1,
    "department": "Finance",
    "metadata": {"supplier": "Acme Office", "year": 2025},
    "owner_id": _OWNER_ID,
    "category_id": None,
    "category": None,
    "tags": ["finance", "invoice"],
    "original_filename": "invoice-2025-001.txt",
    "extension": "txt",
    "mime_type": "text/plain",
    "size_bytes": 55,
    "sha256": "cae47c7b267aa5c88e1ab41cf4c4592e60bcbef00fae3645b8a91c52864b07c0",
    "version": 1,
    "deleted_at": None,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
    "content": "Invoice 2025-001 for office chairs, total 1,240.00 EUR.",
    "processing": None,
    "needs_ocr": None,
}

DOCUMENT_LIST: Final[dict[str, Any]] = {
    "items": [
        UPLOADED_DOCUMENT
        | {
            "content": None,  # the listing leaves the text out
            "category_id": "3f6d2c8e-9b1a-4c57-8e0f-2a7b5d4c1e90",
            "category": "Invoices",  # the category's name, next to its id
            "processing": {
                "thumbnail": {
                    "state": "done",
                    "reason": None,
                    "updated_at": "2026-01-05T09:30:01Z",
                }
            },
            "needs_ocr": False,
        }
    ],
    "next_cursor": "eyJjIjoiMjAyNi0wMS0wNVQwOTozMDowMFoiLCJpIjoiNTdhMDMxOTEifQ",
}

SEARCH_REQUEST: Final[dict[str, Any]] = {
    "query": "office chairs invoice",
    "filters": {"tags": ["finance"], "document_type": "TXT"},
    "limit": 10,
}

SEARCH_RESPONSE: Final[dict[str, Any]] = {
    "query_id": "5a851204-6965-4a52-bfc7-9e24deaf5ddf",
    "answer": "Invoice 2025-001 for office chairs, total 1,240.00 EUR",
    "results": [
        {
            "document_id": _DOC_ID,
            "title": "Invoice 2025-001",
            "document_type": "TXT",
            "score": 1.2474,
            "snippet": "<mark>Invoice</mark> 2025-001 for <mark>office</mark> "
            "<mark>chairs</mark>, total 1,240.00 EUR",
        }
    ],
    "response_time_ms": 4,
    "total": 1,
    "next_cursor": None,
    "facets": None,
    "relaxed": False,
}

CLASSIFY_REQUEST: Final[dict[str, Any]] = {
    "path": "Finance/Invoices",
    "confidence": 0.92,
    "hitl_required": False,
}

CLASSIFICATION: Final[dict[str, Any]] = {
    "doc_id": _DOC_ID,
    "node_id": "8558672b-3bd5-4947-9d7f-f65a44b829aa",
    "version": "2025.1",
    "path": "Finance/Invoices",
    "canonical_path": ["Finance", "Invoices"],
    "confidence": 0.92,
    "hitl_required": False,
    "reviewed_by": None,
    "reviewed_at": None,
    "created_at": "2026-01-05T09:31:00Z",
}


@dataclass
class JsonExample(Example):
    """An example whose value is written as it is: Litestar leaves out every None of a spec
    object, nested dictionaries included, which would drop the nulls a response holds."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        schema["value"] = self.value
        return schema


def with_examples(
    *,
    status: int,
    response: dict[str, Any],
    request: dict[str, Any] | None = None,
    base: type[Operation] = Operation,
) -> type[Operation]:
    """An `operation_class` (on `base`) whose `status` response shows `response`, and whose
    request body, if it has one, shows `request`."""

    @dataclass
    class OperationWithExamples(base):  # type: ignore[valid-type,misc]
        def __post_init__(self) -> None:
            if hasattr(base, "__post_init__"):
                base.__post_init__(self)
            body = self.request_body
            if request is not None and body is not None and hasattr(body, "content"):
                for media in body.content.values():
                    media.examples = {"example": JsonExample(value=request)}
            answer = (self.responses or {}).get(str(status))
            if isinstance(answer, OpenAPIResponse):
                for media in (answer.content or {}).values():
                    media.examples = {"example": JsonExample(value=response)}

    return OperationWithExamples
