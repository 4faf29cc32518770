"""Walks app.url_map: every write refuses a request without a CSRF token and changes nothing; every
page and fragment answers nonsense arguments below 500, for anonymous readers and signed-in ones."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.comments import set_status
from portal.extensions import db
from portal.models import Base, Comment, CommentStatus, utc_now
from tests.factories import make_article, make_section
from tests.helpers import HX, login

SAFE = {"GET", "HEAD", "OPTIONS"}
CSRF_EXPIRED = "頁面已過期，請重新整理後再提交。"
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def seeded(app, make_user):
    """An article with a comment by another reader and one by the signed-in reader."""
    alice, bob = make_user(nickname="阿蘭"), make_user(nickname="阿博")
    with app.app_context():
        section = make_section(db.session, slug="yaowen")
        article = make_article(db.session, section, published_at=utc_now() - timedelta(hours=1))
        ids = {"article": article.id, "section": section.slug}
        for key, author in (("theirs", alice), ("own", bob)):
            comment = Comment(
                article_id=article.id,
                author_id=author.id,
                body=f"{author.nickname}的評論",
                created_at=utc_now(),
            )
            db.session.add(comment)
            db.session.flush()
            set_status(db.session, comment, CommentStatus.APPROVED, now=utc_now())
            ids[key] = comment.id
        db.session.commit()
    return {**ids, "alice": alice, "bob": bob}


def _snapshot(app) -> dict[str, list[tuple]]:
    with app.app_context():
        return {
            table.name: sorted(tuple(map(repr, row)) for row in db.session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


OWN_COMMENT_ENDPOINTS = ("comments.edit_form", "comments.edit", "comments.delete")


def _plausible(name: str, rule, seeded) -> str:
    """A value that reaches the view's own logic: the seeded article, section and comments."""
    return {
        "article_id": str(seeded["article"]),
        # The reader's own comment where that is what the route is for, another reader's elsewhere.
        "comment_id": str(seeded["own"] if rule.endpoint in OWN_COMMENT_ENDPOINTS else seeded["theirs"]),
        "slug": seeded["section"],
        "target": "hans",
        "filename": "css/site.css" if rule.endpoint == "static" else "missing.jpg",
    }.get(name, "1" if name.endswith("_id") else "x")  # any id matches the route; CSRF runs first


def _plausible_url(rule, seeded) -> str:
    return ARGUMENT.sub(lambda match: _plausible(match.group(2), rule, seeded), rule.rule)


def _write_rules(app):
    return [(rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods - SAFE)]


PLAUSIBLE_FORM = {
    "body": "不帶令牌的評論",
    "reason": "R08",
    "note": "說明",
    "phone": "13912345678",
    "code": "123456",
    "nickname": "新讀者",
    "password": "a-long-password",
    "accept_terms": "y",
}


def test_every_write_without_a_csrf_token_is_400_and_changes_nothing(app, seeded):
    client = app.test_client()
    login(client, seeded["bob"].phone, seeded["bob"].password)
    before = _snapshot(app)
    seen = set()
    for rule, method in _write_rules(app):
        url = _plausible_url(rule, seeded)
        for headers in ({}, HX):
            response = client.open(url, method=method, data=PLAUSIBLE_FORM, headers=headers)
            assert response.status_code == 400, (method, url, headers, response.status_code)
            assert CSRF_EXPIRED in response.get_data(as_text=True), url
            if headers:
                assert response.headers["HX-Retarget"] == "#messages"
        seen.add((rule.endpoint, method))
    assert _snapshot(app) == before
    # Every non-GET rule of the app was called: a new write route is covered the day it appears.
    expected = {(rule.endpoint, method) for rule, method in _write_rules(app)}
    assert seen == expected
    assert {
        "comments.create",
        "comments.like",
        "comments.report",
        "comments.edit",
        "comments.delete",
        "accounts.login",
        "accounts.logout",
        "accounts.register",
        "accounts.send_code",
        "accounts.mark_read",
    } <= {endpoint for endpoint, _ in seen}
    # Still signed in: a refused logout did not log out.
    assert client.get("/accounts/comments").status_code == 200


def test_an_anonymous_write_without_a_token_is_400_too(app, seeded):
    client = app.test_client()
    before = _snapshot(app)
    for rule, method in _write_rules(app):
        response = client.open(_plausible_url(rule, seeded), method=method, data=PLAUSIBLE_FORM)
        assert response.status_code == 400, rule.rule
    assert _snapshot(app) == before


NONSENSE_INTS = ["0", "987654321", "99999999999999999999999"]
NONSENSE_STRINGS = ["x", "%00", "..%2F..%2Fetc%2Fpasswd", "%3Cscript%3E", "a" * 300, "%E2%80%AE%F0%9F%98%80"]
NONSENSE_QUERY = (
    "?after=garbage&order=%27%20OR%201%3D1&reply_to=-1&q=%00%3Cb%3E&date=2026-13-45"
    "&next=%2F%2Fevil.example&page=-1&target=%2Fetc"
)


def _urls(rule, seeded) -> list[str]:
    """The rule with plausible arguments, then with each nonsense value in every argument."""
    converters = [converter for converter, _ in ARGUMENT.findall(rule.rule)]
    if not converters:
        return [rule.rule]
    nonsense = NONSENSE_INTS if "int" in converters else NONSENSE_STRINGS
    return [_plausible_url(rule, seeded)] + [
        ARGUMENT.sub(lambda _match, v=value: v, rule.rule) for value in nonsense
    ]


@pytest.mark.parametrize("role", ["anonymous", "reader"])
def test_every_page_and_fragment_answers_nonsense_below_500(app, seeded, role):
    client = app.test_client()
    if role == "reader":
        login(client, seeded["bob"].phone, seeded["bob"].password)
    get_rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    assert len(get_rules) > 15
    answered, failures = 0, []
    for rule in get_rules:
        for url in _urls(rule, seeded):
            for query, headers in (("", {}), (NONSENSE_QUERY, {}), (NONSENSE_QUERY, HX)):
                try:  # TESTING lets an unhandled error through: it would be a 500 in production
                    status = client.get(url + query, headers=headers).status_code
                except Exception as error:
                    status = f"500 ({type(error).__name__}: {error})"
                if not isinstance(status, int) or status >= 500:
                    failures.append(f"GET {url}{query} {'HX ' if headers else ''}→ {status}")
                answered += 1
    assert answered > 100
    assert not failures, "\n".join(failures)
