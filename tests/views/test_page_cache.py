"""Whole pages from the cache (portal.page_cache): served when nothing changed, never after a change
to what they show, and never to a reader who should see a page of their own.

That a page really comes from the cache is shown by changing a row behind the ORM's back (plain
SQL, which no application path does): the cached page keeps the old text until a real change."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import request
from sqlalchemy import text

from portal.domain.comments import set_status
from portal.domain.site import comment_rules
from portal.extensions import cache, db
from portal.models import Article, Comment, CommentStatus, utc_now
from portal.page_cache import PageMemoryCache
from tests.factories import make_article, make_section
from tests.helpers import HX, csrf_token_from, find_one, login, parse_html, text_of, token_for
from tests.views.test_admin import article_data, settings_data


def arrange(app, **section_fields) -> int:
    with app.app_context():
        section = make_section(db.session, **section_fields)
        article = make_article(
            db.session, section, title="原來的標題", published_at=utc_now() - timedelta(hours=1)
        )
        db.session.commit()
        return article.id


def add_comment(app, article_id: int, author_id: int, body: str, status: str) -> int:
    with app.app_context():
        comment = Comment(article_id=article_id, author_id=author_id, body=body, ip_region="山東")
        db.session.add(comment)
        db.session.flush()
        if status != "pending":
            set_status(db.session, comment, CommentStatus(status), now=utc_now())
        db.session.commit()
        return comment.id


def behind_the_orms_back(app, sql: str, **params) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(sql), params)


def count_on(html: str) -> str:
    return text_of(find_one(parse_html(html), "p", id="comment-count"))


@pytest.fixture
def article(app) -> int:
    return arrange(app)


@pytest.fixture
def reader(make_user):
    return make_user(nickname="讀者甲")


@pytest.fixture
def moderator(make_user):
    return make_user(role="moderator", nickname="審核員")


def test_an_anonymous_page_comes_whole_from_the_cache_with_no_cookie_and_no_token(app, client, article):
    first = client.get(f"/articles/{article}")
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    assert "csrf" not in first.get_data(as_text=True).lower()
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    second = client.get(f"/articles/{article}")
    assert "原來的標題" in second.get_data(as_text=True)
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in second.headers


def test_a_signed_in_reader_never_gets_the_anonymous_page(app, client, article, reader):
    anonymous = app.test_client()
    anonymous.get(f"/articles/{article}")
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    login(client, reader.phone, reader.password)
    html = client.get(f"/articles/{article}").get_data(as_text=True)
    assert "暗中改過" in html and reader.nickname in html and "X-CSRFToken" in html


def test_an_approval_shows_at_once_with_its_count(app, client, article, reader, moderator):
    comment_id = add_comment(app, article, reader.id, "等待審核的評論", "pending")
    anonymous = app.test_client()
    before = anonymous.get(f"/articles/{article}").get_data(as_text=True)
    assert "等待審核的評論" not in before and count_on(before) == "共 0 條評論"
    login(client, moderator.phone, moderator.password)
    response = client.post(
        f"/moderation/comments/{comment_id}/decision",
        data={"csrf_token": token_for(client), "decision": "approve"},
    )
    assert response.status_code in (200, 303)
    after = anonymous.get(f"/articles/{article}").get_data(as_text=True)
    assert "等待審核的評論" in after and count_on(after) == "共 1 條評論"


def test_a_pending_comment_leaves_the_cached_page_alone_and_a_like_does_not(app, client, article, reader):
    shown = add_comment(app, article, reader.id, "已經通過的評論", "approved")
    anonymous = app.test_client()
    anonymous.get(f"/articles/{article}")
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    add_comment(app, article, reader.id, "剛提交的評論", "pending")
    assert "原來的標題" in anonymous.get(f"/articles/{article}").get_data(as_text=True)
    login(client, reader.phone, reader.password)
    token = token_for(client)
    assert client.post(f"/comments/{shown}/like", data={"csrf_token": token}).status_code == 303
    html = anonymous.get(f"/articles/{article}").get_data(as_text=True)
    assert "暗中改過" in html
    assert text_of(find_one(parse_html(html), "span", cls="like-count")) == "1"


def test_an_article_edit_and_a_setting_show_at_once_on_every_page(app, client, article, make_user):
    admin = make_user(role="admin", nickname="總編輯")
    anonymous = app.test_client()
    for path in ("/", f"/articles/{article}"):
        assert "原來的網站名" not in anonymous.get(path).get_data(as_text=True)
    login(client, admin.phone, admin.password)
    data = settings_data(site_name="原來的網站名", csrf_token=token_for(client))
    assert client.post("/admin/settings", data=data).status_code == 303
    for path in ("/", f"/articles/{article}"):
        assert "原來的網站名" in anonymous.get(path).get_data(as_text=True)
    with app.app_context():
        section_id = db.session.get(Article, article).section_id
    data = article_data(section_id, title="編輯改過的標題", csrf_token=token_for(client))
    assert client.post(f"/admin/articles/{article}", data=data).status_code == 303
    for path in ("/", f"/articles/{article}"):
        assert "編輯改過的標題" in anonymous.get(path).get_data(as_text=True)


def test_a_reader_with_a_message_waiting_gets_a_fresh_page(app, client, article, reader):
    client.get(f"/articles/{article}")  # cached for anonymous readers
    login(client, reader.phone, reader.password)
    response = client.post("/accounts/logout", data={"csrf_token": token_for(client)})
    assert response.status_code in (302, 303)
    assert "您已退出登錄。" in client.get(f"/articles/{article}").get_data(as_text=True)
    assert "您已退出登錄。" not in client.get(f"/articles/{article}").get_data(as_text=True)


def test_simplified_and_traditional_readers_each_get_their_own_page(app, article):
    hans, hant = app.test_client(), app.test_client()
    hans.get("/script/hans?next=/")
    for _ in range(2):
        assert "原来的标题" in hans.get(f"/articles/{article}").get_data(as_text=True)
        assert "原來的標題" in hant.get(f"/articles/{article}").get_data(as_text=True)


def test_a_fragment_and_a_page_at_one_address_are_kept_apart(app, client, article):
    path = f"/articles/{article}/comments?order=hot"
    fragment = client.get(path, headers=HX).get_data(as_text=True)
    page = client.get(path).get_data(as_text=True)
    assert "<html" not in fragment and "<html" in page
    assert "<html" not in client.get(path, headers=HX).get_data(as_text=True)


@pytest.mark.parametrize("asked_first", ["fragment", "page", "restore"])
def test_a_history_restore_and_a_fragment_at_one_address_are_kept_apart(app, client, article, asked_first):
    path = f"/articles/{article}/comments?order=hot"
    restore = {"HX-History-Restore-Request": "true"}
    asks = {
        "fragment": (HX, False),
        "page": ({}, True),
        "restore": (restore, True),  # historyRestoreAsHxRequest off: no HX-Request
        "restore with HX-Request": ({**HX, **restore}, True),
    }
    order = [asked_first, *(name for name in asks if name != asked_first)]
    for name in order * 2:  # the second round is answered from the cache
        headers, whole = asks[name]
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert ("<html" in response.get_data(as_text=True)) is whole, name
        assert "HX-History-Restore-Request" in response.headers["Vary"], name


def test_a_page_whose_comments_close_by_time_is_kept_only_until_then(app, client):
    article = arrange(app, auto_close_days=1)
    with app.app_context():
        db.session.execute(
            text("UPDATE article SET published_at = :at WHERE id = :id"),
            {"at": utc_now() - timedelta(days=1) + timedelta(seconds=1), "id": article},
        )
        db.session.commit()
    assert "本文評論已關閉" not in client.get(f"/articles/{article}").get_data(as_text=True)
    time.sleep(2.1)
    assert "本文評論已關閉" in client.get(f"/articles/{article}").get_data(as_text=True)


# --- signed-in readers and staff: pages of their own ------------------------------------------


def test_a_signed_in_readers_page_is_kept_for_them_until_a_row_of_theirs_changes(
    app, client, article, reader
):
    login(client, reader.phone, reader.password)
    client.get(f"/articles/{article}")  # shows the login's message once: not kept
    first = client.get(f"/articles/{article}").get_data(as_text=True)
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    assert "原來的標題" in client.get(f"/articles/{article}").get_data(as_text=True)
    token = csrf_token_from(first)
    response = client.post(
        f"/articles/{article}/comments", data={"csrf_token": token, "body": "我自己剛提交的評論"}
    )
    assert response.status_code == 303
    html = client.get(f"/articles/{article}").get_data(as_text=True)
    # A pending comment changes no public page, but it is on its author's own page at once.
    assert "我自己剛提交的評論" in html and "審核中" in html and "暗中改過" in html


def test_readers_never_share_a_page_and_one_readers_change_leaves_the_others_kept(
    app, client, article, reader, make_user
):
    other = app.test_client()
    someone = make_user(nickname="讀者乙")
    for who, person in ((client, reader), (other, someone)):
        login(who, person.phone, person.password)
        who.get("/")  # the login's message
    mine = client.get(f"/articles/{article}").get_data(as_text=True)
    theirs = other.get(f"/articles/{article}").get_data(as_text=True)
    assert reader.nickname in mine and someone.nickname not in mine
    assert someone.nickname in theirs and csrf_token_from(mine) != csrf_token_from(theirs)
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    add_comment(app, article, reader.id, "讀者甲的待審評論", "pending")
    assert "暗中改過" in client.get(f"/articles/{article}").get_data(as_text=True)
    kept = other.get(f"/articles/{article}").get_data(as_text=True)
    assert "原來的標題" in kept and "讀者甲的待審評論" not in kept


def test_a_rejection_leaves_public_pages_and_clears_the_authors_own(app, client, article, reader, moderator):
    comment_id = add_comment(app, article, reader.id, "將被拒絕的評論", "pending")
    login(client, reader.phone, reader.password)
    assert "將被拒絕的評論" in client.get(f"/articles/{article}").get_data(as_text=True)
    anonymous = app.test_client()
    anonymous.get(f"/articles/{article}")
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    staff = app.test_client()
    login(staff, moderator.phone, moderator.password)
    response = staff.post(
        f"/moderation/comments/{comment_id}/decision",
        data={"csrf_token": token_for(staff), "decision": "reject", "reason": "R11"},
    )
    assert response.status_code in (200, 303)
    assert "原來的標題" in anonymous.get(f"/articles/{article}").get_data(as_text=True)
    assert "將被拒絕的評論" not in client.get(f"/articles/{article}").get_data(as_text=True)


def test_the_queue_is_kept_for_its_moderator_until_any_write(app, client, article, reader, moderator):
    first = add_comment(app, article, reader.id, "第一條待審", "pending")
    login(client, moderator.phone, moderator.password)
    client.get("/")  # the login's message
    assert "第一條待審" in client.get("/moderation/").get_data(as_text=True)
    behind_the_orms_back(app, "UPDATE comment SET body = '暗中改過' WHERE id = :id", id=first)
    assert "第一條待審" in client.get("/moderation/").get_data(as_text=True)
    add_comment(app, article, reader.id, "第二條待審", "pending")  # no public page changes
    html = client.get("/moderation/").get_data(as_text=True)
    assert "第二條待審" in html and "暗中改過" in html


def test_a_post_reaches_the_kept_queue_and_the_authors_page_at_once_and_no_public_page(
    app, client, article, reader, moderator
):
    """A post writes its rows by Core statements (no flush): its stamps are replaced all the same."""
    staff, anonymous = app.test_client(), app.test_client()
    login(staff, moderator.phone, moderator.password)
    staff.get("/")  # the login's message
    assert "剛剛發表的評論" not in staff.get("/moderation/").get_data(as_text=True)
    anonymous.get(f"/articles/{article}")
    login(client, reader.phone, reader.password)
    client.get(f"/articles/{article}")  # the login's message
    assert "審核中" not in client.get(f"/articles/{article}").get_data(as_text=True)
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    response = client.post(
        f"/articles/{article}/comments",
        data={"csrf_token": token_for(client, f"/articles/{article}"), "body": "剛剛發表的評論"},
        headers=HX,
    )
    assert response.status_code == 201
    assert "剛剛發表的評論" in staff.get("/moderation/").get_data(as_text=True)
    own = client.get(f"/articles/{article}").get_data(as_text=True)
    assert "剛剛發表的評論" in own and "審核中" in own
    assert "原來的標題" in anonymous.get(f"/articles/{article}").get_data(as_text=True)


@pytest.mark.parametrize("status", ["approved", "pending"])
def test_an_own_comments_edit_link_is_kept_only_while_it_can_be_edited(app, client, article, reader, status):
    """Published (the list) or 審核中 (the reader's own list): 編輯 goes when the window closes."""
    comment_id = add_comment(app, article, reader.id, "可以編輯一陣子的評論", status)
    minutes = comment_rules({}).edit_minutes  # the default: the test leaves the setting alone
    behind_the_orms_back(
        app,
        "UPDATE comment SET created_at = :at WHERE id = :id",
        at=utc_now() - timedelta(minutes=minutes) + timedelta(seconds=1.5),
        id=comment_id,
    )
    login(client, reader.phone, reader.password)
    edit = f"/comments/{comment_id}/edit"
    assert edit in client.get(f"/articles/{article}").get_data(as_text=True)
    time.sleep(2.1)
    assert edit not in client.get(f"/articles/{article}").get_data(as_text=True)


def test_an_anonymous_hit_is_answered_before_flask_sets_up_a_request(app, article):
    handled = []
    # First of the hooks: a hit on Flask's own path ends the request at the cache's hook.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: handled.append(request.path))
    first, second = app.test_client(), app.test_client()
    page = first.get(f"/articles/{article}")
    assert handled == [f"/articles/{article}"]
    again = second.get(f"/articles/{article}")
    assert handled == [f"/articles/{article}"]  # the second reader's answer never reached Flask
    assert again.get_data() == page.get_data()
    assert again.headers["Content-Security-Policy"] == page.headers["Content-Security-Policy"]
    assert again.headers["Content-Length"] == str(len(page.get_data()))
    # A reader with a session cookie (here, a message waiting) goes through Flask as before.
    second.get("/accounts/login")
    second.get(f"/articles/{article}")
    assert handled[-1] == f"/articles/{article}" and len(handled) == 3


def page_of(size: int) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "text/html; charset=utf-8")], b"x" * size


def test_the_store_in_process_keeps_pages_within_its_byte_budget_dropping_the_least_recently_read():
    store = PageMemoryCache(max_bytes=100_000)
    for n in range(10):
        store.set(f"page-{n}", page_of(30_000))
        if n >= 1:
            assert store.get("page-0") is not None  # read after every write: the most recently used
        assert store.bytes_used <= 100_000
    # Three pages fit: page 0, read all along, and the last two written.
    assert [n for n in range(10) if store.get(f"page-{n}") == page_of(30_000)] == [0, 8, 9]
    assert store.set("huge", page_of(200_000)) is False  # larger than the budget: not kept, no error
    assert store.get("huge") is None and store.get("page-9") is not None


def test_the_store_in_process_lets_a_page_expire_and_keeps_one_without_a_timeout():
    store = PageMemoryCache(max_bytes=100_000, default_timeout=300)
    store.set("short", page_of(10), timeout=1)
    store.set("forever", page_of(10), timeout=0)
    assert store.add("short", page_of(20)) is False and store.get("short") == page_of(10)
    time.sleep(1.1)
    assert store.get("short") is None and store.has("forever")
    assert store.add("short", page_of(20)) is True and store.get("short") == page_of(20)
    assert store.delete("forever") and not store.has("forever")


def test_without_redis_pages_are_kept_in_process_within_the_configured_budget(app, client, make_user):
    assert isinstance(cache.cache, PageMemoryCache)
    assert cache.cache.bytes_used == 0
    first = client.get(f"/articles/{arrange(app)}")
    assert first.status_code == 200 and cache.cache.bytes_used >= len(first.data)
    app.config["PAGE_CACHE_BYTES"] = len(first.data) // 2  # too small for one page: rendered each time
    cache.init_app(app)
    assert client.get(first.request.path).data == first.data
    assert cache.cache.bytes_used == 0


def test_an_edit_leaves_the_cached_page_and_its_approval_replaces_it(app, client, article, reader, moderator):
    """The public text changes when the edit is approved, not when it is saved: only then do the
    public pages go."""
    comment_id = add_comment(app, article, reader.id, "已經通過的評論", "approved")
    anonymous = app.test_client()
    anonymous.get(f"/articles/{article}")
    behind_the_orms_back(app, "UPDATE article SET title = '暗中改過' WHERE id = :id", id=article)
    login(client, reader.phone, reader.password)
    token = token_for(client, f"/comments/{comment_id}/edit")
    response = client.post(f"/comments/{comment_id}/edit", data={"body": "修改後的評論", "csrf_token": token})
    assert response.status_code == 303
    html = anonymous.get(f"/articles/{article}").get_data(as_text=True)
    assert "原來的標題" in html and "已經通過的評論" in html and "修改後的評論" not in html
    desk = app.test_client()
    login(desk, moderator.phone, moderator.password)
    response = desk.post(
        f"/moderation/comments/{comment_id}/decision",
        data={"csrf_token": token_for(desk), "decision": "approve"},
    )
    assert response.status_code == 303
    html = anonymous.get(f"/articles/{article}").get_data(as_text=True)
    assert "暗中改過" in html and "修改後的評論" in html and "已經通過的評論" not in html
