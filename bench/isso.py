"""Isso 0.14 from PyPI as an outside reference for the benchmark: its comment list of 50 comments and
its comment creation with moderation on, served by the same gunicorn settings as the portal.

Isso lives in its own virtual environment (bench/out/isso-venv, reused between runs), so none of its
pins touch the portal's. run.py starts it with that venv's python: `python -m gunicorn isso.run:application`
with ISSO_SETTINGS naming the config written here.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

VERSION = "0.14.0"
OUT = Path(__file__).resolve().parent / "out"
VENV = OUT / "isso-venv"
APP = "isso.run:application"  # isso's own WSGI entry point: it reads the config from ISSO_SETTINGS
URI = "/articles/1"
COMMENTS = 50
TEXT = "第{n}條基準測試評論：聊城的發展越來越好。"  # the same comment text as the portal's seeded ones


class Unavailable(RuntimeError):
    """Isso's venv could not be built (no PyPI, say): the run records its probes as skipped."""


@dataclass
class Setup:
    python: Path
    config: Path
    database: Path
    site: str  # the embedding site's origin, as isso's `[general] host`

    @property
    def env(self) -> dict[str, str]:
        return {"ISSO_SETTINGS": str(self.config)}


def ensure_venv(venv: Path = VENV) -> Path:
    """The venv's python, with isso and gunicorn installed; an existing venv with isso 0.14.0 is reused."""
    python = venv / "bin" / "python"
    if _installed(python):
        return python
    try:
        venv_cmd = [sys.executable, "-m", "venv", "--clear", str(venv)]
        subprocess.run(venv_cmd, check=True, capture_output=True, text=True, timeout=120)
        # Short network timeouts: without PyPI the benchmark should say so in seconds, not minutes.
        pip = [str(python), "-m", "pip", "install", "--quiet", "--timeout", "20", "--retries", "1"]
        subprocess.run(
            [*pip, f"isso=={VERSION}", "gunicorn"], check=True, capture_output=True, text=True, timeout=240
        )
    except subprocess.CalledProcessError as error:
        why = (error.stderr or "").strip().splitlines()[-1:] or [str(error)]
        raise Unavailable(f"cannot build the isso {VERSION} venv in {venv}: {why[0]}") from error
    except (subprocess.TimeoutExpired, OSError) as error:
        raise Unavailable(f"cannot build the isso {VERSION} venv in {venv}: {error}") from error
    if not _installed(python):
        raise Unavailable(f"isso {VERSION} is not importable from {venv} after pip install")
    return python


def _installed(python: Path) -> bool:
    if not python.exists():
        return False
    probe = "import importlib.metadata as m; m.version('gunicorn'); print(m.version('isso'))"
    answer = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return answer.returncode == 0 and answer.stdout.strip() == VERSION


def write_config(workdir: Path, site: str) -> Path:
    """Isso's config: moderation on, a fresh SQLite file, `site` as the one allowed origin."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "isso.cfg"
    config.write_text(
        f"""[general]
dbpath = {workdir / "comments.db"}
# The site that embeds isso. Isso sends it back as Access-Control-Allow-Origin when a request's Origin
# (or Referer) matches, and fetches a new thread's title from it. At start-up each worker sends it a
# HEAD request (5 s timeout): nothing listens there, so that probe fails at once.
host = {site}

[moderation]
# New comments wait for approval: POST /new answers 202 and the list does not show them.
enabled = true

[guard]
# Isso's guard allows 2 comments a minute and 3 top-level comments a thread from one address; every
# wrk request comes from 127.0.0.1, so it is off to measure throughput rather than the guard's refusals.
enabled = false
""",
        encoding="utf-8",
    )
    return config


# Runs in isso's venv: isso's own db layer creates the schema and the comments, so they are in its format.
_SEED = """
import sys, time
from isso import config, db
conf = config.load(config.default_file(), sys.argv[1])
store = db.SQLite3(conf.get("general", "dbpath"), conf)
uri, count, text = sys.argv[2], int(sys.argv[3]), sys.argv[4]
if uri not in store.threads:
    store.threads.new(uri, "Benchmark article")
now = time.time()
for n in range(count):
    store.comments.add(uri, {"mode": 1, "remote_addr": "10.0.%d.0" % n, "created": now - count + n,
                             "text": text.format(n=n), "author": "讀者%d" % n})
"""


def prepare(workdir: Path, site: str) -> Setup:
    """The venv, the config and a database with COMMENTS approved comments on URI; raises Unavailable."""
    python = ensure_venv()
    config = write_config(workdir, site)
    subprocess.run(
        [str(python), "-c", _SEED, str(config), URI, str(COMMENTS), TEXT],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Setup(python, config, workdir / "comments.db", site)


def list_path() -> str:
    """Isso's fetch endpoint as its client calls it for a thread (all top-level comments, oldest first)."""
    return f"/?uri={URI}"


def listed(url: str) -> int:
    """How many comments isso's list returns for URI."""
    return len(requests.get(url + list_path(), timeout=30).json()["replies"])


def headers(setup: Setup) -> dict[str, str]:
    """What isso's client sends from the page: JSON (isso refuses other content types as CSRF)."""
    return {"Content-Type": "application/json", "Origin": setup.site, "Referer": setup.site + URI}


def post_once(url: str, setup: Setup, text: str) -> int:
    """POST one comment as isso's client does; the HTTP status (202: accepted, waiting for moderation)."""
    body = json.dumps({"text": text, "author": "讀者", "email": None, "website": None, "parent": None})
    return requests.post(f"{url}/new?uri={URI}", data=body, headers=headers(setup), timeout=30).status_code


def pending(setup: Setup) -> int:
    """Comments waiting for moderation (isso's mode 2)."""
    with sqlite3.connect(setup.database) as db:
        return db.execute("SELECT count(*) FROM comments WHERE mode = 2").fetchone()[0]


def post_script(setup: Setup, path: Path) -> str:
    """A wrk script that posts a new comment each time, a distinct text per request (isso itself
    accepts duplicates; distinct texts keep the work the same as the portal's posting probe)."""
    head = ", ".join(f'["{k}"] = "{v}"' for k, v in headers(setup).items())
    path.write_text(
        f"""-- Each wrk thread posts its own numbered texts, so no two requests send the same comment.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
counter = 0
function init(args)
  prefix = tostring(id) .. "t" .. tostring(os.time())
end
request = function()
  counter = counter + 1
  local body = '{{"text": "基準測試評論 ' .. prefix .. "-" .. counter .. '", "author": "讀者", "email": null, "website": null, "parent": null}}'
  return wrk.format("POST", "/new?uri={URI}", {{{head}}}, body)
end
""",
        encoding="utf-8",
    )
    return str(path)
