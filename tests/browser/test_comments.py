"""網友評論 in Chromium: register, log in and post with htmx and without JavaScript; like, reply,
載入更多, 展開更多回覆, the 最新/熱門 tabs and 舉報 in place; a 429 and a 413 as messages that keep the typed text; and
a sample of the hostile corpus rendered inert.

These tests run against `comment_portal` (tests/browser/conftest.py): a second server on its own copy
of the demo database, with the comment, login and report limits lifted; each test uses readers and an
article of its own.
"""

from __future__ import annotations

import re
from itertools import count
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import Comment, Like
from tests.browser.conftest import allow_status_error, watch_page
from tests.hostile_corpus import BROWSER_SAMPLE

SUBMITTED = "評論已提交，審核後顯示"
REPORTED = "舉報已收到，處理結果將通知您"
TOO_LARGE = "提交的內容過大，請縮短後再試。"
MARKER = "window.__portalMarker"
_phones = count(13500000001)


@pytest.fixture(scope="session")
def portal_url(comment_portal) -> str:
    return comment_portal.url


# --- helpers ---------------------------------------------------------------------------------------


def log_in(page, reader, next_path: str) -> None:
    page.goto(f"/accounts/login?next={next_path}")
    page.get_by_label("手機號碼").fill(reader.phone)
    page.get_by_label("密碼").fill(reader.password)
    page.get_by_role("button", name="登錄", exact=True).click()
    page.wait_for_url(f"**{next_path}")


def set_marker(page) -> None:
    """A value on `window`: it survives an htmx swap and dies with a page load."""
    page.evaluate(f"{MARKER} = 'no reload'")


def marker_survived(page) -> bool:
    return page.evaluate(f"{MARKER} === 'no reload'")


def comment_item(page, comment_id: int):
    return page.locator(f"li.comment[data-comment-id='{comment_id}']").first


def own_pending(page, text: str):
    return page.locator("#own-unpublished li", has_text=text)


# --- 1, 2: register, log in, post -------------------------------------------------------------------


def test_register_log_in_and_post_with_htmx_shows_it_awaiting_review(page, watch, comment_portal):
    article = f"/articles/{comment_portal.fresh_article()}"
    phone, nickname, password = str(next(_phones)), "瀏覽器讀者甲", "browser-password-1"

    # Register through the real form: the code comes from the server's log, as a phone would get it.
    page.goto(f"/accounts/register?next={article}")
    page.get_by_label("手機號碼").fill(phone)
    page.get_by_role("button", name="獲取驗證碼").click()
    expect(page.locator("#code-status")).to_contain_text("驗證碼已發送至")
    assert phone not in page.content()  # masked on the page
    page.get_by_label("短信驗證碼").fill(comment_portal.sms_code(phone))
    page.get_by_label("暱稱").fill(nickname)
    page.get_by_label("密碼").fill(password)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="註冊", exact=True).click()
    page.wait_for_url(f"**{article}")
    expect(page.locator(".whoami")).to_have_text(nickname)

    # Out, and in again through the login form.
    page.get_by_role("button", name="退出").click()
    expect(page.locator(".whoami")).to_have_count(0)
    log_in(page, SimpleNamespace(phone=phone, password=password), article)
    expect(page.locator(".whoami")).to_have_text(nickname)

    text = "瀏覽器裡用htmx發表的第一條評論。"
    expect(page.locator("#own-unpublished")).to_be_hidden()  # nothing of theirs waits yet
    set_marker(page)
    page.locator("#body").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="發表評論").click()
    assert posted.value.request.headers.get("hx-request") == "true"
    assert posted.value.status == 201

    expect(page.locator("#comment-status")).to_have_text(SUBMITTED)
    expect(page.locator("#body")).to_have_value("")  # a cleared form
    assert marker_survived(page), "the post reloaded the page"
    assert page.locator("h1").count() == 1
    expect(own_pending(page, text)).to_contain_text("審核中")  # on top of their own list, in place
    expect(page.locator("#own-unpublished h3")).to_be_visible()

    page.reload()
    expect(own_pending(page, text)).to_contain_text("審核中")
    expect(page.locator("#own-unpublished h3")).to_have_text("我的待審評論")
    page.goto("/accounts/comments")
    expect(page.locator(".my-comment", has_text=text)).to_contain_text("審核中")
    watch.assert_clean()


def expect_told_where_landed(page, message: str) -> None:
    """A no-JS action in the comment area lands at #comment-status and says what became of it
    there, in view: not in #messages at the top of the page, scrolled out of sight."""
    status = page.locator("#comment-status")
    expect(status).to_have_text(message)
    expect(status).to_have_attribute("role", "status")
    expect(status.locator(".message")).to_be_visible()
    expect(status.locator(".message")).to_be_in_viewport()
    expect(page.locator("#messages")).to_have_text("")


def test_posting_without_javascript_lands_at_the_comment_status_with_its_message(browser, comment_portal):
    article = f"/articles/{comment_portal.fresh_article()}"
    reader = comment_portal.reader()
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=False, locale="zh-TW")
    try:
        page = context.new_page()
        watch = watch_page(page)
        log_in(page, reader, article)
        text = "沒有JavaScript也能發表評論。"
        page.locator("#body").fill(text)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="發表評論").click()
        assert posted.value.status == 303
        page.wait_for_url(f"**{article}#comment-status")
        expect_told_where_landed(page, SUBMITTED)
        expect(own_pending(page, text)).to_contain_text("審核中")
        expect(page.locator("#body")).to_have_value("")
        watch.assert_clean()
    finally:
        context.close()


def test_a_refused_post_without_javascript_shows_the_form_and_its_message(browser, comment_portal):
    """The refusal is the whole article page again (422): it used to open at the top of the
    article, the message beside the form far below, out of sight."""
    article = f"/articles/{comment_portal.fresh_article()}"
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=False, locale="zh-TW")
    try:
        page = context.new_page()
        log_in(page, comment_portal.reader(), article)
        page.locator("#body").fill("詳見 www.example.com")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="發表評論").click()
        assert posted.value.status == 422
        page.wait_for_load_state()
        assert page.url.endswith("#comment-form")
        expect(page.locator("#body-errors")).to_be_in_viewport()
        expect(page.locator("#body")).to_have_value("詳見 www.example.com")
    finally:
        context.close()


@pytest.mark.parametrize("script", [True, False], ids=["htmx", "no-js"])
@pytest.mark.parametrize(
    ("form", "button", "fields"),
    [
        ("/accounts/register", "註冊", {"暱稱": "回車讀者", "密碼": "enter-password-1"}),
        ("/accounts/password-reset", "重設密碼", {"新密碼": "enter-password-2"}),
    ],
    ids=["register", "password-reset"],
)
def test_enter_in_a_field_submits_the_form_not_another_code(
    browser, comment_portal, script, form, button, fields
):
    """獲取驗證碼 comes first in the form: Enter in 密碼 used to click it and send another code."""
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=script, locale="zh-TW")
    try:
        page = context.new_page()
        phone = comment_portal.reader().phone if "reset" in form else str(next(_phones))
        page.goto(form)
        page.get_by_label("手機號碼").fill(phone)
        page.get_by_role("button", name="獲取驗證碼").click()
        expect(page.locator("#code-status")).to_contain_text("驗證碼已發送至")
        page.get_by_label("短信驗證碼").fill(comment_portal.sms_code(phone))
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        if "reset" not in form:
            page.get_by_role("checkbox").check()
        with page.expect_request(lambda r: r.method == "POST") as posted:
            page.get_by_label(list(fields)[-1], exact=True).press("Enter")
        assert posted.value.url.split("?")[0].endswith(form), posted.value.url
        # The unseen default button is no second button to assistive technology.
        assert page.get_by_role("button", name=button, exact=True).count() <= 1
    finally:
        context.close()


# --- 3: like, reply, 載入更多, 展開更多回覆 and 舉報 in place ------------------------------------


def test_like_toggles_and_report_is_filed_in_place(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "一條可以點贊和舉報的評論。")
    reader = comment_portal.reader()
    log_in(page, reader, f"/articles/{article_id}")
    item = comment_item(page, comment_id)
    like = item.locator(".like-button")
    set_marker(page)

    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like.locator(".like-count")).to_have_text("0")
    like.click()
    expect(like.locator(".like-count")).to_have_text("1")
    expect(like).to_have_attribute("aria-pressed", "true")
    like.click()
    expect(like.locator(".like-count")).to_have_text("0")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like.locator(".like-count")).to_have_text("1")

    item.get_by_role("link", name="舉報").click()
    slot = page.locator(f"#report-slot-{comment_id}")
    expect(slot.locator("form.report-form")).to_be_visible()
    slot.get_by_label("舉報理由").select_option(label="侮辱誹謗、人身攻擊")
    slot.get_by_label("補充說明（選填）").fill("瀏覽器測試的舉報")
    slot.get_by_role("button", name="提交舉報").click()
    expect(slot).to_have_text(REPORTED)
    expect(item.get_by_role("link", name="舉報")).to_have_count(0)  # no second form to a 409
    expect(item.locator(".reported")).to_have_text("已舉報")

    assert marker_survived(page), "a like or the report reloaded the page"
    page.reload()
    expect(item.locator(".like-count")).to_have_text("1")
    expect(item.locator(".reported")).to_have_text("已舉報")
    assert comment_portal.scalar(select(func.count()).select_from(Like).where(Like.user_id == reader.id)) == 1
    watch.assert_clean()


def test_the_keyboard_stays_where_an_htmx_answer_replaced_the_control(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "一條用鍵盤點贊的評論。")
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    like = comment_item(page, comment_id).locator(".like-button")
    like.press("Enter")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_be_focused()  # the new button, not the top of the page

    body, send = page.locator("#body"), page.locator("#comment-form").get_by_role("button", name="發表評論")
    body.fill("詳見 www.example.com")
    send.press("Enter")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_be_focused()  # the field to fix, its message beside it
    allow_status_error(watch, 422)
    body.fill("一條用鍵盤發表的評論。")
    send.press("Enter")
    expect(page.locator("#comment-status")).to_have_text(SUBMITTED)
    expect(send).to_be_focused()  # the new form's button, its acknowledgement in the status region above

    set_marker(page)
    # Once htmx has settled the answer (and its out-of-band part): on a loaded machine a click
    # straight after it once went to the no-JS report page.
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    comment_item(page, comment_id).get_by_role("link", name="舉報").click()
    slot = page.locator(f"#report-slot-{comment_id}")
    expect(slot.locator("form")).to_be_visible()
    assert marker_survived(page), "舉報 opened the no-JS report page"
    slot.get_by_label("舉報理由").select_option(label="侮辱誹謗、人身攻擊")
    slot.get_by_role("button", name="提交舉報").press("Enter")
    expect(slot.locator("[role=status]")).to_be_focused()
    watch.assert_clean()


def test_report_puts_the_keyboard_in_its_form_and_cancel_closes_it_in_place(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "一條先舉報後取消的評論。")
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    set_marker(page)
    link = comment_item(page, comment_id).get_by_role("link", name="舉報")
    slot = page.locator(f"#report-slot-{comment_id}")
    link.press("Enter")
    expect(slot.get_by_label("舉報理由")).to_be_focused()  # straight into the form 舉報 opened
    slot.get_by_role("link", name="取消").click()
    expect(slot.locator("form")).to_have_count(0)
    expect(link).to_be_focused()  # back where the reader was
    link.click()  # and it opens again
    expect(slot.get_by_label("舉報理由")).to_be_focused()
    assert marker_survived(page), "取消 reloaded the page"
    watch.assert_clean()


def test_without_javascript_every_comment_action_says_its_outcome_where_the_reader_lands(
    browser, comment_portal
):
    """登錄 from the comment area, 舉報, 編輯 and 刪除 without JavaScript: each redirects into the
    comment area, far below #messages, and its message used to be flashed up there, unseen."""
    article_id = comment_portal.fresh_article()
    article = f"/articles/{article_id}"
    reader, other = comment_portal.reader(), comment_portal.reader()
    theirs = comment_portal.approved_comment(article_id, other.id, "一條別人寫的、要被舉報的評論。")
    edited = comment_portal.approved_comment(article_id, reader.id, "一條要修改的評論。")
    deleted = comment_portal.approved_comment(article_id, reader.id, "一條要刪除的評論。")
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=False, locale="zh-TW")
    try:
        page = context.new_page()
        watch = watch_page(page)
        page.goto(article)
        page.locator(".comment-login-prompt").get_by_role("link", name="登錄").click()
        page.get_by_label("手機號碼").fill(reader.phone)
        page.get_by_label("密碼").fill(reader.password)
        page.get_by_role("button", name="登錄", exact=True).click()
        page.wait_for_url(f"**{article}#comments")
        expect_told_where_landed(page, f"{reader.nickname}，歡迎回來。")

        comment_item(page, theirs).get_by_role("link", name="舉報").click()
        page.wait_for_url(f"**/comments/{theirs}/report")
        page.get_by_label("舉報理由").select_option("R08")
        page.get_by_role("button", name="提交舉報").click()
        page.wait_for_url(f"**{article}#comment-status")
        expect_told_where_landed(page, REPORTED)

        comment_item(page, edited).get_by_role("link", name="編輯").click()
        page.wait_for_url(f"**/comments/{edited}/edit")
        page.locator("#body").fill("一條改過的評論。")
        page.get_by_role("button", name="保存修改").click()
        page.wait_for_url(f"**{article}#comment-status")
        expect_told_where_landed(
            page, "修改已提交，審核通過後替換原評論；在此之前其他讀者看到的仍是原來的內容"
        )
        # The author sees the published text, and their edit below it, marked as waiting.
        in_thread = page.locator(f"#comment-{edited}")
        expect(in_thread.locator("[data-edit-in-review]")).to_contain_text("修改待審核")
        expect(in_thread.locator(".comment-body").first).to_have_text("一條要修改的評論。")

        # 刪除 asks first, on a page of its own (data-confirm is portal.js's): 取消 keeps it,
        # 確定 deletes it.
        comment_item(page, deleted).get_by_role("button", name="刪除").click()
        expect(page.locator("#confirm-question")).to_have_text("確定刪除這條評論？刪除後不能恢復。")
        page.locator("#confirm-form").get_by_role("link", name="取消").click()
        page.wait_for_url(f"**{article}#comment-{deleted}")
        expect(comment_item(page, deleted)).to_contain_text("一條要刪除的評論。")
        assert comment_portal.scalar(select(Comment.status).where(Comment.id == deleted)) == "approved"
        comment_item(page, deleted).get_by_role("button", name="刪除").click()
        page.get_by_role("button", name="確定").click()
        page.wait_for_url(f"**{article}#comment-status")
        expect_told_where_landed(page, "評論已刪除")
        assert comment_portal.scalar(select(Comment.status).where(Comment.id == deleted)) == "deleted"
        page.reload()  # said once: the region is empty again
        expect(page.locator("#comment-status")).to_have_text("")
        watch.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_logging_in_from_a_comments_like_says_welcome_beside_that_comment(
    browser, comment_portal, javascript
):
    """點贊 signed out → login → back at #comment-N, an older comment far down the list: the welcome
    used to be in #messages at the top of the page, scrolled out of sight. It is in the comment's item
    now, in view, with or without JavaScript."""
    article_id = comment_portal.fresh_article()
    article = f"/articles/{article_id}"
    author, reader = comment_portal.reader(), comment_portal.reader()
    older = comment_portal.approved_comment(
        article_id, author.id, "一條較早的、要點贊的評論。", minutes_ago=60
    )
    for number in range(12):  # newer ones, listed above it
        comment_portal.approved_comment(
            article_id, author.id, f"後來的第{number}條評論。", minutes_ago=30 - number
        )
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=javascript, locale="zh-TW")
    try:
        page = context.new_page()
        watch = watch_page(page)
        page.goto(article)
        comment_item(page, older).locator(".like-login").click()
        page.get_by_label("手機號碼").fill(reader.phone)
        page.get_by_label("密碼").fill(reader.password)
        page.get_by_role("button", name="登錄", exact=True).click()
        page.wait_for_url(f"**{article}#comment-{older}")
        welcome = comment_item(page, older).locator(".comment-landing")
        expect(welcome).to_have_text(f"{reader.nickname}，歡迎回來。")
        expect(welcome).to_be_in_viewport()
        expect(page.locator("#messages")).to_have_text("")
        expect(page.locator("#messages")).not_to_be_in_viewport()  # the old place: out of sight
        expect(comment_item(page, older).get_by_role("button", name=re.compile("點贊"))).to_be_in_viewport()
        page.reload()  # said once
        expect(page.locator(".comment-landing")).to_have_count(0)
        watch.assert_clean()
    finally:
        context.close()


def test_report_cancel_without_javascript_goes_back_to_the_comment(browser, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "一條不用腳本舉報的評論。")
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=False, locale="zh-TW")
    try:
        page = context.new_page()
        watch = watch_page(page)
        log_in(page, comment_portal.reader(), f"/articles/{article_id}")
        comment_item(page, comment_id).get_by_role("link", name="舉報").click()
        page.wait_for_url(f"**/comments/{comment_id}/report")
        page.locator("form.report-form").get_by_role("link", name="取消").click()
        page.wait_for_url(f"**/articles/{article_id}#comment-{comment_id}")
        watch.assert_clean()
    finally:
        context.close()


def test_a_pending_comment_just_posted_can_be_withdrawn_from_the_own_list(page, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    asked = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    log_in(page, author, f"/articles/{article_id}")
    text = "一條發出去就後悔的評論。"
    page.locator("#body").fill(text)
    page.get_by_role("button", name="發表評論").click()
    item = own_pending(page, text)
    expect(item).to_contain_text("審核中")
    expect(item.get_by_role("link", name="編輯")).to_be_visible()
    with page.expect_navigation():
        item.get_by_role("button", name="刪除").click()
    assert asked == ["確定刪除這條評論？刪除後不能恢復。"]
    expect_told_where_landed(page, "評論已刪除")
    expect(own_pending(page, text)).to_have_count(0)
    assert comment_portal.scalar(select(Comment.status).where(Comment.author_id == author.id)) == "deleted"


def test_deleting_ones_own_comment_asks_first(page, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "一條差點被誤刪的評論。")
    asked, answers = [], iter([False, True])

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    log_in(page, author, f"/articles/{article_id}")
    delete = comment_item(page, comment_id).get_by_role("button", name="刪除")
    delete.click()
    assert asked == ["確定刪除這條評論？刪除後不能恢復。"]
    expect(comment_item(page, comment_id)).to_contain_text("一條差點被誤刪的評論。")  # cancelled: kept
    assert comment_portal.scalar(select(Comment.status).where(Comment.id == comment_id)) == "approved"
    with page.expect_navigation():
        delete.click()
    assert len(asked) == 2
    expect_told_where_landed(page, "評論已刪除")
    assert comment_portal.scalar(select(Comment.status).where(Comment.id == comment_id)) == "deleted"


def test_reply_swaps_the_form_in_place_and_posts(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "請回覆這條評論。")
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    set_marker(page)

    comment_item(page, comment_id).get_by_role("link", name="回覆").click()
    form = page.locator("#comment-form")
    expect(form.locator(".replying-to")).to_contain_text(f"回覆 @{author.nickname}")
    expect(form.get_by_role("button", name="發表回覆")).to_be_visible()
    expect(page.locator("#body")).to_be_focused()  # the keyboard goes where the reply is typed
    page.locator("#body").fill("這是一條瀏覽器裡的回覆。")
    form.get_by_role("button", name="發表回覆").click()
    expect(page.locator("#comment-status")).to_have_text(SUBMITTED)
    expect(form.locator(".replying-to")).to_have_count(0)  # back to a new comment
    assert marker_survived(page)
    page.reload()
    expect(own_pending(page, "這是一條瀏覽器裡的回覆。")).to_contain_text("審核中")
    watch.assert_clean()


def test_a_posts_outcome_is_read_out_from_a_status_region_that_was_there_before_the_swap(
    page, watch, comment_portal
):
    """The acknowledgement used to arrive inside the swapped form, a new role="status" element
    that a screen reader may not announce; the refusal only beside the field. Both now land in a
    live region of the page that the swap leaves in place, only its content changing."""
    article_id = comment_portal.fresh_article()
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    status, body = page.locator("#comment-status"), page.locator("#body")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")
    # The region as the page had it, and every text it is given: what a screen reader hears of.
    page.evaluate(
        """() => {
            window.__region = document.getElementById('comment-status');
            window.__heard = [];
            new MutationObserver(() => window.__heard.push(window.__region.textContent.trim()))
                .observe(window.__region, {childList: true, subtree: true, characterData: true});
        }"""
    )

    body.fill("詳見 www.example.com")
    page.get_by_role("button", name="發表評論").click()
    errors = page.locator("#body-errors")
    expect(errors).to_be_visible()
    refusal = errors.inner_text().strip()
    expect(status).to_have_text(f"評論未能提交：{refusal}")
    expect(status.locator("p")).to_have_class(re.compile(r"\bvisually-hidden\b"))  # seen beside the field
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_have_accessible_description(refusal)
    expect(body).to_be_focused()

    body.fill("一條讀屏軟件會讀出結果的評論。")
    page.get_by_role("button", name="發表評論").click()
    expect(status).to_have_text(SUBMITTED)
    expect(status.locator(".message-success")).to_be_visible()
    assert page.evaluate("document.getElementById('comment-status') === window.__region")
    assert page.evaluate("window.__heard.filter(t => t)") == [f"評論未能提交：{refusal}", SUBMITTED]
    expect(page.locator("#comment-form [role=status], #comment-form [aria-live]")).to_have_count(0)
    allow_status_error(watch, 422)
    watch.assert_clean()


def test_the_reply_form_says_whom_it_answers_and_cancel_goes_back_to_the_comment(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    comment_id = comment_portal.approved_comment(article_id, author.id, "一條有人回覆又取消的評論。")
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    body = page.locator("#body")
    body.fill("先發一條評論。")
    page.get_by_role("button", name="發表評論").click()
    expect(page.locator("#comment-status")).to_have_text(SUBMITTED)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")

    reply = comment_item(page, comment_id).get_by_role("link", name="回覆", exact=True)
    reply.press("Enter")
    expect(body).to_be_focused()
    # Heard with the field the keyboard lands in: whom the reply answers.
    expect(body).to_have_accessible_description(f"回覆 @{author.nickname}")
    expect(page.locator("#comment-status")).to_have_text("")  # the last post's outcome is done with

    page.get_by_role("link", name="取消回覆").press("Enter")
    expect(page.locator("#comment-form .replying-to")).to_have_count(0)
    expect(reply).to_be_focused()  # back at the comment, not at the top of the page
    watch.assert_clean()


def test_load_more_and_more_replies_append_in_place(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    # 25 top-level comments, newest first on the page: 第1條 is the newest.
    ids = [
        comment_portal.approved_comment(article_id, author.id, f"第{n}條評論", minutes_ago=n)
        for n in range(1, 26)
    ]
    replies = [
        comment_portal.approved_comment(
            article_id, author.id, f"第{n}條回覆", parent_id=ids[0], minutes_ago=-n
        )
        for n in range(1, 6)
    ]
    page.goto(f"/articles/{article_id}")
    top_level = page.locator("#comment-list > li.comment")
    expect(top_level).to_have_count(20)
    set_marker(page)

    page.get_by_role("link", name="載入更多").click()
    expect(top_level).to_have_count(25)
    expect(top_level.nth(20).locator(".comment-body")).to_have_text("第21條評論")
    expect(top_level.nth(24).locator(".comment-body")).to_have_text("第25條評論")
    expect(top_level.nth(20)).to_be_focused()  # the keyboard goes on from the first new comment
    expect(page.locator("#comments-more")).to_have_count(0)

    thread = page.locator(f"#replies-{ids[0]} > li.comment")
    expect(thread).to_have_count(3)
    page.get_by_role("link", name=re.compile("展開更多回覆")).click()
    expect(thread).to_have_count(5)
    expect(thread.nth(3)).to_be_focused()
    expect(thread.locator(".comment-body")).to_have_text([f"第{n}條回覆" for n in range(1, 6)])
    assert [int(i) for i in thread.evaluate_all("items => items.map(i => i.dataset.commentId)")] == replies
    assert marker_survived(page)
    assert page.locator("h1").count() == 1
    watch.assert_clean()


def liked_article(comment_portal) -> int:
    """An article with 第1條評論 (newest) to 第3條評論: 熱門 turns the order round, the oldest has
    the most likes."""
    article_id = comment_portal.fresh_article()
    author = comment_portal.reader()
    ids = [
        comment_portal.approved_comment(article_id, author.id, f"第{n}條評論", minutes_ago=n)
        for n in (1, 2, 3)
    ]
    with comment_portal.app().app_context():
        for comment_id, likes in zip(ids, (0, 4, 9), strict=True):
            db.session.execute(update(Comment).where(Comment.id == comment_id).values(like_count=likes))
        db.session.commit()
    return article_id


def test_the_order_tabs_swap_the_list_and_keep_the_keyboard_on_the_tab_chosen(page, watch, comment_portal):
    article_id = liked_article(comment_portal)
    page.goto(f"/articles/{article_id}")
    set_marker(page)
    bodies = page.locator("#comment-list > li.comment > .comment-body")
    tabs = page.locator(".comment-tabs a")
    newest, hot = tabs.filter(has_text="最新"), tabs.filter(has_text="熱門")
    expect(bodies).to_have_text(["第1條評論", "第2條評論", "第3條評論"])
    expect(newest).to_have_attribute("aria-current", "true")

    hot.focus()
    page.keyboard.press("Enter")
    expect(bodies).to_have_text(["第3條評論", "第2條評論", "第1條評論"])
    expect(hot).to_be_focused()  # the new 熱門 tab: the one pressed went with the old thread
    expect(hot).to_have_attribute("aria-current", "true")
    expect(newest).not_to_have_attribute("aria-current", re.compile(".*"))

    page.keyboard.press("Shift+Tab")  # the keyboard goes on from there: 最新 is just before it
    expect(newest).to_be_focused()
    page.keyboard.press("Enter")
    expect(bodies).to_have_text(["第1條評論", "第2條評論", "第3條評論"])
    expect(newest).to_be_focused()
    expect(newest).to_have_attribute("aria-current", "true")
    expect(hot).not_to_have_attribute("aria-current", re.compile(".*"))
    assert marker_survived(page)  # swapped in place, no page load
    assert page.locator("h1").count() == 1
    watch.assert_clean()


def test_the_order_chosen_is_in_the_address_through_back_forward_and_reload(page, watch, comment_portal):
    article_id = liked_article(comment_portal)
    plain = re.compile(rf"/articles/{article_id}$")
    hot_address = re.compile(rf"/articles/{article_id}\?order=hot#comments$")
    newest_order = ["第1條評論", "第2條評論", "第3條評論"]
    bodies = page.locator("#comment-list > li.comment > .comment-body")
    tabs = page.locator(".comment-tabs a")
    newest, hot = tabs.filter(has_text="最新"), tabs.filter(has_text="熱門")

    def shows(tab, order: list[str]) -> None:
        # After back or forward htmx reloads the page (no snapshots kept): a whole page load, which a
        # loaded CI machine can take longer than the default 5 s for.
        expect(tab).to_have_attribute("aria-current", "true", timeout=20_000)
        expect(bodies).to_have_text(order)

    # Signed in, with a comment of their own awaiting review: a page that is theirs alone.
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    pending = "只有我自己看得到的待審評論。"
    page.locator("#body").fill(pending)
    page.get_by_role("button", name="發表評論").click()
    expect(own_pending(page, pending)).to_contain_text("審核中")
    set_marker(page)
    hot.click()
    shows(hot, newest_order[::-1])
    expect(page).to_have_url(hot_address)
    assert marker_survived(page)  # swapped in place: the address changed without a page load
    expect(hot).to_be_focused()  # the focus after the swap still lands on the tab chosen
    # htmx keeps no snapshot of the page it left (historyCacheSize 0): nothing of theirs in storage.
    stored = page.evaluate(
        "JSON.stringify([Object.assign({}, sessionStorage), Object.assign({}, localStorage)])"
    )
    assert pending not in stored and "htmx-history-cache" not in stored

    page.go_back()  # the entry the tab pushed, left within the same page
    expect(page).to_have_url(plain)
    shows(newest, newest_order)
    # The page htmx reloaded is parsed before its deferred scripts run: going forward in between
    # would reach no popstate handler. Wait for the load, as a person's second click would.
    page.wait_for_load_state("load")
    page.go_forward()
    expect(page).to_have_url(hot_address)
    shows(hot, newest_order[::-1])

    page.reload()  # as a shared link would open
    expect(page).to_have_url(hot_address)
    shows(hot, newest_order[::-1])
    expect(newest).not_to_have_attribute("aria-current", re.compile(".*"))
    page.go_back()
    expect(page).to_have_url(plain)
    shows(newest, newest_order)
    expect(own_pending(page, pending)).to_contain_text("審核中")  # the page of now, not a snapshot
    assert page.locator("h1").count() == 1 and page.locator("#comment-thread").count() == 1
    watch.assert_clean()


# --- 4: 429 and 413 keep the text --------------------------------------------------------------------


@pytest.fixture
def cooldown(comment_portal):
    """The default 15 s between two comments of one reader, for one test."""
    comment_portal.set_settings(comment_cooldown_seconds="15")
    yield
    comment_portal.set_settings(comment_cooldown_seconds="0")


def test_too_fast_is_a_429_beside_the_field_and_the_text_stays(page, watch, comment_portal, cooldown):
    article_id = comment_portal.fresh_article()
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    set_marker(page)
    page.locator("#body").fill("十五秒內的第一條評論。")
    page.get_by_role("button", name="發表評論").click()
    expect(page.locator("#comment-status")).to_have_text(SUBMITTED)

    second = "十五秒內的第二條評論，\n應該被擋下但不會丟失。"
    page.locator("#body").fill(second)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="發表評論").click()
    assert answer.value.status == 429
    assert answer.value.request.headers.get("hx-request") == "true"
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.locator("#body-errors")).to_contain_text("發言過於頻繁")
    expect(page.locator("#body")).to_have_value(second)
    expect(page.locator("#body")).to_have_attribute("aria-invalid", "true")
    assert marker_survived(page)
    allow_status_error(watch, 429)
    watch.assert_clean()


def test_too_large_is_a_413_message_and_the_text_stays(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    log_in(page, comment_portal.reader(), f"/articles/{article_id}")
    set_marker(page)
    body = page.locator("#body")
    # maxlength stops a typing reader; a pasting script or an old browser may not stop there.
    body.evaluate("textarea => textarea.removeAttribute('maxlength')")
    text = "過大的評論" * 14_000  # 70,000 characters, 210 KB as UTF-8
    body.fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="發表評論").click()
    assert answer.value.status == 413
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(page.locator("#messages")).to_have_text(TOO_LARGE)
    # The message stands where the reader is, not at the top of a page scrolled to its comments.
    assert page.evaluate("window.scrollY") > 0
    expect(page.locator("#messages")).to_be_in_viewport()
    assert body.input_value() == text
    # Dismissed, the region empties but stays in the page (not display:none), where screen readers
    # still know it when the next message arrives.
    page.locator("#messages").click()
    expect(page.locator("#messages")).to_have_text("")
    assert page.locator("#messages").evaluate("box => getComputedStyle(box).display") != "none"
    assert marker_survived(page)
    allow_status_error(watch, 413)
    watch.assert_clean()


# --- the hostile sample, in Chromium -----------------------------------------------------------------


def test_hostile_sample_renders_as_text_and_fires_nothing(page, watch, comment_portal):
    article_id = comment_portal.fresh_article()
    ids = {  # an author each: some payloads share a skeleton, which P10 counts as one text repeated
        comment_portal.submit_and_approve(article_id, comment_portal.reader().id, payload.expected): payload
        for payload in BROWSER_SAMPLE
    }
    reader = comment_portal.reader()
    log_in(page, reader, "/")  # logged in, so an injected hx-post would carry a valid CSRF header
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.resource_type, r.url)))
    page.goto(f"/articles/{article_id}")
    page.wait_for_load_state("networkidle")
    region = page.locator("#comments")

    for comment_id, payload in ids.items():
        body = comment_item(page, comment_id).locator(".comment-body")
        assert body.get_attribute("hx-disable") is not None
        # The live DOM, after the browser's own parsing: one <bdi>, holding exactly the text.
        assert body.evaluate("b => b.querySelectorAll('*').length") == 1, payload
        assert body.locator("bdi").text_content() == payload.expected
    expect(region.locator("li.comment")).to_have_count(len(BROWSER_SAMPLE))
    expect(region.locator(".like-button")).to_have_count(len(BROWSER_SAMPLE))
    expect(region.locator("button")).to_have_count(len(BROWSER_SAMPLE) + 1)  # and 發表評論
    live = region.evaluate(
        """r => [...r.querySelectorAll('*')].flatMap(e => [...e.attributes]
            .filter(a => a.name.startsWith('on') || a.name === 'style' || a.name === 'srcdoc'
                      || /^\\s*(javascript|vbscript|data):/i.test(a.value)
                      || (e.parentElement.closest('[hx-disable]') && /^(data-)?hx-/.test(a.name)))
            .map(a => e.tagName + ' ' + a.name))"""
    )
    assert live == []
    assert region.locator("script, style, iframe, object, embed, svg, math, img").count() == 0

    # A reader passing over and tabbing through the comments wakes nothing either.
    for comment_id in ids:
        comment_item(page, comment_id).locator(".comment-body").hover(timeout=2000)
    for _ in range(3):
        page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    fired = [(m, t, u) for m, t, u in requests if m != "GET" or t in ("xhr", "fetch")]
    assert fired == []
    assert not [u for _, _, u in requests if "/moderation" in u or "/like" in u or "/logout" in u]
    assert comment_portal.scalar(select(func.count()).select_from(Like).where(Like.user_id == reader.id)) == 0
    expect(page.locator(".whoami")).to_have_text(reader.nickname)  # still logged in
    watch.assert_clean()


def end_every_session(portal, reader) -> None:
    from portal.domain import accounts
    from portal.models import User, utc_now

    with portal.app().app_context():
        accounts.end_every_session(db.session, db.session.get(User, reader.id), now=utc_now())
        db.session.commit()


def test_a_comment_typed_when_the_session_ended_survives_the_sign_in_and_goes_once_posted(
    page, watch, comment_portal
):
    article = f"/articles/{comment_portal.fresh_article()}"
    reader = comment_portal.reader()
    log_in(page, reader, article)
    text = "會話過期前打好的一段評論，登錄回來還在。"
    page.locator("#body").fill(text)
    end_every_session(comment_portal, reader)  # 退出所有設備 elsewhere while the reader types

    page.get_by_role("button", name="發表評論").click()
    page.wait_for_url("**/accounts/login**")
    expect(page.locator("#messages")).to_contain_text("請先登錄後再發表評論")
    page.get_by_label("手機號碼").fill(reader.phone)
    page.get_by_label("密碼").fill(reader.password)
    page.get_by_role("button", name="登錄", exact=True).click()
    page.wait_for_url(f"**{article}**")
    expect(page.locator("#body")).to_have_value(text)

    page.get_by_role("button", name="發表評論").click()
    expect(page.locator("#comment-status")).to_have_text(SUBMITTED)
    page.reload()
    expect(page.locator("#body")).to_have_value("")  # posted: nothing is kept any more
    allow_status_error(watch, 401)
    watch.assert_clean()


def test_signing_out_drops_a_kept_comment(page, watch, comment_portal):
    article = f"/articles/{comment_portal.fresh_article()}"
    reader = comment_portal.reader()
    log_in(page, reader, article)
    page.locator("#body").fill("在共用電腦上打了一半的評論。")
    page.reload()
    expect(page.locator("#body")).to_have_value("在共用電腦上打了一半的評論。")  # a reload loses nothing
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    log_in(page, reader, article)
    expect(page.locator("#body")).to_have_value("")
    watch.assert_clean()
