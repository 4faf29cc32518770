"""The vendored htmx is the audited file, and the pages load no other script and run nothing inline."""

from __future__ import annotations

import hashlib
import re

from portal import ROOT
from tests.helpers import parse_html

HTMX = ROOT / "static" / "vendor" / "htmx-2.0.11.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
LICENCE = ROOT / "static" / "vendor" / "htmx-LICENSE.txt"
TEMPLATES = ROOT / "templates"
ALLOWED_SCRIPTS = ["vendor/htmx-2.0.11.min.js", "js/portal.js"]


def _templates():
    return sorted(p for p in TEMPLATES.rglob("*") if p.is_file())


def test_vendored_htmx_has_the_audited_checksum():
    assert hashlib.sha256(HTMX.read_bytes()).hexdigest() == HTMX_SHA256


def test_htmx_licence_file_is_shipped():
    assert LICENCE.is_file()
    assert LICENCE.read_text(encoding="utf-8").strip()


def test_base_template_loads_htmx_and_portal_js_and_nothing_else():
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    tags = re.findall(r"<script\b[^>]*>", base, re.IGNORECASE)
    sources = [re.search(r"filename='([^']+)'", tag).group(1) for tag in tags]
    assert sources == ALLOWED_SCRIPTS


def test_script_tags_load_only_our_static_files():
    # The page shell loads htmx and portal.js; the moderation queue and appeals add the desk's script.
    holders = {}
    for path in _templates():
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(encoding="utf-8"), re.IGNORECASE):
            holders.setdefault(path.relative_to(TEMPLATES).as_posix(), []).append(
                re.search(r"url_for\('static', filename='([^']+)'\)", tag).group(1)
            )
    assert holders == {
        "base.html": ALLOWED_SCRIPTS,
        "moderation/queue.html": ["js/moderation.js"],
        "moderation/appeals.html": ["js/moderation.js"],
    }


def test_no_template_has_inline_script_style_or_event_handlers():
    findings = []
    for path in _templates():
        source = path.read_text(encoding="utf-8")
        for body in re.findall(r"<script\b[^>]*>(.*?)</script>", source, re.IGNORECASE | re.DOTALL):
            if body.strip():
                findings.append(f"{path.name}: inline script")
        if re.search(r"<style\b", source, re.IGNORECASE):
            findings.append(f"{path.name}: <style>")
        for tag in re.findall(r"<[a-zA-Z][^>]*>", source):
            if re.search(r"\son[a-z]+\s*=", tag, re.IGNORECASE):
                findings.append(f"{path.name}: on*= in {tag}")
            if re.search(r"\sstyle\s*=", tag, re.IGNORECASE):
                findings.append(f"{path.name}: style= in {tag}")
            if re.search(r"\s(data-)?hx-on", tag, re.IGNORECASE):
                findings.append(f"{path.name}: hx-on in {tag}")
    assert findings == []


def test_rendered_page_loads_only_the_two_scripts(demo_client):
    html = demo_client.get("/").get_data(as_text=True)
    scripts = list(parse_html(html).iter("script"))
    assert [s.get("src") for s in scripts] == [f"/static/{name}" for name in ALLOWED_SCRIPTS]
    assert all(not (s.text or "").strip() for s in scripts)
    for script in scripts:
        response = demo_client.get(script.get("src"))
        assert response.status_code == 200
        assert response.mimetype in ("text/javascript", "application/javascript")
    served = demo_client.get("/static/vendor/htmx-2.0.11.min.js").get_data()
    assert hashlib.sha256(served).hexdigest() == HTMX_SHA256
