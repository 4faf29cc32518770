"""The newsroom in Chromium: an admin logs in through the real form, creates a section, uploads a
picture, writes and publishes an article with it as cover; an anonymous reader then finds it on the
home page and the section page, with the picture loaded and its caption."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser import conftest as browser_setup
from tests.browser.conftest import ROOT, PageWatch, free_port, wait_until_up
from tests.conftest import TEST_PII_KEY
from tests.media_samples import picture_bytes

DEMO_ADMIN = ("13900000006", "demo-password-2026")
SLUG, SECTION = "sheying", "攝影"
TITLE, SUMMARY = "東昌湖畔的清晨", "湖畔晨練，一派生機。"
CAPTION, CREDIT = "晨練的市民沿湖慢跑", "□本報記者 李明 攝"


@pytest.fixture(scope="module")
def newsroom(demo_template, tmp_path_factory):
    """A portal of its own on a copy of the demo: uploads land in its own media folder and the shared
    server's pages stay as the other tests expect. It runs with the PII key the demo was built with,
    else no demo account can log in (phones are looked up by a keyed hash)."""
    instance = tmp_path_factory.mktemp("newsroom")
    shutil.copyfile(demo_template, instance / "portal.sqlite")
    media = instance / "media"
    shutil.copytree(demo_template.parent / "media", media)
    port = free_port()
    log = (instance / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        # Each test signs in anew from 127.0.0.1: the per-address login budget is lifted, as the
        # shared server's is (five a minute made the sixth sign-in of this module a 429).
        env={
            **browser_setup.testing_env(instance, media),
            "PORTAL_PII_KEY": TEST_PII_KEY,
            "PORTAL_LOGIN_LIMITS": "200 per minute",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser_context_args(newsroom):
    # The `page` fixture's browser opens this module's portal; the shared server is not started.
    return {"base_url": newsroom, "locale": "zh-TW"}


def observe(page) -> PageWatch:
    """The `watch` fixture's checks, for a page of another browser context."""
    seen = PageWatch()

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.csp_violations.append(message.text)
        elif message.type == "error":
            seen.console_errors.append(message.text)

    def route(route) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
            route.continue_()
        else:
            seen.off_loopback.append(route.request.url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.route("**/*", route)
    return seen


def flash(page) -> str:
    return page.locator("#messages .message").last.inner_text()


def loaded(image) -> bool:
    image.scroll_into_view_if_needed()
    image.page.wait_for_function("img => img.complete", arg=image.element_handle())
    return image.evaluate("img => img.naturalWidth > 0")


def test_admin_publishes_an_article_with_a_picture_that_readers_see(page, watch, browser, newsroom, tmp_path):
    picture = tmp_path / "hupan.png"
    # About 5 KB: uploads over 64 KiB are refused today (tests/views/test_admin.py,
    # test_a_full_size_photo_can_be_uploaded); this test is about the flow, not the size.
    picture.write_bytes(picture_bytes("PNG", (960, 540)))

    # The admin logs in through the real form and lands where they were going.
    page.goto("/admin/")
    page.wait_for_url(re.compile(r".*/accounts/login\?next=/admin/"))
    page.get_by_label("手機號碼").fill(DEMO_ADMIN[0])
    page.get_by_label("密碼").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="登錄").click()
    page.wait_for_url(re.compile(r"^http://[^/]+/admin/\??$"))
    assert page.locator("h1").inner_text() == "管理後台"

    # A section under 要聞 (its comments, as every comment here, are pre-reviewed: nothing to tick).
    page.goto("/admin/sections/new")
    page.get_by_label("名稱", exact=True).fill(SECTION)
    page.get_by_label("網址代號", exact=True).fill(SLUG)
    page.get_by_label("上級欄目", exact=True).select_option(label="要聞")
    page.get_by_label("排序", exact=True).fill("9")
    assert "先審後發" in page.locator("#pre-review-note").inner_text()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/sections")
    assert flash(page) == f"欄目「{SECTION}」已保存"
    assert page.locator(f"li[data-section={SLUG}]").count() == 1

    # A picture, chosen from disk.
    page.goto("/admin/media")
    page.get_by_label("文件", exact=True).set_input_files(picture)
    page.get_by_label("說明", exact=True).fill(CAPTION)
    page.get_by_label("署名").fill(CREDIT)
    page.get_by_role("button", name="上傳").click()
    page.wait_for_url("**/admin/media")
    media_id = re.fullmatch(r"已上傳媒體 #(\d+)", flash(page)).group(1)
    assert loaded(page.locator(f"li[data-media-id='{media_id}'] img"))

    # The article, published now, with the picture as its cover.
    page.goto("/admin/articles/new")
    page.get_by_label("標題", exact=True).fill(TITLE)
    page.get_by_role("combobox", name="欄目", exact=True).select_option(label=f"要聞 › {SECTION}")
    page.get_by_label("來源", exact=True).fill("聊城日報")
    page.get_by_label("記者", exact=True).fill("本報記者 李明")
    page.get_by_label("編輯", exact=True).fill("王芳")
    page.get_by_label("摘要", exact=True).fill(SUMMARY)
    page.get_by_label("正文（Markdown）").fill("## 湖畔\n\n清晨六點，東昌湖畔已有不少晨練的市民。")
    page.get_by_label("封面圖片", exact=True).select_option(value=media_id)
    page.get_by_label("狀態", exact=True).select_option(value="published")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/admin/articles/\d+$"))
    assert flash(page) == f"文章「{TITLE}」已保存"
    article_path = page.get_by_role("link", name="查看已發布文章").get_attribute("href")
    watch.assert_clean()

    # An anonymous reader, in a browser of their own.
    context = browser.new_context(base_url=newsroom, locale="zh-TW")
    reader = context.new_page()
    seen = observe(reader)
    try:
        # Home: the newest 要聞 story with a picture leads the page.
        reader.goto("/")
        lead = reader.locator(".lead-story")
        assert lead.locator("h2").inner_text() == TITLE
        assert SUMMARY in lead.inner_text()
        assert loaded(lead.locator("img"))
        # 要聞 → 攝影: the section page lists it with its picture.
        reader.locator(".section-bar").get_by_role("link", name="要聞").click()
        reader.wait_for_url("**/sections/yaowen")
        reader.locator(".child-sections").get_by_role("link", name=SECTION).click()
        reader.wait_for_url(f"**/sections/{SLUG}")
        item = reader.locator("#section-articles li.article-item").first
        assert item.locator(".article-item-title").inner_text() == TITLE
        assert loaded(item.locator("img"))
        item.locator(".article-item-title").click()
        reader.wait_for_url(f"**{article_path}")
        assert reader.locator("h1").inner_text() == TITLE
        cover = reader.locator("[data-part=picture]")
        assert loaded(cover.locator("img"))
        assert cover.locator("figcaption").inner_text() == f"{CREDIT} {CAPTION}"
        assert reader.locator("[data-part=body] h2").inner_text() == "湖畔"
        assert [t.strip() for t in reader.locator(".breadcrumb a").all_inner_texts()] == [
            "首頁",
            "要聞",
            SECTION,
        ]
        seen.assert_clean()
    finally:
        context.close()


def test_deleting_a_word_asks_first_and_a_no_keeps_it(page, newsroom):
    page.goto("/accounts/login?next=/admin/words?q=casino")
    page.get_by_label("手機號碼").fill(DEMO_ADMIN[0])
    page.get_by_label("密碼").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="登錄").click()
    page.wait_for_url("**/admin/words?q=casino")
    row = page.locator("tr", has_text="casino")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    row.get_by_role("button", name="刪除").click()
    assert asked == ["確定刪除詞條「casino」？"]
    expect(row).to_have_count(1)  # still there: nothing was sent
    page.once("dialog", lambda dialog: answer(dialog, True))
    row.get_by_role("button", name="刪除").click()
    page.wait_for_load_state()
    expect(page.locator("tr", has_text="casino")).to_have_count(0)


def test_without_javascript_deleting_a_word_asks_on_a_page_and_a_no_keeps_it(browser, newsroom):
    """data-confirm is portal.js's: with JavaScript off the 刪除 button deleted at once."""
    context = browser.new_context(base_url=newsroom, locale="zh-TW", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login?next=/admin/words?q=代开发票")
        page.get_by_label("手機號碼").fill(DEMO_ADMIN[0])
        page.get_by_label("密碼").fill(DEMO_ADMIN[1])
        page.get_by_role("button", name="登錄").click()
        page.wait_for_url("**/admin/words?q=*")
        row = page.locator("tr", has_text="代开发票")
        row.get_by_role("button", name="刪除").click()
        expect(page.locator("#confirm-question")).to_have_text("確定刪除詞條「代开发票」？")
        page.get_by_role("link", name="取消").click()
        page.wait_for_url("**/admin/words")
        expect(page.locator("tr", has_text="代开发票")).to_have_count(1)  # nothing was done
        page.goto("/admin/words?q=代开发票")
        page.locator("tr", has_text="代开发票").get_by_role("button", name="刪除").click()
        page.get_by_role("button", name="確定").click()
        page.wait_for_url("**/admin/words")
        expect(page.locator("#messages")).to_contain_text("詞條已刪除")
        expect(page.locator("tr", has_text="代开发票")).to_have_count(0)
    finally:
        context.close()


def test_a_file_over_the_upload_limit_is_said_beside_the_field_and_not_sent(page, newsroom, tmp_path):
    """The server refuses an upload over 50 MB only once it has all arrived, with a 413 page that
    loses the caption and credit: portal.js checks the chosen file first (data-max-bytes)."""
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as out:  # sparse: nothing written but its length
        out.truncate(50 * 1024 * 1024 + 1)
    small = tmp_path / "small.png"
    small.write_bytes(picture_bytes("PNG", (320, 200)))
    watch = observe(page)
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.goto("/accounts/login?next=/admin/media")
    page.get_by_label("手機號碼").fill(DEMO_ADMIN[0])
    page.get_by_label("密碼").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="登錄").click()
    page.wait_for_url("**/admin/media")
    posts.clear()
    field = page.get_by_label("文件", exact=True)
    assert field.get_attribute("data-max-bytes") == str(50 * 1024 * 1024)
    page.get_by_label("說明", exact=True).fill("一張太大的照片")
    page.get_by_label("署名").fill(CREDIT)
    field.set_input_files(huge)
    note = page.locator("#file-size-error")
    expect(note).to_be_visible()
    expect(note).to_have_text(
        "文件過大：媒體文件不能超過 50 MB，所選文件為 50.0 MB。請選擇較小的文件，說明和署名不用重填。"
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="上傳").click()
    expect(field).to_be_focused()
    assert posts == []  # nothing sent
    expect(page.get_by_label("說明", exact=True)).to_have_value("一張太大的照片")
    # Another file, within the limit: the message goes and the upload goes through, caption kept.
    field.set_input_files(small)
    expect(note).to_be_hidden()
    page.get_by_role("button", name="上傳").click()
    page.wait_for_url("**/admin/media")
    media_id = re.fullmatch(r"已上傳媒體 #(\d+)", flash(page)).group(1)
    expect(page.locator(f"li[data-media-id='{media_id}']")).to_contain_text("一張太大的照片")
    watch.assert_clean()


def test_the_file_field_speaks_the_pages_language_not_the_browsers(page, newsroom, tmp_path):
    """An English browser drew 「Choose File」 and 「No file chosen」 on the media and word-list pages:
    the page's own 選擇文件 and the chosen file's name are shown, over the native input, which
    still opens the file chooser when clicked and still takes the keyboard."""
    small = tmp_path / "運河晨景.png"
    small.write_bytes(picture_bytes("PNG", (320, 200)))
    watch = observe(page)
    page.goto("/accounts/login?next=/admin/media")
    page.get_by_label("手機號碼").fill(DEMO_ADMIN[0])
    page.get_by_label("密碼").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="登錄").click()
    page.wait_for_url("**/admin/media")
    picker = page.locator(".file-picker")
    expect(picker.locator(".file-choose")).to_have_text("選擇文件")
    expect(picker.locator(".file-chosen")).to_have_text("未選擇文件")
    field = page.get_by_label("文件", exact=True)
    assert field.evaluate("input => getComputedStyle(input).opacity") == "0"
    with page.expect_file_chooser() as chooser:
        picker.click()  # what a pointer hits there is the invisible native input
    chooser.value.set_files(small)
    expect(picker.locator(".file-chosen")).to_have_text("運河晨景.png")
    field.focus()
    assert picker.locator(".file-choose").evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    page.get_by_role("button", name="上傳").click()
    page.wait_for_url("**/admin/media")
    assert re.fullmatch(r"已上傳媒體 #\d+", flash(page))
    page.goto("/admin/words")
    expect(page.locator(".file-picker .file-choose")).to_have_text("選擇文件")
    watch.assert_clean()


def test_without_javascript_an_upload_over_the_limit_says_the_limit_and_leads_back_to_media(
    browser, newsroom, tmp_path
):
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as out:
        out.truncate(50 * 1024 * 1024 + 1)
    context = browser.new_context(base_url=newsroom, locale="zh-TW", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login?next=/admin/media")
        page.get_by_label("手機號碼").fill(DEMO_ADMIN[0])
        page.get_by_label("密碼").fill(DEMO_ADMIN[1])
        page.get_by_role("button", name="登錄").click()
        page.wait_for_url("**/admin/media")
        page.get_by_label("文件", exact=True).set_input_files(huge)
        page.get_by_label("說明", exact=True).fill("一張太大的照片")
        with page.expect_response("**/admin/media") as answer:
            page.get_by_role("button", name="上傳").click()
        assert answer.value.status == 413
        expect(page.locator("h1")).to_have_text("內容過大")
        expect(page.locator(".error-page")).to_contain_text("媒體文件不能超過 50 MB")
        page.locator("#error-back").click()
        page.wait_for_url("**/admin/media")
        expect(page.locator("h1")).to_have_text("媒體")
    finally:
        context.close()
