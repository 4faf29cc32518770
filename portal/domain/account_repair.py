"""Accounts stored before two fixes: phones read as typed (full-width digits hashed apart from the
same number in ASCII, so one phone could hold two accounts) and nicknames kept with invisible
characters (「運河\u200b晨跑」 shows as another reader's 運河晨跑).

`survey` says what each account needs; `repair` does what is safe without a person (migration 0011
and `flask check-accounts --fix`) and records each change; what is left needs someone
(`flask check-accounts`). Two accounts with one phone are never merged: both are reported, with
the one to keep (the one login finds) and the one to close.

`names_to_review` lists the nicknames registered before two later P4 rules: names that pass for the
site's staff, officials or the media, and names that read as another account's in the 简体 view
(運河晨跑 and 运河晨跑, Ｌａｋｅ湖 and Lake湖). Only a person can rename a reader or decide who keeps a
name (R17), so these are listed and never changed, with or without --fix.

Plain Core statements on the columns these need, not the models: migration 0011 runs them, and a
later revision may add columns its schema does not have yet.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import InvalidToken
from sqlalchemy import Connection, column, insert, select, table, update

from portal.domain.accounts import NICKNAME_MAX, NICKNAME_MIN, clean_nickname
from portal.domain.errors import Rejected
from portal.domain.pii import PhoneVault, mask_phone, normalise_phone
from portal.domain.pledge import drop_invisible, impersonates, screen_nickname
from portal.domain.repair_writes import new_stamp, replace_content_version, system_record
from portal.domain.script import reading, readings
from portal.domain.wordlist import WordList

PHONE_NORMALISED = "account.phone_normalised"
NICKNAME_CLEANED = "account.nickname_cleaned"
NICKNAME_PLACEHOLDER = "account.nickname_placeholder"  # the flag: a person chooses the name
PLACEHOLDER = "網友{id}"

_USERS = table(
    "user_account",
    column("id"),
    column("nickname"),
    column("nickname_reading"),  # from 0020 on: the repair in 0011 leaves it for 0020 to fill
    column("phone_cipher"),
    column("phone_hmac"),
    column("state"),
    column("page_stamp"),
    column("role"),
)
STAFF_ROLES = frozenset({"moderator", "admin"})  # their names may say what they are
_BLOCKED = table("blocked_phone", column("phone_hmac"), column("reason"), column("created_at"))
_RECORDS = table(
    "moderation_action",
    *(column(name) for name in ("action", "target_type", "target_id", "before", "after", "note")),
)


@dataclass(frozen=True)
class StoredPhone:
    user_id: int
    state: str
    in_normal_form: bool  # login finds it: the number is stored as normalise_phone gives it


@dataclass(frozen=True)
class PhoneClash:
    """Accounts that are one phone once normalised: a person decides, nothing is merged."""

    number: str
    accounts: tuple[StoredPhone, ...]

    @property
    def keep(self) -> StoredPhone:
        """The account login finds, else an open one, else the oldest."""
        return min(self.accounts, key=lambda a: (not a.in_normal_form, a.state == "closed", a.user_id))

    @property
    def close(self) -> tuple[StoredPhone, ...]:
        return tuple(a for a in self.accounts if a is not self.keep)


@dataclass(frozen=True)
class NicknameChange:
    user_id: int
    before: str
    after: str
    note: str = ""  # why a placeholder instead of the cleaned name; empty for a cleaned name


@dataclass
class Survey:
    phones: list[tuple[int, str]] = field(default_factory=list)  # (user id, number) safe to normalise
    clashes: list[PhoneClash] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)  # the cipher does not open with this key
    invalid: list[int] = field(default_factory=list)  # no valid mobile number once normalised
    nicknames: list[NicknameChange] = field(default_factory=list)
    placeholders: list[NicknameChange] = field(default_factory=list)  # flagged, not renamed yet
    phones_unchecked: bool = False  # no key to read them with

    @property
    def needs_a_person(self) -> bool:
        return bool(self.clashes or self.unreadable or self.invalid or self.placeholders)


def survey(connection: Connection, *, vault: PhoneVault | None, words: Callable[[], WordList]) -> Survey:
    """What every account needs. `words` is called only if a nickname has to be screened."""
    found = Survey(phones_unchecked=vault is None)
    users = connection.execute(
        select(_USERS.c.id, _USERS.c.nickname, _USERS.c.phone_cipher, _USERS.c.state).order_by(_USERS.c.id)
    ).all()
    if vault is not None:
        _survey_phones(found, vault, [(u.id, u.phone_cipher, u.state) for u in users])
    nicknames = {u.id: u.nickname for u in users}
    found.nicknames = list(_nickname_changes(nicknames, words))
    found.placeholders = [c for c in found.nicknames if c.note] + _still_on_placeholder(connection, nicknames)
    return found


def _survey_phones(found: Survey, vault: PhoneVault, users: list[tuple[int, bytes, str]]) -> None:
    same_number: dict[str, list[StoredPhone]] = defaultdict(list)
    for user_id, cipher, state in users:
        try:
            stored = vault.decrypt(cipher)
        except InvalidToken:
            found.unreadable.append(user_id)
            continue
        if stored == "":  # a deregistered account anonymised after retention: no number to check
            continue
        try:
            number = normalise_phone(stored)
        except Rejected:
            found.invalid.append(user_id)
            continue
        same_number[number].append(StoredPhone(user_id, state, stored == number))
    for number, accounts in same_number.items():
        if len(accounts) > 1:
            found.clashes.append(PhoneClash(number, tuple(accounts)))
        elif not accounts[0].in_normal_form:
            found.phones.append((accounts[0].user_id, number))


def _nickname_changes(nicknames: dict[int, str], words: Callable[[], WordList]) -> Iterator[NicknameChange]:
    """The cleaned name where it is valid and nobody else's (the oldest account first), else a
    placeholder with the reason."""
    dirty = {uid: name for uid, name in nicknames.items() if clean_nickname(name) != name}
    if not dirty:
        return
    wordlist = words()
    owner = {name.lower(): uid for uid, name in nicknames.items() if uid not in dirty}
    for uid, before in dirty.items():
        after = clean_nickname(before)
        note = ""
        if not NICKNAME_MIN <= len(after) <= NICKNAME_MAX:
            note = f"去掉不可見字符後為「{after}」，不足{NICKNAME_MIN}個字或超過{NICKNAME_MAX}個字"
        elif (other := owner.get(after.lower())) is not None:
            note = f"去掉不可見字符後與賬號 #{other} 的暱稱「{nicknames[other]}」相同"
        elif screen_nickname(after, wordlist) is not None:
            note = f"去掉不可見字符後的「{after}」含有不允許使用的內容"
        if note:
            after = _placeholder(uid, owner, wordlist)
        owner[after.lower()] = uid
        yield NicknameChange(uid, before, after, note)


def _placeholder(user_id: int, owner: dict[str, int], words: WordList) -> str:
    """網友{id}, or with 之2, 之3… when a reader already chose that name (or it screens as a number)."""
    first = PLACEHOLDER.format(id=user_id)
    for candidate in (first, *(f"{first}之{k}" for k in range(2, 100))):
        if candidate.lower() not in owner and screen_nickname(candidate, words) is None:
            return candidate
    return f"{first}之{secrets.token_hex(4)}"


def _still_on_placeholder(connection: Connection, nicknames: dict[int, str]) -> list[NicknameChange]:
    """Accounts given a placeholder earlier whose name nobody has chosen since: those named like
    one, confirmed by their records (found by the record's target index, not a scan of the log)."""
    named_so = [uid for uid, name in nicknames.items() if name.startswith(PLACEHOLDER.format(id=uid))]
    if not named_so:
        return []
    rows = connection.execute(
        select(_RECORDS.c.target_id, _RECORDS.c.before, _RECORDS.c.after, _RECORDS.c.note).where(
            _RECORDS.c.target_type == "user",
            _RECORDS.c.target_id.in_(named_so),
            _RECORDS.c.action == NICKNAME_PLACEHOLDER,
        )
    )
    waiting = {}
    for uid, before, after, note in rows:
        placeholder = json.loads(after).get("nickname")
        if nicknames.get(uid) == placeholder:
            waiting[uid] = NicknameChange(uid, json.loads(before).get("nickname", ""), placeholder, note)
    return list(waiting.values())


@dataclass(frozen=True)
class NamedAccount:
    user_id: int
    nickname: str
    state: str
    role: str


@dataclass(frozen=True)
class NameToReview:
    account: NamedAccount
    reason: str  # why P4 refuses the name today


@dataclass
class NameReview:
    refused: list[NameToReview] = field(default_factory=list)  # P4 refuses these names now
    lookalikes: list[tuple[NamedAccount, ...]] = field(default_factory=list)  # oldest account first

    @property
    def needs_a_person(self) -> bool:
        return bool(self.refused or self.lookalikes)


IMPERSONATION = "冒充本站工作人員、官方機構或媒體"
SCREENED = "含有詞庫中的詞語、網址或聯繫方式"


def names_to_review(
    connection: Connection, *, words: Callable[[], WordList], renamed: dict[int, str] | None = None
) -> NameReview:
    """Readers' nicknames P4 refuses today (the staff's own accounts may say what they are), and the
    groups of accounts whose nicknames read the same in the 简体 view. `renamed` holds the names the
    safe repair is about to give (a cleaned name, a placeholder): those are the names to judge. Reads
    only; nothing here is ever renamed automatically."""
    rows = connection.execute(
        select(
            _USERS.c.id, _USERS.c.nickname, _USERS.c.nickname_reading, _USERS.c.state, _USERS.c.role
        ).order_by(_USERS.c.id)
    ).all()
    renamed = renamed or {}
    accounts = [
        NamedAccount(row.id, renamed.get(row.id, row.nickname), row.state, row.role or "") for row in rows
    ]
    review = NameReview()
    if not accounts:
        return review
    wordlist = words()
    for account in accounts:
        if account.role in STAFF_ROLES:
            continue
        if impersonates(account.nickname):
            review.refused.append(NameToReview(account, IMPERSONATION))
        elif screen_nickname(account.nickname, wordlist) is not None:
            review.refused.append(NameToReview(account, SCREENED))
    # The stored readings, but for the few names the repair is about to give: those read anew.
    anew = dict(zip(renamed, readings(list(renamed.values())), strict=True))
    same: dict[str, list[NamedAccount]] = defaultdict(list)
    for account, row in zip(accounts, rows, strict=True):
        same[anew.get(account.user_id, row.nickname_reading)].append(account)
    review.lookalikes = [tuple(group) for group in same.values() if len(group) > 1]
    return review


def repair(
    connection: Connection,
    *,
    vault: PhoneVault | None,
    words: Callable[[], WordList],
    now: datetime,
    with_readings: bool = True,
) -> tuple[Survey, Survey]:
    """Normalises the phones that clash with no other account and cleans the nicknames (or gives a
    flagged placeholder), one audit row per change, in the caller's transaction. Returns the survey
    it worked from (what it did) and the one afterwards (what needs a person). A new name gets its
    reading (P4's look-alike check finds names by it) unless `with_readings` is False: migration
    0011 runs before the column exists."""
    found = survey(connection, vault=vault, words=words)
    for uid, number in found.phones if vault is not None else ():
        _normalise_phone(connection, vault, uid, number, now=now)
    for change in found.nicknames:
        renamed = {"nickname": change.after, "page_stamp": new_stamp()}
        if with_readings:
            renamed["nickname_reading"] = reading(change.after)
        connection.execute(update(_USERS).where(_USERS.c.id == change.user_id).values(**renamed))
        system_record(
            connection,
            action=NICKNAME_PLACEHOLDER if change.note else NICKNAME_CLEANED,
            target_type="user",
            target_id=change.user_id,
            note=change.note or "暱稱中的不可見字符已去掉",
            before={"nickname": change.before},
            after={"nickname": change.after},
            now=now,
        )
    if found.nicknames:  # nicknames show on public pages: their cached copies go
        replace_content_version(connection)
    return found, survey(connection, vault=vault, words=words)


def _normalise_phone(
    connection: Connection, vault: PhoneVault, user_id: int, number: str, *, now: datetime
) -> None:
    old_hmac = connection.execute(select(_USERS.c.phone_hmac).where(_USERS.c.id == user_id)).scalar_one()
    new_hmac = vault.lookup_hash(number)
    connection.execute(
        update(_USERS)
        .where(_USERS.c.id == user_id)
        .values(phone_cipher=vault.encrypt(number), phone_hmac=new_hmac, page_stamp=new_stamp())
    )
    blocked = connection.execute(
        select(_BLOCKED.c.phone_hmac, _BLOCKED.c.reason).where(
            _BLOCKED.c.phone_hmac.in_([old_hmac, new_hmac])
        )
    ).all()
    reasons = {row.phone_hmac: row.reason for row in blocked}
    if old_hmac in reasons and new_hmac not in reasons:  # P6: the blacklist holds the number either way
        connection.execute(
            insert(_BLOCKED).values(phone_hmac=new_hmac, reason=reasons[old_hmac], created_at=now)
        )
    system_record(
        connection,
        action=PHONE_NORMALISED,
        target_type="user",
        target_id=user_id,
        note="手機號碼中的全形數字已轉為半形",
        after={"phone": mask_phone(number)},
        now=now,
    )


def shown(text: str) -> str:
    """The text with its invisible characters written out (運河<U+200B>晨跑), for the report."""
    return "".join(
        f"<U+{ord(ch):04X}>" if not drop_invisible(ch) or not ch.isprintable() else ch for ch in text
    )
