"""Thumbnails of 10-page PDFs made by the job workers (issue #12, Must-show 4).

Run by hand from the project root:

    .venv/bin/python bench/bench_thumbnails.py [--files 200] [--pages 10] [--concurrency 2]

It starts a throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set), migrates it and
creates an admin (`harness.py`), writes `--files` distinct PDFs of `--pages` pages of text
each, imports them with `archivist import` (which queues a thumbnail job per document), then
starts `archivist worker --concurrency N` and times it from start until no thumbnail job
waits: thumbnails/s, with the worker's start-up included (about a second). Every document
must have its thumbnail at the end. Raw figures go to bench/results/ (not versioned).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from harness import (
    child_env,
    create_admin_token,
    make_workdir,
    plain_dsn,
    start_database,
    utc_stamp,
    write_results,
)
from infrastructure.sqlalchemy.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.pdf import pdf_with_pages

ARCHIVIST = Path(sys.executable).with_name("archivist")
WORDS = ["contract", "invoice", "report", "budget", "meeting", "policy", "review", "audit"]
WAITING = (
    "SELECT count(*) FROM jobs.pgqueuer WHERE entrypoint = 'thumbnail'"
    " AND status IN ('queued', 'picked')"
)


def write_pdfs(folder: Path, count: int, pages: int, seed: int = 7) -> int:
    """`count` distinct PDFs of `pages` pages of 40 lines each; their total size."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    total = 0
    for n in range(count):
        texts = [
            "\n".join(
                f"file {n} page {p} " + " ".join(rng.choice(WORDS) for _ in range(8))
                for _ in range(40)
            )
            for p in range(pages)
        ]
        data = pdf_with_pages(*texts)
        (folder / f"report-{n:05}.pdf").write_bytes(data)
        total += len(data)
    return total


async def count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=2, help="archivist worker --concurrency")
    args = parser.parse_args()

    workdir = make_workdir("archivist-bench-thumbnails-")
    url = start_database(workdir / "pgdata", pin=False)
    upgrade(url)
    asyncio.run(create_admin_token(url))
    folder = workdir / "pdfs"
    total = write_pdfs(folder, args.files, args.pages)
    print(f"{args.files} PDFs of {args.pages} pages, {total} bytes; {os.cpu_count()} CPUs")

    env = child_env("archivist", url) | {"ARCHIVIST_BLOB_DIR": str(workdir / "blobs")}
    imported = subprocess.run(
        [str(ARCHIVIST), "import", str(folder)], env=env, capture_output=True, text=True
    )
    if imported.returncode != 0:
        raise SystemExit(f"archivist import exited {imported.returncode}:\n{imported.stderr}")
    print(imported.stdout.strip().splitlines()[0])
    queued = asyncio.run(count(url, WAITING))
    assert queued == args.files, f"{queued} thumbnail jobs queued for {args.files} files"

    started = time.perf_counter()
    worker = subprocess.Popen(
        [str(ARCHIVIST), "worker", "--concurrency", str(args.concurrency)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while asyncio.run(count(url, WAITING)):
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited {worker.returncode}: {worker.stderr}")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)
    made = asyncio.run(count(url, "SELECT count(*) FROM documents WHERE thumbnail_key IS NOT NULL"))
    assert made == args.files, f"{made} thumbnails for {args.files} documents"
    rate = args.files / seconds
    print(
        f"thumbnails: {args.files} in {seconds:.1f} s, {rate:.1f}/s "
        f"(worker --concurrency {args.concurrency}, start-up included)"
    )
    write_results(
        "thumbnails",
        {
            "stamp": utc_stamp(),
            "files": args.files,
            "pages": args.pages,
            "bytes": total,
            "concurrency": args.concurrency,
            "seconds": seconds,
            "thumbnails_per_s": rate,
        },
    )


if __name__ == "__main__":
    main()
