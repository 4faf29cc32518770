"""The reader's pages in Chromium: the seed article's parts, A+/A-, 繁/简, CSP, a11y, phones."""

from __future__ import annotations

import re
import sqlite3

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import allow_status_error, log_in_demo

SEED_TITLE = "動起來 跑起來 干起來"
SEED_PARTS = [
    "breadcrumb",
    "title",
    "source",
    "tools",
    "picture",
    "editor-note",
    "byline",
    "body",
    "editor",
    "related",
    "comments",
]


@pytest.fixture(scope="session")
def seed_path(demo_template) -> str:
    with sqlite3.connect(demo_template) as connection:
        (article_id,) = connection.execute("SELECT id FROM article WHERE title = ?", (SEED_TITLE,)).fetchone()
    return f"/articles/{article_id}"


@pytest.fixture(scope="session")
def section_path() -> str:
    return "/sections/yaowen"


def part_top(page, part: str) -> float:
    selector = ".breadcrumb" if part == "breadcrumb" else f"[data-part='{part}']"
    locator = page.locator(selector).first
    assert locator.is_visible(), f"{part} is not visible"
    return locator.bounding_box()["y"]


def test_article_page_shows_every_seed_part_in_order(page, watch, seed_path):
    page.goto(seed_path)
    tops = [part_top(page, part) for part in SEED_PARTS]
    assert tops == sorted(tops), dict(zip(SEED_PARTS, tops, strict=True))
    assert page.locator(".breadcrumb a").all_inner_texts() == ["首頁", "要聞", "山東"]
    assert page.locator("h1").inner_text() == SEED_TITLE
    assert "來源:大眾日報" in page.locator("[data-part=source]").inner_text()
    assert "2022-02-08 19:41:46" in page.locator("[data-part=source]").inner_text()
    assert page.locator("[data-part=body] h2").all_inner_texts() == ["濟南", "威海", "墾利", "慶云"]
    assert page.locator("[data-part=editor]").inner_text() == "編輯:李太斗"
    assert page.locator("[data-part=related] li a").count() == 5
    # The picture really loaded (a broken image has naturalWidth 0).
    assert page.locator("[data-part=picture] img").evaluate("img => img.complete && img.naturalWidth > 0")
    watch.assert_clean()


def font_size(page) -> float:
    return page.locator("[data-part=body] p").first.evaluate("p => parseFloat(getComputedStyle(p).fontSize)")


def test_text_size_grows_shrinks_within_bounds_and_survives_a_reload(page, watch, seed_path):
    page.goto(seed_path)
    bigger, smaller = page.get_by_role("button", name="放大字號"), page.get_by_role("button", name="縮小字號")
    # Their names start with the label they show, so "A+" said to voice control presses A+.
    for name in ("A+ 放大字號", "A- 縮小字號"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1
    page.locator(".share summary").click()
    for button in (bigger, smaller, page.get_by_role("button", name="複製鏈接")):
        # Their labels were white on their white background (the site's button colour).
        ink, paper = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
        assert ink != paper, (button.inner_text(), ink)
    start = font_size(page)
    bigger.click()
    grown = font_size(page)
    assert grown > start
    page.reload()
    assert font_size(page) == grown
    for _ in range(10):
        if bigger.is_disabled():
            break
        bigger.click()
    assert bigger.is_disabled()
    largest = font_size(page)
    assert largest <= 2 * start
    for _ in range(10):
        if smaller.is_disabled():
            break
        smaller.click()
    assert smaller.is_disabled()
    assert font_size(page) < start
    watch.assert_clean()


def test_text_size_buttons_are_harmless_without_javascript(browser, live_server, seed_path):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto(seed_path)
    # Without the script they stay hidden: nothing a reader can press that does nothing.
    assert page.get_by_role("button", name="放大字號").count() == 0
    page.locator(".share summary").click()
    assert page.locator(".share-wechat img").is_visible()
    context.close()


def test_share_panel_has_copy_weibo_and_a_server_made_qr_code(page, watch, seed_path, context):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(seed_path)
    page.locator(".share summary").click()
    page.get_by_role("button", name="複製鏈接").click()
    page.wait_for_function("document.querySelector('.copy-status').textContent === '已複製'")
    assert page.evaluate("navigator.clipboard.readText()").endswith(seed_path)
    assert page.locator(".share-weibo").get_attribute("href").startswith("https://service.weibo.com/share/")
    qr = page.locator(".share-wechat img")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    watch.assert_clean()


def test_script_link_switches_the_whole_page_and_back(page, watch, seed_path):
    page.goto(seed_path)
    page.get_by_role("link", name="简体").click()
    page.wait_for_url(f"**{seed_path}")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "来源:大众日报" in page.locator("[data-part=source]").inner_text()
    assert page.locator("#comments-heading").inner_text() == "网友评论"
    page.reload()
    assert page.locator("h1").inner_text() == "动起来 跑起来 干起来"
    page.get_by_role("link", name="繁体").click()  # the 简体 page names it in 简体 too
    page.wait_for_url(f"**{seed_path}")
    assert page.locator("h1").inner_text() == SEED_TITLE
    watch.assert_clean()


def test_simplified_pages_ask_for_a_simplified_font_first(page, watch, seed_path):
    """The 简体 page asked for Noto Sans CJK TC first: Simplified text in Taiwan glyph shapes."""

    def first_font() -> str:
        family = page.evaluate("getComputedStyle(document.body).fontFamily")
        return family.split(",")[0].strip().strip('"')

    page.goto(seed_path)
    assert first_font() == "Noto Sans CJK TC"
    page.goto(f"/script/hans?next={seed_path}")
    page.wait_for_url(f"**{seed_path}")
    assert first_font() == "Noto Sans CJK SC"
    watch.assert_clean()


def test_what_the_script_writes_is_simplified_for_simplified_readers(page, context, seed_path):
    """portal.js wrote its own lines (已複製, the network and server failures) in Traditional: the
    server converts the page for 简体 readers, but not the script."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/script/hans?next={seed_path}")
    page.locator(".share summary").click()
    page.get_by_role("button", name="复制链接").click()
    page.wait_for_function("document.querySelector('.copy-status').textContent !== ''")
    assert page.locator(".copy-status").inner_text() == "已复制"
    page.route("**/comments?*", lambda route: route.abort())
    page.locator("a[data-order=hot]").click()
    expect(page.locator("#messages")).to_have_text("网络连接失败，您输入的内容仍在，请检查网络后再试。")
    page.unroute("**/comments?*")
    page.route("**/comments?*", lambda route: route.fulfill(status=500, body="x"))
    page.locator("a[data-order=newest]").click()
    expect(page.locator("#messages")).to_have_text("服务器暂时出现问题，您输入的内容仍在，请稍后再试。")


# Every kind of page, checked by axe against WCAG 2.1 A/AA and axe's best practices, as the one
# who sees it: readers' pages anonymous and signed in, the moderation desk, the back office.
AXE_RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
}
DEMO_READER, DEMO_MODERATOR, DEMO_ADMIN = "13900000001", "13900000005", "13900000006"


@pytest.fixture(scope="session")
def demo_ids(demo_template) -> dict[str, int | str]:
    """Rows of the demo that the pages below need: a thread with replies, a nested section."""
    with sqlite3.connect(demo_template) as connection:
        (article, comment) = connection.execute(
            "SELECT c.article_id, c.parent_id FROM comment c WHERE c.parent_id IS NOT NULL AND c.status = 'approved'"
        ).fetchone()
        (child,) = connection.execute(
            "SELECT slug FROM section WHERE parent_id IS NOT NULL ORDER BY id"
        ).fetchone()
        (user,) = connection.execute(
            "SELECT id FROM user_account WHERE role = 'reader' ORDER BY id"
        ).fetchone()
        (page_id,) = connection.execute("SELECT id FROM page ORDER BY id").fetchone()
        (word,) = connection.execute("SELECT id FROM sensitive_word ORDER BY id").fetchone()
    return {
        "article": article,
        "comment": comment,
        "child": child,
        "user": user,
        "page": page_id,
        "word": word,
    }


def rejected_comment(portal, nickname: str, article_id: int) -> int:
    """A comment of the demo reader `nickname` that the demo moderator rejected: one to appeal."""
    from sqlalchemy import select

    from portal.domain import moderation
    from portal.extensions import db
    from portal.models import Comment, Role, User, utc_now

    with portal.app().app_context():
        author = db.session.scalar(select(User).where(User.nickname == nickname))
        moderator = db.session.scalar(select(User).where(User.role == Role.MODERATOR))
        comment = Comment(
            article_id=article_id, author_id=author.id, body="一條被退回的評論。", ip_region="山東"
        )
        db.session.add(comment)
        db.session.flush()
        moderation.reject(db.session, comment=comment, moderator=moderator, reason_code="R15", now=utc_now())
        db.session.commit()
        return comment.id


def axe_violations(page) -> list:
    page.wait_for_load_state("networkidle")
    results = Axe().run(page, options=AXE_RULES)
    return [
        (page.url, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
    ]


def check_pages(page, paths) -> list:
    found = []
    for path in paths:
        page.goto(path)
        found += axe_violations(page)
    return found


def test_readers_pages_pass_axe(page, watch, seed_path, demo_ids):
    found = check_pages(
        page,
        [
            "/",
            "/sections/yaowen",
            f"/sections/{demo_ids['child']}",
            "/sections/shuzibao",
            seed_path,
            f"/articles/{demo_ids['article']}?order=hot",
            f"/comments/{demo_ids['comment']}/replies",
            "/pages/about",
            "/search?q=濟南",
            "/search?q=",
            "/accounts/login",
            "/accounts/register",
            "/accounts/password-reset",
            "/no-such-page",
        ],
    )
    # A refused login: errors beside their fields.
    page.goto("/accounts/login")
    page.get_by_role("button", name="登錄", exact=True).click()
    page.locator("#phone-errors").wait_for()
    found += axe_violations(page)
    assert found == []
    for status in (404, 422):  # the pages' own statuses, as Chromium logs them
        allow_status_error(watch, status)
    watch.assert_clean()


def test_signed_in_readers_pages_pass_axe(page, watch, live_portal, demo_ids):
    rejected = rejected_comment(live_portal, "東昌湖邊人", demo_ids["article"])  # DEMO_READER
    log_in_demo(page, DEMO_READER)
    article = f"/articles/{demo_ids['article']}"
    found = check_pages(
        page,
        [
            "/accounts/comments",
            "/accounts/messages",
            f"/accounts/appeals/new?target=comment&id={rejected}",
            f"/comments/{demo_ids['comment']}/report",
            article,
        ],
    )
    # The article's comments after htmx swaps: the reply form, a report form, a refused post.
    page.locator(".comment .reply-link").first.click()
    page.locator("#comment-form .replying-to").wait_for()
    found += axe_violations(page)
    page.goto(article)
    page.locator(".comment a.report-link").first.click()
    page.locator(".report-form").wait_for()
    found += axe_violations(page)
    page.locator("#body").fill("詳見 www.example.com")
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.locator("#comment-form button[type=submit]").click()
    page.locator("#body-errors").wait_for()
    found += axe_violations(page)
    assert found == []
    allow_status_error(watch, refused.value.status)  # 422, or 429 when the demo reader posted lately
    watch.assert_clean()


def wait_for_review(live_portal, comment_id: int, body: str) -> None:
    """An author's edit of a published comment, waiting beside its text (comments.edit's outcome)."""
    from portal.extensions import db
    from portal.models import Comment

    with live_portal.app().app_context():
        comment = db.session.get(Comment, comment_id)
        comment.pending_body, comment.pending_flags, comment.pending_rule_hits = body, "", "[]"
        db.session.commit()


def test_moderation_desk_passes_axe(page, watch, demo_ids, live_portal):
    log_in_demo(page, DEMO_MODERATOR)
    # A reader muted for a day: the user page's table of sanctions, with 解除.
    warned = live_portal.reader()
    # Their edit of a published comment waiting for review: its 原文/修改後 row in 待審 (whose labels
    # were <h4> under the page's <h1>, out of heading order) and the user page's 待審核的修改.
    edited = live_portal.approved_comment(live_portal.fresh_article(), warned.id, "已經發布的原文")
    wait_for_review(live_portal, edited, "作者修改後等待審核的內容")
    page.goto(f"/moderation/users/{warned.id}")
    page.locator("#measure").select_option("mute")
    page.locator("#days").select_option("1")
    page.locator("#measure-reason").select_option("R15")
    page.get_by_role("button", name="執行").click()
    page.locator(".data-table").wait_for()
    found = axe_violations(page)
    found = check_pages(
        page,
        [
            *(
                f"/moderation/?tab={tab}"
                for tab in ("pending", "reported", "patrol", "appeals", "approved", "hidden")
            ),
            "/moderation/?since=bad-date",
            "/moderation/log",
            "/moderation/stats",
            "/moderation/emergency",
            f"/moderation/users/{demo_ids['user']}",
            f"/moderation/users/{warned.id}",
        ],
    )
    assert found == []
    allow_status_error(watch, 422)  # the refused date filter's page
    watch.assert_clean()


def test_back_office_passes_axe(page, watch, demo_ids):
    log_in_demo(page, DEMO_ADMIN)
    found = check_pages(
        page,
        [
            "/admin/",
            "/admin/sections",
            "/admin/sections/new",
            "/admin/articles",
            "/admin/articles/new",
            f"/admin/articles/{demo_ids['article']}",
            "/admin/media",
            "/admin/pages",
            f"/admin/pages/{demo_ids['page']}",
            "/admin/settings",
            "/admin/words",
            f"/admin/words/{demo_ids['word']}",
            "/admin/users",
            f"/admin/users/{demo_ids['user']}",
        ],
    )
    assert found == []
    watch.assert_clean()


def luminance(css_colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


FOCUS_STYLE = r"""el => {
  const s = getComputedStyle(el);
  let box = el, behind = "rgba(0, 0, 0, 0)";
  while (box && /rgba\(0, 0, 0, 0\)|transparent/.test(behind)) {
    behind = getComputedStyle(box.parentElement || box).backgroundColor; box = box.parentElement;
  }
  return {outline: s.outlineStyle === "none" ? null : s.outlineColor,
          ring: s.boxShadow === "none" ? null : s.boxShadow, behind};
}"""


def test_keyboard_focus_stands_out_in_the_header_and_on_the_page(page, watch, seed_path):
    """The focus ring was amber alone: 3.2:1 on the red header, but 2:1 on the white page."""
    page.goto(seed_path)
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    skip.press("Enter")
    expect(page.locator("main")).to_be_focused()  # the keyboard moves with the view (screen readers)
    page.keyboard.press("Tab")  # the skip link goes past the header, into the article
    assert page.evaluate("document.activeElement.closest('main') !== null")
    checked = []
    for target in (page.locator(".section-bar a").first, page.locator(".breadcrumb a").first):
        target.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # from the keyboard, so :focus-visible applies
        expect(target).to_be_focused()
        style = target.evaluate(FOCUS_STYLE)
        colours = [style["outline"]] + ([style["ring"]] if style["ring"] else [])
        best = max(contrast(colour, style["behind"]) for colour in colours if colour)
        checked.append(best)
        assert best >= 3, (target.inner_text(), style)
    assert len(checked) == 2
    watch.assert_clean()


@pytest.mark.parametrize("width", [375, 1280])
def test_article_page_fits_the_screen(page, watch, seed_path, artifacts, width):
    page.set_viewport_size({"width": width, "height": 900})
    for path in ("/", "/sections/yaowen", seed_path):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} overflows by {overflow}px at {width}px"
    page.screenshot(path=str(artifacts / f"article-{width}.png"), full_page=True)
    watch.assert_clean()


def test_breadcrumb_lines_up_with_what_it_heads_on_a_wide_screen(page, watch, seed_path):
    """On sections, 數字報 and static pages the breadcrumb stood 158 px right of the h1 below it
    (centred in the article's 760 px column); over an article it sits over the article."""
    page.set_viewport_size({"width": 1280, "height": 900})
    for path, below in [
        ("/sections/yaowen", "h1"),
        ("/sections/shuzibao", "h1"),
        ("/pages/about", "h1"),
        (seed_path, "article.article"),
    ]:
        page.goto(path)
        crumb = page.locator(".breadcrumb").bounding_box()["x"]
        heading = page.locator(below).first.bounding_box()["x"]
        assert abs(crumb - heading) <= 1, f"{path}: breadcrumb at {crumb}px, {below} at {heading}px"
    watch.assert_clean()


def test_media_players_can_play_their_files(page, watch):
    page.goto("/sections/shiting")
    page.locator(".article-item-title").first.click()
    player = page.locator("video, audio").first
    player.wait_for()
    ready = player.evaluate(
        """el => new Promise(resolve => {
            if (el.readyState >= 1) return resolve(el.duration);
            el.addEventListener('loadedmetadata', () => resolve(el.duration));
            el.addEventListener('error', () => resolve(-1));
            el.load();
        })"""
    )
    assert ready > 0
    watch.assert_clean()


def test_search_box_finds_and_marks_the_term(page, watch):
    page.goto("/")
    page.get_by_role("searchbox", name="站內搜索").fill("濟南")
    page.get_by_role("searchbox", name="站內搜索").press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("#search-results mark").first.inner_text() == "濟南"
    watch.assert_clean()
