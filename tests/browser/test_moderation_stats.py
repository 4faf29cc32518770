"""The moderation dashboard in Chromium: every chart loads as an image, in colour, and the page
and its images stay within the CSP (no violation, no console error)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from portal.demo.comments import DEMO_PASSWORD
from tests.browser import conftest as live
from tests.conftest import TEST_PII_KEY

MODERATOR_PHONE = "13900000005"
CHARTS = ("daily", "queue", "decision_time", "reasons", "reports")


@pytest.fixture(scope="module")
def staff_server(demo_template, tmp_path_factory):
    """The live server's recipe with the PII key the demo database was built with: phones are
    looked up by a keyed hash, so only then can the demo moderator log in."""
    instance = tmp_path_factory.mktemp("stats-instance")
    shutil.copyfile(demo_template, instance / "portal.sqlite")
    port = live.free_port()
    env = {**live.testing_env(instance, demo_template.parent / "media"), "PORTAL_PII_KEY": TEST_PII_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=live.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        live.wait_until_up(base + "/", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def log_in(page, base: str, phone: str, password: str) -> None:
    page.goto(f"{base}/accounts/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", password)
    page.click("form.account-form button[type=submit]")
    page.wait_for_load_state()


def test_every_chart_of_the_dashboard_loads_in_colour(page, watch, artifacts, staff_server):
    log_in(page, staff_server, MODERATOR_PHONE, DEMO_PASSWORD)
    assert page.locator(".whoami").inner_text() == "值班審核員"
    page.goto(f"{staff_server}/moderation/stats")
    assert page.locator("h1").inner_text() == "審核數據"
    images = page.locator("figure.chart img")
    assert images.count() == len(CHARTS)
    for name in CHARTS:
        image = page.locator(f"figure[data-chart='{name}'] img")
        image.scroll_into_view_if_needed()
        image.evaluate("img => img.decode()")  # waits until the picture is ready
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), name
        assert image.evaluate("img => img.naturalWidth") == 800
    # The numbers behind a chart are one click away.
    details = page.locator("figure[data-chart='daily'] details")
    details.locator("summary").click()
    assert details.locator("table tbody tr").count() == 30
    # Drawn with pygal's own stylesheet (allowed by its hash): the plot is not all black.
    page.goto(f"{staff_server}/moderation/stats/daily.svg")
    shot = page.screenshot(path=str(artifacts / "moderation-stats-daily.png"))
    assert _colourful(shot)
    watch.assert_clean()


def _colourful(png: bytes) -> bool:
    """More than black, white and greys: some pixel has distinct red, green and blue."""
    from io import BytesIO

    from PIL import Image

    picture = Image.open(BytesIO(png)).convert("RGB")
    colours = picture.getcolors(maxcolors=1 << 20) or []
    return any(max(rgb) - min(rgb) > 60 for _, rgb in colours)
