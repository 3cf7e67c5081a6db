"""Schemathesis hooks of `make fuzz` (loaded through tests/fuzz/schemathesis.toml).

Authentication: a bearer token of a fresh administrator from run_fuzz.py's token mint, fetched
again after any 401 (the fuzzer revokes its own tokens and deactivates its own users).

Narrow exceptions to `positive_data_acceptance` (ST202, "schema-valid request rejected"):
values no schema can describe, because only the server's state makes them valid. Each one
forgives a single refusal and nothing else of the same response (docs/decisions.md, "Fuzzing")."""

from __future__ import annotations

import os
import urllib.request
from typing import Any

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData


@schemathesis.auth(refresh_interval=600, retry_on=[401])
class FreshAdministrator:
    def get(self, case: Any, context: Any) -> str:
        url = os.environ["ARCHIVIST_FUZZ_MINT_URL"]
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (127.0.0.1)
            return str(response.read().decode())

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# (operation id or None for any, status, fields the refusal may name): why it is not a failure.
SERVER_STATE: dict[tuple[str | None, int, frozenset[str]], str] = {
    # A listing's cursor is an opaque token the server issued (position and sort of the
    # listing it came from): no schema can say "a string this server issued".
    (None, 422, frozenset({"cursor"})): "cursor not issued by the server",
    # A category is named, and a name that does not exist is refused (422 naming the field,
    # also for a listing's filter): which names exist is server state.
    ("listDocuments", 422, frozenset({"category"})): "no such category",
    ("createTextDocument", 422, frozenset({"category"})): "no such category",
    ("uploadDocument", 422, frozenset({"category"})): "no such category",
    ("updateDocument", 422, frozenset({"category"})): "no such category",
    ("search", 422, frozenset({"category"})): "no such category",
    ("bulkEditDocuments", 422, frozenset({"category"})): "no such category",
    # A node's parent must exist in that version (the tree is server state).
    ("addTaxonomyNode", 422, frozenset({"path"})): "the parent node does not exist",
    # Upload limits are rows an admin edits (the fuzzer does, down to 1 byte): 413.
    ("createTextDocument", 413, frozenset()): "over the upload limit an admin set",
    ("uploadDocument", 413, frozenset()): "over the upload limit an admin set",
    # A URL or header block over its limit (ARCHIVIST_MAX_URL_BYTES, _MAX_HEADER_BYTES) is
    # refused whatever its parts: each parameter's own limit is stated, but several long,
    # percent-encoded values can add up to more, which no schema can say.
    (None, 414, frozenset()): "the whole URL is over its documented limit",
    (None, 431, frozenset()): "the header block is over its documented limit",
    # Which file types are accepted is a row an admin edits (the fuzzer does): 415.
    ("createTextDocument", 415, frozenset()): "file type disallowed by an admin",
    # If-Match names a version; only the server knows the current one (SPEC §2.7: 412).
    (None, 412, frozenset()): "If-Match names a version that is not current",
    # A new setting needs a type, and a known one's value must fit its type: whether a key
    # exists, and with which type, is server state.
    ("putSetting", 422, frozenset({"type"})): "a new setting needs a type",
    ("putSetting", 422, frozenset({"value"})): "the value does not fit the setting's type",
    # An upload's file name and bytes come from schemathesis' multipart encoder, which
    # cannot know the upload policy (allowed extensions are rows an admin edits; the bytes
    # must match the extension): SPEC §2.5 answers 415 and 422 for those.
    ("uploadDocument", 415, frozenset()): "extension not allowed by the upload policy",
    ("uploadDocument", 422, frozenset({"file"})): "file name or bytes do not fit the policy",
    # Passwords: the current one is the server's to know, and the policy refuses a new one
    # containing the user's e-mail (server state) or on its built-in list of common ones
    # (which no pattern states; the length is stated).
    ("changeOwnPassword", 422, frozenset({"current_password"})): "not the current password",
    ("changeOwnPassword", 422, frozenset({"new_password"})): "the user's e-mail, or common",
    ("setUserPassword", 422, frozenset({"password"})): "the user's e-mail, or common",
}


def _refused_fields(response: Any) -> frozenset[str]:
    try:
        body = response.json()
    except Exception:
        return frozenset()
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return frozenset()
    return frozenset(str(e.get("field")) for e in errors if isinstance(e, dict))


def _operation_id(case: Any) -> str | None:
    definition = getattr(case.operation, "definition", None)
    raw = getattr(definition, "raw", None)
    return raw.get("operationId") if isinstance(raw, dict) else None


def _undeclared_query(case: Any) -> bool:
    definition = getattr(case.operation, "definition", None)
    raw = getattr(definition, "raw", None)
    parameters = raw.get("parameters", []) if isinstance(raw, dict) else []
    declared = {p.get("name") for p in parameters if p.get("in") == "query"}
    return any(name not in declared for name in (case.query or {}))


def _only_padded(failure: Any, case: Any) -> bool:
    """Request bodies are stripped before their lengths are checked, and JSON Schema has no
    "length once stripped": where a field's rule is not written into its pattern (emails,
    taxonomy paths, media types), its `maxLength` counts the spaces around the value."""
    if "larger than maxLength" not in str(getattr(failure, "message", "")):
        return False
    body = case.body if isinstance(case.body, dict) else {}
    return any(isinstance(v, str) and v != v.strip() for v in body.values())


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """False drops the failure: a refusal listed in SERVER_STATE, and only that; or an
    accepted request whose only fault is a query parameter the operation does not declare
    (OpenAPI cannot forbid undeclared query parameters; the server ignores them, as HTTP
    APIs conventionally do, so that no client breaks on an added one) or a `maxLength` that
    counted whitespace the server strips (`_only_padded`)."""
    if isinstance(failure, AcceptedNegativeData):
        return not (_undeclared_query(case) or _only_padded(failure, case))
    if not isinstance(failure, RejectedPositiveData):
        return True
    status = response.status_code
    fields = _refused_fields(response)
    for (operation_id, expected_status, names), _reason in SERVER_STATE.items():
        if operation_id not in (None, _operation_id(case)) or status != expected_status:
            continue
        if (not names and not fields) or (fields and fields <= names):
            return False
    return True
