"""Flask-Limiter's in-process storage (portal.rate_limits): no thread per hit, keys still expire;
and its request filter: limits resolved only for the endpoints that have some."""

import ast
import threading
import time
from pathlib import Path

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from portal.extensions import limiter
from portal.rate_limits import InlineExpiryMemoryStorage, limited_endpoints
from tests.helpers import token_for

ROOT = Path(__file__).resolve().parent.parent


def test_the_app_uses_it_when_no_redis_is_configured(app):
    with app.app_context():
        assert isinstance(limiter.storage, InlineExpiryMemoryStorage)


def test_hits_start_no_thread_and_limits_still_hold(monkeypatch):
    storage = InlineExpiryMemoryStorage()
    window = FixedWindowRateLimiter(storage)
    three = parse("3 per minute")
    started = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread) or start(thread))
    hits = []
    for _ in range(4):
        time.sleep(0.02)  # past the 10 ms after which limits' own storage starts a new Timer
        hits.append(window.hit(three, "reader"))
    assert hits == [True, True, True, False]
    assert window.hit(three, "another reader")
    assert started == []


def test_expired_keys_read_as_gone_and_are_swept_on_a_later_hit():
    storage = InlineExpiryMemoryStorage()
    storage.sweep_seconds = 0.0
    storage.incr("old", expiry=0.05)
    assert storage.get("old") == 1
    time.sleep(0.1)
    storage.incr("new", expiry=60)  # the hit that sweeps
    assert "old" not in storage.storage and "old" not in storage.expirations
    assert storage.get("new") == 1


def views_decorated_with_a_limit() -> set[str]:
    """What the source says: the view functions under `@limiter.limit(…)` or `@limiter.shared_limit(…)`
    (one bucket for several views), as module.name."""
    found = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and ast.unparse(d.func) in ("limiter.limit", "limiter.shared_limit")
                for d in node.decorator_list
            ):
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                found.add(f"{module}.{node.name}")
    return found


def test_every_view_with_a_limit_is_checked_and_no_other(app):
    with app.test_request_context():
        limited = limited_endpoints(app, limiter)
    decorated = views_decorated_with_a_limit()
    assert len(decorated) >= 7  # sign-in, registration and its codes, password reset, posting, reports
    assert {
        f"{app.view_functions[e].__module__}.{app.view_functions[e].__name__}" for e in limited
    } == decorated


def test_the_limiter_resolves_limits_only_where_there_are_some(app, client, monkeypatch):
    resolved = []
    resolve = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(
        limiter.limit_manager, "resolve_limits", lambda *a, **k: resolved.append(a[1]) or resolve(*a, **k)
    )
    attempt = {
        "phone": "13900009999",
        "password": "not-this-one",
        "csrf_token": token_for(client, "/accounts/login"),
    }
    app.config["LOGIN_LIMITS"] = "1 per minute"
    assert client.get("/").status_code == 200
    assert client.get("/accounts/login").status_code == 200
    assert resolved == []
    assert client.post("/accounts/login", data=attempt).status_code == 422
    assert set(resolved) == {"accounts.login"}  # its hook, then its view's decorators
    assert client.post("/accounts/login", data=attempt).status_code == 429
