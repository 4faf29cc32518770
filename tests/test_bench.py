"""The benchmark's smoke run: it starts every server, drives wrk and writes its report.
No timing is asserted here; targets live in bench/RESULTS.md."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import POST_DIGITS, POSTING_FLOOR, post_text
from portal.domain.pledge import check_text, normalise
from portal.domain.wordlist import WordList, parse_word_csv

ROOT = Path(__file__).resolve().parent.parent
DEMO_WORDS = ROOT / "portal" / "demo" / "data" / "words.csv"
# Digits and the numerals PLEDGE_RULES §6.4 reads as digits (in either script).
DIGIT_LIKE = re.compile(r"[0-9０-９〇零一二三四五六七八九两兩幺壹贰貳叁參参肆伍陆陸柒捌玖]")


def test_the_posting_probes_texts_are_distinct_and_pass_every_text_rule():
    """The probe posted texts ending in a timestamp and a counter, which P18 rightly read as a phone
    number: its numbers are now spelt in characters that are no numerals and hit no term."""
    words = WordList.build(parse_word_csv(DEMO_WORDS.read_text(encoding="utf-8")), "bench-probe")
    texts = [post_text(thread, 1764072000, n) for thread in (1, 2) for n in (1, 9, 10, 99, 12345)]
    assert len(set(texts)) == len(texts)
    for text in texts:
        assert not DIGIT_LIKE.search(text), text
        verdict = check_text(text, words)
        assert (verdict.action, verdict.rules, verdict.flags) == ("pass", [], []), text
    # The rule itself is unchanged: the old probe text is still a phone number to it.
    assert check_text("基準1t1764072000-3", words).rules[0] == "P18"


def test_the_probes_digit_characters_lie_outside_the_generated_terms_range():
    # bench.run.seed draws its 10,000 generated terms from U+4E00 to U+4E00 + 2999 (after folding).
    for character in POST_DIGITS:
        assert ord(normalise(character).skeleton) >= 0x4E00 + 3000, character


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/test installs it)")
def test_the_quick_benchmark_runs_every_probe_and_writes_its_report():
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((ROOT / "bench" / "out" / "results.json").read_text(encoding="utf-8"))
    probes = {r["probe"] for r in report["results"]}
    assert {"hello world", "anonymous article page, 50 comments", "posting a comment", "home page"} <= probes
    isso = {"Isso 0.14 comment list, 50 comments", "Isso 0.14 posting a comment (pending, moderation on)"}
    assert isso <= probes
    assert all(r["rps"] > 0 for r in report["results"] if r["probe"] not in isso)
    posting = next(r for r in report["results"] if r["probe"] == "posting a comment")
    assert posting["errors"] == 0, posting  # every post accepted (pending): none refused, none failed
    # The floor took the same posts through sign-in, the limiter, CSRF and the form: all 204.
    floor = next(r for r in report["results"] if r["probe"] == POSTING_FLOOR)
    assert floor["rps"] > 0 and floor["errors"] == 0, floor
    assert report["posting_vs_floor"] > 0
    # Isso runs from its own venv, built from PyPI: without PyPI its probes say why they were skipped.
    for r in report["results"]:
        if r["probe"] in isso:
            assert (r["rps"] > 0 and r["errors"] == 0) or (
                r["skipped"] and r["notes"] and r["ratio"] is None
            ), r
    assert report["word_filter"]["speedup"] > 0
    assert "| probe |" in result.stdout
