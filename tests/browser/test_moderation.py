"""The moderation desk in Chromium, logged in through the real form of the live server: the
keyboard, bulk decisions and appeal rulings in place, the out-of-band tab counts and their 20 s
poll, the JavaScript-off path, and three readers' reports hiding a comment that a moderator then
rules on."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from portal.domain import moderation
from portal.domain.comments import set_status
from portal.models import (
    Appeal,
    Article,
    Comment,
    CommentsState,
    CommentStatus,
    ModerationAction,
    Notification,
    User,
    utc_now,
)
from tests.browser.conftest import allow_status_error
from tests.browser.conftest import log_in_demo as log_in

READERS = ["13900000001", "13900000002", "13900000003", "13900000004"]
MODERATOR = "13900000005"
AUTHOR = "水城老李"  # the fourth demo reader
_markers = itertools.count(1)


@pytest.fixture(scope="module")
def live_db(live_database):
    engine = create_engine(f"sqlite:///{live_database}", connect_args={"timeout": 15})
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def articles(live_db) -> list[int]:
    """Open articles of the demo, a different one for each test."""
    with Session(live_db) as session:
        return list(
            session.scalars(
                select(Article.id)
                .where(Article.comments_state == CommentsState.OPEN, Article.published_at <= utc_now())
                .order_by(Article.published_at.desc())
                .limit(8)
            )
        )


def marker() -> str:
    return f"測試標記{next(_markers)}號"


def add_comments(live_db, article_id: int, bodies: list[str], status: str = "pending") -> list[int]:
    with Session(live_db) as session:
        author = session.scalar(select(User).where(User.nickname == AUTHOR))
        made = []
        for body in bodies:
            comment = Comment(
                article_id=article_id,
                author_id=author.id,
                body=body,
                status=CommentStatus.PENDING,
                ip_region="山東",
                created_at=utc_now(),
            )
            session.add(comment)
            session.flush()
            if status == "approved":
                set_status(session, comment, CommentStatus.APPROVED, now=utc_now())
            made.append(comment.id)
        session.commit()
        return made


def statuses(live_db, ids: list[int]) -> dict[int, tuple[str, str]]:
    with Session(live_db) as session:
        rows = session.execute(
            select(Comment.id, Comment.status, Comment.reason_code).where(Comment.id.in_(ids))
        )
        return {row.id: (row.status, row.reason_code) for row in rows}


def pending_badge(page) -> int:
    return int(page.locator("#queue-tabs [data-count=pending]").inner_text())


def test_a_moderator_approves_with_the_keyboard_and_the_reader_then_sees_it(
    page, watch, live_db, articles, browser, live_server
):
    text = f"{marker()}：希望公交線路也能同步調整"
    (comment_id,) = add_comments(live_db, articles[0], [text])
    reader = browser.new_context(base_url=live_server)
    anonymous = reader.new_page()
    anonymous.goto(f"/articles/{articles[0]}")
    assert anonymous.get_by_text(text).count() == 0  # 先審後發: not public yet
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={text[:8]}")
    row = page.locator(f"#queue-row-{comment_id}")
    assert page.locator("#queue > .queue-row").count() == 1
    to_the_list(page)
    page.keyboard.press("j")
    assert "is-current" in row.get_attribute("class")
    page.keyboard.press("a")
    page.locator(f"#queue-row-{comment_id}.decided").wait_for()
    assert "已通過" in page.locator(f"#queue-row-{comment_id}").inner_text()
    assert page.locator("h1").count() == 1  # swapped in place, not a page inside the page
    assert statuses(live_db, [comment_id])[comment_id][0] == "approved"
    anonymous.goto(f"/articles/{articles[0]}")
    assert anonymous.locator(f"#comment-{comment_id}").get_by_text(text).count() == 1
    reader.close()
    watch.assert_clean()


FOCUSED = "id => document.activeElement !== null && document.activeElement.id === id"


def to_the_list(page) -> None:
    """The keyboard into the queue's list, where the single-key shortcuts act."""
    page.get_by_role("link", name="跳到評論列表").click()
    expect(page.locator("#queue")).to_be_focused()


def test_after_a_keyboard_decision_the_next_row_is_current_and_keeps_the_keys(page, watch, live_db, articles):
    tag = marker()
    first, second, third = add_comments(live_db, articles[0], [f"{tag}：第{n}條" for n in "一二三"])
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    to_the_list(page)
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.locator(f"#queue-row-{first}.decided").wait_for()
    page.wait_for_function(FOCUSED, arg=f"queue-row-{second}", timeout=5_000)
    assert "is-current" in page.locator(f"#queue-row-{second}").get_attribute("class")
    page.keyboard.press("j")  # on from the row in view, not one past it
    assert page.evaluate("document.activeElement.id") == f"queue-row-{third}"
    page.keyboard.press("a")
    page.locator(f"#queue-row-{third}.decided").wait_for()
    page.wait_for_function(FOCUSED, arg=f"queue-row-{second}", timeout=5_000)
    page.keyboard.press("r")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(f"#queue-row-{second}.decided").wait_for()
    # The last row decided: the keyboard stays on its decided line, not thrown to the page.
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.matches(`#${id} .decided-line`)",
        arg=f"queue-row-{second}",
        timeout=5_000,
    )
    assert statuses(live_db, [first, second, third]) == {
        first: ("approved", ""),
        second: ("rejected", "R01"),
        third: ("approved", ""),
    }
    watch.assert_clean()


def listen_to_queue_status(page) -> None:
    """Keeps the page's #queue-status as loaded, and every text it is given: what a screen reader
    hears of."""
    page.evaluate(
        """() => {
            window.__region = document.getElementById('queue-status');
            window.__heard = [];
            new MutationObserver(() => window.__heard.push(window.__region.textContent.trim()))
                .observe(window.__region, {childList: true, subtree: true, characterData: true});
        }"""
    )


def heard(page) -> list[str]:
    assert page.evaluate("document.getElementById('queue-status') === window.__region"), "region replaced"
    return page.evaluate("window.__heard.filter(t => t)")


def test_each_decision_is_read_out_from_a_queue_status_that_was_there_from_page_load(
    page, watch, live_db, articles
):
    """The decided row used to be a role="status" arriving with its text, the focus moving on to the
    next row at once: a screen reader might say nothing. The queue's own live region, in the page
    from the start, now gets each outcome (通過, 不通過, 置頂); the focus still moves on."""
    tag = marker()
    first, second, third = add_comments(live_db, articles[2], [f"{tag}：第{n}條" for n in "一二三"])
    (shown,) = add_comments(live_db, articles[2], [f"{tag}：值得置頂"], status="approved")
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    status = page.locator("#queue-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")
    listen_to_queue_status(page)

    page.locator(f"#queue-row-{first} button[value=approve]").click()
    page.locator(f"#queue-row-{first}.decided").wait_for()
    expect(status).to_have_text(f"#{first} 已通過")
    page.wait_for_function(FOCUSED, arg=f"queue-row-{second}", timeout=5_000)  # focus goes on as before
    expect(page.locator(f"#queue-row-{first} [role=status], #queue-row-{first} [aria-live]")).to_have_count(0)

    page.locator(f"#reason-{second}").select_option("R15")
    page.locator(f"#queue-row-{second} button[value=reject]").click()
    page.locator(f"#queue-row-{second}.decided").wait_for()
    expect(status).to_have_text(f"#{second} 已不通過")
    page.wait_for_function(FOCUSED, arg=f"queue-row-{third}", timeout=5_000)
    assert heard(page) == [f"#{first} 已通過", f"#{second} 已不通過"]
    expect(status.locator(".message")).to_have_class(re.compile(r"\bvisually-hidden\b"))  # the row shows it

    # 置頂 answers in place too: the row again, the keyboard back on its button, the outcome read out.
    page.goto(f"/moderation/?tab=approved&q={tag}")
    listen_to_queue_status(page)
    page.evaluate("window.__sameDocument = true")
    pin = page.locator(f"#queue-row-{shown}").get_by_role("button", name="置頂", exact=True)
    pin.focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text(f"#{shown} 已置頂")
    unpin = page.locator(f"#queue-row-{shown}").get_by_role("button", name="取消置頂")
    expect(unpin).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True
    assert heard(page) == [f"#{shown} 已置頂"]
    with Session(live_db) as session:
        assert session.get(Comment, shown).pinned_at is not None
    watch.assert_clean()


def record_posts(page) -> list[str]:
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    return posts


def test_single_key_shortcuts_can_be_turned_off_and_stay_off_after_a_reload(page, watch, live_db, articles):
    """WCAG 2.1.4: a speech-input user's words, or a key typed in the wrong place, must not decide a
    comment. The switch is labelled, its help says what the keys do now, and it holds for the
    moderator across pages."""
    tag = marker()
    (comment_id,) = add_comments(live_db, articles[6], [f"{tag}：關掉快捷鍵後按鍵無效"])
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    switch, help_text = page.get_by_role("switch", name="單鍵快捷鍵"), page.locator("#shortcut-help")
    expect(switch).to_be_visible()
    expect(switch).to_be_checked()  # on by default, as before: only in the list, as below
    expect(switch).to_have_accessible_description(re.compile("^已開啟：.*j/k 上下移動，a 通過"))
    switch.uncheck()
    expect(help_text).to_have_text(re.compile("^已關閉"))
    expect(help_text).not_to_contain_text("a 通過")

    page.reload()
    expect(switch).not_to_be_checked()
    expect(help_text).to_have_text(re.compile("^已關閉"))
    posts = record_posts(page)
    row = page.locator(f"#queue-row-{comment_id}")
    to_the_list(page)
    for key in "jaxr":
        page.keyboard.press(key)
    row.focus()
    for key in "axr":
        page.keyboard.press(key)
    page.wait_for_timeout(800)
    assert posts == []
    assert statuses(live_db, [comment_id])[comment_id] == ("pending", "")
    expect(row.locator(".row-tick")).not_to_be_checked()
    expect(row).to_be_focused()  # r did not move it to the reason list
    assert "is-current" not in row.get_attribute("class")

    switch.check()  # and on again, for the next page too
    page.reload()
    expect(switch).to_be_checked()
    expect(help_text).to_have_text(re.compile("^已開啟"))
    to_the_list(page)
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.locator(f"#queue-row-{comment_id}.decided").wait_for()
    assert statuses(live_db, [comment_id])[comment_id][0] == "approved"
    watch.assert_clean()


def test_single_keys_act_only_with_the_focus_in_the_list_never_in_a_field_or_with_a_modifier(
    page, watch, live_db, articles
):
    tag = marker()
    first, second = add_comments(live_db, articles[7], [f"{tag}：第一條", f"{tag}：第二條"])
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    posts = record_posts(page)
    rows = page.locator("#queue > .queue-row")
    page.keyboard.press("j")  # the page just opened: the focus is nowhere in the list
    page.keyboard.press("a")
    page.wait_for_timeout(500)
    expect(page.locator("#queue .is-current")).to_have_count(0)
    assert posts == []
    page.locator(".queue-filters button[type=submit]").focus()  # on a control outside the list
    page.keyboard.press("j")
    page.keyboard.press("a")
    note = page.locator(f"#note-{first}")  # in the list, in a field: the keys are text
    note.focus()
    page.keyboard.type("jaxr")
    expect(note).to_have_value("jaxr")
    page.locator(f"#queue-row-{first}").focus()  # in the list, with a modifier
    for key in ("Shift+A", "Alt+a", "Control+j", "Shift+J"):
        page.keyboard.press(key)
    page.wait_for_timeout(800)
    assert posts == []
    assert statuses(live_db, [first, second]) == {first: ("pending", ""), second: ("pending", "")}
    expect(page.locator("#queue .is-current")).to_have_count(0)
    expect(page.locator("#queue .row-tick:checked")).to_have_count(0)

    # In the list the keys work: j and k move, Escape leaves a field for its row, a decides.
    to_the_list(page)
    page.keyboard.press("j")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(0)).to_be_focused()
    note.focus()
    page.keyboard.press("Escape")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("a")
    page.locator(f"#queue-row-{first}.decided").wait_for()
    assert statuses(live_db, [first, second])[first][0] == "approved"
    assert statuses(live_db, [first, second])[second][0] == "pending"
    watch.assert_clean()


@pytest.mark.parametrize("script", [True, False], ids=["htmx", "no-js"])
def test_enter_in_a_note_decides_nothing(browser, live_server, live_db, articles, script):
    """通過 is the first button of a row and of the bulk form: Enter in 備註, typed for a rejection,
    used to approve the row, or every ticked row."""
    tag = marker()
    first, second = add_comments(live_db, articles[1], [f"{tag}：第一條", f"{tag}：第二條"])
    context = browser.new_context(base_url=live_server, java_script_enabled=script, locale="zh-TW")
    try:
        page = context.new_page()
        log_in(page, MODERATOR)
        page.goto(f"/moderation/?q={tag}")
        posts = []
        page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        page.locator(f"#note-{first}").fill("含聯繫方式")
        page.locator(f"#note-{first}").press("Enter")
        page.locator(f"#queue-row-{second} .row-tick").check()
        page.locator("#bulk-note").fill("同一內容刷屏")
        page.locator("#bulk-note").press("Enter")
        page.wait_for_timeout(1_000)
        assert posts == []
        assert statuses(live_db, [first, second]) == {first: ("pending", ""), second: ("pending", "")}
    finally:
        context.close()


def test_bulk_reject_of_twenty_with_one_reason(page, watch, live_db, articles):
    tag = marker()
    ids = add_comments(live_db, articles[1], [f"{tag}第{n}條刷屏" for n in range(20)])
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    assert page.locator("#queue > .queue-row").count() == 20
    page.locator("#tick-all").check()
    assert page.locator(".row-tick:checked").count() == 20
    page.locator("#bulk-reason").select_option("R16")
    page.locator("#bulk-note").fill("同一內容刷屏")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="批量不通過").click()
    # In place: each row its decided line, the form's outcome line in view, the region told.
    expect(page.locator("#queue > .queue-row.decided")).to_have_count(20)
    expect(page.locator("#queue-status")).to_have_text("已不通過 20 條")
    expect(page.locator("#bulk-outcome")).to_have_text("已不通過 20 條")
    expect(page.locator("#bulk-outcome")).to_be_in_viewport()
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#queue > .queue-row:not(.decided)")).to_have_count(0)
    assert set(statuses(live_db, ids).values()) == {("rejected", "R16")}
    with Session(live_db) as session:
        recorded = session.scalar(
            select(func.count())
            .select_from(ModerationAction)
            .where(ModerationAction.action == "moderation.reject", ModerationAction.target_id.in_(ids))
        )
    assert recorded == 20
    watch.assert_clean()


def test_a_bulk_approve_swaps_the_ticked_rows_in_place_and_is_read_out(page, watch, live_db, articles):
    """The bulk used to reload the whole page (HX-Refresh) and its outcome was shown, not announced:
    now the ticked rows are decided where they are, the counts follow, the ticks are gone, the
    region says it, and the keyboard is on the first row still to decide, the shortcuts with it."""
    tag = marker()
    first, second, third, fourth = add_comments(live_db, articles[7], [f"{tag}：第{n}條" for n in "一二三四"])
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    listen_to_queue_status(page)
    page.evaluate("window.__sameDocument = true")
    before = pending_badge(page)
    # Nothing ticked: said in the form, in place, and nothing changes.
    page.get_by_role("button", name="批量通過").click()
    expect(page.locator("#bulk-form [role=alert]")).to_have_text("請先勾選評論")
    expect(page.get_by_role("button", name="批量通過")).to_be_focused()
    allow_status_error(watch, 422)

    page.locator(f"#queue-row-{first} .row-tick").check()
    page.locator(f"#queue-row-{second} .row-tick").check()
    page.get_by_role("button", name="批量通過").click()
    expect(page.locator(f"#queue-row-{first}.decided")).to_have_text(f"#{first} 已通過")
    expect(page.locator(f"#queue-row-{second}.decided")).to_have_text(f"#{second} 已通過")
    expect(page.locator("#queue-status")).to_have_text("已通過 2 條")
    expect(page.locator("#bulk-form [role=alert]")).to_have_count(0)
    page.wait_for_function(
        "n => Number(document.querySelector('#queue-tabs [data-count=pending]').textContent) === n",
        arg=before - 2,
    )
    expect(page.locator(".row-tick:checked")).to_have_count(0)
    page.wait_for_function(FOCUSED, arg=f"queue-row-{third}", timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("h1").count() == 1 and page.locator("#bulk-form").count() == 1

    # The keys work on: x ticks the row in focus for the new form, which rejects it in place too.
    page.keyboard.press("x")
    expect(page.locator(f"#queue-row-{third} .row-tick")).to_be_checked()
    page.locator("#bulk-reason").select_option("R16")
    page.get_by_role("button", name="批量不通過").click()
    expect(page.locator(f"#queue-row-{third}.decided")).to_have_text(f"#{third} 已不通過")
    page.wait_for_function(FOCUSED, arg=f"queue-row-{fourth}", timeout=5_000)
    page.keyboard.press("a")
    expect(page.locator(f"#queue-row-{fourth}.decided")).to_have_text(f"#{fourth} 已通過")
    assert heard(page) == ["已通過 2 條", "已不通過 1 條", f"#{fourth} 已通過"]
    assert page.evaluate("window.__sameDocument") is True
    assert statuses(live_db, [first, second, third, fourth]) == {
        first: ("approved", ""),
        second: ("approved", ""),
        third: ("rejected", "R16"),
        fourth: ("approved", ""),
    }
    watch.assert_clean()


def file_appeals(live_db, article_id: int, count: int) -> list[int]:
    """Comments by the demo author, rejected by the demo admin and appealed: the appeals' ids, for
    the demo moderator to rule (not their own decisions)."""
    ids = add_comments(live_db, article_id, [f"{marker()}：被誤判的評論" for _ in range(count)])
    with Session(live_db) as session:
        admin = session.scalar(select(User).where(User.nickname == "網站管理員"))
        author = session.scalar(select(User).where(User.nickname == AUTHOR))
        appeals = []
        for comment_id in ids:
            comment = session.get(Comment, comment_id)
            moderation.decide(
                session,
                comment=comment,
                moderator=admin,
                decision="reject",
                reason_code="R08",
                now=utc_now(),
                today=utc_now().date(),
            )
            appeals.append(
                moderation.file_appeal(
                    session,
                    author=author,
                    target_type="comment",
                    target_id=comment_id,
                    text="我沒有人身攻擊，請重新審核。",
                    now=utc_now(),
                ).id
            )
        session.commit()
        return appeals


def test_an_appeal_ruling_lands_in_place_and_is_read_out(page, watch, live_db, articles):
    first, second = file_appeals(live_db, articles[7], 2)
    log_in(page, MODERATOR)
    page.goto("/moderation/?tab=appeals")
    listen_to_queue_status(page)
    page.evaluate("window.__sameDocument = true")
    badge = int(page.locator("#queue-tabs [data-count=appeals]").inner_text())
    row = page.locator(f"#appeal-{first}")
    row.locator(f"#overturn-{first}").select_option("1")
    row.locator(f"#appeal-note-{first}").fill("屬正常批評")
    row.get_by_role("button", name="提交").click()
    expect(page.locator(f"#appeal-{first}.decided")).to_have_text(f"申訴 #{first} 已處理：撤銷原決定")
    expect(page.locator("#queue-status")).to_have_text(f"申訴 #{first} 已處理：撤銷原決定")
    page.wait_for_function(FOCUSED, arg=f"appeal-{second}", timeout=5_000)  # on to the next appeal
    expect(page.locator("#queue-tabs [data-count=appeals]")).to_have_text(str(badge - 1))
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("h1").count() == 1
    assert heard(page) == [f"申訴 #{first} 已處理：撤銷原決定"]
    with Session(live_db) as session:
        appeal = session.get(Appeal, first)
        assert appeal.status == "overturned"
        assert session.get(Comment, appeal.target_id).status == "approved"
    watch.assert_clean()


def test_tab_counts_update_out_of_band_and_the_poll_announces_new_comments(page, watch, live_db, articles):
    tag = marker()
    (first,) = add_comments(live_db, articles[2], [f"{tag}：先審的這一條"])
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    before = pending_badge(page)
    page.evaluate("window.__sameDocument = true")
    page.locator(f"#queue-row-{first} button[value=approve]").click()
    page.locator(f"#queue-row-{first}.decided").wait_for()
    page.wait_for_function(
        "n => Number(document.querySelector('#queue-tabs [data-count=pending]').textContent) === n",
        arg=before - 1,
    )
    # Another reader posts meanwhile: the badge polls every 20 s and announces it, no reload.
    add_comments(live_db, articles[2], [f"{tag}：新來的一條"])
    page.wait_for_function(
        "n => Number(document.querySelector('#queue-tabs [data-count=pending]').textContent) === n",
        arg=before,
        timeout=25_000,
    )
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator(f"#queue-row-{first}.decided").count() == 1  # the moderator's place is kept
    assert page.locator("#queue-tabs").count() == 1
    watch.assert_clean()


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_approve_and_reject_post_and_redirect_with_a_flash(page, watch, live_db, articles):
    tag = marker()
    approve_id, reject_id = add_comments(live_db, articles[3], [f"{tag}：通過這條", f"{tag}：不通過這條"])
    log_in(page, MODERATOR)
    queue = f"/moderation/?q={tag}"
    page.goto(queue)
    assert page.locator("#queue > .queue-row").count() == 2
    expect(page.locator("#shortcut-panel")).to_be_hidden()  # no shortcuts without JavaScript, no word of them
    with page.expect_navigation():
        page.locator(f"#queue-row-{approve_id} button[value=approve]").click()
    assert page.url.endswith(queue) or "q=" in page.url
    expect(page.locator("#queue-status")).to_have_text(f"評論 #{approve_id} 已通過")
    expect(page.locator("#queue-status .message")).to_be_in_viewport()
    expect(page.locator("#messages")).to_have_text("")
    page.locator(f"#reason-{reject_id}").select_option("R15")
    with page.expect_navigation():
        page.locator(f"#queue-row-{reject_id} button[value=reject]").click()
    expect(page.locator("#queue-status")).to_have_text(f"評論 #{reject_id} 已不通過")
    assert statuses(live_db, [approve_id, reject_id]) == {
        approve_id: ("approved", ""),
        reject_id: ("rejected", "R15"),
    }
    # A reject without a reason is refused and nothing changes.
    (third,) = add_comments(live_db, articles[3], [f"{tag}：第三條"])
    page.goto(queue)
    with page.expect_navigation():
        page.locator(f"#queue-row-{third} button[value=reject]").click()
    assert "請選擇處理理由" in page.locator("body").inner_text()  # the page again (422), beside the row
    assert statuses(live_db, [third])[third] == ("pending", "")
    # Chromium reports the 422 page's own status as a console line; that one is expected.
    watch.console_errors = [line for line in watch.console_errors if "status of 422" not in line]
    watch.assert_clean()


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_a_bulk_and_an_appeal_ruling_post_and_redirect_with_a_flash(
    page, watch, live_db, articles
):
    tag = marker()
    ticked, left = add_comments(live_db, articles[6], [f"{tag}：勾選這條", f"{tag}：不勾這條"])
    (appeal_id,) = file_appeals(live_db, articles[6], 1)
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?q={tag}")
    page.locator(f"#queue-row-{ticked} .row-tick").check()
    with page.expect_navigation():
        page.get_by_role("button", name="批量通過").click()
    expect(page.locator("#queue-status")).to_have_text("已通過 1 條")
    assert "q=" in page.url
    assert page.locator("#queue > .queue-row").count() == 1  # the page again, the decided row gone
    assert statuses(live_db, [ticked, left]) == {ticked: ("approved", ""), left: ("pending", "")}
    page.goto("/moderation/?tab=appeals")
    page.locator(f"#overturn-{appeal_id}").select_option("0")
    with page.expect_navigation():
        page.locator(f"#appeal-{appeal_id}").get_by_role("button", name="提交").click()
    expect(page.locator("#queue-status")).to_have_text(f"申訴 #{appeal_id} 已處理")
    expect(page.locator(f"#appeal-{appeal_id}")).to_have_count(0)
    with Session(live_db) as session:
        assert session.get(Appeal, appeal_id).status == "upheld"
    watch.assert_clean()


@pytest.mark.parametrize("ruling", ["upheld", "not_upheld"])
def test_three_readers_reports_hide_a_comment_then_the_moderator_rules(
    page, watch, live_db, articles, context, ruling
):
    article = articles[4] if ruling == "upheld" else articles[5]
    text = f"{marker()}：你們這些人都是廢物"
    (comment_id,) = add_comments(live_db, article, [text], status="approved")
    page.goto(f"/articles/{article}")
    assert page.locator(f"#comment-{comment_id}").count() == 1
    for phone in READERS[:3]:
        context.clear_cookies()
        log_in(page, phone)
        page.goto(f"/articles/{article}")
        item = page.locator(f"#comment-{comment_id}")
        item.locator("a.report-link").click()
        form = page.locator(f"#report-slot-{comment_id} form")
        form.locator("select[name=reason]").select_option("R08")
        form.locator("button[type=submit]").click()
        page.locator(f"#report-slot-{comment_id}").get_by_text("舉報已收到，處理結果將通知您").wait_for()
    assert statuses(live_db, [comment_id])[comment_id][0] == "hidden"
    context.clear_cookies()
    page.goto(f"/articles/{article}")
    assert page.locator(f"#comment-{comment_id}").count() == 0
    assert page.get_by_text(text).count() == 0
    log_in(page, MODERATOR)
    page.goto(f"/moderation/?tab=reported&q={text[:8]}")
    row = page.locator(f"#queue-row-{comment_id}")
    assert "舉報 3" in row.inner_text()
    assert row.locator(".report-list li").count() == 3
    row.locator(f"#ruling-{comment_id}").select_option(ruling)
    if ruling == "upheld":
        row.locator(f"#ruling-reason-{comment_id}").select_option("R08")
    row.get_by_role("button", name="提交裁定").click()
    done = page.locator(f"#queue-row-{comment_id}.decided")
    done.wait_for()
    expected = {
        "upheld": ("舉報成立，評論已刪除", "deleted", "已刪除"),
        "not_upheld": ("舉報不成立", "approved", "舉報不成立"),
    }
    message, status, result = expected[ruling]
    assert message in done.inner_text()
    assert statuses(live_db, [comment_id])[comment_id][0] == status
    with Session(live_db) as session:
        told = session.scalars(
            select(User.nickname)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.link == f"/articles/{article}", Notification.kind == "report_result")
            .where(Notification.text == f"您舉報的評論已處理：{result}")
        ).all()
    assert sorted(told) == sorted(["東昌湖邊人", "運河晨跑", "光岳樓下"])
    context.clear_cookies()
    page.goto(f"/articles/{article}")
    assert page.locator(f"#comment-{comment_id}").count() == (1 if ruling == "not_upheld" else 0)
    watch.assert_clean()
