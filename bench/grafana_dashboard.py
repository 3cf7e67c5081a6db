"""The Grafana dashboard (docs/grafana/archivist.json) and its picture (docs/grafana/dashboard.png).

Run by hand:

    .venv/bin/python bench/grafana_dashboard.py json
    .venv/bin/python bench/grafana_dashboard.py render \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres --seconds 45

`json` writes the dashboard from `PANELS`. `render` starts `archivist serve` on a fresh
database (created on the given server, dropped after), sends traffic (uploads, listings,
searches, bad requests, 404s) with a small pool (so some checkouts wait) and a low slow-query
threshold, scrapes `/metrics` every `--interval` seconds, evaluates each panel's queries on
those scrapes (the same specs the JSON's PromQL is written from; rates over `RATE_WINDOW`
seconds where Grafana would use `$__rate_interval`) and draws them with Pillow. The picture is
that rendering, not a Grafana screenshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "docs" / "grafana" / "archivist.json"
PICTURE = ROOT / "docs" / "grafana" / "dashboard.png"
RATE_WINDOW = 10.0  # seconds: the rendering's stand-in for $__rate_interval

Labels = tuple[tuple[str, str], ...]
Snapshot = dict[str, list[tuple[dict[str, str], float]]]  # sample name -> labelled values
Groups = dict[Labels, float]


def _selector(where: dict[str, str]) -> str:
    if not where:
        return ""
    return "{" + ",".join(f'{k}=~"{v}"' for k, v in sorted(where.items())) + "}"


def _by(by: Sequence[str]) -> str:
    return f" by ({', '.join(by)})" if by else ""


def _matches(labels: dict[str, str], where: dict[str, str]) -> bool:
    import re

    return all(re.fullmatch(v, labels.get(k, "")) for k, v in where.items())


def _group(labels: dict[str, str], by: Sequence[str]) -> Labels:
    return tuple((k, labels.get(k, "")) for k in by)


class Expr:
    def promql(self) -> str:
        raise NotImplementedError

    def evaluate(self, history: list[tuple[float, Snapshot]], i: int) -> Groups:
        raise NotImplementedError


@dataclass(frozen=True)
class Rate(Expr):
    """`sum by (by) (rate(metric{where}[$__rate_interval]))`."""

    metric: str
    by: tuple[str, ...] = ()
    where: dict[str, str] = field(default_factory=dict)

    def promql(self) -> str:
        inner = f"rate({self.metric}{_selector(self.where)}[$__rate_interval])"
        return f"sum{_by(self.by)} ({inner})"

    def evaluate(self, history: list[tuple[float, Snapshot]], i: int) -> Groups:
        now, snap = history[i]
        j = i
        while j > 0 and now - history[j - 1][0] <= RATE_WINDOW + 0.5:
            j -= 1
        if j == i:
            return {}
        then, old = history[j]
        before = {tuple(sorted(ls.items())): v for ls, v in old.get(self.metric, [])}
        out: Groups = defaultdict(float)
        for labels, value in snap.get(self.metric, []):
            if not _matches(labels, self.where):
                continue
            start = before.get(tuple(sorted(labels.items())), 0.0)
            increase = value - start if value >= start else value
            out[_group(labels, self.by)] += increase / (now - then)
        return dict(out)


@dataclass(frozen=True)
class Current(Expr):
    """`agg by (by) (metric{where})` of a gauge."""

    metric: str
    by: tuple[str, ...] = ()
    where: dict[str, str] = field(default_factory=dict)
    agg: str = "sum"

    def promql(self) -> str:
        return f"{self.agg}{_by(self.by)} ({self.metric}{_selector(self.where)})"

    def evaluate(self, history: list[tuple[float, Snapshot]], i: int) -> Groups:
        out: dict[Labels, list[float]] = defaultdict(list)
        for labels, value in history[i][1].get(self.metric, []):
            if _matches(labels, self.where):
                out[_group(labels, self.by)].append(value)
        combine = max if self.agg == "max" else sum
        return {k: float(combine(v)) for k, v in out.items()}


@dataclass(frozen=True)
class Quantile(Expr):
    """`histogram_quantile(q, sum by (le, by) (rate(base_bucket[...])))`."""

    q: float
    base: str
    by: tuple[str, ...] = ()

    def promql(self) -> str:
        inner = Rate(f"{self.base}_bucket", ("le", *self.by)).promql()
        return f"histogram_quantile({self.q}, {inner})"

    def evaluate(self, history: list[tuple[float, Snapshot]], i: int) -> Groups:
        rates = Rate(f"{self.base}_bucket", ("le", *self.by)).evaluate(history, i)
        buckets: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
        for key, value in rates.items():
            le = float(dict(key)["le"])
            buckets[tuple(kv for kv in key if kv[0] != "le")].append((le, value))
        out: Groups = {}
        for key, points in buckets.items():
            points.sort()
            total = points[-1][1]
            if total <= 0:
                continue
            rank, lower, below = self.q * total, 0.0, 0.0
            for le, count in points:
                if count >= rank:
                    if math.isinf(le):
                        out[key] = lower
                    else:
                        share = (rank - below) / (count - below) if count > below else 1
                        out[key] = lower + (le - lower) * share
                    break
                lower, below = le, count
        return out


@dataclass(frozen=True)
class Ratio(Expr):
    """`a / b`, by matching groups (a scalar `b` divides every group); `zero`: a missing
    `a` (no 5xx series yet) is 0, `(a or vector(0)) / b`."""

    a: Expr
    b: Expr
    zero: bool = False

    def promql(self) -> str:
        a = f"({self.a.promql()} or vector(0))" if self.zero else self.a.promql()
        return f"{a} / {self.b.promql()}"

    def evaluate(self, history: list[tuple[float, Snapshot]], i: int) -> Groups:
        a, b = self.a.evaluate(history, i), self.b.evaluate(history, i)
        if self.zero and not a:
            a = {(): 0.0}
        out: Groups = {}
        for key, value in a.items():
            under = b.get(key, b.get((), 0.0))
            if under:
                out[key] = value / under
        return out


@dataclass(frozen=True)
class Top(Expr):
    k: int
    expr: Expr

    def promql(self) -> str:
        return f"topk({self.k}, {self.expr.promql()})"

    def evaluate(self, history: list[tuple[float, Snapshot]], i: int) -> Groups:
        return self.expr.evaluate(history, i)  # the rendering keeps the k largest series


@dataclass(frozen=True)
class Target:
    expr: Expr
    legend: str  # Grafana's legendFormat: {{label}} placeholders


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str  # Grafana unit: reqps, s, short, percentunit, bytes, ops
    targets: tuple[Target, ...]
    description: str = ""


def _rate(metric: str, *by: str, **where: str) -> Rate:
    return Rate(metric, by, where)


REQ = "archivist_requests_total"
DUR = "archivist_request_duration_seconds"
STMT = "archivist_db_statement_duration_seconds"
WAIT = "archivist_db_pool_wait_seconds"

PANELS: tuple[Panel, ...] = (
    Panel(
        "Requests by route",
        "reqps",
        (Target(Top(8, _rate(REQ, "method", "path")), "{{method}} {{path}}"),),
    ),
    Panel(
        "p95 latency by route",
        "s",
        (Target(Top(8, Quantile(0.95, DUR, ("method", "path"))), "{{method}} {{path}}"),),
    ),
    Panel(
        "Responses by status",
        "reqps",
        (Target(_rate(REQ, "status_code"), "{{status_code}}"),),
        "Alert: the 5xx share (next panel) above 1 % for 5 minutes.",
    ),
    Panel(
        "5xx share of responses",
        "percentunit",
        (Target(Ratio(_rate(REQ, status_code="5.."), _rate(REQ), zero=True), "5xx"),),
    ),
    Panel(
        "Connection pool",
        "short",
        (
            Target(Current("archivist_db_pool_checked_out", ("pool",)), "in use {{pool}}"),
            Target(Current("archivist_db_pool_checked_in", ("pool",)), "idle {{pool}}"),
            Target(Current("archivist_db_pool_size", ("pool",)), "size {{pool}}"),
            Target(Current("archivist_db_pool_overflow", ("pool",)), "overflow {{pool}}"),
        ),
    ),
    Panel(
        "New database connections",
        "ops",
        (Target(_rate("archivist_db_pool_connections_opened_total", "pool"), "{{pool}}"),),
        "Steady reconnection: recycling, overflow connections closed at check-in, or lost "
        "connections (see database errors).",
    ),
    Panel(
        "Pool waits and mean wait",
        "short",
        (
            Target(_rate(f"{WAIT}_count", "pool"), "waits/s {{pool}}"),
            Target(
                Ratio(_rate(f"{WAIT}_sum", "pool"), _rate(f"{WAIT}_count", "pool")),
                "mean wait s {{pool}}",
            ),
        ),
        "Alert: waits every second for 5 minutes means the pool is too small or "
        "connections are held too long.",
    ),
    Panel(
        "Statement p95 by name",
        "s",
        (Target(Top(8, Quantile(0.95, STMT, ("statement",))), "{{statement}}"),),
    ),
    Panel(
        "Database time by statement",
        "percentunit",
        (Target(Top(8, _rate(f"{STMT}_sum", "statement")), "{{statement}}"),),
        "Seconds of statement time per second: what the database spends its time on.",
    ),
    Panel(
        "Slow statements and database errors",
        "ops",
        (
            Target(_rate("archivist_db_slow_statements_total", "statement"), "slow {{statement}}"),
            Target(_rate("archivist_db_errors_total", "kind"), "error {{kind}}"),
        ),
    ),
    Panel(
        "Job queue",
        "short",
        (
            Target(
                Current("archivist_job_queue_depth", ("kind", "state"), agg="max"),
                "{{kind}} {{state}}",
            ),
        ),
        "Alert: failed jobs above zero; queued jobs growing for 15 minutes.",
    ),
    Panel(
        "Job outcomes",
        "ops",
        (Target(_rate("archivist_job_outcomes_total", "kind", "outcome"), "{{kind}} {{outcome}}"),),
    ),
    Panel(
        "Documents",
        "short",
        (Target(Current("archivist_documents", ("state",), agg="max"), "{{state}}"),),
        "Read once a minute per process.",
    ),
    Panel(
        "Blob bytes",
        "bytes",
        (Target(Current("archivist_blob_bytes", agg="max"), "stored contents"),),
    ),
    Panel(
        "Requests in progress",
        "short",
        (Target(Current("archivist_requests_in_progress"), "in progress"),),
    ),
    Panel(
        "Process memory",
        "bytes",
        (Target(Current("process_resident_memory_bytes"), "resident"),),
    ),
    Panel(
        "Process CPU",
        "percentunit",
        (Target(_rate("process_cpu_seconds_total"), "CPU seconds per second"),),
    ),
    Panel(
        "Garbage collections",
        "ops",
        (Target(_rate("python_gc_collections_total", "generation"), "generation {{generation}}"),),
    ),
)


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard model (schema 39) of `PANELS`, three panels a row."""
    panels = []
    for n, panel in enumerate(PANELS):
        panels.append(
            {
                "id": n + 1,
                "type": "timeseries",
                "title": panel.title,
                "description": panel.description,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 8, "x": (n % 3) * 8, "y": (n // 3) * 8},
                "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                "targets": [
                    {
                        "refId": chr(ord("A") + i),
                        "datasource": {"type": "prometheus", "uid": "${datasource}"},
                        "expr": target.expr.promql(),
                        "legendFormat": target.legend,
                    }
                    for i, target in enumerate(panel.targets)
                ],
            }
        )
    return {
        "title": "Archivist",
        "uid": "archivist",
        "description": "Generated by bench/grafana_dashboard.py from the series of /metrics "
        "(docs/operations.md, Monitoring).",
        "tags": ["archivist"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                }
            ]
        },
        "panels": panels,
    }


def write_json() -> None:
    DASHBOARD.parent.mkdir(parents=True, exist_ok=True)
    DASHBOARD.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {DASHBOARD.relative_to(ROOT)}")


# --- collecting real data -------------------------------------------------------------------


def parse_scrape(text: str) -> Snapshot:
    from prometheus_client.parser import text_string_to_metric_families

    snap: Snapshot = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            snap[s.name].append((dict(s.labels), float(s.value)))
    return dict(snap)


async def collect(
    base: str, token: str, seconds: float, interval: float
) -> list[tuple[float, Snapshot]]:
    """Traffic for `seconds` (in phases: quiet, busy, errors) and a scrape every `interval`."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    words = ["invoice", "contract", "report", "minutes", "budget", "policy", "memo", "plan"]
    history: list[tuple[float, Snapshot]] = []
    started = time.monotonic()
    stop = asyncio.Event()

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def user(n: int) -> None:
            rng = random.Random(n)
            ids: list[str] = []
            while not stop.is_set():
                elapsed = time.monotonic() - started
                busy = seconds * 0.3 < elapsed < seconds * 0.7
                if not busy and n >= 2:  # two users when quiet, all of them when busy
                    await asyncio.sleep(0.2)
                    continue
                roll = rng.random()
                if roll < 0.25:
                    body = " ".join(rng.choices(words, k=40)).encode()
                    r = await client.post(
                        "/api/v1/documents",
                        files={"file": (f"{rng.choice(words)}.txt", body, "text/plain")},
                        data={"on_duplicate": "allow"},
                        headers=headers,
                    )
                    if r.status_code == 201:
                        ids.append(r.json()["id"])
                elif roll < 0.45:
                    await client.get("/api/v1/documents?limit=20", headers=headers)
                elif roll < 0.65:
                    await client.post(
                        "/api/v1/search", json={"query": rng.choice(words)}, headers=headers
                    )
                elif roll < 0.75 and ids:
                    await client.get(f"/api/v1/documents/{rng.choice(ids)}", headers=headers)
                elif roll < 0.85:
                    await client.get("/api/v1/me", headers=headers)
                elif roll < 0.9:
                    await client.get(f"/api/v1/documents/{uuid.uuid4()}", headers=headers)
                elif roll < 0.95:
                    await client.post("/api/v1/search", json={"query": ""}, headers=headers)
                elif ids and elapsed > seconds * 0.75:
                    await client.delete(f"/api/v1/documents/{ids.pop()}", headers=headers)
                await asyncio.sleep(0.01)

        users = [asyncio.create_task(user(n)) for n in range(8)]
        while time.monotonic() - started < seconds:
            r = await client.get("/metrics")
            history.append((time.monotonic() - started, parse_scrape(r.text)))
            await asyncio.sleep(interval)
        stop.set()
        await asyncio.gather(*users)
    return history


def run_server(database_url: str, seconds: float, interval: float) -> list[tuple[float, Snapshot]]:
    """`archivist serve` on a fresh database; the scrapes of `collect`."""
    import asyncpg  # type: ignore[import-untyped]
    import httpx

    name = f"archivist_dashboard_{os.getpid()}"
    admin_url = database_url.replace("postgresql+asyncpg://", "postgresql://")

    async def database(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(database(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    port = 18000 + os.getpid() % 1000
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ARCHIVIST_DATA_DIR": data,
            "ARCHIVIST_DB_POOL_SIZE": "3",  # small: a busy phase makes checkouts wait
            "ARCHIVIST_SLOW_QUERY_MS": "20",
            "ARCHIVIST_LOG_LEVEL": "ERROR",
        }
        archivist = str(ROOT / ".venv" / "bin" / "archivist")
        server = subprocess.Popen(
            [archivist, "serve", "--port", str(port), "--no-access-log"], env=env
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            made = subprocess.run(
                [archivist, "admin", "create", "--email", "ops@example.com", "--name", "Ops"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            token = made.stdout.strip().split()[-1]
            return asyncio.run(collect(base, token, seconds, interval))
        finally:
            server.terminate()
            server.wait(timeout=30)
            asyncio.run(database(f'DROP DATABASE "{name}" WITH (FORCE)'))


# --- drawing --------------------------------------------------------------------------------

COLOURS = [
    (115, 191, 105), (242, 204, 12), (87, 148, 242), (255, 120, 10),
    (242, 73, 92), (184, 119, 217), (111, 207, 220), (250, 222, 42),
]  # fmt: skip
BG, PANEL_BG, GRID, TEXT, DIM = (
    (17, 18, 23),
    (24, 27, 31),
    (44, 47, 54),
    (216, 217, 218),
    (140, 143, 150),
)


def _fmt(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "bytes":
        for size, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(value) >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value:.0f} B"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def _legend(template: str, key: Labels) -> str:
    text = template
    for k, v in key:
        text = text.replace("{{" + k + "}}", v)
    return text.replace("/api/v1", "")


def render(history: list[tuple[float, Snapshot]], seconds: float) -> None:
    from PIL import Image, ImageDraw, ImageFont

    font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    font = ImageFont.truetype(font_path, 12)
    small = ImageFont.truetype(font_path, 10)
    title_font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 14)
    cols, w, h, pad = 3, 560, 300, 10
    rows = math.ceil(len(PANELS) / cols)
    image = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + pad) + pad + 60), BG)
    draw = ImageDraw.Draw(image)
    draw.text(
        (pad, 12),
        "Archivist dashboard (docs/grafana/archivist.json): its queries evaluated on "
        f"{len(history)} scrapes of /metrics over {seconds:.0f} s of traffic against "
        "`archivist serve`",
        fill=TEXT,
        font=title_font,
    )
    draw.text(
        (pad, 34),
        "Rendered by bench/grafana_dashboard.py with Pillow, not a Grafana screenshot; rates "
        f"over {RATE_WINDOW:.0f} s. Traffic: 2 clients, 8 between 30 % and 70 % of the time "
        "(pool size 3).",
        fill=DIM,
        font=font,
    )
    times = [t for t, _ in history]
    for n, panel in enumerate(PANELS):
        x0, y0 = pad + (n % cols) * (w + pad), 60 + pad + (n // cols) * (h + pad)
        draw.rectangle((x0, y0, x0 + w, y0 + h), fill=PANEL_BG, outline=GRID)
        draw.text((x0 + 8, y0 + 6), panel.title, fill=TEXT, font=title_font)
        lines: list[tuple[str, list[float | None]]] = []
        for target in panel.targets:
            per_time = [target.expr.evaluate(history, i) for i in range(len(history))]
            keys = sorted({k for groups in per_time for k in groups})
            series = [(k, [g.get(k) for g in per_time]) for k in keys]
            if isinstance(target.expr, Top):
                series.sort(key=lambda s: -sum(v or 0 for v in s[1]))
                series = series[: target.expr.k]
            lines += [(_legend(target.legend, k), values) for k, values in series]
        px0, py0, px1, py1 = x0 + 60, y0 + 30, x0 + w - 10, y0 + h - 80
        values = [v for _, vs in lines for v in vs if v is not None]
        top = max(values, default=1.0) or 1.0
        top *= 1.1
        for g in range(5):
            y = py1 - (py1 - py0) * g / 4
            draw.line((px0, y, px1, y), fill=GRID)
            draw.text((x0 + 4, y - 6), _fmt(top * g / 4, panel.unit), fill=DIM, font=small)
        span = max(times[-1] - times[0], 1.0)
        for sec in range(0, int(span) + 1, 10):
            x = px0 + (px1 - px0) * sec / span
            draw.text((x - 6, py1 + 3), f"{sec}s", fill=DIM, font=small)
        if not lines:
            draw.text((px0 + 10, py0 + 40), "no data", fill=DIM, font=font)
        for c, (label, vs) in enumerate(lines):
            colour = COLOURS[c % len(COLOURS)]
            points = [
                (px0 + (px1 - px0) * (t - times[0]) / span, py1 - (py1 - py0) * v / top)
                for t, v in zip(times, vs, strict=True)
                if v is not None
            ]
            if len(points) > 1:
                draw.line(points, fill=colour, width=2)
            elif points:
                draw.ellipse(
                    (points[0][0] - 2, points[0][1] - 2, points[0][0] + 2, points[0][1] + 2),
                    fill=colour,
                )
            if c < 8:
                lx, ly = x0 + 8 + (c % 2) * (w // 2), py1 + 18 + (c // 2) * 14
                draw.rectangle((lx, ly + 3, lx + 10, ly + 9), fill=colour)
                last = next((v for v in reversed(vs) if v is not None), None)
                shown = f"{label[:38]}  {_fmt(last, panel.unit) if last is not None else ''}"
                draw.text((lx + 14, ly), shown, fill=TEXT, font=small)
        if len(lines) > 8:
            draw.text((x0 + w - 90, y0 + 8), f"+{len(lines) - 8} series", fill=DIM, font=small)
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    image.save(PICTURE, optimize=True)
    print(f"wrote {PICTURE.relative_to(ROOT)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("json", help="write docs/grafana/archivist.json")
    drawing = sub.add_parser("render", help="run the app with traffic and draw the dashboard")
    drawing.add_argument("--database-url", required=True, help="a server to make a database on")
    drawing.add_argument("--seconds", type=float, default=45)
    drawing.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.command == "json":
        write_json()
        return 0
    history = run_server(args.database_url, args.seconds, args.interval)
    render(history, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
