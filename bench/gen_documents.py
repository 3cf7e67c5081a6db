"""Fill a migrated Archivist database with a synthetic corpus, for the document, search and
taxonomy benchmarks (issues #3 and #4).

Run by hand from the project root:

    .venv/bin/python bench/gen_documents.py --database-url postgresql://... [-n 100000]

(or set DATABASE_URL / BENCH_DATABASE_URL). Everything goes in with COPY on one plain asyncpg
connection, in one transaction: never the ORM or the unit of work. Each document's
`search_vector` is what the application writes (`infrastructure.search_index.analysis.
document_vector(title, content)`, its text form), computed in worker processes (one per CPU,
~1.7 ms a document) and sent with the documents in COPY's text format (asyncpg's binary COPY
has no tsvector encoder; the text form is what `::tsvector` reads). What it writes:

- 20 users (`…@gen.bench.example`): one admin, one guest, the rest members at levels 1-3 in
  the four departments (None, Engineering, Sales, Management). `reader@gen.bench.example` is
  the level-1 Engineering member the benchmarks read as; it holds 300 read grants (plus any
  from the random ones) on documents its clearance alone would not show it.
- 10 categories, 50 tags (Zipf-ish popularity; each document has 0-4).
- N documents of ~200 words (150-250) drawn from a 20,000-word vocabulary with Zipf
  frequencies (s≈1.05): a few dozen very common English words, then synthetic words, with
  ~60 Korean words placed at common, mid and rare ranks. Access levels 1-3 (60/25/15 %),
  departments None/Engineering/Sales/Management (40/25/20/15 %), 90 % in a category,
  owners among the 20 users, created_at spread over the last year, 1 % in the trash,
  30 % with JSON metadata. sha256 is that of the text (every document is distinct).
- ~2 % of documents with a grant (read/write/delete) to some other user.
- A taxonomy of 10,000 nodes: 1.0.0 (published a year ago, 2,500 nodes), 2.0.0 (published
  three months ago: 1.0.0's tree plus 1,000 nodes), 3.0.0 (draft: 2.0.0's plus 500). Trees
  are 3-5 levels deep, with subtrees of very different sizes.
- ~1 classification per document in 2.0.0, the latest published version (95 % one node,
  3 % two, 2 % none; 5 % waiting for review).

It refuses to run on a database that already holds documents, tags, categories or taxonomy
versions unless `--force`, which first removes them (and the generated users) with TRUNCATE.
Deterministic for a given `--seed`. Prints how long each part took.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import asyncpg

from harness import plain_dsn
from infrastructure.search_index.analysis import document_vector

GEN_DOMAIN = "gen.bench.example"
READER_EMAIL = f"reader@{GEN_DOMAIN}"
DEPARTMENTS: tuple[str | None, ...] = (None, "Engineering", "Sales", "Management")
DEPARTMENT_WEIGHTS = (40, 25, 20, 15)
LEVEL_WEIGHTS = (60, 25, 15)
VOCABULARY_SIZE = 20_000


def _words(text: str) -> list[str]:
    return text.split()


ZIPF_S = 1.05

COMMON_WORDS = _words(
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when "
    "project report data system team review plan meeting customer budget"
)

# Placed at common, mid and rare ranks of the vocabulary, so searches can pick Korean terms
# of any frequency.
KOREAN_WORDS = _words(
    "문서 보고서 계약 회의 예산 프로젝트 개발 영업 관리 고객 품질 일정 분석 데이터 보안 정책 "
    "인사 재무 회계 마케팅 제품 서비스 시스템 서버 네트워크 검토 승인 요청 변경 결과 계획 목표 "
    "성과 평가 교육 연구 설계 테스트 배포 운영 장애 지원 문의 협력 전략 시장 경쟁 매출 비용 투자 "
    "위험 규정 감사 법무 특허 기술 혁신 디자인 사용자 인터페이스 아키텍처"
)

CATEGORY_NAMES = (
    "Contracts",
    "Reports",
    "Specifications",
    "Meeting notes",
    "Policies",
    "Invoices",
    "Research",
    "Manuals",
    "Presentations",
    "보고서",
)

TAXONOMY_TOP = (
    "Engineering",
    "Finance",
    "Legal",
    "Sales",
    "Marketing",
    "Operations",
    "HR",
    "Research",
    "Product",
    "Security",
    "연구개발",
    "경영지원",
)

FILE_KINDS = (  # document_type, extension, mime type, weight
    ("TXT", "txt", "text/plain", 50),
    ("MARKDOWN", "md", "text/markdown", 20),
    ("PDF", "pdf", "application/pdf", 20),
    (
        "DOCX",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        10,
    ),
)

_SYLLABLES = _words(
    "ka ko ra ri ne no ta to mi mo sa se li lu va vo de da fa fi ga gu ha he ja jo "
    "ba be ki ku pa po qu re ro si so te ti ul an en in on ar er or al el il"
)


# --- vocabulary and text ------------------------------------------------------------------------


def build_vocabulary(rng: random.Random, size: int = VOCABULARY_SIZE) -> list[str]:
    """`size` distinct words, most frequent first: common English words, then synthetic
    words, with the Korean words spread over common, mid and rare ranks."""
    words: list[str] = list(COMMON_WORDS)
    seen = set(words) | set(KOREAN_WORDS)
    while len(words) < size - len(KOREAN_WORDS):
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    # Ranks for the Korean words: 10 common (rank 60-300), 20 mid (1k-4k), the rest rare.
    korean = list(KOREAN_WORDS)
    rng.shuffle(korean)
    ranks = (
        [rng.randint(60, 300) for _ in range(10)]
        + [rng.randint(1_000, 4_000) for _ in range(20)]
        + [rng.randint(8_000, size - 1) for _ in range(len(korean) - 30)]
    )
    for word, rank in sorted(zip(korean, ranks, strict=True), key=lambda wr: wr[1]):
        words.insert(rank, word)
    return words


def zipf_cum_weights(n: int, s: float = ZIPF_S) -> list[float]:
    return list(accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


@dataclass
class Corpus:
    rng: random.Random
    words: list[str]
    cum: list[float]
    # middle of the distribution, for titles
    title_words: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, rng: random.Random) -> Corpus:
        words = build_vocabulary(rng)
        return cls(rng, words, zipf_cum_weights(len(words)), words[200:5_000])

    def text(self) -> str:
        n = self.rng.randint(150, 250)
        picked = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        # sentences of ~12 words
        out: list[str] = []
        for i in range(0, n, 12):
            sentence = " ".join(picked[i : i + 12])
            out.append(sentence[:1].upper() + sentence[1:] + ".")
        return " ".join(out)

    def title(self) -> str:
        words = self.rng.sample(self.title_words, self.rng.randint(3, 7))
        return " ".join(words).capitalize()


# --- taxonomy -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    node_id: uuid.UUID
    path: tuple[str, ...]
    parent_id: uuid.UUID | None


def _label(rng: random.Random, corpus_words: Sequence[str], taken: set[str]) -> str:
    while True:
        label = rng.choice(corpus_words).capitalize()
        if rng.random() < 0.3:
            label = f"{label} {rng.choice(corpus_words)}"
        if label not in taken:
            taken.add(label)
            return label


def grow_tree(
    rng: random.Random,
    labels: Sequence[str],
    base: Sequence[tuple[str, ...]],
    target: int,
) -> list[tuple[str, ...]]:
    """Paths of a tree of `target` nodes that contains every path of `base` (parents first).

    Each top-level tree gets a maximum depth of 3, 4 or 5 and grows by attaching children to
    random eligible nodes (preferential to where nodes already are), so subtree sizes vary a
    lot. Sibling labels are distinct."""
    paths: list[tuple[str, ...]] = list(base)
    children: dict[tuple[str, ...], set[str]] = {(): set()}
    for p in paths:
        children.setdefault(p[:-1], set()).add(p[-1])
        children.setdefault(p, set())
    max_depth: dict[str, int] = {}
    for top in TAXONOMY_TOP:
        max_depth[top] = rng.choice((3, 4, 4, 5, 5))
        if (top,) not in children:
            paths.append((top,))
            children[()].add(top)
            children[(top,)] = set()
    # Every top-level tree reaches its depth at least once.
    for top in TAXONOMY_TOP:
        node: tuple[str, ...] = (top,)
        while len(node) < max_depth[top]:
            existing = sorted(children[node])
            if existing:
                node = (*node, existing[0])
                continue
            label = _label(rng, labels, children[node])
            node = (*node, label)
            paths.append(node)
            children[node] = set()
    eligible = [p for p in paths if len(p) < max_depth[p[0]]]
    while len(paths) < target:
        parent = rng.choice(eligible)
        label = _label(rng, labels, children[parent])
        child = (*parent, label)
        paths.append(child)
        children[child] = set()
        if len(child) < max_depth[child[0]]:
            eligible.append(child)
        if len(parent) <= 2:  # broad upper levels: give them a second chance to be picked
            eligible.append(parent)
    paths.sort(key=len)  # parents first
    return paths


def taxonomy_versions(rng: random.Random, labels: Sequence[str]) -> dict[str, list[Node]]:
    """1.0.0 (2,500 nodes), 2.0.0 (1.0.0 + 1,000), 3.0.0 (2.0.0 + 500): 10,000 nodes."""
    v1 = grow_tree(rng, labels, [], 2_500)
    v2 = grow_tree(rng, labels, v1, 3_500)
    v3 = grow_tree(rng, labels, v2, 4_000)
    out: dict[str, list[Node]] = {}
    for version, paths in (("1.0.0", v1), ("2.0.0", v2), ("3.0.0", v3)):
        ids: dict[tuple[str, ...], uuid.UUID] = {}
        nodes = []
        for p in paths:
            ids[p] = uuid.UUID(int=rng.getrandbits(128), version=4)
            nodes.append(Node(ids[p], p, ids[p[:-1]] if len(p) > 1 else None))
        out[version] = nodes
    return out


# --- the generator ------------------------------------------------------------------------------


@dataclass
class Generated:
    documents: int
    document_tags: int
    permissions: int
    reader_grants: int
    nodes: int
    classifications: int
    seconds: dict[str, float]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _users(rng: random.Random, now: datetime) -> list[tuple[Any, ...]]:
    rows = []
    specs: list[tuple[str, str | None, int, str]] = [
        (f"admin@{GEN_DOMAIN}", "Management", 3, "admin"),
        (READER_EMAIL, "Engineering", 1, "member"),
        (f"guest@{GEN_DOMAIN}", None, 1, "guest"),
    ]
    for i in range(17):
        department = rng.choices(DEPARTMENTS, weights=DEPARTMENT_WEIGHTS)[0]
        level = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
        specs.append((f"user{i:02d}@{GEN_DOMAIN}", department, level, "member"))
    for email, department, level, role in specs:
        created = now - timedelta(days=400)
        name = email.split("@")[0].capitalize()
        rows.append((_uuid(rng), email, name, department, level, role, True, created, created))
    return rows


async def _not_empty(conn: asyncpg.Connection) -> list[str]:
    found = []
    for table in ("documents", "tags", "categories", "taxonomy_versions"):
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            found.append(table)
    return found


async def _copy(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=list(columns))


def _text_field(value: Any) -> str:
    """A value in COPY's text format (`\\N` for NULL; backslash, tab and line ends escaped)."""
    if value is None:
        return "\\N"
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


async def _copy_text(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """COPY in the text format: for columns asyncpg cannot encode in binary (tsvector)."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(rows), 1000):
            lines = (
                "\t".join(_text_field(v) for v in row) + "\n" for row in rows[start : start + 1000]
            )
            yield "".join(lines).encode()

    await conn.copy_to_table(table, source=chunks(), columns=list(columns), format="text")


def _vector(title_and_content: tuple[str, str]) -> str:
    return document_vector(*title_and_content)


def _all_cpus() -> None:
    if hasattr(os, "sched_setaffinity"):  # a benchmark may have pinned its runner to one CPU
        os.sched_setaffinity(0, range(os.cpu_count() or 1))


def search_vectors(texts: Sequence[tuple[str, str]]) -> list[str]:
    """`document_vector(title, content)` of each, in worker processes (one per CPU)."""
    workers = os.cpu_count() or 1
    if workers < 2 or len(texts) < 2_000:
        return [_vector(t) for t in texts]
    with ProcessPoolExecutor(workers, initializer=_all_cpus) as pool:
        return list(pool.map(_vector, texts, chunksize=500))


async def generate(
    url: str, n_documents: int = 100_000, *, force: bool = False, seed: int = 20261122
) -> Generated:
    """Fill the database at `url`; see the module docstring."""
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        if not await conn.fetchval("SELECT to_regclass('public.documents') IS NOT NULL"):
            raise SystemExit("the database is not migrated: run `archivist migrate` first")
        busy = await _not_empty(conn)
        if busy and not force:
            raise SystemExit(
                f"the database already holds rows in {', '.join(busy)}: pass --force to "
                "replace them (TRUNCATE of the document and taxonomy tables)"
            )
        started = time.perf_counter()
        now = datetime.now(UTC).replace(microsecond=0)
        corpus = Corpus.build(rng)
        users = _users(rng, now)
        user_ids = [u[0] for u in users]
        admin_id = user_ids[0]
        reader_id = user_ids[1]
        categories = [
            (_uuid(rng), name, f"{name} (generated)", True, now - timedelta(days=400))
            for name in CATEGORY_NAMES
        ]
        tag_names: list[str] = []
        while len(tag_names) < 50:
            name = rng.choice(corpus.title_words)
            if name.lower() not in {t.lower() for t in tag_names}:
                tag_names.append(name)
        tags = [
            (_uuid(rng), name, f"#{rng.getrandbits(24):06x}", "", True, now - timedelta(days=400))
            for name in tag_names
        ]
        tag_cum = zipf_cum_weights(len(tags), 0.8)
        kinds = [k[:3] for k in FILE_KINDS]
        kind_weights = [k[3] for k in FILE_KINDS]

        docs: list[tuple[Any, ...]] = []
        doc_tags: list[tuple[Any, ...]] = []
        doc_meta: list[tuple[uuid.UUID, int, str | None, uuid.UUID]] = []
        year = timedelta(days=365).total_seconds()
        for i in range(n_documents):
            doc_id = _uuid(rng)
            content = corpus.text()
            data = content.encode()
            sha = hashlib.sha256(data).hexdigest()
            kind, ext, mime = rng.choices(kinds, weights=kind_weights)[0]
            level = rng.choices((1, 2, 3), weights=LEVEL_WEIGHTS)[0]
            department = rng.choices(DEPARTMENTS, weights=DEPARTMENT_WEIGHTS)[0]
            owner = rng.choice(user_ids[:2] + user_ids[3:])  # not the guest
            category = rng.choice(categories)[0] if rng.random() < 0.9 else None
            created = now - timedelta(seconds=rng.random() * year)
            deleted = created + timedelta(days=rng.random() * 10) if rng.random() < 0.01 else None
            metadata = (
                json.dumps({"project": f"P-{rng.randint(1, 200):03d}", "seq": i})
                if rng.random() < 0.3
                else None
            )
            title = corpus.title()
            docs.append(
                (
                    doc_id,
                    title,
                    content,
                    kind,
                    "generated" if rng.random() < 0.5 else "",
                    level,
                    department,
                    metadata,
                    owner,
                    category,
                    f"{title[:60].replace(' ', '_').replace('/', '_')}.{ext}",
                    ext,
                    mime,
                    len(data),
                    sha,
                    f"{sha[:2]}/{sha[2:4]}/{sha}",
                    None,
                    1,
                    deleted,
                    created,
                    created,
                )
            )
            n_tags = rng.choices((0, 1, 2, 3, 4), weights=(15, 35, 25, 15, 10))[0]
            chosen = {rng.choices(range(len(tags)), cum_weights=tag_cum)[0] for _ in range(n_tags)}
            for ti in chosen:
                doc_tags.append((doc_id, tags[ti][0], created))
            doc_meta.append((doc_id, level, department, owner))
        seconds["generate rows in Python"] = time.perf_counter() - started
        t0 = time.perf_counter()
        vectors = search_vectors([(row[1], row[2]) for row in docs])
        docs = [(*row, vector) for row, vector in zip(docs, vectors, strict=True)]
        seconds["search vectors (document_vector)"] = time.perf_counter() - t0

        # Grants: ~2 % of documents to some user; the reader gets ~300 on documents its
        # clearance alone does not show it (level above 1, or another department).
        perms: list[tuple[Any, ...]] = []
        granted: set[tuple[uuid.UUID, uuid.UUID]] = set()
        hidden = [m[0] for m in doc_meta if m[1] > 1 or m[2] not in (None, "Engineering")]
        for doc_id in rng.sample(hidden, min(300, len(hidden))):
            granted.add((reader_id, doc_id))
            perms.append((_uuid(rng), reader_id, doc_id, "read", admin_id, now))
        for doc_id, _, _, owner in rng.sample(doc_meta, n_documents // 50):
            user = rng.choice(user_ids)
            if user == owner or (user, doc_id) in granted:
                continue
            granted.add((user, doc_id))
            access = rng.choices(("read", "write", "delete"), weights=(70, 25, 5))[0]
            perms.append((_uuid(rng), user, doc_id, access, admin_id, now))

        t0 = time.perf_counter()
        trees = taxonomy_versions(rng, corpus.title_words)
        seconds["generate taxonomy"] = time.perf_counter() - t0
        published = {"1.0.0": now - timedelta(days=365), "2.0.0": now - timedelta(days=90)}
        versions = [
            (v, "published" if v in published else "draft", now - timedelta(days=400), at)
            for v, at in (
                ("1.0.0", published["1.0.0"]),
                ("2.0.0", published["2.0.0"]),
                ("3.0.0", None),
            )
        ]
        node_rows = [
            (node.node_id, version, node.path[-1], list(node.path), node.parent_id, now)
            for version, nodes in trees.items()
            for node in nodes
        ]
        latest = trees["2.0.0"]
        node_cum = zipf_cum_weights(len(latest), 0.6)
        order = list(range(len(latest)))
        rng.shuffle(order)  # popularity unrelated to depth
        classified: list[tuple[Any, ...]] = []
        for doc_id, *_ in doc_meta:
            roll = rng.random()
            k = 0 if roll < 0.02 else (2 if roll > 0.97 else 1)
            picks = {rng.choices(order, cum_weights=node_cum)[0] for _ in range(k)}
            for pi in picks:
                node = latest[pi]
                classified.append(
                    (
                        doc_id,
                        node.node_id,
                        "2.0.0",
                        list(node.path),
                        round(rng.uniform(0.5, 1.0), 3),
                        rng.random() < 0.05,
                        None,
                        None,
                        now,
                    )
                )

        t0 = time.perf_counter()
        async with conn.transaction():
            if force:
                await conn.execute(
                    "TRUNCATE documents, document_tags, permissions, doc_taxonomy, "
                    "taxonomy_nodes, taxonomy_versions, tags, categories CASCADE"
                )
                await conn.execute("DELETE FROM users WHERE email LIKE $1", f"%@{GEN_DOMAIN}")
            await _copy(
                conn,
                "users",
                (
                    "id",
                    "email",
                    "name",
                    "department",
                    "access_level",
                    "role",
                    "is_active",
                    "created_at",
                    "updated_at",
                ),
                users,
            )
            await _copy(
                conn,
                "categories",
                ("id", "name", "description", "is_active", "created_at"),
                categories,
            )
            await _copy(
                conn,
                "tags",
                ("id", "name", "color", "description", "is_active", "created_at"),
                tags,
            )
            t1 = time.perf_counter()
            await _copy_text(conn, "documents", (*DOCUMENT_COLUMNS, "search_vector"), docs)
            seconds["COPY documents"] = time.perf_counter() - t1
            t1 = time.perf_counter()
            await _copy(conn, "document_tags", ("document_id", "tag_id", "created_at"), doc_tags)
            await _copy(
                conn,
                "permissions",
                ("id", "user_id", "document_id", "access", "granted_by", "granted_at"),
                perms,
            )
            await _copy(
                conn,
                "taxonomy_versions",
                ("version", "status", "created_at", "published_at"),
                versions,
            )
            await _copy(
                conn,
                "taxonomy_nodes",
                ("node_id", "version", "label", "canonical_path", "parent_id", "created_at"),
                node_rows,
            )
            await _copy(
                conn,
                "doc_taxonomy",
                (
                    "doc_id",
                    "node_id",
                    "version",
                    "path",
                    "confidence",
                    "hitl_required",
                    "reviewed_by",
                    "reviewed_at",
                    "created_at",
                ),
                classified,
            )
            seconds["COPY tags, grants, taxonomy, classifications"] = time.perf_counter() - t1
        seconds["COPY total (one transaction)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await conn.execute("ANALYZE")
        seconds["ANALYZE"] = time.perf_counter() - t0
        seconds["total"] = time.perf_counter() - started
    finally:
        await conn.close()
    return Generated(
        documents=len(docs),
        document_tags=len(doc_tags),
        permissions=len(perms),
        reader_grants=sum(1 for p in perms if p[1] == reader_id),
        nodes=len(node_rows),
        classifications=len(classified),
        seconds=seconds,
    )


DOCUMENT_COLUMNS = (
    "id",
    "title",
    "content",
    "document_type",
    "source",
    "access_level",
    "department",
    "metadata",
    "owner_id",
    "category_id",
    "original_filename",
    "extension",
    "mime_type",
    "size_bytes",
    "sha256",
    "storage_key",
    "thumbnail_key",
    "version",
    "deleted_at",
    "created_at",
    "updated_at",
)


def print_report(result: Generated) -> None:
    print(
        f"generated {result.documents:,} documents, {result.document_tags:,} document tags, "
        f"{result.permissions:,} grants ({result.reader_grants} to {READER_EMAIL}), "
        f"{result.nodes:,} taxonomy nodes, {result.classifications:,} classifications"
    )
    for name, value in result.seconds.items():
        print(f"  {name:<48} {value:8.1f} s")
    if result.documents:
        rate = result.documents / result.seconds["total"]
        print(f"  {'documents per second, end to end':<48} {rate:8,.0f}")


def iter_terms(seed: int = 20261122) -> Iterator[tuple[int, str]]:
    """(rank, word) of the vocabulary the generator uses with `seed` (for search benchmarks)."""
    yield from enumerate(build_vocabulary(random.Random(seed)), start=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL"),
        help="default: $BENCH_DATABASE_URL, else $DATABASE_URL",
    )
    parser.add_argument("-n", "--documents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--force", action="store_true", help="replace existing documents")
    args = parser.parse_args()
    if not args.database_url:
        print("give --database-url (or set BENCH_DATABASE_URL)", file=sys.stderr)
        return 2
    result = asyncio.run(
        generate(args.database_url, args.documents, force=args.force, seed=args.seed)
    )
    print_report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
