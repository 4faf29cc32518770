"""The back office (/admin) through the test client: who may use it, each form's success and failure
paths (messages beside the fields, in Chinese, what was typed kept), CSRF, the audit record, and what
readers see after each change."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, insert, select

import portal.news.views as reader_views
import portal.page_cache
from portal.domain.pledge import DEFAULT_TLD_LIST
from portal.domain.wordlist import parse_word_csv
from portal.extensions import db
from portal.models import (
    Article,
    Comment,
    CommentStatus,
    Media,
    ModerationAction,
    ModeratorScope,
    Page,
    Sanction,
    Section,
    SensitiveWord,
    SiteSetting,
    User,
    utc_now,
)
from tests.domain.test_region import _write
from tests.factories import make_article, make_section
from tests.helpers import HX, date_filter, find_all, find_one, login, parse_html, text_of, token_for
from tests.media_samples import picture_bytes, wav_bytes, webm_bytes

LOCAL = ZoneInfo("Asia/Shanghai")
LOGIN_PATH = "/accounts/login"
CSRF_MESSAGE = "頁面已過期，請重新整理後再提交。"
NOT_FOUND = "您訪問的頁面不存在或已被刪除。"
# WTForms' own messages, which must never reach an admin page untranslated.
ENGLISH = (
    "This field is required",
    "Number must be",
    "Not a valid",
    "Field must be",
    "Field cannot be",
    "Invalid input",
    "Invalid value",
    "Invalid choice",
    "is not a valid choice",
    "The CSRF token",
    "could not be coerced",
)


# --- helpers -------------------------------------------------------------------------------------


def assert_chinese(response) -> None:
    text = response.get_data(as_text=True)
    leaked = [english for english in ENGLISH if english in text]
    assert leaked == [], f"{response.request.path}: English message {leaked}"


class Back:
    """A logged-in admin's client: every answer is checked for status and untranslated messages."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.token = token_for(client, "/admin/")

    def get(self, url: str, status: int = 200):
        response = self.client.get(url)
        assert response.status_code == status, f"GET {url}: {response.status_code}"
        assert_chinese(response)
        return response

    def page(self, url: str, status: int = 200):
        return parse_html(self.get(url, status).get_data(as_text=True))

    def post(self, url: str, data: dict | None = None, status: int = 303, token: bool = True, **kwargs):
        """`confirmed` as portal.js sends it once the admin said yes to a destructive button's question
        (the no-JavaScript question page has tests of its own)."""
        payload = {**({"csrf_token": self.token} if token else {}), "confirmed": "1", **(data or {})}
        response = self.client.post(url, data=payload, **kwargs)
        assert response.status_code == status, f"POST {url}: {response.status_code} {summary(response)}"
        assert_chinese(response)
        return response

    def upload(self, data: bytes, name: str = "photo.png", status: int = 303, **fields):
        return self.post(
            "/admin/media",
            {"file": (io.BytesIO(data), name), "caption": "", "credit": "", **fields},
            status=status,
            content_type="multipart/form-data",
        )

    def flash(self, response) -> str:
        """The newest message on the page the 303 leads to."""
        assert response.status_code == 303, response.status_code
        shown = messages(self.page(response.location))
        assert shown, f"no message after {response.request.path}"
        return shown[-1]


def summary(response) -> str:
    """What the page says: its messages and field errors, or its main text."""
    if response.status_code in (301, 302, 303):
        return f"→ {response.location}"
    root = html_of(response)
    errors = [text_of(e) for e in find_all(root, "ul", cls="field-errors")]
    main = find_all(root, "main")
    return " | ".join(messages(root) + errors) or (text_of(main[0])[:300] if main else "")


def messages(root) -> list[str]:
    return [text_of(p) for p in find_all(root, "p", cls="message")]


def html_of(response):
    return parse_html(response.get_data(as_text=True))


def field_box(root, name: str):
    (box,) = find_all(root, "div", data_field=name)
    return box


def field_errors(root, name: str) -> list[str]:
    return [text_of(li) for li in field_box(root, name).iter("li")]


def field_value(root, name: str):
    element = next(e for e in field_box(root, name).iter() if e.get("name") == name)
    if element.tag == "textarea":
        return element.text or ""
    if element.tag == "select":
        chosen = [o.get("value") for o in element.iter("option") if o.get("selected") is not None]
        return chosen if element.get("multiple") is not None else (chosen[0] if chosen else None)
    if element.get("type") == "checkbox":
        return element.get("checked") is not None
    return element.get("value")


def read(app, fn):
    with app.app_context():
        return fn(db.session)


def arrange(app, fn):
    with app.app_context():
        result = fn(db.session)
        db.session.commit()
        return result


def records(app) -> list[ModerationAction]:
    def load(session):
        rows = list(session.scalars(select(ModerationAction).order_by(ModerationAction.id)))
        session.expunge_all()
        return rows

    return read(app, load)


def records_of(app, action: str) -> list[int | None]:
    """The targets of the records of one action, oldest first."""
    return [r.target_id for r in records(app) if r.action == action]


def record_count(app) -> int:
    return read(app, lambda s: s.scalar(select(func.count()).select_from(ModerationAction)))


def new_records(app, since: int) -> list[ModerationAction]:
    return records(app)[since:]


def assert_one_record(app, since: int, action: str, target_id: int | None = None) -> ModerationAction:
    rows = new_records(app, since)
    assert [r.action for r in rows] == [action]
    if target_id is not None:
        assert rows[0].target_id == target_id
    assert rows[0].actor_role == "admin"
    return rows[0]


def local_input(moment_utc: datetime, seconds: bool = False) -> str:
    local = moment_utc.replace(tzinfo=UTC).astimezone(LOCAL)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M")


def section_data(**overrides) -> dict:
    data = {
        "name": "文化",
        "slug": "wenhua",
        "parent_id": "",
        "position": "5",
        "description": "文化新聞",
        "layout": "list",
        "auto_close_days": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def article_data(section_id: int, /, **overrides) -> dict:
    data = {
        "title": "動起來 跑起來 干起來",
        "section_id": str(section_id),
        "source": "大眾日報",
        "published_at": local_input(utc_now() - timedelta(hours=1)),
        "reporters": "本報記者 賀瑩瑩 李廣寅",
        "editor": "李太斗",
        "editor_note": "新春走基層。",
        "summary": "各地職工節後返崗。",
        "body_md": "## 濟南\n\n節後第一天，企業開足馬力。",
        "kind": "text",
        "state": "published",
        "comments_state": "open",
        "cover_id": "",
        "player_id": "",
        "gallery_ids": "",
        "related_ids": "",
    }
    data.update(overrides)
    return data


def page_data(**overrides) -> dict:
    data = {"title": "關於我們", "slug": "about", "body_md": "## 本網簡介\n\n聊城新聞網。", "in_footer": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


SETTINGS = {
    "site_name": "聊城新聞網",
    "site_description": "聊城的新聞門戶",
    "footer_copyright": "聊城新聞網 版權所有",
    "footer_licences": "魯ICP備00000000號\n互聯網新聞信息服務許可證 00000000000",
    "report_phone": "0635-8888888",
    "report_email": "jubao@example.cn",
    "comment_min_length": "2",
    "comment_max_length": "500",
    "comment_cooldown_seconds": "15",
    "comment_ip_hourly": "30",
    "quota_new": "5",
    "quota_normal": "20",
    "quota_good": "50",
    "quota_restricted": "3",
    "comment_edit_minutes": "5",
    "report_hide_threshold": "3",
    "retention_days": "190",
    "region_database": "",
    "sms_sender": "portal.domain.sms:ConsoleSender",
    "url_tlds": " ".join(DEFAULT_TLD_LIST),
}


def settings_data(**overrides) -> dict:
    return {**SETTINGS, **overrides}


def word_data(**overrides) -> dict:
    data = {"term": "代購假貨", "categories": ["C14"], "action": "block"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def csv_file(text: str, name: str = "words.csv"):
    return (io.BytesIO(text.encode("utf-8")), name)


def setting(app, key: str) -> str | None:
    return read(app, lambda s: row.value if (row := s.get(SiteSetting, key)) else None)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user(role="admin", nickname="總編輯")


@pytest.fixture
def back(app, client, admin) -> Back:
    login(client, admin.phone, admin.password)
    return Back(app, client)


@pytest.fixture
def reader_client(app):
    """A second browser: an anonymous reader."""
    return app.test_client()


@pytest.fixture
def media_root(app, tmp_path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    app.config["MEDIA_ROOT"] = str(root)
    return root


@pytest.fixture
def tree(app) -> dict[str, int]:
    """要聞 > 聊城, 銳評 beside it; each with a published article. Slug → id."""

    def build(session):
        yaowen = make_section(session, slug="yaowen", name="要聞", position=0)
        liaocheng = make_section(session, slug="liaocheng", name="聊城", parent=yaowen, position=0)
        ruiping = make_section(session, slug="ruiping", name="銳評", position=1)
        make_article(session, liaocheng, title="聊城要聞一則")
        make_article(session, ruiping, title="銳評一則")
        return {s.slug: s.id for s in (yaowen, liaocheng, ruiping)}

    return arrange(app, build)


# --- role checks ---------------------------------------------------------------------------------


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) for every /admin rule, deletes last so the other targets stay."""
    routes = [
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        for method in ("GET", "POST")
        if method in rule.methods
    ]
    assert all(endpoint.startswith("admin.") for _, _, endpoint in routes)
    return sorted(routes, key=lambda r: (r[0], r[2].startswith("admin.delete"), r[1]))


@pytest.fixture
def targets(app, make_user, tree) -> dict:
    reader = make_user(nickname="被提權的讀者")

    def build(session):
        section = session.get(Section, tree["ruiping"])
        article = make_article(session, section, title="目標文章")
        page = Page(slug="about", title="關於我們", body_md="", body_html="")
        word = SensitiveWord(term="代開發票", categories="C14", action="block")
        media = Media(kind="image", path="uploads/walk/unused.jpg", mime="image/jpeg", caption="沒用上的圖")
        session.add_all([page, word, media])
        session.flush()
        return {
            "section_id": section.id,
            "article_id": article.id,
            "page_id": page.id,
            "word_id": word.id,
            "media_id": media.id,
            "user_id": reader.id,
        }

    return arrange(app, build)


def url_of(rule: str, targets: dict) -> str:
    return re.sub(r"<int:(\w+)>", lambda m: str(targets[m.group(1)]), rule)


def plausible_form(endpoint: str, rule: str, targets: dict, tree: dict) -> dict:
    """What an admin would send: each refusal below refuses a request that would succeed."""
    editing = "<int:" in rule
    forms = {
        "admin.section_form": section_data(
            slug="ruiping" if editing else "walk", name="改名" if editing else "新開欄目"
        ),
        "admin.article_form": article_data(tree["ruiping"], title="被改的標題"),
        "admin.upload_media": {"file": (io.BytesIO(picture_bytes("PNG", (64, 32))), "a.png")},
        "admin.page_form": page_data(slug="about" if editing else "new-page", title="被改的頁面"),
        "admin.site_settings": settings_data(site_name="被改的網站"),
        "admin.word_form": word_data(term="代開發票" if editing else "新詞條"),
        "admin.import_words": {"file": csv_file("term,category,action,pinyin\n導入詞,C14,block,no\n")},
        "admin.test_words": {"text": "网上赌博平台"},
        "admin.user_form": {"role": "admin", "can_view_pii": "y"},
        "admin.disable_user": {"note": "離職"},
        "admin.set_password": {"password": "walked-in-2026"},
        "admin.create_staff": {
            "phone": "13811112222",
            "nickname": "新審核員",
            "password": "long-enough-pw",
            "role": "admin",
        },
    }
    return forms.get(endpoint, {})


def snapshot(app, targets: dict) -> dict:
    def take(session):
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (
                ModerationAction,
                Section,
                Article,
                Page,
                SensitiveWord,
                Media,
                User,
                SiteSetting,
                ModeratorScope,
            )
        }
        reader = session.get(User, targets["user_id"])
        return {
            **counts,
            "reader": (reader.role, reader.can_view_pii, reader.session_token),
            "section": session.get(Section, targets["section_id"]).name,
            "article": session.get(Article, targets["article_id"]).title,
            "page": page.title if (page := session.get(Page, targets["page_id"])) else None,
        }

    return read(app, take)


def walk(client, app, targets, tree, token: str | None, headers: dict | None = None):
    for method, rule, endpoint in admin_routes(app):
        url = url_of(rule, targets)
        if method == "GET":
            yield method, url, client.get(url, headers=headers)
        else:
            data = {**plausible_form(endpoint, rule, targets, tree), "confirmed": "1"}  # as portal.js sends
            if token is not None:
                data["csrf_token"] = token
            yield (
                method,
                url,
                client.post(url, data=data, headers=headers, content_type="multipart/form-data"),
            )


def test_the_walk_covers_every_admin_endpoint(app):
    endpoints = {endpoint for _, _, endpoint in admin_routes(app)}
    admin_views = {name for name in app.view_functions if name.startswith("admin.")}
    assert endpoints == admin_views
    assert len(admin_routes(app)) >= 25


def test_anonymous_visitors_are_sent_to_login_and_change_nothing(app, client, targets, tree):
    before = snapshot(app, targets)
    token = token_for(client, "/accounts/login")
    for method, url, response in walk(client, app, targets, tree, token):
        assert response.status_code == 302, f"{method} {url}: {response.status_code}"
        assert response.location.split("?")[0].endswith(LOGIN_PATH), f"{method} {url}: {response.location}"
    assert snapshot(app, targets) == before


def test_anonymous_htmx_requests_get_401_with_a_login_redirect(app, client, targets, tree):
    token = token_for(client, "/accounts/login")
    for method, url, response in walk(client, app, targets, tree, token, headers=HX):
        assert response.status_code == 401, f"{method} {url}: {response.status_code}"
        assert LOGIN_PATH in response.headers["HX-Redirect"]


@pytest.mark.parametrize("role", ["reader", "moderator"])
def test_readers_and_moderators_are_refused_with_403_and_change_nothing(
    app, client, make_user, targets, tree, role
):
    person = make_user(role=role)
    login(client, person.phone, person.password)
    token = token_for(client, "/")
    before = snapshot(app, targets)
    for method, url, response in walk(client, app, targets, tree, token):
        assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"
        assert "您沒有權限進行此操作。" in response.get_data(as_text=True)
    assert snapshot(app, targets) == before


def test_destructive_buttons_ask_first_without_javascript(app, back, targets, media_root):
    """With JavaScript, portal.js asks data-confirm's question; without it, the button acted at once:
    a picture and its files, a section, a page, a word gone, an account closed, on one click."""
    empty = arrange(app, lambda s: make_section(s, slug="empty-one", name="空欄目").id)
    user = targets["user_id"]
    cases = [
        (f"/admin/sections/{empty}/delete", {}, "確定刪除欄目「空欄目」？", "/admin/sections"),
        (f"/admin/pages/{targets['page_id']}/delete", {}, "確定刪除頁面「關於我們」？", "/admin/pages"),
        (f"/admin/words/{targets['word_id']}/delete", {}, "確定刪除詞條「代開發票」？", "/admin/words"),
        (
            f"/admin/media/{targets['media_id']}/delete",
            {},
            f"確定刪除媒體 #{targets['media_id']}？文件將一併刪除。",
            "/admin/media",
        ),
        (
            f"/admin/users/{user}/disable",
            {"note": "發布廣告"},
            "確定停用 被提權的讀者 的賬號？其所有登錄將立即退出。",
            f"/admin/users/{user}",
        ),
        (
            f"/admin/users/{user}/password-reset",
            {},
            "確定讓 被提權的讀者 的密碼失效？其需用「忘記密碼」重新設置。",
            f"/admin/users/{user}",
        ),
    ]
    before = snapshot(app, targets)
    sections_before = read(app, lambda s: s.scalar(select(func.count()).select_from(Section)))
    for url, data, question, back_to in cases:
        page = html_of(back.post(url, {**data, "confirmed": ""}, status=200))
        assert text_of(find_one(page, "p", id="confirm-question")) == question
        form = find_one(page, "form", id="confirm-form")
        assert form.get("action") == url
        sent = {i.get("name"): i.get("value") for i in find_all(form, "input")}
        assert sent == {"csrf_token": back.token, "confirmed": "1", **data}  # the note typed goes along
        assert find_one(form, "a").get("href") == back_to  # 取消
        assert snapshot(app, targets) == before, url
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(Section))) == sections_before
    for url, data, _, _ in cases:  # 確定: the form as the page sends it
        back.post(url, {**data, "confirmed": "1"})
    after = snapshot(app, targets)
    assert (after["Section"], after["Page"], after["SensitiveWord"], after["Media"]) == (
        before["Section"] - 1,
        before["Page"] - 1,
        before["SensitiveWord"] - 1,
        before["Media"] - 1,
    )
    assert records_of(app, "admin.account_disabled") == [user]
    assert records_of(app, "admin.password_reset_forced") == [user]


def test_admins_may_use_every_endpoint(app, back, targets, tree, media_root):
    for method, url, response in walk(back.client, app, targets, tree, back.token):
        expected = 200 if method == "GET" or url.endswith("/words/test") else 303
        assert response.status_code == expected, f"{method} {url}: {summary(response)}"
        assert not (response.location or "").split("?")[0].endswith(LOGIN_PATH)
        assert_chinese(response)
    # The very requests refused to the others did their work for an admin.
    after = snapshot(app, targets)
    assert after["reader"][:2] == ("admin", True)
    assert records_of(app, "admin.account_disabled") == records_of(app, "admin.account_enabled")
    assert records_of(app, "admin.password_set") == records_of(app, "admin.password_reset_forced")
    assert records_of(app, "admin.password_set") == [targets["user_id"]]
    assert (after["section"], after["article"]) == ("改名", "被改的標題")
    assert after["page"] is None  # edited, then deleted: deletes come last
    assert targets["page_id"] in records_of(app, "admin.page_saved")
    assert records_of(app, "admin.page_deleted") == [targets["page_id"]]
    assert section_row(app, "walk") is not None
    assert after["Media"] == 1  # one uploaded, the unused one deleted
    assert records_of(app, "admin.media_deleted") == [targets["media_id"]]
    assert after["ModerationAction"] >= 10


def test_every_admin_post_needs_the_csrf_token(app, back, targets, tree, media_root):
    before = snapshot(app, targets)
    posts = [(m, u, r) for m, u, r in walk(back.client, app, targets, tree, token=None) if m == "POST"]
    assert len(posts) >= 12
    for _, url, response in posts:
        assert response.status_code == 400, f"{url}: {response.status_code}"
        assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert snapshot(app, targets) == before
    assert not any(media_root.rglob("*.jpg"))


def test_a_wrong_token_is_refused_too(app, back, targets):
    back.post("/admin/sections/new", section_data(csrf_token="forged"), status=400)
    assert record_count(app) == 0


# --- sections ------------------------------------------------------------------------------------


def section_row(app, slug: str) -> Section | None:
    def load(session):
        row = session.scalar(select(Section).where(Section.slug == slug))
        if row is not None:
            session.expunge(row)
        return row

    return read(app, load)


def section_bar(client) -> list[str]:
    return [text_of(a) for a in find_all(html_of(client.get("/")), "nav", cls="section-bar")[0].iter("a")]


def test_create_a_section_and_see_it_in_the_tree_and_on_the_site(app, back, reader_client, tree):
    since = record_count(app)
    response = back.post("/admin/sections/new", section_data(description="文化與生活", layout="list"))
    assert response.location.endswith("/admin/sections")
    assert back.flash(response) == "欄目「文化」已保存"
    saved = section_row(app, "wenhua")
    assert (saved.name, saved.position, saved.description) == ("文化", 5, "文化與生活")
    assert_one_record(app, since, "admin.section_saved", saved.id)
    listed = back.page("/admin/sections")
    assert find_all(listed, "li", data_section="wenhua")
    assert reader_client.get("/sections/wenhua").status_code == 200
    assert "文化" in section_bar(reader_client)


def test_rename_reorder_and_move_a_section(app, back, reader_client, tree):
    url = f"/admin/sections/{tree['ruiping']}"
    form = back.page(url)
    assert field_value(form, "name") == "銳評"
    assert field_value(form, "slug") == "ruiping"
    since = record_count(app)
    back.post(url, section_data(name="銳評論", slug="ruiping", position="0", parent_id=str(tree["yaowen"])))
    moved = section_row(app, "ruiping")
    assert (moved.name, moved.position, moved.parent_id) == ("銳評論", 0, tree["yaowen"])
    row = assert_one_record(app, since, "admin.section_saved", tree["ruiping"])
    assert json.loads(row.before)["name"] == "銳評"
    assert json.loads(row.after)["parent_id"] == tree["yaowen"]
    # Readers find it under 要聞 now: in the breadcrumb and no longer in the bar.
    page = html_of(reader_client.get("/sections/ruiping"))
    assert [text_of(a) for a in find_all(page, "nav", cls="breadcrumb")[0].iter("a")][:2] == ["首頁", "要聞"]
    assert section_bar(reader_client) == ["要聞"]


def test_reordering_changes_the_section_bar(app, back, reader_client, tree):
    back.post(f"/admin/sections/{tree['ruiping']}", section_data(name="銳評", slug="ruiping", position="0"))
    back.post(f"/admin/sections/{tree['yaowen']}", section_data(name="要聞", slug="yaowen", position="9"))
    assert section_bar(reader_client) == ["銳評", "要聞"]


def test_a_duplicate_slug_is_a_field_error_and_keeps_what_was_typed(app, back, tree):
    since = record_count(app)
    response = back.post("/admin/sections/new", section_data(name="又一個要聞", slug="yaowen"), status=422)
    form = html_of(response)
    assert field_errors(form, "slug") == ["這個網址代號已被其他欄目使用"]
    assert field_value(form, "name") == "又一個要聞"
    assert field_value(form, "slug") == "yaowen"
    assert field_value(form, "description") == "文化新聞"
    assert field_box(form, "slug").find(".//input").get("aria-invalid") == "true"
    assert record_count(app) == since


def test_a_section_cannot_move_under_its_own_child(app, back, tree):
    response = back.post(
        f"/admin/sections/{tree['yaowen']}",
        section_data(name="要聞", slug="yaowen", parent_id=str(tree["liaocheng"])),
        status=422,
    )
    assert field_errors(html_of(response), "parent_id") == ["不能把欄目移到它自己或它的子欄目之下"]
    assert section_row(app, "yaowen").parent_id is None
    # Nor under itself, though the form does not offer it.
    response = back.post(
        f"/admin/sections/{tree['yaowen']}",
        section_data(name="要聞", slug="yaowen", parent_id=str(tree["yaowen"])),
        status=422,
    )
    assert field_errors(html_of(response), "parent_id") == ["不能把欄目移到它自己或它的子欄目之下"]


def test_an_editor_in_simplified_sees_and_saves_the_article_as_written(app, back, tree):
    """With 简体 on, the article form came back converted (title, body, every field): saving it
    unchanged turned the stored Traditional article into Simplified."""
    back.post("/admin/articles/new", article_data(tree["yaowen"], title="聊城東昌湖畔晨練"))
    article_id = read(app, lambda s: s.scalar(select(Article.id).where(Article.title == "聊城東昌湖畔晨練")))
    back.client.get("/script/hans?next=/admin/")
    form = back.page(f"/admin/articles/{article_id}")
    assert field_value(form, "title") == "聊城東昌湖畔晨練"
    assert field_value(form, "body_md").strip() == article_data(0)["body_md"]
    assert text_of(find_all(form, "h1")[0]).startswith("编辑")  # the interface is converted
    fields = {name: field_value(form, name) for name in ("title", "source", "reporters", "body_md")}
    back.post(f"/admin/articles/{article_id}", {**article_data(tree["yaowen"]), **fields, "edit_stamp": ""})
    assert read(app, lambda s: s.get(Article, article_id).title) == "聊城東昌湖畔晨練"


def test_the_parent_choices_leave_out_the_section_itself(back, tree):
    form = back.page(f"/admin/sections/{tree['yaowen']}")
    values = [o.get("value") for o in field_box(form, "parent_id").iter("option")]
    assert str(tree["yaowen"]) not in values
    assert str(tree["ruiping"]) in values
    assert field_value(form, "parent_id") == ""


def test_section_choices_follow_the_tree_and_name_each_by_its_path(app, back, tree, make_user):
    """Ordered by depth, a choice listed 聊城, then 東昌府 (under 聊城) after 時評 (under 銳評):
    nobody could tell where a child belonged. Every section choice is now its path, under its parent."""

    def build(session):
        ruiping, liaocheng = session.get(Section, tree["ruiping"]), session.get(Section, tree["liaocheng"])
        shiping = make_section(session, slug="shiping", name="時評", parent=ruiping, position=0)
        dongchang = make_section(session, slug="dongchang", name="東昌府", parent=liaocheng, position=1)
        return shiping.id, dongchang.id

    shiping, dongchang = arrange(app, build)
    moderator_id = make_user(nickname="欄目審核員").id
    expected = [
        (str(tree["yaowen"]), "要聞"),
        (str(tree["liaocheng"]), "要聞 › 聊城"),
        (str(dongchang), "要聞 › 聊城 › 東昌府"),
        (str(tree["ruiping"]), "銳評"),
        (str(shiping), "銳評 › 時評"),
    ]

    def options(root, name: str) -> list[tuple[str, str]]:
        (select_box,) = find_all(root, "select", name=name)
        return [(o.get("value"), text_of(o)) for o in select_box.iter("option") if o.get("value")]

    assert options(back.page("/admin/articles/new"), "section_id") == expected
    assert options(back.page("/admin/sections/new"), "parent_id") == expected
    # Moving 聊城: neither itself nor what is under it is a place to go.
    assert options(back.page(f"/admin/sections/{tree['liaocheng']}"), "parent_id") == [
        expected[0],
        *expected[3:],
    ]
    assert options(back.page(f"/admin/users/{moderator_id}"), "sections") == expected
    assert options(back.page("/admin/articles"), "section") == expected


def test_the_section_form_has_no_pre_review_box_and_says_every_comment_is_reviewed(app, back, tree):
    """評論先審後發 was a box that did nothing: every comment waits for a moderator (P21) whatever it
    said. It is gone; the form says how comments are handled instead."""
    for url in ("/admin/sections/new", f"/admin/sections/{tree['ruiping']}"):
        page = back.page(url)
        assert find_all(page, "input", name="pre_review") == [], url
        assert "先審後發" in text_of(find_one(page, "p", id="pre-review-note")), url


def test_a_crafted_pre_review_changes_nothing_and_the_record_does_not_mention_it(app, back, tree):
    data = section_data(name="銳評", slug="ruiping")
    back.post(f"/admin/sections/{tree['ruiping']}", {**data, "pre_review": ""})
    back.post(
        f"/admin/sections/{tree['liaocheng']}",
        section_data(name="聊城", slug="liaocheng", parent_id=str(tree["yaowen"])),
    )
    assert section_row(app, "ruiping").pre_review is True
    with app.app_context():
        afters = db.session.scalars(
            select(ModerationAction.after).where(ModerationAction.action == "admin.section_saved")
        ).all()
    assert len(afters) == 2 and all("pre_review" not in json.loads(after) for after in afters)


def test_yaowens_slug_cannot_be_renamed(app, back, tree):
    response = back.post(
        f"/admin/sections/{tree['yaowen']}", section_data(name="要聞", slug="yaowen-new"), status=422
    )
    assert field_errors(html_of(response), "slug") == ["要聞欄目的網址代號不能修改：首頁頭條以它為準"]
    assert section_row(app, "yaowen") is not None and record_count(app) == 0


SECTION_REFUSALS = [
    ("name", "", "請填寫名稱"),
    ("slug", "", "請填寫網址代號"),
    ("slug", "Wen Hua", "只能用小寫英文字母、數字和連字號"),
    ("slug", "文化", "只能用小寫英文字母、數字和連字號"),
    ("position", "abc", "排序須填寫整數。"),
    ("position", "-1", "排序須介於0至1000之間。"),
    ("auto_close_days", "0", "發布多少天後自動關閉評論須介於1至3650之間。"),
    ("auto_close_days", "3651", "發布多少天後自動關閉評論須介於1至3650之間。"),
    ("name", "名" * 33, "名稱不能超過32個字。"),
    ("layout", "grid", "請選擇有效的版式。"),
    ("parent_id", "987654", "上級欄目不存在"),
]


def check_cases(cases, check) -> None:
    """Runs every case, then reports every one that failed (one test, one app: fast)."""
    problems = []
    for case in cases:
        try:
            check(*case)
        except AssertionError as error:
            label = " ".join(str(part)[:40] for part in case if not isinstance(part, dict))
            problems.append(f"{label}: {str(error).splitlines()[0]}")
    assert not problems, "\n".join(problems)


def test_invalid_section_fields_get_messages_beside_them_in_chinese(app, back, tree):
    def check(field, value, message):
        form = html_of(back.post("/admin/sections/new", section_data(**{field: value}), status=422))
        errors = field_errors(form, field)
        assert message in errors, errors
        if field not in ("parent_id", "layout"):
            assert field_value(form, field) == value
        assert field_value(form, "description") == "文化新聞"
        assert field_box(form, field).find(".//*[@aria-invalid]") is not None

    check_cases(SECTION_REFUSALS, check)
    assert section_row(app, "wenhua") is None
    assert record_count(app) == 0


def test_the_slug_box_takes_as_many_characters_as_the_server_accepts(app, back, tree):
    # The box let a 64th character be typed that the server then refused (網址代號不能超過63個字).
    box = find_one(back.page("/admin/sections/new"), "input", name="slug")
    longest = "a" * int(box.get("maxlength"))
    back.post("/admin/sections/new", section_data(slug=longest))
    assert section_row(app, longest) is not None


def test_a_section_with_articles_cannot_be_deleted(app, back, tree):
    since = record_count(app)
    response = back.post(f"/admin/sections/{tree['ruiping']}/delete")
    assert back.flash(response) == "欄目中還有文章，不能刪除，只能隱藏"
    assert section_row(app, "ruiping") is not None
    assert record_count(app) == since


@pytest.mark.parametrize("blank", ["\u200b", " \u200d\u2060 ", "\u202e", "\u3164"])
def test_a_title_or_name_of_only_invisible_characters_is_refused_and_kept(app, back, tree, blank):
    """A zero-width space, a word joiner, a direction mark or a blank letter as a title made an
    article, page or section (and a link in the menu) that shows nothing to click or read."""
    since = record_count(app)
    for url, data, field, message in (
        ("/admin/sections/new", section_data(name=blank), "name", "請填寫名稱"),
        ("/admin/articles/new", article_data(tree["yaowen"], title=blank), "title", "請填寫標題"),
        ("/admin/pages/new", page_data(title=blank), "title", "請填寫標題"),
    ):
        form = html_of(back.post(url, data, status=422))
        assert field_errors(form, field) == [message], url
        assert field_value(form, field) == blank.strip(), url
    assert record_count(app) == since


def test_an_empty_section_is_deleted(app, back, tree):
    back.post("/admin/sections/new", section_data())
    section_id = section_row(app, "wenhua").id
    listed = back.page("/admin/sections")
    (item,) = find_all(listed, "li", data_section="wenhua")
    assert find_all(item, "form")  # the button shows only for empty sections
    (ruiping,) = find_all(listed, "li", data_section="ruiping")
    assert not [f for f in find_all(ruiping, "form") if "/delete" in f.get("action")]
    since = record_count(app)
    response = back.post(f"/admin/sections/{section_id}/delete")
    assert back.flash(response) == "欄目已刪除"
    assert section_row(app, "wenhua") is None
    assert_one_record(app, since, "admin.section_deleted", section_id)


def test_a_hidden_section_and_its_articles_disappear_from_readers(app, back, reader_client, tree):
    article_id = read(app, lambda s: s.scalar(select(Article.id).where(Article.title == "聊城要聞一則")))
    assert reader_client.get(f"/articles/{article_id}").status_code == 200
    back.post(f"/admin/sections/{tree['yaowen']}", section_data(name="要聞", slug="yaowen", hidden="y"))
    assert section_row(app, "yaowen").hidden is True
    assert section_bar(reader_client) == ["銳評"]
    assert "聊城要聞一則" not in reader_client.get("/").get_data(as_text=True)
    for url in (
        "/sections/yaowen",
        "/sections/liaocheng",
        f"/articles/{article_id}",
        "/sections/yaowen/feed.atom",
        f"/articles/{article_id}/comments",
        f"/articles/{article_id}/comment-form",
    ):
        response = reader_client.get(url)
        assert response.status_code == 404, url
    # Nor is it found by search or listed in the sitemap, both of which would link to a 404.
    assert f"/articles/{article_id}" not in reader_client.get("/search?q=聊城要聞一則").get_data(as_text=True)
    assert f"/articles/{article_id}<" not in reader_client.get("/sitemap.xml").get_data(as_text=True)
    # The newsroom still sees it, marked.
    (item,) = find_all(back.page("/admin/sections"), "li", data_section="yaowen")
    assert "已隱藏" in text_of(item)


def test_unknown_section_ids_are_404(back):
    back.get("/admin/sections/987654", status=404)
    back.post("/admin/sections/987654", section_data(), status=404)
    back.post("/admin/sections/987654/delete", status=404)


@pytest.mark.parametrize("kind", ["sections", "articles", "pages", "words"])
def test_id_zero_is_404_not_the_new_form(app, back, kind):
    # /admin/sections/0 opened the 新增 form (0 read as no id), and posting it created a section.
    back.get(f"/admin/{kind}/0", status=404)
    before = record_count(app)
    back.post(f"/admin/{kind}/0", section_data() if kind == "sections" else {"title": "x"}, status=404)
    assert record_count(app) == before


# --- articles: the list ------------------------------------------------------------------------


def listed_ids(root) -> list[int]:
    return [int(tr.get("data-article-id")) for tr in find_all(root, "tr", data_article_id=None)]


@pytest.fixture
def many_articles(app, tree) -> dict:
    """55 published articles in 銳評, one per hour, and a draft in 聊城 yesterday at local noon."""

    def build(session):
        ruiping, liaocheng = session.get(Section, tree["ruiping"]), session.get(Section, tree["liaocheng"])
        now = utc_now().replace(microsecond=0)
        ids = [
            make_article(
                session, ruiping, title=f"銳評第{n}篇", published_at=now - timedelta(days=2, hours=n)
            ).id
            for n in range(55)
        ]
        yesterday_noon = (now.replace(tzinfo=UTC).astimezone(LOCAL) - timedelta(days=1)).replace(
            hour=12, minute=0, second=0
        )
        draft = make_article(
            session,
            liaocheng,
            title="草稿：聊城水城",
            state="draft",
            published_at=yesterday_noon.astimezone(UTC).replace(tzinfo=None),
        )
        return {"ruiping": ids, "draft": draft.id, "draft_day": yesterday_noon.date()}

    return arrange(app, build)


def test_article_list_pages_with_keyset_next_links(back, many_articles):
    first = back.page("/admin/articles")
    ids = listed_ids(first)
    assert len(ids) == 50
    (next_link,) = find_all(first, "a", rel="next")
    assert text_of(next_link) == "下一頁"
    assert "after=" in next_link.get("href")
    second = back.page(next_link.get("href"))
    more = listed_ids(second)
    assert not set(ids) & set(more)
    assert len(ids) + len(more) == 58  # 55 + the draft + one per section from the tree
    assert not find_all(second, "a", rel="next")


def test_article_list_searches_titles(back, many_articles):
    assert listed_ids(back.page("/admin/articles?q=水城")) == [many_articles["draft"]]
    assert len(listed_ids(back.page("/admin/articles?q=銳評第1"))) == 11  # 1, 10–19


def test_article_list_filters_by_section_and_state(back, many_articles, tree):
    assert listed_ids(back.page(f"/admin/articles?section={tree['liaocheng']}&state=draft")) == [
        many_articles["draft"]
    ]
    published = back.page(f"/admin/articles?section={tree['liaocheng']}&state=published")
    assert many_articles["draft"] not in listed_ids(published)
    assert len(listed_ids(published)) == 1
    rows = find_all(back.page("/admin/articles?state=draft"), "tr", data_article_id=None)
    assert [text_of(tr.findall("td")[4]) for tr in rows] == ["草稿"]


def test_article_list_filters_by_local_date(back, many_articles):
    day = many_articles["draft_day"].isoformat()
    after = (many_articles["draft_day"] + timedelta(days=1)).isoformat()
    assert many_articles["draft"] in listed_ids(back.page(f"/admin/articles?since={day}&until={after}"))
    assert many_articles["draft"] not in listed_ids(back.page(f"/admin/articles?since={after}"))


def test_article_list_until_includes_the_day_chosen(back, many_articles):
    # 從 D 到 D is the day D: a date picker's "to" is inclusive.
    day = many_articles["draft_day"].isoformat()
    assert many_articles["draft"] in listed_ids(back.page(f"/admin/articles?since={day}&until={day}"))


def test_a_bad_date_in_the_article_list_is_said_beside_it_kept_and_not_applied(back, many_articles):
    page = back.page("/admin/articles?since=garbage&until=0001-01-01&state=draft", status=422)
    assert date_filter(page, "since") == (
        "garbage",
        "filter-since-errors",
        ["「從」的日期「garbage」無效，請按「年-月-日」填寫，例如 2026-01-31；此條件未套用"],
    )
    assert date_filter(page, "until") == (
        "0001-01-01",
        "filter-until-errors",
        ["「到」的日期「0001-01-01」超出範圍，應在 1900-01-01 至 9998-12-31 之間；此條件未套用"],
    )
    assert listed_ids(page) == [many_articles["draft"]]  # the other filters still hold
    page = back.page("/admin/articles?until=2026-13-40", status=422)
    assert date_filter(page, "until")[2] == [
        "「到」的日期「2026-13-40」無效，請按「年-月-日」填寫，例如 2026-01-31；此條件未套用"
    ]
    assert len(listed_ids(page)) == 50


def test_a_reversed_date_range_in_the_article_list_is_said_and_both_dates_kept(back, many_articles):
    day = many_articles["draft_day"]
    later = (day + timedelta(days=3)).isoformat()
    page = back.page(f"/admin/articles?since={later}&until={day}&state=draft", status=422)
    assert date_filter(page, "since") == (later, "", [])
    assert date_filter(page, "until") == (
        day.isoformat(),
        "filter-until-errors",
        [f"「從」的日期（{later}）晚於「到」的日期（{day}），請修改；日期條件未套用"],
    )
    assert listed_ids(page) == [many_articles["draft"]]  # neither date applied
    fine = back.page(f"/admin/articles?since={day}&until={day}")
    assert date_filter(fine, "since") == (day.isoformat(), "", [])
    assert not find_all(fine, "ul", cls="field-errors")


def test_article_list_survives_odd_queries(back, many_articles):
    for query in (
        "section=abc&state=nonsense",
        "after=garbage",
    ):
        assert len(listed_ids(back.page(f"/admin/articles?{query}"))) == 50, query
    # % and _ are searched for as typed, not as wildcards: no title holds them.
    for query in ("q=" + "%25" * 60, "q=_"):
        assert listed_ids(back.page(f"/admin/articles?{query}")) == [], query


# --- articles: the form --------------------------------------------------------------------------


def saved_article(app, title: str) -> Article:
    def load(session):
        row = session.scalar(select(Article).where(Article.title == title))
        assert row is not None, title
        session.expunge(row)
        return row

    return read(app, load)


def create_article(back, section_id: int, **overrides) -> int:
    response = back.post("/admin/articles/new", article_data(section_id, **overrides))
    found = re.search(r"/admin/articles/(\d+)$", response.location)
    assert found, response.location
    return int(found.group(1))


SEED_BODY = """## 濟南

### 比亞迪弗迪電池<br>開足馬力

節後第一天，企業開足馬力，見[大眾網報道](https://www.dzwww.com/shandong/)。

<figure><img src="/media/demo/a.jpg" alt="生產線"><figcaption>生產線上的工人</figcaption></figure>

## 威海

各地職工陸續返崗。
"""


def test_create_an_article_with_every_part_of_the_seed(app, back, reader_client, tree, media_root):
    back.upload(
        picture_bytes("JPEG", (1200, 600)), "cover.jpg", caption="工人在生產線上", credit="□本報記者 某某 攝"
    )
    cover_id = read(app, lambda s: s.scalar(select(Media.id)))
    since = record_count(app)
    published_local = (datetime.now(LOCAL) - timedelta(days=1)).replace(
        hour=19, minute=41, second=0, microsecond=0
    )
    article_id = create_article(
        back,
        tree["liaocheng"],
        published_at=published_local.strftime("%Y-%m-%dT%H:%M"),
        body_md=SEED_BODY,
        cover_id=str(cover_id),
    )
    assert_one_record(app, since, "admin.article_saved", article_id)
    stored = saved_article(app, "動起來 跑起來 干起來")
    assert stored.published_at == published_local.astimezone(UTC).replace(tzinfo=None)

    page = html_of(reader_client.get(f"/articles/{article_id}"))
    part = lambda name: find_all(page, "*", data_part=name)[0]  # noqa: E731
    assert text_of(part("title")) == "動起來 跑起來 干起來"
    assert text_of(part("source")) == f"來源:大眾日報 {published_local:%Y-%m-%d %H:%M:%S}"
    assert text_of(part("byline")) == "□ 本報記者 賀瑩瑩 李廣寅"
    assert text_of(part("editor")) == "編輯:李太斗"
    assert "新春走基層。" in text_of(part("editor-note"))
    body = part("body")
    assert [text_of(h) for h in body.iter("h2")] == ["濟南", "威海"]
    assert [h.find("br") is not None for h in body.iter("h3")] == [True]
    (link,) = body.iter("a")
    assert (link.get("href"), link.get("rel")) == ("https://www.dzwww.com/shandong/", "nofollow noopener")
    (figure,) = body.iter("figure")
    assert text_of(figure.find("figcaption")) == "生產線上的工人"
    cover = part("picture")
    assert cover.find(".//img").get("src").endswith(".jpg")
    assert "工人在生產線上" in text_of(cover.find(".//figcaption"))
    assert "□本報記者 某某 攝" in text_of(cover.find(".//figcaption"))
    # The edit form shows the time as it was typed: local, not UTC.
    form = back.page(f"/admin/articles/{article_id}")
    assert field_value(form, "published_at") == published_local.strftime("%Y-%m-%dT%H:%M")
    assert field_value(form, "cover_id") == str(cover_id)
    assert field_value(form, "body_md").strip() == SEED_BODY.strip()
    (row,) = find_all(back.page("/admin/articles"), "tr", data_article_id=str(article_id))
    assert text_of(row.findall("td")[3]) == published_local.strftime("%Y-%m-%d %H:%M")


HOSTILE_BODY = """正文開頭。

<script>alert("body")</script>

<img src=x onerror=alert(1)>

<a href="javascript:alert(2)">點我</a> <a href="https://example.cn/" onclick="alert(3)" style="color:red">外鏈</a>

<svg><style><img src=x onerror=alert(4)></style></svg>

<div hx-get="/admin" hx-trigger="load">載入</div>

<iframe src="https://example.cn/"></iframe>
"""


def test_script_and_event_handlers_in_the_body_never_reach_the_page(app, back, reader_client, tree):
    article_id = create_article(back, tree["ruiping"], body_md=HOSTILE_BODY)
    for client, url in (
        (reader_client, f"/articles/{article_id}"),
        (back.client, f"/admin/articles/{article_id}/preview"),
    ):
        page = html_of(client.get(url))
        body = find_all(page, "*", data_part="body")[0]
        for element in list(body.iter())[1:]:
            assert element.tag not in ("script", "svg", "style", "iframe", "div"), element.tag
            for name, value in element.attrib.items():
                assert not name.startswith(("on", "hx-", "data-hx", "style")), name
                assert "javascript:" not in value
        assert "正文開頭。" in text_of(body)
    # What was typed stays editable as typed.
    assert field_value(back.page(f"/admin/articles/{article_id}"), "body_md").strip() == HOSTILE_BODY.strip()


def related_titles(client, article_id: int) -> list[str]:
    page = html_of(client.get(f"/articles/{article_id}"))
    return [text_of(a) for a in find_all(page, "section", data_part="related")[0].iter("a")]


def test_related_override_lists_the_chosen_articles_first(app, back, reader_client, tree):
    def build(session):
        ruiping, liaocheng = session.get(Section, tree["ruiping"]), session.get(Section, tree["liaocheng"])
        own = [make_article(session, ruiping, title=f"同欄目{n}") for n in range(3)]
        other = make_article(session, liaocheng, title="別欄目的好文")
        draft = make_article(session, liaocheng, title="未發布的稿", state="draft")
        return [a.id for a in own], other.id, draft.id

    own, other, draft = arrange(app, build)
    article_id = create_article(back, tree["ruiping"], related_ids=f"{other}，{draft}, {own[2]}")
    titles = related_titles(reader_client, article_id)
    assert titles[:2] == ["別欄目的好文", "同欄目2"]  # in the chosen order; the draft is left out
    assert "未發布的稿" not in titles
    assert len(titles) == 5  # then the section's newest
    # Cleared: the section's newest only.
    back.post(f"/admin/articles/{article_id}", article_data(tree["ruiping"], related_ids=""))
    assert "別欄目的好文" not in related_titles(reader_client, article_id)


def test_comment_state_controls_the_comment_region(app, back, reader_client, tree):
    for state, shows in (("open", "comment-login-prompt"), ("closed", "comments-closed"), ("hidden", None)):
        article_id = create_article(back, tree["ruiping"], comments_state=state, title=f"評論{state}")
        page = html_of(reader_client.get(f"/articles/{article_id}"))
        region = find_all(page, "section", id="comments")
        if shows is None:
            assert region == [], state
        else:
            assert find_all(region[0], "p", cls=shows), state
        assert field_value(back.page(f"/admin/articles/{article_id}"), "comments_state") == state


def test_a_draft_is_not_public_but_the_preview_shows_it(app, back, reader_client, tree):
    article_id = create_article(back, tree["ruiping"], state="draft", title="尚未發布的稿件")
    response = reader_client.get(f"/articles/{article_id}")
    assert response.status_code == 404
    assert NOT_FOUND in response.get_data(as_text=True)
    assert "尚未發布的稿件" not in reader_client.get("/sections/ruiping").get_data(as_text=True)
    preview = back.get(f"/admin/articles/{article_id}/preview")
    assert preview.headers["X-Robots-Tag"] == "noindex"
    page = html_of(preview)
    assert text_of(find_all(page, "h1", data_part="title")[0]) == "尚未發布的稿件"
    assert "草稿，尚未公開" in text_of(find_all(page, "p", cls="preview-banner")[0])
    # Readers cannot reach the preview.
    assert reader_client.get(f"/admin/articles/{article_id}/preview").status_code == 302


def test_a_future_publication_time_is_not_public_until_then(app, back, reader_client, tree, monkeypatch):
    soon = utc_now().replace(microsecond=0) + timedelta(minutes=1)
    article_id = create_article(
        back, tree["ruiping"], title="定時稿", published_at=local_input(soon, seconds=True)
    )
    assert saved_article(app, "定時稿").published_at == soon
    assert reader_client.get(f"/articles/{article_id}").status_code == 404
    assert "定時稿" not in reader_client.get("/sections/ruiping").get_data(as_text=True)
    (row,) = find_all(back.page("/admin/articles"), "tr", data_article_id=str(article_id))
    assert text_of(row.findall("td")[4]) == "定時發布"
    # A little past its time, it is public (the clock moves, nothing else; the page cache's too).
    for module in (reader_views, portal.page_cache):
        monkeypatch.setattr(module, "utc_now", lambda: soon + timedelta(seconds=1))
    assert reader_client.get(f"/articles/{article_id}").status_code == 200
    assert "定時稿" in reader_client.get("/sections/ruiping").get_data(as_text=True)


def test_a_publication_time_a_minute_ago_is_public_at_once(app, back, reader_client, tree):
    moment = utc_now().replace(microsecond=0) - timedelta(minutes=1)
    article_id = create_article(
        back, tree["ruiping"], title="剛發布", published_at=local_input(moment, seconds=True)
    )
    assert reader_client.get(f"/articles/{article_id}").status_code == 200


def test_editing_an_article_keeps_its_id_and_records_before_and_after(app, back, tree):
    article_id = create_article(back, tree["ruiping"])
    since = record_count(app)
    response = back.post(f"/admin/articles/{article_id}", article_data(tree["ruiping"], title="改過的標題"))
    assert back.flash(response) == "文章「改過的標題」已保存"
    row = assert_one_record(app, since, "admin.article_saved", article_id)
    assert (json.loads(row.before)["title"], json.loads(row.after)["title"]) == (
        "動起來 跑起來 干起來",
        "改過的標題",
    )
    assert (
        read(
            app, lambda s: s.scalar(select(func.count()).select_from(Article).where(Article.id == article_id))
        )
        == 1
    )


ARTICLE_REFUSALS = [
    ("title", "", "請填寫標題"),
    ("title", "題" * 201, "標題不能超過200個字。"),
    ("published_at", "", "請填寫發布時間"),
    ("section_id", "987654", "請選擇欄目"),
    ("cover_id", "987654", "所選的媒體不存在或類型不符"),
    ("related_ids", "12,abc", "請填寫以逗號分隔的數字編號"),
    ("related_ids", "987654", "相關文章 987654 不存在"),
    ("gallery_ids", "1;2", "請填寫以逗號分隔的數字編號"),
    ("kind", "podcast", "請選擇有效的文章類型。"),
    ("state", "live", "請選擇有效的發布狀態。"),
    ("comments_state", "maybe", "請選擇有效的評論狀態。"),
    ("player_id", "", "視頻或音頻文章需選擇播放的媒體"),
]


def test_invalid_article_fields_get_messages_and_keep_the_text(app, back, tree):
    def check(field, value, message):
        data = {**article_data(tree["ruiping"], body_md="## 保留\n\n我打的字還在。"), field: value}
        if field == "player_id":
            data["kind"] = "video"
        form = html_of(back.post("/admin/articles/new", data, status=422))
        errors = field_errors(form, field)
        assert any(message in error for error in errors), errors
        assert field_value(form, "body_md").strip() == "## 保留\n\n我打的字還在。"
        if field != "title":
            assert field_value(form, "title") == "動起來 跑起來 干起來"
        assert field_value(form, "reporters") == "本報記者 賀瑩瑩 李廣寅"

    check_cases(ARTICLE_REFUSALS, check)
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(Article))) == 2
    assert record_count(app) == 0


def test_a_long_body_saves_one_over_the_limit_is_a_message_and_one_past_the_request_cap_is_413(
    app, back, tree
):
    # 20,000 Chinese characters are 180 KB once percent-encoded: far past the 64 KiB of other forms.
    back.post("/admin/articles/new", article_data(tree["ruiping"], body_md="字" * 20_000))
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(Article))) == 3
    form = html_of(
        back.post("/admin/articles/new", article_data(tree["ruiping"], body_md="字" * 200_001), status=422)
    )
    assert field_errors(form, "body_md") == ["正文不能超過200000字，現為200001字：請刪減，或分成兩篇"]
    assert len(field_value(form, "body_md").strip()) == 200_001
    back.post("/admin/articles/new", article_data(tree["ruiping"], body_md="字" * 500_000), status=413)
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(Article))) == 3


@pytest.mark.parametrize("url", ["/admin/articles/new", "/admin/pages/new"])
def test_a_pasted_body_past_the_limit_is_not_cut_by_the_browser(back, tree, url):
    """A textarea's maxlength makes the browser drop what is pasted past it, silently: the article
    was saved cut short. The limit is the server's to say, with everything typed kept."""
    (body,) = find_all(back.page(url), "textarea", id="body_md")
    assert body.get("maxlength") is None


def test_a_static_page_past_the_limit_is_a_message_with_the_text_kept(back):
    form = html_of(back.post("/admin/pages/new", page_data(body_md="字" * 200_001), status=422))
    assert field_errors(form, "body_md") == ["內容不能超過200000字，現為200001字：請刪減，或分成兩篇"]
    assert len(field_value(form, "body_md").strip()) == 200_001


def test_a_save_over_an_article_changed_meanwhile_is_refused_once_and_keeps_the_text(
    app, back, make_user, tree
):
    """Two editors open one article; the second to save is told, and loses nothing typed."""
    back.post("/admin/articles/new", article_data(tree["ruiping"], title="原標題"))
    url = f"/admin/articles/{saved_article(app, '原標題').id}"
    other = make_user(role="admin", nickname="副總編輯")
    second_client = app.test_client()
    login(second_client, other.phone, other.password)
    second = Back(app, second_client)

    def stamp(page) -> str:
        (hidden,) = find_all(page, "input", name="edit_stamp")
        return hidden.get("value")

    first_stamp, second_stamp = stamp(back.page(url)), stamp(second.page(url))
    back.post(url, {**article_data(tree["ruiping"], title="甲改的標題"), "edit_stamp": first_stamp})
    theirs = {**article_data(tree["ruiping"], title="原標題", summary="乙改的摘要")}
    page = html_of(second.post(url, {**theirs, "edit_stamp": second_stamp}, status=409))
    assert "已被其他編輯修改並保存" in text_of(page)
    assert field_value(page, "summary") == "乙改的摘要"
    assert saved_article(app, "甲改的標題").summary == "各地職工節後返崗。"  # the first save stands
    # Saving again, after a look, is deliberate: it goes through.
    second.post(url, {**theirs, "edit_stamp": stamp(page)})
    assert saved_article(app, "原標題").summary == "乙改的摘要"


def test_unknown_article_ids_are_404(back, tree):
    back.get("/admin/articles/987654", status=404)
    back.get("/admin/articles/987654/preview", status=404)
    back.post("/admin/articles/987654", article_data(tree["ruiping"]), status=404)


# --- media -------------------------------------------------------------------------------------


def media_rows(app) -> list[Media]:
    def load(session):
        rows = list(session.scalars(select(Media).order_by(Media.id)))
        session.expunge_all()
        return rows

    return read(app, load)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_picture_upload_is_stored_as_jpeg_in_several_widths(app, back, media_root, tree, fmt):
    since = record_count(app)
    data = picture_bytes(fmt, (1400, 700), exif=fmt == "JPEG", orientation=1)
    response = back.upload(data, f"photo.{fmt.lower()}", caption="東昌湖畔", credit="□本報記者 某某 攝")
    (media,) = media_rows(app)
    assert back.flash(response) == f"已上傳媒體 #{media.id}"
    assert (media.kind, media.mime, media.width, media.height) == ("image", "image/jpeg", 1280, 640)
    assert (media.caption, media.credit) == ("東昌湖畔", "□本報記者 某某 攝")
    paths = [media.path] + [media.variant_path(w) for w in media.variant_widths()]
    assert media.variant_widths() == [320, 640, 960]
    assert sorted(media_root / p for p in paths) == files_under(media_root)
    for path in paths:
        with Image.open(media_root / path) as picture:
            assert picture.format == "JPEG"
            assert "exif" not in picture.info
            assert dict(picture.getexif()) == {}
    assert_one_record(app, since, "admin.media_uploaded", media.id)
    # The list shows it with its caption, as a thumbnail that answers.
    (item,) = find_all(back.page("/admin/media"), "li", data_media_id=str(media.id))
    assert "東昌湖畔" in text_of(item)
    thumb = item.find(".//img").get("src")
    assert back.client.get(thumb).status_code == 200
    # With the address an editor writes into a body: the full-size picture, which a body accepts.
    (address,) = find_all(item, "input", data_media_address=None)
    assert address.get("value") == f"/media/{media.path}"
    article = back.post(
        "/admin/articles/new", article_data(tree["ruiping"], body_md=f"![湖]({address.get('value')})")
    )
    assert back.flash(article).endswith("已保存")


@pytest.mark.parametrize(
    ("make", "name", "kind", "label"),
    [(wav_bytes, "sound.wav", "audio", "音頻"), (webm_bytes, "clip.webm", "video", "視頻")],
)
def test_audio_and_video_uploads_are_accepted(app, back, media_root, make, name, kind, label):
    data = make()
    back.upload(data, name, caption="片段")
    (media,) = media_rows(app)
    assert media.kind == kind
    assert (media_root / media.path).read_bytes() == data
    (item,) = find_all(back.page("/admin/media"), "li", data_media_id=str(media.id))
    assert label in text_of(item)
    assert back.client.get(f"/media/{media.path}").status_code == 200


def test_a_renamed_text_file_is_refused_with_a_message_and_nothing_stored(app, back, media_root):
    response = back.upload(
        "這其實是一個文字檔。\n".encode() * 30, "evil.jpg", status=422, caption="我寫的說明"
    )
    form = html_of(response)
    (message,) = field_errors(form, "file")
    assert message.startswith("無法識別的文件：只接受 JPEG、PNG、WebP 圖片")
    assert field_value(form, "caption") == "我寫的說明"
    assert media_rows(app) == []
    assert files_under(media_root) == []
    assert record_count(app) == 0


def test_a_caption_over_its_limit_is_said_beside_it_and_the_text_kept(app, back, media_root):
    response = back.upload(picture_bytes("PNG", (40, 30)), status=422, caption="長" * 501)
    form = html_of(response)
    assert field_errors(form, "caption")  # beside the field, not a bare 400 page
    assert field_value(form, "caption") == "長" * 501
    assert media_rows(app) == [] and files_under(media_root) == []


def test_an_upload_without_a_file_asks_for_one(app, back, media_root):
    response = back.post("/admin/media", {"caption": "x"}, status=422, content_type="multipart/form-data")
    assert field_errors(html_of(response), "file") == ["請選擇要上傳的文件"]


def test_an_empty_file_is_said_to_be_empty_not_missing(app, back, media_root):
    response = back.post(
        "/admin/media",
        {"caption": "x", "file": (io.BytesIO(b""), "空白照片.jpg")},
        status=422,
        content_type="multipart/form-data",
    )
    assert field_errors(html_of(response), "file") == [
        "文件「空白照片.jpg」是空的（0 字節），請選擇有內容的文件"
    ]
    assert media_rows(app) == [] and files_under(media_root) == []


def test_a_full_size_photo_can_be_uploaded(app, back, media_root):
    # A camera's picture is megabytes; the 64 KiB cap of the other forms must not apply here.
    noisy = Image.effect_noise((1600, 1000), 60).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    data = out.getvalue()
    assert len(data) > 200 * 1024
    back.upload(data, "camera.jpg")
    assert len(media_rows(app)) == 1


def test_an_upload_over_50_mb_gets_the_413_page_in_chinese(app, back, media_root):
    huge = b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024 + 1)
    response = back.upload(huge, "huge.jpg", status=413)
    page = html_of(response)
    assert text_of(find_all(page, "h1")[0]) == "內容過大"
    assert "文件過大：媒體文件不能超過 50 MB。" in text_of(page)  # the limit, not "shorten it"
    assert "說明和署名也未保存" in text_of(page)  # said, since the page cannot keep them
    back_link = find_one(page, "a", id="error-back")  # not only 返回首頁
    assert (back_link.get("href"), text_of(back_link)) == ("/admin/media", "返回媒體頁")
    form = find_one(back.page("/admin/media"), "form", action="/admin/media")
    assert find_one(form, "input", name="file").get("data-max-bytes") == str(50 * 1024 * 1024)
    assert find_all(form, "p", id="file-size-error")[0].get("hidden") is not None
    assert media_rows(app) == []
    assert files_under(media_root) == []


def test_a_gallery_shows_its_pictures_in_the_chosen_order(app, back, reader_client, tree, media_root):
    for n in range(3):
        back.upload(picture_bytes("PNG", (400 + 10 * n, 200)), f"p{n}.png", caption=f"第{n}張照片")
    photos = media_rows(app)
    order = [photos[2], photos[0], photos[1]]
    article_id = create_article(
        back,
        tree["ruiping"],
        kind="gallery",
        title="圖說聊城",
        gallery_ids=",".join(str(m.id) for m in order),
    )
    page = html_of(reader_client.get(f"/articles/{article_id}"))
    (gallery,) = find_all(page, "div", data_part="gallery")
    figures = find_all(gallery, "figure")
    assert [f.find(".//img").get("src").rsplit("/", 1)[-1] for f in figures] == [
        m.path.rsplit("/", 1)[-1] for m in order
    ]
    assert [text_of(f.find("figcaption")) for f in figures] == [
        "1/3 第2張照片",
        "2/3 第0張照片",
        "3/3 第1張照片",
    ]
    assert field_value(back.page(f"/admin/articles/{article_id}"), "gallery_ids") == ",".join(
        str(m.id) for m in order
    )
    # A second set may use the same pictures: the first keeps all of its own.
    other_id = create_article(
        back,
        tree["ruiping"],
        kind="gallery",
        title="圖說聊城之二",
        gallery_ids=f"{photos[2].id},{photos[1].id}",
    )
    assert field_value(back.page(f"/admin/articles/{article_id}"), "gallery_ids") == ",".join(
        str(m.id) for m in order
    )
    assert (
        field_value(back.page(f"/admin/articles/{other_id}"), "gallery_ids")
        == f"{photos[2].id},{photos[1].id}"
    )
    assert len(find_all(html_of(reader_client.get(f"/articles/{article_id}")), "figure")) >= 3


def test_an_unused_upload_is_deleted_after_a_question_with_all_its_files(app, back, media_root):
    back.upload(picture_bytes("PNG", (1400, 700)), caption="東昌湖畔")
    (media,) = media_rows(app)
    assert len(files_under(media_root)) == 4
    form = delete_form(back.page("/admin/media"), f"/admin/media/{media.id}/delete")
    assert form.get("data-confirm") == f"確定刪除媒體 #{media.id}？文件將一併刪除。"
    since = record_count(app)
    response = back.post(f"/admin/media/{media.id}/delete")
    assert back.flash(response) == f"媒體 #{media.id} 已刪除"
    assert media_rows(app) == []
    assert files_under(media_root) == []
    row = assert_one_record(app, since, "admin.media_deleted", media.id)
    assert json.loads(row.before)["path"] == media.path
    assert back.client.get(f"/media/{media.path}").status_code == 404


def test_media_in_use_is_refused_naming_where_and_the_article_keeps_it(
    app, back, reader_client, tree, media_root
):
    back.upload(picture_bytes("PNG", (1400, 700)), caption="封面")
    back.upload(picture_bytes("PNG", (800, 400)), caption="正文配圖")
    cover, inline = media_rows(app)
    article_id = create_article(
        back,
        tree["ruiping"],
        title="用圖的文章",
        cover_id=str(cover.id),
        body_md=f"正文。\n\n![配圖](/media/{inline.variant_path(640)})",
    )
    files = files_under(media_root)
    since = record_count(app)
    for media, place in ((cover, "的封面"), (inline, "的正文")):
        response = back.post(f"/admin/media/{media.id}/delete")
        assert back.flash(response) == (
            f"媒體 #{media.id} 仍在使用，不能刪除：文章 #{article_id}《用圖的文章》{place}。請先從這些地方移除。"
        )
    assert [m.id for m in media_rows(app)] == [cover.id, inline.id]
    assert files_under(media_root) == files
    assert record_count(app) == since
    page = reader_client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    sources = [img.get("src") for img in html_of(page).iter("img")]
    assert f"/media/{inline.variant_path(640)}" in sources
    assert any(src.startswith(f"/media/{cover.path.rpartition('.')[0]}") for src in sources)
    for src in sources:
        assert reader_client.get(src).status_code == 200


def test_media_chosen_while_being_deleted_stays_and_the_admin_is_told(
    app, back, tree, media_root, monkeypatch
):
    back.upload(picture_bytes("PNG", (400, 200)))
    (media,) = media_rows(app)
    create_article(back, tree["ruiping"], title="剛選了封面", cover_id=str(media.id))
    # The check ran before the editor's save was committed: the database's own key still holds.
    monkeypatch.setattr("portal.domain.media_files.media_uses", lambda session, media: [])
    files, since = files_under(media_root), record_count(app)
    response = back.post(f"/admin/media/{media.id}/delete")
    assert back.flash(response) == f"媒體 #{media.id} 剛被文章選用，未刪除。"
    assert [m.id for m in media_rows(app)] == [media.id]
    assert files_under(media_root) == files
    assert record_count(app) == since


def test_deleting_media_needs_the_token_and_an_existing_id(app, back, media_root):
    back.upload(picture_bytes("PNG", (400, 200)))
    (media,) = media_rows(app)
    files, since = files_under(media_root), record_count(app)
    response = back.post(f"/admin/media/{media.id}/delete", token=False, status=400)
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    back.post("/admin/media/987654/delete", status=404)
    back.post(f"/admin/media/{HUGE_ID}/delete", status=404)
    assert [m.id for m in media_rows(app)] == [media.id]
    assert files_under(media_root) == files
    assert record_count(app) == since


# --- static pages ------------------------------------------------------------------------------


def page_row(app, slug: str) -> Page | None:
    def load(session):
        row = session.scalar(select(Page).where(Page.slug == slug))
        if row is not None:
            session.expunge(row)
        return row

    return read(app, load)


def test_a_new_page_is_reachable_and_in_the_footer(app, back, reader_client):
    since = record_count(app)
    response = back.post("/admin/pages/new", page_data(title="廣告服務", slug="ads"))
    assert back.flash(response) == "頁面「廣告服務」已保存"
    assert_one_record(app, since, "admin.page_saved", page_row(app, "ads").id)
    page = html_of(reader_client.get("/pages/ads"))
    assert text_of(find_all(page, "h1")[0]) == "廣告服務"
    footer = find_all(page, "nav", cls="footer-links")[0]
    assert [a.get("href") for a in footer.iter("a")] == ["/pages/ads"]
    assert [text_of(a) for a in find_all(back.page("/admin/pages"), "a") if a.get("href") == "/pages/ads"]


def test_editing_about_renders_markdown_and_cleans_it(app, back, reader_client):
    back.post("/admin/pages/new", page_data())
    page_id = page_row(app, "about").id
    assert field_value(back.page(f"/admin/pages/{page_id}"), "title") == "關於我們"
    body = (
        "## 聯繫方式\n\n**地址**：聊城市東昌府區。\n\n<script>alert(1)</script><img src=x onerror=alert(1)>"
    )
    back.post(f"/admin/pages/{page_id}", page_data(title="關於本網", body_md=body))
    page = html_of(reader_client.get("/pages/about"))
    assert text_of(find_all(page, "h1")[0]) == "關於本網"
    main = find_all(page, "main")[0]
    assert [text_of(h) for h in main.iter("h2")] == ["聯繫方式"]
    assert [text_of(s) for s in main.iter("strong")] == ["地址"]
    assert not [e for e in main.iter() if e.tag == "script" or any(k.startswith("on") for k in e.attrib)]
    assert "關於本網" in text_of(find_all(page, "nav", cls="footer-links")[0])


def test_a_duplicate_page_slug_is_refused_beside_the_field(app, back):
    back.post("/admin/pages/new", page_data())
    response = back.post("/admin/pages/new", page_data(title="另一個關於", body_md="我寫的內容"), status=422)
    form = html_of(response)
    assert field_errors(form, "slug") == ["這個網址代號已被其他頁面使用"]
    assert (field_value(form, "title"), field_value(form, "body_md").strip()) == ("另一個關於", "我寫的內容")
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(Page))) == 1


def test_the_pledge_pages_slug_is_fixed_because_the_site_links_it(app, back):
    back.post("/admin/pages/new", page_data(title="跟帖評論自律管理承諾書", slug="pledge"))
    page_id = page_row(app, "pledge").id
    response = back.post(
        f"/admin/pages/{page_id}", page_data(title="跟帖評論自律管理承諾書", slug="pledge-2026"), status=422
    )
    assert field_errors(html_of(response), "slug") == ["這個頁面的網址代號不能修改：評論區和註冊頁都鏈接到它"]
    assert page_row(app, "pledge") is not None


def test_invalid_page_fields_get_messages_in_chinese(app, back):
    def check(field, value, message):
        form = html_of(back.post("/admin/pages/new", page_data(**{field: value}), status=422))
        assert message in field_errors(form, field)
        assert field_value(form, field) == value

    check_cases(
        [
            ("title", "", "請填寫標題"),
            ("slug", "", "請填寫網址代號"),
            ("slug", "About Us", "只能用小寫英文字母、數字和連字號"),
            ("position", "abc", "排序須填寫整數。"),
            ("position", "5000", "排序須介於0至1000之間。"),
        ],
        check,
    )
    assert page_row(app, "about") is None


def test_unknown_page_ids_are_404(back):
    back.get("/admin/pages/987654", status=404)
    back.post("/admin/pages/987654", page_data(), status=404)
    back.post("/admin/pages/987654/delete", status=404)


def delete_form(root, action: str):
    """The delete button's form for `action`, or None when the list offers none."""
    forms = find_all(root, "form", action=action)
    assert len(forms) <= 1
    return forms[0] if forms else None


def test_a_page_is_deleted_after_a_question_and_is_gone_for_readers(app, back, reader_client):
    back.post("/admin/pages/new", page_data(title="廣告服務", slug="ads"))
    page_id = page_row(app, "ads").id
    assert reader_client.get("/pages/ads").status_code == 200
    form = delete_form(back.page("/admin/pages"), f"/admin/pages/{page_id}/delete")
    assert form.get("data-confirm") == "確定刪除頁面「廣告服務」？"
    since = record_count(app)
    response = back.post(f"/admin/pages/{page_id}/delete")
    assert back.flash(response) == "頁面「廣告服務」已刪除"
    assert page_row(app, "ads") is None
    row = assert_one_record(app, since, "admin.page_deleted", page_id)
    assert json.loads(row.before)["slug"] == "ads"
    assert reader_client.get("/pages/ads").status_code == 404


@pytest.mark.parametrize("slug", ["pledge", "rules", "terms", "privacy"])
def test_the_pages_the_site_links_by_name_cannot_be_deleted(app, back, reader_client, slug):
    back.post("/admin/pages/new", page_data(title="固定頁面", slug=slug))
    page_id = page_row(app, slug).id
    listing = back.page("/admin/pages")
    assert delete_form(listing, f"/admin/pages/{page_id}/delete") is None
    (row,) = find_all(listing, "tr", data_page=slug)
    assert "固定頁面，不能刪除" in text_of(row)
    since = record_count(app)
    response = back.post(f"/admin/pages/{page_id}/delete")  # a form kept from before, or forged
    assert back.flash(response).startswith("頁面「固定頁面」不能刪除")
    assert page_row(app, slug) is not None
    assert record_count(app) == since
    assert reader_client.get(f"/pages/{slug}").status_code == 200


def test_deleting_a_page_without_the_token_is_400_and_keeps_it(app, back):
    back.post("/admin/pages/new", page_data())
    page_id = page_row(app, "about").id
    since = record_count(app)
    response = back.post(f"/admin/pages/{page_id}/delete", token=False, status=400)
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert page_row(app, "about") is not None
    assert record_count(app) == since


# --- site settings -----------------------------------------------------------------------------


def test_the_settings_form_shows_the_current_values(back):
    form = back.page("/admin/settings")
    assert field_value(form, "site_name") == "聊城新聞網"
    assert field_value(form, "comment_max_length") == "500"
    assert field_value(form, "retention_days") == "190"


def test_settings_take_effect_on_the_next_request(app, back, reader_client, tree):
    article_id = read(app, lambda s: s.scalar(select(Article.id).where(Article.title == "銳評一則")))
    assert "0635-1234567" not in reader_client.get("/").get_data(as_text=True)
    since = record_count(app)
    response = back.post(
        "/admin/settings", settings_data(report_phone="0635-1234567", comment_max_length="300")
    )
    assert back.flash(response).startswith("設置已保存")
    row = assert_one_record(app, since, "admin.settings_saved")
    assert json.loads(row.after)["report_phone"] == "0635-1234567"
    footer = text_of(find_all(html_of(reader_client.get("/")), "footer")[0])
    assert "本網違法和不良信息舉報電話:0635-1234567" in footer
    assert "魯ICP備00000000號" in footer
    # The comment form of a logged-in, verified user carries the new limit.
    (body,) = find_all(html_of(back.client.get(f"/articles/{article_id}")), "textarea", id="body")
    assert body.get("maxlength") == "300"
    assert "300字以內" in body.get("placeholder")


def test_the_listed_tlds_are_a_setting_that_decides_what_reads_as_a_web_address(app, back, tree, make_user):
    """PLEDGE_RULES §6.5: the list is a setting. A TLD added (a city's own, 「.lc」, and 中國) makes a
    bare domain ending in it a web address from the next post on; typed with dots, commas and in
    capitals, it is kept as a plain list, each once."""
    article_id = read(app, lambda s: s.scalar(select(Article.id).where(Article.title == "銳評一則")))
    reader = make_user(nickname="東關讀者")
    writer = app.test_client()
    login(writer, reader.phone, reader.password)
    token = token_for(writer, f"/articles/{article_id}")

    def post(body: str):
        return writer.post(f"/articles/{article_id}/comments", data={"body": body, "csrf_token": token})

    back.post("/admin/settings", settings_data(comment_cooldown_seconds="0"))
    assert post("活動詳情見 liaocheng.lc 的公告").status_code == 303
    response = back.post(
        "/admin/settings", settings_data(comment_cooldown_seconds="0", url_tlds=".COM, cn，lc 中國 com")
    )
    assert back.flash(response).startswith("設置已保存")
    assert setting(app, "url_tlds") == "com cn lc 中國"
    assert field_value(back.page("/admin/settings"), "url_tlds") == "com cn lc 中國"
    refused = post("詳情見 news.lc 的公告")
    assert refused.status_code == 422 and "評論中請勿包含網址、鏈接或郵箱" in refused.get_data(as_text=True)
    assert post("下載見 example.xyz 的頁面").status_code == 303  # no longer listed


def test_saving_the_same_settings_again_records_nothing(app, back):
    back.post("/admin/settings", settings_data())
    since = record_count(app)
    back.post("/admin/settings", settings_data())
    assert record_count(app) == since


SETTINGS_REFUSALS = [
    ("site_name", "", "請填寫網站名稱"),
    ("site_name", "\u200b\u2060", "請填寫網站名稱"),  # invisible: the header showed no name
    ("report_phone", "call me", "請填寫有效的電話號碼"),
    ("report_email", "jubao@", "請填寫有效的郵箱地址"),
    ("comment_min_length", "51", "評論最少字數須介於1至50之間。"),
    ("comment_max_length", "5", "評論最多字數須介於10至2000之間。"),
    ("comment_max_length", "2001", "評論最多字數須介於10至2000之間。"),
    ("comment_max_length", "", "請填寫評論最多字數。"),
    ("comment_cooldown_seconds", "-5", "兩次評論最短間隔（秒）須介於0至3600之間。"),
    ("comment_ip_hourly", "10001", "每個IP每小時評論上限須介於1至10000之間。"),
    ("quota_new", "", "請填寫新用戶每日評論上限。"),
    ("quota_good", "10001", "良好用戶每日評論上限須介於1至10000之間。"),
    ("comment_edit_minutes", "61", "可編輯評論的時間（分鐘）須介於0至60之間。"),
    # Cleared, these were saved empty and the site quietly used its defaults (0 is the way to say none).
    ("comment_cooldown_seconds", "", "請填寫兩次評論最短間隔（秒）。"),
    ("comment_edit_minutes", "", "請填寫可編輯評論的時間（分鐘）。"),
    ("report_hide_threshold", "101", "幾位讀者舉報後暫時隱藏須介於1至100之間。"),
    ("retention_days", "183", "記錄保存天數須介於184至3650之間。"),
    # A name from the list, never a path: one that names any other file is no choice at all.
    ("region_database", "/etc/passwd", "請選擇有效的IP屬地數據庫。"),
    ("region_database", "../instance/portal.sqlite", "請選擇有效的IP屬地數據庫。"),
    ("sms_sender", "os:system", "請選擇有效的短信發送方式。"),
    ("url_tlds", "\u200b", "請至少填寫一個頂級域名"),
    ("url_tlds", "com exa.mple", "「exa.mple」不是頂級域名：只能由字母、數字、連字符或漢字組成"),
    ("url_tlds", "com -cn", "「-cn」不是頂級域名：只能由字母、數字、連字符或漢字組成"),
]


def test_invalid_settings_are_refused_beside_the_field_and_kept(app, back):
    def check(field, value, message):
        form = html_of(back.post("/admin/settings", settings_data(**{field: value}), status=422))
        assert message in field_errors(form, field)
        if field not in ("sms_sender", "region_database"):  # a choice that is none is not kept
            assert field_value(form, field) == value
        kept = "report_email" if field == "report_phone" else "report_phone"
        assert field_value(form, kept) == SETTINGS[kept]

    check_cases(SETTINGS_REFUSALS, check)
    assert record_count(app) == 0
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(SiteSetting))) == 0


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        (
            "/admin/settings",
            lambda: settings_data(comment_cooldown_seconds="十五"),
            "comment_cooldown_seconds",
        ),
        ("/admin/settings", lambda: settings_data(comment_edit_minutes="abc"), "comment_edit_minutes"),
        ("/admin/sections/new", lambda: section_data(position="abc"), "position"),
        ("/admin/sections/new", lambda: section_data(auto_close_days="一週"), "auto_close_days"),
        ("/admin/pages/new", lambda: page_data(position="first"), "position"),
    ],
)
def test_text_in_a_number_field_is_one_message(back, url, data, field):
    """It was two: 「不是有效的整數值。」 and 「數字必須介於 0 和 1000 之間。」, as if two mistakes."""
    form = html_of(back.post(url, data(), status=422))
    [message] = field_errors(form, field)
    assert message.endswith("須填寫整數。") and message != "須填寫整數。"  # one, naming the field


def test_the_minimum_length_cannot_exceed_the_maximum(app, back):
    response = back.post(
        "/admin/settings", settings_data(comment_min_length="40", comment_max_length="30"), status=422
    )
    assert field_errors(html_of(response), "comment_max_length") == ["最多字數不能少於最少字數"]


def test_retention_of_184_days_is_the_minimum_accepted(app, back):
    back.post("/admin/settings", settings_data(retention_days="184"))
    assert setting(app, "retention_days") == "184"


def region_choices(form) -> list[tuple[str, str]]:
    select_ = find_one(form, "select", name="region_database")
    return [(option.get("value"), text_of(option)) for option in select_.iter("option")]


def test_a_region_database_is_chosen_from_the_files_in_the_regions_folder(app, back, tmp_path):
    app.config["REGION_DATABASES_FOLDER"] = str(tmp_path)
    _write(tmp_path / "city.mmdb", ip_version=6)
    (tmp_path / "notes.txt").write_text("not a database", encoding="utf-8")
    (tmp_path / "folder.mmdb").mkdir()
    form = html_of(back.get("/admin/settings"))
    assert region_choices(form) == [("", "內建 GeoLite2（2018 年版）"), ("city.mmdb", "city.mmdb")]
    back.post("/admin/settings", settings_data(region_database="city.mmdb"))
    assert setting(app, "region_database") == "city.mmdb"
    selected = find_one(html_of(back.get("/admin/settings")), "option", value="city.mmdb")
    assert selected.get("selected") is not None


def test_a_region_database_must_be_a_maxmind_file(app, back, tmp_path):
    app.config["REGION_DATABASES_FOLDER"] = str(tmp_path)
    (tmp_path / "broken.mmdb").write_text("not a MaxMind database", encoding="utf-8")
    response = back.post("/admin/settings", settings_data(region_database="broken.mmdb"), status=422)
    assert field_errors(html_of(response), "region_database") == ["不是 MaxMind 格式的數據庫"]
    assert setting(app, "region_database") is None


def test_a_region_database_outside_the_folder_is_refused_without_saying_whether_it_exists(
    app, back, tmp_path
):
    """A path was once typed here: the answer (找不到這個文件 or not) told an admin which files the
    server holds. Now any name that is not a listed choice gets the same answer."""
    app.config["REGION_DATABASES_FOLDER"] = str(tmp_path / "regions")
    elsewhere = _write(tmp_path / "elsewhere.mmdb", ip_version=6)
    answers = set()
    for value in (elsewhere, "../elsewhere.mmdb", "/nonexistent/GeoIP.mmdb", "/etc/hostname"):
        form = html_of(back.post("/admin/settings", settings_data(region_database=value), status=422))
        answers.add(tuple(field_errors(form, "region_database")))
    assert answers == {("請選擇有效的IP屬地數據庫。",)}
    assert setting(app, "region_database") is None


# --- sensitive words ---------------------------------------------------------------------------


def word_terms(root) -> list[str]:
    return [text_of(tr.find("td")) for tr in find_all(root, "table", id="word-list")[0].find("tbody")]


def version(app) -> str:
    return setting(app, "wordlist_version") or "0"


def test_a_list_of_ten_thousand_terms_pages_fifty_at_a_time(app, back):
    now = utc_now()
    with app.app_context():
        db.session.execute(
            insert(SensitiveWord),
            [
                {"term": f"詞條{n:05d}", "categories": "C14", "action": "review", "pinyin": False,
                 "created_at": now, "updated_at": now}
                for n in range(10_000)
            ],
        )  # fmt: skip
        db.session.commit()
    first = back.page("/admin/words")
    terms = word_terms(first)
    assert len(terms) == 50
    assert terms[0] == "詞條09999"
    assert "共 10000 條" in text_of(first)
    (next_link,) = find_all(first, "a", rel="next")
    assert text_of(next_link) == "下一頁"
    second = word_terms(back.page(next_link.get("href")))
    assert len(second) == 50 and second[0] == "詞條09949"
    found = back.page("/admin/words?q=詞條0012")
    assert sorted(word_terms(found)) == [f"詞條0012{n}" for n in range(10)]
    assert not find_all(found, "a", rel="next")


def test_add_edit_and_delete_a_word_each_publish_a_new_version(app, back, test_words):
    start = version(app)
    since = record_count(app)
    response = back.post("/admin/words/new", word_data(categories=["C8", "C14"], pinyin="y", term="网上博彩"))
    response.close()
    assert back.flash(response) == "詞條已保存，巡查將重新檢查近30天的評論"
    word = read(app, lambda s: s.scalar(select(SensitiveWord).where(SensitiveWord.term == "网上博彩")))
    word_id = word.id
    assert (word.categories, word.action, word.pinyin) == ("C8/C14", "block", True)
    added = version(app)
    assert added != start
    assert_one_record(app, since, "admin.word_saved", word_id)

    form = back.page(f"/admin/words/{word_id}")
    assert (field_value(form, "term"), field_value(form, "categories"), field_value(form, "pinyin")) == (
        "网上博彩",
        ["C8", "C14"],
        True,
    )
    back.post(
        f"/admin/words/{word_id}", word_data(term="网上博彩", categories=["C8"], action="review")
    ).close()
    assert read(app, lambda s: s.get(SensitiveWord, word_id).action) == "review"
    edited = version(app)
    assert edited not in (start, added)

    since = record_count(app)
    response = back.post(f"/admin/words/{word_id}/delete")
    assert back.flash(response) == "詞條已刪除"
    assert read(app, lambda s: s.get(SensitiveWord, word_id)) is None
    assert version(app) == start  # the same list again: the same version
    assert_one_record(app, since, "admin.word_deleted", word_id)


def test_invalid_words_are_refused_in_chinese_and_nothing_changes(app, back, test_words):
    start, since = version(app), record_count(app)

    def check(overrides, message):
        form = html_of(back.post("/admin/words/new", word_data(**overrides), status=422))
        errors = field_errors(form, "term") + field_errors(form, "categories") + field_errors(form, "action")
        assert any(message in error for error in errors), errors
        if overrides.get("term"):
            assert field_value(form, "term") == overrides["term"]

    check_cases(
        [
            ({"term": ""}, "請填寫詞條"),
            ({"term": "赌"}, "不允許單字屏蔽詞"),
            ({"term": "赌博"}, "詞庫中已有這個詞條"),
            # The same term in the other script, or spaced out, is the same entry to the import:
            # accepting it would make the list's own export impossible to import again.
            ({"term": "賭博"}, "詞庫中已有相同的詞條"),
            ({"term": "赌 博"}, "詞庫中已有相同的詞條"),
            ({"term": "re:(unclosed"}, "正則表達式無效"),
            ({"categories": ["C99"]}, "請選擇有效的類別。"),
            ({"action": "delete"}, "請選擇有效的處理方式。"),
            ({"categories": []}, "類別"),
        ],
        check,
    )
    assert (version(app), record_count(app)) == (start, since)


def test_a_good_csv_import_reports_added_changed_and_unchanged(app, back, test_words):
    start, since = version(app), record_count(app)
    text = (
        "term,category,action,pinyin\n"
        "赌博,C8,block,yes\n"  # unchanged
        "代开发票,C14,review,no\n"  # changed: block → review
        "网络水军,C14,review,no\n"  # added
        "刷单返利,C14/C17,block,no\n"  # added
    )
    response = back.post("/admin/words/import", {"file": csv_file(text)}, content_type="multipart/form-data")
    response.close()
    assert back.flash(response) == "導入完成：新增 2 條，修改 1 條，未變 1 條"
    terms = read(app, lambda s: {w.term: (w.categories, w.action) for w in s.scalars(select(SensitiveWord))})
    assert terms["代开发票"] == ("C14", "review")
    assert terms["刷单返利"] == ("C14/C17", "block")
    assert "casino" in terms  # entries not in the file stay
    assert version(app) != start
    row = assert_one_record(app, since, "admin.words_imported")
    assert json.loads(row.after)["added"] == 2


def test_a_csv_with_a_bad_row_is_refused_whole(app, back, test_words):
    start, since = version(app), record_count(app)

    def check(bad_row, message):
        text = f"term,category,action,pinyin\n网络水军,C14,review,no\n刷单返利,C14,block,no\n{bad_row}\n"
        response = back.post(
            "/admin/words/import", {"file": csv_file(text)}, content_type="multipart/form-data"
        )
        assert back.flash(response) == f"未導入任何詞條：{message}"
        terms = read(app, lambda s: set(s.scalars(select(SensitiveWord.term))))
        assert not terms & {"网络水军", "刷单返利", "好词"}

    check_cases(
        [
            ("好词,C99,block,no", "第4行：類別「C99」無效"),
            ("好词,C8,ban,no", "第4行：處理方式「ban」無效，應為 block、review 或 allow"),
            ("赌,C8,block,no", "第4行：不允許單字屏蔽詞"),
            ("网络水军,C14,review,no", "第4行：與第2行重複"),
            # Longer than the column and the word form allow, or holding a NUL: PostgreSQL refused
            # the whole file with a bare 請求無效, SQLite stored what the form cannot edit.
            ("好" * 201 + ",C8,review,no", "第4行：詞條不能超過200字，現為201字"),
            ("好\x00词,C8,review,no", "第4行：詞條含有控制字符（如 NUL），請刪除後再導入"),
        ],
        check,
    )
    assert (version(app), record_count(app)) == (start, since)


def test_unreadable_imports_are_refused_with_a_message(app, back, test_words):
    start = version(app)

    def check(payload, message):
        response = back.post(
            "/admin/words/import",
            {"file": (io.BytesIO(payload), "w.csv")},
            content_type="multipart/form-data",
        )
        assert back.flash(response) == message

    check_cases(
        [
            ("詞條,類別\n".encode("gbk"), "文件不是 UTF-8 編碼的 CSV，未導入任何詞條"),
            (b"", "未導入任何詞條：文件表頭應為 term,category,action,pinyin"),
            (b"word,cat\nx,y\n", "未導入任何詞條：文件表頭應為 term,category,action,pinyin"),
        ],
        check,
    )
    assert version(app) == start


def test_an_import_without_a_file_asks_for_one(app, back, test_words):
    start, since = version(app), record_count(app)
    for payload in ({}, {"file": (io.BytesIO(b""), "")}):  # no field; a browser's empty file box
        response = back.post("/admin/words/import", payload, content_type="multipart/form-data")
        # It said 文件表頭應為 term,category,action,pinyin of a file never chosen.
        assert back.flash(response) == "請先選擇要導入的 CSV 文件"
    assert (version(app), record_count(app)) == (start, since)


def test_a_long_word_list_imports(app, back, test_words):
    """A list of thousands of entries is well over the 64 KiB other forms may send."""
    rows = "".join(f"測試詞{n:05d},C14,review,no\n" for n in range(4000))
    response = back.post(
        "/admin/words/import",
        {"file": csv_file("term,category,action,pinyin\n" + rows)},
        content_type="multipart/form-data",
    )
    response.close()
    assert back.flash(response).startswith("導入完成：新增 4000 條")


def test_export_round_trips_through_import(app, back, test_words):
    response = back.get("/admin/words/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffterm,category,action,pinyin")
    assert parse_word_csv(text) == test_words
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == len(test_words) + 1
    start = version(app)
    again = back.post(
        "/admin/words/import",
        {"file": (io.BytesIO(response.data), "words.csv")},
        content_type="multipart/form-data",
    )
    again.close()
    assert back.flash(again) == f"導入完成：新增 0 條，修改 0 條，未變 {len(test_words)} 條"
    assert version(app) == start


def test_the_word_export_defuses_formula_cells_and_still_round_trips(app, back, test_words):
    risky = ['=HYPERLINK("http://x","點我")', "+v信號碼", "-刷單", "@管理員"]
    rows = "".join(f'"{term.replace(chr(34), chr(34) * 2)}",C14,review,no\n' for term in risky)
    imported = back.post(
        "/admin/words/import",
        {"file": csv_file("term,category,action,pinyin\n" + rows)},
        content_type="multipart/form-data",
    )
    assert back.flash(imported).startswith("導入完成：新增 4 條")
    exported = back.get("/admin/words/export.csv")
    cells = [row[0] for row in csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")))]
    # A spreadsheet ran a cell that starts like a formula (=HYPERLINK opened a link from the list).
    assert [cell for cell in cells if cell.lstrip("'").startswith(("=", "+", "-", "@"))] == [
        "'" + term for term in risky
    ]
    # Imported again, each is the same entry: nothing added, nothing changed.
    again = back.post(
        "/admin/words/import",
        {"file": (io.BytesIO(exported.data), "words.csv")},
        content_type="multipart/form-data",
    )
    assert back.flash(again) == f"導入完成：新增 0 條，修改 0 條，未變 {len(test_words) + 4} 條"
    terms = read(app, lambda s: set(s.scalars(select(SensitiveWord.term))))
    assert set(risky) <= terms


def test_the_test_box_shows_the_verdict_and_changes_nothing(app, back, test_words):
    start, since = version(app), record_count(app)
    words_before = read(app, lambda s: s.scalar(select(func.count()).select_from(SensitiveWord)))
    page = html_of(back.post("/admin/words/test", {"text": "网上赌博平台"}, status=200))
    (verdict,) = find_all(page, "dl", id="verdict")
    assert verdict.get("data-action") == "block"
    assert "拒絕" in text_of(verdict)
    assert "C8" in text_of(verdict)
    assert field_value(page, "text") == "网上赌博平台"
    clean = html_of(back.post("/admin/words/test", {"text": "今天天氣很好，大家出門走走。"}, status=200))
    assert find_all(clean, "dl", id="verdict")[0].get("data-action") == "pass"
    assert (version(app), record_count(app)) == (start, since)
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(SensitiveWord))) == words_before


@pytest.mark.parametrize(
    ("text", "shown", "code"),
    [
        ("赌 博", "規避審核", "evasion"),
        ("哈哈哈哈哈哈哈哈哈哈哈哈", "低質量內容", "low_quality"),
        ("他家住在XX小区3号楼2单元", "疑似洩露隱私", "privacy"),
        ("Привет как дела у тебя", "非本站常用語言文字", "foreign_script"),
    ],
)
def test_the_test_box_names_flags_and_categories_in_words(back, test_words, text, shown, code):
    page = html_of(back.post("/admin/words/test", {"text": text}, status=200))
    (verdict,) = find_all(page, "dl", id="verdict")
    said = text_of(verdict)
    assert shown in said
    assert code not in said  # the stored code is not the admin's word for it
    assert re.search(r"C\d+ \S", said)  # a category comes with its name


def test_the_word_form_says_beside_the_categories_what_they_lack(back, test_words):
    page = html_of(back.post("/admin/words/new", word_data(categories=[]), status=422))
    assert field_errors(page, "categories") == ["請至少選擇一個類別"]
    assert field_errors(page, "term") == []
    page = html_of(
        back.post("/admin/words/new", word_data(term="re:刷(单|票)", pinyin="y", action="review"), status=422)
    )
    assert field_errors(page, "pinyin") == ["正則表達式和放行（allow）詞條不能同時匹配拼音，請取消勾選"]
    assert field_value(page, "term") == "re:刷(单|票)"


def test_an_empty_test_box_asks_for_text(back, test_words):
    page = html_of(back.post("/admin/words/test", {"text": ""}, status=422))
    assert field_errors(page, "text") == ["請輸入要檢查的文字"]


def test_unknown_word_ids_are_404(back):
    back.get("/admin/words/987654", status=404)
    back.post("/admin/words/987654", word_data(), status=404)
    back.post("/admin/words/987654/delete", status=404)


def test_a_new_blocked_word_is_patrolled_after_the_response(app, back, test_words, tree, make_user):
    author = make_user(nickname="評論作者")

    def build(session):
        article_id = session.scalar(select(Article.id).where(Article.title == "銳評一則"))
        now = utc_now()
        comments = [
            Comment(
                article_id=article_id,
                author_id=author.id,
                body=body,
                status=CommentStatus.APPROVED,
                created_at=now - timedelta(days=days),
                approved_at=now - timedelta(days=days),
            )
            for body, days in (
                ("這家店在賣代購假貨，大家小心。", 1),
                ("代購假貨的舊評論。", 40),
                ("說得好。", 1),
            )
        ]
        session.add_all(comments)
        session.flush()
        return [c.id for c in comments]

    recent, old, harmless = arrange(app, build)
    response = back.post("/admin/words/new", word_data(term="代購假貨", categories=["C14"], action="block"))
    hit_at = lambda cid: read(app, lambda s: s.get(Comment, cid).patrol_hit_at)  # noqa: E731
    assert hit_at(recent) is None  # the patrol waits until the page is sent
    response.close()
    assert hit_at(recent) is not None
    assert hit_at(old) is None  # older than 30 days
    assert hit_at(harmless) is None
    patrol = [r for r in records(app) if r.action == "comment.patrol_hit"]
    assert [r.target_id for r in patrol] == [recent]


# --- users -------------------------------------------------------------------------------------


def user_ids(root) -> list[int]:
    return [int(text_of(tr.find("td"))) for tr in find_all(root, "table", id="user-list")[0].find("tbody")]


def test_search_users_by_nickname(back, make_user):
    wanted = make_user(nickname="東昌湖邊人")
    make_user(nickname="運河晨跑")
    assert user_ids(back.page("/admin/users?nickname=湖邊")) == [wanted.id]
    listing = back.page("/admin/users")
    assert len(user_ids(listing)) == 3
    # Roles and states in words: the codes are the database's, not the newsroom's.
    cells = [text_of(td) for td in find_all(listing, "td")]
    assert "讀者" in cells and "正常" in cells
    assert not {"reader", "admin", "active"} & set(cells)


def test_phone_search_needs_the_pii_permission(app, back, make_user):
    wanted = make_user(nickname="手機用戶")
    response = back.get(f"/admin/users?phone={wanted.phone}", status=403)
    assert "您沒有權限進行此操作。" in response.get_data(as_text=True)
    (search,) = find_all(back.page("/admin/users"), "form", aria_label="搜索用戶")
    assert not find_all(search, "input", name="phone")


def test_an_admin_with_pii_finds_a_user_by_phone(app, client, make_user):
    officer = make_user(role="admin", nickname="實名管理員", can_view_pii=True)
    wanted = make_user(nickname="手機用戶")
    make_user(nickname="其他用戶")
    login(client, officer.phone, officer.password)
    back = Back(app, client)
    page = back.page(f"/admin/users?phone={wanted.phone}")
    assert user_ids(page) == [wanted.id]
    masked = text_of(find_all(page, "table", id="user-list")[0].find("tbody").find("tr").findall("td")[2])
    assert wanted.phone not in masked and masked.endswith(wanted.phone[-4:])
    assert user_ids(back.page("/admin/users?phone=not-a-phone")) == []
    written = f"(+86) {wanted.phone[:3]}-{wanted.phone[3:7]}-{wanted.phone[7:]}"
    assert user_ids(back.page(f"/admin/users?{urlencode({'phone': written})}")) == [wanted.id]


def test_set_role_scopes_and_pii(app, back, make_user, tree):
    person = make_user(nickname="新晉審核員")
    since = record_count(app)
    url = f"/admin/users/{person.id}"
    data = {"role": "moderator", "sections": [str(tree["yaowen"]), str(tree["ruiping"])], "can_view_pii": "y"}
    response = back.post(url, data)
    assert back.flash(response) == "已更新 新晉審核員 的權限"
    stored = read(app, lambda s: (s.get(User, person.id).role, s.get(User, person.id).can_view_pii))
    assert stored == ("moderator", True)
    scopes = read(
        app,
        lambda s: sorted(
            s.scalars(select(ModeratorScope.section_id).where(ModeratorScope.user_id == person.id))
        ),
    )
    assert scopes == sorted([tree["yaowen"], tree["ruiping"]])
    row = assert_one_record(app, since, "admin.user_access", person.id)
    assert json.loads(row.before)["role"] == "reader"
    form = back.page(url)
    assert (field_value(form, "role"), field_value(form, "can_view_pii")) == ("moderator", True)
    assert sorted(field_value(form, "sections")) == sorted([str(tree["yaowen"]), str(tree["ruiping"])])
    # Back to reader: scopes and pii go with the role.
    back.post(url, {"role": "reader", "sections": [str(tree["yaowen"])], "can_view_pii": "y"})
    assert read(app, lambda s: s.get(User, person.id).can_view_pii) is False
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(ModeratorScope))) == 0


def test_a_role_change_logs_the_user_out_everywhere(app, back, make_user):
    person = make_user(nickname="將被提權者")
    theirs = app.test_client()
    login(theirs, person.phone, person.password)
    assert "將被提權者" in theirs.get("/").get_data(as_text=True)
    token_before = read(app, lambda s: s.get(User, person.id).session_token)
    back.post(f"/admin/users/{person.id}", {"role": "moderator"})
    assert read(app, lambda s: s.get(User, person.id).session_token) != token_before
    home = theirs.get("/").get_data(as_text=True)
    assert "將被提權者" not in home
    assert theirs.get("/moderation/").status_code == 302


def test_saving_the_same_access_keeps_the_session(app, back, make_user):
    person = make_user(nickname="不變的讀者")
    token_before = read(app, lambda s: s.get(User, person.id).session_token)
    back.post(f"/admin/users/{person.id}", {"role": "reader"})
    assert read(app, lambda s: s.get(User, person.id).session_token) == token_before


def test_an_admin_cannot_remove_their_own_admin_role(app, back, admin):
    since = record_count(app)
    response = back.post(f"/admin/users/{admin.id}", {"role": "moderator"}, status=422)
    form = html_of(response)
    assert field_errors(form, "role") == ["不能取消自己的管理員身份"]
    assert field_value(form, "role") == "moderator"
    assert read(app, lambda s: s.get(User, admin.id).role) == "admin"
    assert record_count(app) == since
    assert back.get("/admin/").status_code == 200


def test_invalid_access_forms_are_refused_in_chinese(app, back, make_user):
    person = make_user(nickname="某讀者")

    def check(data, field, message):
        response = back.post(f"/admin/users/{person.id}", data, status=422)
        assert any(message in e for e in field_errors(html_of(response), field))

    check_cases(
        [
            ({"role": "superuser"}, "role", "請選擇有效的角色。"),
            ({"role": "moderator", "sections": ["abc"]}, "sections", "請從列表中選擇欄目"),
            ({"role": "moderator", "sections": ["987654"]}, "sections", "所選欄目不存在"),
        ],
        check,
    )
    assert read(app, lambda s: s.get(User, person.id).role) == "reader"
    assert record_count(app) == 0


@pytest.mark.parametrize("crafted", ["abc", "-1", "1.5", "１", "0x10", " ", "1e3"])
def test_a_crafted_moderator_scope_reads_choose_from_the_list(app, back, make_user, tree, crafted):
    """Not a section id at all, alone or beside a real one: one plain message, not WTForms'
    「無效的選擇：至少有一筆資料無法被強制轉化。」; nothing changes."""
    person = make_user(nickname="某讀者")
    for sections in ([crafted], [str(tree["yaowen"]), crafted]):
        response = back.post(
            f"/admin/users/{person.id}", {"role": "moderator", "sections": sections}, status=422
        )
        assert field_errors(html_of(response), "sections") == ["請從列表中選擇欄目"]
        assert "強制轉化" not in response.get_data(as_text=True)
    assert read(app, lambda s: s.get(User, person.id).role) == "reader"
    assert record_count(app) == 0


def test_unknown_user_ids_are_404(back):
    back.get("/admin/users/987654", status=404)
    back.post("/admin/users/987654", {"role": "admin"}, status=404)


def staff_data(**overrides) -> dict:
    return {
        "phone": "13811112222",
        "nickname": "夜班審核員",
        "password": "night-shift-2026",
        "role": "moderator",
        **overrides,
    }


def test_create_a_moderator_account_that_can_log_in(app, back):
    since = record_count(app)
    response = back.post("/admin/users", staff_data())
    assert back.flash(response) == "已建立審核員賬號 夜班審核員"
    person = read(app, lambda s: s.scalar(select(User).where(User.nickname == "夜班審核員")))
    assert (person.role, person.phone_verified_at is not None) == ("moderator", True)
    assert response.location.endswith(f"/admin/users/{person.id}")
    assert_one_record(app, since, "admin.staff_created", person.id)
    theirs = app.test_client()
    login(theirs, "13811112222", "night-shift-2026")
    assert theirs.get("/moderation/").status_code == 200
    assert theirs.get("/admin/").status_code == 403


def test_creating_staff_with_bad_fields_re_renders_the_form_with_what_was_typed(app, back):
    response = back.post("/admin/users", staff_data(password="short"), status=422)
    form = html_of(response)
    assert field_errors(form, "password") == ["密碼需為8至128個字符"]
    assert (field_value(form, "phone"), field_value(form, "nickname")) == ("13811112222", "夜班審核員")
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(User))) == 1


def test_creating_staff_with_a_taken_phone_is_refused(app, back, make_user):
    taken = make_user(nickname="已有用戶")
    # The form again, 422, with the message beside the field (STYLE.md §9).
    response = back.post("/admin/users", staff_data(phone=taken.phone), status=422)
    assert any("該手機號已註冊" in e for e in field_errors(html_of(response), "phone"))
    assert record_count(app) == 0


def test_staff_created_with_a_phone_as_people_write_it_log_in_with_it_any_way(app, back, make_user):
    back.post("/admin/users", staff_data(phone="(+86) 138-1111-2222"))
    theirs = app.test_client()
    login(theirs, "86 138 1111 2222", "night-shift-2026")
    assert theirs.get("/moderation/").status_code == 200
    taken = make_user(nickname="已有用戶")
    written = f"+86 {taken.phone[:3]} {taken.phone[3:7]} {taken.phone[7:]}"
    response = back.post("/admin/users", staff_data(phone=written, nickname="另一審核員"), status=422)
    assert any("該手機號已註冊" in e for e in field_errors(html_of(response), "phone"))


def test_staff_accounts_store_how_their_names_read_and_may_not_read_as_a_reader(app, back, make_user):
    make_user(nickname="運河晨跑")
    response = back.post("/admin/users", staff_data(nickname="运河晨跑"), status=422)
    assert field_errors(html_of(response), "nickname") == ["該暱稱已被使用"]
    back.post("/admin/users", staff_data(nickname="Ｎｉｇｈｔ審核員"))
    stored = read(
        app, lambda s: s.execute(select(User.nickname, User.nickname_reading).order_by(User.id)).all()
    )
    assert stored[-2:] == [("運河晨跑", "运河晨跑"), ("Ｎｉｇｈｔ審核員", "night审核员")]


def test_readers_cannot_be_created_from_the_staff_form(app, back):
    response = back.post("/admin/users", staff_data(role="reader"), status=422)
    assert field_errors(html_of(response), "role") == ["請選擇有效的角色。"]
    assert read(app, lambda s: s.scalar(select(User).where(User.nickname == "夜班審核員"))) is None


# --- 停用, 啟用 and passwords ----------------------------------------------------------------------


def signed_in(client) -> bool:
    """Whether the browser's session still signs it in: 我的評論 answers only then."""
    return client.get("/accounts/comments").status_code == 200


def login_refusal(app, phone: str, password: str) -> tuple[int, list[str]]:
    """A fresh browser's attempt to sign in: the status and the messages beside the password."""
    client = app.test_client()
    response = client.post(
        LOGIN_PATH, data={"phone": phone, "password": password, "csrf_token": token_for(client, LOGIN_PATH)}
    )
    if response.status_code == 303:
        return 303, []
    return response.status_code, field_errors(html_of(response), "password")


def account_state(app, user_id: int) -> str:
    return read(app, lambda s: str(s.get(User, user_id).state))


def test_an_admin_disables_an_account_which_is_signed_out_and_cannot_sign_in(app, back, make_user):
    person = make_user(nickname="發廣告的人")
    theirs = app.test_client()
    login(theirs, person.phone, person.password)
    assert signed_in(theirs)
    page = back.page(f"/admin/users/{person.id}")
    assert text_of(find_all(page, "p", id="account-state")[0]) == "目前：正常"
    form = delete_form(page, f"/admin/users/{person.id}/disable")
    assert form.get("data-confirm") == "確定停用 發廣告的人 的賬號？其所有登錄將立即退出。"
    since = record_count(app)
    response = back.post(f"/admin/users/{person.id}/disable", {"note": "多次發布廣告"})
    assert back.flash(response) == "已停用 發廣告的人 的賬號，其所有登錄已退出"
    assert account_state(app, person.id) == "closed"
    row = assert_one_record(app, since, "admin.account_disabled", person.id)
    assert (row.note, json.loads(row.after)["state"]) == ("多次發布廣告", "closed")
    assert not signed_in(theirs)
    assert login_refusal(app, person.phone, person.password) == (403, ["賬號已關閉"])
    # The desk sees the same closure, as one of the account's measures.
    measures = read(app, lambda s: [(m.measure, m.reason_code) for m in s.scalars(select(Sanction))])
    assert measures == [("close", "admin")]
    (row,) = find_all(back.page(f"/moderation/users/{person.id}"), "tbody")[0].iter("tr")
    assert [text_of(td) for td in row.findall("td")][1:5] == ["關閉賬號", "管理員停用賬號", "—", "有效"]
    listing = back.page("/admin/users?state=closed")
    assert user_ids(listing) == [person.id]


def test_an_admin_enables_a_disabled_account_which_can_sign_in_again(app, back, make_user):
    person = make_user(nickname="已改過的人")
    back.post(f"/admin/users/{person.id}/disable", {"note": "發廣告"})
    page = back.page(f"/admin/users/{person.id}")
    assert text_of(find_all(page, "p", id="account-state")[0]) == "目前：已關閉"
    assert delete_form(page, f"/admin/users/{person.id}/disable") is None
    since = record_count(app)
    response = back.post(f"/admin/users/{person.id}/enable", {"note": "已承諾不再發廣告"})
    assert back.flash(response) == "已啟用 已改過的人 的賬號"
    assert account_state(app, person.id) == "active"
    row = assert_one_record(app, since, "admin.account_enabled", person.id)
    assert row.note == "已承諾不再發廣告"
    assert login_refusal(app, person.phone, person.password) == (303, [])


def test_disabling_without_a_reason_shows_the_form_again_with_a_message(app, back, make_user):
    person = make_user(nickname="未說明原因")
    response = back.post(f"/admin/users/{person.id}/disable", {"note": "  "}, status=422)
    page = html_of(response)
    assert field_errors(page, "note") == ["請填寫停用原因"]
    assert field_value(page, "role") == "reader"  # the rest of the page as it stands
    assert account_state(app, person.id) == "active"
    assert record_count(app) == 0


def test_a_reason_over_its_limit_is_said_beside_it_and_kept(app, back, make_user):
    person = make_user(nickname="原因太長")
    response = back.post(f"/admin/users/{person.id}/disable", {"note": "長" * 201}, status=422)
    page = html_of(response)
    assert field_errors(page, "note")
    assert field_value(page, "note") == "長" * 201
    assert account_state(app, person.id) == "active"


def test_an_admin_cannot_disable_their_own_account(app, back, admin):
    page = back.page(f"/admin/users/{admin.id}")
    assert delete_form(page, f"/admin/users/{admin.id}/disable") is None
    assert "不能停用自己的賬號。" in text_of(page)
    response = back.post(f"/admin/users/{admin.id}/disable", {"note": "試試"}, status=403)
    assert "不能停用自己的賬號" in messages(html_of(response))
    assert account_state(app, admin.id) == "active"
    assert record_count(app) == 0
    assert back.get("/admin/").status_code == 200


def test_disabling_twice_or_enabling_an_open_account_is_refused(app, back, make_user):
    person = make_user(nickname="狀態衝突")
    response = back.post(f"/admin/users/{person.id}/enable", {"note": ""}, status=409)
    assert "這個賬號沒有停用" in messages(html_of(response))
    back.post(f"/admin/users/{person.id}/disable", {"note": "發廣告"})
    since = record_count(app)
    response = back.post(f"/admin/users/{person.id}/disable", {"note": "又一次"}, status=409)
    assert "這個賬號已經停用" in messages(html_of(response))
    assert record_count(app) == since


def test_another_admin_can_be_disabled_but_never_the_last_one(app, back, admin, make_user):
    deputy = make_user(role="admin", nickname="副總編輯")
    back.post(f"/admin/users/{deputy.id}/disable", {"note": "離職"})
    assert account_state(app, deputy.id) == "closed"
    # The one admin left is the one asking: their own account, and the last admin, stay.
    back.post(f"/admin/users/{admin.id}/disable", {"note": "離職"}, status=403)
    assert account_state(app, admin.id) == "active"


def test_an_admin_sets_a_new_password_and_every_session_of_the_account_ends(app, back, make_user):
    person = make_user(nickname="忘了手機的人")
    theirs = app.test_client()
    login(theirs, person.phone, person.password)
    assert signed_in(theirs)
    since = record_count(app)
    response = back.post(f"/admin/users/{person.id}/password", {"password": "given-by-desk-2026"})
    assert back.flash(response) == "已為 忘了手機的人 設置新密碼，其他設備上的登錄已全部退出"
    row = assert_one_record(app, since, "admin.password_set", person.id)
    assert "given-by-desk-2026" not in row.before + row.after + row.note
    assert not signed_in(theirs)
    assert login_refusal(app, person.phone, person.password) == (422, ["手機號或密碼錯誤"])
    assert login_refusal(app, person.phone, "given-by-desk-2026") == (303, [])


def test_a_short_password_shows_the_form_again_and_changes_nothing(app, back, make_user):
    person = make_user(nickname="短密碼")
    response = back.post(f"/admin/users/{person.id}/password", {"password": "short"}, status=422)
    page = html_of(response)
    assert field_errors(page, "password") == ["密碼需為8至128個字符"]
    assert field_value(page, "password") in (None, "")  # a password is never sent back
    assert login_refusal(app, person.phone, person.password) == (303, [])
    assert record_count(app) == 0


def test_an_admins_own_new_password_keeps_this_session_and_ends_the_others(app, back, admin):
    elsewhere = app.test_client()
    login(elsewhere, admin.phone, admin.password)
    response = back.post(f"/admin/users/{admin.id}/password", {"password": "chief-editor-2026"})
    assert back.flash(response) == "已為 總編輯 設置新密碼，其他設備上的登錄已全部退出"
    assert back.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


def test_a_forced_reset_makes_the_password_lapse_until_the_owner_resets_it(app, back, make_user):
    person = make_user(nickname="密碼外洩")
    theirs = app.test_client()
    login(theirs, person.phone, person.password)
    assert signed_in(theirs)
    form = delete_form(back.page(f"/admin/users/{person.id}"), f"/admin/users/{person.id}/password-reset")
    assert "忘記密碼" in form.get("data-confirm")
    since = record_count(app)
    response = back.post(f"/admin/users/{person.id}/password-reset")
    assert back.flash(response).startswith("密碼外洩 的密碼已失效、登錄已全部退出")
    assert_one_record(app, since, "admin.password_reset_forced", person.id)
    assert not signed_in(theirs)
    assert login_refusal(app, person.phone, person.password) == (422, ["手機號或密碼錯誤"])
    assert account_state(app, person.id) == "active"


def test_an_admin_cannot_force_a_reset_of_their_own_password(app, back, admin):
    assert (
        delete_form(back.page(f"/admin/users/{admin.id}"), f"/admin/users/{admin.id}/password-reset") is None
    )
    response = back.post(f"/admin/users/{admin.id}/password-reset", status=403)
    assert "不能強制重設自己的密碼，請直接設置新密碼" in messages(html_of(response))
    assert record_count(app) == 0
    assert back.get("/admin/").status_code == 200


ACCOUNT_ACTIONS = [
    ("disable", {"note": "離職"}),
    ("enable", {"note": ""}),
    ("password", {"password": "long-enough-pw"}),
    ("password-reset", {}),
]


@pytest.mark.parametrize(("action", "data"), ACCOUNT_ACTIONS)
def test_account_actions_need_an_admin_a_token_and_an_existing_account(
    app, back, client, make_user, action, data
):
    person = make_user(nickname="被操作的人")
    before = read(app, lambda s: (s.get(User, person.id).session_token, s.get(User, person.id).password_hash))
    url = f"/admin/users/{person.id}/{action}"
    response = back.post(url, data, token=False, status=400)
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    back.post(f"/admin/users/987654/{action}", data, status=404)
    for role in ("moderator", "reader"):
        other = app.test_client()
        someone = make_user(role=role)
        login(other, someone.phone, someone.password)
        refused = other.post(url, data={**data, "csrf_token": token_for(other, "/")})
        assert refused.status_code == 403, role
    anonymous = app.test_client()
    assert (
        anonymous.post(url, data={**data, "csrf_token": token_for(anonymous, LOGIN_PATH)}).status_code == 302
    )
    after = read(app, lambda s: (s.get(User, person.id).session_token, s.get(User, person.id).password_hash))
    assert after == before
    assert record_count(app) == 0


# --- no 500 from any input ---------------------------------------------------------------------

JUNK = ["", "abc", "-1", "²", "9" * 24, "0001-01-01T00:00", "\x00<script>alert(1)</script>", "名" * 300]


def form_cases(tree: dict, targets: dict) -> dict[str, tuple[str, dict]]:
    return {
        "section": ("/admin/sections/new", section_data(slug="junk")),
        "section-edit": (f"/admin/sections/{targets['section_id']}", section_data(slug="ruiping")),
        "article": ("/admin/articles/new", article_data(tree["ruiping"])),
        "page": ("/admin/pages/new", page_data(slug="junk")),
        "settings": ("/admin/settings", settings_data()),
        "word": ("/admin/words/new", word_data(term="垃圾詞條")),
        "test": ("/admin/words/test", {"text": "你好"}),
        "user": (
            f"/admin/users/{targets['user_id']}",
            {"role": "moderator", "sections": [], "can_view_pii": "y"},
        ),
        "staff": ("/admin/users", staff_data()),
        "disable": (f"/admin/users/{targets['user_id']}/disable", {"note": "離職"}),
        "password": (f"/admin/users/{targets['user_id']}/password", {"password": "long-enough-pw"}),
    }


def test_no_field_value_makes_any_form_answer_500(app, back, tree, targets):
    crashes = []
    for form, (url, good) in form_cases(tree, targets).items():
        for field in good:
            for junk in JUNK:
                data = {**good, field: junk, "csrf_token": back.token}
                try:
                    response = back.client.post(url, data=data)
                except Exception as error:  # TESTING lets a 500's exception through
                    crashes.append(f"{form} {field}={junk[:12]!r}: {type(error).__name__}: {str(error)[:70]}")
                    continue
                if response.status_code >= 500:
                    crashes.append(f"{form} {field}={junk[:12]!r}: {response.status_code}")
                else:
                    assert_chinese(response)
    assert not crashes, "\n".join(crashes)


def test_list_pages_answer_odd_queries(back):
    for url in (
        "/admin/words?q=%25_&after=x",
        "/admin/users?state=x&role=root&nickname=%25&after=x",
        "/admin/media?kind=../../etc&after=x",
    ):
        back.get(url)
    back.get("/admin/articles?q=x&since=2026-99-99", status=422)  # said beside the field
    # NUL is never valid input (PostgreSQL cannot store it): a clear 400 in Chinese.
    for url in ("/admin/words?q=%00", "/admin/users?state=%00", "/admin/articles?q=%00"):
        back.get(url, status=400)


HUGE_ID = "9" * 24
HUGE_CURSOR = f"20260101000000000000-{HUGE_ID}"


def test_ids_beyond_sqlite_integers_are_refused_not_500(app, back, tree, targets):
    # int("9" * 24) is a fine Python int, but SQLite's INTEGER stops at 2**63 - 1: such an id reaches
    # the database and raises OverflowError. Each of these should be a 422 field error or a plain page.
    crashes = []
    posts = [
        ("/admin/sections/new", section_data(parent_id=HUGE_ID)),
        ("/admin/articles/new", article_data(tree["ruiping"], section_id=HUGE_ID)),
        ("/admin/articles/new", article_data(tree["ruiping"], cover_id=HUGE_ID)),
        ("/admin/articles/new", article_data(tree["ruiping"], player_id=HUGE_ID)),
        (f"/admin/users/{targets['user_id']}", {"role": "moderator", "sections": [HUGE_ID]}),
    ]
    for url, data in posts:
        field = next(k for k, v in data.items() if v in (HUGE_ID, [HUGE_ID]))
        try:
            status = back.client.post(url, data={**data, "csrf_token": back.token}).status_code
        except OverflowError as error:
            crashes.append(f"POST {url} {field}: {error}")
            continue
        if status != 422:
            crashes.append(f"POST {url} {field}: {status}")
    for url in (
        f"/admin/articles?after={HUGE_CURSOR}",
        f"/admin/articles?section={HUGE_ID}",
        f"/admin/words?after={HUGE_CURSOR}",
        f"/admin/media?after={HUGE_CURSOR}",
        f"/admin/users?after={HUGE_CURSOR}",
    ):
        try:
            status = back.client.get(url).status_code
        except OverflowError as error:
            crashes.append(f"GET {url}: {error}")
            continue
        if status != 200:
            crashes.append(f"GET {url}: {status}")
    assert not crashes, "\n".join(crashes)


def test_ids_written_with_other_unicode_digits_are_refused_not_500(app, back, tree):
    # "²".isdigit() is True but int("²") raises ValueError: the views' isdigit() guards let it through.
    crashes = []
    posts = [
        ("/admin/sections/new", section_data(parent_id="²")),
        ("/admin/articles/new", article_data(tree["ruiping"], section_id="²")),
        ("/admin/articles/new", article_data(tree["ruiping"], cover_id="²")),
        ("/admin/articles/new", article_data(tree["ruiping"], player_id="²")),
        ("/admin/articles/new", article_data(tree["ruiping"], gallery_ids="²")),
        ("/admin/articles/new", article_data(tree["ruiping"], related_ids="²")),
    ]
    for url, data in posts:
        field = next(k for k, v in data.items() if v == "²")
        try:
            status = back.client.post(url, data={**data, "csrf_token": back.token}).status_code
        except ValueError as error:
            crashes.append(f"POST {url} {field}: {error}")
            continue
        if status != 422:
            crashes.append(f"POST {url} {field}: {status}")
    assert not crashes, "\n".join(crashes)


def test_dates_near_year_one_are_refused_not_500(app, back, tree):
    # Local 0001-01-01 00:00 is before UTC's year 1: astimezone() raises OverflowError.
    crashes = []
    try:
        response = back.client.post(
            "/admin/articles/new",
            data={**article_data(tree["ruiping"], published_at="0001-01-01T00:00"), "csrf_token": back.token},
        )
        if response.status_code != 422:
            crashes.append(f"POST published_at=0001-01-01T00:00: {response.status_code}")
    except OverflowError as error:
        crashes.append(f"POST published_at=0001-01-01T00:00: {error}")
    for query in ("since=0001-01-01", "until=0001-01-01"):
        try:
            status = back.client.get(f"/admin/articles?{query}").status_code
            if status != 422:  # out of range: said beside the field, not applied
                crashes.append(f"GET ?{query}: {status}")
        except OverflowError as error:
            crashes.append(f"GET ?{query}: {error}")
    assert not crashes, "\n".join(crashes)


def test_an_overlong_region_database_path_is_refused_not_500(app, back):
    try:
        response = back.client.post(
            "/admin/settings", data={**settings_data(region_database="名" * 300), "csrf_token": back.token}
        )
    except OSError as error:  # Path.is_file(): [Errno 36] File name too long
        pytest.fail(f"500: {error}")
    assert response.status_code == 422
    assert field_errors(html_of(response), "region_database")


def test_a_mistyped_number_or_time_is_not_reported_as_missing(app, back, tree):
    # DataRequired treats 0 and an unparsable value as empty and replaces the real message with
    # "此欄位是必需的" / "請填寫發布時間", though the editor did fill the field in.
    def check(url, data, field, message):
        form = html_of(back.post(url, data, status=422))
        assert field_errors(form, field) == [message]

    check_cases(
        [
            (
                "/admin/settings",
                settings_data(comment_min_length="0"),
                "comment_min_length",
                "評論最少字數須介於1至50之間。",
            ),
            (
                "/admin/settings",
                settings_data(quota_new="0"),
                "quota_new",
                "新用戶每日評論上限須介於1至10000之間。",
            ),
            (
                "/admin/settings",
                settings_data(comment_max_length="abc"),
                "comment_max_length",
                "評論最多字數須填寫整數。",
            ),
            (
                "/admin/articles/new",
                article_data(tree["ruiping"], published_at="明天早上"),
                "published_at",
                "請填寫有效的發布時間。",
            ),
        ],
        check,
    )
