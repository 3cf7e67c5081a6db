"""Process and garbage-collector metrics under prometheus_client's multiprocess mode.

In one process, prometheus_client's own collectors (`ProcessCollector`: CPU, memory, open
files, start time; `GCCollector`: collections per generation; `PlatformCollector`: the Python
version) are registered in each app's registry and read at scrape time. Under multiprocess
mode (`PROMETHEUS_MULTIPROC_DIR`) a scrape reaches one of the server's processes and
collectors are not shared, so prometheus_client leaves these out. `ProcessSampler` copies
their values into multiprocess gauges of the same names instead, summed over the live
processes (the start time: the earliest; the file limit: the largest), so the dashboard's
queries read the same series in both modes. Each process samples every few seconds
(`interfaces.http.metrics`), so a scrape sees the other processes' values that old.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Literal

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector

_Mode = Literal["livesum", "livemin", "livemax"]
_MODES: dict[str, _Mode] = {
    "process_start_time_seconds": "livemin",
    "process_max_fds": "livemax",
}


class ProcessSampler:
    """Writes this process's `process_*` and `python_gc_*` samples into gauges."""

    def __init__(self) -> None:
        unused = CollectorRegistry()  # GCCollector registers itself somewhere
        self._collectors = (ProcessCollector(registry=None), GCCollector(registry=unused))
        self._gauges: dict[str, Gauge] = {}

    def _families(self) -> Iterable[Metric]:
        return chain.from_iterable(c.collect() for c in self._collectors)

    def sample(self) -> None:
        for family in self._families():
            for sample in family.samples:
                gauge = self._gauges.get(sample.name)
                if gauge is None:
                    gauge = Gauge(
                        sample.name,
                        family.documentation,
                        sorted(sample.labels),
                        registry=None,
                        multiprocess_mode=_MODES.get(sample.name, "livesum"),
                    )
                    self._gauges[sample.name] = gauge
                (gauge.labels(**sample.labels) if sample.labels else gauge).set(sample.value)
