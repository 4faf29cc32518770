"""Flask-Limiter's in-process storage when no Redis is configured (one process's limits), and
its request filter for endpoints without limits.

limits' `MemoryStorage` expires keys on a `threading.Timer` that it starts anew whenever the last
one has fired, so a busy worker starts a thread about every 10 ms: each request that does so waits
for the thread to start, and the thread then contends for the GIL with requests. This storage is
the same in every other respect and sweeps expired keys on the caller's own thread instead, at most
once a second (a key past its expiry already reads as absent, so sweeping only frees memory).
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from flask import Flask, current_app, g, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_qualified_name
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


def skip_endpoints_without_limits(limiter: Limiter) -> None:
    """Flask-Limiter resolves and evaluates the limits of every request before it finds that most
    endpoints have none: a fifth of a signed-in page served from the cache. Its request filter ends
    that early for an endpoint that carries no limit; the limited ones (sign-in, registration,
    posting, reports) are checked exactly as before."""

    @limiter.request_filter
    def no_limit_here() -> bool:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if LIMITED not in app.extensions:
            app.extensions[LIMITED] = limited_endpoints(app, limiter)
        limited = app.extensions[LIMITED]
        endpoint = request.endpoint or ""
        return (
            limited is not None and endpoint not in limited and not limiter.limit_manager.has_hints(endpoint)
        )


LIMITED = "rate_limited_endpoints"


def limited_endpoints(app: Flask, limiter: Limiter) -> frozenset[str] | None:
    """The endpoints with a limit on their view or their blueprint; None: every endpoint has one."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits:
        return None
    return frozenset(
        endpoint
        for endpoint, view in app.view_functions.items()
        if manager.decorated_limits(get_qualified_name(view))
        or manager.blueprint_limits(app, endpoint.rpartition(".")[0])
    )


def breach_wait(limit: RequestLimit) -> int:
    """Seconds until a breached limit lets the next request through (at least 1), for the message
    beside the field; also the Retry-After header, which auth.keep_domain_retry_after sends."""
    wait = max(1, math.ceil(limit.window.reset_time - time.time()))
    g.retry_after = wait
    return wait
