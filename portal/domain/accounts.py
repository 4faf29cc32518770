"""Accounts: registration with a verified phone (後台實名), nickname in front, login."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.comments import delete_own, drop_edit
from portal.domain.errors import Rejected, refuse_all
from portal.domain.pii import PhoneVault, mask_phone, normalise_phone
from portal.domain.pledge import MSG_NICKNAME, drop_invisible, input_normalise, screen_nickname
from portal.domain.script import reading
from portal.domain.sms import SmsSender
from portal.domain.wordlist import WordList
from portal.models import (
    Appeal,
    BlockedPhone,
    Comment,
    CommentStatus,
    EvidenceHold,
    ModerationAction,
    Role,
    Sanction,
    SmsCode,
    User,
    UserState,
)
from portal.models.users import DEREGISTERED_NAME, RETIRED_HMAC_PREFIX, new_session_token

NICKNAME_MIN, NICKNAME_MAX = 2, 16
PASSWORD_MIN = 8
TERMS_REQUIRED = "請先閱讀並同意《用戶協議》《跟帖評論自律管理承諾書》《隱私政策》"
PHONE_BLOCKED = "該手機號無法註冊或綁定"
PHONE_TAKEN = "該手機號已註冊，請直接登錄"
NICKNAME_TAKEN = "該暱稱已被使用"
NICKNAME_NO_LETTERS = "暱稱需包含文字、字母或數字，不能只有標點符號或表情"
CODE_WRONG = "驗證碼錯誤或已過期，請重新獲取"
CODE_TOO_SOON = "驗證碼發送過於頻繁，請{n}秒後再試"
CODE_DAILY = "該手機號今日獲取驗證碼次數已達上限"
CODE_NETWORK = "當前網絡獲取驗證碼過於頻繁，請稍後再試"
LOGIN_FAILED = "手機號或密碼錯誤"
PHONE_UNKNOWN = "該手機號尚未註冊"  # registration says as much of a taken number: nothing new is told
PHONE_BOUND = "該手機號已綁定其他賬號"
PHONE_SAME = "新手機號與當前綁定的手機號相同"
PHONE_MUTED_BEFORE = "該手機號註銷的賬號仍在禁言期內，期滿後方可重新註冊或綁定"
PASSWORD_WRONG = "當前密碼錯誤"
PASSWORD_SAME = "新密碼不能與當前密碼相同"
PASSWORD_INVISIBLE = f"密碼至少需要{PASSWORD_MIN}個可見字符（空格和不可見字符不計算在內）"
NICKNAME_SAME = "新暱稱與當前暱稱相同"
# How often a reader may rename: moderators and readers know an account by its name, and a name
# that changes every few days hides who said what (P4, P28); a month still lets a reader fix a
# regretted name soon. The first change may come at once: a name chosen in haste at registration.
NICKNAME_CHANGE_DAYS = 30
NICKNAME_TOO_SOON = "暱稱每{days}天只能修改一次，下次可修改時間：{when}"
DEREGISTER_UNCONFIRMED = "請勾選確認您已了解註銷的後果"
DEREGISTER_STAFF = "工作人員賬號不能自行註銷，請聯繫管理員處理"


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


def _refuse_muted_predecessor(session: Session, phone_hmac: str, *, now: datetime) -> None:
    """A number whose deregistered account is still muted waits for the mute to end: 註銷 and
    registering again must not be the way out of a 禁言 (P24)."""
    muted = session.scalar(
        select(User.id).where(User.retired_phone_hmac == phone_hmac, User.muted_until > now).limit(1)
    )
    if muted is not None:
        raise Rejected("phone", PHONE_MUTED_BEFORE, 403, reason="account_state")


def _inherit_standing(session: Session, user: User, phone_hmac: str, *, now: datetime) -> None:
    """What the number's deregistered accounts still owe passes to the account that takes the
    number: a negative credit and a 限制 in force (with its end, as a measure of this account a
    moderator can lift and the reader can appeal). Otherwise 註銷 and registering again would wipe
    them (P24, P25); a mute in force refuses the number outright (_refuse_muted_predecessor)."""
    earlier = session.execute(
        select(User.id, User.credit)
        .where(User.retired_phone_hmac == phone_hmac, User.id != user.id)
        .order_by(User.id)
    ).all()
    if not earlier:
        return
    before = {"credit_score": user.credit, "state": str(user.state)}
    user.credit = min([user.credit, *(e.credit for e in earlier if e.credit < 0)])
    restrictions = session.scalars(
        select(Sanction)
        .where(
            Sanction.user_id.in_([e.id for e in earlier]),
            Sanction.measure == "restriction",
            Sanction.lifted_at.is_(None),
            or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
        )
        .order_by(Sanction.id)
    ).all()
    for owed in restrictions:
        session.add(
            Sanction(
                user_id=user.id,
                measure=owed.measure,
                reason_code=owed.reason_code,
                note=f"承接已註銷賬號 #{owed.user_id} 的措施 #{owed.id}",
                starts_at=now,
                ends_at=owed.ends_at,
                created_by_id=owed.created_by_id,
                created_at=now,
            )
        )
    if restrictions and user.state == UserState.ACTIVE:
        user.state = UserState.RESTRICTED
    after = {"credit_score": user.credit, "state": str(user.state)}
    if after != before:
        session.flush()
        audit.record(
            session,
            actor=None,
            action="account.standing_inherited",
            target_type="user",
            target_id=user.id,
            before=before,
            after={**after, "inherited_from": [e.id for e in earlier]},
            now=now,
        )


def request_code(
    session: Session,
    *,
    phone: str,
    ip: str,
    vault: PhoneVault,
    sender: SmsSender,
    rules: CodeRules = CodeRules(),
    now: datetime,
    purpose: Literal["register", "reset", "bind", ""] = "",
) -> str:
    """Send a code; returns the masked number. Throttled per number and per network. A code to
    register (or to bind in place of an account's number) goes only to a free number, one to reset a
    password only to a registered one: the next step would refuse either, so the SMS would reach
    its owner for nothing."""
    number = normalise_phone(phone)
    phone_hmac = vault.lookup_hash(number)
    _refuse_blocked(session, phone_hmac)
    if purpose:
        registered = session.scalar(select(User.id).where(User.phone_hmac == phone_hmac)) is not None
        if purpose == "register" and registered:
            raise Rejected("phone", PHONE_TAKEN)
        if purpose == "bind" and registered:
            raise Rejected("phone", PHONE_BOUND)
        if purpose == "reset" and not registered:
            raise Rejected("phone", PHONE_UNKNOWN)
        if purpose in ("register", "bind"):
            _refuse_muted_predecessor(session, phone_hmac, now=now)
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


def _visible_length(password: str) -> int:
    """How many characters of the password show when typed: what takes no room (zero-width, direction
    marks, variation selectors, blank letters), spaces, controls and lone combining marks do not
    count. Eight zero-width spaces pass a length check and are a password nobody can see or retype."""
    return sum(
        1 for ch in drop_invisible(password) if not ch.isspace() and unicodedata.category(ch)[0] not in "CMZ"
    )


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise Rejected("password", f"密碼至少需要{PASSWORD_MIN}個字符")
    if _visible_length(password) < PASSWORD_MIN:
        raise Rejected("password", PASSWORD_INVISIBLE)


def clean_nickname(nickname: str) -> str:
    """The form's input normalisation (controls out, trimmed), also for the CLI and admin forms.
    Invisible characters go too: 「運河\u200b晨跑」 shows as another reader's 運河晨跑 (P4), and a
    right-to-left override turns a name around."""
    text = input_normalise(nickname).replace("\n", " ").replace("\t", " ")
    return unicodedata.normalize("NFC", drop_invisible(text)).strip()


def _check_nickname(session: Session, nickname: str, words: WordList, *, owner_id: int | None = None) -> str:
    """The P4 checks of a new name; `owner_id`'s own current name does not count as taken (a
    renaming reader may change only the case or the script of theirs)."""
    nickname = clean_nickname(nickname)
    if not NICKNAME_MIN <= len(nickname) <= NICKNAME_MAX:
        raise Rejected("nickname", f"暱稱需為{NICKNAME_MIN}至{NICKNAME_MAX}個字")
    # 「。。。」 or 「——」 is no name: one reader cannot be told from the next, nor named in a reply.
    if not any(unicodedata.category(ch)[0] in "LN" for ch in nickname):
        raise Rejected("nickname", NICKNAME_NO_LETTERS)
    if (message := screen_nickname(nickname, words)) is not None or _poses_as_deregistered(nickname):
        raise Rejected("nickname", message or MSG_NICKNAME, reason="name_rejected")
    if _reads_as_a_taken_nickname(session, nickname, owner_id=owner_id):
        raise Rejected("nickname", NICKNAME_TAKEN)
    return nickname


def _poses_as_deregistered(nickname: str) -> bool:
    """「已註銷用戶」 is what pages show for a deregistered author: a reader named so would pass their
    comments off as someone who has left (and the anonymised accounts are named after it)."""
    letters = "".join(ch for ch in reading(nickname) if ch.isalnum())  # 已 註 銷 reads the same
    return "已注销" in letters or "注销用户" in letters


def _reads_as_a_taken_nickname(session: Session, nickname: str, *, owner_id: int | None = None) -> bool:
    """Another account's name as the 简体 view shows it, in any case, script, width, spacing or
    punctuation (LAKE湖 for Lake湖, 运河晨跑 and 運河 晨跑 for 運河晨跑, Ｌａｋｅ湖 for lake湖, with a
    Cyrillic а too): one reader could pass as another. A
    deregistered reader's name counts too: it stays reserved until the account is anonymised.
    One equality on the reading each account keeps indexed (User._read_nickname), not a pass over
    every name."""
    query = select(User.id).where(User.nickname_reading == reading(nickname))
    if owner_id is not None:
        query = query.where(User.id != owner_id)
    return session.scalar(query.limit(1)) is not None


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
        _refuse_muted_predecessor(session, phone_hmac, now=now)
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
    _inherit_standing(session, user, checked.phone_hmac, now=now)
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
    if _reads_as_a_taken_nickname(session, nickname):  # staff may not pass as a reader either
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


# --- 賬號設置: what a signed-in reader changes of their own account ------------------------------


def _verify_password(user: User, password: str | None, hasher: PasswordHasher, field: str) -> None:
    try:
        hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError) as wrong:
        raise Rejected(field, PASSWORD_WRONG, reason="password") from wrong


def next_nickname_change(user: User, *, now: datetime) -> datetime | None:
    """When the reader may rename again, or None if they may now (NICKNAME_CHANGE_DAYS)."""
    if user.nickname_changed_at is None:
        return None
    allowed = user.nickname_changed_at + timedelta(days=NICKNAME_CHANGE_DAYS)
    return allowed if allowed > now else None


def _quote_name_everywhere(session: Session, user: User, name: str) -> None:
    """Replies quote their target's name (回覆 @暱稱): the quotes of this reader's comments follow
    the name, so an old name (or a deregistered one) is not left on other readers' replies."""
    session.execute(
        update(Comment)
        .where(Comment.reply_to_id.in_(select(Comment.id).where(Comment.author_id == user.id)))
        .values(reply_to_nickname=name)
    )


def change_nickname(
    session: Session,
    *,
    user: User,
    nickname: str,
    words: WordList,
    zone: tzinfo = UTC,
    ip: str = "",
    now: datetime,
) -> User:
    """修改暱稱: the checks of registration (P4), at most once in NICKNAME_CHANGE_DAYS. The record
    keeps the old and the new name (how moderators trace who said what); a refused name is kept on
    record as at registration. The flush stamps the pages that show the name (content_version)."""
    if (allowed := next_nickname_change(user, now=now)) is not None:
        when = allowed.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        raise Rejected(
            "nickname", NICKNAME_TOO_SOON.format(days=NICKNAME_CHANGE_DAYS, when=when), 429, "rate"
        )
    if clean_nickname(nickname) == user.nickname:
        raise Rejected("nickname", NICKNAME_SAME)
    try:
        new = _check_nickname(session, nickname, words, owner_id=user.id)
    except Rejected as refusal:
        if refusal.reason == "name_rejected":  # P4 keeps a record of the name it refused (P28)
            audit.record(
                session,
                actor=user,
                action="account.name_rejected",
                target_type="user",
                target_id=user.id,
                reason_code=refusal.reason,
                after={"nickname": clean_nickname(nickname), "message": refusal.message},
                ip=ip,
                now=now,
            )
        raise
    old = user.nickname
    user.nickname, user.nickname_changed_at = new, now
    _quote_name_everywhere(session, user, new)
    audit.record(
        session,
        actor=user,
        action="account.nickname_changed",
        target_type="user",
        target_id=user.id,
        before={"nickname": old},
        after={"nickname": new},
        ip=ip,
        now=now,
    )
    return user


def password_change_problems(
    user: User, *, current_password: str | None, new_password: str | None, hasher: PasswordHasher
) -> list[Rejected]:
    """Every reason `change_password` would refuse these fields (None: not to check)."""
    problems: list[Rejected] = []
    if current_password is not None:
        try:
            _verify_password(user, current_password, hasher, "current_password")
        except Rejected as refusal:
            problems.append(refusal)
    if new_password is not None:
        try:
            _check_password(new_password)
        except Rejected as refusal:
            problems.append(Rejected("new_password", refusal.message))
        if not problems and current_password == new_password:
            problems.append(Rejected("new_password", PASSWORD_SAME))
    return problems


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    hasher: PasswordHasher,
    ip: str = "",
    now: datetime,
) -> User:
    """修改密碼: the current password proves it is the owner; the new one ends every session of the
    account (the view signs this one in again). Every problem is named at once."""
    refuse_all(
        password_change_problems(
            user, current_password=current_password, new_password=new_password, hasher=hasher
        )
    )
    _replace_password(user, hasher.hash(new_password))
    audit.record(
        session,
        actor=user,
        action="account.password_changed",
        target_type="user",
        target_id=user.id,
        ip=ip,
        now=now,
    )
    return user


def _check_phone_change(
    session: Session,
    *,
    user: User,
    phone: str | None,
    code: str | None,
    password: str | None,
    vault: PhoneVault,
    hasher: PasswordHasher,
    code_rules: CodeRules,
    now: datetime,
) -> _Checked:
    """Every check of 更換手機號 (None skips a field): the new number free, not blocked, not the
    current one; its SMS code as at registration; the account's password."""
    checked = _Checked()

    def free_number() -> None:
        checked.number = normalise_phone(phone or "")
        phone_hmac = vault.lookup_hash(checked.number)
        if phone_hmac == user.phone_hmac:
            raise Rejected("phone", PHONE_SAME)
        _refuse_blocked(session, phone_hmac)
        if session.scalar(select(User.id).where(User.phone_hmac == phone_hmac)) is not None:
            raise Rejected("phone", PHONE_BOUND)
        _refuse_muted_predecessor(session, phone_hmac, now=now)
        checked.phone_hmac = phone_hmac

    if phone is not None:
        checked.check(free_number)
    checked.check_code(session, code, vault=vault, rules=code_rules, now=now)
    if password is not None:
        checked.check(lambda: _verify_password(user, password, hasher, "phone_password"))
    return checked


def phone_change_problems(
    session: Session,
    *,
    user: User,
    phone: str | None,
    code: str | None,
    password: str | None,
    vault: PhoneVault,
    hasher: PasswordHasher,
    code_rules: CodeRules = CodeRules(),
    now: datetime,
) -> list[Rejected]:
    """Every reason `change_phone` would refuse these fields (None: not to check)."""
    return _check_phone_change(
        session,
        user=user,
        phone=phone,
        code=code,
        password=password,
        vault=vault,
        hasher=hasher,
        code_rules=code_rules,
        now=now,
    ).problems


def change_phone(
    session: Session,
    *,
    user: User,
    phone: str,
    code: str,
    password: str,
    vault: PhoneVault,
    hasher: PasswordHasher,
    ip: str = "",
    code_rules: CodeRules = CodeRules(),
    now: datetime,
) -> User:
    """更換手機號: the SMS code proves the new number (後台實名 stays verified), stored like a
    registered one (cipher + hmac). The record keeps both numbers masked, as the log keeps numbers."""
    checked = _check_phone_change(
        session,
        user=user,
        phone=phone,
        code=code,
        password=password,
        vault=vault,
        hasher=hasher,
        code_rules=code_rules,
        now=now,
    )
    refuse_all(checked.problems)
    if checked.code is None:  # never so: the code is checked whenever the number may be bound
        raise Rejected("code", CODE_WRONG, 422, reason="sms_code")
    checked.code.used_at = now
    old = mask_phone(vault.decrypt(user.phone_cipher))
    user.phone_cipher = vault.encrypt(checked.number)
    user.phone_hmac = checked.phone_hmac
    user.phone_verified_at = now
    audit.record(
        session,
        actor=user,
        action="account.phone_changed",
        target_type="user",
        target_id=user.id,
        before={"phone": old},
        after={"phone": mask_phone(checked.number)},
        ip=ip,
        now=now,
    )
    _inherit_standing(session, user, checked.phone_hmac, now=now)
    return user


def deregister(
    session: Session,
    *,
    user: User,
    password: str,
    confirmed: bool,
    hasher: PasswordHasher,
    ip: str = "",
    now: datetime,
) -> User:
    """註銷 (撤回同意, P29): the account stops, every session ends, and pages show its comments'
    author as 已註銷用戶. The row keeps who it was (nickname, reserved meanwhile; the phone's cipher
    and hash) until `anonymise_deregistered` runs after the retention period; the number itself is
    free at once (the real hash moves to retired_phone_hmac). What is still in review is withdrawn
    with the consent (_withdraw_from_review). Staff accounts are an admin's to close."""
    if user.is_staff:
        raise Rejected("deregister_password", DEREGISTER_STAFF, 403, reason="staff")
    if user.deregistered_at is not None:
        raise Rejected("deregister_password", "賬號已註銷", 403, reason="account_state")
    problems: list[Rejected] = []
    try:
        _verify_password(user, password, hasher, "deregister_password")
    except Rejected as refusal:
        problems.append(refusal)
    if not confirmed:
        problems.append(Rejected("confirm", DEREGISTER_UNCONFIRMED))
    refuse_all(problems)
    user.deregistered_at = now
    user.retired_phone_hmac = user.phone_hmac
    user.phone_hmac = f"{RETIRED_HMAC_PREFIX}{user.id}"
    user.session_token = new_session_token()
    _quote_name_everywhere(session, user, DEREGISTERED_NAME)
    _withdraw_from_review(session, user, now=now)
    audit.record(
        session,
        actor=user,
        action="account.cancel_requested",
        target_type="user",
        target_id=user.id,  # the account row says who until it is anonymised; the record outlives it
        ip=ip,
        now=now,
    )
    return user


def _withdraw_from_review(session: Session, user: User, *, now: datetime) -> None:
    """撤回同意 reaches what no moderator has published yet: the reader's comments in review are
    withdrawn as their own 刪除 would (no rejection, nothing to appeal), an edit waiting beside a
    published comment is dropped, the published text staying as the deregistration page says, and
    their open appeals are withdrawn (an overturned rejection would publish the comment). Otherwise
    a moderator could still publish words their author has taken back, and the queue would keep
    them until then."""
    waiting = session.scalars(
        select(Comment)
        .where(
            Comment.author_id == user.id,
            (Comment.status == CommentStatus.PENDING) | Comment.pending_body.is_not(None),
        )
        .order_by(Comment.id)
    ).all()
    for comment in waiting:
        if comment.status == CommentStatus.PENDING:
            delete_own(session, comment=comment, author=user, now=now)
            continue
        drop_edit(comment)  # a hidden comment's too: there is nobody left to restore it for
        audit.record(
            session,
            actor=user,
            action="comment.edit_withdrawn",
            target_type="comment",
            target_id=comment.id,
            before={"edit": "pending"},
            after={"edit": "withdrawn"},
            now=now,
        )
    for appeal in session.scalars(
        select(Appeal).where(Appeal.author_id == user.id, Appeal.status == "open").order_by(Appeal.id)
    ):
        appeal.status, appeal.decided_at = "withdrawn", now
        audit.record(
            session,
            actor=user,
            action="appeal.withdrawn",
            target_type="appeal",
            target_id=appeal.id,
            note="註銷賬號，申訴隨之撤回",
            now=now,
        )


def anonymised_nickname(user_id: int) -> str:
    return f"{DEREGISTERED_NAME}{user_id}"


def anonymise_deregistered(
    session: Session, *, vault: PhoneVault, retention_days: int, now: datetime, actor: User | None = None
) -> int:
    """After the retention period a deregistered account's personal information goes: the phone
    (its cipher holds an empty number, no hash is left to find it by), the nickname (freed for
    others), the password, and the network and browser its comments came from. The comments stay,
    by 已註銷用戶, and the row stays for the records that point at it. Returns how many."""
    held = (
        select(ModerationAction.id)
        .join(EvidenceHold, EvidenceHold.action_id == ModerationAction.id)
        .where(
            (ModerationAction.actor_id == User.id)
            | ((ModerationAction.target_type == "user") & (ModerationAction.target_id == User.id))
        )
    )
    due = list(
        session.scalars(
            select(User).where(
                User.deregistered_at < now - timedelta(days=retention_days),
                User.anonymised_at.is_(None),
                ~held.exists(),  # 保存在案: a record held as evidence keeps who it was about (P28)
            )
        )
    )
    for user in due:
        user.nickname = anonymised_nickname(user.id)
        user.phone_cipher = vault.encrypt("")
        user.phone_hmac = f"{RETIRED_HMAC_PREFIX}{user.id}"
        user.retired_phone_hmac = None
        user.password_hash = "!"  # no hash: nothing verifies against it
        user.muted_reason = ""
        user.anonymised_at = now
        session.execute(
            update(Comment).where(Comment.author_id == user.id).values(ip="", ip_prefix="", user_agent="")
        )
        audit.record(
            session,
            actor=actor,
            action="account.anonymised",
            target_type="user",
            target_id=user.id,
            note=f"註銷滿{retention_days}天，個人信息已匿名化",
            now=now,
        )
    return len(due)
