"""`archivist import DIR`: the files of a folder as `ImportSource`s, a progress bar while they
are stored, a summary at the end and, with `--report`, every file that was not imported as
JSON (SPEC §4; issue #12 item 6). Imported only once the command has been chosen (see
main.py)."""

from __future__ import annotations

import argparse
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

from application.context import RequestContext
from application.document_import import FileResult, ImportOptions, Outcome
from application.document_store import DocumentFields
from domain.errors import ValidationFailed
from domain.pagination import MAX_LIMIT, PageRequest
from domain.ports import UnitOfWorkFactory
from domain.taxonomy import TaxonomyNodeNotFound, format_path
from domain.users import User, UserFilter
from domain.values import Role, normalize_email
from infrastructure.container import Container
from infrastructure.local_files import FolderFile
from interfaces.cli.common import run_use_case


def cmd_import(args: argparse.Namespace) -> int:
    root: Path = args.directory
    if not root.is_dir():
        print(f"archivist import: {root} is not a folder", file=sys.stderr)
        return 2
    sources = sources_in(root, recursive=args.recursive)
    fields = DocumentFields(
        access_level=args.access_level,
        department=args.department,
        category=args.category,
        tags=tuple(args.tag),
        taxonomy_path=args.taxonomy_path,
    )
    options = ImportOptions(fields, args.on_duplicate, args.jobs)

    async def run(container: Container) -> list[FileResult]:
        ctx = RequestContext(actor=await _import_owner(container, args.owner))
        if args.taxonomy_path is not None:  # once, with the nearest paths on a miss
            try:
                await container.taxonomy().resolve(args.taxonomy_path)
            except TaxonomyNodeNotFound as err:
                nearest = ", ".join(format_path(p) for p in err.suggestions)
                raise ValidationFailed.on(
                    "taxonomy_path", f"{err.message}; the nearest paths: {nearest}"
                ) from err
        with ImportProgress(sources, stderr_console()) as progress:
            return await container.document_import().run(ctx, sources, options, progress.done)

    started = time.monotonic()
    results = run_use_case(run)
    if isinstance(results, int):
        return results
    print(summary(results, time.monotonic() - started))
    if args.report is not None:
        with args.report.open("w", encoding="utf-8") as out:
            write_report(results, out)
    stored = (Outcome.IMPORTED, Outcome.DUPLICATE)
    return 0 if all(r.outcome in stored for r in results) else 1


async def _import_owner(container: Container, email: str | None) -> User:
    """The user the imported documents belong to: the one with `email`, or else the first
    administrator."""
    uow_factory: UnitOfWorkFactory = container.uow_factory()
    async with uow_factory(autocommit=True) as uow:
        if email is not None:
            user = await uow.users.get_by_email(normalize_email(email, "owner"))
            if user is None or not user.is_active:
                raise ValidationFailed.on("owner", f"no active user {email!r}")
            return user
        admins = await uow.users.list(
            UserFilter(role=Role.ADMIN, is_active=True), PageRequest(limit=MAX_LIMIT)
        )
    if not admins.items:
        raise ValidationFailed.on("owner", "no active administrator: name one with --owner")
    return min(admins.items, key=lambda u: (u.created_at, u.id))


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
