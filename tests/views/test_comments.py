"""網友評論 through the test client: the article's comment region, every comment route with and
without htmx, their error paths, accounts (register, login, logout, 我的評論, 消息).

CSRF stays on. No app context is held open across requests: rows are arranged and read back in short
`with app.app_context()` blocks between them."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from portal.domain import moderation
from portal.domain.comments import set_status
from portal.domain.pledge import skeleton_hash
from portal.extensions import db
from portal.models import (
    Article,
    Comment,
    CommentRevision,
    CommentsState,
    CommentStatus,
    Like,
    Media,
    ModerationAction,
    Notification,
    Report,
    SiteSetting,
    SmsCode,
    User,
    UserState,
    utc_now,
)
from tests.domain.test_region import _write
from tests.factories import make_article, make_section
from tests.helpers import HX, csrf_token_from, find_all, find_one, login, parse_html, text_of, token_for

SUBMITTED = "評論已提交，審核後顯示"
UNVERIFIED = "根據《互聯網跟帖評論服務管理規定》，請先綁定並驗證手機號後再發表評論"
CLOSED = "本文評論已關閉"
CSRF_EXPIRED = "頁面已過期，請重新整理後再提交。"
TOO_LARGE = "提交的內容過大，請縮短後再試。"
C8_MESSAGE = (
    "您的評論含有違反《跟帖評論自律管理承諾書》的內容（淫穢色情、賭博、暴力、恐怖或教唆犯罪），"
    "請修改後再提交。"
)
TERMS_REQUIRED = "請先閱讀並同意《用戶協議》《跟帖評論自律管理承諾書》《隱私政策》"


# --- arranging ------------------------------------------------------------------------------------


def new_article(app, **overrides) -> int:
    with app.app_context():
        section = make_section(db.session)
        article = make_article(db.session, section, published_at=utc_now() - timedelta(hours=1), **overrides)
        db.session.commit()
        return article.id


@pytest.fixture
def article_id(app) -> int:
    return new_article(app)


@pytest.fixture
def alice(make_user):
    return make_user(nickname="阿蘭")


@pytest.fixture
def bob(make_user):
    return make_user(nickname="阿博")


def set_settings(app, **values) -> None:
    with app.app_context():
        for key, value in values.items():
            db.session.merge(SiteSetting(key=key, value=str(value)))
        db.session.commit()


@pytest.fixture
def no_cooldown(app):
    """Several posts by one reader in a test: no 15-second wait, no per-user limit in the way."""
    set_settings(app, comment_cooldown_seconds=0, quota_new=1000)
    app.config["COMMENT_LIMITS"] = "1000 per minute"


def add_comment(
    app, article_id, author, body, status="approved", *, parent_id=None, minutes_ago=30, likes=0, reason=""
):
    """A comment as if submitted `minutes_ago` and then decided, counts kept by the domain."""
    with app.app_context():
        comment = Comment(
            article_id=article_id,
            author_id=author.id,
            parent_id=parent_id,
            body=body,
            status=CommentStatus.PENDING,
            listed=False,
            ip_region="山東",
            skeleton_hash=skeleton_hash(body),
            like_count=likes,
            created_at=utc_now() - timedelta(minutes=minutes_ago),
        )
        db.session.add(comment)
        db.session.flush()
        if status != "pending":
            set_status(db.session, comment, CommentStatus(status), now=utc_now())
        comment.reason_code = reason
        db.session.commit()
        return comment.id


def comment_count(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Comment).filter_by(**where)
        return db.session.scalar(query)


def get_comment(app, comment_id):
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def page_of(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code)
    return response, parse_html(response.get_data(as_text=True))


def listed_ids(root) -> list[int]:
    """Top-level comment ids of the public list, in page order."""
    lists = find_all(root, "ol", id="comment-list")
    items = find_all(lists[0], "li", cls="comment") if lists else list(root.iter("li"))
    return [
        int(li.get("data-comment-id"))
        for li in items
        if li.get("data-comment-id") and "reply" not in (li.get("class") or "")
    ]


def post_comment(client, article_id, body, *, hx=False, reply_to=None, token=None):
    token = token if token is not None else token_for(client, f"/articles/{article_id}")
    data = {"body": body, "reply_to": str(reply_to or "")}
    headers = dict(HX) if hx else {}
    if token:
        data["csrf_token"] = token
    return client.post(f"/articles/{article_id}/comments", data=data, headers=headers)


def as_fragment(response, root_id: str):
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith(f'<div id="{root_id}"') or re.match(rf'\s*<\w+ id="{root_id}"', html), (
        html[:200]
    )
    return parse_html(html)


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}


def textarea_text(root) -> str:
    return find_one(root, "textarea", name="body").text or ""


def field_errors(root) -> list[str]:
    return [text_of(li) for ul in find_all(root, "ul", id="body-errors") for li in ul.iter("li")]


# --- the comment region on the article page -------------------------------------------------------


def test_anonymous_reader_sees_the_count_the_notice_and_a_login_prompt(app, client, article_id, alice):
    add_comment(app, article_id, alice, "第一條公開評論")
    add_comment(app, article_id, alice, "第二條公開評論")
    add_comment(app, article_id, alice, "還在審核的評論", "pending")
    _, root = page_of(client, f"/articles/{article_id}")
    region = find_one(root, "section", id="comments")
    assert text_of(find_one(region, id="comment-count")) == "共 2 條評論"
    notice = find_one(region, "p", cls="comments-notice")
    assert text_of(notice).startswith("發表評論即表示同意《跟帖評論自律管理承諾書》")
    assert [a.get("href") for a in notice.iter("a") if text_of(a) == "《跟帖評論自律管理承諾書》"] == [
        "/pages/pledge"
    ]
    prompt = find_one(region, "p", cls="comment-login-prompt")
    hrefs = [a.get("href") for a in prompt.iter("a")]
    assert [urlsplit(h).path for h in hrefs] == ["/accounts/login", "/accounts/register"]
    assert parse_qs(urlsplit(hrefs[0]).query)["next"] == [f"/articles/{article_id}#comments"]
    assert find_all(region, "textarea") == []


def test_a_verified_reader_gets_the_form(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/articles/{article_id}")
    form = find_one(root, "form", cls="comment-form")
    assert form.get("hx-post") == f"/articles/{article_id}/comments"
    assert form.get("action") == f"/articles/{article_id}/comments#comment-form"  # a refusal lands there
    assert form.get("hx-target") == "#comment-form"
    assert find_one(form, "textarea", name="body").get("maxlength") == "500"
    assert find_one(form, "input", name="csrf_token").get("value")
    assert find_all(root, "p", cls="comment-login-prompt") == []


def test_an_unverified_reader_gets_the_verify_prompt_and_no_form(app, client, article_id, make_user):
    reader = make_user(verified=False)
    login(client, reader.phone, reader.password)
    _, root = page_of(client, f"/articles/{article_id}")
    prompt = find_one(root, "p", cls="comment-login-prompt")
    assert text_of(prompt) == UNVERIFIED + "。"
    assert find_all(root, "textarea") == []


def test_a_closed_article_says_so_keeps_its_comments_and_has_no_form(app, client, alice):
    article_id = new_article(app, comments_state=CommentsState.CLOSED)
    kept = add_comment(app, article_id, alice, "關閉前的評論")
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/articles/{article_id}")
    assert text_of(find_one(root, "p", cls="comments-closed")) == CLOSED
    assert find_all(root, "textarea") == []
    assert listed_ids(root) == [kept]


def test_a_hidden_article_has_no_comment_area_and_no_comment_urls(app, client, alice):
    article_id = new_article(app, comments_state=CommentsState.HIDDEN)
    comment_id = add_comment(app, article_id, alice, "隱藏前的評論")
    login(client, alice.phone, alice.password)
    response, root = page_of(client, f"/articles/{article_id}")
    assert find_all(root, id="comments") == []
    assert "網友評論" not in response.get_data(as_text=True)
    for url in ("comments", "comments?order=hot", "comments/more", f"comment-form?reply_to={comment_id}"):
        for headers in ({}, HX):
            assert client.get(f"/articles/{article_id}/{url}", headers=headers).status_code == 404, url
    token = token_for(client, "/")
    assert post_comment(client, article_id, "想評論一下", token=token).status_code == 404
    assert comment_count(app, article_id=article_id) == 1


def test_a_hidden_areas_comments_cannot_be_read_liked_or_reported_by_their_own_urls(app, client, alice, bob):
    # 隱藏 takes the whole comment area away (P32): its comments stay out of reach, also by id.
    article_id = new_article(app, comments_state=CommentsState.HIDDEN)
    comment_id = add_comment(app, article_id, alice, "隱藏區域裡的評論")
    login(client, bob.phone, bob.password)
    token = token_for(client, "/")
    answers = {}
    for method, action in (("GET", "report"), ("POST", "report"), ("POST", "like"), ("GET", "replies")):
        response = client.open(
            f"/comments/{comment_id}/{action}", method=method, data={"csrf_token": token, "reason": "R08"}
        )
        answers[f"{method} {action}"] = response.status_code
        assert "隱藏區域裡的評論" not in response.get_data(as_text=True)
    assert answers == {"GET report": 404, "POST report": 404, "POST like": 404, "GET replies": 404}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Like)) == 0
        assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_only_approved_comments_are_listed_and_the_author_alone_sees_their_pending_ones(
    app, client, article_id, alice, bob
):
    public = add_comment(app, article_id, bob, "公開的評論")
    add_comment(app, article_id, alice, "阿蘭待審的評論", "pending")
    add_comment(app, article_id, alice, "阿蘭被拒的評論", "rejected", reason="R08")
    add_comment(app, article_id, bob, "被隱藏的評論", "hidden")

    html = client.get(f"/articles/{article_id}").get_data(as_text=True)
    root = parse_html(html)
    assert listed_ids(root) == [public]
    assert "待審的評論" not in html and "被拒的評論" not in html and "被隱藏的評論" not in html

    login(client, alice.phone, alice.password)
    html = client.get(f"/articles/{article_id}").get_data(as_text=True)
    root = parse_html(html)
    assert listed_ids(root) == [public]
    own = find_one(root, id="own-unpublished")
    assert [text_of(s) for s in find_all(own, "span", cls="state")] == ["審核中"]
    assert "阿蘭待審的評論" in text_of(own)
    assert "阿蘭被拒的評論" not in html

    other = app.test_client()
    login(other, bob.phone, bob.password)
    html = other.get(f"/articles/{article_id}").get_data(as_text=True)
    assert "阿蘭待審的評論" not in html
    assert "已暫時隱藏，等待處理" in html  # bob's own hidden comment, to him alone


def test_a_listed_comment_shows_nickname_region_time_text_like_reply_and_report(
    app, client, article_id, alice
):
    comment_id = add_comment(app, article_id, alice, "東昌湖的夜景真美", likes=4)
    _, root = page_of(client, f"/articles/{article_id}")
    item = find_one(root, "li", id=f"comment-{comment_id}")
    assert text_of(find_one(item, "span", cls="nickname")) == "阿蘭"
    assert text_of(find_one(item, "span", cls="region")) == "IP屬地：山東"
    assert find_one(item, "time").get("datetime").endswith("Z")
    body = find_one(item, "div", cls="comment-body")
    assert text_of(body) == "東昌湖的夜景真美"
    assert body.get("hx-disable") is not None
    assert text_of(find_one(item, "span", cls="like-count")) == "4"
    assert text_of(find_one(item, "a", cls="reply-link")) == "回覆"
    assert text_of(find_one(item, "a", cls="report-link")) == "舉報"
    assert alice.phone not in client.get(f"/articles/{article_id}").get_data(as_text=True)  # P3


def test_a_mute_message_gives_the_end_in_the_sites_time(app, client, article_id, make_user):
    # Times are stored in UTC and shown in the site's zone (Asia/Shanghai) everywhere else on the page.
    until = (utc_now() + timedelta(days=2)).replace(hour=20, minute=30, second=0, microsecond=0)
    reader = make_user(muted_until=until, muted_reason="辱罵他人")
    login(client, reader.phone, reader.password)
    response = post_comment(client, article_id, "我想說兩句", hx=True)
    assert response.status_code == 403
    local = until.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai"))
    expected = f"您已被禁止發言至{local:%Y-%m-%d %H:%M}，原因：辱罵他人。如有異議可申訴。"
    assert field_errors(as_fragment(response, "comment-form")) == [expected]
    status = find_one(as_fragment(response, "comment-form"), "div", id="comment-status")
    assert text_of(status) == f"評論未能提交：{expected}"  # read out from the page's live region


# --- posting --------------------------------------------------------------------------------------


def test_posting_with_htmx_answers_201_with_a_cleared_form(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    response = post_comment(client, article_id, "  第一行\r\n第二行 <b>x</b>  ", hx=True)
    assert response.status_code == 201
    assert "hx-request" in vary(response)
    root = as_fragment(response, "comment-form")
    assert textarea_text(root) == ""
    assert text_of(find_one(root, "p", cls="message-success")) == SUBMITTED
    # In the page's live region, out of band: its content only, the region stays (and is read out).
    status = find_one(root, "div", id="comment-status")
    assert (status.get("role"), status.get("hx-swap-oob")) == ("status", "innerHTML")
    assert find_all(find_one(root, "div", id="comment-form"), "p", cls="message-success") == []
    with app.app_context():
        stored = db.session.scalars(select(Comment)).one()
        assert (stored.body, stored.status, stored.author_id) == (
            "第一行\n第二行 <b>x</b>",
            "pending",
            alice.id,
        )
        assert stored.ip_region == "本地"


def test_an_htmx_post_reads_the_article_once_without_its_media_and_adds_to_the_readers_own(
    app, client, alice, no_cooldown
):
    """The answer renders from what the request read before its commit: nothing is read twice."""
    with app.app_context():
        section = make_section(db.session)
        article = make_article(db.session, section, published_at=utc_now() - timedelta(hours=1))
        photo = Media(kind="image", path="p/one.jpg", mime="image/jpeg", caption="", credit="")
        db.session.add(photo)
        db.session.flush()
        article.cover_id = photo.id
        article.set_gallery([photo])
        db.session.commit()
        article_id = article.id
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    assert post_comment(client, article_id, "先發的一條評論", hx=True, token=token).status_code == 201
    statements: list[str] = []

    def remember(_connection, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        response = post_comment(client, article_id, "後發的一條評論", hx=True, token=token)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert response.status_code == 201
    selects = [s for s in statements if s.startswith("SELECT")]
    assert [s for s in selects if " FROM media" in s] == []
    assert len([s for s in selects if re.search(r" FROM article\b", s)]) == 1
    assert len([s for s in selects if re.search(r" FROM user_account\b", s)]) == 1  # the session's reader
    assert len([s for s in selects if re.search(r" FROM section\b", s)]) == 0  # joined to the article
    # The reader's own 審核中 list is not read again: the new comment goes on top of it, out of band.
    assert not [s for s in selects if re.search(r" FROM comment\b", s) and "status IN" in s]
    [added] = find_all(parse_html(response.get_data(as_text=True)), "ol")
    assert added.get("hx-swap-oob") == "afterbegin:#own-unpublished-list"
    assert [text_of(li.find(".//bdi")) for li in find_all(added, "li")] == ["後發的一條評論"]
    own = find_one(page_of(client, f"/articles/{article_id}")[1], id="own-unpublished-list")
    assert [text_of(li.find(".//bdi")) for li in find_all(own, "li")] == ["後發的一條評論", "先發的一條評論"]


def test_a_comment_takes_its_region_from_the_database_the_admin_chose(
    app, client, article_id, alice, tmp_path
):
    app.config["REGION_DATABASES_FOLDER"] = str(tmp_path)
    _write(tmp_path / "city.mmdb", ip_version=6)  # 1.80.0.0/16 is 東華省 there, and nowhere else
    set_settings(app, region_database="city.mmdb")
    client.environ_base["REMOTE_ADDR"] = "1.80.1.1"
    login(client, alice.phone, alice.password)
    assert post_comment(client, article_id, "東華來的讀者留言", hx=True).status_code == 201
    with app.app_context():
        assert db.session.scalars(select(Comment.ip_region)).one() == "東華"


def landed_message(root) -> str:
    """What the article page says where a no-JS action in its comment area lands (#comment-status);
    #messages, at the top of the page, out of sight from there, says nothing of it."""
    assert text_of(find_one(root, id="messages")) == ""
    status = find_one(root, "div", id="comment-status")
    assert (status.get("role"), status.get("hx-swap-oob")) == ("status", None)
    return text_of(status)


def test_posting_without_javascript_lands_at_the_comment_status_with_its_message(
    app, client, article_id, alice
):
    login(client, alice.phone, alice.password)
    response = post_comment(client, article_id, "不用腳本也能評論")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/articles/{article_id}#comment-status"
    _, root = page_of(client, f"/articles/{article_id}")
    assert landed_message(root) == SUBMITTED
    assert find_one(root, "div", id="comment-status").find("p").get("class") == "message message-success"
    assert "不用腳本也能評論" in text_of(find_one(root, id="own-unpublished"))
    assert comment_count(app, article_id=article_id, status="pending") == 1


def test_a_double_submit_is_stored_once_and_answered_as_accepted_both_times(app, client, article_id, alice):
    # SECURITY.md §15: a retry with the same text within minutes returns the stored comment.
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    first = post_comment(client, article_id, "只想發一次的評論", hx=True, token=token)
    again = post_comment(client, article_id, "只想發一次的評論", hx=True, token=token)
    assert (first.status_code, again.status_code) == (201, 201)
    assert comment_count(app) == 1
    # The first answer puts the comment on the reader's 審核中 list; the retry adds no second row.
    assert len(find_all(parse_html(first.get_data(as_text=True)), "li", cls="own")) == 1
    assert find_all(parse_html(again.get_data(as_text=True)), "li", cls="own") == []


def test_a_blank_comment_is_422_with_the_message(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    response = post_comment(client, article_id, " \r\n\t ", hx=True)
    assert response.status_code == 422
    assert field_errors(as_fragment(response, "comment-form")) == ["評論內容不能為空"]
    assert comment_count(app) == 0


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_a_blocked_word_is_refused_beside_the_field_with_the_text_kept(
    app, client, article_id, alice, test_words, hx
):
    login(client, alice.phone, alice.password)
    typed = "大家來看 网上赌博平台"
    response = post_comment(client, article_id, typed, hx=hx)
    assert response.status_code == 422
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    if not hx:
        assert "<html" in response.get_data(as_text=True)
    assert field_errors(root) == [C8_MESSAGE]
    assert textarea_text(root) == typed
    assert comment_count(app) == 0
    with app.app_context():
        logged = db.session.scalars(
            select(ModerationAction).where(ModerationAction.action == "comment.rejected")
        ).one()
        assert (logged.actor_id, logged.reason_code) == (alice.id, "words")


def test_a_refused_block_costs_1_credit_and_a_refused_disguise_5(app, client, article_id, alice, test_words):
    """P25: a word-list block costs 1; a block caught behind a disguise (規避審核) costs 5, as a
    moderator's rejection of a flagged evasion does. Other refusals (too short) cost nothing."""

    def credit() -> int:
        with app.app_context():
            return db.session.get(User, alice.id).credit

    login(client, alice.phone, alice.password)
    assert post_comment(client, article_id, "好").status_code == 422
    assert credit() == 0
    assert post_comment(client, article_id, "大家來看 网上赌博平台").status_code == 422
    assert credit() == -1
    assert post_comment(client, article_id, "大家來看 网上赌.博平台").status_code == 422
    assert credit() == -6
    assert comment_count(app) == 0


def test_a_muted_reader_is_shown_until_when_and_why_instead_of_the_form(app, client, article_id, make_user):
    until = (utc_now() + timedelta(days=2)).replace(hour=20, minute=30, second=0, microsecond=0)
    reader = make_user(muted_until=until, muted_reason="辱罵他人")
    login(client, reader.phone, reader.password)
    _, root = page_of(client, f"/articles/{article_id}")
    region = find_one(root, id="comment-form")
    local = until.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"您已被禁止發言至{local:%Y-%m-%d %H:%M}，原因：辱罵他人。" in text_of(region)
    assert find_all(region, "textarea") == [] and find_all(region, "form") == []
    assert find_one(region, "a").get("href") == "/accounts/comments"


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_a_muted_reader_is_refused_with_403_and_the_text_kept(app, client, article_id, make_user, hx):
    reader = make_user(muted_until=utc_now() + timedelta(days=1), muted_reason="辱罵他人")
    login(client, reader.phone, reader.password)
    response = post_comment(client, article_id, "我想說兩句", hx=hx)
    assert response.status_code == 403
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    [message] = field_errors(root)
    assert message.startswith("您已被禁止發言至") and "原因：辱罵他人" in message
    assert textarea_text(root) == "我想說兩句"
    assert comment_count(app) == 0


def test_an_unverified_reader_posting_anyway_gets_403_and_no_row(app, client, article_id, make_user):
    reader = make_user(verified=False)
    login(client, reader.phone, reader.password)
    response = post_comment(client, article_id, "我想說兩句", hx=True)
    assert response.status_code == 403
    assert UNVERIFIED in response.get_data(as_text=True)
    assert comment_count(app) == 0


def test_posting_to_a_closed_article_is_403_with_the_message(app, client, alice):
    article_id = new_article(app, comments_state=CommentsState.CLOSED)
    login(client, alice.phone, alice.password)
    for hx in (True, False):
        response = post_comment(client, article_id, "我想說兩句", hx=hx)
        assert response.status_code == 403
        assert CLOSED in response.get_data(as_text=True)
    assert comment_count(app) == 0


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_a_comment_sent_after_the_article_was_closed_keeps_its_text(app, client, article_id, alice, hx):
    """Closed (P32) while the reader was typing: the answer said 本文評論已關閉 and the text was gone."""
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    with app.app_context():
        db.session.get(Article, article_id).comments_state = CommentsState.CLOSED
        db.session.commit()
    response = post_comment(client, article_id, "寫了很久的一段話", hx=hx, token=token)
    assert response.status_code == 403
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    assert field_errors(root) == [CLOSED]
    assert textarea_text(root) == "寫了很久的一段話"
    assert comment_count(app) == 0


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_a_second_post_within_15_seconds_is_429_with_retry_after_and_the_text_kept(
    app, client, article_id, alice, hx
):
    login(client, alice.phone, alice.password)
    assert post_comment(client, article_id, "第一條評論", hx=hx).status_code in (201, 303)
    response = post_comment(client, article_id, "緊接著第二條", hx=hx)
    assert response.status_code == 429
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    [message] = field_errors(root)
    seconds = re.fullmatch(r"發言過於頻繁，請(\d+)秒後再試", message)
    assert seconds and 1 <= int(seconds.group(1)) <= 15
    assert textarea_text(root) == "緊接著第二條"
    assert comment_count(app) == 1
    # The header tells a client the same wait as the message tells the reader.
    assert response.headers["Retry-After"] == seconds.group(1)


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_the_per_user_limit_answers_429_with_the_wait_beside_the_text_kept(
    app, client, article_id, alice, hx
):
    """Without JavaScript the limit's bare 429 page lost the text; with it, the message said
    neither how long to wait nor where the reader was."""
    set_settings(app, comment_cooldown_seconds=0)
    login(client, alice.phone, alice.password)
    statuses = [post_comment(client, article_id, f"第{n}條不同的評論", hx=hx).status_code for n in range(3)]
    assert statuses == [201 if hx else 303] * 3
    response = post_comment(client, article_id, "第四條寫了很久的評論", hx=hx)
    assert response.status_code == 429
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    [message] = field_errors(root)
    seconds = re.fullmatch(r"發言過於頻繁，請(\d+)秒後再試", message)
    assert seconds and 1 <= int(seconds.group(1)) <= 60
    assert response.headers["Retry-After"] == seconds.group(1)
    assert textarea_text(root) == "第四條寫了很久的評論"
    assert comment_count(app) == 3


def test_an_anonymous_post_is_sent_to_log_in_and_stores_nothing(app, client, article_id):
    token = token_for(client, "/accounts/login")
    response = post_comment(client, article_id, "匿名評論", token=token)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/accounts/login"
    assert [n.rstrip("?") for n in parse_qs(location.query)["next"]] == [f"/articles/{article_id}/comments"]
    response = post_comment(client, article_id, "匿名評論", token=token, hx=True)
    assert response.status_code == 401
    assert urlsplit(response.headers["HX-Redirect"]).path == "/accounts/login"
    assert comment_count(app) == 0


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_an_anonymous_post_lands_on_the_login_page_saying_why(app, client, article_id, hx):
    """P1: 請先登錄後再發表評論 (a reader whose session had ended saw a bare login form)."""
    token = token_for(client, "/accounts/login")
    response = post_comment(client, article_id, "匿名評論", token=token, hx=hx)
    target = response.headers["HX-Redirect"] if hx else response.headers["Location"]
    page = client.get(target).get_data(as_text=True)
    assert "請先登錄後再發表評論" in text_of(find_one(parse_html(page), id="messages"))


def messages_of(client, url: str) -> str:
    return text_of(find_one(parse_html(client.get(url).get_data(as_text=True)), id="messages"))


def test_the_anonymous_like_link_opens_the_login_page_saying_why(app, client, article_id, alice):
    comment_id = add_comment(app, article_id, alice, "可以點贊的評論")
    _, root = page_of(client, f"/articles/{article_id}")
    href = find_one(root, "a", id=f"like-{comment_id}").get("href")
    assert parse_qs(urlsplit(href).query) == {
        "next": [f"/articles/{article_id}#comment-{comment_id}"],
        "reason": ["like"],
    }
    assert messages_of(client, href) == "請先登錄後再點贊"


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_signing_in_from_an_anonymous_reply_lands_on_that_comment(app, client, article_id, alice, bob, hx):
    """回覆 while signed out showed 登錄 back to the top of the comments, and the login page said
    nothing of why; now it says so, and signing in leads back to the comment being answered."""
    comment_id = add_comment(app, article_id, alice, "想回覆的評論")
    url = f"/articles/{article_id}/comment-form?reply_to={comment_id}"
    _, root = page_of(client, url, headers=HX if hx else {})
    prompt = find_one(root, "p", cls="comment-login-prompt")
    assert text_of(prompt) == "請先登錄或註冊後再回覆評論。"
    login_href, register_href = [a.get("href") for a in prompt.iter("a")]
    back = f"/articles/{article_id}#comment-{comment_id}"
    assert parse_qs(urlsplit(login_href).query) == {"next": [back], "reason": ["reply"]}
    assert parse_qs(urlsplit(register_href).query) == {"next": [back]}
    page = client.get(login_href).get_data(as_text=True)
    assert text_of(find_one(parse_html(page), id="messages")) == "請先登錄後再回覆評論"
    action = find_one(parse_html(page), "form", cls="account-form").get("action")
    response = client.post(
        action, data={"phone": bob.phone, "password": bob.password, "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == back


def test_the_comment_prompts_login_link_says_to_log_in_before_commenting(app, client, article_id):
    _, root = page_of(client, f"/articles/{article_id}")
    href = find_one(root, "p", cls="comment-login-prompt").find("a").get("href")
    assert parse_qs(urlsplit(href).query)["reason"] == ["comment"]
    assert messages_of(client, href) == "請先登錄後再發表評論"


@pytest.mark.parametrize(
    "reason", ["", "unknown", "<script>alert(1)</script>", "請先交錢再登錄", "like" * 30, "LIKE", "like "]
)
def test_the_login_page_shows_only_its_own_words_for_a_reason(client, reason):
    """Never text from the URL: an unknown reason shows nothing at all."""
    response = client.get("/accounts/login", query_string={"reason": reason})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text_of(find_one(parse_html(html), id="messages")) == ""
    assert "請先交錢" not in html and "<script>alert" not in html


@pytest.mark.parametrize(
    ("path", "message"),
    [("/accounts/comments", "請先登錄後再繼續"), ("/accounts/messages", "請先登錄後再繼續")],
)
def test_a_signed_out_visitor_following_a_link_that_needs_sign_in_is_told_why(client, path, message):
    response = client.get(path)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in text_of(find_one(parse_html(page), id="messages"))


def test_a_post_without_csrf_token_is_400_with_the_message(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    response = post_comment(client, article_id, "沒有令牌", token="")
    assert response.status_code == 400
    assert CSRF_EXPIRED in response.get_data(as_text=True)
    response = post_comment(client, article_id, "沒有令牌", token="", hx=True)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in response.get_data(as_text=True)
    assert CSRF_EXPIRED in response.get_data(as_text=True)
    response = post_comment(client, article_id, "外來令牌", token="IjBhZDM0NTY3ODkwIg.aaaa.bbbb")
    assert response.status_code == 400
    assert comment_count(app) == 0


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_a_body_over_the_request_limit_is_413_quickly_with_a_message(app, client, article_id, alice, hx):
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    started = time.perf_counter()
    response = post_comment(client, article_id, "<b>" * 34_000, token=token, hx=hx)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    assert TOO_LARGE in response.get_data(as_text=True)
    assert elapsed < 2
    if hx:
        assert response.headers["HX-Retarget"] == "#messages"
    assert comment_count(app) == 0


def test_exactly_the_maximum_length_in_emoji_is_accepted(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    body = "點贊" + "👍" * 498
    assert len(body) == 500
    response = post_comment(client, article_id, body, hx=True)
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Comment.body)) == body


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_one_character_over_the_maximum_is_422_with_the_text_kept(app, client, article_id, alice, hx):
    login(client, alice.phone, alice.password)
    body = "點贊" + "👍" * 499
    response = post_comment(client, article_id, body, hx=hx)
    assert response.status_code == 422
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    assert field_errors(root) == ["評論不能超過500字"]
    assert textarea_text(root) == body
    assert comment_count(app) == 0


@pytest.mark.parametrize("hx", [False, True])
def test_a_refused_comment_in_simplified_keeps_the_text_as_typed(app, client, article_id, alice, hx):
    """The 简体 view converts the page, and converted the kept text too: 「這篇報導說得對」 came back
    as 「这篇报导说得对」, so sending it again stored what the reader had not typed."""
    login(client, alice.phone, alice.password)
    client.get("/script/hans?next=/")
    body = "這篇報導說得對，" + "對" * 500
    response = post_comment(client, article_id, body, hx=hx)
    assert response.status_code == 422
    root = as_fragment(response, "comment-form") if hx else parse_html(response.get_data(as_text=True))
    assert field_errors(root) == ["评论不能超过500字"]  # the interface is converted
    assert textarea_text(root) == body


# --- tabs, 載入更多, 展開更多回覆 -----------------------------------------------------------------


@pytest.fixture
def liked_thread(app, article_id, alice):
    """Three comments: oldest with 5 likes, middle with 9, newest with none."""
    oldest = add_comment(app, article_id, alice, "最早的評論", minutes_ago=30, likes=5)
    middle = add_comment(app, article_id, alice, "中間的評論", minutes_ago=20, likes=9)
    newest = add_comment(app, article_id, alice, "最新的評論", minutes_ago=10)
    return {"newest": [newest, middle, oldest], "hot": [middle, oldest, newest]}


@pytest.mark.parametrize("order", ["newest", "hot"])
def test_the_tabs_with_htmx_swap_the_thread(app, client, article_id, liked_thread, order):
    response = client.get(f"/articles/{article_id}/comments?order={order}", headers=HX)
    assert response.status_code == 200
    assert "hx-request" in vary(response)
    root = as_fragment(response, "comment-thread")
    assert listed_ids(root) == liked_thread[order]
    current = [a.get("data-order") for a in find_all(root, "a", aria_current="true")]
    assert current == [order]


@pytest.mark.parametrize("order", ["newest", "hot"])
def test_the_tabs_without_htmx_give_the_page_in_that_order(app, client, article_id, liked_thread, order):
    _, root = page_of(client, f"/articles/{article_id}/comments?order={order}")
    assert find_all(root, "h1")
    assert listed_ids(root) == liked_thread[order]
    links = {a.get("data-order"): a.get("href") for a in find_all(root, "a", data_order=None)}
    assert links == {
        "newest": f"/articles/{article_id}?order=newest#comments",
        "hot": f"/articles/{article_id}?order=hot#comments",
    }
    _, root = page_of(client, links[order])
    assert listed_ids(root) == liked_thread[order]


RESTORE = {"HX-History-Restore-Request": "true"}


def current_tab(root) -> list[str]:
    """The comment tabs marked current (the section bar marks its section too, without data-order)."""
    return [a.get("data-order") for a in find_all(root, "a", aria_current="true") if a.get("data-order")]


def test_a_tab_pushes_the_article_address_with_its_order_and_a_reload_keeps_it(
    app, client, article_id, liked_thread
):
    _, root = page_of(client, f"/articles/{article_id}")
    for tab in find_all(root, "a", data_order=None):
        order = tab.get("data-order")
        address = f"/articles/{article_id}?order={order}#comments"
        # The address in the bar is the no-JS link's: one to share and to go back from.
        assert (tab.get("href"), tab.get("hx-push-url")) == (address, address)
        assert tab.get("hx-get") == f"/articles/{article_id}/comments?order={order}"
        assert tab.get("hx-replace-url") is None
        _, reloaded = page_of(client, address)  # a reload, or the link opened by someone else
        assert find_all(reloaded, "h1") and current_tab(reloaded) == [order]
        assert listed_ids(reloaded) == liked_thread[order]


@pytest.mark.parametrize("with_hx_request", [False, True], ids=["restore", "restore+HX-Request"])
@pytest.mark.parametrize("where", ["article", "thread"])
def test_a_history_restore_of_a_tabs_address_gets_the_whole_page(
    app, client, article_id, liked_thread, where, with_hx_request
):
    """Back/forward on a miss: htmx asks again with HX-History-Restore-Request (HX-Request too unless
    historyRestoreAsHxRequest is off) and puts the answer in place of <body>: it must be the page."""
    url = {
        "article": f"/articles/{article_id}?order=hot",
        "thread": f"/articles/{article_id}/comments?order=hot",
    }[where]
    headers = {**RESTORE, **(HX if with_hx_request else {})}
    response, root = page_of(client, url, headers=headers)
    assert "<html" in response.get_data(as_text=True)
    assert len(find_all(root, "h1")) == 1 and len(find_all(root, id="comment-thread")) == 1
    assert current_tab(root) == ["hot"] and listed_ids(root) == liked_thread["hot"]
    assert {"hx-request", "hx-boosted", "hx-history-restore-request"} <= vary(response)


def test_the_tab_fragment_varies_by_every_header_that_chooses_it(app, client, article_id, liked_thread):
    response = client.get(f"/articles/{article_id}/comments?order=hot", headers=HX)
    root = as_fragment(response, "comment-thread")
    assert current_tab(root) == ["hot"]
    assert {"hx-request", "hx-boosted", "hx-history-restore-request"} <= vary(response)


def test_a_tab_that_fails_leaves_the_address_as_it_was(app, client, alice):
    # The article's comments were hidden since the page was loaded: the message, no new address.
    article_id = new_article(app, comments_state=CommentsState.HIDDEN)
    response = client.get(f"/articles/{article_id}/comments?order=hot", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["HX-Push-Url"] == "false"


def test_an_unknown_order_is_newest(app, client, article_id, liked_thread):
    root = as_fragment(
        client.get(f"/articles/{article_id}/comments?order=%27%3B--", headers=HX), "comment-thread"
    )
    assert listed_ids(root) == liked_thread["newest"]


@pytest.fixture
def long_thread(app, article_id, alice) -> list[int]:
    """45 approved comments, newest first."""
    return [add_comment(app, article_id, alice, f"第{n}條評論", minutes_ago=n + 1) for n in range(45)]


def test_load_more_with_htmx_appends_slices_until_the_end(app, client, article_id, long_thread):
    _, root = page_of(client, f"/articles/{article_id}")
    seen = listed_ids(root)
    assert seen == long_thread[:20]
    more = find_one(root, "a", hx_target="#comments-more")
    assert text_of(more) == "載入更多"
    slices = 0
    while more is not None:
        response = client.get(more.get("hx-get"), headers=HX)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html and html.lstrip().startswith("<li")
        fragment = parse_html(html)
        seen += listed_ids(fragment)
        found = find_all(fragment, "a", hx_target="#comments-more")
        more = found[0] if found else None
        slices += 1
    assert slices == 2
    assert seen == long_thread


def test_load_more_without_javascript_is_a_link_to_the_next_page(app, client, article_id, long_thread):
    _, root = page_of(client, f"/articles/{article_id}")
    href = find_one(root, "a", hx_target="#comments-more").get("href")
    assert urlsplit(href).path == f"/articles/{article_id}"
    _, root = page_of(client, href)
    assert listed_ids(root) == long_thread[20:40]
    _, root = page_of(client, find_one(root, "a", hx_target="#comments-more").get("href"))
    assert listed_ids(root) == long_thread[40:]
    assert find_all(root, id="comments-more") == []
    # The more route itself, without htmx, answers the whole page.
    _, root = page_of(client, f"/articles/{article_id}/comments/more")
    assert find_all(root, "h1") and listed_ids(root) == long_thread[:20]


@pytest.mark.parametrize("cursor", ["garbage", "2026", "9.x-1", "20260101-abc", "%00", "1" * 80])
def test_a_malformed_cursor_gives_the_first_page(app, client, article_id, long_thread, cursor):
    if "%00" in cursor:
        # NUL is never valid input (PostgreSQL cannot store it): a clear 400, not a page.
        assert (
            client.get(f"/articles/{article_id}/comments/more?after={cursor}", headers=HX).status_code == 400
        )
        return
    fragment = parse_html(
        client.get(f"/articles/{article_id}/comments/more?after={cursor}", headers=HX).get_data(as_text=True)
    )
    assert listed_ids(fragment) == long_thread[:20]
    _, root = page_of(client, f"/articles/{article_id}?after={cursor}")
    assert listed_ids(root) == long_thread[:20]


def test_more_replies_after_three(app, client, article_id, alice, bob):
    top = add_comment(app, article_id, alice, "頂樓評論", minutes_ago=60)
    replies = [
        add_comment(app, article_id, bob, f"第{n}條回覆", parent_id=top, minutes_ago=50 - n) for n in range(5)
    ]
    _, root = page_of(client, f"/articles/{article_id}")
    box = find_one(root, "ol", id=f"replies-{top}")
    assert [int(li.get("data-comment-id")) for li in find_all(box, "li", cls="reply")] == replies[:3]
    link = find_one(box, "a", hx_target=f"#replies-more-{top}")
    assert text_of(link) == "展開更多回覆（2條）"
    response = client.get(link.get("hx-get"), headers=HX)
    assert response.status_code == 200
    fragment = parse_html(response.get_data(as_text=True))
    assert "<html" not in response.get_data(as_text=True)
    assert [int(li.get("data-comment-id")) for li in find_all(fragment, "li", cls="reply")] == replies[3:]
    assert find_all(fragment, id=f"replies-more-{top}") == []
    # Without JavaScript the link leads to a page of the thread: every reply can be read.
    _, page = page_of(client, link.get("href"))
    assert text_of(find_one(page, "h1")) == "評論的回覆"
    assert [int(li.get("data-comment-id")) for li in find_all(page, "li", cls="reply")] == replies
    assert find_all(page, "a", href=f"/articles/{article_id}#comment-{top}")  # and back
    _, rest = page_of(client, link.get("hx-get"))  # a later page, as its own 下一頁 leads
    assert [int(li.get("data-comment-id")) for li in find_all(rest, "li", cls="reply")] == replies[3:]
    assert client.get("/comments/987654/replies", headers=HX).status_code == 404
    assert client.get(f"/comments/{replies[0]}/replies", headers=HX).status_code == 404


# --- replies --------------------------------------------------------------------------------------


def test_replying_to_a_comment_hidden_meanwhile_says_the_reply_will_be_a_new_comment(
    app, client, article_id, alice, bob
):
    gone = add_comment(app, article_id, alice, "已被隱藏的評論", status="hidden")
    login(client, bob.phone, bob.password)
    root = as_fragment(
        client.get(f"/articles/{article_id}/comment-form?reply_to={gone}", headers=HX), "comment-form"
    )
    assert "您要回覆的評論已不存在或不可見" in text_of(root)
    # Read with the field the keyboard goes to: a reply would otherwise go out as a new comment unheard.
    described = find_one(root, "textarea", name="body").get("aria-describedby")
    assert "您要回覆的評論已不存在或不可見" in text_of(find_one(root, id=described))
    assert find_one(root, "input", name="reply_to").get("value") in (None, "")
    assert text_of(find_one(root, "button", type="submit")) == "發表評論"


def test_the_reply_form_with_htmx_and_posting_a_reply(app, client, article_id, alice, bob):
    top = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    response = client.get(f"/articles/{article_id}/comment-form?reply_to={top}", headers=HX)
    assert response.status_code == 200
    root = as_fragment(response, "comment-form")
    assert find_one(root, "input", name="reply_to").get("value") == str(top)
    assert text_of(find_one(root, "p", cls="replying-to")).startswith("回覆 @阿蘭")
    assert text_of(find_one(root, "button", type="submit")) == "發表回覆"
    response = post_comment(client, article_id, "說得對", hx=True, reply_to=top)
    assert response.status_code == 201
    with app.app_context():
        reply = db.session.scalars(select(Comment).where(Comment.body == "說得對")).one()
        assert (reply.parent_id, reply.status) == (top, "pending")


def test_the_reply_form_without_javascript_is_the_article_page(app, client, article_id, alice, bob):
    top = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    _, root = page_of(client, f"/articles/{article_id}/comment-form?reply_to={top}")
    assert find_all(root, "h1")
    assert find_one(root, "input", name="reply_to").get("value") == str(top)
    # The 回覆 link of the comment leads there.
    _, article_page = page_of(client, f"/articles/{article_id}")
    link = find_one(find_one(article_page, "li", id=f"comment-{top}"), "a", cls="reply-link")
    assert link.get("href") == f"/articles/{article_id}/comment-form?reply_to={top}#comment-form"


def test_a_reply_form_for_a_comment_that_is_not_visible_here_is_a_plain_form(
    app, client, article_id, alice, bob
):
    elsewhere = add_comment(app, new_article(app), alice, "別處的評論")
    pending = add_comment(app, article_id, alice, "待審的評論", "pending")
    login(client, bob.phone, bob.password)
    for target in (elsewhere, pending, "abc", "987654", "-1", "9" * 30, "²", "١"):
        root = as_fragment(
            client.get(f"/articles/{article_id}/comment-form?reply_to={target}", headers=HX), "comment-form"
        )
        assert find_one(root, "input", name="reply_to").get("value") in (None, "")
        assert text_of(find_one(root, "button", type="submit")) == "發表評論"


def test_replying_to_a_comment_that_is_not_visible_is_refused(app, client, article_id, alice, bob):
    pending = add_comment(app, article_id, alice, "待審的評論", "pending")
    login(client, bob.phone, bob.password)
    response = post_comment(client, article_id, "我來回覆", hx=True, reply_to=pending)
    assert response.status_code == 422
    assert field_errors(as_fragment(response, "comment-form")) == [
        "您回覆的評論不存在或已不可見，請重新整理頁面"
    ]
    assert comment_count(app, author_id=bob.id) == 0


def test_a_reply_to_something_that_is_no_id_is_refused_and_not_posted_as_a_comment(
    app, client, article_id, bob
):
    login(client, bob.phone, bob.password)
    for reply_to in ("²", "-1", "abc", "9" * 30):  # "²" is a digit int() refuses: it was a 500
        response = post_comment(client, article_id, "我來回覆一下", hx=True, reply_to=reply_to)
        assert response.status_code == 422, reply_to
        root = as_fragment(response, "comment-form")
        assert field_errors(root) == ["您回覆的評論不存在或已不可見，請重新整理頁面"]
        assert textarea_text(root) == "我來回覆一下"
    assert comment_count(app, author_id=bob.id) == 0


# --- likes ----------------------------------------------------------------------------------------


def test_like_with_htmx_toggles_the_count_in_place(app, client, article_id, alice, bob):
    comment_id = add_comment(app, article_id, alice, "頂樓評論", likes=0)
    login(client, bob.phone, bob.password)
    token = token_for(client, f"/articles/{article_id}")
    for expected, pressed in (("1", "true"), ("0", "false"), ("1", "true")):
        response = client.post(f"/comments/{comment_id}/like", headers={**HX, "X-CSRFToken": token})
        assert response.status_code == 200
        root = as_fragment(response, f"like-{comment_id}")
        assert text_of(find_one(root, "span", cls="like-count")) == expected
        assert find_one(root, "button").get("aria-pressed") == pressed
    with app.app_context():
        assert db.session.scalars(select(Like.user_id)).all() == [bob.id]


def test_like_without_javascript_goes_back_to_the_comment(app, client, article_id, alice, bob):
    comment_id = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(f"/comments/{comment_id}/like", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/articles/{article_id}#comment-{comment_id}"
    assert get_comment(app, comment_id).like_count == 1


def test_like_refusals(app, client, article_id, alice, bob):
    approved = add_comment(app, article_id, alice, "頂樓評論")
    pending = add_comment(app, article_id, alice, "待審評論", "pending")
    token = token_for(client, "/accounts/login")
    response = client.post(f"/comments/{approved}/like", data={"csrf_token": token})
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    assert client.post(f"/comments/{approved}/like", headers={**HX, "X-CSRFToken": token}).status_code == 401
    login(client, bob.phone, bob.password)
    token = token_for(client, f"/articles/{article_id}")
    for comment_id in (pending, 987654):
        assert client.post(f"/comments/{comment_id}/like", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Like)) == 0


# --- reports --------------------------------------------------------------------------------------


def test_report_with_htmx_in_place_and_a_second_report_is_409(app, client, article_id, alice, bob):
    comment_id = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    response = client.get(f"/comments/{comment_id}/report", headers=HX)
    root = as_fragment(response, f"report-slot-{comment_id}")
    options = [o.get("value") for o in find_one(root, "select", name="reason").iter("option")]
    assert options[0] == "" and "R08" in options and "R90" not in options
    token = token_for(client, f"/articles/{article_id}")
    headers = {**HX, "X-CSRFToken": token}
    response = client.post(
        f"/comments/{comment_id}/report", data={"reason": "R08", "note": "罵人"}, headers=headers
    )
    assert response.status_code == 200
    assert "舉報已收到，處理結果將通知您" in text_of(as_fragment(response, f"report-slot-{comment_id}"))
    response = client.post(f"/comments/{comment_id}/report", data={"reason": "R11"}, headers=headers)
    assert response.status_code == 409
    assert "您已舉報過這條評論" in response.get_data(as_text=True)
    with app.app_context():
        reports = db.session.scalars(select(Report)).all()
        assert [(r.reporter_id, r.reason_code, r.note) for r in reports] == [(bob.id, "R08", "罵人")]
    _, page = page_of(client, f"/articles/{article_id}")
    item = find_one(page, "li", id=f"comment-{comment_id}")
    assert text_of(find_one(item, "span", cls="reported")) == "已舉報"


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_reports_past_the_limit_are_429_with_the_wait_beside_the_reason_and_the_note_kept(
    app, client, article_id, alice, bob, hx
):
    """Without JavaScript the limit's bare 429 page lost the note; neither path said how long."""
    app.config["REPORT_LIMITS"] = "2 per hour"
    ids = [add_comment(app, article_id, alice, f"第{n}條評論") for n in range(3)]
    login(client, bob.phone, bob.password)
    token = token_for(client, f"/articles/{article_id}")
    headers = {**HX, "X-CSRFToken": token} if hx else {}
    for comment_id in ids[:2]:
        sent = client.post(
            f"/comments/{comment_id}/report", data={"reason": "R08", "csrf_token": token}, headers=headers
        )
        assert sent.status_code == (200 if hx else 303)
    response = client.post(
        f"/comments/{ids[2]}/report",
        data={"reason": "R11", "note": "寫了很久的說明", "csrf_token": token},
        headers=headers,
    )
    assert response.status_code == 429
    root = (
        as_fragment(response, f"report-slot-{ids[2]}") if hx else parse_html(response.get_data(as_text=True))
    )
    message = text_of(find_one(root, "ul", id=f"reason-{ids[2]}-errors"))
    wait = re.fullmatch(r"舉報過於頻繁，請(\d+)分鐘後再試", message)
    assert wait and 1 <= int(wait.group(1)) <= 60
    assert find_one(root, "option", value="R11").get("selected") is not None
    assert find_one(root, "input", name="note").get("value") == "寫了很久的說明"
    assert int(response.headers["Retry-After"]) > 60
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 2


def test_a_report_with_htmx_turns_the_comments_report_link_into_reported_in_place(
    app, client, article_id, alice, bob
):
    comment_id = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    _, page = page_of(client, f"/articles/{article_id}")
    link = find_one(page, "a", id=f"report-link-{comment_id}")
    assert text_of(link) == "舉報"
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(
        f"/comments/{comment_id}/report", data={"reason": "R08"}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 200
    swapped = find_one(
        as_fragment(response, f"report-slot-{comment_id}"), "span", id=f"report-link-{comment_id}"
    )
    assert swapped.get("hx-swap-oob") == "true"
    assert text_of(swapped) == "已舉報"
    # A reload says the same, under the same id.
    _, page = page_of(client, f"/articles/{article_id}")
    assert text_of(find_one(page, "span", id=f"report-link-{comment_id}")) == "已舉報"


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_an_open_report_form_has_a_cancel_back_to_the_comment(app, client, article_id, alice, bob, hx):
    comment_id = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    response = client.get(f"/comments/{comment_id}/report", headers=HX if hx else {})
    assert response.status_code == 200
    root = parse_html(response.get_data(as_text=True))
    form = find_one(find_one(root, id=f"report-slot-{comment_id}"), "form", cls="report-form")
    [cancel] = [a for a in form.iter("a") if text_of(a) == "取消"]
    # Without JavaScript it goes back to the comment; portal.js closes the form in place.
    assert cancel.get("href") == f"/articles/{article_id}#comment-{comment_id}"
    assert cancel.get("data-report-cancel") == str(comment_id)


def test_report_without_javascript_lands_at_the_comment_status_with_its_message(
    app, client, article_id, alice, bob
):
    comment_id = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    response, root = page_of(client, f"/comments/{comment_id}/report")
    assert "<html" in response.get_data(as_text=True)
    form = find_one(root, "form", cls="report-form")
    token = find_one(form, "input", name="csrf_token").get("value")
    response = client.post(form.get("action"), data={"reason": "R13", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/articles/{article_id}#comment-status"
    _, page = page_of(client, response.headers["Location"])
    assert landed_message(page) == "舉報已收到，處理結果將通知您"
    response = client.post(form.get("action"), data={"reason": "R13", "csrf_token": token})
    assert response.status_code == 409


@pytest.mark.parametrize("reason", ["", "R90", "<script>"])
def test_a_report_without_a_readers_reason_is_422_in_chinese(app, client, article_id, alice, bob, reason):
    # R90 (舉報不成立) is a moderator's code, not offered to readers; a stale or forged form may send it.
    comment_id = add_comment(app, article_id, alice, "頂樓評論")
    login(client, bob.phone, bob.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(
        f"/comments/{comment_id}/report", data={"reason": reason}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 422
    root = as_fragment(response, f"report-slot-{comment_id}")
    errors = [text_of(li) for li in find_all(root, "ul", cls="field-errors")[0].iter("li")]
    assert errors == ["請選擇舉報理由"]
    # The message's id is the comment's own: two report forms open on one page share no id.
    (select_box,) = find_all(root, "select", id=f"reason-{comment_id}")
    assert select_box.get("aria-describedby") == f"reason-{comment_id}-errors"
    assert find_all(root, "ul", id=f"reason-{comment_id}-errors")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_report_refusals(app, client, article_id, alice):
    own = add_comment(app, article_id, alice, "自己的評論")
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    headers = {**HX, "X-CSRFToken": token}
    response = client.post(f"/comments/{own}/report", data={"reason": "R08"}, headers=headers)
    assert response.status_code == 422
    assert "不能舉報自己的評論" in response.get_data(as_text=True)
    assert client.get("/comments/987654/report").status_code == 404
    assert client.post("/comments/987654/report", data={"reason": "R08"}, headers=headers).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/comments/{own}/report").status_code == 302


def test_three_reporters_hide_the_comment_from_the_page(app, client, article_id, alice, make_user):
    comment_id = add_comment(app, article_id, alice, "被舉報的評論")
    app.config["LOGIN_LIMITS"] = "100 per minute"
    for _ in range(3):
        reader = make_user()
        reporter = app.test_client()
        login(reporter, reader.phone, reader.password)
        token = token_for(reporter, "/")
        response = reporter.post(
            f"/comments/{comment_id}/report", data={"reason": "R08"}, headers={**HX, "X-CSRFToken": token}
        )
        assert response.status_code == 200
    assert get_comment(app, comment_id).status == "hidden"
    _, root = page_of(app.test_client(), f"/articles/{article_id}")
    assert listed_ids(root) == []
    assert text_of(find_one(root, id="comment-count")) == "共 0 條評論"


# --- edit and delete ------------------------------------------------------------------------------


EDIT_WAITING = "修改已提交，審核通過後替換原評論；在此之前其他讀者看到的仍是原來的內容"


def edit_as(client, comment_id, body):
    token = token_for(client, f"/comments/{comment_id}/edit")
    return client.post(f"/comments/{comment_id}/edit", data={"body": body, "csrf_token": token})


def thread_text(reader, article_id, comment_id) -> str:
    _, page = page_of(reader, f"/articles/{article_id}")
    return text_of(find_one(page, "li", id=f"comment-{comment_id}"))


def test_the_author_edits_a_published_comment_and_readers_keep_reading_the_published_text(
    app, client, article_id, alice
):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/comments/{comment_id}/edit")
    form = find_one(root, "form", cls="comment-form")
    assert form.get("action") == f"/comments/{comment_id}/edit"
    assert textarea_text(form) == "原來的評論"
    assert "其他讀者看到的仍是已發布的內容" in text_of(find_one(root, "p", id="edit-notice"))
    response = edit_as(client, comment_id, "改過的評論")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/articles/{article_id}#comment-status"
    comment = get_comment(app, comment_id)
    assert (comment.body, comment.pending_body, comment.status) == ("原來的評論", "改過的評論", "approved")
    _, page = page_of(client, f"/articles/{article_id}")
    assert landed_message(page) == EDIT_WAITING
    # Everyone else: the published text, counted, in its place, and nothing of the edit.
    anyone = app.test_client()
    _, public = page_of(anyone, f"/articles/{article_id}")
    assert text_of(find_one(public, id="comment-count")) == "共 1 條評論"
    assert listed_ids(public) == [comment_id]
    assert "原來的評論" in thread_text(anyone, article_id, comment_id)
    assert "改過的評論" not in anyone.get(f"/articles/{article_id}").get_data(as_text=True)
    # Reopened, the edit page starts from the edit the author saved.
    _, root = page_of(client, f"/comments/{comment_id}/edit")
    assert textarea_text(root) == "改過的評論"


def test_the_author_sees_their_edit_waiting_marked_in_the_thread_and_in_their_own_list(
    app, client, article_id, alice, bob
):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    edit_as(client, comment_id, "改過的評論")
    _, page = page_of(client, f"/articles/{article_id}")
    item = find_one(page, "li", id=f"comment-{comment_id}")
    waiting = find_one(item, "div", id=f"comment-edit-{comment_id}")
    assert "修改待審核" in text_of(waiting) and "改過的評論" in text_of(waiting)
    assert text_of(find_all(item, "div", cls="comment-body")[0]) == "原來的評論"  # the public text first
    own = own_item(page, comment_id)
    assert own.get("data-edit-in-review") is not None
    assert "修改待審核" in text_of(own) and "改過的評論" in text_of(own)
    _, mine = page_of(client, "/accounts/comments")
    assert "修改待審核" in text_of(find_one(mine, "li", cls="my-comment"))
    # Another reader, signed in, sees the published text only.
    other = app.test_client()
    login(other, bob.phone, bob.password)
    html = other.get(f"/articles/{article_id}").get_data(as_text=True)
    assert "原來的評論" in html and "改過的評論" not in html and "修改待審核" not in html


def test_an_edited_comment_keeps_its_text_and_others_approved_replies_in_the_thread(
    app, client, article_id, alice, bob
):
    parent = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    reply = add_comment(app, article_id, bob, "我回覆的內容", parent_id=parent)
    login(client, alice.phone, alice.password)
    edit_as(client, parent, "改過的評論")

    anyone = app.test_client()
    _, page = page_of(anyone, f"/articles/{article_id}")
    item = find_one(page, "li", id=f"comment-{parent}")
    assert [li.get("data-comment-id") for li in find_all(item, "li", cls="reply")] == [str(reply)]
    assert "原來的評論" in text_of(item) and "我回覆的內容" in text_of(item)
    reply_links = [a.get("href") for a in find_all(item, "a", cls="reply-link")]
    assert f"/articles/{article_id}/comment-form?reply_to={parent}#comment-form" in reply_links
    assert anyone.get(f"/comments/{parent}/replies").status_code == 200


def test_an_edit_of_a_published_comment_is_refused_by_the_same_rules_and_nothing_waits(
    app, client, article_id, alice
):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    response = edit_as(client, comment_id, "有事打我電話13800138000")
    assert response.status_code == 422
    assert field_errors(parse_html(response.get_data(as_text=True))) == [
        "請勿在評論中留下電話、QQ、微信等聯繫方式"
    ]
    comment = get_comment(app, comment_id)
    assert (comment.body, comment.pending_body, comment.status) == ("原來的評論", None, "approved")


def moderator_client(app, make_user):
    desk = app.test_client()
    moderator = make_user(role="moderator", nickname="審核員")
    login(desk, moderator.phone, moderator.password)
    return desk


def decide_on(desk, comment_id, decision, reason="", headers=None):
    token = token_for(desk, "/moderation/")
    data = {"csrf_token": token, "decision": decision, "reason": reason, "return_to": "/moderation/"}
    return desk.post(f"/moderation/comments/{comment_id}/decision", data=data, headers=headers or {})


def test_the_queue_shows_the_published_text_beside_the_edit(app, client, article_id, alice, make_user):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    edit_as(client, comment_id, "改過的評論")
    desk = moderator_client(app, make_user)
    _, queue = page_of(desk, "/moderation/")
    row = find_one(queue, "li", id=f"queue-row-{comment_id}")
    assert text_of(find_one(row, "div", cls="queue-edit-old")) == "原文（目前公開） 原來的評論"
    assert text_of(find_one(row, "div", cls="queue-edit-new")) == "修改後（待審核） 改過的評論"
    assert [b.get("value") for b in find_all(row, "button", name="decision")][:2] == ["approve", "reject"]


@pytest.mark.parametrize("headers", [{}, HX], ids=["no-js", "htmx"])
def test_an_approved_edit_replaces_the_text_on_the_cached_public_page(
    app, client, article_id, alice, make_user, headers
):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    edit_as(client, comment_id, "改過的評論")
    anyone = app.test_client()
    assert "原來的評論" in thread_text(anyone, article_id, comment_id)  # now in the page cache
    desk = moderator_client(app, make_user)
    response = decide_on(desk, comment_id, "approve", headers=headers)
    assert response.status_code == (200 if headers else 303)
    text = thread_text(anyone, article_id, comment_id)
    assert "改過的評論" in text and "原來的評論" not in text
    comment = get_comment(app, comment_id)
    assert (comment.body, comment.pending_body, comment.status) == ("改過的評論", None, "approved")
    with app.app_context():
        assert db.session.scalars(select(CommentRevision.body)).all() == ["原來的評論"]
        record = db.session.scalars(
            select(ModerationAction).where(ModerationAction.action == "moderation.approve")
        ).one()
        assert json.loads(record.before)["body"] == "原來的評論"
        assert json.loads(record.after)["body"] == "改過的評論"
    _, log = page_of(desk, "/moderation/log")
    changes = text_of(find_one(log, "tr", id=f"log-row-{record.id}"))
    assert "原來的評論" in changes and "改過的評論" in changes


def test_a_rejected_edit_keeps_the_published_text_and_tells_the_author(
    app, client, article_id, alice, make_user
):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    edit_as(client, comment_id, "改過的評論")
    desk = moderator_client(app, make_user)
    response = decide_on(desk, comment_id, "reject", reason="R08", headers=HX)
    assert response.status_code == 200
    comment = get_comment(app, comment_id)
    assert (comment.body, comment.pending_body, comment.status) == ("原來的評論", None, "approved")
    anyone = app.test_client()
    assert "原來的評論" in thread_text(anyone, article_id, comment_id)
    _, root = page_of(client, "/accounts/messages")
    [notice] = find_all(root, "li", cls="notice-item")
    assert "您對評論的修改未通過審核" in text_of(notice) and "修改前的內容" in text_of(notice)
    _, page = page_of(client, f"/articles/{article_id}")
    assert find_all(page, "div", id=f"comment-edit-{comment_id}") == []
    with app.app_context():
        record = db.session.scalars(
            select(ModerationAction).where(ModerationAction.action == "moderation.reject")
        ).one()
        before, after = json.loads(record.before), json.loads(record.after)
        assert (before["body"], before["edit"], after["edit"]) == ("原來的評論", "改過的評論", "rejected")
    _, queue = page_of(desk, "/moderation/")
    assert find_all(queue, "li", id=f"queue-row-{comment_id}") == []


# The same text with only what takes no room added (a zero-width space, a direction mark) reads
# the same: as an edit it would wait for review beside a published text it cannot be told from.
@pytest.mark.parametrize("typed", ["原來的評論", "原來的\u200b評論", "\u200e原來的評論\ufeff"])
def test_saving_an_edit_without_a_change_keeps_the_comment_published(app, client, article_id, alice, typed):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/comments/{comment_id}/edit")
    response = client.post(f"/comments/{comment_id}/edit", data={"body": typed, "csrf_token": token})
    assert response.status_code == 422
    assert get_comment(app, comment_id).pending_body is None
    root = parse_html(response.get_data(as_text=True))
    assert field_errors(root) == ["評論內容沒有修改"]
    assert textarea_text(root) == typed  # what was typed stays
    assert get_comment(app, comment_id).status == "approved"
    _, page = page_of(app.test_client(), f"/articles/{article_id}")
    assert text_of(find_one(page, id="comment-count")) == "共 1 條評論"


def test_an_edit_after_five_minutes_is_403_with_the_message(app, client, article_id, alice):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=6)
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/comments/{comment_id}/edit")
    response = client.post(f"/comments/{comment_id}/edit", data={"body": "改過的評論", "csrf_token": token})
    assert response.status_code == 403
    root = parse_html(response.get_data(as_text=True))
    assert field_errors(root) == ["評論發布超過5分鐘，已不能編輯"]
    assert textarea_text(root) == "改過的評論"
    assert get_comment(app, comment_id).body == "原來的評論"


def test_edit_and_delete_of_someone_elses_or_an_unknown_comment(app, client, article_id, alice, bob):
    theirs = add_comment(app, article_id, alice, "阿蘭的評論", minutes_ago=1)
    login(client, bob.phone, bob.password)
    token = token_for(client, f"/articles/{article_id}")
    assert client.get(f"/comments/{theirs}/edit").status_code == 403
    assert (
        client.post(f"/comments/{theirs}/edit", data={"body": "改掉", "csrf_token": token}).status_code == 403
    )
    assert client.post(f"/comments/{theirs}/delete", data={"csrf_token": token}).status_code == 403
    assert client.get("/comments/987654/edit").status_code == 404
    assert client.post("/comments/987654/edit", data={"body": "改掉", "csrf_token": token}).status_code == 404
    assert client.post("/comments/987654/delete", data={"csrf_token": token}).status_code == 404
    comment = get_comment(app, theirs)
    assert (comment.body, comment.status) == ("阿蘭的評論", "approved")


def test_the_author_deletes_and_a_placeholder_stays_where_replies_hang(app, client, article_id, alice, bob):
    top = add_comment(app, article_id, alice, "阿蘭的頂樓評論")
    reply = add_comment(app, article_id, bob, "阿博的回覆", parent_id=top)
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(f"/comments/{top}/delete", data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/articles/{article_id}#comment-status"
    assert get_comment(app, top).status == "deleted"
    _, root = page_of(client, response.headers["Location"])
    assert landed_message(root) == "評論已刪除"
    _, root = page_of(app.test_client(), f"/articles/{article_id}")
    item = find_one(root, "li", id=f"comment-{top}")
    assert text_of(find_one(item, "p", cls="comment-deleted")) == "此評論已刪除"
    assert "阿蘭" not in text_of(item)  # neither the text nor the nickname of the deleted comment
    assert "阿博的回覆" in text_of(find_one(item, "li", id=f"comment-{reply}"))
    assert text_of(find_one(root, id="comment-count")) == "共 1 條評論"


def test_delete_with_htmx_refreshes_the_page(app, client, article_id, alice):
    comment_id = add_comment(app, article_id, alice, "要刪除的評論")
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(  # confirmed=1: portal.js asked first
        f"/comments/{comment_id}/delete", data={"confirmed": "1"}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 204
    assert response.headers["HX-Refresh"] == "true"
    assert get_comment(app, comment_id).status == "deleted"
    _, root = page_of(client, f"/articles/{article_id}")
    assert listed_ids(root) == []


def test_without_javascript_deleting_ones_own_comment_asks_on_a_page_first(app, client, article_id, alice):
    """data-confirm is portal.js's: with JavaScript off 刪除 deleted at once, though the template
    said it asked. The server asks instead: the same form again with 確定, and 取消 back to it."""
    published = add_comment(app, article_id, alice, "一條發表了的評論")
    pending = add_comment(app, article_id, alice, "一條待審的評論", "pending", minutes_ago=1)
    login(client, alice.phone, alice.password)
    _, article = page_of(client, f"/articles/{article_id}")
    [form] = delete_forms(find_one(article, "li", id=f"comment-{published}"))
    token = find_one(form, "input", name="csrf_token").get("value")
    for comment_id, data, cancel in (
        (published, {}, f"/articles/{article_id}#comment-{published}"),
        (pending, {}, f"/articles/{article_id}#own-comment-{pending}"),
        (pending, {"next": "/accounts/comments"}, "/accounts/comments"),
    ):
        response = client.post(f"/comments/{comment_id}/delete", data={"csrf_token": token, **data})
        assert response.status_code == 200
        root = parse_html(response.get_data(as_text=True))
        assert text_of(find_one(root, "p", id="confirm-question")) == "確定刪除這條評論？刪除後不能恢復。"
        form = find_one(root, "form", id="confirm-form")
        assert form.get("action") == f"/comments/{comment_id}/delete"
        sent = {i.get("name"): i.get("value") for i in find_all(form, "input")}
        assert sent == {"csrf_token": token, "confirmed": "1", **data}
        assert find_one(form, "a").get("href") == cancel  # 取消
        assert text_of(find_one(form, "button")) == "確定"
    assert get_comment(app, published).status == "approved"
    assert get_comment(app, pending).status == "pending"
    with app.app_context():
        assert not db.session.scalar(
            select(func.count())
            .select_from(ModerationAction)
            .where(ModerationAction.action == "comment.deleted_by_author")
        )
    response = client.post(  # 確定: the form as the question page sends it
        f"/comments/{published}/delete", data={"csrf_token": token, "confirmed": "1"}
    )
    assert (response.status_code, response.headers["Location"]) == (
        303,
        f"/articles/{article_id}#comment-status",
    )
    assert get_comment(app, published).status == "deleted"


def test_an_unconfirmed_htmx_delete_asks_in_the_messages_and_deletes_nothing(app, client, article_id, alice):
    """portal.js sends confirmed=1 once its dialog was answered; an htmx request without it gets the
    question in #messages, not a whole page nested where it was sent from."""
    comment_id = add_comment(app, article_id, alice, "一條htmx評論")
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(f"/comments/{comment_id}/delete", headers={**HX, "X-CSRFToken": token})
    assert response.status_code == 200
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#messages", "innerHTML")
    body = response.get_data(as_text=True)
    assert "<html" not in body
    root = parse_html(body)
    assert text_of(find_one(root, "p", id="confirm-question")) == "確定刪除這條評論？刪除後不能恢復。"
    assert get_comment(app, comment_id).status == "approved"


def own_item(root, comment_id):
    return find_one(find_one(root, id="own-unpublished-list"), "li", id=f"own-comment-{comment_id}")


def edit_links(element) -> list[str]:
    return [a.get("href") for a in element.iter("a") if text_of(a) == "編輯"]


def delete_forms(element) -> list:
    return [f for f in element.iter("form") if (f.get("action") or "").endswith("/delete")]


def test_a_pending_comment_offers_edit_while_its_window_is_open_and_delete_on_the_article_page(
    app, client, article_id, alice
):
    fresh = add_comment(app, article_id, alice, "剛發的待審評論", "pending", minutes_ago=1)
    older = add_comment(app, article_id, alice, "早些發的待審評論", "pending", minutes_ago=6)
    hidden = add_comment(app, article_id, alice, "被讀者舉報隱藏的評論", "hidden", minutes_ago=2)
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/articles/{article_id}")
    assert edit_links(own_item(root, fresh)) == [f"/comments/{fresh}/edit"]
    assert edit_links(own_item(root, older)) == []  # the window has closed
    for comment_id in (fresh, older):
        [form] = delete_forms(own_item(root, comment_id))
        assert form.get("action") == f"/comments/{comment_id}/delete"
        assert form.get("data-confirm") == "確定刪除這條評論？刪除後不能恢復。"
        assert find_one(form, "input", name="csrf_token").get("value")
    # Hidden while a moderator looks at the reports: neither is the author's to change now.
    assert edit_links(own_item(root, hidden)) == [] and delete_forms(own_item(root, hidden)) == []


def test_the_comment_just_posted_with_htmx_arrives_with_edit_and_delete(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    response = post_comment(client, article_id, "用htmx剛發表的評論", hx=True)
    assert response.status_code == 201
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    [added] = find_all(parse_html(response.get_data(as_text=True)), "ol")
    item = find_one(added, "li", id=f"own-comment-{comment_id}")
    assert edit_links(item) == [f"/comments/{comment_id}/edit"]
    assert [f.get("action") for f in delete_forms(item)] == [f"/comments/{comment_id}/delete"]


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_the_author_withdraws_a_pending_comment_and_it_is_recorded(app, client, article_id, alice, hx):
    comment_id = add_comment(app, article_id, alice, "想撤回的待審評論", "pending", minutes_ago=1)
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/articles/{article_id}")
    [form] = delete_forms(own_item(root, comment_id))
    token = find_one(form, "input", name="csrf_token").get("value")
    response = client.post(
        form.get("action"), data={"csrf_token": token, "confirmed": "1"}, headers=HX if hx else {}
    )
    if hx:
        assert (response.status_code, response.headers["HX-Refresh"]) == (204, "true")
    else:
        assert (response.status_code, response.headers["Location"]) == (
            303,
            f"/articles/{article_id}#comment-status",
        )
    assert get_comment(app, comment_id).status == "deleted"
    with app.app_context():
        [action] = db.session.scalars(
            select(ModerationAction).where(ModerationAction.action == "comment.deleted_by_author")
        ).all()
        assert (action.actor_id, action.target_id) == (alice.id, comment_id)
    _, root = page_of(client, f"/articles/{article_id}")
    assert find_all(root, "li", id=f"own-comment-{comment_id}") == []


def test_my_account_shows_the_tier_and_its_limits_but_not_the_score(app, client, article_id, make_user):
    """P25: 我的賬號 shows the tier and limits, not the score; a restricted reader learns replies are off."""
    reader = make_user(nickname="阿限", credit=-2, state=UserState.RESTRICTED)
    add_comment(app, article_id, reader, "今天的評論", "pending", minutes_ago=0)
    login(client, reader.phone, reader.password)
    _, root = page_of(client, "/accounts/comments")
    standing = find_one(root, "section", id="my-standing")
    words = " ".join(standing.itertext())
    assert "受限" in words and "3條（今日已發表1條）" in words and "不能回覆評論" in words
    assert "-2" not in words and "信用" not in words


def test_my_comments_offers_edit_and_delete_and_comes_back_there(app, client, article_id, alice, no_cooldown):
    pending = add_comment(app, article_id, alice, "待審的評論", "pending", minutes_ago=1)
    late = add_comment(app, article_id, alice, "過了時間的評論", "pending", minutes_ago=6)
    rejected = add_comment(app, article_id, alice, "被拒的評論", "rejected", minutes_ago=1, reason="R08")
    login(client, alice.phone, alice.password)
    _, root = page_of(client, "/accounts/comments")
    items = {int(li.get("data-comment-id")): li for li in find_all(root, "li", cls="my-comment")}
    assert edit_links(items[pending]) == [f"/comments/{pending}/edit?next=/accounts/comments"]
    assert edit_links(items[late]) == [] and len(delete_forms(items[late])) == 1
    # A moderator's decision stays as decided: it is what an appeal is about.
    assert edit_links(items[rejected]) == [] and delete_forms(items[rejected]) == []

    _, page = page_of(client, edit_links(items[pending])[0])
    form = find_one(page, "form", cls="comment-form")
    token = find_one(form, "input", name="csrf_token").get("value")
    response = client.post(form.get("action"), data={"body": "改過的待審評論", "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/accounts/comments")
    comment = get_comment(app, pending)
    assert (comment.body, comment.status) == ("改過的待審評論", "pending")
    with app.app_context():
        assert db.session.scalars(select(CommentRevision.body)).all() == ["待審的評論"]

    [form] = delete_forms(items[late])
    assert find_one(form, "input", name="next").get("value") == "/accounts/comments"
    data = {
        "csrf_token": find_one(form, "input", name="csrf_token").get("value"),
        "next": "/accounts/comments",
        "confirmed": "1",
    }
    response = client.post(form.get("action"), data=data)
    assert (response.status_code, response.headers["Location"]) == (303, "/accounts/comments")
    assert get_comment(app, late).status == "deleted"
    _, root = page_of(client, "/accounts/comments")
    assert "評論已刪除" in text_of(find_one(root, id="messages"))


def back_link(root) -> tuple[str, str]:
    link = find_one(root, "a", id="edit-back")
    return link.get("href"), text_of(link)


def test_the_edit_pages_back_link_returns_where_the_author_came_from(app, client, article_id, alice):
    comment_id = add_comment(app, article_id, alice, "待審的評論", "pending", minutes_ago=1)
    login(client, alice.phone, alice.password)
    # From 我的評論: back there, and still after a refused save.
    _, mine = page_of(client, "/accounts/comments")
    (href,) = edit_links(find_one(mine, "li", data_comment_id=str(comment_id)))
    _, page = page_of(client, href)
    assert back_link(page) == ("/accounts/comments", "返回我的評論")
    form = find_one(page, "form", cls="comment-form")
    token = find_one(form, "input", name="csrf_token").get("value")
    response = client.post(form.get("action"), data={"body": "", "csrf_token": token})
    assert response.status_code == 422
    refused = parse_html(response.get_data(as_text=True))
    assert back_link(refused) == ("/accounts/comments", "返回我的評論")
    # From the article: back to its comments.
    _, article = page_of(client, f"/articles/{article_id}")
    (href,) = edit_links(own_item(article, comment_id))
    _, page = page_of(client, href)
    assert back_link(page) == (f"/articles/{article_id}#comment-status", "返回文章")
    # Another site, however disguised, is never a way back.
    for evil in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
    ):
        _, page = page_of(client, f"/comments/{comment_id}/edit", query_string={"next": evil})
        assert back_link(page) == (f"/articles/{article_id}#comment-status", "返回文章")


def test_next_after_an_edit_or_a_delete_stays_on_this_site(app, client, article_id, alice):
    comment_id = add_comment(app, article_id, alice, "一條評論", "pending", minutes_ago=1)
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(
        f"/comments/{comment_id}/delete",
        data={"csrf_token": token, "next": "https://evil.example/", "confirmed": "1"},
    )
    assert response.headers["Location"] == f"/articles/{article_id}#comment-status"


@pytest.mark.parametrize(
    ("status", "minutes_ago", "message"),
    [
        ("approved", 6, "評論發布超過5分鐘，已不能編輯"),
        ("pending", 6, "評論發布超過5分鐘，已不能編輯"),
        ("deleted", 1, "這條評論已不能編輯"),
        ("rejected", 1, "這條評論已不能編輯"),
    ],
)
def test_the_edit_page_of_a_comment_that_can_no_longer_be_edited_says_so_and_has_no_form(
    app, client, article_id, alice, status, minutes_ago, message
):
    comment_id = add_comment(app, article_id, alice, "原來的評論", status, minutes_ago=minutes_ago)
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/comments/{comment_id}/edit", status=403)
    assert text_of(find_one(root, id="edit-refusal")) == message
    assert find_all(root, "textarea") == [] and find_all(root, "form", cls="comment-form") == []
    assert "原來的評論" in text_of(find_one(root, "main"))


def test_the_edit_textarea_takes_the_sites_maximum_length_with_the_forms_hint(app, client, article_id, alice):
    comment_id = add_comment(app, article_id, alice, "原來的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/comments/{comment_id}/edit")
    area = find_one(root, "textarea", name="body")
    assert (area.get("maxlength"), area.get("placeholder")) == ("500", "文明上網，理性發言（500字以內）")
    set_settings(app, comment_max_length=300)
    _, root = page_of(client, f"/comments/{comment_id}/edit")
    area = find_one(root, "textarea", name="body")
    assert (area.get("maxlength"), area.get("placeholder")) == ("300", "文明上網，理性發言（300字以內）")


# --- 我的評論 and 消息 ----------------------------------------------------------------------------


def test_my_comments_lists_every_state(app, client, article_id, alice, bob):
    pending = add_comment(app, article_id, alice, "待審的評論", "pending", minutes_ago=3)
    public = add_comment(app, article_id, alice, "公開的評論", minutes_ago=2)
    rejected = add_comment(app, article_id, alice, "被拒的評論", "rejected", minutes_ago=1, reason="R08")
    add_comment(app, article_id, bob, "別人的評論")
    assert client.get("/accounts/comments").status_code == 302
    login(client, alice.phone, alice.password)
    _, root = page_of(client, "/accounts/comments")
    rows = {
        int(li.get("data-comment-id")): text_of(find_one(li, "span", cls="state"))
        for li in find_all(root, "li", cls="my-comment")
    }
    assert rows == {pending: "審核中", public: "已發布", rejected: "未通過審核：侮辱誹謗、人身攻擊"}


def test_messages_show_a_reply_and_the_unread_count_until_all_are_read(
    app, client, article_id, alice, bob, make_user
):
    top = add_comment(app, article_id, alice, "阿蘭的頂樓評論")
    moderator = make_user("moderator")
    with app.app_context():
        reply = Comment(
            article_id=article_id,
            author_id=bob.id,
            parent_id=top,
            body="阿博說得對",
            status=CommentStatus.PENDING,
        )
        db.session.add(reply)
        db.session.flush()
        moderation.approve(
            db.session,
            comment=reply,
            moderator=db.session.get(User, moderator.id),
            now=utc_now(),
            today=utc_now().date(),
        )
        db.session.commit()
    login(client, alice.phone, alice.password)
    _, root = page_of(client, "/")
    assert text_of(find_one(root, id="unread-count")) == "1"
    # A screen reader hears the link as a whole, not 「消息1」.
    assert find_one(root, "a", id="messages-link").get("aria-label") == "消息，1條未讀"
    _, root = page_of(client, "/accounts/messages")
    [notice] = find_all(root, "li", cls="notice-item")
    assert notice.get("data-kind") == "reply"
    assert "阿博 回覆了您的評論：阿博說得對" in text_of(notice)
    assert "未讀" in text_of(notice)
    form = find_one(root, "form", action="/accounts/messages/read")
    response = client.post(
        form.get("action"), data={"csrf_token": find_one(form, "input", name="csrf_token").get("value")}
    )
    assert response.status_code == 303
    _, root = page_of(client, "/accounts/messages")
    assert find_all(root, id="unread-count") == []
    assert find_one(root, "a", id="messages-link").get("aria-label") is None
    assert "未讀" not in text_of(find_one(root, "li", cls="notice-item"))
    with app.app_context():
        assert db.session.scalar(select(Notification.read_at)) is not None


# --- accounts -------------------------------------------------------------------------------------


class RecordingSender:
    """The SMS gateway's stand-in (PLEDGE_RULES P2): keeps what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))

    def code(self) -> str:
        return re.search(r"驗證碼是(\d{6})", self.sent[-1][1]).group(1)


@pytest.fixture
def sender(app):
    recording = RecordingSender()
    app.config["SMS_SENDER"] = recording
    return recording


def without_tokens(html: str) -> str:
    return re.sub(r'("X-CSRFToken": "|name="csrf_token" type="hidden" value=")[^"]+', "", html)


def test_register_with_the_sms_code_creates_the_account_and_logs_in(app, client, sender):
    pages = []
    response, root = page_of(client, "/accounts/register")
    pages.append(response.get_data(as_text=True))
    token = csrf_token_from(pages[0])
    response = client.post(
        "/accounts/register/code", data={"phone": "13912345678", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200
    assert "驗證碼已發送至 139****5678" in text_of(as_fragment(response, "code-status"))
    pages.append(response.get_data(as_text=True))
    code = sender.code()
    assert [phone for phone, _ in sender.sent] == ["13912345678"]
    form = {
        "phone": "13912345678",
        "code": code,
        "nickname": "運河晨跑",
        "password": "a-long-password",
        "accept_terms": "y",
        "csrf_token": token,
    }
    response = client.post("/accounts/register", data=form)
    assert response.status_code == 303
    pages.append(response.get_data(as_text=True))
    response, root = page_of(client, response.headers["Location"])
    pages.append(response.get_data(as_text=True))
    assert text_of(find_one(root, "span", cls="whoami")) == "運河晨跑"
    assert "註冊成功，歡迎加入！" in text_of(find_one(root, id="messages"))
    assert [p for p in pages if code in without_tokens(p)] == []
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert (user.nickname, user.terms_version) == ("運河晨跑", "2026-11")
        assert user.phone_verified_at is not None


def test_a_forgotten_password_is_reset_with_an_sms_code_and_other_sessions_end(app, client, sender, alice):
    elsewhere = app.test_client()
    login(elsewhere, alice.phone, alice.password)
    assert elsewhere.get("/accounts/comments").status_code == 200
    _, page = page_of(client, "/accounts/login")
    assert find_all(page, "a", href="/accounts/password-reset?next=/")  # 忘記密碼？
    token = token_for(client, "/accounts/password-reset")
    response = client.post(
        "/accounts/password-reset/code", data={"phone": alice.phone, "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200 and "驗證碼已發送至" in response.get_data(as_text=True)
    form = {"phone": alice.phone, "code": "000000", "password": "a-new-password-1", "csrf_token": token}
    if sender.code() == "000000":
        form["code"] = "111111"
    wrong = client.post("/accounts/password-reset", data=form)
    assert wrong.status_code == 422 and "驗證碼錯誤或已過期" in wrong.get_data(as_text=True)
    response = client.post("/accounts/password-reset", data={**form, "code": sender.code()})
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/accounts/login"
    assert login_attempt(app.test_client(), alice.phone, alice.password).status_code == 422  # the old one
    assert login_attempt(app.test_client(), alice.phone, "a-new-password-1").status_code == 303
    assert elsewhere.get("/accounts/comments").status_code == 302  # signed out there
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ModerationAction)
                .where(ModerationAction.action == "account.password_reset")
            )
            == 1
        )


def test_a_password_reset_for_an_unknown_phone_says_so(app, client, sender):
    token = token_for(client, "/accounts/password-reset")
    form = {"phone": "13912340000", "code": "123456", "password": "a-new-password-1", "csrf_token": token}
    response = client.post("/accounts/password-reset", data=form)
    assert response.status_code == 422 and "該手機號尚未註冊" in response.get_data(as_text=True)


def test_a_bad_phone_is_said_once_with_or_without_javascript(app, client, sender):
    token = token_for(client, "/accounts/register")
    for headers in ({}, HX):
        response = client.post(
            "/accounts/register/code", data={"phone": "12345", "csrf_token": token}, headers=headers
        )
        assert response.status_code == 422
        assert response.get_data(as_text=True).count("請輸入有效的11位手機號碼") == 1, headers
    assert sender.sent == []


def test_the_code_request_without_javascript_re_renders_the_form(app, client, sender):
    token = token_for(client, "/accounts/register")
    response = client.post(
        "/accounts/register/code", data={"phone": "13912345678", "nickname": "運河晨跑", "csrf_token": token}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html and "驗證碼已發送至 139****5678" in html
    assert find_one(parse_html(html), "input", name="nickname").get("value") == "運河晨跑"
    assert sender.code() not in without_tokens(html)
    response = client.post(
        "/accounts/register/code", data={"phone": "13912345678", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 429
    assert "驗證碼發送過於頻繁" in response.get_data(as_text=True)
    assert len(sender.sent) == 1


@pytest.mark.parametrize("headers", [{}, HX])
def test_a_code_asked_again_too_soon_says_the_same_wait_in_retry_after(app, client, sender, headers):
    """The message said 60 seconds while Retry-After carried the hourly limit's reset (3593)."""
    token = token_for(client, "/accounts/register")
    form = {"phone": "13912345678", "csrf_token": token}
    assert client.post("/accounts/register/code", data=form).status_code == 200
    response = client.post("/accounts/register/code", data=form, headers=headers)
    assert response.status_code == 429
    seconds = re.search(r"驗證碼發送過於頻繁，請(\d+)秒後再試", response.get_data(as_text=True)).group(1)
    assert response.headers["Retry-After"] == seconds


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accept_terms": None}, TERMS_REQUIRED),
        ({"code": "000000x"}, "驗證碼錯誤或已過期，請重新獲取"),
        ({"nickname": "聊城新聞網官方"}, "暱稱含有不允許使用的內容，請修改"),
    ],
)
def test_a_refused_registration_is_422_with_the_message_and_no_account(app, client, sender, change, message):
    token = token_for(client, "/accounts/register")
    client.post("/accounts/register/code", data={"phone": "13912345678", "csrf_token": token}, headers=HX)
    form = {
        "phone": "13912345678",
        "code": sender.code(),
        "nickname": "運河晨跑",
        "password": "a-long-password",
        "accept_terms": "y",
        "csrf_token": token,
        **change,
    }
    form = {key: value for key, value in form.items() if value is not None}
    response = client.post("/accounts/register", data=form)
    assert response.status_code == 422
    assert message in text_of(parse_html(response.get_data(as_text=True)))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def field_messages(root, name: str) -> list[str]:
    """The messages shown beside a form field (the field macro's list)."""
    box = find_one(root, "div", data_field=name)
    return [text_of(li) for ul in find_all(box, "ul", cls="field-errors") for li in find_all(ul, "li")]


def password_values(root) -> list[str]:
    return [field.get("value") or "" for field in find_all(root, "input", type="password")]


def test_a_registration_shows_every_problem_at_once_and_keeps_what_was_typed(app, client, sender):
    """An unticked box and a refused nickname: the page said only the box, and the nickname on the
    next try. Both now, each beside its field; what was typed stays, the password aside."""
    token = token_for(client, "/accounts/register")
    client.post("/accounts/register/code", data={"phone": "13912345678", "csrf_token": token}, headers=HX)
    form = {
        "phone": "13912345678",
        "code": sender.code(),
        "nickname": "值班審核員",
        "password": "a-long-password",
        "csrf_token": token,
    }
    response = client.post("/accounts/register", data=form)
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    assert field_messages(root, "nickname") == ["暱稱含有不允許使用的內容，請修改"]
    assert field_messages(root, "accept_terms") == [TERMS_REQUIRED]
    assert field_messages(root, "phone") == field_messages(root, "code") == []
    assert find_one(root, "input", name="nickname").get("value") == "值班審核員"
    assert find_one(root, "input", name="phone").get("value") == "13912345678"
    assert password_values(root) == [""]
    assert "a-long-password" not in response.get_data(as_text=True)
    # Fixing both with the same code registers: the refusal did not use it up.
    response = client.post("/accounts/register", data={**form, "nickname": "運河晨跑", "accept_terms": "y"})
    assert response.status_code == 303


def test_a_registration_the_form_refuses_still_has_the_other_fields_checked(app, client, sender):
    """An empty code (refused by the form itself) hid the refused nickname and the unticked box."""
    token = token_for(client, "/accounts/register")
    response = client.post(
        "/accounts/register",
        data={
            "phone": "13912345678",
            "code": "",
            "nickname": "審核員",
            "password": "short",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    assert field_messages(root, "code") == ["請輸入短信驗證碼"]
    assert field_messages(root, "nickname") == ["暱稱含有不允許使用的內容，請修改"]
    assert field_messages(root, "password") == ["密碼需為8至128個字符"]
    assert field_messages(root, "accept_terms") == [TERMS_REQUIRED]
    assert find_one(root, "input", name="nickname").get("value") == "審核員"
    assert password_values(root) == [""]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_taken_phone_and_a_taken_nickname_are_said_together(app, client, sender, alice):
    token = token_for(client, "/accounts/register")
    response = client.post(
        "/accounts/register",
        data={
            "phone": alice.phone,
            "code": "123456",
            "nickname": alice.nickname,
            "password": "a-long-password",
            "accept_terms": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    assert field_messages(root, "phone") == ["該手機號已註冊，請直接登錄"]
    assert field_messages(root, "nickname") == ["該暱稱已被使用"]


def test_a_password_reset_shows_a_wrong_code_and_a_short_password_at_once(app, client, sender, alice):
    token = token_for(client, "/accounts/password-reset")
    client.post("/accounts/password-reset/code", data={"phone": alice.phone, "csrf_token": token}, headers=HX)
    wrong = "000000" if sender.code() != "000000" else "111111"
    response = client.post(
        "/accounts/password-reset",
        data={"phone": alice.phone, "code": wrong, "password": "short", "csrf_token": token},
    )
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    assert field_messages(root, "code") == ["驗證碼錯誤或已過期，請重新獲取"]
    assert field_messages(root, "password") == ["密碼需為8至128個字符"]
    assert find_one(root, "input", name="phone").get("value") == alice.phone
    assert password_values(root) == [""]
    response = client.post(
        "/accounts/password-reset",
        data={"phone": "13912340000", "code": "", "password": "a-new-password-1", "csrf_token": token},
    )
    root = parse_html(response.get_data(as_text=True))
    assert field_messages(root, "phone") == ["該手機號尚未註冊"]
    assert field_messages(root, "code") == ["請輸入短信驗證碼"]


def test_a_login_says_a_bad_phone_and_a_missing_password_at_once(app, client):
    token = token_for(client, "/accounts/login")
    response = client.post("/accounts/login", data={"phone": "12345", "password": "", "csrf_token": token})
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    assert field_messages(root, "phone") == ["請輸入有效的11位手機號碼"]
    assert field_messages(root, "password") == ["請輸入密碼"]
    assert find_one(root, "input", name="phone").get("value") == "12345"
    response = client.post(
        "/accounts/login", data={"phone": "12345", "password": "a-long-password", "csrf_token": token}
    )
    root = parse_html(response.get_data(as_text=True))
    assert response.status_code == 422
    assert field_messages(root, "phone") == ["請輸入有效的11位手機號碼"]
    assert field_messages(root, "password") == []
    assert password_values(root) == [""]


@pytest.mark.parametrize("headers", [{}, HX])
def test_asking_for_a_code_with_a_bad_phone_keeps_the_rest_but_the_password(app, client, sender, headers):
    """獲取驗證碼: with htmx only the status line answers, with the phone's message; without, the
    whole form comes back with it and what was typed, never the password."""
    token = token_for(client, "/accounts/register")
    response = client.post(
        "/accounts/register/code",
        data={"phone": "12345", "nickname": "運河晨跑", "password": "a-long-password", "csrf_token": token},
        headers=headers,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "a-long-password" not in html and html.count("請輸入有效的11位手機號碼") == 1
    if headers:
        assert "<html" not in html and 'id="code-status"' in html
    else:
        root = parse_html(html)
        assert field_messages(root, "phone") == ["請輸入有效的11位手機號碼"]
        assert find_one(root, "input", name="nickname").get("value") == "運河晨跑"
        assert password_values(root) == [""]


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_a_registered_phone_typed_in_full_width_digits_is_the_same_phone(app, client, sender, alice):
    """The number as a Chinese keyboard types it: its code goes to the ASCII number, it cannot open
    a second account, and it logs in to the first."""
    token = token_for(client, "/accounts/register")
    for typed in (
        alice.phone.translate(FULL_WIDTH),
        alice.phone[:-1] + alice.phone[-1].translate(FULL_WIDTH),
    ):
        response = client.post(
            "/accounts/register",
            data={
                "phone": typed,
                "code": "123456",
                "nickname": "另一個我",
                "password": "a-long-password",
                "accept_terms": "y",
                "csrf_token": token,
            },
        )
        assert response.status_code == 422
        assert "該手機號已註冊，請直接登錄" in text_of(parse_html(response.get_data(as_text=True)))
    response = client.post(
        "/accounts/password-reset/code",
        data={"phone": alice.phone.translate(FULL_WIDTH), "csrf_token": token},
        headers=HX,
    )
    assert response.status_code == 200
    assert [phone for phone, _ in sender.sent] == [alice.phone]
    assert (
        login_attempt(app.test_client(), alice.phone.translate(FULL_WIDTH), alice.password).status_code == 303
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


WRITTEN_FORMS = (
    "86 139 1234 5678",
    "(+86)139-1234-5678",
    "0086 13912345678",
    "+86-139-1234-5678",
    "139 1234 5678",
    "139-1234-5678",
    "（＋８６）１３９　１２３４　５６７８",
    "\u202a+86 139 1234 5678\u202c",  # copied from a phone's contacts: wrapped in direction marks
    "\u2068139\u200b1234\u200b5678\u2069",  # from a chat: isolates and zero-width spaces
)


def test_a_phone_registered_in_one_written_form_is_found_in_every_other(app, client, sender):
    """Readers write their own number many ways: each form is the same account, for the code, the
    registration, login and 忘記密碼, and the per-account login limit counts them together."""
    token = token_for(client, "/accounts/register")
    response = client.post(
        "/accounts/register/code", data={"phone": "86 139 1234 5678", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [phone for phone, _ in sender.sent] == ["13912345678"]
    form = {
        "phone": "(+86)139-1234-5678",
        "code": sender.code(),
        "nickname": "運河晨跑",
        "password": "a-long-password",
        "accept_terms": "y",
        "csrf_token": token,
    }
    assert client.post("/accounts/register", data=form).status_code == 303
    client = app.test_client()  # signed out again
    form["csrf_token"] = token_for(client, "/accounts/register")
    for n, typed in enumerate(WRITTEN_FORMS):
        signed_in = login_attempt(app.test_client(), typed, "a-long-password", ip=f"61.1.{n}.1")
        assert signed_in.status_code == 303, typed
        again = client.post(
            "/accounts/register",
            data={**form, "phone": typed, "nickname": "另一個我"},
            environ_base={"REMOTE_ADDR": f"61.2.{n}.1"},
        )
        assert again.status_code == 422, typed
        assert "該手機號已註冊，請直接登錄" in text_of(parse_html(again.get_data(as_text=True)))
    with app.app_context():  # the registration's code was sent a while ago: a new one may go
        for sent in db.session.scalars(select(SmsCode)):
            sent.created_at -= timedelta(minutes=5)
        db.session.commit()
    reset_token = token_for(client, "/accounts/password-reset")
    response = client.post(
        "/accounts/password-reset/code",
        data={"phone": "+86 (139) 1234-5678", "csrf_token": reset_token},
        headers=HX,
        environ_base={"REMOTE_ADDR": "61.3.0.1"},
    )
    assert response.status_code == 200
    reset = {"phone": "139.1234.5678", "code": sender.code(), "password": "a-new-password-1"}
    response = client.post("/accounts/password-reset", data={**reset, "csrf_token": reset_token})
    assert response.status_code == 303
    assert login_attempt(app.test_client(), "0086 139 1234 5678", "a-new-password-1").status_code == 303
    for n in range(10):
        typed = WRITTEN_FORMS[n % len(WRITTEN_FORMS)]
        assert login_attempt(client, typed, "wrong-password", ip=f"60.210.{n}.1").status_code == 422
    assert login_attempt(client, "13912345678", "a-new-password-1", ip="60.211.0.1").status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("+852 9123 4567", "目前僅支持中國大陸手機號碼（+86）"),
        ("0635-8888888", "固定電話無法接收短信驗證碼"),
        ("139 1234 567", "請輸入有效的11位手機號碼"),
        ("1" * 40, "手機號碼太長"),
    ],
)
def test_a_number_that_is_no_mainland_mobile_is_refused_with_what_is_wrong(app, client, sender, typed, says):
    token = token_for(client, "/accounts/register")
    for headers in ({}, HX):
        response = client.post(
            "/accounts/register/code", data={"phone": typed, "csrf_token": token}, headers=headers
        )
        assert response.status_code == 422
        assert response.get_data(as_text=True).count(says) == 1, headers
    assert sender.sent == []


def login_attempt(client, phone, password, ip="127.0.0.1"):
    token = token_for(client, "/accounts/login")
    return client.post(
        "/accounts/login",
        data={"phone": phone, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_a_failed_login_is_422_with_one_message(app, client, alice):
    for phone, password in ((alice.phone, "wrong-password"), ("13999999999", alice.password)):
        response = login_attempt(client, phone, password)
        assert response.status_code == 422
        assert "手機號或密碼錯誤" in response.get_data(as_text=True)


def test_the_sixth_login_attempt_from_one_address_in_a_minute_is_429(app, client, alice):
    for _ in range(5):
        assert login_attempt(client, alice.phone, "wrong-password", ip="60.210.1.1").status_code == 422
    response = login_attempt(client, alice.phone, alice.password, ip="60.210.1.1")
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 60
    # The login form again, the phone as typed and the wait beside it (not the bare 429 page).
    form = parse_html(response.get_data(as_text=True))
    assert find_one(form, "input", name="phone").get("value") == alice.phone
    assert f"嘗試次數過多，請{wait}秒後再試" in text_of(form)
    assert login_attempt(client, alice.phone, alice.password, ip="60.210.2.2").status_code == 303


def test_an_accounts_failures_are_limited_across_addresses(app, client, alice, bob):
    for n in range(10):
        assert login_attempt(client, alice.phone, "wrong-password", ip=f"60.210.{n}.1").status_code == 422
    response = login_attempt(client, alice.phone, alice.password, ip="60.211.0.1")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert login_attempt(client, bob.phone, bob.password, ip="60.211.0.1").status_code == 303


def test_the_session_cookie_is_httponly_and_samesite_lax(app, client, alice):
    response = login(client, alice.phone, alice.password)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in attributes
        assert "samesite=lax" in attributes


def test_logout_needs_post_and_the_token(app, client, alice):
    login(client, alice.phone, alice.password)
    assert client.get("/accounts/logout").status_code == 405
    assert client.post("/accounts/logout").status_code == 400
    assert client.get("/accounts/comments").status_code == 200  # still logged in
    response = client.post("/accounts/logout", data={"csrf_token": token_for(client, "/")})
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert client.get("/accounts/comments").status_code == 302


def test_signing_out_leaves_a_copied_cookie_working_and_signing_out_everywhere_ends_it(app, alice):
    """A session is a signed cookie: 退出 deletes it in this browser only. 退出所有設備 ends every
    session of the account: a copy elsewhere (another device, a stolen cookie) stops working too."""
    phone, other = app.test_client(), app.test_client()
    login(phone, alice.phone, alice.password)
    login(other, alice.phone, alice.password)
    copied = app.test_client()
    name = app.config["SESSION_COOKIE_NAME"]
    domain = app.config["SERVER_NAME"]
    copied.set_cookie(name, phone.get_cookie(name, domain=domain).value, domain=domain)
    phone.post("/accounts/logout", data={"csrf_token": token_for(phone, "/")})
    assert copied.get("/accounts/comments").status_code == 200  # what 退出 cannot reach

    html = other.get("/accounts/comments").get_data(as_text=True)
    form = find_one(parse_html(html), "form", action="/accounts/logout-everywhere")
    assert text_of(find_one(form, "button")) == "退出所有設備"
    assert other.post("/accounts/logout-everywhere").status_code == 400  # no token: nothing ends
    assert other.get("/accounts/comments").status_code == 200
    response = other.post("/accounts/logout-everywhere", data={"csrf_token": csrf_token_from(html)})
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert "您已退出所有設備" in other.get("/").get_data(as_text=True)
    for client in (other, copied):
        assert client.get("/accounts/comments").status_code == 302
    login(phone, alice.phone, alice.password)  # the password still signs in, with a new session
    assert phone.get("/accounts/comments").status_code == 200
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ModerationAction)
                .where(ModerationAction.action == "account.sessions_ended")
            )
            == 1
        )


HUGE = "99999999999999999999999"  # beyond SQLite's 64-bit integers


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/articles/{HUGE}/comments"),
        ("GET", f"/articles/{HUGE}/comments/more"),
        ("GET", f"/articles/{HUGE}/comment-form"),
        ("POST", f"/articles/{HUGE}/comments"),
        ("GET", f"/comments/{HUGE}/replies"),
        ("GET", f"/comments/{HUGE}/report"),
        ("POST", f"/comments/{HUGE}/report"),
        ("POST", f"/comments/{HUGE}/like"),
        ("GET", f"/comments/{HUGE}/edit"),
        ("POST", f"/comments/{HUGE}/edit"),
        ("POST", f"/comments/{HUGE}/delete"),
    ],
)
def test_an_id_beyond_the_databases_integers_is_404(app, client, alice, method, url):
    login(client, alice.phone, alice.password)
    token = token_for(client, "/")
    try:
        status = client.open(
            url, method=method, data={"body": "好文", "reason": "R08", "csrf_token": token}
        ).status_code
    except Exception as error:
        status = f"500 ({type(error).__name__})"
    assert status == 404


def test_a_posts_answer_offers_edit_only_while_the_site_allows_edits(app, client, article_id, alice):
    login(client, alice.phone, alice.password)
    answer = parse_html(post_comment(client, article_id, "可以修改的評論", hx=True).get_data(as_text=True))
    [item] = find_all(answer, "li", cls="own")
    assert [text_of(a) for a in find_all(item, "a", cls="edit-link")] == ["編輯"]
    set_settings(app, comment_edit_minutes=0, comment_cooldown_seconds=0)
    answer = parse_html(post_comment(client, article_id, "不能修改的評論", hx=True).get_data(as_text=True))
    [item] = find_all(answer, "li", cls="own")
    assert find_all(item, "a", cls="edit-link") == []
    assert find_all(item, "form")  # 刪除 is still offered: a pending comment is the author's to withdraw


@pytest.mark.parametrize("status", ["rejected", "hidden"])
def test_a_crafted_delete_of_ones_own_decided_comment_is_refused_and_changes_nothing(
    app, client, article_id, alice, status
):
    comment_id = add_comment(app, article_id, alice, "被處理的評論", status, reason="R11")
    login(client, alice.phone, alice.password)
    token = token_for(client, f"/articles/{article_id}")
    response = client.post(f"/comments/{comment_id}/delete", data={"csrf_token": token})
    assert response.status_code == 403
    kept = get_comment(app, comment_id)
    assert (kept.status, kept.reason_code) == (status, "R11")


@pytest.mark.parametrize(
    ("next_path", "where"),
    [("#comments", "comment-status"), ("#comment-status", "comment-status"), ("", "messages")],
    ids=["comment-area", "comment-status", "top"],
)
def test_logging_in_from_the_comment_area_says_welcome_where_the_reader_lands(
    app, client, article_id, alice, next_path, where
):
    """請先登錄 in the comment area comes back to #comments: the welcome is shown there, in the
    comment area's status region; a login back to the top of a page says it in #messages."""
    page = client.get("/accounts/login")
    target = f"/articles/{article_id}{next_path}"
    data = {
        "phone": alice.phone,
        "password": alice.password,
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
    }
    response = client.post("/accounts/login", query_string={"next": target}, data=data)
    assert (response.status_code, response.headers["Location"]) == (303, target)
    _, root = page_of(client, target)
    welcome = f"{alice.nickname}，歡迎回來。"
    other = "messages" if where == "comment-status" else "comment-status"
    assert (text_of(find_one(root, id=where)), text_of(find_one(root, id=other))) == (welcome, "")


def log_in_through(client, link: str, user) -> str:
    """Follows a login link as a reader would: its page, then its form (action, CSRF) as rendered.
    Returns where the login redirects."""
    _, root = page_of(client, link)
    form = find_one(root, "form", cls="account-form")
    data = {
        "phone": user.phone,
        "password": user.password,
        "csrf_token": find_one(form, "input", name="csrf_token").get("value"),
    }
    response = client.post(form.get("action"), data=data)
    assert response.status_code == 303
    return response.headers["Location"]


def item_of(root, comment_id: int):
    return find_one(root, "li", id=f"comment-{comment_id}")


@pytest.mark.parametrize("which", ["top-level", "reply"])
def test_logging_in_from_a_comments_like_says_welcome_in_that_comment(
    app, client, article_id, alice, bob, which
):
    """點贊 (anonymous) → login → back at #comment-N, far down the list: the welcome is shown in that
    comment's item, where the reader lands, not in #messages or #comment-status far above it."""
    target = add_comment(app, article_id, bob, "一條要被點贊的評論。")
    if which == "reply":
        target = add_comment(app, article_id, bob, "一條要被點贊的回覆。", parent_id=target, minutes_ago=20)
    for minute in range(12):  # newer comments above it
        add_comment(app, article_id, bob, f"後來的第{minute}條評論。", minutes_ago=10 - minute * 0.5)
    _, root = page_of(client, f"/articles/{article_id}")
    like = find_one(item_of(root, target), "a", id=f"like-{target}").get("href")
    landing = log_in_through(client, like, alice)
    assert landing == f"/articles/{article_id}#comment-{target}"

    _, root = page_of(client, landing)
    welcome = f"{alice.nickname}，歡迎回來。"
    landed = find_one(item_of(root, target), "p", cls="comment-landing")
    assert (text_of(landed), landed.get("role")) == (welcome, "status")
    assert (text_of(find_one(root, id="messages")), text_of(find_one(root, id="comment-status"))) == ("", "")
    assert len(find_all(root, "p", cls="comment-landing")) == 1
    _, root = page_of(client, landing)  # said once
    assert find_all(root, "p", cls="comment-landing") == []


def test_logging_in_from_the_reply_prompt_says_welcome_in_the_comment_answered(
    app, client, article_id, alice, bob
):
    """回覆 (anonymous) opens the form's 請先登錄 prompt, which comes back to the comment answered."""
    target = add_comment(app, article_id, bob, "一條要被回覆的評論。")
    _, root = page_of(client, f"/articles/{article_id}/comment-form?reply_to={target}")
    login_link = find_one(root, "p", cls="comment-login-prompt").find(".//a").get("href")
    landing = log_in_through(client, login_link, alice)
    assert landing == f"/articles/{article_id}#comment-{target}"
    _, root = page_of(client, landing)
    assert (
        text_of(find_one(item_of(root, target), "p", cls="comment-landing"))
        == f"{alice.nickname}，歡迎回來。"
    )
    assert text_of(find_one(root, id="messages")) == ""


def test_a_welcome_for_a_comment_not_on_the_page_is_shown_at_the_top(app, client, article_id, alice, bob):
    """The anchor of a comment not on the page (withdrawn since, or in a later slice) leaves the reader at
    the top: the welcome is in #messages there."""
    shown = add_comment(app, article_id, bob, "一條看得見的評論。")
    landing = log_in_through(client, f"/accounts/login?next=/articles/{article_id}%23comment-999999", alice)
    assert landing == f"/articles/{article_id}#comment-999999"
    _, root = page_of(client, landing)
    assert text_of(find_one(root, id="messages")) == f"{alice.nickname}，歡迎回來。"
    assert find_all(root, "p", cls="comment-landing") == []
    assert text_of(item_of(root, shown)).count("歡迎回來") == 0


@pytest.mark.parametrize("code", ["sent", ""], ids=["through-register", "form-refused-too"])
def test_a_refused_nickname_is_kept_on_record(app, client, sender, code):
    """P4's log: account.name_rejected with the name tried and the address, whichever way the
    registration was refused (the form's own check, or register's); a name that passes leaves none."""
    token = token_for(client, "/accounts/register")
    client.post("/accounts/register/code", data={"phone": "13912345678", "csrf_token": token}, headers=HX)
    form = {
        "phone": "13912345678",
        "code": sender.code() if code else "",
        "nickname": "聊城新聞網官方",
        "password": "a-long-password",
        "accept_terms": "y",
        "csrf_token": token,
    }
    assert client.post("/accounts/register", data=form).status_code == 422
    with app.app_context():
        rows = db.session.scalars(
            select(ModerationAction).where(ModerationAction.action == "account.name_rejected")
        ).all()
        assert [(r.actor_id, r.target_type, r.reason_code, r.ip) for r in rows] == [
            (None, "nickname", "name_rejected", "127.0.0.1")
        ]
        assert json.loads(rows[0].after)["nickname"] == "聊城新聞網官方"
    response = client.post("/accounts/register", data={**form, "nickname": "東昌湖邊人"})
    assert response.status_code == (303 if code else 422)
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(ModerationAction.action == "account.name_rejected"))
            == 1
        )


@pytest.mark.parametrize("closing", ["article", "site"])
def test_a_closed_article_takes_edits_no_more_and_offers_no_edit_link(
    app, client, article_id, alice, closing
):
    """Closing comments (P32) stops new words: an edit of a pending or a published comment within
    its window is refused as a new post is, the edit page says so, and 編輯 is not offered."""
    pending = add_comment(app, article_id, alice, "剛發的待審評論", "pending", minutes_ago=1)
    public = add_comment(app, article_id, alice, "剛通過的評論", minutes_ago=1)
    login(client, alice.phone, alice.password)
    _, root = page_of(client, f"/articles/{article_id}")
    assert edit_links(own_item(root, pending)) and edit_links(item_of(root, public))
    token = token_for(client, f"/articles/{article_id}")
    if closing == "article":
        with app.app_context():
            db.session.get(Article, article_id).comments_state = CommentsState.CLOSED
            db.session.commit()
    else:
        set_settings(app, comments_closed_site="1")

    _, root = page_of(client, f"/articles/{article_id}")
    assert edit_links(own_item(root, pending)) == [] and edit_links(item_of(root, public)) == []
    for comment_id, body in ((pending, "剛發的待審評論"), (public, "剛通過的評論")):
        _, page = page_of(client, f"/comments/{comment_id}/edit", status=403)
        assert text_of(find_one(page, id="edit-refusal")) == CLOSED and find_all(page, "textarea") == []
        response = client.post(
            f"/comments/{comment_id}/edit", data={"body": "改成別的話", "csrf_token": token}
        )
        assert response.status_code == 403
        assert field_errors(parse_html(response.get_data(as_text=True))) == [CLOSED]
        stored = get_comment(app, comment_id)
        assert (stored.body, stored.pending_body) == (body, None)
