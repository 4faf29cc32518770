"""賬號設置 through the test client: what the site holds (查詢), 修改暱稱, 修改密碼, 更換手機號 and
註銷 (deregistration), with their refusals, records, the cached pages that show the name, and
`flask purge` anonymising a deregistered account after the retention period. CSRF stays on."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.domain import comments, moderation
from portal.domain.pii import PhoneVault
from portal.extensions import db
from portal.models import (
    BlockedPhone,
    Comment,
    EvidenceHold,
    ModerationAction,
    Sanction,
    User,
    UserState,
    utc_now,
)
from tests.conftest import TEST_PII_KEY
from tests.helpers import HX, find_all, find_one, login, parse_html, text_of, token_for
from tests.views.test_comments import RecordingSender, login_attempt, page_of
from tests.views.test_page_cache import add_comment, arrange

SETTINGS = "/accounts/settings"
VAULT = PhoneVault.from_secret(TEST_PII_KEY)
NICKNAME_REFUSED = "暱稱含有不允許使用的內容，請修改"


@pytest.fixture
def sender(app):
    """The SMS gateway's stand-in, as registration's tests use it (PLEDGE_RULES P2)."""
    recording = RecordingSender()
    app.config["SMS_SENDER"] = recording
    return recording


@pytest.fixture
def reader(make_user):
    return make_user(nickname="運河晨跑")


@pytest.fixture
def signed_in(app, reader):
    client = app.test_client()
    login(client, reader.phone, reader.password)
    return client


def post(client, path: str, **fields):
    return client.post(path, data={"csrf_token": token_for(client, SETTINGS), **fields})


def records(app, action: str) -> list[ModerationAction]:
    with app.app_context():
        rows = db.session.scalars(select(ModerationAction).where(ModerationAction.action == action)).all()
        db.session.expunge_all()
        return list(rows)


def user_row(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def messages_of(response) -> str:
    return text_of(parse_html(response.get_data(as_text=True)))


def landed(client, section: str) -> str:
    """The message the settings page shows where a change of `section` lands without JavaScript:
    in that section's status line (read out as an alert), and nowhere else on the page."""
    root = parse_html(client.get(SETTINGS).get_data(as_text=True))
    status = find_one(find_one(root, "section", id=f"{section}-settings"), "div", id=f"{section}-status")
    [line] = find_all(status, "p", role="alert")
    assert text_of(find_one(root, "div", id="messages")) == ""
    return text_of(line)


# --- 查詢 -------------------------------------------------------------------------------------------


def test_the_settings_page_shows_what_the_site_holds_with_the_phone_masked(app, make_user):
    until = utc_now() + timedelta(days=2)
    muted = make_user(nickname="東昌湖邊人", muted_until=until, muted_reason="侮辱誹謗、人身攻擊")
    with app.app_context():
        db.session.get(User, muted.id).terms_version = "2026-11"
        db.session.commit()
    client = app.test_client()
    assert urlsplit(client.get(SETTINGS).headers["Location"]).path == "/accounts/login"
    login(client, muted.phone, muted.password)
    home = parse_html(client.get("/").get_data(as_text=True))
    assert find_one(home, "a", id="settings-link").get("href") == SETTINGS
    assert find_one(home, "a", cls="whoami-link").get("href") == SETTINGS
    assert text_of(find_one(find_one(home, "a", cls="whoami-link"), "span", cls="whoami")) == "東昌湖邊人"

    response, page = page_of(client, SETTINGS)
    info = find_one(page, "section", id="account-info")
    assert text_of(find_one(info, "dd", data_field="nickname")) == "東昌湖邊人"
    masked = f"{muted.phone[:3]}****{muted.phone[-4:]}"
    assert text_of(find_one(info, "dd", data_field="phone")).startswith(masked)
    assert muted.phone not in response.get_data(as_text=True)
    assert text_of(find_one(info, "dd", data_field="terms_version")).startswith("2026-11")
    assert text_of(find_one(info, "dd", data_field="created_at"))[:2] == "20"
    assert "禁言至" in text_of(find_one(info, "dd", data_field="measures"))
    assert "侮辱誹謗" in text_of(find_one(info, "dd", data_field="measures"))
    links = {a.get("href") for a in find_all(info, "a")}
    assert {"/accounts/comments", "/accounts/messages"} <= links
    for form in ("nickname-form", "password-form", "phone-form", "deregister-form"):
        assert find_one(page, "form", id=form).get("method") == "post"


# --- 修改暱稱 ---------------------------------------------------------------------------------------


def test_a_new_nickname_shows_at_once_on_the_cached_article_and_is_recorded_old_and_new(
    app, signed_in, reader, make_user
):
    article = arrange(app)
    comment_id = add_comment(app, article, reader.id, "運河邊的早晨很安靜", "approved")
    other = make_user(nickname="阿博")
    with app.app_context():  # another reader's reply quotes the name (回覆 @運河晨跑)
        db.session.add(
            Comment(
                article_id=article,
                author_id=other.id,
                parent_id=comment_id,
                reply_to_id=comment_id,
                reply_to_nickname="運河晨跑",
                body="同感",
            )
        )
        db.session.commit()
    anonymous = app.test_client()
    assert "運河晨跑" in anonymous.get(f"/articles/{article}").get_data(as_text=True)  # now cached

    response = post(signed_in, "/accounts/settings/nickname", nickname="湖畔讀報人")
    assert (response.status_code, response.headers["Location"]) == (303, f"{SETTINGS}#nickname-settings")
    assert landed(signed_in, "nickname") == "暱稱已修改為「湖畔讀報人」。"

    html = anonymous.get(f"/articles/{article}").get_data(as_text=True)
    nicknames = [text_of(n) for n in find_all(parse_html(html), "span", cls="nickname")]
    assert "湖畔讀報人" in nicknames and "運河晨跑" not in html
    with app.app_context():
        assert db.session.scalar(select(Comment.reply_to_nickname).where(Comment.author_id == other.id)) == (
            "湖畔讀報人"
        )
    [changed] = records(app, "account.nickname_changed")
    assert (changed.actor_id, changed.target_id) == (reader.id, reader.id)
    assert json.loads(changed.before) == {"nickname": "運河晨跑"}
    assert json.loads(changed.after) == {"nickname": "湖畔讀報人"}
    assert user_row(app, reader.id).nickname_reading == "湖畔读报人"  # P4 finds the new name by it


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("聊城新聞網官方", NICKNAME_REFUSED),  # P4: staff and media names
        ("VX13800138000", NICKNAME_REFUSED),  # P18: contact details
        ("已註銷用戶", NICKNAME_REFUSED),  # what pages show for a deregistered author
        ("已 註 銷 用 戶", NICKNAME_REFUSED),  # the same, spaced out
        ("已·註銷用戶", NICKNAME_REFUSED),
        ("註銷用戶", NICKNAME_REFUSED),  # without 已 it still reads as the deregistered author
        ("阿博", "該暱稱已被使用"),
        ("东昌湖边人", "該暱稱已被使用"),  # reads as 東昌湖邊人 in the 简体 view
        ("laker", "該暱稱已被使用"),  # reads as Ｌａｋｅｒ: an ASCII name was never compared so
        ("運河晨跑", "新暱稱與當前暱稱相同"),
        ("", "請輸入新暱稱"),
        ("長" * 17, "暱稱太長"),
        ("一", "暱稱需為2至16個字"),
    ],
)
def test_a_refused_nickname_says_why_beside_the_field_and_the_name_stays(
    app, signed_in, reader, make_user, name, message
):
    make_user(nickname="阿博")
    make_user(nickname="東昌湖邊人")
    make_user(nickname="Ｌａｋｅｒ")
    response = post(signed_in, "/accounts/settings/nickname", nickname=name)
    assert response.status_code == 422
    field = find_one(parse_html(response.get_data(as_text=True)), "div", data_field="nickname")
    assert message in text_of(field)
    assert user_row(app, reader.id).nickname == "運河晨跑"
    assert records(app, "account.nickname_changed") == []
    rejected = records(app, "account.name_rejected")
    if message == NICKNAME_REFUSED:  # kept on record, as registration keeps them (P4, P28)
        assert [(r.actor_id, json.loads(r.after)["nickname"]) for r in rejected] == [(reader.id, name)]
    else:
        assert rejected == []


def test_a_reader_may_change_only_the_case_of_their_own_name(app, make_user):
    lake = make_user(nickname="Lake湖")
    client = app.test_client()
    login(client, lake.phone, lake.password)
    assert post(client, "/accounts/settings/nickname", nickname="LAKE湖").status_code == 303
    assert user_row(app, lake.id).nickname == "LAKE湖"


def test_a_second_rename_within_30_days_is_refused_with_the_date_and_allowed_after(app, signed_in, reader):
    assert post(signed_in, "/accounts/settings/nickname", nickname="湖畔讀報人").status_code == 303
    page = parse_html(signed_in.get(SETTINGS).get_data(as_text=True))
    assert "暱稱每30天只能修改一次" in text_of(find_one(page, "p", data_rename_after=None))
    response = post(signed_in, "/accounts/settings/nickname", nickname="光岳樓下")
    assert response.status_code == 429
    assert "暱稱每30天只能修改一次，下次可修改時間：" in messages_of(response)
    assert user_row(app, reader.id).nickname == "湖畔讀報人"
    with app.app_context():
        db.session.get(User, reader.id).nickname_changed_at = utc_now() - timedelta(days=30, minutes=1)
        db.session.commit()
    assert post(signed_in, "/accounts/settings/nickname", nickname="光岳樓下").status_code == 303
    assert user_row(app, reader.id).nickname == "光岳樓下"
    assert len(records(app, "account.nickname_changed")) == 2


# --- 修改密碼 ---------------------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one_and_ends_every_other_session(app, signed_in, reader):
    elsewhere = app.test_client()
    login(elsewhere, reader.phone, reader.password)
    wrong = post(
        signed_in, "/accounts/settings/password", current_password="not-my-password", new_password="short"
    )
    assert wrong.status_code == 422
    root = parse_html(wrong.get_data(as_text=True))
    assert "當前密碼錯誤" in text_of(find_one(root, "div", data_field="current_password"))
    assert "密碼需為8至128個字符" in text_of(find_one(root, "div", data_field="new_password"))
    same = post(
        signed_in,
        "/accounts/settings/password",
        current_password=reader.password,
        new_password=reader.password,
    )
    assert same.status_code == 422 and "新密碼不能與當前密碼相同" in messages_of(same)
    assert elsewhere.get("/accounts/comments").status_code == 200  # nothing changed yet

    response = post(
        signed_in,
        "/accounts/settings/password",
        current_password=reader.password,
        new_password="a-new-password-1",
    )
    assert (response.status_code, response.headers["Location"]) == (303, f"{SETTINGS}#password-settings")
    assert landed(signed_in, "password") == "密碼已修改，其他設備上的登錄已全部退出。"
    assert signed_in.get("/accounts/comments").status_code == 200  # this session goes on
    assert elsewhere.get("/accounts/comments").status_code == 302  # the other one ended
    assert login_attempt(app.test_client(), reader.phone, reader.password).status_code == 422
    assert login_attempt(app.test_client(), reader.phone, "a-new-password-1").status_code == 303
    [changed] = records(app, "account.password_changed")
    assert changed.actor_id == reader.id and "a-new-password-1" not in changed.after + changed.before


INVISIBLE_PASSWORDS = [
    "\u200b" * 10,  # zero-width spaces: passes a length check, shows as nothing
    "\u200e\u200f\u2060\ufeff\u200c\u200d\u3164\u115f\ufe0f\u180e",  # marks, joiners, blank letters
    " " * 8 + "\u200b" * 4,  # spaces are not characters one can see
    "abc" + "\u200b" * 9,  # three visible ones among invisible ones
]
INVISIBLE_REFUSED = "密碼至少需要8個可見字符"


@pytest.mark.parametrize("password", INVISIBLE_PASSWORDS)
def test_a_password_of_invisible_characters_is_refused_everywhere_one_is_set(
    app, signed_in, reader, sender, password
):
    changed = post(
        signed_in, "/accounts/settings/password", current_password=reader.password, new_password=password
    )
    assert changed.status_code == 422
    root = parse_html(changed.get_data(as_text=True))
    assert INVISIBLE_REFUSED in text_of(find_one(root, "div", data_field="new_password"))
    assert login_attempt(app.test_client(), reader.phone, reader.password).status_code == 303  # unchanged

    client = app.test_client()
    token = token_for(client, "/accounts/password-reset")
    client.post(
        "/accounts/password-reset/code", data={"phone": reader.phone, "csrf_token": token}, headers=HX
    )
    form = {"phone": reader.phone, "code": sender.code(), "password": password, "csrf_token": token}
    reset = client.post("/accounts/password-reset", data=form)
    assert reset.status_code == 422
    assert INVISIBLE_REFUSED in text_of(
        find_one(parse_html(reset.get_data(as_text=True)), "div", data_field="password")
    )
    assert login_attempt(app.test_client(), reader.phone, reader.password).status_code == 303

    newcomer = app.test_client()
    token = token_for(newcomer, "/accounts/register")
    newcomer.post("/accounts/register/code", data={"phone": NEW_PHONE, "csrf_token": token}, headers=HX)
    form = {
        "phone": NEW_PHONE,
        "code": sender.code(),
        "nickname": "湖畔新人",
        "password": password,
        "accept_terms": "y",
        "csrf_token": token,
    }
    registered = newcomer.post("/accounts/register", data=form)
    assert registered.status_code == 422
    root = parse_html(registered.get_data(as_text=True))
    assert INVISIBLE_REFUSED in text_of(find_one(root, "div", data_field="password"))
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.nickname == "湖畔新人")) is None


def test_a_password_with_visible_characters_among_spaces_and_marks_is_accepted(app, signed_in, reader):
    # A passphrase keeps its spaces; only what cannot be seen does not count towards the eight.
    passphrase = "光岳樓 東昌湖 運河\u200b"
    response = post(
        signed_in, "/accounts/settings/password", current_password=reader.password, new_password=passphrase
    )
    assert response.status_code == 303
    assert login_attempt(app.test_client(), reader.phone, passphrase).status_code == 303


# --- 更換手機號 -------------------------------------------------------------------------------------


NEW_PHONE = "13912340001"


def test_a_new_phone_is_bound_with_its_sms_code_and_the_password(app, signed_in, reader, sender, make_user):
    taken = make_user(nickname="阿博")
    token = token_for(signed_in, SETTINGS)
    refused = signed_in.post(
        "/accounts/settings/phone/code", data={"phone": taken.phone, "csrf_token": token}, headers=HX
    )
    assert refused.status_code == 422 and "該手機號已綁定其他賬號" in refused.get_data(as_text=True)
    assert sender.sent == []
    response = signed_in.post(
        "/accounts/settings/phone/code", data={"phone": NEW_PHONE, "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert "驗證碼已發送至 139****0001" in response.get_data(as_text=True)
    assert [phone for phone, _ in sender.sent] == [NEW_PHONE]
    code = sender.code()

    form = {"phone": NEW_PHONE, "code": code, "phone_password": "wrong-password", "csrf_token": token}
    wrong = signed_in.post("/accounts/settings/phone", data=form)
    assert wrong.status_code == 422
    assert "當前密碼錯誤" in text_of(
        find_one(parse_html(wrong.get_data(as_text=True)), "div", data_field="phone_password")
    )
    response = signed_in.post("/accounts/settings/phone", data={**form, "phone_password": reader.password})
    assert (response.status_code, response.headers["Location"]) == (303, f"{SETTINGS}#phone-settings")
    page = signed_in.get(SETTINGS).get_data(as_text=True)
    assert "手機號已更換為 139****0001" in text_of(find_one(parse_html(page), "div", id="phone-status"))
    assert "139****0001" in text_of(find_one(parse_html(page), "dd", data_field="phone"))
    with app.app_context():
        user = db.session.get(User, reader.id)
        assert VAULT.decrypt(user.phone_cipher) == NEW_PHONE
        assert user.phone_hmac == VAULT.lookup_hash(NEW_PHONE)
    assert login_attempt(app.test_client(), reader.phone, reader.password).status_code == 422
    assert login_attempt(app.test_client(), NEW_PHONE, reader.password).status_code == 303
    [changed] = records(app, "account.phone_changed")
    old_masked = f"{reader.phone[:3]}****{reader.phone[-4:]}"
    assert (json.loads(changed.before), json.loads(changed.after)) == (
        {"phone": old_masked},
        {"phone": "139****0001"},
    )
    again = signed_in.post("/accounts/settings/phone", data={**form, "phone_password": reader.password})
    assert again.status_code == 422  # the code is used up, and the number is now this account's


def test_a_blocked_number_and_a_wrong_code_are_refused_without_javascript(app, signed_in, reader, sender):
    with app.app_context():
        db.session.add(
            BlockedPhone(phone_hmac=VAULT.lookup_hash("13912340002"), reason="R16", created_at=utc_now())
        )
        db.session.commit()
    token = token_for(signed_in, SETTINGS)
    blocked = signed_in.post(
        "/accounts/settings/phone/code", data={"phone": "13912340002", "csrf_token": token}
    )
    assert blocked.status_code == 403 and "<html" in blocked.get_data(as_text=True)
    assert "該手機號無法註冊或綁定" in messages_of(blocked)
    sent = signed_in.post("/accounts/settings/phone/code", data={"phone": NEW_PHONE, "csrf_token": token})
    assert sent.status_code == 200 and "驗證碼已發送至 139****0001" in messages_of(sent)
    wrong_code = "000000" if sender.code() != "000000" else "111111"
    response = signed_in.post(
        "/accounts/settings/phone",
        data={"phone": NEW_PHONE, "code": wrong_code, "phone_password": reader.password, "csrf_token": token},
    )
    assert response.status_code == 422 and "驗證碼錯誤或已過期" in messages_of(response)
    assert VAULT.lookup_hash(reader.phone) == user_row(app, reader.id).phone_hmac


# --- 註銷 --------------------------------------------------------------------------------------------


def deregister(client, password: str, confirm: bool = True):
    fields = {"deregister_password": password}
    if confirm:
        fields["confirm"] = "y"
    return post(client, "/accounts/settings/deregister", **fields)


def test_deregistration_needs_the_password_and_the_ticked_box(app, signed_in, reader):
    assert not find_all(parse_html(signed_in.get(SETTINGS).get_data(as_text=True)), id="settings-refused")
    response = deregister(signed_in, "", confirm=False)
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    # The page comes back from its top: it says what did not go through and links to the form.
    refused = find_one(root, "p", id="settings-refused")
    assert refused.get("role") == "alert" and "「註銷賬號」未完成" in text_of(refused)
    assert find_one(refused, "a").get("href") == "#deregister-settings"
    assert "請輸入密碼以確認是您本人" in text_of(find_one(root, "div", data_field="deregister_password"))
    assert "請勾選確認您已了解註銷的後果" in text_of(find_one(root, "div", data_field="confirm"))
    assert deregister(signed_in, reader.password, confirm=False).status_code == 422
    wrong = deregister(signed_in, "not-my-password")
    assert wrong.status_code == 422 and "當前密碼錯誤" in messages_of(wrong)
    assert user_row(app, reader.id).deregistered_at is None
    assert signed_in.get(SETTINGS).status_code == 200


def test_a_deregistered_account_signs_out_everywhere_and_its_comments_show_a_deregistered_author(
    app, signed_in, reader, make_user
):
    article = arrange(app)
    comment_id = add_comment(app, article, reader.id, "運河邊的早晨很安靜", "approved")
    anonymous = app.test_client()
    assert "運河晨跑" in anonymous.get(f"/articles/{article}").get_data(as_text=True)
    elsewhere = app.test_client()
    login(elsewhere, reader.phone, reader.password)

    response = deregister(signed_in, reader.password)
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert "您的賬號已註銷" in messages_of(signed_in.get("/"))
    for client in (signed_in, elsewhere):
        assert client.get("/accounts/comments").status_code == 302
        assert client.post(
            f"/articles/{article}/comments",
            data={"body": "還想說一句", "csrf_token": token_for(client, "/accounts/login")},
        ).status_code in (302, 401)
    assert login_attempt(app.test_client(), reader.phone, reader.password).status_code == 422

    html = anonymous.get(f"/articles/{article}").get_data(as_text=True)  # the cached page changed
    item = find_one(parse_html(html), "li", id=f"comment-{comment_id}")
    assert text_of(find_one(item, "span", cls="nickname")) == "已註銷用戶"
    assert "運河邊的早晨很安靜" in text_of(item) and "運河晨跑" not in html

    with app.app_context():  # the records keep who it was until the retention period ends
        user = db.session.get(User, reader.id)
        assert user.nickname == "運河晨跑" and user.deregistered_at is not None
        assert VAULT.decrypt(user.phone_cipher) == reader.phone
        assert user.retired_phone_hmac == VAULT.lookup_hash(reader.phone)
        assert db.session.get(Comment, comment_id).author_id == reader.id
    [cancelled] = records(app, "account.cancel_requested")
    assert (cancelled.actor_id, cancelled.target_id) == (reader.id, reader.id)


def register_with(app, client, sms: RecordingSender, phone: str, nickname: str):
    token = token_for(client, "/accounts/register")
    sent = client.post("/accounts/register/code", data={"phone": phone, "csrf_token": token}, headers=HX)
    if sent.status_code != 200:
        return sent
    return client.post(
        "/accounts/register",
        data={
            "phone": phone,
            "code": sms.code(),
            "nickname": nickname,
            "password": "a-long-password",
            "accept_terms": "y",
            "csrf_token": token,
        },
    )


@pytest.mark.parametrize(
    "lookalike",
    ["運河 晨跑", "運河·晨跑", "運河-晨跑", "运河晨跑。", "運河\u3000晨跑", "「運河晨跑」"],
)
def test_a_name_that_differs_from_another_only_by_spaces_or_punctuation_is_taken(
    app, signed_in, reader, make_user, sender, lookalike
):
    refused = register_with(app, app.test_client(), sender, "13912340021", lookalike)
    assert refused.status_code == 422
    assert "該暱稱已被使用" in text_of(
        find_one(parse_html(refused.get_data(as_text=True)), "div", data_field="nickname")
    )
    other = app.test_client()
    login(other, (someone := make_user(nickname="光岳樓下")).phone, someone.password)
    renamed = post(other, "/accounts/settings/nickname", nickname=lookalike)
    assert renamed.status_code == 422 and "該暱稱已被使用" in messages_of(renamed)
    assert user_row(app, someone.id).nickname == "光岳樓下"


@pytest.mark.parametrize("nickname", ["。。。！！", "……", "---", "😀😀😀", "★☆★", "「」"])
def test_a_name_of_only_punctuation_or_emoji_is_refused(app, signed_in, reader, sender, nickname):
    refused = register_with(app, app.test_client(), sender, "13912340023", nickname)
    assert refused.status_code == 422
    field = find_one(parse_html(refused.get_data(as_text=True)), "div", data_field="nickname")
    assert "暱稱需包含文字、字母或數字" in text_of(field)
    renamed = post(signed_in, "/accounts/settings/nickname", nickname=nickname)
    assert renamed.status_code == 422 and "暱稱需包含文字、字母或數字" in messages_of(renamed)
    assert user_row(app, reader.id).nickname == "運河晨跑"


def test_a_registration_is_refused_a_name_that_reads_as_another_and_stores_how_its_name_reads(
    app, make_user, sender
):
    make_user(nickname="Ｌａｋｅｒ")
    refused = register_with(app, app.test_client(), sender, "13912340011", "LAKER")
    assert refused.status_code == 422 and "該暱稱已被使用" in messages_of(refused)
    assert register_with(app, app.test_client(), sender, "13912340012", "Ｌａｋｅ運河").status_code == 303
    with app.app_context():
        stored = db.session.execute(select(User.nickname, User.nickname_reading).order_by(User.id)).all()
    assert stored == [("Ｌａｋｅｒ", "laker"), ("Ｌａｋｅ運河", "lake运河")]


@pytest.mark.parametrize(
    ("taken", "lookalike"),
    [("Lake湖", "L\u0430ke湖"), ("L\u0430ke湖", "LAKE湖"), ("Poco", "\u03a1\u03bf\u0441\u03bf")],
    ids=["cyrillic-a", "cyrillic-taken-first", "greek-and-cyrillic"],
)
def test_a_name_spelled_with_look_alike_cyrillic_or_greek_letters_reads_as_the_latin_one(
    app, make_user, sender, taken, lookalike
):
    """「Lаke湖」 with a Cyrillic а shows as 「Lake湖」: P4 refuses it beside the other, either way round."""
    make_user(nickname=taken)
    refused = register_with(app, app.test_client(), sender, "13912340021", lookalike)
    assert refused.status_code == 422 and "該暱稱已被使用" in messages_of(refused)


def test_the_number_registers_again_but_the_nickname_stays_reserved(app, signed_in, reader, sender):
    assert deregister(signed_in, reader.password).status_code == 303
    newcomer = app.test_client()
    taken = register_with(app, newcomer, sender, "13912340003", "運河晨跑")
    assert taken.status_code == 422 and "該暱稱已被使用" in messages_of(taken)
    again = app.test_client()
    assert register_with(app, again, sender, reader.phone, "運河新人").status_code == 303
    assert login_attempt(app.test_client(), reader.phone, "a-long-password").status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(User).where(User.nickname.in_(["運河晨跑", "運河新人"]))).all()
        hashes = {u.nickname: (u.phone_hmac, u.retired_phone_hmac) for u in rows}
    number = VAULT.lookup_hash(reader.phone)
    assert hashes == {"運河晨跑": (f"deregistered:{reader.id}", number), "運河新人": (number, None)}


def test_a_muted_reader_who_deregisters_cannot_register_the_number_again_until_the_mute_ends(
    app, make_user, sender
):
    muted = make_user(nickname="東昌湖邊人", muted_until=utc_now() + timedelta(days=7))
    client = app.test_client()
    login(client, muted.phone, muted.password)
    assert deregister(client, muted.password).status_code == 303
    refused = register_with(app, app.test_client(), sender, muted.phone, "湖邊新人")
    assert refused.status_code == 403 and "仍在禁言期內" in refused.get_data(as_text=True)
    with app.app_context():
        db.session.get(User, muted.id).muted_until = utc_now() - timedelta(minutes=1)
        db.session.commit()
    assert register_with(app, app.test_client(), sender, muted.phone, "湖邊新人").status_code == 303


def test_a_restricted_reader_who_deregisters_takes_the_restriction_and_the_debt_to_the_new_account(
    app, make_user, sender
):
    """註銷 and registering again is no way out of a 限制 or a negative credit (P24, P25): the new
    account on the number starts restricted, with the old measure's end and a measure of its own a
    moderator can lift, and with the old credit; a reader in good standing starts afresh."""
    restricted = make_user(nickname="東昌湖邊人")
    moderator = make_user(role="moderator", nickname="值班審核")
    with app.app_context():
        old = db.session.get(User, restricted.id)
        old.credit = -8
        moderation.apply_measure(
            db.session,
            user=old,
            moderator=db.session.get(User, moderator.id),
            measure="restriction",
            reason_code="R08",
            days=30,
            now=utc_now(),
            zone=UTC,
        )
        db.session.commit()
        ends = db.session.scalar(select(Sanction.ends_at).where(Sanction.user_id == restricted.id))
    client = app.test_client()
    login(client, restricted.phone, restricted.password)
    assert deregister(client, restricted.password).status_code == 303
    assert register_with(app, app.test_client(), sender, restricted.phone, "湖邊新人").status_code == 303
    with app.app_context():
        new = db.session.scalar(select(User).where(User.nickname == "湖邊新人"))
        assert (new.credit, new.state) == (-8, UserState.RESTRICTED)
        [carried] = db.session.scalars(select(Sanction).where(Sanction.user_id == new.id)).all()
        assert (carried.measure, carried.ends_at, carried.lifted_at) == ("restriction", ends, None)
        assert comments.tier_of(db.session, new, now=utc_now()) == comments.TIER_RESTRICTED
        new_id = new.id
    [inherited] = records(app, "account.standing_inherited")
    assert inherited.target_id == new_id and json.loads(inherited.after)["inherited_from"] == [restricted.id]

    fine = make_user(nickname="好讀者", credit=40)
    client = app.test_client()
    login(client, fine.phone, fine.password)
    assert deregister(client, fine.password).status_code == 303
    assert register_with(app, app.test_client(), sender, fine.phone, "好讀者新號").status_code == 303
    with app.app_context():
        again = db.session.scalar(select(User).where(User.nickname == "好讀者新號"))
        assert (again.credit, again.state) == (0, UserState.ACTIVE)
    assert len(records(app, "account.standing_inherited")) == 1


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_cannot_deregister_themselves(app, make_user, role):
    staff = make_user(role=role, nickname="值班編輯")
    client = app.test_client()
    login(client, staff.phone, staff.password)
    page = parse_html(client.get(SETTINGS).get_data(as_text=True))
    assert find_all(page, "form", id="deregister-form") == []
    assert "工作人員賬號不能自行註銷" in text_of(find_one(page, "p", data_staff_deregister=None))
    response = deregister(client, staff.password)
    assert response.status_code == 403 and "工作人員賬號不能自行註銷，請聯繫管理員處理" in messages_of(
        response
    )
    assert user_row(app, staff.id).deregistered_at is None
    assert client.get("/accounts/comments").status_code == 200
    assert records(app, "account.cancel_requested") == []


def test_purge_anonymises_a_deregistered_account_after_the_retention_period(
    app, runner, signed_in, reader, make_user
):
    article = arrange(app)
    with app.app_context():
        comment = Comment(
            article_id=article, author_id=reader.id, body="評論留下", ip="60.210.1.9", user_agent="UA"
        )
        db.session.add(comment)
        db.session.commit()
    assert deregister(signed_in, reader.password).status_code == 303
    recent = make_user(nickname="近期註銷")
    held = make_user(nickname="保存在案")
    for person in (recent, held):
        client = app.test_client()
        login(client, person.phone, person.password)
        assert deregister(client, person.password).status_code == 303
    with app.app_context():
        now = utc_now()
        db.session.get(User, reader.id).deregistered_at = now - timedelta(days=191)
        db.session.get(User, recent.id).deregistered_at = now - timedelta(days=189)
        db.session.get(User, held.id).deregistered_at = now - timedelta(days=191)
        record = db.session.scalar(
            select(ModerationAction).where(
                ModerationAction.action == "account.cancel_requested", ModerationAction.actor_id == held.id
            )
        )
        db.session.add(EvidenceHold(action_id=record.id, note="案件"))
        db.session.commit()

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "已匿名化1個註銷滿190天的賬號" in result.output
    with app.app_context():
        user = db.session.get(User, reader.id)
        assert user.nickname == f"已註銷用戶{reader.id}" and user.anonymised_at is not None
        assert user.nickname_reading == f"已注销用户{reader.id}"
        assert VAULT.decrypt(user.phone_cipher) == ""
        assert user.retired_phone_hmac is None and user.phone_hmac == f"deregistered:{reader.id}"
        assert db.session.scalar(select(Comment.ip).where(Comment.author_id == reader.id)) == ""
        kept = db.session.execute(
            select(ModerationAction.before, ModerationAction.after, ModerationAction.note)
        )
        assert reader.nickname not in " ".join(" ".join(row) for row in kept)  # no record names them
        for kept in (recent, held):  # not yet due, or on evidence hold (P28)
            row = db.session.get(User, kept.id)
            assert row.anonymised_at is None and VAULT.decrypt(row.phone_cipher) == kept.phone
    [anonymised] = records(app, "account.anonymised")
    assert anonymised.target_id == reader.id
    assert runner.invoke(args=["purge"]).output.count("已匿名化") == 0  # once only
    assert f"#{reader.id}" not in runner.invoke(args=["check-accounts"]).output  # no number to repair
    # The nickname is free again, and staff pages still read the anonymised row.
    admin = make_user(role="admin", nickname="總編輯")
    client = app.test_client()
    login(client, admin.phone, admin.password)
    assert client.get("/admin/users").status_code == 200
    assert client.get(f"/moderation/users/{reader.id}").status_code == 200


def test_staff_see_the_deregistration_and_a_blacklist_still_bars_the_number(
    app, signed_in, reader, make_user, sender
):
    assert deregister(signed_in, reader.password).status_code == 303
    admin = make_user(role="admin", nickname="總編輯")
    client = app.test_client()
    login(client, admin.phone, admin.password)
    page = parse_html(client.get(f"/moderation/users/{reader.id}").get_data(as_text=True))
    assert "已註銷" in text_of(find_one(page, "dd", data_deregistered=None))
    response = client.post(
        f"/moderation/users/{reader.id}/measures",
        data={
            "csrf_token": token_for(client, "/"),
            "measure": "blacklist",
            "reason": "R16",
            "confirmed": "1",
        },
    )
    assert response.status_code in (200, 303)
    with app.app_context():
        assert db.session.get(BlockedPhone, VAULT.lookup_hash(reader.phone)) is not None
    refused = register_with(app, app.test_client(), sender, reader.phone, "換個名字")
    assert refused.status_code == 403 and "該手機號無法註冊或綁定" in refused.get_data(as_text=True)


def test_the_privacy_page_says_where_the_rights_are_used_and_what_deregistration_keeps(demo_client):
    html = demo_client.get("/pages/privacy").get_data(as_text=True)
    assert "「賬號設置」中查詢、更正您的暱稱和手機號碼" in html
    assert "作者顯示為「已註銷用戶」" in html


def test_a_signed_in_session_cannot_guess_the_password_past_the_accounts_limit(app, signed_in, reader):
    """An open session in other hands (a shared computer) must not try passwords until one deregisters
    or rebinds the account: ten refusals an hour per account, from any address, as at login."""
    token = token_for(signed_in, SETTINGS)
    for n in range(10):
        response = signed_in.post(
            "/accounts/settings/deregister",
            data={"deregister_password": f"guess-{n}", "confirm": "y", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"60.212.{n}.1"},
        )
        assert response.status_code == 422
    response = signed_in.post(
        "/accounts/settings/password",
        data={"current_password": reader.password, "new_password": "a-new-password-1", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "60.213.0.1"},
    )
    assert response.status_code == 429 and "Retry-After" in response.headers
    # The settings page again, not the bare 429 page: which form, and how long, beside its field.
    root = parse_html(response.get_data(as_text=True))
    assert "「修改密碼」未完成" in text_of(find_one(root, "p", id="settings-refused"))
    wait = re.fullmatch(
        r"操作過於頻繁，請(\d+)分鐘後再試", text_of(find_one(root, "ul", id="current_password-errors"))
    )
    assert wait and int(wait.group(1)) * 60 >= int(response.headers["Retry-After"])
    assert user_row(app, reader.id).deregistered_at is None
    assert login_attempt(app.test_client(), reader.phone, reader.password, ip="60.214.0.1").status_code == 303


def test_a_replys_message_names_its_author_as_they_are_now(app, runner, signed_in, reader, make_user):
    """Another reader's 消息 「運河晨跑 回覆了您的評論」 follows the name: a rename shows the new one,
    註銷 shows 已註銷用戶, and after anonymisation the freed name taken by someone else is not shown."""
    article = arrange(app)
    friend, moderator = make_user(nickname="東關老街"), make_user(role="moderator", nickname="值班審核")
    top = add_comment(app, article, friend.id, "老街的早點鋪子還在", "approved")
    with app.app_context():
        reply = Comment(article_id=article, author_id=reader.id, parent_id=top, body="還在，天天排隊")
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
    inbox = app.test_client()
    login(inbox, friend.phone, friend.password)

    def told() -> str:
        [notice] = find_all(page_of(inbox, "/accounts/messages")[1], "li", cls="notice-item")
        return text_of(notice)

    assert "運河晨跑 回覆了您的評論：還在，天天排隊" in told()
    assert post(signed_in, "/accounts/settings/nickname", nickname="湖畔讀報人").status_code == 303
    assert "湖畔讀報人 回覆了您的評論：還在，天天排隊" in told() and "運河晨跑" not in told()
    assert deregister(signed_in, reader.password).status_code == 303
    assert "已註銷用戶 回覆了您的評論：還在，天天排隊" in told() and "湖畔讀報人" not in told()

    with app.app_context():
        db.session.get(User, reader.id).deregistered_at = utc_now() - timedelta(days=191)
        db.session.commit()
    assert "已匿名化1個" in runner.invoke(args=["purge"]).output
    make_user(nickname="湖畔讀報人")  # the freed name, someone else's now
    assert told().startswith("未讀 已註銷用戶 回覆了您的評論") and "湖畔讀報人" not in told()


# --- the login and registration pages, signed in ----------------------------------------------------


@pytest.mark.parametrize("page", ["/accounts/login", "/accounts/register"])
def test_a_signed_in_reader_asking_for_login_or_registration_goes_on_and_is_told_who_they_are(
    app, signed_in, reader, page
):
    """The back button right after logging in (or an old tab) asked for the login page again: it
    showed the empty form, as though the reader were signed out, and registration a second account."""
    response = signed_in.get(f"{page}?next=/accounts/comments")
    assert (response.status_code, response.headers["Location"]) == (303, "/accounts/comments")
    shown = messages_of(signed_in.get("/accounts/comments"))
    assert f"您已登錄為「{reader.nickname}」" in shown
    for loop in ("/accounts/login", "/accounts/register?next=/accounts/login", "//elsewhere.example"):
        response = signed_in.get(f"{page}?next={loop}")
        assert (response.status_code, response.headers["Location"]) == (303, "/"), loop
    assert app.test_client().get(page).status_code == 200  # signed out: the form


# --- a form posted after the session ended elsewhere --------------------------------------------------


def test_a_form_posted_after_the_session_ended_comes_back_to_its_page_after_logging_in(
    app, signed_in, reader
):
    """退出所有設備 (or a new password) on another device ends this tab's session: its 修改暱稱 or
    點贊 sent the reader to log in with next= the form's POST-only address, and back there after
    logging in was the 405 page. The page the form was on instead (else the home page)."""
    article = arrange(app)
    comment_id = add_comment(app, article, reader.id, "運河邊的早晨很安靜", "approved")
    token = token_for(signed_in, SETTINGS)
    elsewhere = app.test_client()
    login(elsewhere, reader.phone, reader.password)
    elsewhere.post("/accounts/logout-everywhere", data={"csrf_token": token_for(elsewhere, SETTINGS)})

    cases = [
        ("/accounts/settings/nickname", {"nickname": "湖畔讀報人"}, f"http://localhost{SETTINGS}", SETTINGS),
        (f"/comments/{comment_id}/like", {}, f"http://localhost/articles/{article}", f"/articles/{article}"),
        (f"/comments/{comment_id}/like", {}, None, "/"),  # no Referer: the home page
        (
            f"/articles/{article}/comments",
            {"body": "好"},
            None,
            f"/articles/{article}/comments",
        ),  # a page too
    ]
    for path, fields, referer, back in cases:
        headers = {"Referer": referer} if referer else {}
        response = signed_in.post(path, data={"csrf_token": token, **fields}, headers=headers)
        assert response.status_code == 302, path
        location = urlsplit(response.headers["Location"])
        assert location.path == "/accounts/login"
        assert parse_qs(location.query)["next"] == [back], path
        assert signed_in.get(back).status_code in (200, 302), back  # a page (or log in first), not 405
    form = {
        "phone": reader.phone,
        "password": reader.password,
        "csrf_token": token_for(signed_in, "/accounts/login"),
    }
    again = signed_in.post(f"/accounts/login?next={SETTINGS}", data=form)
    assert (again.status_code, again.headers["Location"]) == (303, SETTINGS)
    assert signed_in.get(SETTINGS).status_code == 200


def test_a_registration_or_rename_past_the_network_limit_comes_back_with_what_was_typed(
    app, signed_in, reader, sender
):
    """Without JavaScript the bare 429 page lost the form; now the page again, the wait beside."""
    app.config["REGISTER_LIMITS"] = "1 per hour"
    assert post(signed_in, "/accounts/settings/nickname", nickname="。。").status_code == 422
    response = post(signed_in, "/accounts/settings/nickname", nickname="湖畔讀報人")
    assert response.status_code == 429
    root = parse_html(response.get_data(as_text=True))
    assert find_one(root, "input", name="nickname").get("value") == "湖畔讀報人"
    assert re.fullmatch(r"操作過於頻繁，請\d+分鐘後再試", text_of(find_one(root, "ul", id="nickname-errors")))
    assert "「修改暱稱」未完成" in text_of(find_one(root, "p", id="settings-refused"))

    client = app.test_client()
    token = token_for(client, "/accounts/register")
    form = {
        "phone": "13912340031",
        "code": "123456",
        "nickname": "湖邊新人",
        "password": "x",
        "csrf_token": token,
    }
    assert client.post("/accounts/register", data=form).status_code == 422
    response = client.post("/accounts/register", data=form)
    assert response.status_code == 429
    root = parse_html(response.get_data(as_text=True))
    assert find_one(root, "input", name="nickname").get("value") == "湖邊新人"
    assert find_one(root, "input", name="phone").get("value") == "13912340031"
    assert re.fullmatch(r"操作過於頻繁，請\d+分鐘後再試", text_of(find_one(root, "ul", id="phone-errors")))
