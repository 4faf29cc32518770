"""Heavy optional modules stay out of a worker until it needs them (the benchmark's peak RSS target).

Each check runs in a fresh interpreter: the test process itself has long since imported everything.
"""

import json
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Article, ArticleState, Comment, SensitiveWord
from tests.helpers import fresh_interpreter

ROOT = Path(__file__).resolve().parent.parent

APP = """
import sys
from portal import create_app

app = create_app({"TESTING": True, "SECRET_KEY": "memory-test-key-0123456789abcdef0123", "PII_KEY": "k" * 32,
                  "SQLALCHEMY_DATABASE_URI": "sqlite://"})
"""


def run(code: str, app: str = APP) -> str:
    return fresh_interpreter(textwrap.dedent(app) + textwrap.dedent(code), timeout=120)


def test_the_app_starts_without_pypinyin_or_pygal():
    out = run("print(sorted(m for m in ('pypinyin', 'pygal') if m in sys.modules))")
    assert out.strip() == "[]"


def test_the_app_starts_without_pillow_feedgen_or_lxml():
    out = run("print(sorted(m for m in ('PIL', 'feedgen', 'lxml', 'dateutil') if m in sys.modules))")
    assert out.strip() == "[]"


def test_the_section_feed_loads_feedgen_when_served():
    out = run(
        """
        from portal.cli import upgrade_schema
        from portal.extensions import db
        from tests.factories import make_section

        with app.app_context():
            upgrade_schema()
            make_section(db.session, slug="liaocheng")
            db.session.commit()
        response = app.test_client().get("/sections/liaocheng/feed.atom")
        print(response.status_code, "feedgen" in sys.modules, b"<feed" in response.data)
        """
    )
    assert out.split() == ["200", "True", "True"]


def test_the_first_post_reads_stored_pinyin_and_never_loads_the_phrase_dictionaries(demo_app):
    """A worker's first post builds the published list, whose demo entries include pinyin ones, and
    checks a comment typed in pinyin. pypinyin's character table loads (about 7 MiB); its phrase
    dictionaries (about 54 MiB a worker) must not: the terms' readings come from the database."""
    with demo_app.app_context():
        article_id = db.session.scalar(
            select(Article.id).where(Article.state == ArticleState.PUBLISHED).order_by(Article.id).limit(1)
        )
        assert db.session.scalar(select(func.count()).where(SensitiveWord.pinyin_reading.is_not(None))) >= 10
        uri, media = demo_app.config["SQLALCHEMY_DATABASE_URI"], demo_app.config["MEDIA_ROOT"]
    worker = f"""
        import sys
        from portal import create_app
        from tests.conftest import app_config
        from tests.helpers import csrf_token_from, login

        app = create_app(app_config({uri!r}, {media!r}))  # the test's database, in a worker of its own
        """
    out = run(
        f"""
        client = app.test_client()
        login(client, "13900000001", "demo-password-2026")
        token = csrf_token_from(client.get("/articles/{article_id}").get_data(as_text=True))
        response = client.post("/articles/{article_id}/comments", data={{"body": "週末一起來dubo吧", "csrf_token": token}})
        print(response.status_code, "pypinyin" in sys.modules, "pypinyin.phrases_dict" in sys.modules)
        """,
        app=worker,
    )
    assert out.split()[-3:] == ["303", "True", "False"]
    with demo_app.app_context():
        comment = db.session.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()
        assert comment.body == "週末一起來dubo吧"
        hits = json.loads(comment.rule_hits)
        assert any(hit["rule"] == "P15" for hit in hits), hits  # the pinyin automaton caught it


def test_a_word_list_without_pinyin_entries_never_loads_pypinyin():
    out = run(
        """
        from portal.domain.pledge import check_text, screen_nickname
        from portal.domain.wordlist import WordList, parse_word_csv

        words = WordList.build(parse_word_csv(
            "term,category,action,pinyin\\n赌博,C8,block,no\\n蠢货,C9,review,\\n赌,,allow,no\\n"
        ), "v")
        print(check_text("他去赌博了 dubo", words).action, screen_nickname("dubo", words))
        print("pypinyin" in sys.modules)
        """
    )
    assert out.split() == ["block", "None", "False"]


def test_a_pinyin_entry_loads_pypinyin_and_matches_its_pinyin():
    out = run(
        """
        from portal.domain.pledge import check_text
        from portal.domain.wordlist import WordList, parse_word_csv

        words = WordList.build(parse_word_csv("term,category,action,pinyin\\n赌博,C8,block,yes\\n"), "v")
        print(check_text("一起来dubo吧", words).action, "pypinyin" in sys.modules)
        """
    )
    assert out.split() == ["review", "True"]


def test_the_public_suffix_list_loads_at_the_first_host_with_a_path():
    """P17 asks the Public Suffix List (about 1.5 MiB parsed) only about a name with a dot and a path:
    a worker answering no such comment never loads it."""
    out = run(
        """
        from portal.domain.pledge import check_text
        from portal.domain.wordlist import WordList

        words = WordList.build([], "v")
        loaded = ["publicsuffixlist" in sys.modules]
        print(check_text("聊城東昌湖的夜景真美 www.example.com 2.0/3.0", words).action)
        loaded.append("publicsuffixlist" in sys.modules)
        print(check_text("前端用 vue.js/react", words).action, check_text("看 bit.ly/abc123", words).action)
        loaded.append("publicsuffixlist" in sys.modules)
        print(*loaded)
        """
    )
    assert out.split() == ["block", "pass", "block", "False", "False", "True"]


def test_the_dashboard_charts_load_pygal_when_drawn():
    out = run(
        """
        from portal.moderation import records

        svg = records._chart("Pie", inner_radius=0.45).render(is_unicode=True)
        print("pygal" in sys.modules, svg.startswith("<?xml") or svg.startswith("<svg"))
        """
    )
    assert out.split() == ["True", "True"]


def test_the_app_starts_without_flask_migrate_or_qrcode():
    out = run("print(sorted(m for m in ('alembic', 'flask_migrate', 'mako', 'qrcode') if m in sys.modules))")
    assert out.strip() == "[]"


def test_the_schema_upgrade_binds_flask_migrate_when_it_runs():
    out = run(
        """
        from sqlalchemy import inspect
        from portal.cli import upgrade_schema
        from portal.extensions import db

        with app.app_context():
            upgrade_schema()
            print("comment" in inspect(db.engine).get_table_names(), "alembic" in sys.modules)
        print(type(app.extensions["migrate"]).__module__)
        """
    )
    assert out.split() == ["True", "True", "flask_migrate"]


def test_the_flask_db_commands_load_flask_migrate_when_run():
    out = run(
        """
        runner = app.test_cli_runner()
        listed = runner.invoke(args=["db", "--help"])
        heads = runner.invoke(args=["db", "heads"])  # alembic writes to the stdout it first saw
        print(listed.exit_code, "downgrade" in listed.output, "flask_migrate" in sys.modules, heads.exit_code)
        """
    )
    assert out.split()[-4:] == ["0", "True", "True", "0"]


def test_the_article_qr_code_loads_qrcode_when_drawn():
    out = run(
        """
        from unittest import mock
        from portal.cli import upgrade_schema

        with app.app_context():
            upgrade_schema()
        with mock.patch("portal.domain.news.public_article", return_value=object()):
            response = app.test_client().get("/articles/1/qr.svg")
        print(response.status_code, response.mimetype, "qrcode" in sys.modules)
        """
    )
    assert out.split() == ["200", "image/svg+xml", "True"]


def test_the_app_without_redis_never_loads_the_redis_client():
    """Only a configured REDIS_URL needs the client (8 MiB a worker): the cache and the limiter
    keep to the process without it."""
    out = run(
        """
        from portal.cli import upgrade_schema

        with app.app_context():
            upgrade_schema()
        response = app.test_client().get("/")
        print(response.status_code, "redis" in sys.modules)
        """
    )
    assert out.split()[-2:] == ["200", "False"]
