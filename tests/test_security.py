"""Security headers on every kind of response, autoescaping everywhere, no 5xx for nonsense URLs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import ROOT
from portal.extensions import db
from portal.models import Article, Page, SiteSetting
from tests.helpers import HX

# Written out here, not imported: the test must fail if portal/security.py drifts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
TEMPLATES = ROOT / "templates"
PORTAL = ROOT / "portal"


@pytest.fixture
def seed_id(demo_app) -> int:
    with demo_app.app_context():
        return db.session.scalar(select(Article.id).order_by(Article.id))


def _requests(seed_id: int) -> dict[str, tuple[str, str, dict]]:
    return {
        "page": ("GET", f"/articles/{seed_id}", {}),
        "home": ("GET", "/", {}),
        "redirect": ("GET", "/script/hans?next=/", {}),
        "not found": ("GET", "/articles/999999", {}),
        "not found fragment": ("GET", "/articles/999999", HX),
        "method not allowed": ("POST", "/", {}),
        "static file": ("GET", "/static/js/portal.js", {}),
        "vendor file": ("GET", "/static/vendor/htmx-2.0.11.min.js", {}),
        "feed": ("GET", "/sections/yaowen/feed.atom", {}),
        "qr": ("GET", f"/articles/{seed_id}/qr.svg", {}),
        "search": ("GET", "/search?q=%E6%BF%9F%E5%8D%97", {}),
    }


EXPECTED_STATUS = {
    "redirect": 303,
    "not found": 404,
    "not found fragment": 404,
    "method not allowed": 405,
}


@pytest.mark.parametrize("kind", list(_requests(0)))
def test_security_headers_on_every_kind_of_response(demo_client, seed_id, kind):
    method, url, headers = _requests(seed_id)[kind]
    response = demo_client.open(url, method=method, headers=headers)
    assert response.status_code == EXPECTED_STATUS.get(kind, 200)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
    assert {"hx-request", "cookie"} <= vary
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_only_over_https(demo_client):
    response = demo_client.get("/", base_url="https://portal.test")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_media_files_are_sandboxed(demo_app, demo_client):
    with demo_app.app_context():
        path = db.session.scalar(select(Article).where(Article.cover_id.is_not(None))).cover.path
    response = demo_client.get(f"/media/{path}")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_private_prefixes_are_not_cached(demo_client):
    # No such pages yet: even the 404 under /admin must say no-store.
    for url in ("/admin", "/moderation/queue", "/accounts/login"):
        assert demo_client.get(url).headers["Cache-Control"] == "no-store"


def test_every_template_is_autoescaped_by_its_name():
    names = [p for p in TEMPLATES.rglob("*") if p.is_file()]
    assert names
    assert [p for p in names if p.suffix not in (".html", ".xml")] == []


def test_page_and_setting_text_is_escaped(demo_app, demo_client):
    with demo_app.app_context():
        page = db.session.scalar(select(Page).where(Page.slug == "about"))
        page.title = "<x>關於</x>"
        db.session.get(SiteSetting, "footer_copyright").value = '<img src=x onerror="alert(1)">{{7*7}}'
        db.session.commit()
    html = demo_client.get("/pages/about").get_data(as_text=True)
    assert "&lt;x&gt;關於&lt;/x&gt;" in html
    assert "<x>" not in html
    assert "<img src=x" not in html
    assert "{{7*7}}" in html


def _template_findings() -> list[str]:
    pattern = re.compile(r"\|\s*safe\b|Markup\s*\(|autoescape\s+false", re.IGNORECASE)
    findings = []
    for path in TEMPLATES.rglob("*"):
        if path.is_file():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    findings.append(f"{path.relative_to(ROOT)}:{number}")
    return findings


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _python_findings() -> list[str]:
    """Calls of Markup, render_template_string, autoescape=False, and template strings with |safe."""
    findings = []
    for path in PORTAL.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("Markup", "render_template_string"):
                    findings.append(f"{where} {name}(")
                for keyword in node.keywords:
                    if keyword.arg == "autoescape" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is True
                    ):
                        findings.append(f"{where} autoescape=")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and re.search(r"\|\s*safe\b|autoescape\s+false", node.value, re.IGNORECASE)
            ):
                findings.append(f"{where} template string")
    return findings


def test_markup_is_only_made_by_the_cleaned_html_filter():
    assert _template_findings() == []
    findings = _python_findings()
    assert len(findings) == 1, findings
    assert findings[0].startswith("portal/page_context.py:")
    assert findings[0].endswith("Markup(")
    # …and that one call sits in cleaned_html.
    tree = ast.parse((PORTAL / "page_context.py").read_text(encoding="utf-8"))
    holder = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Markup"
            for call in ast.walk(node)
        )
    )
    assert holder.name == "cleaned_html"


def test_cleaned_html_is_applied_only_to_sanitized_columns():
    uses = []
    for path in TEMPLATES.rglob("*.html"):
        uses += re.findall(r"([\w.]+)\s*\|\s*cleaned_html", path.read_text(encoding="utf-8"))
    assert uses
    assert {use.rsplit(".", 1)[-1] for use in uses} == {"body_html"}


NONSENSE = ["x", "0", "999999", "../etc", "%00", "-1"]


def _get_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or set())]


def test_url_map_has_the_reader_pages(demo_app):
    endpoints = {rule.endpoint for rule in _get_rules(demo_app)}
    assert {"news.home", "news.article", "news.section", "news.search", "news.media_file"} <= endpoints


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_every_get_rule_with_nonsense_arguments_answers_below_500(demo_app, demo_client, headers):
    answered = 0
    for rule in _get_rules(demo_app):
        for value in NONSENSE:
            url = re.sub(r"<[^>]+>", value, rule.rule)
            for query in ("", "?after=x&date=x&q=%25&next=//evil.example"):
                response = demo_client.get(url + query, headers=headers)
                assert response.status_code < 500, f"{url}{query}: {response.status_code}"
                answered += 1
    assert answered >= 60


def test_source_tree_exists_for_the_greps():
    # The greps above prove nothing if they look in the wrong place.
    assert (TEMPLATES / "base.html").is_file()
    assert (PORTAL / "page_context.py").is_file()
    assert Path(ROOT / "portal" / "security.py").is_file()


@pytest.mark.parametrize("path", ["/", "/search", "/accounts/login", "/no-such-page"])
def test_a_query_of_raw_bytes_that_are_not_utf8_gets_a_page_not_a_server_error(demo_app, path):
    """No browser sends them; a scanner does, straight in the request line."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path=path).get_environ()
    environ["QUERY_STRING"] = "q=\xff\xfe%zz&after=\xc3"  # WSGI's Latin-1 view of the raw bytes
    body, status, _headers = run_wsgi_app(demo_app, environ, buffered=True)
    assert int(status.split()[0]) < 500, status
    assert "聊城新聞網" in b"".join(body).decode()
