"""The in-process storage for Flask-Limiter when no Redis is configured (one process's limits).

limits' `MemoryStorage` expires keys on a `threading.Timer` that it starts anew whenever the last
one has fired, so a busy worker starts a thread about every 10 ms: each request that does so waits
for the thread to start, and the thread then contends for the GIL with requests. This storage is
the same in every other respect and sweeps expired keys on the caller's own thread instead, at most
once a second (a key past its expiry already reads as absent, so sweeping only frees memory).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from limits.storage import MemoryStorage

SCHEME = "process-memory"


class InlineExpiryMemoryStorage(MemoryStorage):
    STORAGE_SCHEME: ClassVar[list[str]] = [
        SCHEME
    ]  # limits registers the class under it: RATELIMIT_STORAGE_URI picks it
    sweep_seconds = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one the base class starts at once
        self._next_sweep = 0.0

    # The base class's private hook, called on every hit (name-mangled there, hence the name).
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_seconds
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
