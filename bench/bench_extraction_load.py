"""`GET /api/v1/me` while four clients upload a pathological PDF (issue #9, item 9).

Run by hand from the project root:

    .venv/bin/python bench/bench_extraction_load.py [--scenarios default,uncapped]

It starts a throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set), migrates it and
creates an admin and its token with the application (as `bench_me.py`, with the helpers of
`harness.py`), generates the pathological file (a ~3 MB PDF of 20,000 pages, written here without a
PDF library), then for each scenario starts the app under uvicorn (uvloop, httptools, one
worker, no access log; nothing pinned: extraction workers are the server's descendants and
would inherit its CPU) and measures:

1. idle: one client sends `GET /api/v1/me` back to back for `--duration` seconds (p50, p95);
2. under load: the same, while four clients upload the PDF back to back (each starts its next
   upload when the previous one is answered), so four uploads are in flight all along.

It prints both, the ratio under-load p50 / idle p50 (target: at most 2), the uploads' statuses
and durations, and the resident memory (VmRSS) of the server process before and after the
load, and of its descendants (the extraction workers) at the end of the load.

Scenarios (server settings):
- `default`: the shipped limits: the 2,000-page cap refuses the file after reading its page
  count (422 `extraction_limit`, "pages");
- `uncapped`: `ARCHIVIST_EXTRACTION_MAX_PDF_PAGES=1000000`, so the workers really parse all
  20,000 pages (until the CPU-time limit, or to the end): the worst a file under the cap can
  cost, with the server's own CPU shared with two busy workers.

With `--old-src DIR` a scenario `old` runs the server from another copy of `src` (for example
`git archive <commit> src | tar -x -C /tmp/old`), to measure the code before this change on the
same machine. Raw figures go to bench/results/ (not versioned).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import (
    child_env,
    create_admin_token,
    descendants,
    make_workdir,
    pct,
    rss_kib,
    serve,
    start_database,
    utc_stamp,
    write_results,
)
from infrastructure.sqlalchemy.migrations import upgrade

ME = "/api/v1/me"
UPLOAD = "/api/v1/documents"
UPLOADERS = 4
PAGES = 20_000

SCENARIOS: dict[str, dict[str, str]] = {
    "default": {},
    "uncapped": {"ARCHIVIST_EXTRACTION_MAX_PDF_PAGES": "1000000"},
    "old": {},
}


# --- the pathological file ------------------------------------------------------------------


def pathological_pdf(pages: int = PAGES) -> bytes:
    """A valid PDF of `pages` pages sharing one small content stream (~3 MB for 20,000):
    cheap to send, costly to read page by page."""
    lines = [f"(Quarterly figures, line {n}, and some more words) Tj T*" for n in range(6)]
    content = ("BT /F1 12 Tf 14 TL 72 720 Td\n" + "\n".join(lines) + "\nET").encode()
    first_page = 5
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    )
    objects += [page] * pages
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def multipart(data: bytes, title: str) -> tuple[bytes, str]:
    boundary = "archivist-bench-" + os.urandom(8).hex()
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'.encode(),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="pathological.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + data
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- measuring ------------------------------------------------------------------------------


def probe_me(port: int, secret: str, seconds: float) -> list[float]:
    """Latencies (ms) of back-to-back `GET /me` on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {secret}"}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request("GET", ME, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"GET {ME} answered {response.status}")
    finally:
        conn.close()
    return latencies


@dataclass
class Uploads:
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)


def upload_loop(
    port: int,
    secret: str,
    body: bytes,
    ctype: str,
    stop: threading.Event,
    out: Uploads,
    lock: threading.Lock,
) -> None:
    while not stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.perf_counter()
        try:
            conn.request(
                "POST",
                UPLOAD,
                body=body,
                headers={"Authorization": f"Bearer {secret}", "Content-Type": ctype},
            )
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            conn.close()
        with lock:
            out.statuses.append(response.status)
            out.seconds.append(time.perf_counter() - started)
            if len(out.bodies) < 3:
                out.bodies.append(text[:300])


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: str
    idle_p50_ms: float
    idle_p95_ms: float
    idle_requests: int
    load_p50_ms: float
    load_p95_ms: float
    load_requests: int
    ratio_p50: float
    uploads: int
    upload_statuses: dict[str, int]
    upload_p50_s: float
    upload_max_s: float
    server_rss_before_mib: float
    server_rss_after_mib: float
    workers_rss_mib: float
    sample_body: str


def run_scenario(
    name: str, url: str, secret: str, pdf: bytes, workdir: Path, args: argparse.Namespace
) -> ScenarioResult:
    env = child_env("archivist", url)
    env.update(SCENARIOS[name])
    if name == "old":
        env["PYTHONPATH"] = str(Path(args.old_src).resolve())
    body, ctype = multipart(pdf, "pathological")
    with serve("archivist_me_app:create_app", env, workdir, False, secret) as server:
        probe_me(server.port, secret, args.warmup)
        rss_before = rss_kib(server.proc.pid)
        idle = probe_me(server.port, secret, args.duration)

        stop = threading.Event()
        uploads = Uploads()
        lock = threading.Lock()
        threads = [
            threading.Thread(
                target=upload_loop,
                args=(server.port, secret, body, ctype, stop, uploads, lock),
                daemon=True,
            )
            for _ in range(UPLOADERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.ramp)  # the four uploads are sent and being read
        loaded = probe_me(server.port, secret, args.duration)
        workers_kib = sum(
            rss_kib(p) for p in descendants(server.proc.pid) if Path(f"/proc/{p}").exists()
        )
        rss_after = rss_kib(server.proc.pid)
        stop.set()
        for thread in threads:
            thread.join(600)

    statuses: dict[str, int] = {}
    for status in uploads.statuses:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    result = ScenarioResult(
        scenario=name,
        idle_p50_ms=statistics.median(idle),
        idle_p95_ms=pct(idle, 95),
        idle_requests=len(idle),
        load_p50_ms=statistics.median(loaded),
        load_p95_ms=pct(loaded, 95),
        load_requests=len(loaded),
        ratio_p50=statistics.median(loaded) / statistics.median(idle),
        uploads=len(uploads.statuses),
        upload_statuses=statuses,
        upload_p50_s=statistics.median(uploads.seconds) if uploads.seconds else 0.0,
        upload_max_s=max(uploads.seconds, default=0.0),
        server_rss_before_mib=rss_before / 1024,
        server_rss_after_mib=rss_after / 1024,
        workers_rss_mib=workers_kib / 1024,
        sample_body=uploads.bodies[0] if uploads.bodies else "",
    )
    print(
        f"  {name:<9} idle p50 {result.idle_p50_ms:6.2f} ms p95 {result.idle_p95_ms:6.2f} ms"
        f" | 4 uploads p50 {result.load_p50_ms:6.2f} ms p95 {result.load_p95_ms:7.2f} ms"
        f" | ratio {result.ratio_p50:5.2f} | uploads {statuses} p50 {result.upload_p50_s:.1f} s"
        f" max {result.upload_max_s:.1f} s | server RSS {result.server_rss_before_mib:.0f}"
        f" -> {result.server_rss_after_mib:.0f} MiB, workers {result.workers_rss_mib:.0f} MiB",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scenarios", default="default,uncapped")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds before measuring load")
    parser.add_argument("--old-src", help="a copy of src/ to run as scenario 'old'")
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown or ("old" in scenarios and not args.old_src):
        parser.error(f"unknown scenarios {unknown} (or 'old' without --old-src)")

    pdf = pathological_pdf()
    workdir = make_workdir("archivist-bench-extraction-")
    url = start_database(workdir / "pgdata", pin=False)
    upgrade(url)
    secret, _ = asyncio.run(create_admin_token(url))
    print(
        f"PDF: {len(pdf) / 1e6:.1f} MB, {PAGES:,} pages; {UPLOADERS} uploaders; "
        f"{args.duration:g} s per measurement; {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results = [run_scenario(s, url, secret, pdf, workdir, args) for s in scenarios]

    print(
        "\n| scenario | idle p50 ms | idle p95 ms | under 4 uploads p50 ms | p95 ms | p50 ratio "
        "| uploads answered | upload p50 s | server RSS before → after MiB | workers RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.scenario} | {r.idle_p50_ms:.2f} | {r.idle_p95_ms:.2f} | {r.load_p50_ms:.2f} "
            f"| {r.load_p95_ms:.2f} | {r.ratio_p50:.2f} | {r.upload_statuses} "
            f"| {r.upload_p50_s:.1f} | {r.server_rss_before_mib:.0f} → "
            f"{r.server_rss_after_mib:.0f} | {r.workers_rss_mib:.0f} |"
        )
    for r in results:
        print(f"{r.scenario}: first upload answer: {r.sample_body}")

    stamp = utc_stamp()
    write_results(
        "extraction-load",
        {
            "date": stamp,
            "args": vars(args),
            "loadavg": os.getloadavg(),
            "results": [asdict(r) for r in results],
        },
        stamp=stamp,
    )
    within = all(r.ratio_p50 <= 2.0 for r in results if r.scenario != "old")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
