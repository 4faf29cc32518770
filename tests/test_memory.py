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

create_app({"TESTING": True, "SECRET_KEY": "memory-test-key-0123456789abcdef0123", "PII_KEY": "k" * 32,
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
