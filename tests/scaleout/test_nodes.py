"""Two gunicorn nodes on one PostgreSQL and one Redis: the promises hold across nodes."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import requests

from tests.scaleout.conftest import (
    MODERATOR,
    READERS,
    flask_command,
    login,
    newest_article_id,
    post_comment,
    token,
)


def rows(site, sql: str, *params):
    with psycopg.connect(site.env["PORTAL_DATABASE_URL"]) as connection:
        return connection.execute(sql, params).fetchall()


def test_a_readers_rate_limit_holds_across_both_nodes(pg_site):
    a, b = pg_site.start_node(), pg_site.start_node()
    article_id = newest_article_id(pg_site)
    reader = login(a, READERS[0])
    answers = [
        post_comment(node, reader, article_id, f"兩個節點輪流發表第{n}條評論").status_code
        for n, node in enumerate((a, b, a, b))
    ]
    # Three accepted in the minute, wherever they landed; the fourth is refused by the shared budget.
    assert answers[:3] == [201, 201, 201]
    assert answers[3] == 429


def test_concurrent_posting_to_both_nodes_loses_and_doubles_nothing(pg_site):
    a, b = (
        pg_site.start_node(PORTAL_COMMENT_LIMITS="1000 per minute"),
        pg_site.start_node(PORTAL_COMMENT_LIMITS="1000 per minute"),
    )
    article_id = newest_article_id(pg_site)
    # Eight clients, each its own signed-in session (two per demo reader), posting at once.
    sessions = [login((a, b)[n % 2], READERS[n % len(READERS)]) for n in range(8)]

    def client(index: int) -> list[tuple[str, int]]:
        answers = []
        for post in range(10):
            node = (a, b)[(index + post) % 2]
            text = f"並發評論：客戶{index}第{post}條，發往{'甲乙'[(index + post) % 2]}節點"
            answers.append((text, post_comment(node, sessions[index], article_id, text).status_code))
        return answers

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [answer for answers in pool.map(client, range(8)) for answer in answers]
    accepted = [text for text, status in results if status == 201]
    assert all(status < 500 for _, status in results)
    stored = [body for (body,) in rows(pg_site, "SELECT body FROM comment WHERE body LIKE '並發評論%%'")]
    assert sorted(stored) == sorted(accepted)  # every accepted comment stored exactly once
    refused = [(text, status) for text, status in results if status != 201]
    assert refused == []


def test_two_moderators_on_two_nodes_decide_a_comment_once(pg_site):
    flask_command(
        pg_site.instance,
        pg_site.env,
        "create-user", "--phone", "13900000007", "--nickname", "第二審核員",
        "--password", "demo-password-2026", "--role", "moderator",
    )  # fmt: skip
    a, b = pg_site.start_node(), pg_site.start_node()
    (comment_id,) = rows(pg_site, "SELECT id FROM comment WHERE status = 'pending' ORDER BY id LIMIT 1")[0]
    first, second = login(a, MODERATOR), login(b, "13900000007")
    tokens = [token(first, a.url + "/moderation/"), token(second, b.url + "/moderation/")]
    barrier = threading.Barrier(2)

    def decide(index: int) -> requests.Response:
        node, session = ((a, first), (b, second))[index]
        barrier.wait()
        return session.post(
            f"{node.url}/moderation/comments/{comment_id}/decision",
            data={"decision": "approve", "csrf_token": tokens[index]},
            headers={"HX-Request": "true"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(decide, range(2)))
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert "已由其他審核員處理" in next(r.text for r in answers if r.status_code == 409)
    decisions = rows(
        pg_site,
        "SELECT count(*) FROM moderation_action WHERE action = 'moderation.approve' AND target_id = %s",
        comment_id,
    )
    assert decisions == [(1,)]


def test_a_session_made_on_one_node_is_valid_on_the_other(pg_site):
    a, b = pg_site.start_node(), pg_site.start_node()
    reader = login(a, READERS[1])
    answer = reader.get(b.url + "/accounts/comments", allow_redirects=False, timeout=10)
    assert answer.status_code == 200
    assert "我的評論" in answer.text


def test_the_site_keeps_working_while_redis_is_down_and_limits_return_with_it(pg_site, redis):
    node = pg_site.start_node(workers=1)
    article_id = newest_article_id(pg_site)
    reader = login(node, READERS[2])
    redis.stop()
    assert reader.get(f"{node.url}/articles/{article_id}", timeout=10).status_code == 200
    assert post_comment(node, reader, article_id, "Redis 停了也能發表評論").status_code == 201
    assert (
        "falling back to in-memory" in node.log_text().lower()
        or "rate limit storage" in node.log_text().lower()
    )
    redis.start()  # same port, empty
    # Flask-Limiter looks for its storage again after a back-off (1, 2, 4 … s) and lets a post
    # through while a stale connection fails (RATELIMIT_SWALLOW_ERRORS): the budget (3 a minute)
    # must bite within a few seconds of posting, not at an exact post.
    statuses = []
    for n in range(12):
        statuses.append(post_comment(node, reader, article_id, f"Redis 回來後的第{n}條").status_code)
        if statuses[-1] == 429:
            break
        time.sleep(0.5)
    assert 429 in statuses  # the budget applies again
    assert all(status < 500 for status in statuses)


def test_a_database_that_is_away_answers_503_and_the_site_recovers(pg_site, pg_url):
    node = pg_site.start_node(workers=1)
    article_id = newest_article_id(pg_site)
    name = pg_site.env["PORTAL_DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        answer = requests.get(f"{node.url}/articles/{article_id}", timeout=30)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert "系統繁忙" in answer.text
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    assert requests.get(f"{node.url}/articles/{article_id}", timeout=30).status_code == 200


def test_a_worker_killed_while_posting_leaves_no_partial_comment(pg_site):
    node = pg_site.start_node(workers=2, PORTAL_COMMENT_LIMITS="1000 per minute")
    article_id = newest_article_id(pg_site)
    sessions = [login(node, phone) for phone in READERS]
    workers = [int(pid) for pid in os.popen(f"pgrep -P {node.process.pid}").read().split()]
    assert workers

    def post(job: int) -> int:
        try:
            return post_comment(node, sessions[job % 4], article_id, f"殺進程測試第{job}條").status_code
        except requests.RequestException:
            return 0  # the connection died with the worker: the reader sees an error and keeps the text

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(post, job) for job in range(40)]
        os.kill(workers[0], signal.SIGKILL)
        statuses = [f.result() for f in futures]
    assert all(status < 500 for status in statuses)
    # Every stored comment has its submission record (same transaction): nothing half-written.
    orphans = rows(
        pg_site,
        "SELECT c.id FROM comment c WHERE c.body LIKE '殺進程測試%%' AND NOT EXISTS "
        "(SELECT 1 FROM moderation_action m WHERE m.action = 'comment.submitted' AND m.target_id = c.id)",
    )
    assert orphans == []
    accepted = sum(1 for s in statuses if s == 201)
    (stored,) = rows(pg_site, "SELECT count(*) FROM comment WHERE body LIKE '殺進程測試%%'")[0]
    assert stored >= accepted
    # The master replaced the worker: the next request is served.
    assert requests.get(f"{node.url}/articles/{article_id}", timeout=30).status_code == 200
