"""The hostile corpus (tests/hostile_corpus.py) through the real forms, with the test client.

Every payload is posted as a comment by a verified reader. The pledge rules refuse some (422, the
text kept in the textarea); the rest are approved by a moderator and the article page is parsed with
html5lib: the text reads back exactly as typed (after SECURITY.md §1's normalisation), inside an
`hx-disable` element, and the 網友評論 region has exactly the shape it has for a harmless comment:
no element, attribute, handler, style, `hx-*` or dangerous URL more. Each payload is a nickname too.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from itertools import count
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.auth import password_hasher, phone_vault
from portal.domain import comments as comment_domain
from portal.domain import moderation, news
from portal.domain.accounts import create_verified_user
from portal.domain.pledge import input_normalise
from portal.extensions import db
from portal.models import (
    Article,
    ArticleState,
    Comment,
    CommentStatus,
    Report,
    Role,
    SiteSetting,
    User,
    utc_now,
)
from tests.conftest import TEST_PASSWORD, app_config
from tests.helpers import HX, csrf_token_from, find_all, find_one, login, parse_html, text_of
from tests.hostile_corpus import CORPUS, LONG_GENERATORS, Payload, payload_id

SUCCESS = "評論已提交，審核後顯示"
TOO_LARGE = "提交的內容過大，請縮短後再試。"
NOT_FOUND = "您訪問的頁面不存在或已被刪除。"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
_phones = count(13600000001)
_addresses = count(1)


class CapturingSender:
    """The SMS sender of these tests: keeps the last message per number."""

    def __init__(self) -> None:
        self.sent: dict[str, str] = {}

    def send(self, phone: str, text: str) -> None:
        self.sent[phone] = text

    def code_for(self, phone: str) -> str:
        import re

        return re.search(r"驗證碼是(\d+)", self.sent[phone]).group(1)


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_app(demo_template, tmp_path_factory):
    """One app for the module: every payload gets a reader of its own, so nothing adds up."""
    folder = tmp_path_factory.mktemp("hostile")
    database = folder / "portal.sqlite"
    shutil.copyfile(demo_template, database)
    sender = CapturingSender()
    app = create_app(
        {
            **app_config(database, demo_template.parent / "media"),
            "COMMENT_LIMITS": "100000 per minute",
            "LOGIN_LIMITS": "100000 per minute",
            "REGISTER_LIMITS": "100000 per minute",
            "SMS_SENDER": sender,
        }
    )
    app.sms = sender
    with app.app_context():
        for key, value in {
            "comment_cooldown_seconds": "0",
            "comment_ip_hourly": "100000",
            "quota_new": "100000",
            "report_hide_threshold": "100000",  # every payload reports the same comment
        }.items():
            db.session.merge(SiteSetting(key=key, value=value))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def open_articles(app) -> list[int]:
    """Public articles without comments whose comments are open, newest first."""
    now = utc_now()
    with app.app_context():
        rows = db.session.scalars(
            select(Article)
            .where(Article.state == ArticleState.PUBLISHED, Article.comment_count == 0)
            .order_by(Article.published_at.desc())
        )
        return [
            a.id
            for a in rows
            if news.public_article(db.session, a.id, now=now) is not None
            and not comment_domain.comments_closed(a, now=now)
        ]


@pytest.fixture(scope="module")
def articles(hostile_app) -> SimpleNamespace:
    found = open_articles(hostile_app)
    return SimpleNamespace(comments=found[0], nicknames=found[1], hosts=found[2])


def make_reader(app, nickname: str | None = None) -> SimpleNamespace:
    phone = str(next(_phones))
    with app.app_context():
        user = create_verified_user(
            db.session,
            phone=phone,
            nickname=f"讀者{phone[-5:]}",
            password=TEST_PASSWORD,
            role=Role.READER,
            vault=phone_vault(),
            hasher=password_hasher(),
            now=utc_now(),
        )
        if nickname is not None:  # past the screen and the length cap: what renders is the point
            user.nickname = nickname
        db.session.commit()
        return SimpleNamespace(id=user.id, phone=phone, nickname=user.nickname, password=TEST_PASSWORD)


def own_address(client) -> None:
    """A network of its own for each client: P11 (coordinated posting) and the per-IP budgets
    then see readers, not one busy network, and stay out of the way."""
    n = next(_addresses)
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 256 % 256}.{n % 256}.7"


def logged_in(app, reader) -> object:
    client = app.test_client()
    own_address(client)
    login(client, reader.phone, reader.password)
    client.csrf_token = csrf_token_from(client.get("/accounts/comments").get_data(as_text=True))
    return client


def approve(app, comment_id: int) -> None:
    with app.app_context():
        moderator = db.session.scalar(select(User).where(User.role == Role.MODERATOR))
        comment = db.session.get(Comment, comment_id)
        now = utc_now()
        moderation.approve(db.session, comment=comment, moderator=moderator, now=now, today=now.date())
        db.session.commit()


def remove(app, comment_id: int) -> None:
    """The author deletes it, so the next payload finds the article as before."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment_domain.delete_own(db.session, comment=comment, author=comment.author, now=utc_now())
        db.session.commit()


def comments_by(app, author_id: int) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [
            (c.id, c.body, c.status)
            for c in db.session.scalars(select(Comment).where(Comment.author_id == author_id))
        ]


def row_counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Comment)),
            db.session.scalar(select(func.count()).select_from(User)),
        )


def post_comment(client, article_id: int, body: str, *, headers=None, reply_to: str = ""):
    token = client.csrf_token  # the session's token, read from a page once (see logged_in)
    started = time.monotonic()
    response = client.post(
        f"/articles/{article_id}/comments",
        data={"csrf_token": token, "body": body, "reply_to": reply_to},
        headers=headers or {},
    )
    return response, time.monotonic() - started


# --- what the parsed page must show ----------------------------------------------------------------


def region_of(html_or_root):
    root = parse_html(html_or_root) if isinstance(html_or_root, str) else html_or_root
    return find_one(root, "section", id="comments")


def local(name: str) -> str:
    """An html5lib name without its namespace: '{http://www.w3.org/1999/xlink}href' → 'xlink:href'."""
    if name.startswith("{"):
        space, _, bare = name[1:].partition("}")
        return f"xlink:{bare}" if space.endswith("xlink") else bare
    return name


def shape(root) -> Counter:
    """Every element as its tag and attribute names: equal shapes, equal live structure."""
    return Counter((local(e.tag), tuple(sorted(local(a) for a in e.attrib))) for e in root.iter())


def assert_inert(root, where: str) -> None:
    """SECURITY.md §14, invariant 1, on a parsed subtree."""
    for element in root.iter():
        tag = local(element.tag)
        assert tag not in {"script", "iframe", "object", "embed", "svg", "math", "style", "base"}, (
            f"<{tag}> in {where}"
        )
        for raw_name, value in element.attrib.items():
            name = local(raw_name).lower()
            assert not name.startswith("on"), f"{name} on <{tag}> in {where}"
            assert name not in {"style", "srcdoc"}, f"{name} on <{tag}> in {where}"
            if name in URL_ATTRIBUTES:
                squeezed = "".join(ch for ch in value if ch > " " and ch != "\u200b").lower()
                assert not squeezed.startswith(DANGEROUS_SCHEMES), f"{name}={value!r} in {where}"
    for wrapper in find_all(root, hx_disable=None):
        for element in wrapper.iter():
            if element is wrapper:
                continue
            assert local(element.tag) in {"bdi", "span"}, f"<{element.tag}> inside user content in {where}"
            for name in element.attrib:
                assert not local(name).startswith(("hx-", "data-hx-")), f"{name} inside user content"


def comment_item(region, comment_id: int):
    return find_one(region, "li", id=f"comment-{comment_id}")


def body_text(item) -> str:
    """The comment's text as the browser shows it: the <bdi> in the hx-disable body."""
    body = find_one(item, "div", cls="comment-body")
    assert body.get("hx-disable") is not None, "the comment body is not inside hx-disable"
    bdis = [e for e in body if e.tag == "bdi"]
    assert len(bdis) == 1
    return "".join(bdis[0].itertext())


def textarea_text(root) -> str:
    return "".join(find_one(root, "textarea", id="body").itertext())


def html_attribute(text: str) -> str:
    """What an HTML parser gives back for `text` in an attribute: newlines folded, NUL replaced."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


def harmless_baseline(app, article_id: int) -> SimpleNamespace:
    """The article seen anonymously with one harmless approved comment: its region and whole page."""
    reader = make_reader(app)
    client = logged_in(app, reader)
    response, _ = post_comment(client, article_id, "一條普通的評論，用來比較頁面結構。")
    assert response.status_code == 303
    [(comment_id, _, _)] = comments_by(app, reader.id)
    approve(app, comment_id)
    html = app.test_client().get(f"/articles/{article_id}").get_data(as_text=True)
    remove(app, comment_id)
    root = parse_html(html)
    region = region_of(root)
    return SimpleNamespace(shape=shape(region), page=shape(root), buttons=len(find_all(region, "button")))


@pytest.fixture(scope="module")
def baseline(hostile_app, articles) -> SimpleNamespace:
    return harmless_baseline(hostile_app, articles.comments)


@pytest.fixture(scope="module")
def nickname_page_baseline(hostile_app, articles) -> SimpleNamespace:
    return harmless_baseline(hostile_app, articles.nicknames)


# --- every payload as a comment --------------------------------------------------------------------


@pytest.mark.parametrize("payload", CORPUS, ids=payload_id)
def test_payload_as_a_comment_reads_back_exactly_and_stays_inert(hostile_app, articles, baseline, payload):
    reader = make_reader(hostile_app)
    client = logged_in(hostile_app, reader)
    article = f"/articles/{articles.comments}"
    before = row_counts(hostile_app)

    response, seconds = post_comment(client, articles.comments, payload.text)

    assert seconds < 2, f"the post took {seconds:.2f} s"
    if payload.refused:
        assert response.status_code == 422
        page = parse_html(response.get_data(as_text=True))
        assert text_of(find_one(page, "ul", id="body-errors"))
        assert textarea_text(page) == payload.expected  # the reader keeps the text
        assert_inert(region_of(response.get_data(as_text=True)), "the refused form")
        assert comments_by(hostile_app, reader.id) == []
        assert row_counts(hostile_app) == before
        return
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith(f"{article}#comment-status")
    [(comment_id, stored, status)] = comments_by(hostile_app, reader.id)
    assert (stored, status) == (payload.expected, CommentStatus.PENDING)
    assert row_counts(hostile_app) == (before[0] + 1, before[1])  # no other row touched

    # The author sees it 審核中, on the article and in 我的評論.
    own = region_of(client.get(article).get_data(as_text=True))
    item = find_one(find_one(own, "div", id="own-unpublished"), "li", data_comment_id=str(comment_id))
    assert body_text(item) == payload.expected
    assert "審核中" in text_of(item)
    assert_inert(own, "the author's region")
    mine = parse_html(client.get("/accounts/comments").get_data(as_text=True))
    mine_item = find_one(mine, "li", cls="my-comment", data_comment_id=str(comment_id))
    assert "".join(find_one(mine_item, "bdi").itertext()) == payload.expected
    assert_inert(find_one(mine, "main"), "我的評論")
    edit = parse_html(client.get(f"/comments/{comment_id}/edit").get_data(as_text=True))
    assert textarea_text(edit) == payload.expected  # the edit form holds it exactly
    assert_inert(find_one(edit, "main"), "the edit page")

    approve(hostile_app, comment_id)
    try:
        root = parse_html(hostile_app.test_client().get(article).get_data(as_text=True))
        region = region_of(root)
        item = comment_item(region, comment_id)
        assert body_text(item) == payload.expected
        if "7*7" in payload.text:
            assert "49" not in body_text(item)
        assert_inert(region, "the public region")
        assert len(find_all(region, "li", cls="comment")) == 1
        assert len(find_all(region, "button")) == baseline.buttons
        assert shape(region) == baseline.shape
        assert shape(root) == baseline.page  # and nothing changed outside it

        # The report page quotes it too.
        report = parse_html(client.get(f"/comments/{comment_id}/report").get_data(as_text=True))
        quote = find_one(report, "blockquote", cls="comment-body")
        assert quote.get("hx-disable") is not None
        assert "".join(find_one(quote, "bdi").itertext()) == payload.expected
        assert_inert(find_one(report, "main"), "the report page")
    finally:
        remove(hostile_app, comment_id)


@pytest.mark.parametrize("payload", [p for p in CORPUS if not p.refused], ids=payload_id)
def test_payload_refused_for_another_reason_comes_back_in_the_textarea_exactly(
    hostile_app, articles, payload
):
    """A refusal re-renders the typed text inside <textarea>: `</textarea>` must not end it early."""
    client = logged_in(hostile_app, make_reader(hostile_app))
    for headers in ({}, HX):
        response, _ = post_comment(
            client, articles.comments, payload.text, headers=headers, reply_to="99999999"
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        root = parse_html(html)
        assert textarea_text(root) == payload.expected
        assert "您回覆的評論不存在或已不可見" in text_of(find_one(root, "ul", id="body-errors"))
        form = find_one(root, "div", id="comment-form")
        assert len(find_all(form, "textarea")) == 1
        assert len(find_all(form, "button")) == 1
        assert_inert(form, "the re-rendered form")


@pytest.fixture(scope="module")
def host_comment(hostile_app, articles) -> SimpleNamespace:
    """An approved comment by a host reader, for payloads to report and to answer."""
    host = make_reader(hostile_app)
    client = logged_in(hostile_app, host)
    response, _ = post_comment(client, articles.hosts, "歡迎大家回覆和討論這條評論。")
    assert response.status_code == 303
    [(comment_id, _, _)] = comments_by(hostile_app, host.id)
    approve(hostile_app, comment_id)
    yield SimpleNamespace(id=comment_id, host=host)
    remove(hostile_app, comment_id)


@pytest.mark.parametrize("payload", CORPUS, ids=payload_id)
def test_payload_as_a_report_note_is_stored_as_typed_or_refused_in_chinese(
    hostile_app, host_comment, payload
):
    reader = make_reader(hostile_app)
    client = logged_in(hostile_app, reader)
    form_page = client.get(f"/comments/{host_comment.id}/report", headers=HX)
    assert form_page.status_code == 200
    response = client.post(
        f"/comments/{host_comment.id}/report",
        data={
            "csrf_token": csrf_token_from(form_page.get_data(as_text=True)),
            "reason": "R08",
            "note": payload.text,
        },
        headers=HX,
    )
    with hostile_app.app_context():
        stored = db.session.scalar(select(Report.note).where(Report.reporter_id == reader.id))
    if len(payload.expected) > 200:
        assert response.status_code == 422
        assert stored is None
    else:
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert "舉報已收到" in response.get_data(as_text=True)
        assert stored == payload.expected


@pytest.mark.parametrize("payload", [p for p in CORPUS if not p.refused], ids=payload_id)
def test_payload_in_a_reply_reads_back_in_the_hosts_messages(hostile_app, articles, host_comment, payload):
    """消息 quotes the first 60 characters of a reply: inert there too."""
    author = make_reader(hostile_app)
    client = logged_in(hostile_app, author)
    response, _ = post_comment(client, articles.hosts, payload.text, reply_to=str(host_comment.id))
    assert response.status_code == 303
    [(reply_id, _, _)] = comments_by(hostile_app, author.id)
    approve(hostile_app, reply_id)
    try:
        host = logged_in(hostile_app, host_comment.host)
        page = parse_html(host.get("/accounts/messages").get_data(as_text=True))
        newest = find_all(find_one(page, "ol", id="notices"), "li", cls="notice-item")[0]
        wrapper = find_one(newest, "span", hx_disable=None)
        assert "".join(find_one(wrapper, "bdi").itertext()) == (
            f"{author.nickname} 回覆了您的評論：{payload.expected[:60]}"
        )
        assert_inert(find_one(page, "main"), "消息")
    finally:
        remove(hostile_app, reply_id)


# --- every payload as a nickname -------------------------------------------------------------------


def register_through_the_form(app, nickname: str):
    """Registration with a real SMS code, from an address of its own (the code is throttled per IP)."""
    client = app.test_client()
    own_address(client)
    phone = str(next(_phones))
    token = csrf_token_from(client.get("/accounts/register").get_data(as_text=True))
    sent = client.post("/accounts/register/code", data={"csrf_token": token, "phone": phone}, headers=HX)
    assert sent.status_code == 200, sent.get_data(as_text=True)
    response = client.post(
        "/accounts/register",
        data={
            "csrf_token": token,
            "phone": phone,
            "code": app.sms.code_for(phone),
            "nickname": nickname,
            "password": TEST_PASSWORD,
            "accept_terms": "y",
        },
    )
    return client, phone, response


NICKNAME_INPUT_ATTRIBUTES = {
    "id", "name", "type", "value", "maxlength", "required", "aria-invalid", "aria-describedby"
}  # fmt: skip


def tags_without_errors(root) -> Counter:
    """The form's elements by tag, leaving out the error lists (which field fails depends on the text)."""
    return Counter(local(e.tag) for e in root.iter() if local(e.tag) not in {"ul", "li"})


@pytest.fixture(scope="module")
def nickname_baseline(hostile_app) -> Counter:
    """The register form refused for a wrong code, with a harmless nickname."""
    client = hostile_app.test_client()
    token = csrf_token_from(client.get("/accounts/register").get_data(as_text=True))
    response = client.post(
        "/accounts/register",
        data={
            "csrf_token": token,
            "phone": str(next(_phones)),
            "code": "000000",
            "nickname": "普通暱稱",
            "password": TEST_PASSWORD,
            "accept_terms": "y",
        },
    )
    assert response.status_code == 422
    return tags_without_errors(
        find_one(parse_html(response.get_data(as_text=True)), "form", cls="account-form")
    )


@pytest.mark.parametrize("payload", CORPUS, ids=payload_id)
def test_payload_as_a_nickname_stays_in_its_value_attribute(hostile_app, nickname_baseline, payload):
    client = hostile_app.test_client()
    token = csrf_token_from(client.get("/accounts/register").get_data(as_text=True))
    response = client.post(
        "/accounts/register",
        data={
            "csrf_token": token,
            "phone": str(next(_phones)),
            "code": "000000",  # wrong: nothing is created whatever the nickname
            "nickname": payload.text,
            "password": TEST_PASSWORD,
            "accept_terms": "y",
        },
    )
    assert response.status_code == 422
    form = find_one(parse_html(response.get_data(as_text=True)), "form", cls="account-form")
    field = find_one(form, "input", name="nickname")
    # What was typed comes back after the form's input normalisation (controls dropped, trimmed).
    assert field.get("value") == html_attribute(input_normalise(payload.text))
    assert {local(name) for name in field.attrib} <= NICKNAME_INPUT_ATTRIBUTES  # no attribute added
    assert tags_without_errors(form) == nickname_baseline  # no element added
    assert_inert(form, "the register form")


@pytest.mark.parametrize("payload", CORPUS, ids=payload_id)
def test_payload_as_a_nickname_renders_escaped_wherever_it_shows(
    hostile_app, articles, nickname_page_baseline, payload
):
    client, phone, response = register_through_the_form(hostile_app, payload.text)
    if response.status_code == 303:  # the screen let it through: it is stored as §1 normalises text
        with hostile_app.app_context():
            lookup = phone_vault().lookup_hash(phone)
            nickname = db.session.scalar(select(User.nickname).where(User.phone_hmac == lookup))
        assert nickname == input_normalise(nickname), f"stored with control characters: {nickname!r}"
        client.csrf_token = csrf_token_from(client.get("/accounts/comments").get_data(as_text=True))
    else:
        assert response.status_code == 422
        nickname = payload.expected or "空"
        reader = make_reader(hostile_app, nickname=nickname)
        client = logged_in(hostile_app, reader)
    response, _ = post_comment(client, articles.nicknames, "暱稱測試的評論內容。")
    assert response.status_code == 303
    with hostile_app.app_context():
        comment_id = db.session.scalar(
            select(Comment.id).where(Comment.article_id == articles.nicknames).order_by(Comment.id.desc())
        )
    approve(hostile_app, comment_id)
    try:
        article = f"/articles/{articles.nicknames}"
        root = parse_html(hostile_app.test_client().get(article).get_data(as_text=True))
        region = region_of(root)
        meta = find_one(comment_item(region, comment_id), "span", cls="nickname")
        assert meta.get("hx-disable") is not None
        assert "".join(find_one(meta, "bdi").itertext()) == nickname
        assert_inert(region, "the public region")
        assert shape(region) == nickname_page_baseline.shape
        assert shape(root) == nickname_page_baseline.page

        # Logged in: the header names the reader; the 回覆 form quotes them.
        page = parse_html(client.get(article).get_data(as_text=True))
        whoami = find_one(page, "span", cls="whoami")
        assert whoami.get("hx-disable") is not None
        assert "".join(find_one(whoami, "bdi").itertext()) == nickname
        assert_inert(find_one(page, "header"), "the header")
        form = parse_html(
            client.get(
                f"/articles/{articles.nicknames}/comment-form?reply_to={comment_id}", headers=HX
            ).get_data(as_text=True)
        )
        quoted = find_one(find_one(form, "p", cls="replying-to"), "bdi")
        assert quoted.get("hx-disable") is not None
        assert "".join(quoted.itertext()) == nickname
        assert_inert(form, "the reply form")
    finally:
        remove(hostile_app, comment_id)


# --- 100 KB and more; ids in URLs ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LONG_GENERATORS))
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_100_kb_body_is_refused_with_413_fast(hostile_app, articles, name, headers):
    reader = make_reader(hostile_app)
    client = logged_in(hostile_app, reader)
    text = LONG_GENERATORS[name]()
    assert len(text.encode()) >= 100_000

    response, seconds = post_comment(client, articles.comments, text, headers=headers)

    assert response.status_code == 413
    assert seconds < 2, f"{seconds:.2f} s"
    assert TOO_LARGE in response.get_data(as_text=True)
    if headers:
        assert response.headers["HX-Retarget"] == "#messages"
        assert "<html" not in response.get_data(as_text=True)
    assert comments_by(hostile_app, reader.id) == []


def test_one_character_over_the_limit_is_422_with_the_text_kept(hostile_app, articles):
    client = logged_in(hostile_app, make_reader(hostile_app))
    text = "<b>" + "評" * 498  # 501 characters
    response, _ = post_comment(client, articles.comments, text)
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    assert textarea_text(root) == text
    assert "評論不能超過500字" in text_of(find_one(root, "ul", id="body-errors"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/articles/1%20OR%201=1"),
        ("get", "/articles/1'--"),
        ("get", "/comments/1%20OR%201=1/replies"),
        ("post", "/comments/1'%20OR%20'1'='1/like"),
        ("post", "/comments/1;DROP%20TABLE%20comment/report"),
        ("post", "/articles/1%20UNION%20SELECT%201/comments"),
    ],
)
def test_sql_in_url_ids_is_404(hostile_app, method, path):
    client = logged_in(hostile_app, make_reader(hostile_app))
    before = row_counts(hostile_app)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = getattr(client, method)(path, data={"csrf_token": token} if method == "post" else None)
    assert response.status_code == 404
    assert NOT_FOUND in response.get_data(as_text=True)
    assert row_counts(hostile_app) == before


def test_overlong_utf8_bytes_are_no_500_and_no_angle_bracket(hostile_app, articles):
    """Raw %C0%BC (an overlong '<') in the request: decoded as U+FFFD, never as '<'."""
    reader = make_reader(hostile_app)
    client = logged_in(hostile_app, reader)
    token = csrf_token_from(client.get(f"/articles/{articles.comments}").get_data(as_text=True))
    response = client.post(
        f"/articles/{articles.comments}/comments",
        data=f"csrf_token={token}&body=%C0%BCscript%C0%BEalert(1)%C0%BC/script%C0%BE%E8%A9%95%E8%AB%96",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (303, 422)
    stored = comments_by(hostile_app, reader.id)
    if response.status_code == 303:
        [(comment_id, body, _)] = stored
        assert "<" not in body and ">" not in body
        approve(hostile_app, comment_id)
        try:
            region = region_of(
                hostile_app.test_client().get(f"/articles/{articles.comments}").get_data(as_text=True)
            )
            assert body_text(comment_item(region, comment_id)) == body
            assert_inert(region, "the public region")
        finally:
            remove(hostile_app, comment_id)


def test_corpus_covers_every_family_of_security_md():
    families = {p.family for p in CORPUS}
    assert families >= {
        "script",
        "handlers",
        "url-schemes",
        "svg-mathml",
        "malformed",
        "attribute",
        "css",
        "template",
        "htmx",
        "controls",
        "sql",
        "refused",
    }
    assert all(isinstance(p, Payload) for p in CORPUS)
    assert len({p.text for p in CORPUS}) == len(CORPUS)
