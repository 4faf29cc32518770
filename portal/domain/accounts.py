"""Accounts: registration with a verified phone (後台實名), nickname in front, login."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.errors import Rejected, refuse_all
from portal.domain.pii import PhoneVault, mask_phone, normalise_phone
from portal.domain.pledge import drop_invisible, input_normalise, screen_nickname
from portal.domain.script import to_simplified
from portal.domain.sms import SmsSender
from portal.domain.wordlist import WordList
from portal.models import BlockedPhone, Role, SmsCode, User, UserState
from portal.models.users import new_session_token

NICKNAME_MIN, NICKNAME_MAX = 2, 16
PASSWORD_MIN = 8
TERMS_REQUIRED = "請先閱讀並同意《用戶協議》《跟帖評論自律管理承諾書》《隱私政策》"
PHONE_BLOCKED = "該手機號無法註冊或綁定"
PHONE_TAKEN = "該手機號已註冊，請直接登錄"
NICKNAME_TAKEN = "該暱稱已被使用"
CODE_WRONG = "驗證碼錯誤或已過期，請重新獲取"
CODE_TOO_SOON = "驗證碼發送過於頻繁，請{n}秒後再試"
CODE_DAILY = "該手機號今日獲取驗證碼次數已達上限"
CODE_NETWORK = "當前網絡獲取驗證碼過於頻繁，請稍後再試"
LOGIN_FAILED = "手機號或密碼錯誤"
PHONE_UNKNOWN = "該手機號尚未註冊"  # registration says as much of a taken number: nothing new is told


@dataclass(frozen=True)
class CodeRules:
    length: int = 6
    valid_minutes: int = 10
    resend_seconds: int = 60
    per_phone_daily: int = 5
    per_ip_hourly: int = 10
    max_attempts: int = 5


def _code_hash(vault: PhoneVault, code: str) -> str:
    return hmac.new(vault.key, b"sms-code:" + code.encode(), hashlib.sha256).hexdigest()


def _refuse_blocked(session: Session, phone_hmac: str) -> None:
    if session.get(BlockedPhone, phone_hmac) is not None:
        raise Rejected("phone", PHONE_BLOCKED, 403, reason="blacklist")


def request_code(
    session: Session,
    *,
    phone: str,
    ip: str,
    vault: PhoneVault,
    sender: SmsSender,
    rules: CodeRules = CodeRules(),
    now: datetime,
    purpose: Literal["register", "reset", ""] = "",
) -> str:
    """Send a code; returns the masked number. Throttled per number and per network. A code to
    register goes only to a free number, one to reset a password only to a registered one: the
    next step would refuse either, so the SMS would reach its owner for nothing."""
    number = normalise_phone(phone)
    phone_hmac = vault.lookup_hash(number)
    _refuse_blocked(session, phone_hmac)
    if purpose:
        registered = session.scalar(select(User.id).where(User.phone_hmac == phone_hmac)) is not None
        if purpose == "register" and registered:
            raise Rejected("phone", PHONE_TAKEN)
        if purpose == "reset" and not registered:
            raise Rejected("phone", PHONE_UNKNOWN)
    last = session.scalar(select(func.max(SmsCode.created_at)).where(SmsCode.phone_hmac == phone_hmac))
    if last is not None and (wait := rules.resend_seconds - (now - last).total_seconds()) > 0:
        refusal = Rejected("phone", CODE_TOO_SOON.format(n=max(1, round(wait))), 429, reason="sms_rate")
        refusal.retry_after = max(1, round(wait))
        raise refusal
    sent_today = session.scalar(
        select(func.count())
        .select_from(SmsCode)
        .where(SmsCode.phone_hmac == phone_hmac, SmsCode.created_at > now - timedelta(days=1))
    )
    if (sent_today or 0) >= rules.per_phone_daily:
        raise Rejected("phone", CODE_DAILY, 429, reason="sms_rate")
    if ip:
        from_network = session.scalar(
            select(func.count())
            .select_from(SmsCode)
            .where(SmsCode.ip == ip, SmsCode.created_at > now - timedelta(hours=1))
        )
        if (from_network or 0) >= rules.per_ip_hourly:
            raise Rejected("phone", CODE_NETWORK, 429, reason="sms_rate")
    code = "".join(secrets.choice("0123456789") for _ in range(rules.length))
    session.add(
        SmsCode(
            phone_hmac=phone_hmac,
            code_hash=_code_hash(vault, code),
            ip=ip,
            created_at=now,
            expires_at=now + timedelta(minutes=rules.valid_minutes),
        )
    )
    sender.send(number, f"【聊城新聞網】您的驗證碼是{code}，{rules.valid_minutes}分鐘內有效。請勿告訴他人。")
    return mask_phone(number)


def _current_code(
    session: Session, *, phone_hmac: str, code: str, vault: PhoneVault, rules: CodeRules, now: datetime
) -> SmsCode:
    """The newest unused code of the number, if `code` is it: expiring, a few attempts. A wrong one
    counts as an attempt; the right one is used up only by the change it allows (`used_at`)."""
    current = session.scalars(
        select(SmsCode)
        .where(SmsCode.phone_hmac == phone_hmac, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc())
        .limit(1)
    ).first()
    if current is None or current.expires_at < now or current.attempts >= rules.max_attempts:
        raise Rejected("code", CODE_WRONG, 422, reason="sms_code")
    if not hmac.compare_digest(current.code_hash, _code_hash(vault, (code or "").strip())):
        current.attempts += 1  # kept even though the registration fails: the view commits it
        raise Rejected("code", CODE_WRONG, 422, reason="sms_code")
    return current


class _Checked:
    """What a form's checks found: every refusal, and what the change needs of the rest."""

    def __init__(self) -> None:
        self.problems: list[Rejected] = []
        self.number = ""
        self.phone_hmac = ""
        self.code: SmsCode | None = None
        self.nickname = ""
        self.user: User | None = None

    def check(self, step: Callable[[], object]) -> object | None:
        try:
            return step()
        except Rejected as refusal:
            self.problems.append(refusal)
            return None

    def check_code(
        self, session: Session, code: str | None, *, vault: PhoneVault, rules: CodeRules, now: datetime
    ) -> None:
        """The SMS code, only for a number that passed its own check (no code went to another)."""
        if code is not None and self.phone_hmac:
            self.code = self.check(
                lambda: _current_code(
                    session, phone_hmac=self.phone_hmac, code=code, vault=vault, rules=rules, now=now
                )
            )


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise Rejected("password", f"密碼至少需要{PASSWORD_MIN}個字符")


def clean_nickname(nickname: str) -> str:
    """The form's input normalisation (controls out, trimmed), also for the CLI and admin forms.
    Invisible characters go too: 「運河\u200b晨跑」 shows as another reader's 運河晨跑 (P4), and a
    right-to-left override turns a name around."""
    text = input_normalise(nickname).replace("\n", " ").replace("\t", " ")
    return unicodedata.normalize("NFC", drop_invisible(text)).strip()


def _check_nickname(session: Session, nickname: str, words: WordList) -> str:
    nickname = clean_nickname(nickname)
    if not NICKNAME_MIN <= len(nickname) <= NICKNAME_MAX:
        raise Rejected("nickname", f"暱稱需為{NICKNAME_MIN}至{NICKNAME_MAX}個字")
    if (message := screen_nickname(nickname, words)) is not None:
        raise Rejected("nickname", message, reason="name_rejected")
    if session.scalar(select(User.id).where(func.lower(User.nickname) == nickname.lower())) is not None:
        raise Rejected("nickname", NICKNAME_TAKEN)
    if not nickname.isascii() and _reads_as_a_taken_nickname(session, nickname):
        raise Rejected("nickname", NICKNAME_TAKEN)
    return nickname


def _nickname_reading(nickname: str) -> str:
    return unicodedata.normalize("NFKC", nickname).casefold()


def nickname_readings(names: Sequence[str]) -> list[str]:
    """How each name reads in the 简体 view, whatever its script, width and case (运河晨跑 for
    運河晨跑, lake湖 for Ｌａｋｅ湖): two names that read the same pass one reader off as another (P4).
    One OpenCC call for them all, one line each."""
    if not names:
        return []
    folded = to_simplified("\n".join(_nickname_reading(name).replace("\n", " ") for name in names))
    return folded.split("\n")


def _reads_as_a_taken_nickname(session: Session, nickname: str) -> bool:
    """Another reader's name in the other script or in full-width letters (运河晨跑 for 運河晨跑,
    Ｌａｋｅ湖 for Lake湖): the 简体 view shows both the same, so one reader could pass as another."""
    names = session.scalars(select(User.nickname)).all()
    return bool(names) and nickname_readings([nickname])[0] in nickname_readings(names)


def _check_registration(
    session: Session,
    *,
    phone: str | None,
    code: str | None,
    nickname: str | None,
    password: str | None,
    accepted_terms: bool,
    words: WordList,
    vault: PhoneVault,
    code_rules: CodeRules,
    ip: str,
    now: datetime,
) -> _Checked:
    """Every check of a registration, in the form's order. None skips a field (the form has already
    refused its shape). The code is checked only for a number that may register (none was sent to
    another), and only checked: a wrong one counts as an attempt, the right one stays for the next try."""
    checked = _Checked()

    def free_number() -> None:
        checked.number = normalise_phone(phone or "")
        phone_hmac = vault.lookup_hash(checked.number)
        _refuse_blocked(session, phone_hmac)
        if session.scalar(select(User.id).where(User.phone_hmac == phone_hmac)) is not None:
            raise Rejected("phone", PHONE_TAKEN)
        checked.phone_hmac = phone_hmac

    if phone is not None:
        checked.check(free_number)
    checked.check_code(session, code, vault=vault, rules=code_rules, now=now)
    if nickname is not None:
        checked.nickname = checked.check(lambda: _check_nickname(session, nickname, words)) or ""
    if password is not None:
        checked.check(lambda: _check_password(password))
    if not accepted_terms:
        checked.problems.append(Rejected("accept_terms", TERMS_REQUIRED))
    for problem in checked.problems:
        if problem.reason == "name_rejected":  # P4 keeps a record of the name it refused (P28)
            audit.record(
                session,
                actor=None,
                action="account.name_rejected",
                target_type="nickname",
                reason_code=problem.reason,
                after={"nickname": clean_nickname(nickname or ""), "message": problem.message},
                ip=ip,
                now=now,
            )
    return checked


def registration_problems(
    session: Session,
    *,
    phone: str | None,
    code: str | None,
    nickname: str | None,
    password: str | None,
    accepted_terms: bool,
    words: WordList,
    vault: PhoneVault,
    code_rules: CodeRules = CodeRules(),
    ip: str = "",
    now: datetime,
) -> list[Rejected]:
    """Every reason `register` would refuse these fields, all at once (None: a field not to check).
    A wrong code counts as an attempt, as in `register`."""
    return _check_registration(
        session,
        phone=phone,
        code=code,
        nickname=nickname,
        password=password,
        accepted_terms=accepted_terms,
        words=words,
        vault=vault,
        code_rules=code_rules,
        ip=ip,
        now=now,
    ).problems


def register(
    session: Session,
    *,
    phone: str,
    code: str,
    nickname: str,
    password: str,
    accepted_terms: bool,
    terms_version: str,
    words: WordList,
    vault: PhoneVault,
    hasher: PasswordHasher,
    ip: str = "",
    code_rules: CodeRules = CodeRules(),
    now: datetime,
) -> User:
    """A reader account whose phone the SMS code has just verified. A refusal names every problem
    found (`Refusals` when there are several), so the form shows them all at once."""
    checked = _check_registration(
        session,
        phone=phone,
        code=code,
        nickname=nickname,
        password=password,
        accepted_terms=accepted_terms,
        words=words,
        vault=vault,
        code_rules=code_rules,
        ip=ip,
        now=now,
    )
    refuse_all(checked.problems)
    if checked.code is None:  # never so: the code is checked whenever the number may register
        raise Rejected("code", CODE_WRONG, 422, reason="sms_code")
    checked.code.used_at = now
    nickname = checked.nickname
    user = User(
        nickname=nickname,
        phone_cipher=vault.encrypt(checked.number),
        phone_hmac=checked.phone_hmac,
        phone_verified_at=now,
        password_hash=hasher.hash(password),
        role=Role.READER,
        terms_version=terms_version,
        terms_accepted_at=now,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="account.registered",
        target_type="user",
        target_id=user.id,
        after={"nickname": nickname, "terms_version": terms_version},
        ip=ip,
        now=now,
    )
    return user


def _check_reset(
    session: Session,
    *,
    phone: str | None,
    code: str | None,
    password: str | None,
    vault: PhoneVault,
    code_rules: CodeRules,
    now: datetime,
) -> _Checked:
    """Every check of 忘記密碼, in the form's order (None skips a field); the code as at registration."""
    checked = _Checked()

    def registered_number() -> None:
        phone_hmac = vault.lookup_hash(normalise_phone(phone or ""))
        checked.user = session.scalar(select(User).where(User.phone_hmac == phone_hmac))
        if checked.user is None:
            raise Rejected("phone", PHONE_UNKNOWN)
        checked.phone_hmac = phone_hmac

    if phone is not None:
        checked.check(registered_number)
    checked.check_code(session, code, vault=vault, rules=code_rules, now=now)
    if password is not None:
        checked.check(lambda: _check_password(password))
    return checked


def reset_problems(
    session: Session,
    *,
    phone: str | None,
    code: str | None,
    password: str | None,
    vault: PhoneVault,
    code_rules: CodeRules = CodeRules(),
    now: datetime,
) -> list[Rejected]:
    """Every reason `reset_password` would refuse these fields, all at once (None: not to check)."""
    return _check_reset(
        session, phone=phone, code=code, password=password, vault=vault, code_rules=code_rules, now=now
    ).problems


def reset_password(
    session: Session,
    *,
    phone: str,
    code: str,
    password: str,
    vault: PhoneVault,
    hasher: PasswordHasher,
    ip: str = "",
    code_rules: CodeRules = CodeRules(),
    now: datetime,
) -> User:
    """忘記密碼: the SMS code proves the phone, a new password is set, and every session of the
    account ends (whoever knew the old password is signed out). Every problem is named at once."""
    checked = _check_reset(
        session, phone=phone, code=code, password=password, vault=vault, code_rules=code_rules, now=now
    )
    refuse_all(checked.problems)
    user = checked.user
    if user is None or checked.code is None:  # never so: both are found when nothing is refused
        raise Rejected("code", CODE_WRONG, 422, reason="sms_code")
    checked.code.used_at = now
    _replace_password(user, hasher.hash(password))
    audit.record(
        session,
        actor=user,
        action="account.password_reset",
        target_type="user",
        target_id=user.id,
        ip=ip,
        now=now,
    )
    return user


def _replace_password(user: User, password_hash: str) -> None:
    """A new password ends every session of the account: whoever knew the old one is signed out."""
    user.password_hash = password_hash
    user.session_token = new_session_token()


def end_every_session(session: Session, user: User, *, ip: str = "", now: datetime) -> None:
    """退出所有設備: every session of the account ends, this one too. A session lives in a signed
    cookie, which signing out of one browser only deletes there: a copy of it elsewhere (another
    device, a stolen cookie) keeps working until the account's session token changes."""
    user.session_token = new_session_token()
    audit.record(
        session,
        actor=user,
        action="account.sessions_ended",
        target_type="user",
        target_id=user.id,
        ip=ip,
        now=now,
    )


def set_password(
    session: Session, *, user: User, password: str, hasher: PasswordHasher, actor: User, now: datetime
) -> User:
    """An admin sets an account's password (a reader without the phone any more, a new colleague);
    the record says who did it, never what it is."""
    _check_password(password)
    _replace_password(user, hasher.hash(password))
    audit.record(
        session, actor=actor, action="admin.password_set", target_type="user", target_id=user.id, now=now
    )
    return user


def force_password_reset(
    session: Session, *, user: User, hasher: PasswordHasher, actor: User, now: datetime
) -> User:
    """The password stops working (a leaked one, say) and every session ends: the owner chooses a
    new one through 忘記密碼, which the SMS code to their phone proves."""
    if user.id == actor.id:
        raise Rejected("account", "不能強制重設自己的密碼，請直接設置新密碼", 403)
    _replace_password(user, hasher.hash(secrets.token_urlsafe(32)))  # known to nobody
    audit.record(
        session,
        actor=actor,
        action="admin.password_reset_forced",
        target_type="user",
        target_id=user.id,
        now=now,
    )
    return user


def login_problems(phone: str | None) -> list[Rejected]:
    """What is wrong with a login form before any account is asked: a phone that is no mainland
    mobile number says so beside it (as registration does), with the form's other messages, instead of
    a bare 「手機號或密碼錯誤」 on the next try. It tells nothing of any account: no account has it."""
    if phone is None:
        return []
    try:
        normalise_phone(phone)
    except Rejected as refusal:
        return [refusal]
    return []


# Verified when the account is unknown, so both answers take the same time.
_DUMMY_HASH: dict[int, str] = {}


def authenticate(
    session: Session, *, phone: str, password: str, vault: PhoneVault, hasher: PasswordHasher
) -> User:
    """The account for a phone and password, or Rejected with one message for every failure."""
    try:
        number = normalise_phone(phone)
    except Rejected:
        number = ""
    user = (
        session.scalar(select(User).where(User.phone_hmac == vault.lookup_hash(number))) if number else None
    )
    if user is None:
        dummy = _DUMMY_HASH.setdefault(id(hasher), hasher.hash(secrets.token_hex(8)))
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(dummy, password or "")
        raise Rejected("password", LOGIN_FAILED, reason="login")
    try:
        hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError) as wrong:
        raise Rejected("password", LOGIN_FAILED, reason="login") from wrong
    if user.state == UserState.CLOSED:
        raise Rejected("password", "賬號已關閉", 403, reason="account_state")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def create_verified_user(
    session: Session,
    *,
    phone: str,
    nickname: str,
    password: str,
    role: Role,
    vault: PhoneVault,
    hasher: PasswordHasher,
    now: datetime,
) -> User:
    """An account whose phone counts as verified: for operators (`flask create-user`) and tests."""
    number = normalise_phone(phone)
    nickname = clean_nickname(nickname)
    if not NICKNAME_MIN <= len(nickname) <= NICKNAME_MAX:
        raise Rejected("nickname", f"暱稱需為{NICKNAME_MIN}至{NICKNAME_MAX}個字")
    _check_password(password)
    phone_hmac = vault.lookup_hash(number)
    if session.scalar(select(User.id).where(User.phone_hmac == phone_hmac)) is not None:
        raise Rejected("phone", "該手機號已註冊")
    if session.scalar(select(User.id).where(User.nickname == nickname)) is not None:
        raise Rejected("nickname", NICKNAME_TAKEN)
    user = User(
        nickname=nickname,
        phone_cipher=vault.encrypt(number),
        phone_hmac=phone_hmac,
        phone_verified_at=now,
        password_hash=hasher.hash(password),
        role=Role(role),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user
