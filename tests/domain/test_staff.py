"""Accounts as admins manage them, without the web: 停用 is the ladder's "close" measure (one account
state for the desk and the back office), 啟用 lifts what keeps the account closed, and a password
set or made to lapse ends every session; each writes one record, and a refusal writes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import func, select

from portal.domain import accounts, moderation, staff
from portal.domain.errors import Rejected
from portal.domain.pii import PhoneVault
from portal.models import BlockedPhone, ModerationAction, Notification, Role, Sanction, User, UserState
from tests.conftest import TEST_PII_KEY

VAULT = PhoneVault.from_secret(TEST_PII_KEY)
HASHER = PasswordHasher.from_parameters(CHEAPEST)
NOW = datetime(2026, 5, 18, 2, 0, 0)
ZONE = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct-horse-battery"
_phones = iter(range(13600000001, 13699999999))


@pytest.fixture
def make(session):
    def create(role: Role = Role.READER, nickname: str | None = None) -> tuple[User, str]:
        phone = str(next(_phones))
        user = accounts.create_verified_user(
            session,
            phone=phone,
            nickname=nickname or f"用戶{phone[-4:]}",
            password=PASSWORD,
            role=role,
            vault=VAULT,
            hasher=HASHER,
            now=NOW,
        )
        return user, phone

    return create


@pytest.fixture
def chief(make) -> User:
    return make(Role.ADMIN, "總編輯")[0]


def records(session, action: str | None = None) -> list[ModerationAction]:
    query = select(ModerationAction).order_by(ModerationAction.id)
    if action is not None:
        query = query.where(ModerationAction.action == action)
    return list(session.scalars(query))


def refused(session, call, field: str, message: str, status: int) -> None:
    before = len(records(session))
    with pytest.raises(Rejected) as refusal:
        call()
    assert (refusal.value.field, refusal.value.message, refusal.value.status) == (field, message, status)
    session.flush()
    assert len(records(session)) == before


def authenticate(session, phone: str, password: str) -> User:
    return accounts.authenticate(session, phone=phone, password=password, vault=VAULT, hasher=HASHER)


def disable(session, user: User, actor: User, note: str = "多次發布廣告") -> Sanction:
    return staff.disable_account(session, user=user, actor=actor, note=note, now=NOW)


def enable(session, user: User, actor: User, note: str = "") -> User:
    return staff.enable_account(session, user=user, actor=actor, note=note, now=NOW + timedelta(hours=1))


# --- 停用 and 啟用 -----------------------------------------------------------------------------------


def test_disabling_closes_the_account_through_a_close_measure_and_ends_its_sessions(session, make, chief):
    reader, phone = make()
    token = reader.session_token
    sanction = disable(session, reader, chief)
    assert (sanction.measure, sanction.reason_code, sanction.created_by_id) == ("close", "admin", chief.id)
    assert (sanction.note, sanction.ends_at, sanction.lifted_at) == ("多次發布廣告", None, None)
    assert reader.state == UserState.CLOSED and not reader.is_active
    assert reader.session_token != token
    with pytest.raises(Rejected) as refusal:
        authenticate(session, phone, PASSWORD)
    assert refusal.value.message == "賬號已關閉"
    (row,) = records(session)
    assert (row.action, row.target_type, row.target_id, row.actor_id) == (
        "admin.account_disabled",
        "user",
        reader.id,
        chief.id,
    )
    assert (row.reason_code, row.note) == ("admin", "多次發布廣告")
    assert json.loads(row.before) == {"state": "active"}
    assert json.loads(row.after) == {"state": "closed", "sanction": sanction.id}
    notice = session.scalars(select(Notification).where(Notification.user_id == reader.id)).one()
    assert notice.text == "您的賬號已被管理員停用。"


def test_the_desk_settles_an_admins_closure_like_its_own(session, make, chief):
    """One account state: the moderation side's settle_account keeps the account closed."""
    reader, _ = make()
    disable(session, reader, chief)
    moderation.settle_account(session, reader, now=NOW + timedelta(days=400))
    assert reader.state == UserState.CLOSED


def test_an_admin_cannot_disable_their_own_account(session, chief):
    refused(session, lambda: disable(session, chief, chief), "account", "不能停用自己的賬號", 403)
    assert chief.state == UserState.ACTIVE


def test_the_last_admin_cannot_be_disabled(session, make, chief):
    # Through the web the actor is an admin too; the rule holds whoever asks.
    moderator, _ = make(Role.MODERATOR)
    refused(session, lambda: disable(session, chief, moderator), "account", "不能停用最後一位管理員", 403)
    other, _ = make(Role.ADMIN)
    disable(session, other, chief)
    refused(session, lambda: disable(session, chief, moderator), "account", "不能停用最後一位管理員", 403)
    assert chief.state == UserState.ACTIVE


def test_disabling_needs_a_reason_and_an_open_account(session, make, chief):
    reader, _ = make()
    refused(session, lambda: disable(session, reader, chief, note="  "), "note", "請填寫停用原因", 422)
    assert reader.state == UserState.ACTIVE
    disable(session, reader, chief)
    refused(session, lambda: disable(session, reader, chief), "account", "這個賬號已經停用", 409)
    assert session.scalar(select(func.count()).select_from(Sanction)) == 1


def test_enabling_lifts_every_closing_measure_and_keeps_the_others(session, make, chief):
    reader, phone = make()
    mute = moderation.apply_measure(
        session, user=reader, moderator=chief, measure="mute", reason_code="R08", days=30, now=NOW, zone=ZONE
    )
    blacklist = moderation.apply_measure(
        session, user=reader, moderator=chief, measure="blacklist", reason_code="R13", now=NOW, zone=ZONE
    )
    assert session.get(BlockedPhone, reader.phone_hmac) is not None
    before = len(records(session))
    enable(session, reader, chief, note="申訴成立")
    session.flush()
    assert reader.state == UserState.ACTIVE
    assert blacklist.lifted_at == NOW + timedelta(hours=1)
    assert mute.lifted_at is None and reader.muted_until == mute.ends_at  # a mute is not a closure
    assert session.get(BlockedPhone, reader.phone_hmac) is None
    assert authenticate(session, phone, PASSWORD) is reader
    (row,) = records(session)[before:]
    assert (row.action, row.target_id, row.note) == ("admin.account_enabled", reader.id, "申訴成立")
    assert json.loads(row.after) == {"state": "active", "lifted": [blacklist.id]}


def test_enabling_an_open_account_is_refused(session, make, chief):
    reader, _ = make()
    refused(session, lambda: enable(session, reader, chief), "account", "這個賬號沒有停用", 409)


def test_enabling_a_restricted_account_leaves_the_restriction(session, make, chief):
    reader, _ = make()
    moderation.apply_measure(
        session, user=reader, moderator=chief, measure="restriction", reason_code="R11", now=NOW, zone=ZONE
    )
    disable(session, reader, chief)
    enable(session, reader, chief)
    assert reader.state == UserState.RESTRICTED


# --- passwords -----------------------------------------------------------------------------------


def test_a_set_password_works_at_once_ends_every_session_and_is_recorded_without_it(session, make, chief):
    reader, phone = make()
    token = reader.session_token
    accounts.set_password(
        session, user=reader, password="brand-new-pw-1", hasher=HASHER, actor=chief, now=NOW
    )
    assert authenticate(session, phone, "brand-new-pw-1") is reader
    with pytest.raises(Rejected):
        authenticate(session, phone, PASSWORD)
    assert reader.session_token != token
    (row,) = records(session)
    assert (row.action, row.target_id, row.actor_id) == ("admin.password_set", reader.id, chief.id)
    assert "brand-new-pw-1" not in row.before + row.after + row.note


def test_a_short_password_is_refused_and_the_old_one_still_works(session, make, chief):
    reader, phone = make()
    refused(
        session,
        lambda: accounts.set_password(
            session, user=reader, password="short", hasher=HASHER, actor=chief, now=NOW
        ),
        "password",
        "密碼至少需要8個字符",
        422,
    )
    assert authenticate(session, phone, PASSWORD) is reader


def test_a_forced_reset_makes_the_password_lapse_and_ends_every_session(session, make, chief):
    reader, phone = make()
    token = reader.session_token
    accounts.force_password_reset(session, user=reader, hasher=HASHER, actor=chief, now=NOW)
    with pytest.raises(Rejected):
        authenticate(session, phone, PASSWORD)
    assert reader.session_token != token
    assert reader.state == UserState.ACTIVE  # 忘記密碼 still works for them
    (row,) = records(session)
    assert (row.action, row.target_id) == ("admin.password_reset_forced", reader.id)


def test_an_admin_cannot_force_a_reset_of_their_own_password(session, chief):
    refused(
        session,
        lambda: accounts.force_password_reset(session, user=chief, hasher=HASHER, actor=chief, now=NOW),
        "account",
        "不能強制重設自己的密碼，請直接設置新密碼",
        403,
    )
