"""`archivist import` of many small text files (issue #12, Must-show 4).

Run by hand from the project root:

    .venv/bin/python bench/bench_import.py [--files 10000] [--jobs 4] [--size 2048]

It starts a throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set), migrates it and
creates an admin with the application (`harness.py`), writes `--files` distinct text files of
about `--size` bytes, then:

1. runs `archivist import DIR --jobs N` as a subprocess (as a person would, progress bar
   off: not a terminal) and takes its wall time: files/s, and the summary it printed;
2. runs it again over the same folder: every file is skipped by its SHA-256 (the resume path);
3. the baseline: the same rows (read back from `documents`) written with one COPY into a
   table made `LIKE documents INCLUDING ALL` (the same columns and indexes), and its files/s.

It prints the three, and the ratio of the import's files/s to COPY's. Raw figures go to
bench/results/ (not versioned).
"""

from __future__ import annotations

import argparse
import asyncio
import io
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

ARCHIVIST = Path(sys.executable).with_name("archivist")
WORDS = [
    "contract",
    "invoice",
    "report",
    "budget",
    "meeting",
    "policy",
    "quarterly",
    "annual",
    "review",
    "customer",
    "supplier",
    "delivery",
    "payment",
    "schedule",
    "project",
    "risk",
    "audit",
    "summary",
    "minutes",
    "proposal",
    "agreement",
]


def write_files(folder: Path, count: int, size: int, seed: int = 12) -> int:
    """`count` distinct text files of about `size` bytes; their total size."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    total = 0
    for n in range(count):
        words = [f"file{n}"]
        while sum(len(w) + 1 for w in words) < size:
            words.append(rng.choice(WORDS))
        data = " ".join(words).encode()
        (folder / f"doc-{n:06}.txt").write_bytes(data)
        total += len(data)
    return total


def run_import(folder: Path, url: str, blob_dir: Path, jobs: int) -> tuple[float, str]:
    env = child_env("archivist", url) | {"ARCHIVIST_BLOB_DIR": str(blob_dir)}
    started = time.perf_counter()
    done = subprocess.run(
        [str(ARCHIVIST), "import", str(folder), "--jobs", str(jobs)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"archivist import exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[0]


async def copy_baseline(url: str) -> tuple[int, float]:
    """The import's rows written again with one COPY into a table like `documents` (its rows
    taken out with COPY first, in PostgreSQL's binary format, so only the COPY in is timed)."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute("CREATE TABLE bench_copy (LIKE documents INCLUDING ALL)")
        rows = await conn.fetchval("SELECT count(*) FROM documents")
        data = io.BytesIO()
        await conn.copy_from_query("SELECT * FROM documents", output=data, format="binary")
        data.seek(0)
        started = time.perf_counter()
        await conn.copy_to_table("bench_copy", source=data, format="binary")
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy")
    finally:
        await conn.close()
    return int(rows), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=2048, help="bytes per file, about")
    parser.add_argument("--jobs", type=int, default=4, help="archivist import --jobs")
    args = parser.parse_args()

    workdir = make_workdir("archivist-bench-import-")
    url = start_database(workdir / "pgdata", pin=False)
    upgrade(url)
    asyncio.run(create_admin_token(url))
    folder = workdir / "files"
    total = write_files(folder, args.files, args.size)
    print(f"{args.files} files, {total} bytes, in {folder}; {os.cpu_count()} CPUs")

    seconds, summary = run_import(folder, url, workdir / "blobs", args.jobs)
    print(f"import: {seconds:.1f} s, {args.files / seconds:.0f} files/s ({summary})")
    again, summary_again = run_import(folder, url, workdir / "blobs", args.jobs)
    print(f"again (all skipped): {again:.1f} s, {args.files / again:.0f} files/s")
    rows, copy_seconds = asyncio.run(copy_baseline(url))
    assert rows == args.files, f"{rows} rows stored for {args.files} files"
    copy_rate = rows / copy_seconds
    ratio = (args.files / seconds) / copy_rate
    print(f"COPY of the same rows: {copy_seconds:.2f} s, {copy_rate:.0f} rows/s")
    print(f"import / COPY: {ratio:.3f}  (target: import >= 200 files/s)")
    write_results(
        "import",
        {
            "stamp": utc_stamp(),
            "files": args.files,
            "bytes": total,
            "jobs": args.jobs,
            "import_seconds": seconds,
            "import_files_per_s": args.files / seconds,
            "import_summary": summary,
            "again_seconds": again,
            "again_summary": summary_again,
            "copy_seconds": copy_seconds,
            "copy_rows_per_s": copy_rate,
            "ratio_to_copy": ratio,
        },
    )


if __name__ == "__main__":
    main()
