"""Throttling failed authentication per client address (docs/decisions.md, "Throttling").

In-process: every server process keeps its own counters (with `--workers N` an address may
fail up to N times the limit a minute in all). Nothing here touches the database, so a
throttled address costs a dictionary lookup."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

WINDOW_SECONDS: Final = 60.0
DEFAULT_MAX_ADDRESSES: Final = 10_000


@lru_cache(maxsize=4096)  # a pure function of the address, and clients come back
def throttle_key(address: str | None) -> str | None:
    """What failures are counted under: the IPv4 address, or the IPv6 /64 network (one host
    usually holds a whole /64 and could rotate through it). None when the peer has no IP
    address (a Unix socket, a test client): such clients cannot be told apart, so they are
    not throttled rather than all throttled together."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(slots=True)
class _Window:
    opened_at: float
    failures: int


class FailedAuthenticationThrottle:
    """At most `max_failures` refused credentials per key in a fixed window of 60 seconds
    that opens at the key's first failure; beyond that the key is throttled until the window
    closes. `max_failures=0` turns throttling off.

    Memory is bounded: at most `max_addresses` windows are kept; a new key beyond that evicts
    the window that opened first (the one closest to expiring anyway). An attacker holding
    more addresses than that can push its own windows out, but could as well spread its
    guesses over them; the bound is what keeps the process alive."""

    def __init__(
        self,
        max_failures: int,
        *,
        max_addresses: int = DEFAULT_MAX_ADDRESSES,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 0 or max_addresses < 1 or window_seconds <= 0:
            raise ValueError("max_failures >= 0, max_addresses >= 1, window_seconds > 0")
        self._max_failures = max_failures
        self._max_addresses = max_addresses
        self._window = window_seconds
        self._clock = clock
        # Ordered by when each window opened (a new window goes to the end).
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._max_failures > 0

    def __len__(self) -> int:
        return len(self._windows)

    def retry_after(self, key: str) -> int | None:
        """Whole seconds (at least 1) until `key` may try again, or None if it is not
        throttled."""
        if not self.enabled:
            return None
        window = self._current(key)
        if window is None or window.failures < self._max_failures:
            return None
        remaining = window.opened_at + self._window - self._clock()
        return max(1, math.ceil(remaining))

    def record_failure(self, key: str) -> None:
        """Count one refused credential for `key`."""
        if not self.enabled:
            return
        window = self._current(key)
        if window is not None:
            window.failures += 1
            return
        self._windows[key] = _Window(self._clock(), 1)
        while len(self._windows) > self._max_addresses:
            self._windows.popitem(last=False)

    def _current(self, key: str) -> _Window | None:
        """The key's open window; a closed one is forgotten."""
        window = self._windows.get(key)
        if window is not None and self._clock() >= window.opened_at + self._window:
            del self._windows[key]
            return None
        return window
