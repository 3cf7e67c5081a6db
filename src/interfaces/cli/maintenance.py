"""`archivist seed-demo` and `archivist purge`: the demo data, and deleting for good what is
past retention, each reported for a person. Imported only once one of them has been chosen
(see main.py)."""

from __future__ import annotations

import argparse

from application.demo import DemoReport
from application.maintenance import PurgeReport
from interfaces.cli.common import run_use_case


def cmd_seed_demo(args: argparse.Namespace) -> int:
    report = run_use_case(lambda c: c.demo().seed())
    if isinstance(report, int):
        return report
    print(format_demo_report(report))
    return 0


def format_demo_report(report: DemoReport) -> str:
    """What seed-demo did, for a person: new users with their token, then the documents."""
    if not report.changed:
        return "Demo data already present; nothing changed."
    lines = ["Demo users:"]
    for u in report.users:
        who = (
            f"  {u.user.email}  ({u.user.role.value}, L{int(u.user.access_level)}, "
            f"{u.user.department or 'no department'})"
        )
        if u.token is not None:
            lines += [f"{who}  created", f"    token: {u.token}"]
        else:
            lines.append(f"{who}  already present (no new token)")
    lines.append("Demo documents:")
    for d in report.documents:
        state = "created" if d.created else "already present"
        lines.append(
            f"  {d.title!r}  (L{d.access_level}, {d.department or 'all departments'}, "
            f"owner {d.owner_email})  {state}"
        )
    if any(u.token for u in report.users):
        lines.append("Each token is shown only this once; send it as 'Authorization: Bearer ...'.")
    return "\n".join(lines)


def cmd_purge(args: argparse.Namespace) -> int:
    report = run_use_case(lambda c: c.maintenance().purge(dry_run=args.dry_run))
    if isinstance(report, int):
        return report
    print(format_purge_report(report))
    return 0


def format_purge_report(report: PurgeReport) -> str:
    """The purge summary: one line per sweep, then the items, then the bytes freed."""
    verb = "would purge" if report.dry_run else "purged"
    trash_blobs = [b for b in report.blobs if b.reason == "trash"]
    loose_blobs = [b for b in report.blobs if b.reason == "unreferenced"]
    partial = [b for b in report.blobs if b.reason == "partial"]
    lines = ["Dry run: nothing was changed."] if report.dry_run else []
    lines.append(
        f"Trash: {verb} {len(report.documents)} document(s) deleted before "
        f"{report.cutoff:%Y-%m-%d %H:%M} UTC (retention {report.retention_days} days), "
        f"freeing {len(trash_blobs)} blob(s)"
    )
    lines += [
        f"  {d.id}  {d.title!r}  (in the trash since {d.deleted_at:%Y-%m-%d})"
        for d in report.documents
    ]
    lines.append(f"Blobs: {verb} {len(loose_blobs)} unreferenced blob(s)")
    lines += [f"  {b.key}  ({b.size_bytes} bytes)" for b in loose_blobs]
    lines.append(f"Partial uploads: {verb} {len(partial)} left by interrupted upload(s)")
    lines += [f"  {b.key}  ({b.size_bytes} bytes)" for b in partial]
    lines.append(
        f"Search logs: {verb} {report.search_queries} search(es) older than "
        f"{report.search_retention_days} days (with their responses and feedback)"
    )
    lines.append(
        f"Events: {verb} {report.events} view(s), download(s) and search(es) of the audit "
        f"trail older than {report.event_retention_days} days (changes are kept)"
    )
    lines.append(
        f"Upload records: {verb} {report.uploads} older than {report.upload_retention_days} days"
    )
    lines.append(
        f"Job log: {verb} {report.job_log} entr(ies) of jobs finished over "
        f"{report.job_log_retention_days} days ago"
    )
    lines.append(
        f"Sign-ins: {verb} {report.sessions} expired web session(s) and "
        f"{report.password_links} expired set-password link(s)"
    )
    would = " would be" if report.dry_run else ""
    lines.append(
        f"Total: {len(report.blobs)} blob(s){would} deleted, {report.bytes_freed} bytes{would} "
        "freed"
    )
    return "\n".join(lines)
