"""The benchmark: the portal against hello-world Flask and a plain Flask + SQLAlchemy page, side by
side in one run, under the same gunicorn settings (2 sync workers), loaded by wrk on loopback.

    python bench/run.py            # the full run (a few minutes); writes bench/out/results.json
    python bench/run.py --quick    # a smoke run (seconds): proves the benchmark works, nothing more

Only ratios measured in the same run mean something on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import requests

if TYPE_CHECKING:
    from bench.isso import Setup

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


@dataclass
class Result:
    probe: str
    server: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    bytes: int = 0
    peak_rss_mib: float = 0.0
    ratio: float | None = None
    target: str = ""
    notes: list[str] = field(default_factory=list)
    skipped: bool = False  # not measured (its notes say why): no req/s, no ratio


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on loopback; its process tree's peak RSS is sampled."""

    def __init__(
        self, name: str, app: str, env: dict[str, str], workers: int = 2, python: str | Path = sys.executable
    ) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (OUT / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            [str(python), "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}", app],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()  # no orphaned gunicorn when the run gives up
        raise RuntimeError(f"{name} did not start (see {self.log.name})")

    def rss_mib(self) -> float:
        pids = [self.process.pid, *map(int, os.popen(f"pgrep -P {self.process.pid}").read().split())]
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    script: str | None = None,
):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def millis(label: str) -> float:
        found = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output)
        if not found:
            return 0.0
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    for counts in re.findall(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in counts)
    return rps, millis(" 50"), millis(" 99"), errors


def measure(
    server: Server, probe: str, path: str, *, seconds: int, connections: int, headers=None, script=None
) -> Result:
    url = server.url + path
    requests.get(url, headers=headers or {}, timeout=30)  # warm-up
    wrk(url, seconds=max(1, seconds // 3), connections=connections, headers=headers, script=script)
    peak = [server.rss_mib()]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(server.rss_mib())
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        rps, p50, p99, errors = wrk(
            url, seconds=seconds, connections=connections, headers=headers, script=script
        )
    finally:
        done.set()
        sampler.join()
    size = len(requests.get(url, headers=headers or {}, timeout=30).content) if not script else 0
    return Result(probe, server.name, rps, p50, p99, errors, size, max(peak))


# --- data ----------------------------------------------------------------------------------------


def flask(instance: Path, *args: str) -> str:
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance)}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def seed(instance: Path, *, big: int, readers: int) -> dict[str, int]:
    """The demo content plus generated comments, articles and the readers who post, written with
    plain SQL in bulk (the readers through the domain)."""
    flask(instance, "init-instance")
    flask(instance, "seed-demo")
    # The measure: the site runs with a 10,000-term list published. Generated terms (2–4
    # random CJK characters, C12, review, no pinyin) join the demo list, which keeps its own entries
    # (pinyin ones included), through the admin's CSV import (all or nothing, audited) as the demo
    # admin, in a process of its own like the commands above.
    from textwrap import dedent

    words = 10_000
    script = dedent("""
        import random, sys
        from argon2 import PasswordHasher
        from flask import current_app
        from sqlalchemy import select
        from portal import create_app
        from portal.domain.accounts import create_verified_user
        from portal.domain.pii import PhoneVault
        from portal.domain.pledge import term_forms
        from portal.domain.sensitive_words import current_entries, import_csv
        from portal.domain.wordlist import WordEntry, to_csv
        from portal.extensions import db
        from portal.models import Role, User, utc_now

        with create_app().app_context():
            keys = {term_forms(e.term, pinyin=False).skeleton for e in current_entries(db.session)}
            rng, alphabet, terms = random.Random(11), [chr(c) for c in range(0x4E00, 0x4E00 + 3000)], []
            while len(terms) < int(sys.argv[1]):  # distinct by the import's own key, none of the demo's
                term = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 4)))
                if (key := term_forms(term, pinyin=False).skeleton) not in keys:
                    keys.add(key)
                    terms.append(term)
            admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
            text = to_csv(WordEntry(t, ("C12",), "review", False) for t in terms)
            report = import_csv(db.session, text=text, actor=admin, now=utc_now())
            # The readers who post: verified accounts, with a cheap hash so that signing them all in
            # takes seconds (the hash costs nothing per post).
            vault, hasher = PhoneVault.from_secret(current_app.config["PII_KEY"]), PasswordHasher(1, 8, 1)
            for n in range(int(sys.argv[2])):
                create_verified_user(
                    db.session, phone=f"1370000{n:04d}", nickname=f"基準讀者{n}", password="demo-password-2026",
                    role=Role.READER, vault=vault, hasher=hasher, now=utc_now(),
                )  # fmt: skip
            db.session.commit()
            print(len(report.added))
        """)
    added = subprocess.run(
        [sys.executable, "-c", script, str(words), str(readers)],
        cwd=ROOT,
        env={**os.environ, "PORTAL_INSTANCE_PATH": str(instance)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if added != str(words):
        raise RuntimeError(f"{added} generated terms imported, not {words}")
    database = instance / "portal.sqlite"
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(database) as db:
        readers = [r[0] for r in db.execute("SELECT id FROM user_account WHERE role = 'reader'")]
        first, second = (
            r[0]
            for r in db.execute(
                "SELECT id FROM article WHERE state='published' ORDER BY published_at DESC LIMIT 2"
            )
        )
        (section_id,) = db.execute("SELECT id FROM section WHERE slug = 'liaocheng'").fetchone()

        def comments(article: int, count: int, status: str = "approved") -> None:
            rows = [
                (article, random.choice(readers), f"第{n}條基準測試評論：聊城的發展越來越好。", status,
                 1 if status == "approved" else 0, "山東", (now - timedelta(seconds=n)).isoformat(" "))
                for n in range(count)
            ]  # fmt: skip
            db.executemany(
                "INSERT INTO comment (article_id, author_id, reply_to_nickname, body, status, listed, flags, rule_hits, "
                "skeleton_hash, ip, ip_prefix, ip_region, user_agent, like_count, reply_count, report_count, reason_code, "
                "priority, featured, created_at) VALUES (?, ?, '', ?, ?, ?, '', '[]', '', '', '', ?, '', 0, 0, 0, '', 0, 0, ?)",
                rows,
            )
            if status == "approved":
                db.execute(
                    "UPDATE article SET comment_count = comment_count + ? WHERE id = ?", (count, article)
                )

        comments(first, 50)
        comments(second, big)

        def section_with(slug: str, count: int) -> None:
            db.execute(
                "INSERT INTO section (slug, name, position, description, layout, hidden, pre_review, comments_closed) "
                "VALUES (?, ?, 99, '', 'list', 1, 1, 0)",
                (slug, slug),
            )
            sid = db.execute("SELECT id FROM section WHERE slug = ?", (slug,)).fetchone()[0]
            db.execute("UPDATE section SET hidden = 0, parent_id = ? WHERE id = ?", (section_id, sid))
            db.executemany(
                "INSERT INTO article (section_id, title, source, published_at, reporters, editor, editor_note, summary, "
                "body_md, body_html, body_text, kind, state, comments_state, comment_count, related_ids, created_at, "
                "updated_at) VALUES (?, ?, '聊城日報', ?, '', '', '', '', '正文', '<p>正文</p>', '正文', 'text', "
                "'published', 'open', 0, '', ?, ?)",
                [
                    (
                        sid,
                        f"{slug}第{n}篇",
                        (now - timedelta(minutes=n)).isoformat(" "),
                        now.isoformat(" "),
                        now.isoformat(" "),
                    )
                    for n in range(count)
                ],
            )

        section_with("bench-small", 100)
        section_with("bench-big", big)
        comments(first, 100, status="pending")
        # The authors' kept records, as the domain would have kept them for these rows.
        db.execute(
            "UPDATE user_account SET approved_comments = (SELECT count(*) FROM comment "
            "WHERE comment.author_id = user_account.id AND comment.status = 'approved')"
        )
        db.execute(
            "INSERT OR REPLACE INTO site_setting (key, value, updated_at) VALUES ('comment_cooldown_seconds', '0', CURRENT_TIMESTAMP)"
        )
        for key in ("quota_new", "quota_normal", "quota_good", "comment_ip_hourly"):
            db.execute(
                "INSERT OR REPLACE INTO site_setting (key, value, updated_at) VALUES (?, '100000000', CURRENT_TIMESTAMP)",
                (key,),
            )
    return {"article_50": first, "article_big": second}


def add_pending(instance: Path, article: int, count: int) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(instance / "portal.sqlite") as db:
        reader = db.execute("SELECT id FROM user_account WHERE role = 'reader' LIMIT 1").fetchone()[0]
        db.executemany(
            "INSERT INTO comment (article_id, author_id, reply_to_nickname, body, status, listed, flags, rule_hits, "
            "skeleton_hash, ip, ip_prefix, ip_region, user_agent, like_count, reply_count, report_count, reason_code, "
            "priority, featured, created_at) VALUES (?, ?, '', ?, 'pending', 0, '', '[]', '', '', '', '山東', '', 0, 0, 0, '', 0, 0, ?)",
            [
                (article, reader, f"待審評論{n}", (now - timedelta(seconds=n)).isoformat(" "))
                for n in range(count)
            ],
        )


# One browser: Flask-Login ties a session to its address and user agent, so the probes that replay
# a signed-in session send the agent it signed in with.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) bench/run.py"


def login(server: Server, phone: str, address: str = "") -> dict[str, str]:
    """The headers of a browser signed in as this account: its cookie and its user agent, and the
    address the proxy in front says it comes from, if any (the session is tied to it)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    if address:
        session.headers["X-Forwarded-For"] = address
    page = session.get(server.url + "/accounts/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        server.url + "/accounts/login",
        data={"phone": phone, "password": "demo-password-2026", "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    # As a browser does: follow to the page that shows the login's message, and keep the cookie
    # without it (wrk sends the same cookie each time; one still carrying the message would keep
    # every page rendered afresh, to show it).
    session.get(urljoin(server.url + "/", answer.headers["Location"]))
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items()), "User-Agent": USER_AGENT}
    return headers | ({"X-Forwarded-For": address} if address else {})


def posting_readers(server: Server, count: int) -> list[dict[str, str]]:
    """The bench readers (seed), each signed in from an address of its own in its own /24 (Shandong's
    60.210.0.0/16, as the proxy would pass them on): many readers posting, not one reader flooding,
    whose posts the flood rules (P9–P11) would rightly slow and flag."""
    return [login(server, f"1370000{n:04d}", f"60.210.{n % 250}.{7 + n // 250}") for n in range(count)]


# The ten digits of the probe's numbers, as CJK characters that are no numerals (PLEDGE_RULES §6.4
# reads 一二三… and 壹貳參… as digits in runs of 7 or more) and, folded to Simplified, lie outside the
# range the generated terms are drawn from: each post is distinct, and none reads as a phone number
# (P18) or hits a word-list entry.
POST_DIGITS = "甲戊己庚辛癸春秋風雨"
POST_TEXT = "基準測試評論"


def post_text(thread: int, started: int, counter: int) -> str:
    """The text the wrk script posts, as Python would build it (the tests check it passes the rules)."""
    return POST_TEXT + "".join(POST_DIGITS[int(d)] for d in f"{thread}{started}{counter}")


def post_script(server: Server, readers: list[dict[str, str]], article: int) -> str:
    """A wrk script that posts a new comment each time, each from the next reader in turn, with that
    reader's session, CSRF token and address (as their browsers behind the proxy would).

    The token lives in the session cookie, which the article page sets anew: take both from it.
    """
    from urllib.parse import quote

    rows = []
    for reader in readers:
        session = requests.Session()
        session.headers["User-Agent"] = reader.get("User-Agent", USER_AGENT)
        if address := reader.get("X-Forwarded-For"):
            session.headers["X-Forwarded-For"] = address
        for part in reader["Cookie"].split("; "):
            name, _, value = part.partition("=")
            session.cookies.set(name, value, domain="127.0.0.1", path="/")  # so the new cookie replaces it
        page = session.get(f"{server.url}/articles/{article}").text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        jar = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        rows.append(f'{{"{jar}", "{token}", "{address}", "{session.headers["User-Agent"]}"}}')
    digits = ", ".join(f'"{quote(d)}"' for d in POST_DIGITS)
    readers_table = ",\n  ".join(rows)
    path = OUT / "post.lua"
    path.write_text(
        f"""-- Each wrk thread posts its own numbered texts, so no two requests send the same comment, from
-- the readers in turn. Numbers are spelt in CJK characters that are no numerals (bench/run.py,
-- POST_DIGITS): digits would read as a phone number to the contact rule (P18) and be refused.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local readers = {{
  {readers_table}
}}
local digits = {{{digits}}}
local function spell(n)
  return (string.gsub(tostring(n), "%d", function(d) return digits[tonumber(d) + 1] end))
end
counter = 0
function init(args)
  prefix = spell(tostring(id) .. tostring(os.time()))
end
request = function()
  counter = counter + 1
  local reader = readers[(counter * 2 + id) % #readers + 1]
  local body = "csrf_token=" .. reader[2] .. "&body={quote(POST_TEXT)}" .. prefix .. spell(counter)
  return wrk.format("POST", "/articles/{article}/comments", {{
    ["Content-Type"] = "application/x-www-form-urlencoded", ["HX-Request"] = "true",
    ["Cookie"] = reader[1], ["X-Forwarded-For"] = reader[3], ["User-Agent"] = reader[4]}}, body)
end
""",
        encoding="utf-8",
    )
    return str(path)


# Readers who post in the posting probes, each from an address of its own: at about a thousand
# posts a second each posts a few dozen times a run.
POSTERS = 200
POSTING_FLOOR = "posting's floor: the same POST answered 204 before the post's own work"


def posting_floor(
    env: dict[str, str], readers: list[dict[str, str]], article: int, run: dict[str, int]
) -> Result:
    """The portal's own stack up to a post's own work (bench/floor.py), on the same data, the same
    URL and the same wrk script as the posting probe."""
    floor = Server("floor", "bench.floor:app", env)
    try:
        return measure(
            floor,
            POSTING_FLOOR,
            f"/articles/{article}/comments",
            script=post_script(floor, readers, article),
            **run,
        )
    finally:
        floor.stop()


# --- Isso 0.14, an outside reference (bench/isso.py) ---------------------------------------------

ISSO_LIST = "Isso 0.14 comment list, 50 comments"
ISSO_POST = "Isso 0.14 posting a comment (pending, moderation on)"


def start_isso(workdir: Path) -> tuple[Server | None, Setup | None, str]:
    """Isso in its own venv under the same gunicorn settings; without it (no PyPI) the run goes on."""
    from bench import isso as reference

    try:
        # The embedding site's origin: a port nothing listens on (see bench/isso.py's config).
        setup = reference.prepare(workdir / "isso", site=f"http://127.0.0.1:{free_port()}")
    except reference.Unavailable as error:
        print(f"note: the Isso probes are skipped: {error}", file=sys.stderr)
        return None, None, str(error)
    return Server("isso", reference.APP, setup.env, python=setup.python), setup, ""


def isso_probes(server: Server | None, setup: Setup | None, why: str, run: dict[str, int]) -> list[Result]:
    from bench import isso as reference

    if server is None:
        return [Result(p, "isso", skipped=True, notes=[f"skipped: {why}"]) for p in (ISSO_LIST, ISSO_POST)]
    if (count := reference.listed(server.url)) != reference.COMMENTS:
        raise RuntimeError(f"isso lists {count} comments, not {reference.COMMENTS}")
    if (status := reference.post_once(server.url, setup, "基準測試：第一條待審評論")) != 202:
        raise RuntimeError(f"isso answered {status} to a new comment, not 202 (pending)")
    listing = measure(server, ISSO_LIST, reference.list_path(), **run)
    listing.notes.append(
        f"GET {reference.list_path()}: {count} comments as JSON, markdown rendered each time"
    )
    script = reference.post_script(setup, OUT / "isso-post.lua")
    posting = measure(server, ISSO_POST, f"/new?uri={reference.URI}", script=script, **run)
    if (count := reference.listed(server.url)) != reference.COMMENTS:  # moderation on: posts stay hidden
        raise RuntimeError(f"isso lists {count} comments after the posts, not {reference.COMMENTS}")
    posting.notes.append(
        f"{reference.pending(setup)} comments pending afterwards; the list still shows {count}"
    )
    return [listing, posting]


# --- the word filter -----------------------------------------------------------------------------


def word_filter(quick: bool) -> dict[str, float]:
    from portal.domain.pledge import check_text
    from portal.domain.wordlist import WordEntry, WordList

    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    terms = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 4))) for _ in range(10_500)})[
        :10_000
    ]
    texts = [
        "".join(rng.choice([*alphabet, "，", "。", " "]) for _ in range(200))
        for _ in range(50 if quick else 300)
    ]
    big = WordList.build([WordEntry(t, ("C12",), "review", False) for t in terms], "bench-10000")
    small = WordList.build([WordEntry(t, ("C12",), "review", False) for t in terms[:10]], "bench-10")

    def rate(run) -> float:
        start = time.perf_counter()
        for text in texts:
            run(text)
        return len(texts) / (time.perf_counter() - start)

    def best(*runs, rounds: int = 1 if quick else 5) -> list[float]:
        """Each run's best rate over interleaved rounds, after an untimed pass (as timeit does): the
        first pass pays for cold caches, and a shared machine's noise only ever slows a round."""
        for run in runs:
            run(texts[0])
        rates = [[rate(run) for run in runs] for _ in range(rounds)]
        return [max(column) for column in zip(*rates, strict=True)]

    engine, loop, ten = best(
        lambda text: check_text(text, big),
        lambda text: [t for t in terms if t in text],
        lambda text: check_text(text, small),
    )
    return {
        "engine_per_s": engine,
        "plain_loop_per_s": loop,
        "speedup": engine / loop,
        "time_10000_vs_10": ten / engine,
    }


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smoke run: seconds, small data")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    seconds, connections, big = (1, 4, 1000) if args.quick else (args.seconds, args.connections, 100_000)
    posters = 8 if args.quick else POSTERS
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    instance = workdir / "instance"
    ids = seed(instance, big=big, readers=posters)
    env = {
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_SESSION_COOKIE_NAME": "session",
        "PORTAL_TRUSTED_PROXY_HOPS": "1",  # as in production behind its proxy (docs/DEPLOYMENT.md)
        "PORTAL_COMMENT_LIMITS": "100000000 per minute",
        "PORTAL_LOGIN_LIMITS": "100000 per minute",
    }
    results: list[Result] = []
    hello = Server("hello", "bench.hello:app", {})
    plain = Server("plain", "bench.plain:app", {"BENCH_DATABASE": str(instance / "portal.sqlite")})
    portal = Server("portal", "wsgi:app", env)
    isso: Server | None = None
    try:
        isso, isso_setup, isso_missing = start_isso(workdir)
        run = {"seconds": seconds, "connections": connections}
        ceiling = measure(hello, "hello world", "/", **run)
        results.append(ceiling)
        results.append(
            measure(
                plain,
                "plain Flask + SQLAlchemy article, 50 comments",
                f"/articles/{ids['article_50']}",
                **run,
            )
        )
        results.extend(isso_probes(isso, isso_setup, isso_missing, run))
        results.append(
            measure(portal, "anonymous article page, 50 comments", f"/articles/{ids['article_50']}", **run)
        )
        reader = login(portal, "13900000001")
        results.append(
            measure(
                portal,
                "signed-in article page, 50 comments",
                f"/articles/{ids['article_50']}",
                headers=reader,
                **run,
            )
        )
        more = requests.get(f"{portal.url}/articles/{ids['article_big']}").text
        after = re.search(r"comments/more\?order=newest&amp;after=([^\"&]+)", more)
        results.append(
            measure(
                portal,
                "載入更多 (next 20 comments)",
                f"/articles/{ids['article_big']}/comments/more?order=newest&after={after.group(1) if after else ''}",
                headers={"HX-Request": "true"},
                **run,
            )
        )
        readers = posting_readers(portal, posters)
        results.append(
            measure(
                portal,
                "posting a comment",
                f"/articles/{ids['article_50']}/comments",
                script=post_script(portal, readers, ids["article_50"]),
                **run,
            )
        )
        results.append(posting_floor(env, readers, ids["article_50"], run))
        moderator = login(portal, "13900000005")
        results.append(
            measure(
                portal, "moderation queue, 50 rows, 100 pending", "/moderation/", headers=moderator, **run
            )
        )
        results.append(measure(portal, "home page", "/", **run))
        results.append(
            measure(portal, f"article page, {big} comments", f"/articles/{ids['article_big']}", **run)
        )
        results.append(measure(portal, "section page, 100 articles", "/sections/bench-small", **run))
        results.append(measure(portal, f"section page, {big} articles", "/sections/bench-big", **run))
        # The growth pairs once more, each small case right before its big one: the first
        # measurements sit minutes apart, and a shared machine drifts. Each side's better one counts.
        rematch = [
            measure(portal, "anonymous article page, 50 comments", f"/articles/{ids['article_50']}", **run),
            measure(portal, f"article page, {big} comments", f"/articles/{ids['article_big']}", **run),
            measure(portal, "section page, 100 articles", "/sections/bench-small", **run),
            measure(portal, f"section page, {big} articles", "/sections/bench-big", **run),
            measure(
                portal, "moderation queue, 50 rows, 100 pending", "/moderation/", headers=moderator, **run
            ),
        ]
        add_pending(instance, ids["article_50"], big)
        results.append(
            measure(
                portal, f"moderation queue, 50 rows, {big} pending", "/moderation/", headers=moderator, **run
            )
        )
        peak_rss = max(r.peak_rss_mib for r in results + rematch if r.server == "portal")
    finally:
        for server in (hello, plain, portal, isso):
            if server is not None:
                server.stop()
    for result in results:
        result.ratio = result.rps / ceiling.rps if ceiling.rps and not result.skipped else None
    both = results + rematch
    growth = {
        "article_big_vs_50": _best(both, f"article page, {big} comments")
        / _best(both, "anonymous article page, 50 comments"),
        "section_big_vs_100": _best(both, f"section page, {big} articles")
        / _best(both, "section page, 100 articles"),
        "queue_big_vs_100": _best(both, f"moderation queue, 50 rows, {big} pending")
        / _best(both, "moderation queue, 50 rows, 100 pending"),
    }
    words = word_filter(args.quick)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": os.uname().machine + ", " + str(os.cpu_count()) + " cores",
        "command": " ".join(sys.argv),
        "quick": args.quick,
        "results": [asdict(r) for r in results],
        "growth": growth,
        "word_filter": words,
        "portal_peak_rss_mib": peak_rss,
        "posting_vs_floor": _best(results, "posting a comment") / _best(results, POSTING_FLOOR),
    }
    (OUT / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown(report))
    shutil.rmtree(workdir, ignore_errors=True)


def _best(results: list[Result], probe: str) -> float:
    return max(r.rps for r in results if r.probe == probe) or 1e-9


def markdown(report: dict) -> str:
    lines = [
        f"Run {report['date']} on {report['machine']}{' (quick: not a measurement)' if report['quick'] else ''}",
        "",
        "| probe | server | req/s | ratio to hello | p50 ms | p99 ms | errors | bytes | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        if r.get("skipped"):
            lines.append(f"| {r['probe']} | {r['server']} | skipped | — | | | | | |")
            continue
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['probe']} | {r['server']} | {r['rps']:.0f} | {ratio} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['errors']} | {r['bytes']} | {r['peak_rss_mib']:.0f} |"
        )
    g, w = report["growth"], report["word_filter"]
    notes = [f"- {r['probe']}: {'; '.join(r['notes'])}" for r in report["results"] if r.get("notes")]
    lines += ["", *notes, *([""] if notes else [])]
    lines += [
        f"Growth (same run, each side's better of two measurements): article page big/50 = {g['article_big_vs_50']:.2f}; section big/100 = "
        f"{g['section_big_vs_100']:.2f}; queue big/100 = {g['queue_big_vs_100']:.2f}",
        f"Word filter, 10,000 terms, 200-character comments: {w['engine_per_s']:.0f}/s against a plain loop's "
        f"{w['plain_loop_per_s']:.0f}/s = {w['speedup']:.1f}×; 10 terms vs 10,000: {w['time_10000_vs_10']:.2f}×",
        f"Posting against its floor (the same stack answering 204 before the post's own work): "
        f"{report['posting_vs_floor']:.2f}",
        f"Portal peak RSS (master + 2 workers, word list loaded): {report['portal_peak_rss_mib']:.0f} MiB",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
