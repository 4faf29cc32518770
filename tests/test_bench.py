"""The benchmark's smoke run: it starts every server, drives wrk and writes its report.
No timing is asserted here; targets live in bench/RESULTS.md."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
    # Isso runs from its own venv, built from PyPI: without PyPI its probes say why they were skipped.
    for r in report["results"]:
        if r["probe"] in isso:
            assert (r["rps"] > 0 and r["errors"] == 0) or (
                r["skipped"] and r["notes"] and r["ratio"] is None
            ), r
    assert report["word_filter"]["speedup"] > 0
    assert "| probe |" in result.stdout
