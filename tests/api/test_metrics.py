"""`/metrics` after some traffic (issue #13 must-show 2): the scrape parses, and the series an
operator alerts on are there with sane values; on postgres the database's too."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.sqlalchemy.database import Database
from tests.api.conftest import API, Api, assert_problem, uploaded
from tests.api.test_jobs import run_jobs

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and label set."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def scrape(api: Api) -> Samples:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_metrics_carry_the_operators_series_after_traffic(
    api: Api, pg: Database | None
) -> None:
    api.app.state.metrics.archive.read_at = float("-inf")  # the shared app's last reading
    before = await scrape(api)
    contents = [b"alpha report", b"beta report", b"alpha report"]  # two blobs
    ids = [
        (await uploaded(api, api.member, f"{n}.txt", data, on_duplicate="allow"))["id"]
        for n, data in enumerate(contents)
    ]
    hit = await api.client.post(
        f"{API}/search", json={"query": "report"}, headers=api.member.headers
    )
    assert hit.status_code == 200
    bad = await api.client.post(f"{API}/search", json={"query": ""}, headers=api.member.headers)
    assert_problem(bad, 422)
    trashed = await api.client.delete(f"{API}/documents/{ids[0]}", headers=api.member.headers)
    assert trashed.status_code == 204
    cached = await scrape(api)
    api.app.state.metrics.archive.read_at = float("-inf")  # as if the 60 s had passed
    after = await scrape(api)

    # HTTP: by route template, never the raw path.
    uploads = {"method": "POST", "path": f"{API}/documents"}
    assert total(after, "archivist_requests_total", **uploads, status_code="201") == (
        total(before, "archivist_requests_total", **uploads, status_code="201") + 3
    )
    search = {"method": "POST", "path": f"{API}/search"}
    assert total(after, "archivist_requests_total", **search, status_code="422") >= 1
    assert total(after, "archivist_request_duration_seconds_count", **search) >= 2
    assert not any(ids[0] in dict(labels).get("path", "") for _, labels in after)
    # The archive's size: read once a minute.
    assert value(cached, "archivist_documents", state="live") == value(
        before, "archivist_documents", state="live"
    )
    assert value(after, "archivist_documents", state="live") == 2
    assert value(after, "archivist_documents", state="trashed") == 1
    assert value(after, "archivist_blob_bytes") == len(b"alpha report") + len(b"beta report")
    # The process and its collector.
    assert (value(after, "process_resident_memory_bytes") or 0) > 10_000_000
    assert (value(after, "process_cpu_seconds_total") or 0) > 0
    assert total(after, "python_gc_collections_total") > 0
    assert total(after, "python_info") == 1

    if pg is None:
        assert total(after, "archivist_db_statement_duration_seconds_count") == total(
            before, "archivist_db_statement_duration_seconds_count"
        )
        return
    assert (value(after, "archivist_db_pool_size", pool="main") or 0) > 0
    assert value(after, "archivist_db_pool_checked_out", pool="main") is not None
    assert (value(after, "archivist_db_pool_checked_in", pool="main") or 0) >= 1
    assert value(after, "archivist_db_pool_overflow", pool="main") is not None
    assert value(after, "archivist_db_pool_wait_seconds_count", pool="main") is not None
    inserts = {"statement": "INSERT documents"}
    added = total(after, "archivist_db_statement_duration_seconds_count", **inserts) - total(
        before, "archivist_db_statement_duration_seconds_count", **inserts
    )
    assert added == 3
    assert total(after, "archivist_db_statement_duration_seconds_bucket", le="5.0", **inserts) >= 3
    names = {dict(labels)["statement"] for n, labels in after if n.startswith("archivist_db_st")}
    assert all(len(name) < 60 and "@" not in name for name in names), names
    # Every error kind is there from the start (zero), so an alert's rate() has a series.
    kinds = {dict(labels)["kind"] for n, labels in after if n == "archivist_db_errors_total"}
    assert kinds == {"connection", "pool_timeout", "statement_timeout", "constraint", "other"}


# --- the Grafana dashboard ------------------------------------------------------------------

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "archivist.json"
SERIES = re.compile(r"\b((?:archivist|process|python)_[a-z0-9_]+)\b")


def generated_dashboard() -> Any:
    """What bench/grafana_dashboard.py writes (the bench directory is no package)."""
    path = DASHBOARD.parents[2] / "bench" / "grafana_dashboard.py"
    spec = importlib.util.spec_from_file_location("grafana_dashboard", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        return module.dashboard()
    finally:
        del sys.modules[spec.name]


def declared(text: str) -> set[str]:
    """The series names a scrape declares: its samples', and those of its families that have
    none yet (a labelled counter nothing has incremented: `# TYPE` only)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {s.name for s in family.samples}
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


async def test_the_dashboard_queries_series_a_scrape_has(api: Api, pg: Database | None) -> None:
    if pg is None:
        pytest.skip("the database's series need PostgreSQL")
    board = json.loads(DASHBOARD.read_text())
    assert board == generated_dashboard()  # the committed file is the script's
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]

    await uploaded(api, api.member, "a.txt", b"alpha")  # queues a thumbnail job
    await run_jobs(api.container, pg)
    await api.client.post(f"{API}/search", json={"query": "alpha"}, headers=api.member.headers)
    api.app.state.metrics.job_queue.read_at = float("-inf")
    api.app.state.metrics.archive.read_at = float("-inf")
    response = await api.client.get("/metrics")
    scraped = declared(response.text)

    ids, places, used = set(), set(), set()
    for panel in board["panels"]:
        assert panel["title"] and panel["type"] == "timeseries"
        assert panel["datasource"]["uid"] == "${datasource}"
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        places.add((grid["x"], grid["y"]))
        ids.add(panel["id"])
        assert panel["targets"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
            names = set(SERIES.findall(target["expr"]))
            assert names, target["expr"]
            assert names <= scraped, names - scraped
            used |= names
    assert len(ids) == len(places) == len(board["panels"]) >= 12
    # The operator's series are all on the board.
    for name in (
        "archivist_requests_total",
        "archivist_request_duration_seconds_bucket",
        "archivist_db_pool_checked_out",
        "archivist_db_pool_wait_seconds_count",
        "archivist_db_statement_duration_seconds_bucket",
        "archivist_db_slow_statements_total",
        "archivist_db_errors_total",
        "archivist_job_queue_depth",
        "archivist_job_outcomes_total",
        "archivist_documents",
        "archivist_blob_bytes",
        "process_resident_memory_bytes",
        "python_gc_collections_total",
    ):
        assert name in used, name
