"""Heavy optional modules stay out of a worker until it needs them (the benchmark's peak RSS target).

Each check runs in a fresh interpreter: the test process itself has long since imported everything.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

APP = """
import sys
from portal import create_app

app = create_app({"TESTING": True, "SECRET_KEY": "memory-test-key-0123456789abcdef0123", "PII_KEY": "k" * 32,
                  "SQLALCHEMY_DATABASE_URI": "sqlite://"})
"""


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(APP) + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_app_starts_without_pypinyin_or_pygal():
    out = run("print(sorted(m for m in ('pypinyin', 'pygal') if m in sys.modules))")
    assert out.strip() == "[]"


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
