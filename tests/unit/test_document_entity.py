"""The document entity's transitions: each answers the next version and leaves the original
as it was; each refuses what the document's state forbids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.blobs import StoredBlob
from domain.documents import DEFAULT_FILE_TYPES, Document, DocumentChanges, DocumentType
from domain.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from domain.values import AccessLevel

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
TXT = next(f for f in DEFAULT_FILE_TYPES if f.extension == "txt")
BLOB = StoredBlob(key="ab/cd", sha256="ab" * 32, size_bytes=5)


def _doc(**overrides: object) -> Document:
    fields: dict[str, object] = {
        "owner_id": uuid4(),
        "title": "Report",
        "content": "hello",
        "filename": "report.txt",
        "file_type": TXT,
        "blob": BLOB,
        "now": T0,
        "tags": ["beta", "Alpha"],
    }
    fields.update(overrides)
    return Document.create(**fields)  # type: ignore[arg-type]


def _trashed() -> Document:
    return _doc().trash(T0)


def _snapshot(doc: Document) -> dict[str, object]:
    return {name: getattr(doc, name) for name in Document.__slots__}


# --- create ---------------------------------------------------------------------------------


def test_create_makes_version_1_from_the_file_and_the_cleaned_fields() -> None:
    doc = _doc(title="  Report  ", source=None, department=" Legal ", access_level=2)
    assert (doc.version, doc.created_at, doc.updated_at, doc.deleted_at) == (1, T0, T0, None)
    assert (doc.title, doc.source, doc.department) == ("Report", "", "Legal")
    assert doc.access_level is AccessLevel.L2
    assert doc.document_type is DocumentType.TXT
    assert (doc.extension, doc.mime_type) == ("txt", "text/plain")
    assert (doc.storage_key, doc.sha256, doc.size_bytes) == (BLOB.key, BLOB.sha256, 5)
    assert doc.tags == ["Alpha", "beta"]


def test_create_titles_an_untitled_document_after_its_file() -> None:
    assert _doc(title=None, filename="minutes.2026.txt").title == "minutes.2026"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"access_level": 4}, "access_level"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"source": "x" * 501}, "source"),
        ({"department": "bad\x00"}, "department"),
        ({"filename": "../etc.txt"}, "file"),
    ],
)
def test_create_refuses_bad_fields(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _doc(**overrides)
    assert [e.field for e in raised.value.errors] == [field]


# --- change ---------------------------------------------------------------------------------


def test_change_bumps_the_version_and_answers_what_changed() -> None:
    doc = _doc()
    before = _snapshot(doc)
    changed_doc, changed = doc.change(
        DocumentChanges({"title": " New ", "access_level": 2, "source": ""}), T1
    )
    assert changed == {"title": "New", "access_level": AccessLevel.L2}
    assert (changed_doc.version, changed_doc.updated_at) == (2, T1)
    assert (changed_doc.title, changed_doc.access_level) == ("New", AccessLevel.L2)
    assert _snapshot(doc) == before


def test_change_to_the_current_values_is_no_change() -> None:
    doc = _doc()
    changed_doc, changed = doc.change(DocumentChanges({"title": "Report", "source": ""}), T1)
    assert changed == {}
    assert changed_doc is doc
    assert (doc.version, doc.updated_at) == (1, T0)


def test_change_sets_the_category_found_for_its_name_and_clears_it_with_null() -> None:
    category_id = uuid4()
    doc, changed = _doc().change(DocumentChanges({"category": "Law"}), T1, category_id=category_id)
    assert changed == {"category_id": category_id}
    cleared, changed = doc.change(DocumentChanges({"category": None}), T1)
    assert (cleared.category_id, cleared.version, changed) == (None, 3, {"category_id": None})


def test_change_refuses_a_category_name_nothing_was_found_for() -> None:
    with pytest.raises(ValidationFailed, match="no category named 'Law'"):
        _doc().change(DocumentChanges({"category": "Law"}), T1)


@pytest.mark.parametrize("key", ["owner_id", "version", "tags", "content"])
def test_change_refuses_fields_that_cannot_be_changed(key: str) -> None:
    with pytest.raises(ValidationFailed, match=f"{key}: cannot be changed"):
        _doc().change(DocumentChanges({key: "x"}), T1)


def test_change_checks_the_values_in_the_order_sent() -> None:
    changes = DocumentChanges({"category": "Law", "title": ""})
    with pytest.raises(ValidationFailed, match="category"):
        _doc().change(changes, T1)


def test_change_refuses_a_document_in_the_trash() -> None:
    with pytest.raises(Conflict, match="in the trash; restore it first"):
        _trashed().change(DocumentChanges({"title": "New"}), T1)


# --- versions -------------------------------------------------------------------------------


def test_check_version_refuses_any_other_version() -> None:
    doc = _doc()
    doc.check_version(None)
    doc.check_version(1)
    with pytest.raises(PreconditionFailed, match="at version 1, not 2"):
        doc.check_version(2)


def test_check_changeable_refuses_the_trash_before_the_version() -> None:
    with pytest.raises(Conflict):
        _trashed().check_changeable(expected_version=7)
    with pytest.raises(PreconditionFailed):
        _doc().check_changeable(expected_version=7)


# --- trash and restore ----------------------------------------------------------------------


def test_trash_bumps_the_version_and_keeps_the_original_live() -> None:
    doc = _doc()
    before = _snapshot(doc)
    trashed = doc.trash(T1)
    assert (trashed.deleted_at, trashed.version, trashed.updated_at) == (T1, 2, T1)
    assert trashed.in_trash and not doc.in_trash
    assert _snapshot(doc) == before


def test_trashing_a_document_in_the_trash_changes_nothing() -> None:
    trashed = _trashed()
    assert trashed.trash(T1) is trashed


def test_restore_bumps_the_version_and_keeps_the_original_in_the_trash() -> None:
    trashed = _trashed()
    before = _snapshot(trashed)
    restored = trashed.restore(T1)
    assert (restored.deleted_at, restored.version, restored.updated_at) == (None, 3, T1)
    assert _snapshot(trashed) == before


def test_restore_refuses_a_live_document() -> None:
    with pytest.raises(Conflict, match="the document is not in the trash"):
        _doc().restore(T1)


# --- tags -----------------------------------------------------------------------------------


def test_retag_bumps_the_version_and_sorts_the_names() -> None:
    doc = _doc()
    before = _snapshot(doc)
    retagged = doc.retag(["gamma", "Alpha"], T1)
    assert (retagged.tags, retagged.version, retagged.updated_at) == (["Alpha", "gamma"], 2, T1)
    assert _snapshot(doc) == before
    assert doc.tags == ["Alpha", "beta"]


def test_retag_with_the_same_names_in_another_case_changes_nothing() -> None:
    doc = _doc()
    assert doc.retag(["beta", "ALPHA"], T1) is doc
    # Upper case sorts before lower case by code point: the comparison ignores case both ways.
    mixed = doc.retag(["B", "a"], T1)
    assert mixed.retag(["a", "B"], T1) is mixed and mixed.retag(["b", "A"], T1) is mixed


def test_retag_refuses_a_document_in_the_trash() -> None:
    with pytest.raises(Conflict, match="in the trash"):
        _trashed().retag(["x"], T1)


def test_tags_after_replaces_adds_and_removes_without_case() -> None:
    doc = _doc()
    assert doc.tags_after(["x"], "replace") == ["x"]
    assert doc.tags_after(["ALPHA", "x"], "add") == ["Alpha", "beta", "x"]
    assert doc.tags_after(["ALPHA", "y"], "remove") == ["beta"]


def test_tags_after_refuses_removing_a_tag_the_document_does_not_have() -> None:
    with pytest.raises(NotFound, match="tag on document nope"):
        _doc().tags_after(["nope"], "remove")
