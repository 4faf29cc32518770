"""賬號設置 in Chromium: from the header's name to the page; 獲取驗證碼 with htmx and the new number
bound; a rename; 註銷 without JavaScript. No CSP violation or console error on the way."""

from __future__ import annotations

from itertools import count

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import allow_status_error, watch_page
from tests.browser.test_comments import log_in

_phones = count(13600000001)


@pytest.fixture(scope="session")
def portal_url(comment_portal) -> str:
    return comment_portal.url


def test_a_reader_binds_a_new_phone_with_htmx_and_renames_from_the_header(page, watch, comment_portal):
    reader = comment_portal.reader()
    log_in(page, reader, "/")
    page.locator("a.whoami-link").click()
    page.wait_for_url("**/accounts/settings")
    expect(page.locator("h1")).to_have_text("賬號設置")

    new_phone = str(next(_phones))
    form = page.locator("#phone-form")
    form.get_by_label("新手機號碼").fill(new_phone)
    page.evaluate("window.__portalMarker = 'no reload'")
    # The live region stays the element the page loaded with: its content changes, and is read out.
    page.evaluate("document.getElementById('code-status').dataset.loaded = 'yes'")
    form.get_by_role("button", name="獲取驗證碼").click()
    expect(page.locator("#code-status")).to_contain_text("驗證碼已發送至")
    assert page.evaluate("window.__portalMarker === 'no reload'")  # swapped in place
    assert page.locator("#code-status[data-loaded=yes][aria-live=polite]").count() == 1
    assert page.locator("#code-status").count() == 1
    form.get_by_label("短信驗證碼").fill(comment_portal.sms_code(new_phone))
    form.get_by_label("當前密碼").fill(reader.password)
    form.get_by_role("button", name="更換手機號", exact=True).click()
    expect(page.locator("#phone-status")).to_contain_text(
        f"手機號已更換為 {new_phone[:3]}****{new_phone[-4:]}"
    )
    expect(page.locator("#phone-status")).to_be_in_viewport()

    rename = page.locator("#nickname-form")
    rename.get_by_label("新暱稱").fill("瀏覽器改名")
    rename.get_by_role("button", name="修改暱稱").click()
    expect(page.locator("#nickname-status")).to_contain_text("暱稱已修改為「瀏覽器改名」")
    expect(page.locator("#nickname-status")).to_be_in_viewport()
    expect(page.locator(".whoami")).to_have_text("瀏覽器改名")
    watch.assert_clean()


def test_deregistration_works_without_javascript_and_signs_out(browser, comment_portal):
    reader = comment_portal.reader()
    context = browser.new_context(base_url=comment_portal.url, java_script_enabled=False, locale="zh-TW")
    try:
        page = context.new_page()
        watch = watch_page(page)
        log_in(page, reader, "/accounts/settings")
        form = page.locator("#deregister-form")
        form.get_by_label("密碼").fill(reader.password)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            form.get_by_role("button", name="註銷賬號").click()
        assert posted.value.status == 422  # the box is not ticked: asked, nothing done
        expect(page.locator("#confirm-errors")).to_contain_text("請勾選確認您已了解註銷的後果")
        refused = page.locator("#settings-refused")  # in view at the top, linking down to the form
        expect(refused).to_be_in_viewport()
        refused.get_by_role("link").click()
        expect(page.locator("#confirm-errors")).to_be_in_viewport()
        form = page.locator("#deregister-form")
        form.get_by_label("密碼").fill(reader.password)
        form.get_by_role("checkbox").check()
        form.get_by_role("button", name="註銷賬號").click()
        page.wait_for_url(f"{comment_portal.url}/")
        expect(page.locator("#messages")).to_contain_text("您的賬號已註銷")
        expect(page.locator(".whoami")).to_have_count(0)
        allow_status_error(watch, 422)  # Chromium logs the refused first try's status
        watch.assert_clean()
    finally:
        context.close()


def changed_and_landed(page, section: str, button: str, message: str) -> None:
    """Submit the section's form; the page comes back at that section, its message in view, read out."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator(f"#{section}-form").get_by_role("button", name=button, exact=True).click()
    assert posted.value.status == 303
    page.wait_for_url(f"**/accounts/settings#{section}-settings")
    line = page.locator(f"#{section}-status [role=alert]")
    expect(line).to_have_text(message)
    expect(line).to_be_in_viewport()
    expect(page.locator(f"#{section}-title")).to_be_in_viewport()  # which section, in view above it
    expect(page.locator("#messages")).to_have_text("")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_each_change_lands_at_its_section_with_its_message(browser, comment_portal, javascript):
    reader = comment_portal.reader()
    context = browser.new_context(
        base_url=comment_portal.url,
        java_script_enabled=javascript,
        locale="zh-TW",
        viewport={"width": 1000, "height": 600},
    )
    try:
        page = context.new_page()
        watch = watch_page(page)
        log_in(page, reader, "/accounts/settings")

        new_phone = str(next(_phones))
        form = page.locator("#phone-form")
        form.get_by_label("新手機號碼").fill(new_phone)
        form.get_by_role("button", name="獲取驗證碼").click()
        expect(page.locator("#code-status")).to_contain_text("驗證碼已發送至")
        expect(
            page.locator("#code-status")
        ).to_be_in_viewport()  # without JavaScript: the page at #phone-settings
        if not javascript:
            page.wait_for_url("**/accounts/settings/phone/code#phone-settings")
            expect(page.locator("#code-status [role=alert]")).to_contain_text("驗證碼已發送至")
        form = page.locator("#phone-form")
        form.get_by_label("短信驗證碼").fill(comment_portal.sms_code(new_phone))
        form.get_by_label("當前密碼").fill(reader.password)
        masked = f"{new_phone[:3]}****{new_phone[-4:]}"
        changed_and_landed(page, "phone", "更換手機號", f"手機號已更換為 {masked}，請用新手機號登錄。")

        form = page.locator("#password-form")
        form.get_by_label("當前密碼").fill(reader.password)
        form.get_by_label("新密碼").fill("a-new-password-2026")
        changed_and_landed(page, "password", "修改密碼", "密碼已修改，其他設備上的登錄已全部退出。")

        name = "腳本改名" if javascript else "無腳本改名"  # one portal for both runs: two names
        page.locator("#nickname-form").get_by_label("新暱稱").fill(name)
        changed_and_landed(page, "nickname", "修改暱稱", f"暱稱已修改為「{name}」。")
        expect(page.locator(".whoami")).to_have_text(name)

        # A refusal after a landing still opens at the top, pointing down to the form's messages.
        page.locator("#nickname-form").get_by_label("新暱稱").fill("再改一次")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.locator("#nickname-form").get_by_role("button", name="修改暱稱").click()
        assert posted.value.status == 429  # once in 30 days
        expect(page.locator("#settings-refused")).to_be_in_viewport()
        expect(page.locator("#nickname-status")).to_have_text("")  # the old success is not shown again
        page.goto("/accounts/settings#nickname-settings")  # nor does a visit to the landing again
        expect(page.locator("#nickname-status")).to_have_text("")
        allow_status_error(watch, 429)
        watch.assert_clean()
    finally:
        context.close()


def test_the_back_button_after_logging_in_does_not_show_the_login_form_again(page, watch, comment_portal):
    reader = comment_portal.reader()
    log_in(page, reader, "/accounts/comments")
    page.go_back()  # to the login page the reader came from: it says who they are and goes on
    page.wait_for_url("**/accounts/comments")
    expect(page.locator("#messages")).to_contain_text(f"您已登錄為「{reader.nickname}」")
    expect(page.locator("form[action^='/accounts/login']")).to_have_count(0)
    watch.assert_clean()
