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
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from redis.exceptions import RedisError

from portal.domain import content_version
from portal.extensions import cache, db
from portal.models import utc_now

View = TypeVar("View", bound=Callable[..., Any])
# The headers a view's answer depends on besides the address (portal.fragments.wants_fragment).
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Target")
NOT_STORED = {"Set-Cookie", "Content-Length"}
CSRF_FIELD = "csrf_token"  # where Flask-WTF keeps the session's raw token (WTF_CSRF_FIELD_NAME)


def cached_page(view: View) -> View:
    """Marks a view whose answer depends only on the stored data, the address and who asks."""
    view.cached_page = True  # type: ignore[attr-defined]
    return view


def configure(app: Flask) -> None:
    content_version.watch()
    if not app.config["CACHE_TYPE"]:
        redis_url = app.config["REDIS_URL"]
        app.config["CACHE_TYPE"] = "RedisCache" if redis_url else "SimpleCache"
        if redis_url:
            app.config.setdefault("CACHE_REDIS_URL", redis_url)
            # An unreachable Redis costs a request a second at most; the page then renders anyway.
            app.config.setdefault("CACHE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    cache.init_app(app)


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
    from portal.page_context import current_script

    hx = "|".join(request.headers.get(name, "") for name in HTMX_HEADERS)
    versions = content_version.current(db.session, now=utc_now())
    return f"{versions.public}|{_viewer(versions)}|{current_script().value}|{hx}|{request.url}"


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
    except RedisError:
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
    except RedisError:
        current_app.logger.warning("page cache unreachable: answer not stored", exc_info=True)
    return response


def _lifetime() -> int:
    limit = current_app.config["PAGE_CACHE_SECONDS"]
    if (moment := g.get("page_valid_until")) is not None:
        limit = min(limit, max(1, int((moment - utc_now()).total_seconds()) + 1))
    return limit
