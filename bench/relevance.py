"""Search relevance through HTTP against a BM25 baseline (issue #10, "Must show" item 1).

Run by hand from the project root, after preparing the data (`bench/relevance_data.py`, whose
docstring names each collection's public repository, file and licence):

    .venv/bin/python bench/relevance.py [--data-dir bench/results/relevance-data]
        [--collections cisi,kqma,msmarco-ko] [--max-queries N] [--connections 4]
        [--baselines-only]

Nothing is downloaded: every collection present in the data directory (git-ignored) is used.
For each collection the runner starts a throwaway embedded PostgreSQL of its own, migrates it,
creates an admin and its token with the application (as `bench_me.py`), starts Archivist under
uvicorn exactly as `archivist serve` builds it (`archivist_me_app`), uploads every document
through `POST /api/v1/documents/text` (title + content, TXT, a bounded number of concurrent
connections), then runs every judged query through `POST /api/v1/search` (limit 10) and maps
the hits' document_ids back to the collection's ids. Queries longer than the API's 1,000
characters are cut at the last space before it (the same text goes to the baselines).

In the same run, BM25 baselines (rank_bm25's BM25Okapi, k1 1.5, b 0.75, over title + content;
a document is a hit when its score is > 0) with the same tokenisation as named:
  words     lower-cased \\w+ runs (every language)
  stems     English: the words' Snowball (english) stems
  bigrams   Korean: the words, with each Hangul run replaced by its character bigrams (a
            one-syllable run by itself)
  archivist Archivist's own analyzer (issue #10): each word as written plus its `~stem`
            where that differs, Hangul words as bigrams: the same lexemes the index holds
  morphemes Korean, only when kiwipiepy is installed: Kiwi's morphemes (`Kiwi().tokenize`,
            default model) whose tag is a content tag (MORPHEME_TAGS: common and proper
            nouns, numerals, roots, verb and adjective stems, foreign words, Hanja, numbers,
            and URLs, e-mails, hashtags...), lower-cased and cut into \\w+ words (a Latin
            word stays a word); particles, endings, suffixes, bound nouns, pronouns,
            adverbs and punctuation are dropped. Kiwi's one-time load (seconds and memory)
            and its install size are printed with each Korean collection

With `--baselines-only` Archivist is not started: only the BM25 baselines run. Each baseline's
tokenisation speed (µs per document and per 1,000 characters, the documents tokenised once
while the BM25 index is built) goes to the JSON with the measures.

Prepared so far (docs/benchmarks.md, "Search relevance before issue #10"): `cisi` (English,
binary judgements), `msmarco-ko` (Korean questions and passages) and `kqma` (Korean QA, a
secondary set). Never Cranfield or the KorQuAD 1.0 dev set: both are held out for verification.

Printed per collection and system: nDCG@10 (gain = the judgement's grade, ideal from all
judged documents), recall@10, MRR@10 and the share of queries with no result; the JSON goes to
bench/results/relevance-<stamp>.json.

Bench-only dependencies (pyproject's `bench` extra):
`.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import snowballstemmer
from rank_bm25 import BM25Okapi

from infrastructure.search_index.analysis import split_words, word_tokens
from infrastructure.sqlalchemy.embedded import start_embedded
from infrastructure.sqlalchemy.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import child_env, create_admin_token, rss_kib, serve, utc_stamp, write_results
from relevance_data import DEFAULT_DATA_DIR

K = 10
QUERY_MAX = 1000
_WORD = re.compile(r"\w+")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- the collections ----------------------------------------------------------------------------


@dataclass
class Collection:
    name: str
    language: str
    source: dict[str, Any]
    docs: list[dict[str, str]]
    queries: list[dict[str, str]]
    qrels: dict[str, dict[str, int]]  # query id -> document id -> grade


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load(directory: Path) -> Collection:
    qrels: dict[str, dict[str, int]] = {}
    for line in (directory / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        qid, did, grade = line.split("\t")
        if int(grade) > 0:
            qrels.setdefault(qid, {})[did] = int(grade)
    source = json.loads((directory / "source.json").read_text(encoding="utf-8"))
    queries = [q for q in read_jsonl(directory / "queries.jsonl") if q["id"] in qrels]
    return Collection(
        directory.name,
        source.get("language", "en"),
        source,
        read_jsonl(directory / "docs.jsonl"),
        queries,
        qrels,
    )


def cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= QUERY_MAX:
        return text
    return text[:QUERY_MAX].rsplit(" ", 1)[0]


# --- tokenisation and the baselines -------------------------------------------------------------


_STEMMER = snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def stems(text: str) -> list[str]:
    return list(_STEMMER.stemWords(words(text)))


def hangul_bigrams(text: str) -> list[str]:
    out: list[str] = []
    for word in words(text):
        runs = _HANGUL_RUN.findall(word)
        if not runs:
            out.append(word)
            continue
        rest = _HANGUL_RUN.sub(" ", word).split()
        out.extend(rest)
        for run in runs:
            out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return out


def archivist_lexemes(text: str) -> list[str]:
    """Archivist's own tokenisation (infrastructure.search_index.analysis): each word as
    written plus its `~stem` where that differs; Hangul words as bigrams."""
    return [lex for word in split_words(text) for tok in word_tokens(word) for lex in tok.lexemes]


TOKENISERS = {
    "words": words,
    "stems": stems,
    "bigrams": hangul_bigrams,
    "archivist": archivist_lexemes,
}

# Kiwi's part-of-speech tags (Sejong tag set; a `-R`/`-I` suffix, regular or irregular
# conjugation, is ignored) whose morphemes the `morphemes` baseline keeps: the content
# morphemes. W_* (URL, e-mail, hashtag, mention, serial) are kept as well.
MORPHEME_TAGS = frozenset(["NNG", "NNP", "NR", "XR", "VV", "VA", "SL", "SH", "SN"])


@functools.cache
def kiwi() -> Any:
    """Kiwi, loaded once (the model loads on the first analysis: done here, timed)."""
    from kiwipiepy import Kiwi

    before = _rss_mb()
    t0 = time.perf_counter()
    analyzer = Kiwi()
    analyzer.tokenize("준비")
    KIWI_INFO["load_s"] = round(time.perf_counter() - t0, 2)
    KIWI_INFO["rss_added_mb"] = round(_rss_mb() - before)
    return analyzer


def _rss_mb() -> float:
    return rss_kib(os.getpid()) / 1024


def _installed_mb(*distributions: str) -> float:
    total = 0
    for name in distributions:
        for file in importlib.metadata.files(name) or []:
            path = Path(str(file.locate()))
            total += path.stat().st_size if path.is_file() else 0
    return round(total / 1024 / 1024, 1)


def morphemes(text: str) -> list[str]:
    out: list[str] = []
    for token in kiwi().tokenize(text):
        tag = token.tag.split("-")[0]
        if tag in MORPHEME_TAGS or tag.startswith("W_"):
            out.extend(_WORD.findall(token.form.lower()))
    return out


KIWI_INFO: dict[str, Any] = {}
if importlib.util.find_spec("kiwipiepy") is not None:
    TOKENISERS["morphemes"] = morphemes
    KIWI_INFO["version"] = importlib.metadata.version("kiwipiepy")
    # The library, its model package and what they alone bring (numpy is rank_bm25's too).
    KIWI_INFO["installed_mb"] = _installed_mb("kiwipiepy", "kiwipiepy_model")


def baselines_for(language: str) -> list[str]:
    if language == "en":
        return ["words", "stems", "archivist"]
    return ["words", "bigrams", "archivist"] + (["morphemes"] if "morphemes" in TOKENISERS else [])


def bm25_run(
    col: Collection, tokeniser: str, speed: dict[str, float] | None = None
) -> dict[str, list[str]]:
    """The baseline's top K per query; `speed`, when given, gets the documents' tokenisation
    time (µs per document and per 1,000 characters)."""
    tok = TOKENISERS[tokeniser]
    ids = [d["id"] for d in col.docs]
    texts = [f"{d['title']} {d['content']}" for d in col.docs]
    t0 = time.perf_counter()
    corpus = [tok(text) or ["\x00"] for text in texts]
    elapsed_us = (time.perf_counter() - t0) * 1e6
    if speed is not None:
        speed["us_per_doc"] = round(elapsed_us / max(len(texts), 1), 1)
        speed["us_per_1000_chars"] = round(elapsed_us / max(sum(map(len, texts)), 1) * 1000, 1)
    bm25 = BM25Okapi(corpus)
    run: dict[str, list[str]] = {}
    for q in col.queries:
        scores = bm25.get_scores(tok(cut(q["text"])))
        order = sorted((i for i in range(len(ids)) if scores[i] > 0), key=lambda i: -scores[i])
        run[q["id"]] = [ids[i] for i in order[:K]]
    return run


# --- measures -----------------------------------------------------------------------------------


def measures(col: Collection, run: dict[str, list[str]]) -> dict[str, float]:
    ndcg = recall = mrr = empty = 0.0
    for q in col.queries:
        judged = col.qrels[q["id"]]
        hits = run.get(q["id"], [])[:K]
        dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(hits))
        ideal = sorted(judged.values(), reverse=True)[:K]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcg += dcg / idcg if idcg else 0.0
        recall += sum(1 for d in hits if d in judged) / len(judged)
        first = next((i for i, d in enumerate(hits) if d in judged), None)
        mrr += 1.0 / (first + 1) if first is not None else 0.0
        empty += 0 if hits else 1
    n = len(col.queries) or 1
    return {
        "ndcg@10": ndcg / n,
        "recall@10": recall / n,
        "mrr@10": mrr / n,
        "no_result": empty / n,
        "queries": len(col.queries),
    }


# --- Archivist through HTTP ---------------------------------------------------------------------


async def upload_all(
    port: int, secret: str, docs: list[dict[str, str]], connections: int
) -> dict[str, str]:
    """Upload every document; returns Archivist's document id -> the collection's id."""
    mapping: dict[str, str] = {}
    queue = iter(docs)
    failures: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        for doc in queue:
            body = {
                "title": _CONTROL.sub(" ", doc["title"]).strip() or doc["id"],
                "content": doc["content"],
                "document_type": "TXT",
                "on_duplicate": "allow",  # collections hold a few identical texts
            }
            for attempt in range(3):
                response = await client.post("/api/v1/documents/text", json=body)
                if response.status_code == 201:
                    mapping[str(response.json()["id"])] = doc["id"]
                    break
                if attempt == 2:
                    failures.append(f"{doc['id']}: {response.status_code} {response.text[:200]}")
                await asyncio.sleep(0.5)

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {secret}"},
        limits=limits,
        timeout=120,
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    if failures:
        raise RuntimeError(f"{len(failures)} uploads failed, e.g. {failures[:3]}")
    return mapping


async def search_all(
    port: int, secret: str, col: Collection, mapping: dict[str, str]
) -> tuple[dict[str, list[str]], list[float]]:
    run: dict[str, list[str]] = {}
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=120,
    ) as client:
        for q in col.queries:
            t0 = time.perf_counter()
            response = await client.post(
                "/api/v1/search", json={"query": cut(q["text"]), "limit": K}
            )
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"query {q['id']}: {response.status_code} {response.text}")
            hits = response.json()["results"]
            run[q["id"]] = [
                mapping[str(h["document_id"])] for h in hits if str(h["document_id"]) in mapping
            ]
    return run, latencies


def archivist_run(
    col: Collection, workdir: Path, connections: int
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    pgdata = workdir / f"pgdata-{col.name}"
    url = start_embedded(pgdata, database="rel_" + re.sub(r"\W", "_", col.name), throwaway=True)
    upgrade(url)
    secret, _token_id = asyncio.run(create_admin_token(url))
    env = child_env("archivist", url)
    with serve("archivist_me_app:create_app", env, workdir, False, secret) as server:
        t0 = time.perf_counter()
        mapping = asyncio.run(upload_all(server.port, secret, col.docs, connections))
        upload_s = time.perf_counter() - t0
        run, latencies = asyncio.run(search_all(server.port, secret, col, mapping))
    latencies.sort()
    info = {
        "uploaded": len(mapping),
        "upload_s": round(upload_s, 1),
        "search_p50_ms": round(latencies[len(latencies) // 2] * 1e3, 1) if latencies else None,
        "search_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1e3, 1)
        if latencies
        else None,
    }
    return run, info


# --- the report ---------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    lines = [
        "| collection | system | queries | nDCG@10 | recall@10 | MRR@10 | no result |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, per in results.items():
        for system, m in per["systems"].items():
            lines.append(
                f"| {name} | {system} | {m['queries']} | {m['ndcg@10']:.3f} | "
                f"{m['recall@10']:.3f} | {m['mrr@10']:.3f} | {100 * m['no_result']:.1f} % |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--collections", help="comma-separated names (default: all prepared)")
    parser.add_argument("--max-queries", type=int, help="the first N judged queries only")
    parser.add_argument("--connections", type=int, default=4, help="concurrent uploads")
    parser.add_argument(
        "--baselines-only", action="store_true", help="the BM25 baselines only, no Archivist"
    )
    args = parser.parse_args()

    names = (
        args.collections.split(",")
        if args.collections
        else sorted(p.name for p in args.data_dir.iterdir() if (p / "qrels.tsv").exists())
    )
    if not names:
        print(f"no collection in {args.data_dir}: run bench/relevance_data.py", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="archivist-relevance-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    results: dict[str, Any] = {}
    for name in names:
        col = load(args.data_dir / name)
        if args.max_queries is not None:
            col.queries = col.queries[: args.max_queries]
        cut_count = sum(1 for q in col.queries if len(" ".join(q["text"].split())) > QUERY_MAX)
        print(
            f"{name} ({col.language}): {len(col.docs)} documents, {len(col.queries)} judged "
            f"queries ({cut_count} cut to {QUERY_MAX} characters); source "
            f"{col.source.get('repository')} {col.source.get('files')}",
            flush=True,
        )
        systems: dict[str, dict[str, float]] = {}
        info: dict[str, Any] = {}
        if not args.baselines_only:
            run, info = archivist_run(col, workdir, args.connections)
            systems["archivist"] = measures(col, run)
            print(f"  archivist: {info}", flush=True)
        speeds: dict[str, dict[str, float]] = {}
        for tokeniser in baselines_for(col.language):
            speeds[tokeniser] = {}
            if tokeniser == "morphemes":
                kiwi()  # its one-time load stays out of the tokenisation time
            run = bm25_run(col, tokeniser, speeds[tokeniser])
            systems[f"bm25 {tokeniser}"] = measures(col, run)
        print(f"  tokenisation: {speeds}", flush=True)
        if "morphemes" in speeds:
            print(f"  kiwipiepy: {KIWI_INFO}", flush=True)
        results[name] = {
            "source": col.source,
            "archivist": info,
            "systems": systems,
            "tokenisation": speeds,
            **({"kiwipiepy": dict(KIWI_INFO)} if "morphemes" in speeds else {}),
        }
        print(table({name: results[name]}), flush=True)

    print()
    print(table(results))
    stamp = utc_stamp()
    write_results("relevance", {"date": stamp, "args": vars(args), "results": results}, stamp=stamp)
    print(json.dumps({n: r["systems"] for n, r in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
