"""What a reader sees on the demo content: home, sections, the seed article, media, pages, footer,
數字報, search, feeds, 繁/简 and the error pages."""

from __future__ import annotations

import shutil
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import or_, select

from portal.domain.pledge import input_normalise
from portal.extensions import db
from portal.models import (
    Article,
    ArticleKind,
    ArticleState,
    Media,
    MediaKind,
    Page,
    Section,
    SiteSetting,
    utc_now,
)
from portal.news.views import HOME_PER_SECTION
from tests.helpers import HX, find_all, find_one, parse_html, text_of

SECTION_BAR = ["銳評", "要聞", "視聽", "圖說", "熱線", "部門", "縣域", "數字報", "看電視", "聽廣播"]
SEED_TITLE = "動起來 跑起來 干起來"
NOT_FOUND = "您訪問的頁面不存在或已被刪除。"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# PLEDGE_RULES.md §3, the pledge's 18 categories.
PLEDGE_LABELS = [
    "反對憲法基本原則",
    "危害國家安全",
    "損害國家榮譽和利益",
    "煽動民族仇恨、民族歧視",
    "煽動地域歧視、地域仇恨",
    "破壞宗教政策、宣揚邪教和迷信",
    "散布謠言、擾亂社會秩序",
    "淫穢色情、賭博、暴力、恐怖或教唆犯罪",
    "侮辱誹謗他人",
    "威脅恐嚇、人肉搜索",
    "洩露未成年人隱私",
    "污言穢語、低俗內容",
    "侵犯知識產權",
    "廣告、商業招攬",
    "非本站常用語言文字",
    "與評論對象無關",
    "無意義內容或規避審核",
    "其他違法違規內容",
]
FOOTER_SLUGS = ["about", "ads", "copyright", "contact", "pledge"]
FOOTER_TITLES = [
    {"關於我們", "關于我們"},
    {"廣告服務"},
    {"版權聲明"},
    {"聯系我們", "聯繫我們"},
    {"跟帖評論自律管理承諾書"},
]
STATIC_PAGES = [*FOOTER_SLUGS, "rules", "privacy", "terms"]


# --- helpers -------------------------------------------------------------------------------------


def get_page(client, url: str, status: int = 200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response, parse_html(response.get_data(as_text=True))


def article_ids(root, container_id: str = "section-articles") -> list[int]:
    containers = find_all(root, id=container_id)
    if not containers:
        return []
    return [int(li.get("data-article-id")) for li in find_all(containers[0], "li", data_article_id=None)]


def href_path(href: str) -> str:
    return urlsplit(href).path


def link_id(href: str) -> int:
    path = href_path(href)
    assert path.startswith("/articles/"), href
    return int(path.removeprefix("/articles/"))


def assert_in_order(html: str, *needles: str) -> None:
    position = 0
    for needle in needles:
        found = html.find(needle, position)
        assert found >= 0, f"{needle!r} missing after position {position}"
        position = found + len(needle)


def public_query(now=None):
    return select(Article).where(
        Article.state == ArticleState.PUBLISHED, Article.published_at <= (now or utc_now())
    )


def subtree_ids(session, slug: str) -> set[int]:
    sections = session.scalars(select(Section)).all()
    root = next(s for s in sections if s.slug == slug)
    ids, frontier = {root.id}, [root.id]
    while frontier:
        parent = frontier.pop()
        for s in sections:
            if s.parent_id == parent:
                ids.add(s.id)
                frontier.append(s.id)
    return ids


def newest_first(articles) -> list[int]:
    return [a.id for a in sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)]


@pytest.fixture
def seed_id(demo_app) -> int:
    with demo_app.app_context():
        return db.session.scalar(select(Article.id).where(Article.title == SEED_TITLE))


def one_of_kind(app, kind: ArticleKind, slug: str | None = None) -> Article:
    with app.app_context():
        query = public_query().where(Article.kind == kind)
        if slug:
            query = query.join(Section, Article.section_id == Section.id).where(Section.slug == slug)
        article = db.session.scalars(query.order_by(Article.id)).first()
        assert article is not None
        db.session.expunge(article)
        return article


# --- home ----------------------------------------------------------------------------------------


def section_bar(root) -> list[tuple[str, str]]:
    bar = find_one(root, "nav", cls="section-bar")
    return [(text_of(a), href_path(a.get("href"))) for a in bar.iter("a")]


def test_home_shows_the_section_bar_in_the_seed_order(demo_client):
    _, root = get_page(demo_client, "/")
    bar = section_bar(root)
    assert [name for name, _ in bar] == SECTION_BAR
    assert all(href.startswith("/sections/") for _, href in bar)


def test_every_section_bar_link_answers(demo_client):
    _, root = get_page(demo_client, "/")
    for _, href in section_bar(root):
        assert demo_client.get(href).status_code == 200, href


def test_home_lead_story_is_the_newest_yaowen_article_with_a_picture(demo_app, demo_client):
    _, root = get_page(demo_client, "/")
    lead = find_one(root, "article", cls="lead-story")
    with demo_app.app_context():
        ids = subtree_ids(db.session, "yaowen")
        candidates = db.session.scalars(
            public_query().where(Article.section_id.in_(ids), Article.cover_id.is_not(None))
        ).all()
        expected = newest_first(candidates)[0]
    assert int(lead.get("data-article-id")) == expected
    image = find_one(lead, "img")
    assert image.get("src").startswith("/media/")
    assert demo_client.get(image.get("src")).status_code == 200
    assert link_id(find_one(lead, "h2").find("a").get("href")) == expected


def test_home_has_a_block_per_top_level_section_with_its_newest_articles(demo_app, demo_client):
    _, root = get_page(demo_client, "/")
    lead_id = int(find_one(root, "article", cls="lead-story").get("data-article-id"))
    blocks = find_all(root, "section", cls="home-section")
    with demo_app.app_context():
        tops = db.session.scalars(
            select(Section).where(Section.parent_id.is_(None)).order_by(Section.position)
        ).all()
        assert [b.get("data-section") for b in blocks] == [s.slug for s in tops]
        for block, top in zip(blocks, tops, strict=True):
            subtree = db.session.scalars(
                public_query().where(Article.section_id.in_(subtree_ids(db.session, top.slug)))
            ).all()
            expected = [i for i in newest_first(subtree) if i != lead_id][:HOME_PER_SECTION]
            shown = [int(li.get("data-article-id")) for li in find_all(block, "li", data_article_id=None)]
            assert shown == expected, top.slug
            assert shown, f"{top.slug} has no articles on the home page"


# --- sections ------------------------------------------------------------------------------------


def breadcrumb(root) -> list[tuple[str, str]]:
    nav = find_one(root, "nav", cls="breadcrumb")
    assert text_of(nav).startswith("您的位置:")
    return [(text_of(a), href_path(a.get("href"))) for a in nav.iter("a")]


def test_section_page_has_breadcrumb_and_child_links(demo_client):
    _, root = get_page(demo_client, "/sections/yaowen")
    assert breadcrumb(root) == [("首頁", "/"), ("要聞", "/sections/yaowen")]
    children = find_one(root, "nav", cls="child-sections")
    assert [text_of(a) for a in children.iter("a")] == ["聊城", "山東", "國內", "國際"]
    assert text_of(find_one(root, "h1")) == "要聞"


def test_subsection_breadcrumb_runs_through_its_parent(demo_client):
    _, root = get_page(demo_client, "/sections/shandong")
    assert breadcrumb(root) == [("首頁", "/"), ("要聞", "/sections/yaowen"), ("山東", "/sections/shandong")]
    assert not find_all(root, "nav", cls="child-sections")


def test_xianyu_lists_its_eight_counties(demo_client):
    _, root = get_page(demo_client, "/sections/xianyu")
    children = find_one(root, "nav", cls="child-sections")
    assert [text_of(a) for a in children.iter("a")] == [
        "東昌府區",
        "臨清市",
        "茌平區",
        "陽谷縣",
        "莘縣",
        "東阿縣",
        "冠縣",
        "高唐縣",
    ]
    for a in children.iter("a"):
        assert demo_client.get(a.get("href")).status_code == 200


def test_section_page_includes_articles_of_its_children(demo_app, demo_client):
    _, root = get_page(demo_client, "/sections/yaowen")
    shown = article_ids(root)
    with demo_app.app_context():
        section_of = dict(db.session.execute(select(Article.id, Article.section_id)).all())
        yaowen = db.session.scalar(select(Section.id).where(Section.slug == "yaowen"))
    assert any(section_of[i] != yaowen for i in shown)


def test_following_next_links_visits_every_public_article_of_the_subtree_once(demo_app, demo_client):
    with demo_app.app_context():
        ids = subtree_ids(db.session, "yaowen")
        expected = newest_first(db.session.scalars(public_query().where(Article.section_id.in_(ids))).all())
        size = demo_app.config["SECTION_PAGE_SIZE"]
    assert len(expected) > size  # the demo needs a second page for this test to mean something
    seen, url, pages = [], "/sections/yaowen", 0
    while url:
        _, root = get_page(demo_client, url)
        page_ids = article_ids(root)
        assert 0 < len(page_ids) <= size
        seen += page_ids
        pages += 1
        next_links = find_all(root, "a", rel="next")
        assert all(text_of(a) == "下一頁" for a in next_links)
        url = next_links[0].get("href") if next_links else None
        assert pages < 10
    assert seen == expected
    assert pages >= 2


def walk(client, url: str, rel: str, ids) -> list[list[int]]:
    """The pages met following rel=next (or rel=prev) links from `url`, each as its ids."""
    pages = []
    while url:
        _, root = get_page(client, url)
        pages.append(ids(root))
        links = find_all(root, "a", rel=rel)
        assert all(text_of(a) == {"next": "下一頁", "prev": "上一頁"}[rel] for a in links)
        url = links[0].get("href") if links else None
        assert len(pages) < 20
    return pages


@pytest.mark.parametrize(
    ("start", "size_key", "ids"),
    [
        ("/sections/xianyu", "SECTION_PAGE_SIZE", article_ids),
        (
            "/search?q=%E8%81%8A%E5%9F%8E",
            "SEARCH_PAGE_SIZE",
            lambda root: article_ids(root, "search-results"),
        ),
    ],
)
def test_previous_links_walk_back_page_by_page_to_the_first(demo_app, demo_client, start, size_key, ids):
    """Pages had 下一頁 and 回到第一頁 only: a reader on page 4 could not go to page 3."""
    demo_app.config[size_key] = 5
    forward = walk(demo_client, start, "next", ids)
    assert len(forward) >= 3
    _, last = get_page(demo_client, start)
    last_url = start
    for _ in forward[1:]:
        last_url = find_one(last, "a", rel="next").get("href")
        _, last = get_page(demo_client, last_url)
    backward = walk(demo_client, last_url, "prev", ids)
    assert backward == forward[::-1]
    # The first page has no 上一頁; the second's goes to the first page's address itself.
    _, first = get_page(demo_client, start)
    assert not find_all(first, "a", rel="prev")
    _, second = get_page(demo_client, find_one(first, "a", rel="next").get("href"))
    assert find_one(second, "a", rel="prev").get("href") == start


def test_previous_link_from_a_cursor_above_every_article_is_the_first_page(demo_client):
    _, root = get_page(demo_client, "/sections/yaowen?after=99991231235959000000-1")
    assert find_one(root, "a", rel="prev").get("href") == "/sections/yaowen"


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/sections/yaowen", "page"),
        ("/sections/shuzibao", "page"),
        ("/sections/shandong", "true"),
        ("seed", "true"),
    ],
)
def test_section_bar_marks_the_page_only_on_the_sections_own_page(demo_client, seed_id, path, current):
    """On 山東's page and on an article, 要聞 was announced as the current page."""
    path = f"/articles/{seed_id}" if path == "seed" else path
    _, root = get_page(demo_client, path)
    marked = [a for a in find_one(root, "nav", cls="section-bar").iter("a") if a.get("aria-current")]
    assert len(marked) == 1
    assert marked[0].get("aria-current") == current


@pytest.mark.parametrize(
    ("url", "first"),
    [
        ("/sections/yaowen", "/sections/yaowen"),
        ("/search?q=%E8%81%8A%E5%9F%8E", "/search?q=%E8%81%8A%E5%9F%8E"),
    ],
)
def test_a_page_past_the_end_does_not_say_there_is_nothing_at_all(demo_client, url, first):
    """A 下一頁 link kept after its articles were taken down said 「本欄目暫無文章」 or 「沒有找到
    包含…的文章」 of a section and a search that have plenty."""
    sep = "&" if "?" in url else "?"
    _, root = get_page(demo_client, f"{url}{sep}after=00010101000000000000-1")
    message = find_one(root, "p", cls="empty")
    assert message.get("data-empty") == "past-end"
    assert "暫無" not in text_of(message) and "沒有找到" not in text_of(message)
    assert find_one(root, "a", rel="prev").get("href").startswith(first)


@pytest.mark.parametrize("url", ["/sections/kandianshi", "/search?q=%E9%98%BF%E8%86%A0"])
def test_a_single_page_has_no_empty_pager_landmark(demo_client, url):
    """A section or search with one page carried an empty <nav aria-label="分頁">, which screen
    readers list among the page's landmarks."""
    _, root = get_page(demo_client, url)
    assert find_all(root, "a", cls="article-item-title")
    assert not find_all(root, "nav", aria_label="分頁")


def test_a_malformed_cursor_gives_the_first_page(demo_client):
    _, first = get_page(demo_client, "/sections/yaowen")
    _, garbage = get_page(demo_client, "/sections/yaowen?after=not-a-cursor")
    assert article_ids(garbage) == article_ids(first)


# --- the seed article ----------------------------------------------------------------------------


def test_seed_article_shows_its_parts_in_the_seed_order(demo_client, seed_id):
    response, root = get_page(demo_client, f"/articles/{seed_id}")
    html = response.get_data(as_text=True)
    assert_in_order(
        html,
        "您的位置:",
        "<h1",
        SEED_TITLE,
        "來源:大眾日報",
        "2022-02-08 19:41:46",
        "A+",
        "A-",
        "分享",
        "<img",
        "□新華社發",
        "2月7日,煙臺一家工程機械生產企業,工人在生產車間內忙碌。",
        "■編者按",
        "實干爭春早",
        "□ 本報記者 賀瑩瑩 李廣寅 段婷婷 彭 輝",
        "<h2>濟南</h2>",
        "<h3>四級就業服務機構<br>現場“解題”</h3>",
        "<h2>威海</h2>",
        "<h2>墾利</h2>",
        "<h2>慶云</h2>",
        "編輯:李太斗",
        "相關推薦",
        "網友評論",
    )
    parts = [e.get("data-part") for e in find_all(root, data_part=None)]
    assert parts == [
        "title",
        "source",
        "tools",
        "text",
        "picture",
        "editor-note",
        "byline",
        "body",
        "editor",
        "prev-next",
        "related",
        "comments",
    ]


def test_seed_article_breadcrumb_links_home_yaowen_shandong(demo_client, seed_id):
    _, root = get_page(demo_client, f"/articles/{seed_id}")
    assert breadcrumb(root) == [("首頁", "/"), ("要聞", "/sections/yaowen"), ("山東", "/sections/shandong")]
    title = find_one(root, "h1")
    assert text_of(title) == SEED_TITLE
    assert title.get("data-part") == "title"


def test_seed_article_parts_hold_the_seed_text(demo_client, seed_id):
    _, root = get_page(demo_client, f"/articles/{seed_id}")
    source = find_one(root, data_part="source")
    assert text_of(source) == "來源:大眾日報 2022-02-08 19:41:46"
    assert find_one(source, "time").get("datetime") == "2022-02-08T11:41:46Z"
    tools = text_of(find_one(root, data_part="tools"))
    assert "A+" in tools
    assert "A-" in tools
    assert "分享" in tools
    picture = find_one(root, data_part="picture")
    assert find_one(picture, "img").get("src").startswith("/media/")
    caption = text_of(find_one(picture, "figcaption"))
    assert caption == "□新華社發 2月7日,煙臺一家工程機械生產企業,工人在生產車間內忙碌。"
    assert text_of(find_one(root, data_part="editor-note")).startswith("■編者按 實干爭春早")
    assert text_of(find_one(root, data_part="byline")) == "□ 本報記者 賀瑩瑩 李廣寅 段婷婷 彭 輝"
    body = find_one(root, data_part="body")
    assert [text_of(h) for h in body.iter("h2")] == ["濟南", "威海", "墾利", "慶云"]
    assert len(list(body.iter("h3"))) == 4
    assert all(len(list(h.iter("br"))) == 1 for h in body.iter("h3"))
    assert "當地人力資源供給" in text_of(body)
    assert text_of(find_one(root, data_part="editor")) == "編輯:李太斗"
    assert text_of(find_one(find_one(root, data_part="comments"), "h2")) == "網友評論"


def test_seed_article_picture_answers(demo_client, seed_id):
    _, root = get_page(demo_client, f"/articles/{seed_id}")
    image = find_one(find_one(root, data_part="picture"), "img")
    for candidate in [image.get("src"), *(part.split()[0] for part in image.get("srcset").split(","))]:
        response = demo_client.get(candidate)
        assert response.status_code == 200, candidate
        assert response.mimetype == "image/jpeg"


def test_related_lists_five_other_articles_of_the_same_section(demo_app, demo_client, seed_id):
    _, root = get_page(demo_client, f"/articles/{seed_id}")
    related = find_one(root, data_part="related")
    assert text_of(find_one(related, "h2")) == "相關推薦"
    ids = [link_id(a.get("href")) for a in related.iter("a")]
    with demo_app.app_context():
        seed = db.session.get(Article, seed_id)
        same = db.session.scalars(
            public_query().where(Article.section_id == seed.section_id, Article.id != seed_id)
        ).all()
    assert len(ids) == demo_app.config["RELATED_COUNT"] == 5
    assert ids == newest_first(same)[:5]


def test_article_page_has_open_graph_meta(demo_app, demo_client, seed_id):
    _, root = get_page(demo_client, f"/articles/{seed_id}")
    meta = {m.get("property"): m.get("content") for m in root.iter("meta") if m.get("property")}
    assert meta["og:title"] == SEED_TITLE
    assert meta["og:description"].startswith("實干爭春早")
    assert urlsplit(meta["og:url"]).path == f"/articles/{seed_id}"
    assert urlsplit(meta["og:url"]).netloc == "portal.test"
    canonical = find_one(root, "link", rel="canonical")
    assert canonical.get("href") == meta["og:url"]
    assert demo_client.get(href_path(meta["og:image"])).status_code == 200


def test_open_graph_image_is_on_the_site_address_like_the_page(demo_app, demo_client, seed_id):
    """og:url and the canonical link used SITE_URL; og:image used the request's host."""
    demo_app.config["SITE_URL"] = "https://www.lcxw.cn/"
    _, root = get_page(demo_client, f"/articles/{seed_id}")
    meta = {m.get("property"): m.get("content") for m in root.iter("meta") if m.get("property")}
    assert meta["og:url"] == f"https://www.lcxw.cn/articles/{seed_id}"
    assert meta["og:image"].startswith("https://www.lcxw.cn/media/")


def test_open_graph_locale_follows_the_script(demo_client, seed_id):
    """A 简体 page told WeChat and Weibo it was zh_TW."""

    def locale() -> str:
        _, root = get_page(demo_client, f"/articles/{seed_id}")
        return find_one(root, "meta", property="og:locale").get("content")

    assert locale() == "zh_TW"
    demo_client.get("/script/hans")
    assert locale() == "zh_CN"


def test_gallery_article_shows_every_photo_with_its_caption(demo_app, demo_client):
    gallery = one_of_kind(demo_app, ArticleKind.GALLERY, "tushuo")
    with demo_app.app_context():
        photos = [(m.path, m.caption) for m in db.session.get(Article, gallery.id).gallery]
    assert len(photos) >= 2
    _, root = get_page(demo_client, f"/articles/{gallery.id}")
    figures = find_all(find_one(root, data_part="gallery"), "figure")
    assert len(figures) == len(photos)
    for figure, (path, caption) in zip(figures, photos, strict=True):
        assert caption
        assert caption in text_of(find_one(figure, "figcaption"))
        src = find_one(figure, "img").get("src")
        assert src == f"/media/{path}"
        assert demo_client.get(src).status_code == 200


def test_video_article_plays_a_webm_that_answers(demo_app, demo_client):
    video = one_of_kind(demo_app, ArticleKind.VIDEO)
    _, root = get_page(demo_client, f"/articles/{video.id}")
    player = find_one(root, "video")
    source = find_one(player, "source")
    assert source.get("type") == "video/webm"
    response = demo_client.get(source.get("src"))
    assert response.status_code == 200
    assert response.mimetype == "video/webm"
    assert response.get_data()[:4] == b"\x1a\x45\xdf\xa3"  # EBML, the WebM container
    captions = demo_client.get(find_one(player, "track").get("src"))
    assert captions.status_code == 200
    assert captions.get_data(as_text=True).startswith("WEBVTT")


def _video_article_with_file(app, path: str) -> int:
    """A video article whose player is a file at `path` under the media folder (or nowhere)."""
    with app.app_context():
        article = db.session.get(Article, one_of_kind(app, ArticleKind.VIDEO).id)
        article.player = Media(kind=MediaKind.VIDEO, path=path, mime="video/webm", caption="上傳的視頻")
        db.session.commit()
        return article.id


def test_article_pages_link_to_the_previous_and_next_article_of_their_section(demo_app, demo_client):
    """上一篇 / 下一篇: an article page led nowhere but 相關推薦; now older and newer in its section."""
    with demo_app.app_context():
        section = db.session.scalar(select(Section).where(Section.slug == "shandong"))
        in_section = newest_first(
            db.session.scalars(public_query().where(Article.section_id == section.id)).all()
        )
        titles = dict(db.session.execute(select(Article.id, Article.title)).all())
    assert len(in_section) >= 3
    # From the newest, 上一篇 walks the whole section, older and older.
    walked, url = [], f"/articles/{in_section[0]}"
    while url:
        _, root = get_page(demo_client, url)
        walked.append(int(find_one(root, "article").get("data-article-id")))
        pager = find_one(root, "nav", data_part="prev-next")
        older = find_all(pager, "a", rel="prev")
        url = older[0].get("href") if older else None
        if older:
            assert text_of(older[0]) == titles[int(url.rsplit("/", 1)[1])]
    assert walked == in_section
    _, newest = get_page(demo_client, f"/articles/{in_section[0]}")
    assert "下一篇：沒有了" in text_of(find_one(newest, "nav", data_part="prev-next"))
    _, middle = get_page(demo_client, f"/articles/{in_section[1]}")
    assert find_one(middle, "a", rel="next").get("href") == f"/articles/{in_section[0]}"


def test_an_uploaded_video_without_captions_has_no_track_that_would_be_a_404(demo_app, demo_client):
    """Uploads come without a .vtt; the page pointed a default <track> at one anyway."""
    with demo_app.app_context():
        demo_video = db.session.get(Article, one_of_kind(demo_app, ArticleKind.VIDEO).id).player.path
    uploaded = f"uploads/{uuid.uuid4().hex}.webm"
    target = Path(demo_app.config["MEDIA_ROOT"]) / uploaded
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(demo_app.config["MEDIA_ROOT"]) / demo_video, target)
    try:
        article_id = _video_article_with_file(demo_app, uploaded)
        _, root = get_page(demo_client, f"/articles/{article_id}")
        player = find_one(root, "video")
        assert find_one(player, "source").get("src") == f"/media/{uploaded}"
        assert not find_all(player, "track")
    finally:
        target.unlink()


def test_a_player_whose_file_is_gone_says_so_instead_of_a_dead_control(demo_app, demo_client):
    article_id = _video_article_with_file(demo_app, f"uploads/{uuid.uuid4().hex}.webm")
    _, root = get_page(demo_client, f"/articles/{article_id}")
    player = find_one(root, data_part="player")
    assert not find_all(player, "video")
    assert "視頻文件暫時無法播放" in text_of(find_one(player, data_player_missing=""))
    assert "上傳的視頻" in text_of(find_one(player, "figcaption"))


def test_audio_article_plays_a_wav_served_with_the_type_the_page_declares(demo_app, demo_client):
    audio = one_of_kind(demo_app, ArticleKind.AUDIO)
    _, root = get_page(demo_client, f"/articles/{audio.id}")
    source = find_one(find_one(root, "audio"), "source")
    assert source.get("type") == "audio/wav"
    response = demo_client.get(source.get("src"))
    assert response.status_code == 200
    assert response.get_data()[:4] == b"RIFF"
    assert response.mimetype == source.get("type")


def test_qr_code_is_svg_of_the_article(demo_client, seed_id):
    response = demo_client.get(f"/articles/{seed_id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = ET.fromstring(response.get_data())
    assert svg.tag.endswith("svg")
    assert any(element.tag.endswith("path") for element in svg.iter())


def test_qr_code_of_an_unknown_article_is_404(demo_client):
    assert demo_client.get("/articles/999999/qr.svg").status_code == 404


def test_draft_and_scheduled_articles_are_not_found(demo_app, demo_client, seed_id):
    with demo_app.app_context():
        seed = db.session.get(Article, seed_id)
        seed.state = ArticleState.DRAFT
        other = db.session.scalars(public_query().where(Article.id != seed_id)).first()
        other.published_at = datetime.now(UTC).replace(tzinfo=None).replace(year=2099)
        other_id = other.id
        db.session.commit()
    for article_id in (seed_id, other_id):
        assert demo_client.get(f"/articles/{article_id}").status_code == 404
        assert demo_client.get(f"/articles/{article_id}/qr.svg").status_code == 404


# --- static pages and footer ----------------------------------------------------------------------


@pytest.mark.parametrize("slug", STATIC_PAGES)
def test_static_pages_answer_with_their_title(demo_app, demo_client, slug):
    _, root = get_page(demo_client, f"/pages/{slug}")
    with demo_app.app_context():
        page = db.session.scalar(select(Page).where(Page.slug == slug))
    assert text_of(find_one(root, "h1")) == page.title
    assert text_of(find_one(root, "div", cls="prose"))


def test_pledge_lists_all_eighteen_categories(demo_client):
    _, root = get_page(demo_client, "/pages/pledge")
    text = text_of(find_one(root, "article", cls="static-page"))
    for label in PLEDGE_LABELS:
        assert label in text, label


def footer(root):
    return find_one(root, "footer", cls="site-footer")


def test_footer_shows_the_five_page_links_in_order(demo_client):
    _, root = get_page(demo_client, "/")
    links = list(find_one(footer(root), "nav", cls="footer-links").iter("a"))
    assert [href_path(a.get("href")) for a in links] == [f"/pages/{slug}" for slug in FOOTER_SLUGS]
    for a, allowed in zip(links, FOOTER_TITLES, strict=True):
        assert text_of(a) in allowed


def test_footer_shows_the_site_settings(demo_client):
    _, root = get_page(demo_client, "/sections/ruiping")
    text = text_of(footer(root))
    assert "聊城新聞網 2006-2023 版權所有" in text
    assert "互聯網新聞信息服務許可證編號:37120180030" in text
    assert "廣播電視節目制作經營許可證(魯)字第720號" in text
    assert "舉報電話:18663509279" in text
    assert text_of(find_one(footer(root), "a", href="mailto:lcxw@lcxw.cn")) == "lcxw@lcxw.cn"


def test_footer_text_is_data_editing_a_setting_changes_it(demo_app, demo_client):
    with demo_app.app_context():
        db.session.get(SiteSetting, "report_phone").value = "0635-8888888"
        db.session.get(SiteSetting, "footer_copyright").value = "聊城新聞網 2006-2026 版權所有"
        db.session.commit()
    _, root = get_page(demo_client, "/")
    text = text_of(footer(root))
    assert "舉報電話:0635-8888888" in text
    assert "18663509279" not in text
    assert "2006-2026" in text
    assert "2006-2023" not in text


def test_footer_links_are_data_editing_a_page_changes_them(demo_app, demo_client):
    with demo_app.app_context():
        db.session.scalar(select(Page).where(Page.slug == "ads")).in_footer = False
        db.session.scalar(select(Page).where(Page.slug == "about")).title = "本站簡介"
        db.session.commit()
    _, root = get_page(demo_client, "/")
    links = list(find_one(footer(root), "nav", cls="footer-links").iter("a"))
    assert [text_of(a) for a in links][:1] == ["本站簡介"]
    assert "/pages/ads" not in [href_path(a.get("href")) for a in links]
    assert len(links) == 4


# --- 數字報 --------------------------------------------------------------------------------------------


def editions(root) -> list[str]:
    return [text_of(a) for a in find_one(root, "nav", cls="paper-editions").iter("a")]


def current_edition(root) -> str:
    return text_of(find_one(find_one(root, "nav", cls="paper-editions"), "a", aria_current="page"))


def paper_days(app) -> dict[str, list[int]]:
    """Local (Asia/Shanghai) day → ids of that day's public 數字報 articles, oldest first."""
    zone = ZoneInfo(app.config["TIMEZONE"])
    with app.app_context():
        ids = subtree_ids(db.session, "shuzibao")
        rows = db.session.scalars(
            public_query().where(Article.section_id.in_(ids)).order_by(Article.published_at, Article.id)
        ).all()
        days: dict[str, list[int]] = {}
        for a in rows:
            day = a.published_at.replace(tzinfo=UTC).astimezone(zone).date().isoformat()
            days.setdefault(day, []).append(a.id)
    return days


def test_paper_lists_editions_by_local_date_newest_first(demo_app, demo_client):
    _, root = get_page(demo_client, "/sections/shuzibao")
    days = paper_days(demo_app)
    assert len(days) >= 2
    assert editions(root) == sorted(days, reverse=True)
    assert current_edition(root) == max(days)
    assert article_ids(root) == days[max(days)]


def test_paper_shows_the_asked_for_edition(demo_app, demo_client):
    days = paper_days(demo_app)
    older = sorted(days)[0]
    _, root = get_page(demo_client, f"/sections/shuzibao?date={older}")
    assert current_edition(root) == older
    assert article_ids(root) == days[older]


def test_every_edition_is_reachable_by_its_date_and_by_previous_links(demo_app, demo_client):
    """往期 lists the newest editions only; an older one's date gave the newest edition instead
    and nothing led further back."""
    demo_app.config["PAPER_EDITIONS_LISTED"] = 2
    days = paper_days(demo_app)
    assert len(days) > 2
    oldest = min(days)
    _, root = get_page(demo_client, f"/sections/shuzibao?date={oldest}")
    assert oldest not in editions(root)
    assert article_ids(root) == days[oldest]
    walked, url = [], "/sections/shuzibao"
    while url:
        _, root = get_page(demo_client, url)
        walked.append(article_ids(root))
        older = find_all(find_one(root, "div", cls="paper-edition"), "a", rel="prev")
        url = older[0].get("href") if older else None
        assert len(walked) <= len(days)
    assert walked == [days[d] for d in sorted(days, reverse=True)]
    _, root = get_page(demo_client, f"/sections/shuzibao?date={oldest}")
    assert find_one(root, "a", rel="next").get("href") == f"/sections/shuzibao?date={sorted(days)[1]}"


@pytest.mark.parametrize("asked", ["garbage", "1999-01-01", "2026-02-30", "", "0001-01-01", "9999-12-31"])
def test_paper_falls_back_to_the_newest_edition(demo_app, demo_client, asked):
    days = paper_days(demo_app)
    _, root = get_page(demo_client, f"/sections/shuzibao?date={asked}")
    assert current_edition(root) == max(days)
    assert article_ids(root) == days[max(days)]
    # A real date without a paper says so: the page shows another day than the address names.
    notes = find_all(root, "p", data_missing_edition="")
    if asked in ("1999-01-01", "0001-01-01", "9999-12-31"):
        year, month, day = (int(part) for part in asked.split("-"))
        assert f"{year}年{month}月{day}日沒有出版報紙，以下是最新一期" in text_of(notes[0])
    else:
        assert not notes


# --- search ---------------------------------------------------------------------------------------


def results(root) -> list[int]:
    return article_ids(root, "search-results")


def test_search_finds_the_seed_and_marks_the_hit(demo_client, seed_id):
    response, root = get_page(demo_client, "/search", query_string={"q": "濟南"})
    assert seed_id in results(root)
    hit = find_one(root, "li", data_article_id=str(seed_id))
    assert "<mark>濟南</mark>" in response.get_data(as_text=True)
    assert [text_of(m) for m in hit.iter("mark")]
    assert {text_of(m) for m in hit.iter("mark")} == {"濟南"}


def test_search_in_simplified_finds_the_traditional_text(demo_client, seed_id):
    _, root = get_page(demo_client, "/search", query_string={"q": "济南"})
    assert seed_id in results(root)
    hit = find_one(root, "li", data_article_id=str(seed_id))
    assert "濟南" in {text_of(m) for m in hit.iter("mark")}


@pytest.mark.parametrize(
    ("query", "written"),
    [("这里", "這裡"), ("這裏", "這裡"), ("在这里", "在這裡"), ("看着", "看著"), ("和面", "和麵")],
)
def test_search_finds_the_traditional_text_as_our_editors_write_it(demo_app, demo_client, query, written):
    """OpenCC's s2t gives 這裏 and 看着; the articles say 這裡 and 看著 (Taiwan usage): a 简体
    reader's 这里 (or a 這裏 typed in Hong Kong usage) must find them, with 2 characters or 3."""
    with demo_app.app_context():
        holding = db.session.scalars(
            public_query().where(Article.body_text.contains(written)).order_by(Article.id)
        ).all()
        expected = {a.id for a in holding}
    assert expected, f"the demo content has {written}"
    _, root = get_page(demo_client, "/search", query_string={"q": query})
    assert expected <= set(results(root))


@pytest.mark.parametrize("query", ["弗迪電池", "弗迪电池", "人力資源供給"])
def test_search_of_three_or_more_characters_uses_the_index_and_finds_the_seed(demo_client, seed_id, query):
    _, root = get_page(demo_client, "/search", query_string={"q": query})
    assert results(root) == [seed_id]


@pytest.mark.parametrize(
    ("query", "as_searched"),
    [
        ("弗迪\u200b電池", "弗迪電池"),
        ("\u200b濟南", "濟南"),
        ("濟\u2060南", "濟南"),
        ("弗迪電池\ufe0f", "弗迪電池"),
    ],
    ids=["zero-width-space", "leading", "word-joiner", "variation-selector"],
)
def test_search_drops_invisible_characters_from_the_query(demo_client, seed_id, query, as_searched):
    """A zero-width character pasted with the words (or typed by an input method) found nothing."""
    _, root = get_page(demo_client, "/search", query_string={"q": query})
    assert seed_id in results(root)
    assert find_one(root, "input", id="search-q").get("value") == as_searched


def test_search_with_two_terms_needs_both(demo_client, seed_id):
    _, root = get_page(demo_client, "/search", query_string={"q": "濟南 威海"})
    assert seed_id in results(root)
    _, root = get_page(demo_client, "/search", query_string={"q": "濟南 不存在的詞語"})
    assert results(root) == []


@pytest.mark.parametrize(
    "query",
    [
        "「弗迪電池」",
        '"弗迪電池"',
        "《弗迪電池》",
        "弗迪電池！",
        "弗迪電池？",
        "弗迪電池。",
        "（弗迪電池）",
        "“弗迪电池”",
    ],
)
def test_search_finds_a_word_in_quotes_brackets_or_before_a_sentence_mark(demo_client, seed_id, query):
    """「弗迪電池」 or 弗迪電池！ found nothing: the marks were searched as part of the word."""
    _, root = get_page(demo_client, "/search", query_string={"q": query})
    assert results(root) == [seed_id]
    assert find_one(root, "input", id="search-q").get("value") == query  # shown again as typed


@pytest.mark.parametrize("query", ["濟南，威海", "濟南、威海", "濟南；威海", "「濟南」「威海」"])
def test_search_words_separated_by_chinese_punctuation_are_two_terms(demo_client, seed_id, query):
    _, root = get_page(demo_client, "/search", query_string={"q": query})
    assert seed_id in results(root)
    _, root = get_page(demo_client, "/search", query_string={"q": query.replace("威海", "不存在的詞語")})
    assert results(root) == []


def test_search_of_two_characters_matches_what_the_database_holds(demo_app, demo_client):
    with demo_app.app_context():
        expected = newest_first(
            db.session.scalars(
                public_query().where(or_(Article.title.contains("冠縣"), Article.body_text.contains("冠縣")))
            ).all()
        )
    assert expected
    _, root = get_page(demo_client, "/search", query_string={"q": "冠縣"})
    assert results(root) == expected[: demo_app.config["SEARCH_PAGE_SIZE"]]


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "_",
        "%%",
        "濟南%",
        '"',
        "'",
        '"濟南"',
        "濟南 AND 威海",
        "AND",
        "OR",
        "NOT",
        "*",
        "濟*",
        "NEAR(",
        "NEAR(濟南 威海)",
        "title:濟南",
        "^濟南",
        "' OR 1=1 --",
        "\\",
        "(((",
        "{{7*7}}",
        "<script>alert(1)</script>",
        "\x00",
        "字" * 80,
    ],
)
def test_hostile_search_queries_answer_200(demo_client, query):
    if "\x00" in query:
        # NUL is never valid input (PostgreSQL cannot store it): a clear 400, in Chinese.
        response = demo_client.get("/search", query_string={"q": query})
        assert response.status_code == 400 and "請求無效" in response.get_data(as_text=True)
        return
    response, root = get_page(demo_client, "/search", query_string={"q": query})
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert ">49<" not in html
    # The query reads back as typed after the input normalisation (controls such as NUL dropped),
    # at most 50 characters, with no attribute added.
    field = find_one(root, "input", id="search-q")
    assert field.get("value") == input_normalise(query)[:50]
    assert set(field.attrib) == {"id", "type", "name", "maxlength", "value", "required"}


@pytest.mark.parametrize("query", ["%", "_", "%%"])
def test_like_wildcards_match_only_themselves(demo_app, demo_client, query):
    with demo_app.app_context():
        expected = newest_first(
            db.session.scalars(
                public_query().where(
                    or_(
                        Article.title.contains(query, autoescape=True),
                        Article.body_text.contains(query, autoescape=True),
                    )
                )
            ).all()
        )
    _, root = get_page(demo_client, "/search", query_string={"q": query})
    assert results(root) == expected[: demo_app.config["SEARCH_PAGE_SIZE"]]


def test_search_pages_with_next_links_and_shows_each_hit_once(demo_app, demo_client):
    demo_app.config["SEARCH_PAGE_SIZE"] = 7
    with demo_app.app_context():
        expected = newest_first(
            db.session.scalars(
                public_query().where(or_(Article.title.contains("聊城"), Article.body_text.contains("聊城")))
            ).all()
        )
    assert len(expected) > 2 * demo_app.config["SEARCH_PAGE_SIZE"]
    seen, url, pages = [], "/search?q=%E8%81%8A%E5%9F%8E", 0
    while url:
        _, root = get_page(demo_client, url)
        assert 0 < len(results(root)) <= 7
        seen += results(root)
        pages += 1
        next_links = find_all(root, "a", rel="next")
        assert all(text_of(a) == "下一頁" for a in next_links)
        url = next_links[0].get("href") if next_links else None
        if url:
            assert parse_qs(urlsplit(url).query)["q"] == ["聊城"]
    assert seen == expected
    assert pages >= 3


def test_empty_search_shows_the_prompt(demo_client):
    for url in ("/search", "/search?q=", "/search?q=%20%20"):
        _, root = get_page(demo_client, url)
        assert "請輸入要搜索的關鍵詞。" in text_of(find_one(root, "main"))
        assert results(root) == []


def test_search_without_hits_says_so(demo_client):
    _, root = get_page(demo_client, "/search", query_string={"q": "不存在的詞語"})
    assert "沒有找到包含「不存在的詞語」的文章。" in text_of(find_one(root, "main"))


# --- feeds and sitemap -------------------------------------------------------------------------


def test_section_feed_is_atom_with_the_subtree_articles(demo_app, demo_client):
    response = demo_client.get("/sections/yaowen/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.get_data())
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    ids = [link_id(entry.find(f"{ATOM}link").get("href")) for entry in entries]
    with demo_app.app_context():
        subtree = subtree_ids(db.session, "yaowen")
        expected = newest_first(
            db.session.scalars(public_query().where(Article.section_id.in_(subtree))).all()
        )
        titles = dict(db.session.execute(select(Article.id, Article.title)).all())
    assert ids == expected[:30]
    assert [entry.find(f"{ATOM}title").text for entry in entries] == [titles[i] for i in ids]
    for entry in entries[:3]:
        assert demo_client.get(href_path(entry.find(f"{ATOM}link").get("href"))).status_code == 200


@pytest.mark.parametrize("slug", ["ruiping", "yaowen", "shuzibao"])
def test_section_feed_has_an_author_for_every_entry(demo_client, slug):
    """RFC 4287 §4.1.1: without a feed-level author, every entry needs its own; 銳評's have no
    reporters, so its feed was invalid Atom."""
    feed = ET.fromstring(demo_client.get(f"/sections/{slug}/feed.atom").get_data())
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    feed_author = feed.find(f"{ATOM}author")
    assert feed_author is not None or all(e.find(f"{ATOM}author") is not None for e in entries)
    assert feed_author is not None and feed_author.findtext(f"{ATOM}name") == "聊城新聞網"


def test_feed_updated_is_its_newest_change_and_no_entry_is_updated_before_published(demo_app, demo_client):
    """The feed's updated was its newest publication, older than an entry edited since; a
    scheduled article's entry said it was updated before it was published."""
    with demo_app.app_context():
        newest = db.session.scalars(
            select(Article)
            .where(Article.section_id.in_(subtree_ids(db.session, "yaowen")))
            .order_by(Article.id)
        ).all()
        older = min((a for a in newest if a.published_at <= utc_now()), key=lambda a: a.published_at)
        older.updated_at = utc_now()
        db.session.commit()
    feed = ET.fromstring(demo_client.get("/sections/yaowen/feed.atom").get_data())
    stamps = [
        (e.findtext(f"{ATOM}published"), e.findtext(f"{ATOM}updated")) for e in feed.findall(f"{ATOM}entry")
    ]
    assert all(updated >= published for published, updated in stamps)
    assert feed.findtext(f"{ATOM}updated") == max(updated for _, updated in stamps)


@pytest.mark.parametrize("slug", ["yaowen", "shuzibao"])
def test_section_pages_link_their_feed(demo_client, slug):
    """數字報's page (its own template) offered no feed, though /sections/shuzibao/feed.atom exists."""
    _, root = get_page(demo_client, f"/sections/{slug}")
    alternate = find_one(root, "link", rel="alternate", type="application/atom+xml").get("href")
    assert alternate == f"/sections/{slug}/feed.atom"
    assert any(a.get("href") == alternate for a in find_one(root, "main").iter("a"))
    assert demo_client.get(alternate).status_code == 200


def test_feed_of_an_unknown_section_is_404(demo_client):
    assert demo_client.get("/sections/no-such-section/feed.atom").status_code == 404


def test_sitemap_lists_every_public_article(demo_app, demo_client):
    response = demo_client.get("/sitemap.xml")
    assert response.status_code == 200
    urlset = ET.fromstring(response.get_data())
    assert urlset.tag == f"{SITEMAP}urlset"
    paths = [href_path(loc.text) for loc in urlset.iter(f"{SITEMAP}loc")]
    with demo_app.app_context():
        public = set(db.session.scalars(public_query().with_only_columns(Article.id)))
    assert {int(p.removeprefix("/articles/")) for p in paths if p.startswith("/articles/")} == public
    assert "/sections/yaowen" in paths
    with demo_app.app_context():
        pages = set(db.session.scalars(select(Page.slug)))
    assert pages and {p.removeprefix("/pages/") for p in paths if p.startswith("/pages/")} == pages


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_staff_and_account_pages(demo_client):
    """It was a 404: crawlers found neither the sitemap nor where not to go."""
    response = demo_client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Disallow: /admin/", "Disallow: /moderation/", "Disallow: /accounts/"} <= set(lines)
    sitemap = [line.removeprefix("Sitemap: ") for line in lines if line.startswith("Sitemap: ")]
    assert len(sitemap) == 1 and sitemap[0].startswith("http")
    assert demo_client.get(href_path(sitemap[0])).status_code == 200
    # Nothing readers read is shut out.
    assert not any(line in {"Disallow: /", "Disallow: /articles/", "Disallow: /sections/"} for line in lines)


def test_sitemap_dates_sections_and_home_by_their_newest_article_not_by_today(demo_app, demo_client):
    """Home and every section said lastmod = today on every fetch."""
    urlset = ET.fromstring(demo_client.get("/sitemap.xml").get_data())
    lastmod = {href_path(url.findtext(f"{SITEMAP}loc")): url.findtext(f"{SITEMAP}lastmod") for url in urlset}
    with demo_app.app_context():
        articles = db.session.scalars(public_query()).all()
        yaowen = subtree_ids(db.session, "yaowen")

    def newest(items) -> str:
        return max(max(a.published_at, a.updated_at) for a in items).strftime("%Y-%m-%d")

    assert lastmod["/"] == newest(articles)
    assert lastmod["/sections/yaowen"] == newest([a for a in articles if a.section_id in yaowen])


# --- 繁/简 ----------------------------------------------------------------------------------------


def test_switching_to_simplified_redirects_back_and_converts_the_page(demo_client, seed_id):
    response = demo_client.get(f"/script/hans?next=/articles/{seed_id}")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == f"/articles/{seed_id}"
    assert any(c.startswith("script=hans") for c in response.headers.getlist("Set-Cookie"))
    page, root = get_page(demo_client, f"/articles/{seed_id}")
    html = page.get_data(as_text=True)
    assert root.get("lang") == "zh-Hans"
    assert "来源:大众日报" in html
    assert "网友评论" in html
    assert "來源:大眾日報" not in html
    assert "網友評論" not in html
    assert "Cookie" in page.headers["Vary"]


@pytest.mark.parametrize("url", ["/script/hans?next=/", "/accounts/comments", "/admin", "/moderation"])
def test_a_redirects_own_page_is_in_chinese(demo_client, url):
    """What a client that does not follow a redirect shows was Werkzeug's English page."""
    response = demo_client.get(url)
    assert 300 <= response.status_code < 400
    body = response.get_data(as_text=True)
    assert "Redirecting" not in body and "You should be redirected" not in body
    assert "正在跳轉到" in body
    assert f'href="{escape(response.headers["Location"])}"' in body


def test_switching_back_to_traditional(demo_client, seed_id):
    demo_client.get(f"/script/hans?next=/articles/{seed_id}")
    response = demo_client.get(f"/script/hant?next=/articles/{seed_id}")
    assert response.status_code == 303
    html = demo_client.get(f"/articles/{seed_id}").get_data(as_text=True)
    assert '<html lang="zh-Hant">' in html
    assert "來源:大眾日報" in html
    assert "网友评论" not in html


def test_simplified_feed_is_converted_too(demo_client):
    demo_client.get("/script/hans?next=/")
    body = demo_client.get("/sections/yaowen/feed.atom").get_data(as_text=True)
    ET.fromstring(body.encode())
    assert "要闻" in body


def test_simplified_feed_says_it_is_simplified(demo_client):
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    feed = ET.fromstring(demo_client.get("/sections/yaowen/feed.atom").get_data())
    assert feed.get(xml_lang) == "zh-Hant"
    demo_client.get("/script/hans?next=/")
    feed = ET.fromstring(demo_client.get("/sections/yaowen/feed.atom").get_data())
    assert feed.get(xml_lang) == "zh-Hans"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil",
    ],
)
def test_script_switch_never_leaves_the_site(demo_client, target):
    response = demo_client.get("/script/hans", query_string={"next": target})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/"
    assert location.netloc in ("", "portal.test")


# --- media -----------------------------------------------------------------------------------------


def test_media_files_are_served(demo_app, demo_client, seed_id):
    with demo_app.app_context():
        path = db.session.get(Article, seed_id).cover.path
    response = demo_client.get(f"/media/{path}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.get_data()[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    "url",
    [
        "/media/demo/missing.jpg",
        "/media/../portal.sqlite",
        "/media/demo/../../portal.sqlite",
        "/media/..%2fportal.sqlite",
        "/media/%2e%2e/portal.sqlite",
        "/media//etc/passwd",
        "/media/demo/",
    ],
)
def test_missing_media_and_paths_out_of_the_folder_are_404(demo_client, url):
    response = demo_client.get(url, follow_redirects=True)
    assert response.status_code == 404
    assert b"SQLite format" not in response.get_data()


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/articles/999999", "/articles/0", "/articles/abc", "/sections/nope", "/pages/nope", "/no/such/path"],
)
def test_not_found_is_a_chinese_page_in_the_site_layout(demo_client, url):
    response, root = get_page(demo_client, url, status=404)
    assert response.mimetype == "text/html"
    assert [name for name, _ in section_bar(root)] == SECTION_BAR
    error = find_one(root, "section", cls="error-page")
    assert error.get("data-status") == "404"
    assert NOT_FOUND in text_of(error)
    assert text_of(find_one(error, "h1")) == "頁面不存在"


def test_post_to_a_get_page_is_405_with_allow_and_a_chinese_message(demo_client):
    response = demo_client.post("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    root = parse_html(response.get_data(as_text=True))
    assert "不支持此請求方式。" in text_of(find_one(root, "main"))
    assert [name for name, _ in section_bar(root)] == SECTION_BAR


def test_htmx_request_for_an_unknown_article_gets_the_message_fragment(demo_client):
    response = demo_client.get("/articles/999999", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["HX-Reswap"] == "innerHTML"
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith("<p")
    assert NOT_FOUND in html
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_htmx_request_for_an_unknown_article_gets_the_whole_page(demo_client):
    response = demo_client.get("/articles/999999", headers={**HX, "HX-Boosted": "true"})
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Retarget" not in response.headers
