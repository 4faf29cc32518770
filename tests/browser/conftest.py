"""Real-browser tests: Debian's chromium driven by Playwright (SECURITY.md §13).

The portal runs in its own process (`flask run`) on a copy of the demo database; every page
records console errors, page errors, CSP reports, dialogs and requests that leave loopback.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import TEST_PASSWORD, TEST_PII_KEY

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def testing_env(instance: Path, media: Path, **overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_MEDIA_ROOT": str(media),
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_SESSION_COOKIE_NAME": "session",
        # The key the demo template was built with: the demo readers' phones decrypt and log in.
        "PORTAL_PII_KEY": TEST_PII_KEY,
        "FLASK_DEBUG": "0",
        **overrides,
    }


@dataclass
class Portal:
    """A portal served by `flask run` in its own process, on its own copy of the demo database."""

    url: str
    database: Path
    media: Path
    log: Path
    _app: Any = None
    _handed_out: set[int] = field(default_factory=set)
    _phones: Iterator[int] = field(default_factory=lambda: count(13800000001))

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def sms_code(self, phone: str, timeout: float = 5) -> str:
        """The newest code the development sender wrote to the server's stderr for `phone`."""
        pattern = re.compile(rf"\[短信\] {re.escape(phone)}: .*?驗證碼是(\d+)")
        deadline = time.monotonic() + timeout
        while True:
            found = pattern.findall(self.log_text())
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS code for {phone} in {self.log}")
            time.sleep(0.05)

    # --- rows, written with the app's own domain functions into the server's database ---------------

    def app(self):
        """An app of this process on the server's database file, for arranging rows and reading them."""
        if self._app is None:
            from portal import create_app
            from tests.conftest import app_config

            self._app = create_app(app_config(self.database, self.media))
        return self._app

    def close(self) -> None:
        if self._app is not None:
            from portal.extensions import db

            with self._app.app_context():
                db.engine.dispose()

    def reader(self, nickname: str | None = None) -> SimpleNamespace:
        """A reader with a verified phone (the nickname is set as given, past the screen)."""
        from portal.auth import password_hasher, phone_vault
        from portal.domain.accounts import create_verified_user
        from portal.extensions import db
        from portal.models import Role, utc_now

        phone = str(next(self._phones))
        with self.app().app_context():
            user = create_verified_user(
                db.session,
                phone=phone,
                nickname=f"讀者{phone[-4:]}",
                password=TEST_PASSWORD,
                role=Role.READER,
                vault=phone_vault(),
                hasher=password_hasher(),
                now=utc_now(),
            )
            if nickname is not None:
                user.nickname = nickname
            db.session.commit()
            return SimpleNamespace(id=user.id, phone=phone, nickname=user.nickname, password=TEST_PASSWORD)

    def fresh_article(self) -> int:
        """A public article with comments open and none posted yet; a different one on every call."""
        from sqlalchemy import select

        from portal.domain import news
        from portal.domain.comments import comments_closed
        from portal.extensions import db
        from portal.models import Article, ArticleState, utc_now

        now = utc_now()
        with self.app().app_context():
            for article in db.session.scalars(
                select(Article)
                .where(Article.state == ArticleState.PUBLISHED, Article.comment_count == 0)
                .order_by(Article.published_at.desc(), Article.id)
            ):
                if (
                    article.id not in self._handed_out
                    and news.public_article(db.session, article.id, now=now) is not None
                    and not comments_closed(article, now=now)
                ):
                    self._handed_out.add(article.id)
                    return article.id
        raise AssertionError("no fresh article left")

    def approved_comment(
        self,
        article_id: int,
        author_id: int,
        body: str,
        *,
        parent_id: int | None = None,
        minutes_ago: float = 0,
    ) -> int:
        """An approved comment as the demo adds them (no rules run): for arranging threads."""
        from portal.domain.comments import set_status
        from portal.extensions import db
        from portal.models import Comment, CommentStatus, utc_now

        moment = utc_now() - timedelta(minutes=minutes_ago)
        with self.app().app_context():
            comment = Comment(
                article_id=article_id,
                author_id=author_id,
                parent_id=parent_id,
                body=body,
                ip_region="山東",
                created_at=moment,
            )
            db.session.add(comment)
            db.session.flush()
            set_status(db.session, comment, CommentStatus.APPROVED, now=moment)
            db.session.commit()
            return comment.id

    def submit_and_approve(self, article_id: int, author_id: int, body: str) -> int:
        """A comment through the pledge rules (`comments.submit`), then approved by the demo moderator."""
        from sqlalchemy import select

        from portal.comments import context
        from portal.domain import comments, moderation
        from portal.extensions import db
        from portal.models import Article, Role, User, utc_now
        from portal.words import current_word_list

        now = utc_now()
        with self.app().test_request_context():
            comment = comments.submit(
                db.session,
                article=db.session.get(Article, article_id),
                author=db.session.get(User, author_id),
                body=body,
                origin=comments.Origin(ip="127.0.0.1", region="本地"),
                words=current_word_list(),
                rules=context.rules(),
                now=now,
                day_start=context.local_day_start(now),
            )
            db.session.flush()
            moderator = db.session.scalar(select(User).where(User.role == Role.MODERATOR))
            moderation.approve(db.session, comment=comment, moderator=moderator, now=now, today=now.date())
            db.session.commit()
            return comment.id

    def scalar(self, statement):
        from portal.extensions import db

        with self.app().app_context():
            return db.session.scalar(statement)

    def set_settings(self, **values: str) -> None:
        """Site settings, read by the server on its next request."""
        with contextlib.closing(sqlite3.connect(self.database, timeout=15)) as connection, connection:
            connection.executemany(
                "INSERT INTO site_setting (key, value, updated_at) VALUES (?, ?, CURRENT_TIMESTAMP) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [(key, str(value)) for key, value in values.items()],
            )


@contextlib.contextmanager
def serve_portal(
    demo_template: Path, folder: Path, *, settings: dict[str, str] | None = None, **env: str
) -> Iterator[Portal]:
    instance = folder / "instance"
    instance.mkdir()
    portal = Portal(
        url=f"http://127.0.0.1:{free_port()}",
        database=instance / "portal.sqlite",
        media=demo_template.parent / "media",
        log=folder / "server.log",
    )
    shutil.copyfile(demo_template, portal.database)
    if settings:
        portal.set_settings(**settings)
    with portal.log.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
             "--port", portal.url.rsplit(":", 1)[1]],
            cwd=ROOT,
            env=testing_env(instance, portal.media, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until_up(portal.url + "/", process)
            yield portal
        finally:
            portal.close()
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_portal(demo_template, tmp_path_factory) -> Iterator[Portal]:
    """The portal as configured by default (rate limits and all), except the per-address login
    budget: every browser test logs in from 127.0.0.1."""
    with serve_portal(
        demo_template, tmp_path_factory.mktemp("live"), PORTAL_LOGIN_LIMITS="200 per minute"
    ) as portal:
        yield portal


@pytest.fixture(scope="session")
def live_server(live_portal) -> str:
    return live_portal.url


@pytest.fixture(scope="session")
def live_database(live_portal) -> Path:
    """The live server's SQLite file, for arranging rows the UI cannot make quickly."""
    return live_portal.database


# The comment tests post, like and report many times a minute from one address: limits that would
# make them slow or flaky are lifted (a test that wants one sets it back for itself).
COMMENT_SERVER_LIMITS = {
    "PORTAL_COMMENT_LIMITS": "1000 per minute",
    "PORTAL_LOGIN_LIMITS": "1000 per minute",
    "PORTAL_LOGIN_ACCOUNT_LIMITS": "1000 per minute",
    "PORTAL_REGISTER_LIMITS": "1000 per minute",
    "PORTAL_REPORT_LIMITS": "1000 per minute",
}
COMMENT_SERVER_SETTINGS = {
    "comment_cooldown_seconds": "0",
    "quota_new": "1000",
    "comment_ip_hourly": "100000",
}


@pytest.fixture(scope="session")
def comment_portal(demo_template, tmp_path_factory) -> Iterator[Portal]:
    """A second portal for the comment tests: its own database, the limits above lifted."""
    with serve_portal(
        demo_template,
        tmp_path_factory.mktemp("comments"),
        settings=COMMENT_SERVER_SETTINGS,
        **COMMENT_SERVER_LIMITS,
    ) as portal:
        yield portal


@pytest.fixture(scope="session")
def base_url():
    # Our own, with pytest-base-url switched off (pyproject): its autouse check would start
    # the server for every test, browser or not. None: the plugin's context arguments start no
    # server; `browser_context_args` below points each context at the module's `portal_url`.
    return None


@pytest.fixture(scope="session")
def portal_url(live_server) -> str:
    """The server a test's `page` talks to; a module overrides it to use another portal."""
    return live_server


@pytest.fixture
def browser_context_args(browser_context_args, portal_url):
    return {**browser_context_args, "base_url": portal_url, "locale": "zh-TW"}


@dataclass
class PageWatch:
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    off_loopback: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.csp_violations == []
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == []
        assert self.off_loopback == []


def watch_page(page) -> PageWatch:
    """Records on `page` what must never happen on a page of ours."""
    seen = PageWatch()

    def on_console(message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            seen.csp_violations.append(text)
        elif message.type == "error":
            seen.console_errors.append(text)

    def on_dialog(dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    def route(route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
            route.continue_()
        else:
            seen.off_loopback.append(url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("dialog", on_dialog)
    page.route("**/*", route)
    return seen


def log_in_demo(page, phone: str) -> None:
    """Logs `page` in as a demo account (readers, moderator, admin) through the real form."""
    from portal.demo.comments import DEMO_PASSWORD

    page.goto("/accounts/login")
    page.locator("input[name=phone]").fill(phone)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form.account-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login)"))
    assert page.locator(".whoami").count() == 1


def allow_status_error(watch, status: int) -> None:
    """SECURITY.md §3 swaps a 4xx "flagged as an error": htmx logs the flag with console.error and
    Chromium logs the status. Those two lines, for the status this test provokes, are expected; any
    other console error is not."""
    expected = (
        f"Response Status Error Code {status} from ",
        f"Failed to load resource: the server responded with a status of {status} ",
    )
    for start in expected:
        found = [message for message in watch.console_errors if message.startswith(start)]
        assert len(found) <= 1, watch.console_errors
        for message in found:
            watch.console_errors.remove(message)


@pytest.fixture
def watch(page) -> PageWatch:
    """Records what must never happen on a page of ours."""
    return watch_page(page)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
