"""Never lose an accepted comment (SECURITY.md §15): the app under gunicorn with four workers on one
SQLite file; six processes, each signed in as its own reader through the real login form, post at the
same time, with htmx and without. Every 201/303 answer must be exactly one stored row."""

from __future__ import annotations

import http.cookiejar
import multiprocessing
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from portal import ROOT, create_app
from portal.domain.accounts import create_verified_user
from portal.domain.pii import PhoneVault
from portal.extensions import db
from portal.models import Role, SiteSetting, utc_now
from tests.conftest import TEST_PII_KEY, app_config
from tests.factories import make_article, make_section

pytest.importorskip("gunicorn", reason="gunicorn is not installed")

PROCESSES = 6
POSTS_EACH = 25
PASSWORD = "concurrent-readers-2026"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
INSTANCE_CONFIG = """\
SECRET_KEY = "concurrency-test-secret-key-0123456789abcdef"
PII_KEY = {pii_key!r}
from argon2 import PasswordHasher as _Hasher
from argon2.profiles import CHEAPEST as _CHEAPEST
PASSWORD_HASHER = _Hasher.from_parameters(_CHEAPEST)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _prepare_instance(instance: Path, template: Path) -> tuple[int, list[str]]:
    """A copy of the migrated database with one article, the readers, and room to post."""
    instance.mkdir()
    (instance / "media").mkdir()
    (instance / "config.py").write_text(INSTANCE_CONFIG.format(pii_key=TEST_PII_KEY), encoding="utf-8")
    database = instance / "portal.sqlite"
    shutil.copyfile(template, database)
    app = create_app(app_config(database, instance / "media"))
    phones = [f"1390000{n:04d}" for n in range(PROCESSES)]
    with app.app_context():
        section = make_section(db.session)
        article = make_article(db.session, section, published_at=utc_now() - timedelta(hours=1))
        vault, hasher = PhoneVault.from_secret(TEST_PII_KEY), app.config["PASSWORD_HASHER"]
        for n, phone in enumerate(phones):
            create_verified_user(
                db.session,
                phone=phone,
                nickname=f"併發讀者{n}",
                password=PASSWORD,
                role=Role.READER,
                vault=vault,
                hasher=hasher,
                now=utc_now() - timedelta(days=60),
            )
        roomy = {
            "comment_cooldown_seconds": "0",
            "comment_ip_hourly": "100000",
            **{f"quota_{tier}": "100000" for tier in ("new", "normal", "good", "restricted")},
        }
        for key, value in roomy.items():
            db.session.merge(SiteSetting(key=key, value=value))
        db.session.commit()
        article_id = article.id
        db.engine.dispose()
    return article_id, phones


def _wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def served(tmp_path, empty_template):
    instance = tmp_path / "instance"
    article_id, phones = _prepare_instance(instance, empty_template)
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_SESSION_COOKIE_NAME": "session",
        "PORTAL_COMMENT_LIMITS": "1000 per minute",
        "PORTAL_LOGIN_LIMITS": "1000 per minute",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, log)
        yield {
            "base": base,
            "article": article_id,
            "phones": phones,
            "database": instance / "portal.sqlite",
            "log": log,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 is the answer we want to see


def _open(opener, url: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode("utf-8", "replace")


def _reader(job: tuple[str, int, str, int]) -> list[tuple[str, int]]:
    """One reader in its own process: log in through the form, then post, alternating htmx and not."""
    base, article_id, phone, number = job
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )
    status, page = _open(opener, f"{base}/accounts/login")
    token = TOKEN.search(page).group(1)
    status, _ = _open(
        opener, f"{base}/accounts/login", {"phone": phone, "password": PASSWORD, "csrf_token": token}
    )
    if status != 303:
        return [("login", status)]
    status, page = _open(opener, f"{base}/articles/{article_id}")
    token = TOKEN.search(page).group(1)
    answers = []
    for n in range(POSTS_EACH):
        text = f"第{number}位讀者的第{n}條評論：東昌湖的夜景真美"
        headers = {"HX-Request": "true", "X-CSRFToken": token} if n % 2 == 0 else {}
        status, _ = _open(
            opener, f"{base}/articles/{article_id}/comments", {"body": text, "csrf_token": token}, headers
        )
        answers.append((text, status))
    return answers


def test_concurrent_posts_under_gunicorn_are_each_stored_exactly_once(served):
    jobs = [(served["base"], served["article"], phone, n) for n, phone in enumerate(served["phones"])]
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        answers = [answer for reader in pool.map(_reader, jobs) for answer in reader]
    log = served["log"].read_text(errors="replace")[-3000:]

    assert [a for a in answers if a[0] == "login"] == [], log
    assert [a for a in answers if a[1] >= 500] == [], log
    accepted = [text for text, status in answers if status in (201, 303)]
    assert len(accepted) == PROCESSES * POSTS_EACH, Counter(status for _, status in answers)
    assert {status for _, status in answers} == {201, 303}  # both ways were exercised

    with sqlite3.connect(served["database"]) as connection:
        stored = [body for (body,) in connection.execute("SELECT body FROM comment")]
        statuses = {status for (status,) in connection.execute("SELECT DISTINCT status FROM comment")}
    counts = Counter(stored)
    assert [text for text, times in counts.items() if times > 1] == []  # no duplicates
    assert sorted(stored) == sorted(accepted)  # every accepted answer is one row, and nothing else
    assert statuses == {"pending"}
