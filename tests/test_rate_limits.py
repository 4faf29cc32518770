"""Flask-Limiter's in-process storage (portal.rate_limits): no thread per hit, keys still expire."""

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from portal.extensions import limiter
from portal.rate_limits import InlineExpiryMemoryStorage


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
