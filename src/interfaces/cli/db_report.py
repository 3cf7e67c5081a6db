"""`archivist db-report [--json]`: what the database holds and how it is used (what is
measured: `infrastructure/sqlalchemy/db_report.py`; why: docs/decisions.md, "Database
report"). The parser is built at start; the rest is imported once the command runs."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from infrastructure.sqlalchemy.db_plans import StatementPlan
    from infrastructure.sqlalchemy.db_report import DbReport, SlowestStatements, TableStats

MOST_USED_INDEXES = 10


def add_db_report_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = sub.add_parser(
        "db-report",
        help="sizes, index usage, cache hits, maintenance, connections, slowest statements "
        "and the plans of the hot statements",
        description="Report on the database: sizes (heap, indexes, TOAST), row estimates, "
        "index usage, cache hit ratio, dead tuples and last vacuum/analyze, connections by "
        "state, the slowest statements, and EXPLAIN (ANALYZE, BUFFERS) of the hot statements "
        "for a sample reader. Changes nothing.",
    )
    made.add_argument("--json", action="store_true", help="print one JSON object instead")
    made.set_defaults(func="interfaces.cli.db_report:cmd_db_report")


def cmd_db_report(args: argparse.Namespace) -> int:
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from infrastructure.config import AppSettings
    from infrastructure.sqlalchemy.db_report import collect
    from infrastructure.sqlalchemy.embedded import resolve_database_url
    from infrastructure.sqlalchemy.engine import create_engine, safe_url

    settings = AppSettings()
    if settings.storage == "memory":
        print(
            "archivist db-report: needs PostgreSQL (memory storage keeps nothing)", file=sys.stderr
        )
        return 2
    # No database in the data directory: `NoDatabase`, reported by `main` in one line.
    url = resolve_database_url(
        settings.database_url, settings.data_dir, settings.embedded_shared_buffers, create=False
    )

    async def run() -> DbReport:
        engine = create_engine(url, settings, pool_size=1, max_overflow=0)
        try:
            return await collect(engine, settings.statement_stats_flush_seconds)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except (DBAPIError, OSError) as err:
        cause = getattr(err, "orig", None) or err
        detail = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        print(
            f"archivist db-report: cannot use the database {safe_url(url)}: {detail}",
            file=sys.stderr,
        )
        return 1
    if args.json:
        import json

        print(json.dumps(to_json(report), ensure_ascii=False))
    else:
        from rich.console import Console

        render(report, Console(highlight=False))
    return 0


# --- JSON -----------------------------------------------------------------------------------


def to_json(report: DbReport) -> dict[str, Any]:
    """The report as JSON values: times in ISO 8601, ids as strings, sizes in bytes and
    durations in milliseconds; each index with `never_used`, each table its qualified name."""
    data = _plain(asdict(report))
    for table, item in zip(report.tables, data["tables"], strict=True):
        item["qualified_name"] = table.qualified
    for index, item in zip(report.indexes, data["indexes"], strict=True):
        item["never_used"] = index.never_used
    return data  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


# --- rich -----------------------------------------------------------------------------------


def render(report: DbReport, console: Console) -> None:
    """The report for a person, in plain sections that fit 80 columns."""
    from rich import box
    from rich.table import Table

    from infrastructure.sqlalchemy.db_plans import LARGE_TABLE_ROWS

    def table(title: str, *columns: str, right: frozenset[str] = frozenset()) -> Table:
        made = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in columns:
            made.add_column(name, justify="right" if name in right else "left")
        made.columns[0].min_width = 16
        return made

    reset = f"; statistics since {_when(report.stats_reset)}" if report.stats_reset else ""
    console.print(
        f"[bold]Database {report.database}[/bold] (PostgreSQL {report.server_version}): "
        f"{_size(report.size_bytes)}{reset}"
    )

    sizes = table(
        "Tables, largest first (rows: the planner's estimate)",
        *("table", "rows", "heap", "indexes", "TOAST", "total"),
        right=frozenset({"rows", "heap", "indexes", "TOAST", "total"}),
    )
    sizes.columns[0].min_width = max((len(t.qualified) for t in report.tables), default=5)
    for t in report.tables:
        sizes.add_row(
            t.qualified,
            f"{t.rows_estimate:,}",
            _size(t.heap_bytes),
            _size(t.index_bytes),
            _size(t.toast_bytes),
            _size(t.total_bytes),
        )
    console.print(sizes)

    upkeep = table(
        "Dead rows, scans (sequential, index) and the last vacuum and analyze (`auto`: "
        "autovacuum's), of the tables with rows",
        *("table", "dead rows", "seq", "index", "vacuum", "analyze"),
        right=frozenset({"dead rows", "seq", "index", "vacuum", "analyze"}),
    )
    for t in report.tables:
        if t.rows_estimate or t.live_tuples or t.dead_tuples:
            upkeep.add_row(
                t.qualified,
                _dead(t),
                f"{t.seq_scans:,}",
                f"{t.index_scans:,}",
                _latest(t.last_vacuum, t.last_autovacuum, report.generated_at),
                _latest(t.last_analyze, t.last_autoanalyze, report.generated_at),
            )
    console.print(upkeep)

    c = report.cache
    console.print(
        f"[bold]Cache hits[/bold]: {_percent(c.database_ratio)} of blocks (tables "
        f"{_percent(c.heap_ratio)}, indexes {_percent(c.index_ratio)}); {c.blocks_read:,} "
        "blocks read from outside shared buffers\n"
    )

    if report.connections:
        sessions = table(
            "Connections (but this report's)",
            "application",
            "state",
            "count",
            right=frozenset({"count"}),
        )
        for s in report.connections:
            sessions.add_row(s.application, s.state, str(s.count))
        console.print(sessions)
    else:
        console.print("[bold]Connections[/bold]: none but this report's\n")

    most = table(
        "Most used indexes",
        "index",
        "table",
        "scans",
        "rows read",
        "size",
        right=frozenset({"scans", "rows read", "size"}),
    )
    for i in sorted(report.indexes, key=lambda i: (-i.scans, i.name))[:MOST_USED_INDEXES]:
        most.add_row(i.name, i.table, f"{i.scans:,}", f"{i.tuples_read:,}", _size(i.size_bytes))
    console.print(most)
    never = [i for i in report.indexes if i.never_used]
    optional = [i for i in never if not (i.unique or i.primary)]
    if optional:
        unused = table(
            "Indexes never used since the statistics reset (candidates to drop once the "
            "service has run a while)",
            "index",
            "table",
            "size",
            right=frozenset({"size"}),
        )
        for i in sorted(optional, key=lambda i: (-i.size_bytes, i.name)):
            unused.add_row(i.name, i.table, _size(i.size_bytes))
        console.print(unused)
    constraints = len(never) - len(optional)
    console.print(
        f"{len(never)} of {len(report.indexes)} indexes never used; {constraints} of those "
        "enforce a primary key or uniqueness (kept whatever their use)\n"
    )

    for slow in (report.slowest, report.server_statements):
        if slow is not None:
            _slowest(slow, table("", *_SLOW_COLUMNS, right=frozenset(_SLOW_COLUMNS[1:])), console)

    plans = report.plans
    if plans.sample is None:
        console.print(f"\n[bold]Plans of the hot statements[/bold]: {plans.note}")
        return
    sample = plans.sample
    console.print(
        f"\n[bold]Plans of the hot statements[/bold] for reader {sample.user_id} "
        f"({sample.user_role}, L{sample.access_level}), document {sample.document_id}, "
        f"search {sample.search_query!r}, token {sample.token}: {plans.note}"
    )
    flagged = 0
    for op in plans.operations:
        for p in op.statements:
            flagged += bool(p.large_seq_scans)
            console.print(
                f"[bold]{op.operation}[/bold] ({p.name}): {p.execution_ms:.2f} ms, "
                f"planning {p.planning_ms:.2f} ms, buffers {p.shared_hit_blocks:,} hit / "
                f"{p.shared_read_blocks:,} read"
            )
            console.print(f"    {_scans(p)}", overflow="fold")
    if flagged:
        console.print(
            f"[red]{flagged} statement(s) read a table of over "
            f"{LARGE_TABLE_ROWS:,} rows sequentially[/red]"
        )
    else:
        console.print(f"No sequential scan of a table of over {LARGE_TABLE_ROWS:,} rows.")


_SLOW_COLUMNS = ("statement", "calls", "total ms", "mean ms", "max ms")


def _slowest(slow: SlowestStatements, statements: Table, console: Console) -> None:
    """One source's slowest statements, into the empty rich table `statements`."""
    updated = f" (last flush {_when(slow.last_updated)})" if slow.last_updated else ""
    console.print(f"[bold]Slowest statements[/bold], from {slow.source}{updated}: {slow.note}")
    if not slow.statements:
        console.print()
        return
    for st in slow.statements:
        statements.add_row(
            st.name,
            f"{st.calls:,}",
            f"{st.total_ms:,.1f}",
            f"{st.mean_ms:,.2f}",
            f"{st.max_ms:,.2f}",
        )
    console.print(statements)
    for st in slow.statements:
        if st.query:
            console.print(f"  {st.name}: {st.query}", overflow="fold")


def _scans(plan: StatementPlan) -> str:
    """The plan's table and index reads, in plan order, each once."""
    parts = []
    for s in plan.scans:
        if s.node_type == "Bitmap Heap Scan":  # its Bitmap Index Scan names the index
            continue
        where = s.relation or ""
        if s.index:
            where = f"{where} ({s.index})" if where else s.index
        text = f"{s.node_type} {where}".strip()
        if s.node_type == "Seq Scan" and s.relation in plan.large_seq_scans:
            text = f"[red]{text}: large table[/red]"
        parts.append(text)
    return "; ".join(dict.fromkeys(parts)) or "(no table read)"


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" or size >= 100 else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # pragma: no cover


def _percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio * 100:.2f} %"


def _dead(table: TableStats) -> str:
    total = table.live_tuples + table.dead_tuples
    if not table.dead_tuples:
        return "0"
    return f"{table.dead_tuples:,} ({table.dead_tuples / total * 100:.0f} %)"


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M}"


def _latest(manual: datetime | None, auto: datetime | None, now: datetime) -> str:
    """How long ago the later of a manual run and autovacuum's was, `auto` if autovacuum's."""
    if manual is None and auto is None:
        return "never"
    if auto is not None and (manual is None or auto > manual):
        return f"{_ago(auto, now)} auto"
    assert manual is not None
    return _ago(manual, now)


def _ago(at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} d ago"
