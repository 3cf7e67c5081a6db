"""What the search analysis costs: index size and write time, old vs new (issue #10).

Run by hand from the project root, after preparing the relevance collections
(`bench/relevance_data.py`):

    .venv/bin/python bench/bench_index_cost.py [--data-dir bench/results/relevance-data]
        [--collections cisi,msmarco-ko,kqma] [--repeat 3] [--batch 500]

It starts a throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set: then it creates
and drops its own two tables there) and, per collection, loads every document of
`<data-dir>/<name>/docs.jsonl` ({"id", "title", "content"}) into two tables shaped like the
search part of `documents` (uuid id, title, content, search_vector; `toast_tuple_target` 4080
and the vector `STORAGE MAIN`, as migration 0006 set; a GIN index on the vector, created
before the rows are written, as on `documents`):

  old  the generated column of migrations before 0008:
       setweight(to_tsvector('simple', title), 'A') ||
       setweight(to_tsvector('simple', left(content, 200000)), 'B')
  new  a plain `search_vector tsvector` written from Python with
       `infrastructure.search_index.analysis.document_vector(title, content)`

Rows go in batches (`--batch`, executemany, one transaction per batch); each load is repeated
(`--repeat`, tables dropped and made anew) and the median is kept. Printed per collection:

- sizes after `VACUUM (ANALYZE)` (which also empties GIN's pending list): the table with its
  TOAST (`pg_table_size`), the GIN index, the average stored vector (`pg_column_size`, after
  any compression), and the share of rows over the 4 kB row target before TOAST (24-byte
  header + the columns' uncompressed sizes > 4,080 bytes), of vectors stored compressed
  (pglz keeps a value compressed only when that saves a quarter), of vectors over 4 kB by
  themselves, and of vectors over 8 kB (a STORAGE MAIN value leaves the row for TOAST only
  then: a 4-8 kB vector stays in the row, which then fills a page);
- times: the Python analysis per document (each document's best of `--repeat` passes, stems
  cached: median, p95 and per 1,000 words; and the mean of the first pass, stems' cache cold),
  the INSERT per document for both variants (the batches' time / the rows, median of the
  repeats), the VACUUM that follows, and old vs new in total (new = analysis + INSERT);
- what the vector holds (PostgreSQL's `ts_stat` over the table): distinct lexemes (GIN keys),
  document-lexeme pairs (GIN entries), positions; for the new analyzer the share of `~stem`
  lexemes (English stems) among them, and the Hangul words against the bigram positions they
  become.

The machine's load (`os.getloadavg`) is printed with the times; the raw figures go to
bench/results/index-cost-<stamp>.json (not versioned).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from harness import RESULTS_DIR, make_workdir, plain_dsn, start_database, utc_stamp, write_results
from infrastructure.search_index.analysis import (
    SEARCH_TEXT_CHARS,
    STEM_SIGIL,
    document_vector,
    is_hangul,
    split_words,
)

DEFAULT_DATA_DIR = RESULTS_DIR / "relevance-data"
ROW_TARGET = 4080
# PostgreSQL's TOAST_TUPLE_TARGET_MAIN for 8 kB pages: a STORAGE MAIN value leaves the row only
# when the row is still over this once everything else has gone (heaptoast.c, phase 4).
MAIN_TARGET = 8160
TUPLE_HEADER = 24

OLD_EXPRESSION = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('simple'::regconfig, left(coalesce(content, ''), {SEARCH_TEXT_CHARS}))"
    ", 'B')"
)
VARIANTS = {
    "old": (
        f"search_vector tsvector GENERATED ALWAYS AS ({OLD_EXPRESSION}) STORED",
        "INSERT INTO {t} (id, title, content) VALUES ($1, $2, $3)",
    ),
    "new": (
        "search_vector tsvector",
        "INSERT INTO {t} (id, title, content, search_vector) VALUES ($1, $2, $3, $4::tsvector)",
    ),
}


def read_docs(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


# --- the analysis in Python ---------------------------------------------------------------------


def analysis_figures(docs: list[dict[str, str]], passes: int) -> tuple[list[str], dict[str, Any]]:
    """Every document's vector literal (in order) and what making them cost and held.

    The first pass is timed as a whole (stems' cache cold in this process, as after a
    restart); then each document's time is its best of `passes` passes (stems cached, as in a
    running server), which also keeps other processes' bursts on a shared machine out of the
    median and p95."""
    t0 = time.perf_counter()
    vectors = [document_vector(d["title"], d["content"]) for d in docs]
    cold_us = (time.perf_counter() - t0) * 1e6
    per_doc_us = [float("inf")] * len(docs)
    for _ in range(passes):
        for i, d in enumerate(docs):
            t0 = time.perf_counter()
            document_vector(d["title"], d["content"])
            per_doc_us[i] = min(per_doc_us[i], (time.perf_counter() - t0) * 1e6)
    words = hangul_words = bigram_positions = 0
    for d in docs:
        for w in split_words(d["title"]) + split_words(d["content"][:SEARCH_TEXT_CHARS]):
            words += 1
            if is_hangul(w):
                hangul_words += 1
                bigram_positions += max(1, len(w) - 1)
    return vectors, {
        "documents": len(docs),
        "words": words,
        "analysis_median_us": statistics.median(per_doc_us),
        "analysis_p95_us": percentile(per_doc_us, 0.95),
        "analysis_mean_us": sum(per_doc_us) / len(docs),
        "analysis_us_per_1000_words": sum(per_doc_us) / max(words, 1) * 1000,
        "analysis_cold_mean_us": cold_us / len(docs),
        "hangul_words": hangul_words,
        "hangul_bigram_positions": bigram_positions,
    }


# --- the two tables -----------------------------------------------------------------------------


async def make_table(conn: asyncpg.Connection, table: str, variant: str) -> None:
    column, _ = VARIANTS[variant]
    await conn.execute(f"DROP TABLE IF EXISTS {table}")
    await conn.execute(
        f"CREATE TABLE {table} (id uuid PRIMARY KEY, title text NOT NULL, "
        f"content text NOT NULL, {column})"
    )
    await conn.execute(f"ALTER TABLE {table} SET (toast_tuple_target = {ROW_TARGET})")
    await conn.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE MAIN")
    await conn.execute(f"CREATE INDEX {table}_search ON {table} USING gin (search_vector)")


async def load_table(
    conn: asyncpg.Connection,
    table: str,
    variant: str,
    docs: list[dict[str, str]],
    vectors: list[str],
    batch: int,
) -> dict[str, float]:
    await make_table(conn, table, variant)
    statement = VARIANTS[variant][1].format(t=table)
    insert_s = 0.0
    for start in range(0, len(docs), batch):
        rows: list[tuple[Any, ...]] = []
        for d, v in zip(docs[start : start + batch], vectors[start : start + batch], strict=True):
            row: tuple[Any, ...] = (uuid.uuid4(), d["title"], d["content"])
            rows.append((*row, v) if variant == "new" else row)
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(statement, rows)
        insert_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    await conn.execute(f"VACUUM (ANALYZE) {table}")
    return {"insert_s": insert_s, "vacuum_s": time.perf_counter() - t0}


async def rebuilt_gin_bytes(conn: asyncpg.Connection, table: str) -> int:
    """The GIN index's size when built in one go: without the pages that its pending list
    (GIN's fast update) took while rows came in, which VACUUM frees for reuse but keeps."""
    await conn.execute(f"REINDEX INDEX {table}_search")
    return int(await conn.fetchval(f"SELECT pg_relation_size('{table}_search')"))


async def table_figures(conn: asyncpg.Connection, table: str) -> dict[str, Any]:
    # `search_vector || ''::tsvector` builds a fresh, uncompressed copy of the vector.
    row = await conn.fetchrow(
        f"""
        WITH r AS (
          SELECT pg_column_size(search_vector) AS stored,
                 pg_column_size(search_vector || ''::tsvector) AS raw,
                 pg_column_compression(search_vector) IS NOT NULL AS compressed,
                 {TUPLE_HEADER} + 16 + octet_length(title) + octet_length(content)
                   + pg_column_size(search_vector || ''::tsvector) AS row_raw
          FROM {table})
        SELECT count(*) AS rows,
               avg(stored) AS vector_bytes, avg(raw) AS vector_raw_bytes,
               avg((row_raw > {ROW_TARGET})::int) AS rows_over_target,
               avg(compressed::int) AS vectors_compressed,
               avg((raw > {ROW_TARGET})::int) AS vectors_over_target,
               avg((stored > {MAIN_TARGET})::int) AS vectors_out_of_line,
               pg_table_size('{table}') AS table_bytes,
               pg_relation_size('{table}') AS heap_bytes,
               pg_relation_size('{table}_search') AS gin_bytes
        FROM r
        """
    )
    stat = await conn.fetchrow(
        f"SELECT count(*) AS keys, sum(ndoc) AS entries, sum(nentry) AS positions, "
        f"count(*) FILTER (WHERE word LIKE '{STEM_SIGIL}%') AS stem_keys, "
        f"sum(ndoc) FILTER (WHERE word LIKE '{STEM_SIGIL}%') AS stem_entries "
        f"FROM ts_stat('SELECT search_vector FROM {table}')"
    )
    assert row is not None
    assert stat is not None
    figures = {k: float(v) if v is not None else 0.0 for k, v in dict(row).items()}
    figures.update({k: int(v or 0) for k, v in dict(stat).items()})
    figures["toast_bytes"] = figures["table_bytes"] - figures["heap_bytes"]
    return figures


async def measure(url: str, name: str, docs: list[dict[str, str]], args: Any) -> dict[str, Any]:
    vectors, analysis = analysis_figures(docs, args.repeat)
    conn = await asyncpg.connect(plain_dsn(url))
    out: dict[str, Any] = {"analysis": analysis, "load_before": load_avg()}
    try:
        for variant in ("old", "new"):
            table = f"bench_cost_{variant}"
            runs = [
                await load_table(conn, table, variant, docs, vectors, args.batch)
                for _ in range(args.repeat)
            ]
            figures = await table_figures(conn, table)
            figures["gin_rebuilt_bytes"] = await rebuilt_gin_bytes(conn, table)
            figures["insert_s_runs"] = [round(r["insert_s"], 3) for r in runs]
            figures["insert_s"] = statistics.median(r["insert_s"] for r in runs)
            figures["vacuum_s"] = statistics.median(r["vacuum_s"] for r in runs)
            out[variant] = figures
            await conn.execute(f"DROP TABLE {table}")
    finally:
        await conn.close()
    out["load_after"] = load_avg()
    return out


# --- the report ---------------------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:.2f}"


def report(results: dict[str, Any]) -> str:
    lines = [
        "| collection | docs | variant | table+TOAST MB (TOAST) | GIN MB (rebuilt) | vector B avg "
        "(uncompressed) | rows > 4 kB | vectors compressed | vectors > 4 kB | vectors > 8 kB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        for variant in ("old", "new"):
            f = r[variant]
            lines.append(
                f"| {name} | {r['analysis']['documents']} | {variant} | "
                f"{mb(f['table_bytes'])} ({mb(f['toast_bytes'])}) | "
                f"{mb(f['gin_bytes'])} ({mb(f['gin_rebuilt_bytes'])}) | "
                f"{f['vector_bytes']:.0f} ({f['vector_raw_bytes']:.0f}) | "
                f"{100 * f['rows_over_target']:.1f} % | {100 * f['vectors_compressed']:.1f} % | "
                f"{100 * f['vectors_over_target']:.1f} % | "
                f"{100 * f['vectors_out_of_line']:.1f} % |"
            )
    lines += [
        "",
        "| collection | words/doc | analysis µs/doc median / p95 (first pass mean) | µs per 1,000 "
        "words | INSERT µs/doc old / new | VACUUM ms old / new | total µs/doc old / new | "
        "load |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        a, old, new = r["analysis"], r["old"], r["new"]
        n = a["documents"]
        old_us = old["insert_s"] / n * 1e6
        new_us = new["insert_s"] / n * 1e6
        lines.append(
            f"| {name} | {a['words'] / n:.0f} | {a['analysis_median_us']:.0f} / "
            f"{a['analysis_p95_us']:.0f} ({a['analysis_cold_mean_us']:.0f}) | "
            f"{a['analysis_us_per_1000_words']:.0f} | {old_us:.0f} / {new_us:.0f} | "
            f"{1e3 * old['vacuum_s']:.0f} / {1e3 * new['vacuum_s']:.0f} | "
            f"{old_us:.0f} / {a['analysis_mean_us'] + new_us:.0f} | "
            f"{r['load_before']} → {r['load_after']} |"
        )
    lines += [
        "",
        "| collection | variant | GIN keys | `~stem` keys | doc-lexeme entries | `~stem` entries "
        "| positions | Hangul words → bigram positions |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        a = r["analysis"]
        for variant in ("old", "new"):
            f = r[variant]
            stems = (
                f"{f['stem_keys']} ({100 * f['stem_keys'] / max(f['keys'], 1):.0f} %)"
                if variant == "new"
                else "-"
            )
            stem_entries = (
                f"{f['stem_entries']} ({100 * f['stem_entries'] / max(f['entries'], 1):.0f} %)"
                if variant == "new"
                else "-"
            )
            hangul = (
                f"{a['hangul_words']} → {a['hangul_bigram_positions']} "
                f"(x{a['hangul_bigram_positions'] / max(a['hangul_words'], 1):.2f})"
                if variant == "new"
                else f"{a['hangul_words']} words"
            )
            lines.append(
                f"| {name} | {variant} | {f['keys']} | {stems} | {f['entries']} | "
                f"{stem_entries} | {f['positions']} | {hangul} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--collections", default="cisi,msmarco-ko,kqma")
    parser.add_argument("--repeat", type=int, default=3, help="loads per variant (median kept)")
    parser.add_argument("--batch", type=int, default=500, help="rows per executemany")
    args = parser.parse_args()

    names = args.collections.split(",")
    missing = [n for n in names if not (args.data_dir / n / "docs.jsonl").exists()]
    if missing:
        print(f"missing {missing} in {args.data_dir}: run bench/relevance_data.py", file=sys.stderr)
        return 2
    workdir = make_workdir("archivist-index-cost-")
    url = start_database(workdir / "pgdata", pin=False)
    results: dict[str, Any] = {}
    for name in names:
        docs = read_docs(args.data_dir / name / "docs.jsonl")
        print(f"{name}: {len(docs)} documents (load {load_avg()})", flush=True)
        results[name] = asyncio.run(measure(url, name, docs, args))
    print()
    print(report(results))
    stamp = utc_stamp()
    write_results(
        "index-cost", {"date": stamp, "args": vars(args), "results": results}, stamp=stamp
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
