"""What the OpenAPI schema must say that Litestar does not derive by itself.

The schema is a contract clients (and `make fuzz`, tests/fuzz) hold the server to: it states
every rule the server enforces, and every status it answers. Added here, in one place:

Request bodies (`StrictPydanticSchemaPlugin`, on the pydantic models):
- a model with `extra="forbid"` refuses unknown fields: `additionalProperties: false`;
- its strings never hold NUL (`StoredText`); when they may not be empty they hold a
  non-space character; fields whose rule the domain enforces (names and titles: no control
  characters; taxonomy paths; emails; colours) carry that rule with `schema_only(...)`;
- the models strip whitespace before checking lengths, so a length limit is written into
  the pattern (`^\\s*…{0,n}…\\s*$`) rather than as `maxLength`, which counts the spaces.
  These patterns state rules, they do not enforce them: the domain's checks stay the one
  place that refuses (with their own messages), so a pattern must accept exactly what they do.

Parameters and responses (`finished_schema`, applied when the schema is served):
- a JSON value a client stores (document metadata, a metadata filter) is `JsonValue`;
- an optional header is absent, never `null` (a header cannot carry null); a query parameter
  holding JSON is described by its content;
- string parameters never hold NUL (`interfaces.http.validation`);
- every /api/v1 operation can answer 401, 414, 429 and 431 (authentication, request limits,
  throttling: middleware in front of every route) and 503 (the database is unreachable)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins.pydantic import PydanticSchemaPlugin
from pydantic import BaseModel

from interfaces.http.docs_ui import SwaggerUIPlugin

if TYPE_CHECKING:
    from litestar import Request
    from litestar._openapi.schema_generation.schema import SchemaCreator
    from litestar.typing import FieldDefinition

API_PREFIX: Final = "/api/v1/"
_CONTROL: Final = r"\x00-\x1f\x7f"
# What Python's str.strip() removes, spelled out: `\s` differs between Python, ECMA-262 and
# Rust (\x1c-\x1f and \x85 are whitespace only to Python, \ufeff only to ECMA).
_WS_CHARS: Final = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS: Final = rf"[{_WS_CHARS}]"
# What pydantic's `str_strip_whitespace` removes (Unicode White_Space: not \x1c-\x1f), for
# fields no domain check strips again.
_PYDANTIC_WS: Final = r"[\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class TextRule:
    """What a string may hold once stripped: `first` is a character that may start or end
    it, `middle` one that may sit inside."""

    def __init__(self, first: str, middle: str) -> None:
        self.first = first
        self.middle = middle

    def pattern(self, *, non_blank: bool, max_length: int | None = None) -> str:
        if max_length is None:
            core = f"{self.first}({self.middle}*{self.first})?"
        elif max_length == 1:
            core = self.first
        else:
            core = f"{self.first}({self.middle}{{0,{max_length - 2}}}{self.first})?"
        return rf"^{_WS}*{core}{_WS}*$" if non_blank else rf"^{_WS}*({core})?{_WS}*$"


# Text PostgreSQL can store (no NUL); `domain.values.bounded_text` (no control characters).
TEXT_RULE: Final = TextRule(rf"[^{_WS_CHARS}\x00]", r"[^\x00]")
LINE_RULE: Final = TextRule(rf"[^{_WS_CHARS}{_CONTROL}]", rf"[^{_CONTROL}]")

TEXT: Final = r"^[^\x00]*$"
NON_BLANK_TEXT: Final = TEXT_RULE.pattern(non_blank=True)
LINE: Final = LINE_RULE.pattern(non_blank=True)
OPTIONAL_LINE: Final = LINE_RULE.pattern(non_blank=False)
# A stripped string that may be empty: NUL-free.
TEXT_ANY_STRIPPED: Final = TEXT_RULE.pattern(non_blank=False)
_RULE_OF: Final = {
    NON_BLANK_TEXT: (TEXT_RULE, True),
    TEXT_ANY_STRIPPED: (TEXT_RULE, False),
    LINE: (LINE_RULE, True),
    OPTIONAL_LINE: (LINE_RULE, False),
}
# `domain.taxonomy.parse_path`: 1-20 labels joined by '/', each 1-100 characters once
# stripped, without control characters.
_LABEL: Final = (
    rf"{_WS}*[^/{_WS_CHARS}{_CONTROL}]([^/{_CONTROL}]{{0,98}}[^/{_WS_CHARS}{_CONTROL}])?{_WS}*"
)
TAXONOMY_PATH: Final = rf"^{_LABEL}(/{_LABEL}){{0,19}}$"
# `domain.values.normalize_email` (its regex, with the 64-character local part).
_DOMAIN_LABEL: Final = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL: Final = (
    rf"^{_WS}*[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_DOMAIN_LABEL}(\.{_DOMAIN_LABEL})+{_WS}*$"
)
# `application.catalog.CatalogService.put_file_type`: stripped, leading dots ignored.
EXTENSION: Final = rf"^{_WS}*\.*[A-Za-z0-9]{{1,10}}{_WS}*$"
# `domain.documents.tag_color`, `domain.taxonomy.VERSION_RE`.
COLOR: Final = rf"^{_PYDANTIC_WS}*#[0-9a-fA-F]{{6}}{_PYDANTIC_WS}*$"
VERSION: Final = rf"^{_PYDANTIC_WS}*[0-9A-Za-z][0-9A-Za-z._-]{{0,19}}{_PYDANTIC_WS}*$"
# A multipart form's version field: stripped, and blank is absent (interfaces/http/uploads.py).
FORM_VERSION: Final = rf"^{_WS}*([0-9A-Za-z][0-9A-Za-z._-]{{0,19}})?{_WS}*$"
# A version in a query string: not stripped; empty is as good as absent.
VERSION_PARAMETER: Final = r"^([0-9A-Za-z][0-9A-Za-z._-]{0,19})?$"
# `application.catalog.MEDIA_TYPE_RE`, stripped.
_MEDIA_NAME: Final = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE: Final = rf"^{_WS}*{_MEDIA_NAME}/{_MEDIA_NAME}{_WS}*$"

# Patterns that bound the length of what they match, once stripped.
_SELF_BOUNDED: Final = frozenset({COLOR, VERSION})

# Statuses every /api/v1 operation can answer, whatever its handler does.
EVERY_API_OPERATION: Final = (401, 414, 429, 431, 503)


def schema_only(
    pattern: str, *, max_length: int | None = None, items: bool = False
) -> dict[str, Any]:
    """`json_schema_extra` of a field whose rule the domain enforces: the schema states it
    (for the items of a list of strings when `items`)."""
    rule: dict[str, Any] = {"pattern": pattern}
    if max_length is not None:
        rule["maxLength"] = max_length
    if items:
        return {"items": {"type": "string", **rule}}
    return rule


# --- request bodies -----------------------------------------------------------------------------


class StrictPydanticSchemaPlugin(PydanticSchemaPlugin):
    """Litestar's pydantic schema plugin, plus the request-body rules above."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        model = field_definition.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return schema
        if model.model_config.get("extra") != "forbid":
            return schema
        # The registered component (what references elsewhere point to).
        component = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
        component.additional_properties = False
        stripped = bool(model.model_config.get("str_strip_whitespace"))
        not_null = set(getattr(model, "NOT_NULL", ()))
        for name, prop in (component.properties or {}).items():
            if isinstance(prop, Schema):
                if name in not_null:
                    _drop_null(prop)
                _state_body_string(prop, stripped=stripped)
        return schema


def _drop_null(prop: Schema) -> None:
    """A field that may be left out but not sent as null: its type without the null."""
    if isinstance(prop.type, list | tuple):  # an optional Literal: type [null, string]
        types = [t for t in prop.type if t != OpenAPIType.NULL]
        prop.type = types[0] if len(types) == 1 else types
        if prop.enum is not None:
            prop.enum = [v for v in prop.enum if v is not None]
        return
    options = [o for o in prop.one_of or [] if not (isinstance(o, Schema) and o.type == "null")]
    if prop.one_of and len(options) == 1 and isinstance(options[0], Schema):
        prop.one_of = None
        for name in ("type", "format", "enum", "const"):
            if getattr(options[0], name, None) is not None:
                setattr(prop, name, getattr(options[0], name))
    elif prop.one_of and len(options) == 1:  # a reference (an enum component)
        prop.one_of = None
        prop.all_of = options


def _state_body_string(prop: Schema, *, stripped: bool) -> None:
    if prop.type == OpenAPIType.ARRAY:
        items: Any = prop.items  # schema_only(..., items=True) leaves a plain dict here
        if isinstance(items, dict):
            prop.items = Schema(
                type=OpenAPIType.STRING,
                pattern=items.get("pattern"),
                max_length=items.get("maxLength"),
            )
        if isinstance(prop.items, Schema) and prop.items.type == OpenAPIType.STRING:
            _state_string(prop.items, stripped=stripped)
        return
    strings = [o for o in prop.one_of or [] if isinstance(o, Schema) and o.type == "string"]
    if (prop.type == OpenAPIType.STRING and not prop.one_of) or (strings and not strings[0].format):
        _state_string(prop, stripped=stripped)


def _state_string(schema: Schema, *, stripped: bool) -> None:
    if schema.format is not None or schema.enum is not None:
        return
    if schema.pattern is None:
        if not stripped:
            schema.pattern = TEXT
            return
        schema.pattern = NON_BLANK_TEXT if (schema.min_length or 0) >= 1 else TEXT_ANY_STRIPPED
    if stripped and schema.pattern in _SELF_BOUNDED:
        schema.max_length = schema.min_length = None  # the pattern bounds the stripped value
        return
    found = _RULE_OF.get(schema.pattern)
    if found is None or not stripped:
        return
    rule, non_blank = found
    non_blank = non_blank or (schema.min_length or 0) >= 1
    schema.pattern = rule.pattern(non_blank=non_blank, max_length=schema.max_length)
    schema.max_length = None
    schema.min_length = None


# --- parameters and responses -------------------------------------------------------------------


_JSON_VALUE_REF: Final = {"$ref": "#/components/schemas/JsonValue"}
# `domain.values.check_json_value`: plain JSON, no NUL, numbers within a bigint's range, bounded
# strings and keys (its depth, count and size bounds are not stated: generated values stay
# far below them).
JSON_OBJECT: Final = {
    "type": "object",
    "additionalProperties": _JSON_VALUE_REF,
    "propertyNames": {"pattern": TEXT, "maxLength": 255},
}
JSON_VALUE: Final = {
    "anyOf": [
        {"type": "string", "pattern": TEXT, "maxLength": 10_000},
        # Integers and other numbers alike: 1e20 is an integer to JSON Schema.
        {"type": "number", "minimum": -(2**63), "maximum": 2**63 - 1},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": _JSON_VALUE_REF},
        JSON_OBJECT,
    ]
}
_FREE_OBJECT: Final = {"additionalProperties": {}, "type": "object"}


def finished_schema(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the generated OpenAPI document with the parameter and response rules above."""
    document = copy.deepcopy(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["JsonValue"] = JSON_VALUE
    for component in schemas.values():
        if component.get("additionalProperties") is False:  # a request body
            for prop in component.get("properties", {}).values():
                for i, option in enumerate(prop.get("oneOf", [])):
                    if option == _FREE_OBJECT:
                        prop["oneOf"][i] = JSON_OBJECT
                    elif isinstance(option, dict):
                        _refuse_nul(option)  # an optional string: `StoredText` holds for it too
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _finish_form(operation)
            for parameter in operation.get("parameters", []):
                _finish_parameter(parameter)
            if path.startswith(API_PREFIX):
                responses = operation["responses"]
                for status in EVERY_API_OPERATION:
                    responses.setdefault(
                        str(status),
                        {
                            "description": _PHRASES[status],
                            "content": {"application/problem+json": {"schema": problem}},
                        },
                    )
    return document


_PHRASES: Final = {
    401: "Unauthorized",
    414: "URI Too Long",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def _finish_parameter(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema")
    if not isinstance(schema, dict):
        return
    if schema.get("contentMediaType") == "application/json":
        # A JSON document in a query string: described as content, so clients (and
        # generators) send JSON text rather than any string.
        del parameter["schema"]
        parameter["content"] = {"application/json": {"schema": JSON_OBJECT}}
        return
    options = schema.get("oneOf")
    # A header cannot carry null (Litestar reads `null` in a query string as absent).
    if isinstance(options, list) and parameter.get("in") == "header":
        present = [o for o in options if o.get("type") != "null"]
        if len(present) == 1 and len(present) < len(options):
            del schema["oneOf"]
            schema.update(present[0])
    # The NUL rule holds for every string a parameter carries: the schema itself, each of its
    # `oneOf` branches (Litestar's optional parameters) and the items of an array (`tag`).
    branches = [schema, *(o for o in schema.get("oneOf", []) if isinstance(o, dict))]
    for branch in branches:
        _refuse_nul(branch)
        items = branch.get("items")
        if isinstance(items, dict):
            _refuse_nul(items)


def _finish_form(operation: dict[str, Any]) -> None:
    """A multipart form (the upload) states the same rules as a JSON body: its JSON field
    (`metadata`) is a `JSON_OBJECT`, and its text fields never hold NUL (`uploads.py`)."""
    content = operation.get("requestBody", {}).get("content", {})
    form = content.get("multipart/form-data", {}).get("schema", {})
    for prop in form.get("properties", {}).values():
        if prop.get("type") == "object" and "additionalProperties" not in prop:
            prop.update(JSON_OBJECT)
        _refuse_nul(prop)
        items = prop.get("items")
        if isinstance(items, dict):
            _refuse_nul(items)


def _refuse_nul(schema: dict[str, Any]) -> None:
    is_string = schema.get("type") == "string"
    if is_string and not ({"pattern", "format", "enum", "const"} & schema.keys()):
        schema["pattern"] = TEXT


class FinishedJsonRenderPlugin(JsonRenderPlugin):
    """/schema/openapi.json: `finished_schema` of the generated document (computed once)."""

    def __init__(self) -> None:
        super().__init__()
        self._finished: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._finished is None:
            self._finished = finished_schema(openapi_schema)
        return super().render(request, self._finished)


def render_plugins() -> Sequence[OpenAPIRenderPlugin]:
    """Swagger UI at /schema (and /schema/swagger) on the app's own assets, reading the
    finished document at /schema/openapi.json. Litestar's other sites (Redoc, Stoplight,
    RapiDoc) load from CDNs: not served (docs/decisions.md, "API docs offline")."""
    return [SwaggerUIPlugin(), FinishedJsonRenderPlugin()]
