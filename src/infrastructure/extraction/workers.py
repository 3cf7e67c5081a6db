"""`TextExtractor` that reads files in separate, limited worker processes.

Parsing a hostile PDF is pure-Python work holding the GIL: done in the server process (even in
a thread) it stalls every request and grows the server's memory (issue #9: four uploads of a
20,000-page PDF took `GET /me` from 2 to 70 ms and the server from 132 to 464 MB). Here files
are read by at most `workers` worker processes, one file at a time each, under three limits
per file:

- CPU time: an interval timer on the worker's CPU time (`ITIMER_PROF`) interrupts the parser,
  and the kernel's `RLIMIT_CPU`, set a little later, kills a worker stuck in C code;
- memory: `RLIMIT_AS`, the address space a worker may add to what it started with, so an
  allocation past it raises `MemoryError` instead of growing the machine's memory;
- wall time: the server stops waiting and kills the worker.

The workers are supervised here rather than by `concurrent.futures.ProcessPoolExecutor`: when
one of its workers dies the whole pool breaks and every file in flight fails with it. Here a
worker that dies (a limit, a crash in C, an operator's `kill`) fails only the file it was
reading, and is replaced when the next file needs it; a worker found dead before it got its
file is replaced and the file sent again. Workers are forked from a `forkserver` with the
extraction code imported (a worker starts in ~20 ms plus the main module's imports, which
multiprocessing repeats in every child it starts: one reason to keep workers rather than start
a process per file). A worker that hit the memory limit, failed unexpectedly or grew by more
than half its memory limit is retired after its file, so memory goes back to the system.
Workers run at a lower priority (nice 10): when CPUs are scarce, requests go first.

Small TXT and Markdown files are decoded in the calling thread: decoding is linear and fast,
and a round trip to a worker would only add latency.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any, Final

from domain.blobs import ExtractedText
from domain.documents import DocumentType
from domain.errors import (
    ContentMismatch,
    ExtractionLimitExceeded,
    FieldError,
    OcrUnavailable,
    ValidationFailed,
)
from infrastructure.extraction import ocr
from infrastructure.extraction.extractor import SafeTextExtractor
from infrastructure.extraction.limits import MIB, ExtractionLimits
from infrastructure.extraction.thumbnails import render_thumbnail

log = logging.getLogger("archivist.extraction")

_TEXT_TYPES: Final = frozenset({DocumentType.TXT, DocumentType.MARKDOWN})
# The kernel kills a worker this long after the timer should have stopped its file: the timer
# only interrupts Python code, the kernel also stops a parser stuck in C.
_CPU_KILL_GRACE_S: Final = 2
_NICENESS: Final = 10
_STARTUP_TIMEOUT_S: Final = 120.0  # the main module's imports, on a busy machine
# What a worker is asked to do with a file.
_TEXT = "text"
_THUMBNAIL = "thumbnail"
_OCR = "ocr"
# Scanned pages OCR'd per worker task: each task is under the limits of one file, and sends
# the whole file to its worker (so not one page per task).
_OCR_PAGES_PER_TASK: Final = 4
_MAX_FILES_PER_WORKER: Final = 200  # then a fresh process, whatever the parser leaks
_EXIT_MEMORY: Final = 3  # a worker that could not even send its reply


@dataclass(frozen=True, slots=True)
class ProcessLimits:
    """What reading one file may cost, and how many files are read at once."""

    cpu_seconds: float = 20.0
    memory_mb: int = 512  # address space a worker may add to what it started with
    timeout_seconds: float = 60.0  # wall clock, from the file's arrival at its worker
    workers: int = 0  # files read at once; 0: min(2, CPUs available)
    # TXT/MARKDOWN up to this size are decoded in the calling thread (a few ms at most).
    in_process_text_bytes: int = 1 * MIB


class ProcessTextExtractor:
    """The text of TXT, MARKDOWN, PDF and DOCX files, as `SafeTextExtractor` reads it, each
    file read by a worker process under `ProcessLimits`.

    Raises what `SafeTextExtractor` raises, and `ExtractionLimitExceeded` when the file needs
    more CPU time, memory or wall time than allowed or its worker was killed while reading it.
    Thread-safe: the use cases call it from threads, and a call blocks its thread until a
    worker is free and done. `close()` stops the workers.
    """

    def __init__(
        self,
        limits: ExtractionLimits | None = None,
        process_limits: ProcessLimits | None = None,
        ocr_languages: str = ocr.DEFAULT_LANGUAGES,
        ocr_check: ocr.OcrCheck = ocr.tesseract_problem,
    ) -> None:
        self._limits = limits or ExtractionLimits()
        self._process_limits = process_limits or ProcessLimits()
        self._ocr_languages = ocr.check_languages(ocr_languages)
        self._in_process = SafeTextExtractor(self._limits, ocr_languages, ocr_check)
        self._slots = threading.BoundedSemaphore(self.workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False
        self._context: ForkServerContext = multiprocessing.get_context("forkserver")
        # Imported once by the fork server, so a worker starts with it imported.
        self._context.set_forkserver_preload([__name__])

    @property
    def workers(self) -> int:
        """How many files are read at once."""
        return self._process_limits.workers or min(2, len(os.sched_getaffinity(0)))

    def extract(self, data: bytes, document_type: DocumentType) -> str:
        return self.read(data, document_type).text

    def read(self, data: bytes, document_type: DocumentType) -> ExtractedText:
        """`TextExtractor.read`: the text, and the PDF pages without a text layer."""
        if document_type in _TEXT_TYPES and len(data) <= self._process_limits.in_process_text_bytes:
            return self._in_process.read(data, document_type)
        extracted: ExtractedText = self._run((_TEXT, data, document_type.value, self._limits, None))
        return extracted

    @property
    def ocr_problem(self) -> str | None:
        """`OcrEngine`: why Tesseract cannot run here with the configured languages (None:
        it can). Asked in this process (`ocr_check`, once by default): the workers run the
        same machine's Tesseract."""
        return self._in_process.ocr_problem

    def ocr(self, data: bytes, extracted: ExtractedText) -> str:
        """`OcrEngine`: the scanned pages read by the workers, a few pages per task, each
        task under the limits of reading one file."""
        problem = self.ocr_problem
        if problem is not None:
            raise OcrUnavailable(problem)
        pages = extracted.pages_without_text
        recognised: list[str] = []
        for start in range(0, len(pages), _OCR_PAGES_PER_TASK):
            batch = tuple(pages[start : start + _OCR_PAGES_PER_TASK])
            texts: list[str] = self._run(
                (_OCR, data, DocumentType.PDF.value, self._limits, (batch, self._ocr_languages))
            )
            recognised += texts
        return ocr.with_recognised_text(extracted, recognised, self._limits.max_text_chars)

    def thumbnail(self, data: bytes, document_type: DocumentType, title: str, text: str) -> bytes:
        """`ThumbnailRenderer`: rendered by a worker, under the same limits as reading."""
        picture: bytes = self._run(
            (_THUMBNAIL, data, document_type.value, self._limits, (title, text))
        )
        return picture

    def _run(self, task: tuple[Any, ...]) -> Any:
        with self._slots:
            worker = self._checkout()
            try:
                reply = worker.run(task, self._process_limits.timeout_seconds)
            except _WorkerGone:
                # It died before it got the file (killed while idle): not this file's doing.
                self._discard(worker)
                worker = self._checkout()
                reply = worker.run(task, self._process_limits.timeout_seconds)
            finally:
                self._checkin(worker)
        return _outcome(reply, self._process_limits, self._closed)

    def running_pids(self) -> list[int]:
        """Process ids of the workers reading a file now (for operators and tests)."""
        with self._lock:
            return [w.pid for w in self._busy if w.reading and w.process.is_alive()]

    def close(self) -> None:
        """Stop every worker (killing those still reading a file); later calls fail."""
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
        for worker in workers:
            worker.kill()

    # --- the pool ---------------------------------------------------------------------------

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("text extraction is shut down")
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    self._busy.add(worker)
                    return worker
                worker.kill()  # died while idle: reaped here
        worker = _Worker(self._context, self._process_limits)
        if not self._register(worker):  # close() ran while it started
            worker.kill()
            raise RuntimeError("text extraction is shut down")
        return worker

    def _register(self, worker: _Worker) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._busy.add(worker)
            return True

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not self._closed and worker.reusable:
                self._idle.append(worker)
                return
        worker.kill()

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.kill()


class _WorkerGone(Exception):
    """The worker was dead before it received the file."""


class _Worker:
    """One worker process and the parent's end of its pipe. Used by one thread at a time."""

    def __init__(self, context: ForkServerContext, limits: ProcessLimits) -> None:
        self.conn, child_end = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_worker_main,
            args=(child_end, limits),
            name="archivist-extraction",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        assert self.process.pid is not None
        self.pid: int = self.process.pid
        self.reusable = True
        self.reading = False  # has a file, has not replied yet
        self.files = 0
        try:
            ready = self.conn.poll(_STARTUP_TIMEOUT_S) and self.conn.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RuntimeError(f"a text extraction worker did not start ({self.process.exitcode})")

    def run(self, task: tuple[Any, ...], timeout: float) -> tuple[Any, ...]:
        """The worker's reply to `task`, or a ("died", exit code) / ("timeout",) of our own."""
        try:
            self.conn.send(task)
        except (BrokenPipeError, ConnectionResetError, EOFError) as exc:
            raise _WorkerGone from exc
        self.files += 1
        self.reading = True
        try:
            if not self.conn.poll(timeout):
                self.kill()
                return ("timeout",)
            reply: tuple[Any, ...] = self.conn.recv()
        except (EOFError, OSError):
            self.process.join(10)  # its own exit status, not the SIGKILL below
            self.kill()
            return ("died", self.process.exitcode)
        finally:
            self.reading = False
        self.reusable = not reply[-1] and self.files < _MAX_FILES_PER_WORKER
        return reply[:-1]

    def kill(self) -> None:
        self.reusable = False
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(10)
        with contextlib.suppress(Exception):
            self.conn.close()


def _outcome(reply: tuple[Any, ...], limits: ProcessLimits, closed: bool) -> Any:
    """What the worker made (a text, a thumbnail), or the error its reply stands for."""
    kind = reply[0]
    if kind == "ok":
        return reply[1]
    if kind == "timeout":
        raise ExtractionLimitExceeded(
            "wall time",
            f"exceeds the extraction limit on wall time: reading its text took longer "
            f"than {limits.timeout_seconds:g} s",
        )
    if kind == "cpu" or (kind == "died" and reply[1] == -signal.SIGXCPU):
        raise ExtractionLimitExceeded(
            "cpu time",
            f"exceeds the extraction limit on CPU time: reading its text needs more than "
            f"{limits.cpu_seconds:g} s of CPU time",
        )
    if kind == "memory" or (kind == "died" and reply[1] == _EXIT_MEMORY):
        raise ExtractionLimitExceeded(
            "memory",
            f"exceeds the extraction limit on memory: reading its text needs more than "
            f"{limits.memory_mb} MB",
        )
    if kind == "died":
        if closed:
            raise RuntimeError("text extraction was shut down while reading a file")
        exitcode = reply[1]
        log.warning("a text extraction worker died while reading a file (exit code %s)", exitcode)
        cause = (
            f"signal {signal.Signals(-exitcode).name}"
            if isinstance(exitcode, int) and -exitcode in set(signal.Signals)
            else f"exit code {exitcode}"
        )
        # SIGKILL is also what the kernel's out-of-memory killer sends.
        raise ExtractionLimitExceeded(
            "killed",
            f"exceeds the extraction limits: the process reading its text was killed ({cause})",
        )
    if kind == "limit":
        raise ExtractionLimitExceeded(reply[1], reply[2])
    if kind == "mismatch":
        raise ContentMismatch(reply[1])
    if kind == "invalid":
        raise ValidationFailed(reply[1], [FieldError(f, m) for f, m in reply[2]])
    # The extractor lets nothing else escape; if it ever does, the file is still unreadable
    # to the uploader, and the server log says why.
    log.error("text extraction failed unexpectedly: %s", reply[1])
    raise ValidationFailed.on("file", "could not be read for text")


# --- the worker's side ----------------------------------------------------------------------


class _CpuTimeExceeded(BaseException):
    """Raised by the CPU timer inside whatever the parser is doing (a BaseException, so the
    parser's broad `except Exception` cannot turn it into "a damaged PDF")."""


def _on_cpu_timer(signum: int, frame: object) -> None:
    raise _CpuTimeExceeded


def _statm_bytes(field: int) -> int:
    """Address space (field 0) or resident memory (field 1) of this process, in bytes."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[field]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _cpu_seconds_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker_main(conn: Connection, limits: ProcessLimits) -> None:
    """The worker's loop: receive a file, read it under the limits, reply, until the pipe
    closes or the worker retires. A reply is a tuple whose last item says "retiring"."""
    # The parent stops its workers; a Ctrl-C meant for the server must not end them first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(_NICENESS)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker killed by SIGXCPU dumps nothing
    memory = _statm_bytes(0) + limits.memory_mb * MIB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    signal.signal(signal.SIGPROF, _on_cpu_timer)
    resident_at_start = _statm_bytes(1)
    conn.send(("ready",))
    while True:
        try:
            operation, data, document_type, extraction_limits, extra = conn.recv()
        except EOFError:
            # The extractor closed its end, or was dropped without close() (a test's
            # container): nothing more to read.
            return
        # Per file: the kernel's limit is the CPU time used so far plus this file's allowance.
        kill_at = math.ceil(_cpu_seconds_used() + limits.cpu_seconds) + _CPU_KILL_GRACE_S
        resource.setrlimit(resource.RLIMIT_CPU, (kill_at, resource.RLIM_INFINITY))
        reply = _read_one(
            operation, data, document_type, extraction_limits, extra, limits.cpu_seconds
        )
        del data
        retire = reply[0] in ("memory", "error") or (
            _statm_bytes(1) - resident_at_start > limits.memory_mb * MIB // 2
        )
        try:
            conn.send((*reply, retire))
        except MemoryError:
            os._exit(_EXIT_MEMORY)
        if retire:
            return


def _read_one(
    operation: str,
    data: bytes,
    document_type: str,
    limits: ExtractionLimits,
    extra: Any,
    cpu_seconds: float,
) -> tuple[Any, ...]:
    try:
        signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
        try:
            kind = DocumentType(document_type)
            if operation == _THUMBNAIL:
                title, text = extra
                result: Any = render_thumbnail(data, kind, title, text)
            elif operation == _OCR:
                pages, languages = extra
                # Tesseract is a process of its own: its CPU time is not this worker's, so
                # it gets this file's allowance as its timeout.
                result = ocr.ocr_pages(data, pages, languages, cpu_seconds)
            else:
                result = SafeTextExtractor(limits).read(data, kind)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        return ("ok", result)
    except _CpuTimeExceeded:
        return ("cpu",)
    except MemoryError:
        return ("memory",)
    except ExtractionLimitExceeded as exc:
        return ("limit", exc.limit, exc.errors[0].message)
    except ContentMismatch as exc:
        return ("mismatch", exc.message)
    except ValidationFailed as exc:
        return ("invalid", exc.message, [(e.field, e.message) for e in exc.errors])
    except Exception as exc:
        return ("error", f"{type(exc).__name__}: {exc}"[:500])
