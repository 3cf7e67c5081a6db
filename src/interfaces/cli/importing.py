"""`archivist import DIR`: the files of a folder as `ImportSource`s, a progress bar while they
are stored, a summary at the end and, with `--report`, every file that was not imported as
JSON (SPEC §4; issue #12 item 6)."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from application.document_import import FileResult, Outcome
from infrastructure.local_files import FolderFile


def sources_in(root: Path, *, recursive: bool) -> list[FolderFile]:
    """The regular files of `root` (and of its sub-folders when `recursive`), by path. Hidden
    files and folders (a name starting with '.', such as .DS_Store or .git) are left out."""
    found = root.rglob("*") if recursive else root.iterdir()
    files = [
        p
        for p in found
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return [FolderFile(p, root, p.stat().st_size) for p in sorted(files)]


class ImportProgress:
    """A progress bar on stderr (only on a terminal): bytes, files/s, ETA and the counts."""

    def __init__(self, sources: Sequence[FolderFile], console: Console) -> None:
        self._counts: Counter[Outcome] = Counter()
        self._files = len(sources)
        self._started = time.monotonic()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(
            "import", total=sum(s.size for s in sources) or 1, status=self._status()
        )

    def __enter__(self) -> ImportProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def done(self, result: FileResult) -> None:
        self._counts[result.outcome] += 1
        self._progress.update(self._task, advance=result.size_bytes, status=self._status())

    def _status(self) -> str:
        finished = sum(self._counts.values())
        rate = finished / max(time.monotonic() - self._started, 1e-9)
        counts = ", ".join(f"{self._counts[o]} {o.value}" for o in Outcome)
        return f"{finished}/{self._files} files, {rate:.0f} files/s; {counts}"


def summary(results: Sequence[FileResult], seconds: float) -> str:
    """The end of an import, for a person: the counts, the rate, then each file not
    imported with why."""
    counts = Counter(r.outcome for r in results)
    size = sum(r.size_bytes for r in results if r.outcome is Outcome.IMPORTED)
    rate = len(results) / seconds if seconds > 0 else 0.0
    lines = [
        f"{len(results)} file(s) in {seconds:.1f} s ({rate:.0f} files/s): "
        + ", ".join(f"{counts[o]} {o.value}" for o in Outcome)
        + f"; {size} bytes imported"
    ]
    lines += [
        f"  {r.outcome.value:9} {r.name}: {r.code}: {r.message}"
        for r in results
        if r.outcome in (Outcome.REJECTED, Outcome.FAILED)
    ]
    return "\n".join(lines)


def write_report(results: Sequence[FileResult], out: IO[str]) -> None:
    """Every file that was not imported, as a JSON list (name, outcome, code, message, size,
    and the document it duplicates)."""
    json.dump(
        [
            {
                "name": r.name,
                "outcome": r.outcome.value,
                "code": r.code,
                "message": r.message,
                "size_bytes": r.size_bytes,
                "document_id": str(r.document_id) if r.document_id else None,
            }
            for r in results
            if r.outcome is not Outcome.IMPORTED
        ],
        out,
        indent=2,
    )
    out.write("\n")


def stderr_console() -> Console:
    return Console(file=sys.stderr)
