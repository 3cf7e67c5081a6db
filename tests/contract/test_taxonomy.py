"""The taxonomy's contract on both storages (acceptance items 1-3 of issue #4), through the
use cases: composite keys, cascades, subtree listing, review, immutability, suggestions."""

from __future__ import annotations

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import RequestContext
from application.document_store import DocumentFields
from application.taxonomy import Classify
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import DocumentType
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.pagination import PageRequest
from domain.taxonomy import TaxonomyNodeNotFound, edit_distance, format_path, nearest_paths
from infrastructure.container import Container
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()


@pytest.fixture
async def world(container: Container) -> tuple[Container, RequestContext, RequestContext]:
    container.clock.override(providers.Object(SteppingClock()))
    admin = await container.users().create(
        SYSTEM, CreateUser(email="a@example.com", name="A", role="admin", access_level=3)
    )
    member = await container.users().create(SYSTEM, CreateUser(email="m@example.com", name="M"))
    admin_ctx, member_ctx = RequestContext(actor=admin), RequestContext(actor=member)
    tax = container.taxonomy()
    await tax.create_version(admin_ctx, "1.0.0")
    for path in ("AI", "AI/RAG", "AI/RAG/Retrieval", "AI/Agents", "Finance", "Finance/Tax"):
        await tax.add_node(admin_ctx, "1.0.0", path)
    await tax.publish(admin_ctx, "1.0.0")
    return container, admin_ctx, member_ctx


async def _doc(c: Container, ctx: RequestContext, title: str, **kw: object) -> object:
    fields = DocumentFields(title=title, **kw)  # type: ignore[arg-type]
    return await c.document_uploads().create_text(ctx, f"text of {title}", DocumentType.TXT, fields)


async def test_the_same_document_in_two_versions_is_two_classifications(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, member = world
    await c.taxonomy().create_version(admin, "2.0.0", copy_from="1.0.0")
    doc = await _doc(c, member, "paper")
    await c.taxonomy().classify(member, doc.id, Classify("AI/RAG", 0.9))  # type: ignore[attr-defined]
    await c.taxonomy().classify(member, doc.id, Classify("AI/RAG", 0.8, version="2.0.0"))  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        await c.taxonomy().classify(member, doc.id, Classify("AI/RAG", 0.5))  # type: ignore[attr-defined]
    got = await c.taxonomy().classifications(member, doc.id)  # type: ignore[attr-defined]
    assert [(x.version, x.path, x.confidence) for x in got] == [
        ("1.0.0", ("AI", "RAG"), 0.9),
        ("2.0.0", ("AI", "RAG"), 0.8),
    ]


async def test_listing_by_taxonomy_includes_the_whole_subtree(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, member = world
    await _doc(c, member, "deep", taxonomy_path="AI/RAG/Retrieval")
    await _doc(c, member, "mid", taxonomy_path="AI/RAG")
    await _doc(c, member, "other", taxonomy_path="AI/Agents")
    await _doc(c, member, "money", taxonomy_path="Finance/Tax")
    await _doc(c, admin, "secret", access_level=3, taxonomy_path="AI/RAG")

    async def titles(ctx: RequestContext, path: str) -> list[str]:
        page = await c.document_reads().list_documents(
            ctx,
            DocumentFilter(taxonomy_path=tuple(path.split("/"))),
            DocumentSort.TITLE,
            PageRequest(),
        )
        return [d.title for d in page.items]

    assert await titles(member, "AI/RAG") == ["deep", "mid"]
    assert await titles(member, "AI") == ["deep", "mid", "other"]
    assert await titles(admin, "AI/RAG") == ["deep", "mid", "secret"]
    assert await titles(member, "Finance") == ["money"]


async def test_purging_a_document_removes_its_classifications(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, member = world
    doc = await _doc(c, member, "gone", taxonomy_path="AI")
    await c.document_lifecycle().purge(member, doc.id)  # type: ignore[attr-defined]
    page = await c.document_reads().list_documents(
        admin, DocumentFilter(taxonomy_path=("AI",)), DocumentSort.CREATED, PageRequest()
    )
    assert page.items == []


async def test_review_queue_and_approval(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, member = world
    mine = await _doc(c, member, "mine")
    hidden = await _doc(c, admin, "hidden", access_level=3)
    first = await c.taxonomy().classify(member, mine.id, Classify("AI", 0.4, hitl_required=True))  # type: ignore[attr-defined]
    await c.taxonomy().classify(admin, hidden.id, Classify("AI", 0.3, hitl_required=True))  # type: ignore[attr-defined]
    queue = await c.taxonomy().review_queue(member, PageRequest())
    assert [(x.doc_id, x.node_id) for x in queue.items] == [(mine.id, first.node_id)]  # type: ignore[attr-defined]
    assert len((await c.taxonomy().review_queue(admin, PageRequest())).items) == 2
    approved = await c.taxonomy().approve(member, mine.id, first.node_id)  # type: ignore[attr-defined]
    assert (approved.hitl_required, approved.reviewed_by) == (False, member.actor_id)
    assert (await c.taxonomy().review_queue(member, PageRequest())).items == []


async def test_published_versions_are_immutable(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, _ = world
    with pytest.raises(Conflict):
        await c.taxonomy().add_node(admin, "1.0.0", "AI/New")
    with pytest.raises(Conflict):
        await c.taxonomy().publish(admin, "1.0.0")


@pytest.mark.parametrize(
    ("path", "version", "confidence", "error"),
    [
        ("", None, 0.5, ValidationFailed),
        ("AI/" + "x" * 101, None, 0.5, ValidationFailed),
        ("AI", None, 1.5, ValidationFailed),
        ("AI", None, float("nan"), ValidationFailed),
        ("AI", "9.9.9", 0.5, NotFound),
        ("AI/Nope", None, 0.5, TaxonomyNodeNotFound),
    ],
)
async def test_bad_classifications_are_refused(
    world: tuple,  # type: ignore[type-arg]
    path: str,
    version: str | None,
    confidence: float,
    error: type[Exception],
) -> None:
    c, _, member = world
    doc = await _doc(c, member, "d")
    with pytest.raises(error):
        await c.taxonomy().classify(member, doc.id, Classify(path, confidence, version))  # type: ignore[attr-defined]


async def test_a_node_needs_its_parent_and_only_admins_add_nodes(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, member = world
    await c.taxonomy().create_version(admin, "2.0.0")
    with pytest.raises(ValidationFailed):
        await c.taxonomy().add_node(admin, "2.0.0", "Missing/Child")
    with pytest.raises(PermissionDenied):
        await c.taxonomy().add_node(member, "2.0.0", "Top")


async def test_an_unknown_path_suggests_the_nearest_existing_ones(world: tuple) -> None:  # type: ignore[type-arg]
    c, _, _ = world
    with pytest.raises(TaxonomyNodeNotFound) as caught:
        await c.taxonomy().resolve("AI/RAGG")
    assert [format_path(p) for p in caught.value.suggestions][:2] == ["AI/RAG", "AI"]
    assert len(caught.value.suggestions) == 5


async def test_an_upload_with_a_bad_taxonomy_path_leaves_nothing(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, member = world
    with pytest.raises(TaxonomyNodeNotFound):
        await _doc(c, member, "bad", taxonomy_path="AI/Nowhere")
    page = await c.document_reads().list_documents(
        admin, DocumentFilter(), DocumentSort.CREATED, PageRequest()
    )
    assert page.items == []
    assert await c.blobs().keys_older_than(-1) == []


labels = st.text(alphabet="abAB", min_size=1, max_size=3)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    wanted=st.lists(labels, min_size=1, max_size=3).map(tuple),
    existing=st.sets(st.lists(labels, min_size=1, max_size=3).map(tuple), max_size=12),
)
def test_suggestions_are_the_five_smallest_edit_distances(
    wanted: tuple[str, ...], existing: set[tuple[str, ...]]
) -> None:
    got = nearest_paths(wanted, existing)
    distances = sorted(edit_distance(format_path(wanted), format_path(p)) for p in existing)
    assert [edit_distance(format_path(wanted), format_path(p)) for p in got] == distances[:5]
