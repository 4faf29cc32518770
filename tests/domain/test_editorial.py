"""The newsroom's rules, without the web: save_section, delete_section, save_article, save_page and
save_settings validate, change rows, append one audit record, and never commit."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.editorial import (
    ArticleInput,
    SectionInput,
    delete_page,
    delete_section,
    save_article,
    save_page,
    save_section,
    save_settings,
)
from portal.domain.errors import Rejected
from portal.domain.sanitize import MAX_SOURCE_CHARS
from portal.models import (
    Article,
    ArticleKind,
    ArticleState,
    CommentsState,
    GalleryPicture,
    Media,
    MediaKind,
    ModerationAction,
    Page,
    Role,
    Section,
    SiteSetting,
    User,
    utc_now,
)
from tests.factories import make_article, make_section

NOW = utc_now().replace(microsecond=0)


@pytest.fixture
def editor(session) -> User:
    user = User(nickname="編輯甲", phone_cipher=b"-", phone_hmac="editor", password_hash="-", role=Role.ADMIN)
    session.add(user)
    session.flush()
    return user


def records(session, action: str | None = None) -> list[ModerationAction]:
    query = select(ModerationAction).order_by(ModerationAction.id)
    if action:
        query = query.where(ModerationAction.action == action)
    return list(session.scalars(query))


def rejected(call, field: str, message: str | None = None) -> Rejected:
    with pytest.raises(Rejected) as refusal:
        call()
    assert refusal.value.field == field
    if message is not None:
        assert message in refusal.value.message
    assert refusal.value.status == 422
    return refusal.value


# --- sections ---------------------------------------------------------------------------------


def section_input(**overrides) -> SectionInput:
    fields = {
        "slug": "xinlanmu",
        "name": "新欄目",
        "parent_id": None,
        "position": 0,
        "description": "",
        "layout": "list",
        "hidden": False,
        "comments_closed": False,
        "auto_close_days": None,
    }
    return SectionInput(**{**fields, **overrides})


@pytest.fixture
def tree(session):
    """要聞 > 聊城 > 東昌府, and 銳評 beside it."""
    yaowen = make_section(session, slug="yaowen", name="要聞")
    liaocheng = make_section(session, slug="liaocheng", name="聊城", parent=yaowen)
    dongchang = make_section(session, slug="dongchang", name="東昌府", parent=liaocheng)
    ruiping = make_section(session, slug="ruiping", name="銳評")
    return {s.slug: s for s in (yaowen, liaocheng, dongchang, ruiping)}


def save(session, editor, section=None, **overrides) -> Section:
    return save_section(session, section=section, data=section_input(**overrides), actor=editor, now=NOW)


def test_a_new_section_is_saved_with_every_field_and_recorded(session, editor, tree):
    section = save(
        session,
        editor,
        slug="  Wenhua ",
        name=" 文化 ",
        parent_id=tree["ruiping"].id,
        position=7,
        description=" 文化評論 ",
        layout="paper",
        hidden=True,
        comments_closed=True,
        auto_close_days=30,
    )
    assert (section.slug, section.name, section.description) == ("wenhua", "文化", "文化評論")
    assert (section.parent_id, section.position, section.layout) == (tree["ruiping"].id, 7, "paper")
    assert (section.hidden, section.comments_closed, section.auto_close_days) == (True, True, 30)
    assert section.pre_review is True  # every comment is pre-reviewed: no section may say otherwise
    (row,) = records(session)
    assert (row.action, row.target_type, row.target_id, row.actor_id, row.actor_role) == (
        "admin.section_saved",
        "section",
        section.id,
        editor.id,
        "admin",
    )
    assert json.loads(row.before) == {}
    assert json.loads(row.after)["slug"] == "wenhua"


def test_editing_keeps_the_row_and_records_before_and_after(session, editor, tree):
    ruiping = tree["ruiping"]
    saved = save(session, editor, section=ruiping, slug="ruiping", name="銳評論", position=3)
    assert saved is ruiping
    assert session.scalar(select(func.count()).select_from(Section)) == 4
    (row,) = records(session)
    assert json.loads(row.before)["name"] == "銳評"
    assert json.loads(row.after)["name"] == "銳評論"
    assert json.loads(row.after)["position"] == 3


@pytest.mark.parametrize("slug", ["", "-lead", "has space", "中文", "a_b", "a" * 65, "a/b"])
def test_a_malformed_slug_is_refused(session, editor, slug):
    rejected(lambda: save(session, editor, slug=slug), "slug", "網址代號只能用")
    assert records(session) == []


def test_a_slug_in_use_is_refused_but_a_section_keeps_its_own(session, editor, tree):
    rejected(lambda: save(session, editor, slug="yaowen"), "slug", "已被其他欄目使用")
    rejected(
        lambda: save(session, editor, section=tree["ruiping"], slug="YAOWEN"), "slug", "已被其他欄目使用"
    )
    save(session, editor, section=tree["ruiping"], slug="ruiping", name="銳評")


def test_a_name_in_use_beside_it_is_refused_but_elsewhere_and_its_own_is_kept(session, editor, tree):
    """Two 要聞 side by side in the menu could not be told apart."""
    rejected(lambda: save(session, editor, name=" 要聞 "), "name", "同一上級欄目下已有名為「要聞」的欄目")
    liaocheng = tree["liaocheng"]
    rejected(
        lambda: save(
            session,
            editor,
            section=tree["ruiping"],
            slug="ruiping",
            name="聊城",
            parent_id=liaocheng.parent_id,
        ),
        "name",
        "已有名為「聊城」",
    )
    assert records(session) == []
    save(session, editor, section=liaocheng, slug="liaocheng", name="聊城", parent_id=liaocheng.parent_id)
    save(session, editor, slug="liaocheng2", name="聊城")  # at the top, beside 要聞 and 銳評: no twin


def test_a_blank_name_is_refused(session, editor):
    rejected(lambda: save(session, editor, name="   "), "name", "請填寫欄目名稱")


def test_an_unknown_parent_is_refused(session, editor):
    rejected(lambda: save(session, editor, parent_id=987654), "parent_id", "上級欄目不存在")


@pytest.mark.parametrize("new_parent", ["yaowen", "liaocheng", "dongchang"])
def test_a_section_cannot_move_under_itself_or_its_descendants(session, editor, tree, new_parent):
    yaowen = tree["yaowen"]
    rejected(
        lambda: save(
            session, editor, section=yaowen, slug="yaowen", name="要聞", parent_id=tree[new_parent].id
        ),
        "parent_id",
        "不能把欄目移到它自己或它的子欄目之下",
    )
    assert yaowen.parent_id is None


def test_a_section_can_move_under_another_branch(session, editor, tree):
    moved = save(
        session,
        editor,
        section=tree["dongchang"],
        slug="dongchang",
        name="東昌府",
        parent_id=tree["ruiping"].id,
    )
    assert moved.parent_id == tree["ruiping"].id


def test_a_section_has_no_pre_review_choice_and_its_record_does_not_mention_one(session, editor, tree):
    """Every comment on the site waits for a moderator (P21): a section's 先審後發 box changed a
    column nothing read. The input has no such field, and the record no longer shows one."""
    assert "pre_review" not in {f.name for f in dataclasses.fields(SectionInput)}
    section = save(session, editor, slug="wenhua", parent_id=tree["ruiping"].id)
    assert section.pre_review is True
    [record] = records(session)
    assert "pre_review" not in json.loads(record.after)


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_auto_close_days_out_of_range_are_refused(session, editor, days):
    rejected(lambda: save(session, editor, auto_close_days=days), "auto_close_days")


def test_a_section_with_articles_cannot_be_deleted(session, editor, tree):
    make_article(session, tree["ruiping"])
    rejected(
        lambda: delete_section(session, section=tree["ruiping"], actor=editor, now=NOW),
        "delete",
        "欄目中還有文章，不能刪除，只能隱藏",
    )
    assert session.get(Section, tree["ruiping"].id) is not None
    assert records(session) == []


def test_a_section_with_children_cannot_be_deleted(session, editor, tree):
    rejected(
        lambda: delete_section(session, section=tree["liaocheng"], actor=editor, now=NOW), "delete", "子欄目"
    )


def test_an_empty_section_is_deleted_and_recorded(session, editor, tree):
    section_id = tree["dongchang"].id
    delete_section(session, section=tree["dongchang"], actor=editor, now=NOW)
    session.flush()
    assert session.get(Section, section_id) is None
    (row,) = records(session)
    assert (row.action, row.target_id) == ("admin.section_deleted", section_id)
    assert json.loads(row.before)["slug"] == "dongchang"


# --- articles ---------------------------------------------------------------------------------


def picture(session, **fields) -> Media:
    media = Media(
        **{
            "kind": MediaKind.IMAGE,
            "path": f"uploads/p{session.scalar(select(func.count()).select_from(Media))}.jpg",
            "mime": "image/jpeg",
            "width": 640,
            "height": 360,
            **fields,
        }
    )
    session.add(media)
    session.flush()
    return media


def article_input(section: Section, **overrides) -> ArticleInput:
    fields = {
        "title": "動起來 跑起來 干起來",
        "section_id": section.id,
        "source": "大眾日報",
        "published_at": NOW - timedelta(hours=1),
        "reporters": "本報記者 賀瑩瑩 李廣寅",
        "editor": "李太斗",
        "editor_note": "新春走基層。",
        "summary": "",
        "body_md": "## 濟南\n\n正文第一段。",
        "kind": "text",
        "state": "published",
        "comments_state": "open",
        "cover_id": None,
        "player_id": None,
        "gallery_ids": [],
        "related_ids": [],
    }
    return ArticleInput(**{**fields, **overrides})


def write(session, editor, section, article=None, **overrides) -> Article:
    return save_article(
        session, article=article, data=article_input(section, **overrides), actor=editor, now=NOW
    )


def test_resaving_keeps_the_stored_seconds_unless_the_minute_changes(session, editor, tree):
    exact = datetime(2026, 11, 24, 15, 13, 41)
    article = write(session, editor, tree["ruiping"], published_at=exact)
    write(session, editor, tree["ruiping"], article=article, published_at=exact.replace(second=0))
    assert article.published_at == exact  # the form shows minutes: nothing was changed
    write(session, editor, tree["ruiping"], article=article, published_at=datetime(2026, 11, 24, 15, 20))
    assert article.published_at == datetime(2026, 11, 24, 15, 20)


def test_an_article_is_saved_with_every_part_and_recorded(session, editor, tree):
    cover = picture(session, caption="濟南街頭")
    article = write(session, editor, tree["liaocheng"], cover_id=cover.id, comments_state="closed")
    assert (article.title, article.source, article.reporters, article.editor, article.editor_note) == (
        "動起來 跑起來 干起來",
        "大眾日報",
        "本報記者 賀瑩瑩 李廣寅",
        "李太斗",
        "新春走基層。",
    )
    assert article.published_at == NOW - timedelta(hours=1)
    assert (article.kind, article.state, article.comments_state) == (
        ArticleKind.TEXT,
        ArticleState.PUBLISHED,
        CommentsState.CLOSED,
    )
    assert article.cover_id == cover.id
    assert article.body_html == "<h2>濟南</h2>\n<p>正文第一段。</p>"
    assert article.body_text.startswith("濟南")
    assert (article.created_at, article.updated_at) == (NOW, NOW)
    (row,) = records(session)
    assert (row.action, row.target_type, row.target_id) == ("admin.article_saved", "article", article.id)
    assert json.loads(row.after)["title"] == "動起來 跑起來 干起來"


def test_editing_an_article_records_what_it_was(session, editor, tree):
    article = write(session, editor, tree["ruiping"])
    write(session, editor, tree["ruiping"], article=article, title="新標題", state="draft")
    rows = records(session)
    assert len(rows) == 2
    assert json.loads(rows[1].before)["title"] == "動起來 跑起來 干起來"
    assert json.loads(rows[1].after)["title"] == "新標題"
    assert json.loads(rows[1].after)["state"] == "draft"


def test_the_body_is_rendered_from_markdown_and_cleaned(session, editor, tree):
    body = (
        "## 威海\n\n"
        "見[大眾網](https://www.dzwww.com/)與[壞鏈接](javascript:alert(1))。\n\n"
        '<figure><img src="/media/a.jpg" alt="海邊" onerror="alert(1)"><figcaption>海邊的早晨</figcaption></figure>\n\n'
        "<script>alert(1)</script>\n\n"
        '<p style="color:red" onclick="x()">樣式</p>\n\n'
        '<iframe src="https://evil.example/"></iframe>'
    )
    html = write(session, editor, tree["ruiping"], body_md=body).body_html
    assert "<h2>威海</h2>" in html
    assert '<a href="https://www.dzwww.com/" rel="nofollow noopener">大眾網</a>' in html
    assert "<figure>" in html and "<figcaption>海邊的早晨</figcaption>" in html
    assert '<img src="/media/a.jpg" alt="海邊">' in html
    for banned in ("<script", "onerror", "onclick", "style=", "javascript:", "<iframe"):
        assert banned not in html


def test_a_body_too_long_is_a_field_error(session, editor, tree):
    rejected(
        lambda: write(session, editor, tree["ruiping"], body_md="字" * (MAX_SOURCE_CHARS + 1)),
        "body_md",
        "正文不能超過",
    )
    assert session.scalar(select(func.count()).select_from(Article)) == 0


@pytest.mark.parametrize(
    "body", ["![湖景](https://example.com/hu.jpg)", '<img src="//cdn.example/hu.jpg" alt="湖景">']
)
def test_a_picture_from_another_site_is_a_field_error(session, editor, tree, body):
    """The CSP would not show it (img-src 'self'), and readers' browsers would call that site."""
    rejected(lambda: write(session, editor, tree["ruiping"], body_md=body), "body_md", "外部圖片不能顯示")
    # Pictures of this site, and links to other sites, are fine.
    write(
        session,
        editor,
        tree["ruiping"],
        body_md="![湖景](/media/uploads/hu.jpg) 見[大眾網](https://www.dzwww.com/)",
    )


def test_a_blank_title_and_an_unknown_section_are_refused(session, editor, tree):
    rejected(lambda: write(session, editor, tree["ruiping"], title="  "), "title", "請填寫標題")
    rejected(lambda: write(session, editor, tree["ruiping"], section_id=987654), "section_id", "請選擇欄目")


def test_cover_must_be_a_picture_and_player_a_video_or_audio(session, editor, tree):
    audio = picture(session, kind=MediaKind.AUDIO, mime="audio/wav", path="uploads/a.wav")
    image = picture(session)
    rejected(lambda: write(session, editor, tree["ruiping"], cover_id=audio.id), "cover_id", "類型不符")
    rejected(lambda: write(session, editor, tree["ruiping"], cover_id=987654), "cover_id")
    rejected(lambda: write(session, editor, tree["ruiping"], player_id=image.id), "player_id")
    rejected(lambda: write(session, editor, tree["ruiping"], kind="video"), "player_id", "需選擇播放的媒體")
    assert write(session, editor, tree["ruiping"], kind="audio", player_id=audio.id).player_id == audio.id


def test_a_gallery_keeps_the_given_order_and_drops_photos_taken_out(session, editor, tree):
    photos = [picture(session, caption=f"第{n}張") for n in range(4)]
    order = [photos[2].id, photos[0].id, photos[3].id]
    article = write(session, editor, tree["ruiping"], kind="gallery", gallery_ids=order)
    session.flush()
    session.expire_all()
    assert [m.id for m in session.get(Article, article.id).gallery] == order
    write(
        session,
        editor,
        tree["ruiping"],
        article=article,
        kind="gallery",
        gallery_ids=[photos[3].id, photos[2].id],
    )
    session.flush()
    session.expire_all()
    assert [m.id for m in session.get(Article, article.id).gallery] == [photos[3].id, photos[2].id]
    taken_out = select(GalleryPicture).where(GalleryPicture.media_id == photos[0].id)
    assert session.scalars(taken_out).all() == []
    assert session.get(Media, photos[0].id) is not None  # out of the set, still in the library


def test_a_gallery_needs_two_pictures_and_only_pictures(session, editor, tree):
    one = picture(session)
    audio = picture(session, kind=MediaKind.AUDIO, mime="audio/wav", path="uploads/b.wav")
    rejected(
        lambda: write(session, editor, tree["ruiping"], kind="gallery", gallery_ids=[one.id]), "gallery_ids"
    )
    rejected(lambda: write(session, editor, tree["ruiping"], gallery_ids=[one.id, audio.id]), "gallery_ids")


def test_related_articles_must_exist_and_are_deduplicated_without_the_article_itself(session, editor, tree):
    others = [make_article(session, tree["ruiping"]) for _ in range(12)]
    rejected(lambda: write(session, editor, tree["ruiping"], related_ids=[987654]), "related_ids", "987654")
    article = write(session, editor, tree["ruiping"])
    ids = [others[3].id, article.id, others[3].id, *(a.id for a in others)]
    write(session, editor, tree["ruiping"], article=article, related_ids=ids)
    chosen = [int(i) for i in article.related_ids.split(",")]
    assert chosen[0] == others[3].id
    assert article.id not in chosen
    assert len(chosen) == len(set(chosen)) == 10


@pytest.mark.parametrize("state", ["draft", "published"])
def test_state_and_comment_state_are_stored(session, editor, tree, state):
    article = write(session, editor, tree["ruiping"], state=state, comments_state="hidden")
    assert (article.state, article.comments_state) == (state, "hidden")


# --- static pages -----------------------------------------------------------------------------


def page(session, editor, page_row=None, **overrides) -> Page:
    fields = {
        "slug": "about",
        "title": "關於我們",
        "body_md": "## 聊城新聞網\n\n**本網**簡介。",
        "in_footer": True,
        "position": 0,
    }
    return save_page(session, page=page_row, actor=editor, now=NOW, **{**fields, **overrides})


def test_a_page_is_rendered_cleaned_and_recorded(session, editor):
    saved = page(session, editor, body_md="## 聊城新聞網\n\n<script>x()</script>**本網**簡介。")
    assert saved.body_html.startswith("<h2>聊城新聞網</h2>")
    assert "<strong>本網</strong>" in saved.body_html
    assert "<script" not in saved.body_html
    assert (saved.in_footer, saved.updated_at) == (True, NOW)
    (row,) = records(session)
    assert (row.action, row.target_type, row.target_id) == ("admin.page_saved", "page", saved.id)


def test_a_page_slug_must_be_well_formed_and_unused(session, editor):
    about = page(session, editor)
    rejected(lambda: page(session, editor, slug="About Us"), "slug", "網址代號只能用")
    rejected(lambda: page(session, editor, slug="about"), "slug", "已被其他頁面使用")
    assert page(session, editor, page_row=about, title="關於本網").id == about.id


def test_a_page_needs_a_title_and_a_body_within_the_limit(session, editor):
    rejected(lambda: page(session, editor, title=" "), "title")
    rejected(lambda: page(session, editor, body_md="x" * (MAX_SOURCE_CHARS + 1)), "body_md")
    assert records(session) == []


@pytest.mark.parametrize("slug", ["pledge", "rules", "terms", "privacy"])
def test_a_page_the_site_links_by_name_cannot_be_deleted(session, editor, slug):
    linked = page(session, editor, slug=slug, title="固定頁面")
    before = len(records(session))
    rejected(lambda: delete_page(session, page=linked, actor=editor, now=NOW), "delete", "不能刪除")
    session.flush()
    assert session.get(Page, linked.id) is not None
    assert len(records(session)) == before


def test_any_other_page_is_deleted_and_recorded_with_what_it_was(session, editor):
    about = page(session, editor, body_md="本網簡介。")
    page_id = about.id
    delete_page(session, page=about, actor=editor, now=NOW)
    session.flush()
    assert session.get(Page, page_id) is None
    row = records(session, "admin.page_deleted")[0]
    assert (row.target_type, row.target_id, row.actor_id) == ("page", page_id, editor.id)
    assert json.loads(row.before) == {"slug": "about", "title": "關於我們", "body_md": "本網簡介。"}


# --- settings ---------------------------------------------------------------------------------


def test_settings_store_only_what_changed_and_record_it_once(session, editor):
    session.add(SiteSetting(key="site_name", value="聊城新聞網"))
    changed = save_settings(
        session,
        values={"site_name": "聊城新聞網", "report_phone": "0635-8888888", "comment_max_length": "300"},
        actor=editor,
        now=NOW,
    )
    assert changed == {"report_phone": "0635-8888888", "comment_max_length": "300"}
    assert session.get(SiteSetting, "report_phone").value == "0635-8888888"
    (row,) = records(session, "admin.settings_saved")
    assert json.loads(row.before) == {"report_phone": "", "comment_max_length": ""}
    assert json.loads(row.after) == changed


def test_saving_unchanged_settings_records_nothing(session, editor):
    session.add(SiteSetting(key="site_name", value="聊城新聞網"))
    assert save_settings(session, values={"site_name": "聊城新聞網"}, actor=editor, now=NOW) == {}
    assert records(session) == []


def test_a_changed_setting_replaces_the_old_value(session, editor):
    save_settings(session, values={"retention_days": "200"}, actor=editor, now=NOW)
    save_settings(session, values={"retention_days": "365"}, actor=editor, now=NOW)
    assert session.get(SiteSetting, "retention_days").value == "365"
    rows = records(session)
    assert [json.loads(r.after) for r in rows] == [{"retention_days": "200"}, {"retention_days": "365"}]
    assert json.loads(rows[1].before) == {"retention_days": "200"}
