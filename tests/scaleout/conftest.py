"""Several app nodes on real PostgreSQL and Redis servers, started for these tests only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.helpers import csrf_token_from
from tests.servers import (
    RedisServer,
    create_database,
    free_port,
    have_postgres,
    have_redis,
    postgres_server,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo-password-2026"
READERS = ["13900000001", "13900000002", "13900000003", "13900000004"]
MODERATOR, ADMIN = "13900000005", "13900000006"


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    if not have_postgres():
        pytest.skip("PostgreSQL is not installed (.ci/test installs it)")
    with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    if not have_redis():
        pytest.skip("redis-server is not installed (.ci/test installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def flask_command(instance: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, "PORTAL_INSTANCE_PATH": str(instance), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@dataclass
class Site:
    """One database (and instance folder with its secrets) shared by the nodes of a test."""

    instance: Path
    env: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    def start_node(self, workers: int = 2, **overrides: str) -> Node:
        port = free_port()
        log = (self.instance / f"node-{port}.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "2",
                "wsgi:app",
            ],
            cwd=ROOT,
            env={**os.environ, "PORTAL_INSTANCE_PATH": str(self.instance), **self.env, **overrides},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        node = Node(f"http://127.0.0.1:{port}", process, self.instance / f"node-{port}.log")
        node.wait_until_up()
        self.nodes.append(node)
        return node

    def stop(self) -> None:
        for node in self.nodes:
            node.process.terminate()
        for node in self.nodes:
            try:
                node.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.process.kill()


@dataclass
class Node:
    url: str
    process: subprocess.Popen
    log: Path

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                requests.get(self.url + "/pages/about", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{self.url} did not start")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def token(session: requests.Session, url: str) -> str:
    return csrf_token_from(session.get(url, timeout=10).text)


def login(node: Node, phone: str, session: requests.Session | None = None) -> requests.Session:
    session = session or requests.Session()
    answer = session.post(
        node.url + "/accounts/login",
        data={
            "phone": phone,
            "password": DEMO_PASSWORD,
            "csrf_token": token(session, node.url + "/accounts/login"),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text[:500]
    return session


def post_comment(node: Node, session: requests.Session, article_id: int, body: str) -> requests.Response:
    return session.post(
        f"{node.url}/articles/{article_id}/comments",
        data={"body": body, "csrf_token": token(session, f"{node.url}/articles/{article_id}")},
        headers={"HX-Request": "true"},
        timeout=30,
    )


def _make_site(tmp_path: Path, database_url: str, redis_url: str | None) -> Site:
    instance = tmp_path / "instance"
    env = {
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_SESSION_COOKIE_NAME": "session",
        # Every test client comes from 127.0.0.1: the per-IP login budget is not under test here.
        "PORTAL_LOGIN_LIMITS": "10000 per minute",
    }
    if redis_url:
        env["PORTAL_REDIS_URL"] = redis_url
    flask_command(instance, env, "init-instance")
    flask_command(instance, env, "seed-demo")
    return Site(instance=instance, env=env)


@pytest.fixture(scope="module")
def shared_site(pg_url, redis, tmp_path_factory, request):
    """One seeded database per module (seeding takes seconds); each test starts its own nodes."""
    name = re.sub(r"[^a-z0-9]", "_", request.module.__name__.lower())[-40:] + f"_{os.getpid()}"
    site = _make_site(tmp_path_factory.mktemp("site"), create_database(pg_url, name), redis.url)
    # Only the limits a test is about should bite: no 15 s pause, generous quotas per tier and IP.
    set_setting(site, "comment_cooldown_seconds", "0")
    set_setting(site, "comment_ip_hourly", "100000")
    for tier in ("new", "normal", "good", "restricted"):
        set_setting(site, f"quota_{tier}", "100000")
    yield site


@pytest.fixture
def pg_site(shared_site):
    yield shared_site
    shared_site.stop()
    shared_site.nodes.clear()


def newest_article_id(site: Site) -> int:
    import psycopg

    url = site.env["PORTAL_DATABASE_URL"]
    with psycopg.connect(url) as connection:
        (article_id,) = connection.execute(
            "SELECT id FROM article WHERE state = 'published' ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
    return article_id


def set_setting(site: Site, key: str, value: str) -> None:
    import psycopg

    with psycopg.connect(site.env["PORTAL_DATABASE_URL"]) as connection:
        connection.execute(
            "INSERT INTO site_setting (key, value, updated_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
