"""Prepare the test collections of `bench/relevance.py` from fetched public repositories.

Nothing is downloaded: each collection is read with git from a mirror already on this machine
(`git --git-dir=<mirror> show HEAD:<file>`) and written, in one common form, to the data
directory (default bench/results/relevance-data, git-ignored; the data never enters the
repository):

    <data-dir>/<name>/docs.jsonl     {"id", "title", "content"} per document
    <data-dir>/<name>/queries.jsonl  {"id", "text"} per query
    <data-dir>/<name>/qrels.tsv      query id, document id, grade (> 0: relevant)
    <data-dir>/<name>/source.json    where it came from (repository, commit, files, licence)

Collections:

  cisi  English. The CISI collection (1,460 library-science abstracts, 112 queries, 76 of them
        with binary relevance judgements; Glasgow IR group test collection) as committed in
        https://github.com/Shakiba-Alipour/Information-Retrieval-on-CISI (files CISI.ALL,
        CISI.QRY, CISI.REL). The repository states no licence; the collection is the classic
        freely distributed research test collection. Documents: .T as title, .W as content.

        .venv/bin/python bench/relevance_data.py cisi \\
            /work/.mirror/Shakiba-Alipour+Information-Retrieval-on-CISI/repo

  positives  Korean, the main Korean set. MS MARCO passage-ranking questions and their
        relevant passages translated into Korean (GPT-4o mini, by the repository's author):
        https://github.com/baba9811/msmarco_Kor, file data/msmarco_kor.json (6,980 questions,
        7,279 distinct passages). Every passage is a document; a seeded sample of 1,000
        questions (seed 10) is kept as queries, each judged by its positive passages. The
        repository states no licence; MS MARCO itself is released for non-commercial research.
        Chosen because KorQuAD 1.0 train and KLUE-MRC, both asked for first, are too large to
        be present in the fetched mirrors (see `squad` below).

        .venv/bin/python bench/relevance_data.py positives \\
            /work/.mirror/baba9811+msmarco_Kor/repo --file data/msmarco_kor.json \\
            --name msmarco-ko --sample 1000 --licence "none stated in the repository; \\
            MS MARCO's own terms: non-commercial research use"

  squad Any Korean question-answering set in SQuAD form ({"data": [{"title"?, "paragraphs":
        [{"context", "qas": [{"id", "question"}]}]}]}): each paragraph is a document, each
        question a query whose one relevant document is its paragraph. Used with KQMA (Korean
        mental-health QA, 201 paragraphs / 201 questions, the dev split; a secondary set: its
        questions are the askers' own posts, which open the paragraph, so they share most
        words with it) from
        https://github.com/yuntaeyang/Korean-Mental-health-Question-Answering, file
        `Extraction-based MRC/KQMA_kor_v1_dev.json` (the repository states no licence; its
        README gives the source as hidoc.co.kr health Q&A). KorQuAD 1.0 train
        (korquad/korquad.github.io, dataset/KorQuAD_v1.0_train.json, CC BY-ND 2.0 KR) and
        KLUE-MRC (KLUE-benchmark/KLUE, klue_benchmark/klue-mrc-v1.1/*.json, CC BY-SA 4.0) have
        the same form but their files were too large for the mirror (absent from it); give
        their path with `--file` when a mirror holds them. Never the KorQuAD 1.0 dev set (held
        out for verification), nor Cranfield.

        .venv/bin/python bench/relevance_data.py squad \\
            /work/.mirror/yuntaeyang+Korean-Mental-health-Question-Answering/repo \\
            --file "Extraction-based MRC/KQMA_kor_v1_dev.json" --name kqma \\
            --licence "none stated in the repository"
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "results" / "relevance-data"
HELD_OUT = ("KorQuAD_v1.0_dev", "cran")


def git_show(mirror: Path, path: str) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(mirror), "show", f"HEAD:{path}"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8", errors="replace")


def git_head(mirror: Path) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(mirror), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def repository_of(mirror: Path) -> str:
    """owner/name from a fetched mirror path (/work/.mirror/owner+name/repo)."""
    name = mirror.resolve().parent.name if mirror.name == "repo" else mirror.resolve().name
    return name.replace("+", "/", 1)


def smart_records(text: str) -> dict[str, dict[str, str]]:
    """SMART-format records (.I id, then .T/.A/.W/.B/.X fields) by id."""
    records: dict[str, dict[str, str]] = {}
    current: dict[str, list[str]] | None = None
    field = ""
    for line in text.splitlines():
        head = re.match(r"^\.([A-Z])(?:\s+(\S+))?\s*$", line)
        if head and head.group(1) == "I":
            current = {}
            records[str(int(head.group(2)))] = current  # type: ignore[assignment]
            field = ""
        elif head and current is not None:
            field = head.group(1)
            current.setdefault(field, [])
        elif current is not None and field:
            current[field].append(line.strip())
    return {
        k: {f: " ".join(x for x in lines if x) for f, lines in v.items()}  # type: ignore[attr-defined]
        for k, v in records.items()
    }


def write_collection(
    out: Path,
    docs: list[dict[str, str]],
    queries: list[dict[str, str]],
    qrels: list[tuple[str, str, int]],
    source: dict[str, Any],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "docs.jsonl").open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    with (out / "qrels.tsv").open("w", encoding="utf-8") as f:
        for qid, did, grade in qrels:
            f.write(f"{qid}\t{did}\t{grade}\n")
    (out / "source.json").write_text(json.dumps(source, indent=2, ensure_ascii=False) + "\n")
    judged = len({q for q, _, _ in qrels})
    print(f"{out}: {len(docs)} documents, {len(queries)} queries ({judged} judged)")


def prepare_cisi(mirror: Path, out: Path) -> None:
    docs_raw = smart_records(git_show(mirror, "CISI.ALL"))
    queries_raw = smart_records(git_show(mirror, "CISI.QRY"))
    docs = []
    for did, rec in docs_raw.items():
        title = rec.get("T", "").strip() or f"CISI {did}"
        content = rec.get("W", "").strip() or title
        docs.append({"id": did, "title": title[:500], "content": content})
    queries = [{"id": qid, "text": rec.get("W", "").strip()} for qid, rec in queries_raw.items()]
    qrels: set[tuple[str, str, int]] = set()
    for line in git_show(mirror, "CISI.REL").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            qrels.add((str(int(parts[0])), str(int(parts[1])), 1))
    source = {
        "collection": "CISI",
        "language": "en",
        "repository": f"https://github.com/{repository_of(mirror)}",
        "commit": git_head(mirror),
        "files": ["CISI.ALL", "CISI.QRY", "CISI.REL"],
        "licence": "none stated in the repository (classic freely distributed IR test collection)",
        "judgements": "binary (CISI.REL)",
    }
    write_collection(out, docs, queries, sorted(qrels), source)


def prepare_squad(
    mirror: Path, file: str, out: Path, name: str, licence: str, sample: int | None, seed: int
) -> None:
    if any(h.lower() in file.lower() for h in HELD_OUT):
        raise SystemExit(f"{file} is held out for verification: use another set")
    data = json.loads(git_show(mirror, file))["data"]
    docs: list[dict[str, str]] = []
    questions: list[tuple[str, str, str]] = []
    for a, article in enumerate(data):
        title = str(article.get("title") or "").replace("_", " ").strip()
        for p, paragraph in enumerate(article["paragraphs"]):
            did = f"{a}-{p}"
            context = paragraph["context"].strip()
            docs.append({"id": did, "title": (title or context[:60])[:500], "content": context})
            for qa in paragraph["qas"]:
                questions.append((str(qa["id"]), qa["question"].strip(), did))
    if sample is not None and sample < len(docs):
        keep = {d["id"] for d in random.Random(seed).sample(docs, sample)}
        docs = [d for d in docs if d["id"] in keep]
        questions = [q for q in questions if q[2] in keep]
    queries = [{"id": qid, "text": text} for qid, text, _ in questions]
    qrels = [(qid, did, 1) for qid, _, did in questions]
    source = {
        "collection": name,
        "language": "ko",
        "repository": f"https://github.com/{repository_of(mirror)}",
        "commit": git_head(mirror),
        "files": [file],
        "licence": licence,
        "judgements": "one relevant paragraph per question (binary)",
        "sample_paragraphs": sample,
    }
    write_collection(out, docs, queries, qrels, source)


def prepare_positives(
    mirror: Path, file: str, out: Path, name: str, licence: str, sample: int | None, seed: int
) -> None:
    """A list of {"id", "query", "positive": [passage, ...]}: every distinct passage is a
    document; each query's positives are its relevant documents (binary)."""
    rows = json.loads(git_show(mirror, file))
    ids: dict[str, str] = {}
    docs: list[dict[str, str]] = []
    for row in rows:
        for passage in row["positive"]:
            text = " ".join(passage.split())
            if text and text not in ids:
                ids[text] = str(len(ids) + 1)
                docs.append({"id": ids[text], "title": text[:60], "content": text})
    chosen = list(rows)
    if sample is not None and sample < len(chosen):
        chosen = random.Random(seed).sample(chosen, sample)
    queries = [{"id": str(r["id"]), "text": r["query"].strip()} for r in chosen]
    qrels = sorted(
        {
            (str(r["id"]), ids[" ".join(p.split())], 1)
            for r in chosen
            for p in r["positive"]
            if " ".join(p.split())
        }
    )
    source = {
        "collection": name,
        "language": "ko",
        "repository": f"https://github.com/{repository_of(mirror)}",
        "commit": git_head(mirror),
        "files": [file],
        "licence": licence,
        "judgements": "the query's positive passages (binary); every passage is a document",
        "sample_queries": sample,
        "seed": seed,
    }
    write_collection(out, docs, queries, qrels, source)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("kind", choices=("cisi", "squad", "positives"))
    parser.add_argument("mirror", type=Path, help="a fetched git directory (/work/.mirror/…)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--file", help="squad: the JSON file's path in the repository")
    parser.add_argument("--name", help="the collection's directory name (default: the kind)")
    parser.add_argument("--licence", default="see the repository")
    parser.add_argument(
        "--sample", type=int, help="squad: keep this many paragraphs; positives: queries"
    )
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    name = args.name or args.kind
    out = args.data_dir / name
    if args.kind == "cisi":
        prepare_cisi(args.mirror, out)
    else:
        if not args.file:
            parser.error(f"{args.kind} needs --file")
        prepare = prepare_squad if args.kind == "squad" else prepare_positives
        prepare(args.mirror, args.file, out, name, args.licence, args.sample, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
