"""Real-browser tests: Debian's chromium driven by Playwright (SECURITY.md §13).

The portal runs in its own process (`flask run`) on a copy of the demo database; every page
records console errors, page errors, CSP reports, dialogs and requests that leave loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

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


def testing_env(instance: Path, media: Path) -> dict[str, str]:
    from tests.conftest import TEST_PII_KEY

    return {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_MEDIA_ROOT": str(media),
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_SESSION_COOKIE_NAME": "session",
        # The demo template's phones are keyed with the test key: without it no demo login works.
        "PORTAL_PII_KEY": TEST_PII_KEY,
        # Every browser test logs in from 127.0.0.1; the production limit is per address.
        "PORTAL_LOGIN_LIMITS": "200 per minute",
        "FLASK_DEBUG": "0",
    }


@pytest.fixture(scope="session")
def live_instance(demo_template, tmp_path_factory) -> Path:
    instance = tmp_path_factory.mktemp("live-instance")
    shutil.copyfile(demo_template, instance / "portal.sqlite")
    return instance


@pytest.fixture(scope="session")
def live_database(live_instance, live_server) -> Path:
    """The live server's SQLite file, for arranging rows the UI cannot make quickly."""
    return live_instance / "portal.sqlite"


@pytest.fixture(scope="session")
def live_server(live_instance, demo_template, tmp_path_factory):
    instance = live_instance
    port = free_port()
    log = (tmp_path_factory.mktemp("live-log") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=testing_env(instance, demo_template.parent / "media"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def base_url(live_server):
    # Our own, with pytest-base-url switched off (pyproject): its autouse check would start
    # the server for every test, browser or not.
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {**browser_context_args, "base_url": live_server, "locale": "zh-TW"}


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


@pytest.fixture
def watch(page) -> PageWatch:
    """Records what must never happen on a page of ours."""
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


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
