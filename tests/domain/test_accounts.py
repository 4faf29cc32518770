"""Accounts in the domain: SMS codes (throttled, hashed, expiring, single use), registration (P4, P6,
P7), the phone at rest, and login. The SMS gateway is a recording fake (PLEDGE_RULES P2)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import delete, event, func, select

from portal.domain import accounts
from portal.domain.errors import Refusals, Rejected
from portal.domain.pii import PhoneVault
from portal.domain.wordlist import WordList, parse_word_csv
from portal.models import BlockedPhone, ModerationAction, Role, SmsCode, User, UserState
from tests.conftest import TEST_PII_KEY
from tests.domain.test_comments import CapturedQueries, plan

WORDS = WordList.build(
    parse_word_csv("term,category,action,pinyin\n赌博,C8,block,yes\n蠢货,C9/C12,review,no\n"),
    "domain-accounts",
)
VAULT = PhoneVault.from_secret(TEST_PII_KEY)
HASHER = PasswordHasher.from_parameters(CHEAPEST)
NOW = datetime(2026, 5, 18, 2, 0, 0)
PASSWORD = "correct-horse-battery"
PHONE = "13800138000"

TERMS_REQUIRED = "請先閱讀並同意《用戶協議》《跟帖評論自律管理承諾書》《隱私政策》"
PHONE_BLOCKED = "該手機號無法註冊或綁定"
CODE_WRONG = "驗證碼錯誤或已過期，請重新獲取"
NICKNAME_REFUSED = "暱稱含有不允許使用的內容，請修改"
LOGIN_FAILED = "手機號或密碼錯誤"


class RecordingSender:
    """The SMS gateway's stand-in: keeps every message it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))

    def last_code(self) -> str:
        return re.search(r"驗證碼是(\d{6})", self.sent[-1][1]).group(1)


@pytest.fixture
def sender():
    return RecordingSender()


def request_code(session, sender, phone=PHONE, *, at=NOW, ip="60.210.1.1"):
    return accounts.request_code(session, phone=phone, ip=ip, vault=VAULT, sender=sender, now=at)


def register(session, code, *, phone=PHONE, nickname="東昌湖邊人", at=NOW, accepted=True, password=PASSWORD):
    return accounts.register(
        session,
        phone=phone,
        code=code,
        nickname=nickname,
        password=password,
        accepted_terms=accepted,
        terms_version="2026-11",
        words=WORDS,
        vault=VAULT,
        hasher=HASHER,
        ip="60.210.1.1",
        now=at,
    )


def rejected(call, *args, **kwargs) -> Rejected:
    with pytest.raises(Rejected) as caught:
        call(*args, **kwargs)
    return caught.value


def users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


# --- request_code ----------------------------------------------------------------------------------


def test_a_code_is_sent_to_the_number_and_the_masked_number_returned(session, sender):
    assert request_code(session, sender, "+86 138-0013-8000") == "138****8000"
    assert [phone for phone, _ in sender.sent] == [PHONE]
    assert re.fullmatch(r"【聊城新聞網】您的驗證碼是\d{6}，10分鐘內有效。請勿告訴他人。", sender.sent[0][1])


def test_a_code_is_stored_hashed_only(session, sender):
    request_code(session, sender)
    session.flush()
    code = sender.last_code()
    rows = session.scalars(select(SmsCode)).all()
    assert len(rows) == 1
    stored = " ".join(str(getattr(rows[0], column.key)) for column in SmsCode.__table__.columns)
    assert code not in stored
    assert PHONE not in stored
    assert rows[0].expires_at == NOW + timedelta(minutes=10)


def test_a_password_reset_code_goes_only_to_a_registered_number(session, sender):
    """忘記密碼 sent codes to any number, which the reset then refused as 該手機號尚未註冊: an SMS
    to a stranger for nothing. Registration likewise needs no code for a number already taken."""

    def ask(purpose, at=NOW):
        return accounts.request_code(
            session, phone=PHONE, ip="60.210.1.1", vault=VAULT, sender=sender, now=at, purpose=purpose
        )

    assert rejected(ask, "reset").message == accounts.PHONE_UNKNOWN and sender.sent == []
    request_code(session, sender)
    register(session, sender.last_code())
    later = NOW + timedelta(minutes=2)
    assert rejected(ask, "register", later).message == accounts.PHONE_TAKEN and len(sender.sent) == 1
    ask("reset", later)
    assert len(sender.sent) == 2


def test_a_second_code_within_60_seconds_is_refused(session, sender):
    request_code(session, sender)
    error = rejected(request_code, session, sender, at=NOW + timedelta(seconds=20))
    assert (error.status, error.message, error.retry_after) == (429, "驗證碼發送過於頻繁，請40秒後再試", 40)
    assert len(sender.sent) == 1
    request_code(session, sender, at=NOW + timedelta(seconds=61))
    assert len(sender.sent) == 2


def test_five_codes_a_day_per_number(session, sender):
    for n in range(5):
        request_code(session, sender, at=NOW + timedelta(minutes=2 * n))
    error = rejected(request_code, session, sender, at=NOW + timedelta(minutes=12))
    assert (error.status, error.message) == (429, "該手機號今日獲取驗證碼次數已達上限")
    assert len(sender.sent) == 5
    request_code(session, sender, at=NOW + timedelta(days=1, minutes=1))
    assert len(sender.sent) == 6


def test_ten_codes_an_hour_per_network(session, sender):
    for n in range(10):
        request_code(session, sender, f"1390000{n:04d}", at=NOW + timedelta(minutes=n), ip="60.210.1.1")
    error = rejected(
        request_code, session, sender, "13900009999", at=NOW + timedelta(minutes=30), ip="60.210.1.1"
    )
    assert (error.status, error.message) == (429, "當前網絡獲取驗證碼過於頻繁，請稍後再試")
    assert len(sender.sent) == 10
    request_code(session, sender, "13900009999", at=NOW + timedelta(minutes=30), ip="60.210.2.2")
    request_code(session, sender, "13900009998", at=NOW + timedelta(minutes=61), ip="60.210.1.1")
    assert len(sender.sent) == 12


@pytest.mark.parametrize("phone", ["12345", "23800138000", "1380013800a", ""])
def test_an_invalid_number_gets_no_code(session, sender, phone):
    error = rejected(request_code, session, sender, phone)
    assert (error.field, error.message) == ("phone", "請輸入有效的11位手機號碼")
    assert sender.sent == []


def test_p6_a_blacklisted_number_gets_no_code_and_cannot_register(session, sender):
    request_code(session, sender)  # a code sent before the number was blacklisted
    code = sender.last_code()
    session.add(BlockedPhone(phone_hmac=VAULT.lookup_hash(PHONE), reason="R16 水軍", created_at=NOW))
    session.flush()
    error = rejected(request_code, session, sender, at=NOW + timedelta(minutes=2))
    assert (error.status, error.message) == (403, PHONE_BLOCKED)
    assert len(sender.sent) == 1
    error = rejected(register, session, code, at=NOW + timedelta(minutes=2))
    assert error.message == PHONE_BLOCKED
    assert users(session) == 0


# --- the code at registration --------------------------------------------------------------------------


def test_a_fresh_code_registers_a_verified_reader_with_the_terms_version(session, sender):
    request_code(session, sender)
    user = register(session, sender.last_code(), at=NOW + timedelta(minutes=9))
    assert (user.nickname, user.role, user.state) == ("東昌湖邊人", Role.READER, UserState.ACTIVE)
    assert user.phone_verified_at == NOW + timedelta(minutes=9)
    assert (user.terms_version, user.terms_accepted_at) == ("2026-11", NOW + timedelta(minutes=9))
    logged = session.scalar(select(ModerationAction).where(ModerationAction.action == "account.registered"))
    assert logged.target_id == user.id and "2026-11" in logged.after


def test_a_code_expires_after_ten_minutes(session, sender):
    request_code(session, sender)
    error = rejected(register, session, sender.last_code(), at=NOW + timedelta(minutes=10, seconds=1))
    assert (error.field, error.message) == ("code", CODE_WRONG)
    assert users(session) == 0


def test_a_code_is_single_use(session, sender):
    request_code(session, sender)
    code = sender.last_code()
    user = register(session, code)
    assert session.scalar(select(SmsCode.used_at)) == NOW
    # Were the account gone, the same code would still not open a new one. (Its registration
    # record goes first: foreign keys are on once any app of this process has connected.)
    session.execute(delete(ModerationAction).where(ModerationAction.actor_id == user.id))
    session.execute(delete(User).where(User.id == user.id))
    error = rejected(register, session, code, nickname="運河晨跑", at=NOW + timedelta(minutes=1))
    assert error.message == CODE_WRONG
    assert users(session) == 0


def test_five_wrong_attempts_kill_the_code(session, sender):
    request_code(session, sender)
    code = sender.last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert rejected(register, session, wrong).message == CODE_WRONG
    assert rejected(register, session, code).message == CODE_WRONG
    assert users(session) == 0


def test_four_wrong_attempts_leave_the_code_usable(session, sender):
    request_code(session, sender)
    code = sender.last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        rejected(register, session, wrong)
    assert register(session, code).phone_hmac == VAULT.lookup_hash(PHONE)


def test_only_the_newest_code_counts(session, sender):
    request_code(session, sender)
    older = sender.last_code()
    request_code(session, sender, at=NOW + timedelta(seconds=61))
    newer = sender.last_code()
    if older != newer:
        assert rejected(register, session, older, at=NOW + timedelta(seconds=62)).message == CODE_WRONG
    assert register(session, newer, at=NOW + timedelta(seconds=63))


# --- registration rules ------------------------------------------------------------------------------


def test_p7_registration_needs_the_terms_accepted(session, sender):
    request_code(session, sender)
    error = rejected(register, session, sender.last_code(), accepted=False)
    assert (error.field, error.status, error.message) == ("accept_terms", 422, TERMS_REQUIRED)
    assert users(session) == 0
    assert register(session, sender.last_code())  # the refusal did not use up the code


@pytest.mark.parametrize("nickname", ["聊城新聞網官方", "VX13800138000", "网站管理员", "赌博达人"])
def test_p4_nicknames_that_impersonate_or_carry_contacts_or_words_are_refused(session, sender, nickname):
    request_code(session, sender)
    error = rejected(register, session, sender.last_code(), nickname=nickname)
    assert (error.field, error.message) == ("nickname", NICKNAME_REFUSED)
    assert users(session) == 0


def test_a_registration_names_every_problem_at_once(session, sender):
    """An unticked box and a refused nickname were said one per try: the box first, the nickname
    only when the reader came back. Every field is checked, each refusal beside its own field."""
    request_code(session, sender)
    code = sender.last_code()
    wrong = "000000" if code != "000000" else "111111"
    error = rejected(register, session, wrong, nickname="值班審核員", password="short", accepted=False)
    assert isinstance(error, Refusals)
    assert [(each.field, each.message) for each in error.each()] == [
        ("code", CODE_WRONG),
        ("nickname", NICKNAME_REFUSED),
        ("password", "密碼至少需要8個字符"),
        ("accept_terms", TERMS_REQUIRED),
    ]
    assert (error.field, error.message, error.status) == ("code", CODE_WRONG, 422)
    assert session.scalar(select(SmsCode.attempts)) == 1  # the wrong code counts, as alone
    error = rejected(register, session, code, nickname="值班審核員", accepted=False)
    assert [each.field for each in error.each()] == ["nickname", "accept_terms"]
    assert users(session) == 0
    assert register(session, code).nickname == "東昌湖邊人"  # the right code was not used up


def test_a_blacklisted_number_is_403_beside_the_other_problems(session, sender):
    request_code(session, sender)
    session.add(BlockedPhone(phone_hmac=VAULT.lookup_hash(PHONE), reason="R16 水軍", created_at=NOW))
    error = rejected(register, session, sender.last_code(), nickname="版主", accepted=False)
    assert [(each.field, each.message) for each in error.each()] == [
        ("phone", PHONE_BLOCKED),
        ("nickname", NICKNAME_REFUSED),
        ("accept_terms", TERMS_REQUIRED),
    ]
    assert error.status == 403


def test_registration_problems_checks_only_the_fields_given(session, sender):
    """The form refused some fields' shape (an empty code): the domain checks the others."""
    problems = accounts.registration_problems(
        session,
        phone=None,
        code=None,
        nickname="審核員",
        password=None,
        accepted_terms=False,
        words=WORDS,
        vault=VAULT,
        now=NOW,
    )
    assert [(each.field, each.message) for each in problems] == [
        ("nickname", NICKNAME_REFUSED),
        ("accept_terms", TERMS_REQUIRED),
    ]
    assert (
        accounts.registration_problems(
            session,
            phone="12345",
            code="123456",
            nickname="東昌湖邊人",
            password=PASSWORD,
            accepted_terms=True,
            words=WORDS,
            vault=VAULT,
            now=NOW,
        )[0].message
        == "請輸入有效的11位手機號碼"
    )
    assert users(session) == 0


def test_p4_an_ordinary_nickname_is_accepted(session, sender):
    request_code(session, sender)
    assert register(session, sender.last_code(), nickname=" 東昌湖邊人 ").nickname == "東昌湖邊人"


@pytest.mark.parametrize(
    "lookalike", ["運河\u200b晨跑", "運河晨跑\u2060", "\ufeff運河晨跑", "運河\u3164晨跑"]
)
def test_a_nickname_with_invisible_characters_is_the_visible_name_and_taken(session, sender, lookalike):
    request_code(session, sender)
    register(session, sender.last_code(), nickname="運河晨跑")
    request_code(session, sender, "13900139000")
    error = rejected(register, session, sender.last_code(), phone="13900139000", nickname=lookalike)
    assert (error.field, error.message) == ("nickname", "該暱稱已被使用")
    assert users(session) == 1


def test_a_nickname_keeps_no_direction_override(session, sender):
    request_code(session, sender)
    assert register(session, sender.last_code(), nickname="東昌\u202e湖邊人").nickname == "東昌湖邊人"


def test_a_nickname_is_taken_whatever_its_case(session, sender):
    request_code(session, sender)
    register(session, sender.last_code(), nickname="Lake湖")
    request_code(session, sender, "13900139000")
    error = rejected(register, session, sender.last_code(), phone="13900139000", nickname="lAKE湖")
    assert (error.field, error.message) == ("nickname", "該暱稱已被使用")
    assert users(session) == 1


@pytest.mark.parametrize(
    ("taken", "lookalike"),
    [
        ("運河晨跑", "运河晨跑"),
        ("运河晨跑", "運河晨跑"),
        ("值班審核", "值班审核"),
        ("Lake湖", "Ｌａｋｅ湖"),
        ("東昌湖邊人", "东昌湖边人"),
    ],
)
def test_a_nickname_is_taken_in_the_other_script_and_in_full_width(session, sender, taken, lookalike):
    """P4: in the 简体 view 运河晨跑 and 運河晨跑 are the same name, so one reader passed as another."""
    request_code(session, sender)
    register(session, sender.last_code(), nickname=taken)
    request_code(session, sender, "13900139000")
    error = rejected(register, session, sender.last_code(), phone="13900139000", nickname=lookalike)
    assert (error.field, error.message) == ("nickname", "該暱稱已被使用")
    assert users(session) == 1


def test_a_nickname_sharing_only_some_characters_with_another_is_free(session, sender):
    request_code(session, sender)
    register(session, sender.last_code(), nickname="運河晨跑")
    request_code(session, sender, "13900139000")
    assert (
        register(session, sender.last_code(), phone="13900139000", nickname="运河夜跑").nickname == "运河夜跑"
    )


def test_a_phone_registers_once(session, sender):
    request_code(session, sender)
    register(session, sender.last_code())
    error = rejected(register, session, "123456", phone="+8613800138000", nickname="運河晨跑")
    assert (error.field, error.message) == ("phone", "該手機號已註冊，請直接登錄")
    assert users(session) == 1


def test_a_short_password_is_refused(session, sender):
    request_code(session, sender)
    error = rejected(register, session, sender.last_code(), password="short")
    assert (error.field, error.message) == ("password", "密碼至少需要8個字符")


def test_the_phone_is_stored_encrypted_with_a_keyed_hash(session, sender):
    request_code(session, sender)
    user = register(session, sender.last_code())
    session.flush()
    row = session.execute(select(User.__table__)).mappings().one()
    assert not [key for key, value in row.items() if PHONE in str(value)]
    assert PHONE.encode() not in row["phone_cipher"]
    assert VAULT.decrypt(user.phone_cipher) == PHONE
    assert user.phone_hmac == VAULT.lookup_hash(PHONE) != PhoneVault.from_secret("x" * 40).lookup_hash(PHONE)
    assert user.password_hash.startswith("$argon2id$")


# --- authenticate --------------------------------------------------------------------------------------


@pytest.fixture
def member(session, sender):
    request_code(session, sender)
    return register(session, sender.last_code())


def authenticate(session, phone, password, hasher=HASHER):
    return accounts.authenticate(session, phone=phone, password=password, vault=VAULT, hasher=hasher)


def test_the_right_password_logs_in(session, member):
    assert authenticate(session, "138 0013 8000", PASSWORD) is member


@pytest.mark.parametrize(
    ("phone", "password"),
    [(PHONE, "wrong-password"), ("13911112222", PASSWORD), ("not a phone", PASSWORD), (PHONE, "")],
)
def test_wrong_password_and_unknown_phone_give_the_same_answer(session, member, phone, password):
    error = rejected(authenticate, session, phone, password)
    assert (error.field, error.status, error.message) == ("password", 422, LOGIN_FAILED)


def test_a_closed_account_cannot_log_in(session, member):
    member.state = UserState.CLOSED
    error = rejected(authenticate, session, PHONE, PASSWORD)
    assert (error.status, error.message) == (403, "賬號已關閉")


def test_a_weak_hash_is_upgraded_at_login(session, member):
    stronger = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    old = member.password_hash
    authenticate(session, PHONE, PASSWORD, hasher=stronger)
    assert member.password_hash != old
    assert "m=1024,t=2,p=1" in member.password_hash


def reset(session, code, *, phone=PHONE, password="a-new-password-1", at=NOW):
    return accounts.reset_password(
        session, phone=phone, code=code, password=password, vault=VAULT, hasher=HASHER, now=at
    )


def test_a_reset_needs_a_fresh_code_sets_the_password_and_ends_every_session(session, sender, member):
    token = member.session_token
    later = NOW + timedelta(minutes=2)
    request_code(session, sender, at=later)
    error = rejected(reset, session, "000000" if sender.last_code() != "000000" else "111111", at=later)
    assert (error.field, error.message) == ("code", CODE_WRONG)
    assert reset(session, sender.last_code(), at=later) is member
    assert authenticate(session, PHONE, "a-new-password-1") is member
    assert rejected(authenticate, session, PHONE, PASSWORD).message == LOGIN_FAILED
    assert member.session_token != token
    assert rejected(reset, session, sender.last_code(), at=later).field == "code"  # used once only


def test_a_reset_names_a_wrong_code_and_a_short_password_at_once(session, sender, member):
    later = NOW + timedelta(minutes=2)
    request_code(session, sender, at=later)
    code = sender.last_code()
    wrong = "000000" if code != "000000" else "111111"
    error = rejected(reset, session, wrong, password="short", at=later)
    assert [(each.field, each.message) for each in error.each()] == [
        ("code", CODE_WRONG),
        ("password", "密碼至少需要8個字符"),
    ]
    error = rejected(reset, session, code, password="short", at=later)
    assert [each.field for each in error.each()] == ["password"]
    assert reset(session, code, at=later) is member  # not used up by the refusals
    assert (
        accounts.reset_problems(session, phone=None, code=None, password="short", vault=VAULT, now=later)[
            0
        ].field
        == "password"
    )


def test_a_login_phone_that_is_no_mobile_number_is_named(session):
    assert [(p.field, p.message) for p in accounts.login_problems("12345")] == [
        ("phone", "請輸入有效的11位手機號碼")
    ]
    assert accounts.login_problems("138 0013 8000") == accounts.login_problems(None) == []


def test_a_reset_refuses_an_unknown_phone_and_a_short_password(session, sender, member):
    assert rejected(reset, session, "123456", phone="13911112222").message == "該手機號尚未註冊"
    request_code(session, sender, at=NOW + timedelta(minutes=2))
    error = rejected(reset, session, sender.last_code(), password="short", at=NOW + timedelta(minutes=2))
    assert error.field == "password"


# --- 賬號設置: rename, deregister, anonymise ---------------------------------------------------------


def registered(session, sender, *, phone=PHONE, nickname="東昌湖邊人", at=NOW) -> User:
    request_code(session, sender, phone, at=at)
    user = register(session, sender.last_code(), phone=phone, nickname=nickname, at=at)
    session.flush()
    return user


def test_a_rename_within_30_days_is_refused_and_the_reader_may_recase_their_own_name(session, sender):
    user = registered(session, sender, nickname="Lake湖")
    accounts.change_nickname(session, user=user, nickname="LAKE湖", words=WORDS, now=NOW)
    refusal = rejected(
        accounts.change_nickname,
        session,
        user=user,
        nickname="湖邊人",
        words=WORDS,
        now=NOW + timedelta(days=29),
    )
    assert (refusal.field, refusal.status) == ("nickname", 429)
    assert refusal.message == "暱稱每30天只能修改一次，下次可修改時間：2026-06-17 02:00"
    accounts.change_nickname(session, user=user, nickname="湖邊人", words=WORDS, now=NOW + timedelta(days=30))
    assert user.nickname == "湖邊人"
    changes = session.scalars(
        select(ModerationAction.before).where(ModerationAction.action == "account.nickname_changed")
    ).all()
    assert changes == ['{"nickname": "Lake湖"}', '{"nickname": "LAKE湖"}']


def test_a_refused_rename_is_kept_on_record_with_the_reader_and_leaves_the_name(session, sender):
    user = registered(session, sender)
    refusal = rejected(
        accounts.change_nickname, session, user=user, nickname="赌博达人", words=WORDS, now=NOW
    )
    assert refusal.message == NICKNAME_REFUSED
    record = session.scalars(
        select(ModerationAction).where(ModerationAction.action == "account.name_rejected")
    )
    assert [(r.actor_id, r.target_id) for r in record] == [(user.id, user.id)]
    assert user.nickname == "東昌湖邊人" and user.nickname_changed_at is None


def test_a_deregistered_number_registers_again_and_the_old_account_no_longer_signs_in(session, sender):
    user = registered(session, sender)
    accounts.deregister(session, user=user, password=PASSWORD, confirmed=True, hasher=HASHER, now=NOW)
    session.flush()
    assert not user.is_active and user.public_name == "已註銷用戶"
    refusal = rejected(
        accounts.authenticate, session, phone=PHONE, password=PASSWORD, vault=VAULT, hasher=HASHER
    )
    assert refusal.message == LOGIN_FAILED
    later = NOW + timedelta(minutes=5)
    again = registered(session, sender, nickname="湖邊新人", at=later)
    assert again.phone_hmac == user.retired_phone_hmac == VAULT.lookup_hash(PHONE)
    assert accounts.authenticate(session, phone=PHONE, password=PASSWORD, vault=VAULT, hasher=HASHER) is again


def test_a_staff_account_cannot_deregister_itself(session):
    moderator = accounts.create_verified_user(
        session,
        phone=PHONE,
        nickname="值班審核員",
        password=PASSWORD,
        role=Role.MODERATOR,
        vault=VAULT,
        hasher=HASHER,
        now=NOW,
    )
    refusal = rejected(
        accounts.deregister,
        session,
        user=moderator,
        password=PASSWORD,
        confirmed=True,
        hasher=HASHER,
        now=NOW,
    )
    assert refusal.status == 403 and moderator.deregistered_at is None


def test_anonymising_waits_for_the_retention_period_and_frees_the_nickname(session, sender):
    user = registered(session, sender)
    accounts.deregister(session, user=user, password=PASSWORD, confirmed=True, hasher=HASHER, now=NOW)
    session.flush()
    early = NOW + timedelta(days=189)
    assert accounts.anonymise_deregistered(session, vault=VAULT, retention_days=190, now=early) == 0
    assert user.nickname == "東昌湖邊人"
    due = NOW + timedelta(days=191)
    assert accounts.anonymise_deregistered(session, vault=VAULT, retention_days=190, now=due) == 1
    assert (user.nickname, VAULT.decrypt(user.phone_cipher), user.retired_phone_hmac) == (
        f"已註銷用戶{user.id}",
        "",
        None,
    )
    request_code(session, sender, "13800138001", at=due)
    assert register(session, sender.last_code(), phone="13800138001", at=due).nickname == "東昌湖邊人"


# --- the reading P4 finds a taken name by --------------------------------------------------------


def stored_reading(session, user: User) -> str:
    session.flush()
    return session.scalar(select(User.nickname_reading).where(User.id == user.id))


def other_accounts(session, count: int) -> None:
    session.add_all(
        User(nickname=f"讀者{n}", phone_cipher=b"-", phone_hmac=f"other-{n}", password_hash="-")
        for n in range(count)
    )
    session.flush()


@pytest.mark.parametrize(("taken", "lookalike"), [("Ｌａｋｅｒ", "Laker"), ("Straße", "STRASSE")])
def test_an_ascii_name_is_taken_by_its_full_width_or_case_folded_form(session, sender, taken, lookalike):
    """An ASCII name skipped the look-alike check (it only saved converting every name): 「Laker」
    registered beside 「Ｌａｋｅｒ」, which the 简体 view shows the same."""
    registered(session, sender, nickname=taken)
    request_code(session, sender, "13900139000")
    error = rejected(register, session, sender.last_code(), phone="13900139000", nickname=lookalike)
    assert (error.field, error.message) == ("nickname", "該暱稱已被使用")
    assert users(session) == 1


def test_registration_stores_how_the_name_reads(session, sender):
    user = registered(session, sender, nickname="Ｌａｋｅ運河")
    assert (user.nickname, stored_reading(session, user)) == ("Ｌａｋｅ運河", "lake运河")


def test_a_rename_moves_the_reading_so_the_old_name_is_free_and_the_new_one_taken(session, sender):
    first = registered(session, sender, nickname="運河晨跑")
    second = registered(
        session, sender, phone="13900139000", nickname="湖邊人", at=NOW + timedelta(minutes=1)
    )
    refusal = rejected(
        accounts.change_nickname, session, user=second, nickname="运河晨跑", words=WORDS, now=NOW
    )
    assert (refusal.field, refusal.message) == ("nickname", "該暱稱已被使用")
    assert (second.nickname, stored_reading(session, second)) == ("湖邊人", "湖边人")

    accounts.change_nickname(session, user=first, nickname="湖畔讀報人", words=WORDS, now=NOW)
    assert stored_reading(session, first) == "湖畔读报人"
    refusal = rejected(
        accounts.change_nickname, session, user=second, nickname="湖畔读报人", words=WORDS, now=NOW
    )
    assert refusal.message == "該暱稱已被使用"
    accounts.change_nickname(session, user=second, nickname="运河晨跑", words=WORDS, now=NOW)
    assert (second.nickname, stored_reading(session, second)) == ("运河晨跑", "运河晨跑")


def test_a_verified_account_stores_its_reading_and_may_not_read_as_another(session, sender):
    registered(session, sender, nickname="運河晨跑")

    def create(phone: str, nickname: str) -> User:
        return accounts.create_verified_user(
            session,
            phone=phone,
            nickname=nickname,
            password=PASSWORD,
            role=Role.MODERATOR,
            vault=VAULT,
            hasher=HASHER,
            now=NOW,
        )

    assert stored_reading(session, create("13900139001", "值班審核員")) == "值班审核员"
    for lookalike in ("运河晨跑", "值班审核员"):  # a reader's name, and a staff name in the other script
        refusal = rejected(create, "13900139002", lookalike)
        assert (refusal.field, refusal.message) == ("nickname", "該暱稱已被使用")
    assert users(session) == 2


def test_a_deregistered_name_stays_taken_by_its_reading_and_the_anonymised_one_reads_as_its_new_name(
    session, sender
):
    user = registered(session, sender, nickname="東昌湖邊人")
    accounts.deregister(session, user=user, password=PASSWORD, confirmed=True, hasher=HASHER, now=NOW)
    later = NOW + timedelta(days=1)
    request_code(session, sender, "13800138001", at=later)
    refusal = rejected(
        register, session, sender.last_code(), phone="13800138001", nickname="东昌湖边人", at=later
    )
    assert refusal.message == "該暱稱已被使用"
    assert stored_reading(session, user) == "东昌湖边人"

    due = NOW + timedelta(days=191)
    assert accounts.anonymise_deregistered(session, vault=VAULT, retention_days=190, now=due) == 1
    assert stored_reading(session, user) == f"已注销用户{user.id}"
    request_code(session, sender, "13800138002", at=due)
    again = register(session, sender.last_code(), phone="13800138002", nickname="东昌湖边人", at=due)
    assert stored_reading(session, again) == "东昌湖边人"


@pytest.fixture
def user_rows_read(session):
    """How many user_account rows the session's queries bring back (the old check read every name)."""
    read = {"rows": 0}

    def count(state):
        if not state.is_select or not any(mapper.class_ is User for mapper in state.all_mappers):
            return None
        frozen = state.invoke_statement().freeze()
        read["rows"] += len(frozen().all())
        return frozen()

    event.listen(session, "do_orm_execute", count)
    yield read
    event.remove(session, "do_orm_execute", count)


def test_registering_and_renaming_read_no_other_accounts_names(session, sender, user_rows_read):
    other_accounts(session, 40)
    user_rows_read["rows"] = 0
    user = registered(session, sender, nickname="運河晨跑")
    request_code(session, sender, "13900139000")
    rejected(register, session, sender.last_code(), phone="13900139000", nickname="运河晨跑")
    accounts.change_nickname(session, user=user, nickname="湖畔讀報人", words=WORDS, now=NOW)
    assert user_rows_read["rows"] == 1  # the refusal's one look-alike, whatever the number of accounts
    assert users(session) == 41


@pytest.mark.parametrize("how", ["register", "rename"])
def test_the_lookalike_lookup_is_one_search_of_the_reading_index(session, sender, how):
    other_accounts(session, 40)
    user = registered(session, sender, nickname="湖邊人")
    statements = CapturedQueries(session)
    try:
        if how == "register":
            request_code(session, sender, "13900139000")
            register(session, sender.last_code(), phone="13900139000", nickname="運河晨跑")
        else:
            accounts.change_nickname(session, user=user, nickname="運河晨跑", words=WORDS, now=NOW)
    finally:
        statements.close()
    lookups = [(s, p) for s, p in statements.seen if "FROM user_account" in s and "nickname" in s]
    assert len(lookups) == 1, lookups
    steps = plan(session, *lookups[0])
    index = r"INDEX ix_user_account_nickname_reading \(nickname_reading=\?\)"
    assert re.search(rf"SEARCH user_account USING (COVERING )?{index}", steps), steps
    assert "SCAN" not in steps, steps
