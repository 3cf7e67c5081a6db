"""`ProcessTextExtractor` for real: every file read in a child process under CPU-time, memory
and wall-time limits, a file over one refused naming it, and no file able to harm another.

Each test starts real worker processes (from a fork server, ~20 ms each after the first), and
scales the limits down to keep the files small.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.documents import DocumentType
from domain.errors import ContentMismatch, ExtractionLimitExceeded, ValidationFailed
from infrastructure.extraction import ExtractionLimits, ProcessLimits, ProcessTextExtractor
from tests.support.pdf import one_page_pdf, pdf_with_pages

# Enough text that reading it takes several seconds of CPU time (about 4 s here).
_LINES = "\n".join(f"line {j} of a page with quite a few words on it" for j in range(40))
SLOW_PDF = pdf_with_pages(*[_LINES] * 1000)


@pytest.fixture
def make_extractor() -> Iterator[Callable[..., ProcessTextExtractor]]:
    made: list[ProcessTextExtractor] = []

    def make(max_pdf_pages: int = 2000, **limits: float) -> ProcessTextExtractor:
        settings = {"cpu_seconds": 30.0, "timeout_seconds": 60.0, "workers": 2, **limits}
        extractor = ProcessTextExtractor(
            ExtractionLimits(max_pdf_pages=max_pdf_pages),
            ProcessLimits(**settings),  # type: ignore[arg-type]
        )
        made.append(extractor)
        return extractor

    yield make
    for extractor in made:
        extractor.close()


def flate_bomb_pdf(inflated_bytes: int) -> bytes:
    """A one-page PDF whose content stream is `inflated_bytes` of text operators, deflated to
    a few hundred KiB: small on the wire, large in memory."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(a) Tj " * (inflated_bytes // 7) + b"ET"
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
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


def wait_for_children(extractor: ProcessTextExtractor, count: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = extractor.running_pids()
        if len(pids) >= count:
            return pids
        time.sleep(0.02)
    raise AssertionError(f"{count} extraction processes never started")


# -- what it reads ---------------------------------------------------------------------------


def test_a_pdf_is_read_in_a_child_process(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor()

    text = extractor.extract(pdf_with_pages("First page", "Second page"), DocumentType.PDF)

    assert text == "First page\n\nSecond page"


def test_refusals_keep_their_kind_across_the_process_boundary(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor()

    with pytest.raises(ContentMismatch):
        extractor.extract(b"plain text", DocumentType.PDF)
    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(one_page_pdf("cut")[:-20], DocumentType.PDF)
    assert caught.value.errors[0].field == "file"
    assert "truncated" in caught.value.message


def test_large_text_files_are_read_in_a_child_and_small_ones_in_process(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(in_process_text_bytes=10)

    assert extractor.extract(b"short", DocumentType.TXT) == "short"
    assert extractor.extract("Grüße\r\n".encode() * 1000, DocumentType.TXT) == "Grüße\n" * 1000


def test_concurrent_extractions_each_get_their_own_text(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(workers=2)
    files = [pdf_with_pages(f"document {n}", f"page two of {n}") for n in range(8)]

    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda data: extractor.extract(data, DocumentType.PDF), files))

    assert texts == [f"document {n}\n\npage two of {n}" for n in range(8)]


# -- the limits ------------------------------------------------------------------------------


def test_a_pdf_over_the_page_cap_is_refused_naming_pages(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(max_pdf_pages=3)

    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(pdf_with_pages(*"abcd"), DocumentType.PDF)

    assert caught.value.limit == "pages"
    assert caught.value.errors[0].field == "file"
    assert "limit on pages" in caught.value.message


def test_a_file_needing_more_cpu_time_than_allowed_is_refused_naming_cpu_time(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(cpu_seconds=0.3)

    started = time.monotonic()
    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(SLOW_PDF, DocumentType.PDF)

    assert caught.value.limit == "cpu time"
    assert "0.3 s of CPU time" in caught.value.message
    # Stopped, not read to the end (~4 s of CPU time); generous, the machine may be busy.
    assert time.monotonic() - started < 30


def test_a_memory_bomb_is_refused_naming_memory(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    bomb = flate_bomb_pdf(60 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    extractor = make_extractor(memory_mb=32)

    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(bomb, DocumentType.PDF)

    assert caught.value.limit == "memory"
    assert "32 MB" in caught.value.message


def test_a_file_taking_longer_than_the_timeout_is_refused_naming_wall_time(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(timeout_seconds=0.5)

    started = time.monotonic()
    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(SLOW_PDF, DocumentType.PDF)

    assert caught.value.limit == "wall time"
    assert time.monotonic() - started < 30
    assert extractor.running_pids() == []  # the child was killed, not left running


# -- faults ----------------------------------------------------------------------------------


def test_a_child_killed_mid_file_is_a_refusal_and_the_next_file_is_read(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(workers=1)
    outcome: list[BaseException] = []

    def slow() -> None:
        try:
            extractor.extract(SLOW_PDF, DocumentType.PDF)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=slow)
    worker.start()
    [pid] = wait_for_children(extractor, 1)
    os.kill(pid, signal.SIGKILL)
    worker.join(30)

    assert len(outcome) == 1
    assert isinstance(outcome[0], ExtractionLimitExceeded)
    assert outcome[0].limit == "killed"
    assert "SIGKILL" in outcome[0].message
    assert extractor.extract(one_page_pdf("still working"), DocumentType.PDF) == "still working"


def test_a_sibling_dying_does_not_fail_the_other_extraction(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(workers=2)
    survivor_pdf = pdf_with_pages(*[_LINES] * 150) + b""  # about a second of work
    with ThreadPoolExecutor(2) as pool:
        doomed = pool.submit(extractor.extract, SLOW_PDF, DocumentType.PDF)
        wait_for_children(extractor, 1)
        [doomed_pid] = extractor.running_pids()
        survivor = pool.submit(extractor.extract, survivor_pdf, DocumentType.PDF)
        wait_for_children(extractor, 2)
        os.kill(doomed_pid, signal.SIGKILL)

        with pytest.raises(ExtractionLimitExceeded):
            doomed.result(30)
        text = survivor.result(60)

    assert text.count("line 39 of a page") == 150


def test_close_kills_the_children_still_running(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(extractor.extract, SLOW_PDF, DocumentType.PDF)
        wait_for_children(extractor, 1)
        extractor.close()

        with pytest.raises(RuntimeError):
            pending.result(30)
    assert extractor.running_pids() == []


def test_a_worker_killed_while_idle_is_replaced_and_the_file_still_read(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(workers=1)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(extractor.extract, pdf_with_pages(*[_LINES] * 30), DocumentType.PDF)
        [pid] = wait_for_children(extractor, 1)
        first.result(60)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)

    assert extractor.extract(one_page_pdf("innocent"), DocumentType.PDF) == "innocent"


def test_a_worker_that_ran_out_of_memory_is_retired_and_the_next_file_read(
    make_extractor: Callable[..., ProcessTextExtractor],
) -> None:
    extractor = make_extractor(workers=1, memory_mb=32)
    with pytest.raises(ExtractionLimitExceeded):
        extractor.extract(flate_bomb_pdf(60 * 1024 * 1024), DocumentType.PDF)

    assert extractor.extract(one_page_pdf("after the bomb"), DocumentType.PDF) == "after the bomb"


def test_an_extractor_dropped_without_close_stops_its_workers() -> None:
    extractor = ProcessTextExtractor(ExtractionLimits(), ProcessLimits(workers=1))
    extractor.extract(one_page_pdf("once"), DocumentType.PDF)
    [worker] = extractor._idle  # the idle worker it keeps for the next file
    process = worker.process

    del extractor, worker
    gc.collect()

    process.join(10)
    assert not process.is_alive()
