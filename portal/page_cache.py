"""Whole pages from Flask-Caching (in process, or Redis), for anonymous and signed-in readers alike.

An anonymous reader's page is the same for every anonymous reader: it is keyed by the content
version (portal.domain.content_version), which every change to what public pages show replaces in
the same transaction: an approval, an edit, a setting. A signed-in reader's page is their own (their
token, likes, reports, own comments): it is kept for them alone, keyed by the content version and
their page stamp, which any change to a row of theirs replaces. Staff see everything, so their
pages (the queue too) are keyed by the activity stamp, which any write replaces.

The first request after a change misses and renders afresh, so no page is ever staler than the
database. Time changes some pages without any write: the next scheduled article is part of the
version, and a page that changes at a known moment (comments closing after N days, the end of an
edit window) lives until then.

The stored answer is the finished one (繁/简 converted, headers set), so a hit costs the sign-in
query, one small query and a dictionary look-up.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from typing import Any, TypeVar

from cachetools import TLRUCache
from flask import Flask, Response, current_app, g, request, session
from flask_caching.backends.base import BaseCache
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Request as WerkzeugRequest

from portal.domain import content_version
from portal.domain.script import Script
from portal.extensions import cache, db
from portal.fragments import FRAGMENT_HEADERS
from portal.models import utc_now

View = TypeVar("View", bound=Callable[..., Any])
# The headers a view's answer depends on besides the address (portal.fragments.wants_fragment).
HTMX_HEADERS = (*FRAGMENT_HEADERS, "HX-Target")
NOT_STORED = {"Set-Cookie", "Content-Length"}
CSRF_FIELD = "csrf_token"  # where Flask-WTF keeps the session's raw token (WTF_CSRF_FIELD_NAME)


def cached_page(view: View) -> View:
    """Marks a view whose answer depends only on the stored data, the address and who asks."""
    view.cached_page = True  # type: ignore[attr-defined]
    return view


Page = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body: a finished answer


def configure(app: Flask) -> None:
    content_version.watch()
    if not app.config["CACHE_TYPE"]:
        redis_url = app.config["REDIS_URL"]
        app.config["CACHE_TYPE"] = "RedisCache" if redis_url else f"{__name__}.PageMemoryCache"
        if redis_url:
            app.config.setdefault("CACHE_REDIS_URL", redis_url)
            # An unreachable Redis costs a request a second at most; the page then renders anyway.
            app.config.setdefault("CACHE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    cache.init_app(app)
    app.extensions["page_cache_errors"] = _store_errors(app.config["CACHE_TYPE"])
    app.wsgi_app = AnonymousHits(app)  # type: ignore[method-assign]


def _store_errors(cache_type: str) -> tuple[type[Exception], ...]:
    """What the store raises when it cannot be reached: the page then renders without it."""
    if "Redis" not in cache_type:
        return ()  # nothing: and no worker without Redis loads its client (8 MiB each)
    from redis.exceptions import RedisError

    return (RedisError,)


class PageMemoryCache(BaseCache):
    """The page store in process, when there is no Redis: pages up to PAGE_CACHE_BYTES a process,
    the least recently used dropped first (cachetools). A count of entries would bound nothing: a
    desk's queue page is 160 KB, a section page 40 KB. A page stays as it was stored (no pickling):
    every reader of it builds a new Response from it."""

    def __init__(self, max_bytes: int, default_timeout: int = 300) -> None:
        super().__init__(default_timeout=default_timeout)
        self._pages: TLRUCache = TLRUCache(max_bytes, ttu=_expiry, getsizeof=_entry_size)
        self._lock = threading.Lock()  # the development server answers in threads

    @classmethod
    def factory(cls, app: Flask, config: dict, args: list, kwargs: dict) -> PageMemoryCache:
        return cls(config["PAGE_CACHE_BYTES"], config["CACHE_DEFAULT_TIMEOUT"])

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._pages.get(key)
        return None if entry is None else entry[1]

    def set(self, key: str, value: Page, timeout: int | None = None) -> bool:
        entry = (self._normalize_timeout(timeout), value)
        with self._lock:
            try:
                self._pages[key] = entry
            except ValueError:  # one page larger than the whole budget is not kept
                self._pages.pop(key, None)
                return False
        return True

    def add(self, key: str, value: Page, timeout: int | None = None) -> bool:
        return not self.has(key) and self.set(key, value, timeout)

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._pages.pop(key, None) is not None

    def has(self, key: str) -> bool:
        with self._lock:
            return key in self._pages

    def clear(self) -> bool:
        with self._lock:
            self._pages.clear()
        return True

    @property
    def bytes_used(self) -> int:
        return int(self._pages.currsize)


def _expiry(_key: str, entry: tuple[int, Page], now: float) -> float:
    timeout = entry[0]
    return now + timeout if timeout > 0 else math.inf


ENTRY_OVERHEAD = 512  # the key, the tuples and the objects around a page's bytes


def _entry_size(entry: tuple[int, Page]) -> int:
    _status, headers, body = entry[1]
    return len(body) + sum(len(name) + len(value) for name, value in headers) + ENTRY_OVERHEAD


def valid_until(moment: datetime) -> None:
    """The page being rendered changes at this moment (UTC) without any write to the database."""
    if moment > utc_now() and ("page_valid_until" not in g or moment < g.page_valid_until):
        g.page_valid_until = moment


def _cacheable() -> bool:
    if not current_app.config["PAGE_CACHE"] or request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    # A reader with messages waiting (flash) sees them once, on a page rendered for the occasion.
    return getattr(view, "cached_page", False) and "_flashes" not in session


def _key() -> str:
    versions = content_version.current(db.session, now=utc_now())
    return key_for(request, versions.public, _viewer(versions))


def key_for(asked: WerkzeugRequest, public_version: str, viewer: str) -> str:
    """An entry's key: the versions it rests on, who it is for, and all of the request it answers."""
    from portal.page_context import SCRIPT_COOKIE

    hx = "|".join(asked.headers.get(name, "") for name in HTMX_HEADERS)
    script = Script.parse(asked.cookies.get(SCRIPT_COOKIE)).value
    return f"{public_version}|{viewer}|{script}|{hx}|{asked.url}"


def _viewer(versions: content_version.Versions) -> str:
    """Who the page is for: anyone, or one session of one user with the stamp their page rests on."""
    if not current_user.is_authenticated:
        return ""
    # The page carries the session's CSRF token: another session of the same user has its own.
    # (A session without one yet gets it written by the rendering, and that answer is not stored.)
    token = str(session.get(CSRF_FIELD, ""))
    session_id = hashlib.blake2b(token.encode(), digest_size=8).hexdigest()
    stamp = versions.activity if current_user.is_staff else current_user.page_stamp
    return f"{current_user.id}:{session_id}:{stamp}"


def serve_from_cache() -> Response | None:
    """before_request: the stored answer, or None to render (and remember the key for storing)."""
    if not _cacheable():
        return None
    key = _key()
    try:
        stored = cache.get(key)
    except current_app.extensions["page_cache_errors"]:
        current_app.logger.warning("page cache unreachable: rendering without it", exc_info=True)
        return None
    if stored is None:
        g.page_cache_key = key
        return None
    status, headers, body = stored
    g.served_from_cache = True
    return Response(body, status=status, headers=headers)


def store_in_cache(response: Response) -> Response:
    """after_request, run after every other hook, so what is stored is the finished answer."""
    key = g.pop("page_cache_key", None)
    if (
        key is None
        or response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or session.modified  # the view wrote a token or a message into this reader's session
    ):
        return response
    headers = [(name, value) for name, value in response.headers.items() if name not in NOT_STORED]
    try:
        cache.set(key, (response.status_code, headers, response.get_data()), timeout=_lifetime())
    except current_app.extensions["page_cache_errors"]:
        current_app.logger.warning("page cache unreachable: answer not stored", exc_info=True)
    return response


def _lifetime() -> int:
    limit = current_app.config["PAGE_CACHE_SECONDS"]
    if (moment := g.get("page_valid_until")) is not None:
        limit = min(limit, max(1, int((moment - utc_now()).total_seconds()) + 1))
    return limit


class AnonymousHits:
    """WSGI, in front of Flask: an anonymous reader's GET answered from the cache before Flask sets
    up a request at all (its context, session, sign-in, limiter and hooks cost more than the look-up).

    Only a request without a session or remember-me cookie comes this way, so it is anonymous with no
    message waiting; the key is the one Flask's path computes (key_for), and an entry exists only
    where a cached view stored it, finished, headers included. Anything else, a miss, or a database or
    cache that does not answer goes on to Flask, which serves or renders as before.
    """

    def __init__(self, app: Flask) -> None:
        self.next, self.config = app.wsgi_app, app.config  # read per request: tests set it later
        self.logger = app.logger
        self.store_errors = app.extensions["page_cache_errors"]
        with app.app_context():
            self.engine = db.engine

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            stored = self._stored(WerkzeugRequest(environ))
            if stored is not None:
                status, headers, body = stored
                start_response(
                    f"{status} {HTTPStatus(status).phrase}", [*headers, ("Content-Length", str(len(body)))]
                )
                return [body]
        return self.next(environ, start_response)

    def _stored(self, asked: WerkzeugRequest) -> Page | None:
        cookies = (
            self.config["SESSION_COOKIE_NAME"],
            self.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        )
        if not self.config["PAGE_CACHE"] or any(name in asked.cookies for name in cookies):
            return None
        try:
            with self.engine.connect() as connection:
                public = content_version.current(connection, now=utc_now()).public
            return cache.get(key_for(asked, public, ""))
        except (SQLAlchemyError, *self.store_errors):
            return None  # Flask's path renders the page, or the error page, and logs why
        except Exception:  # a short cut must never fail a request that Flask would answer
            self.logger.exception("page cache short cut failed: the request goes on to Flask")
            return None
