"""The record (P28) read back: the log's filters and keyset pages, exports in chunks, evidence
holds (保存在案), retention, and the aggregates behind the moderation dashboard.

Plain functions over a Session. Stored times are naive UTC; days and hours are the site zone's,
so every function that cuts time into days or hours takes the zone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit
from portal.domain.comments import TIER_LABELS
from portal.domain.editorial import (
    ARTICLE_KIND_LABELS,
    ARTICLE_STATE_LABELS,
    COMMENTS_STATE_LABELS,
    MEDIA_KIND_LABELS,
    SECTION_LAYOUT_LABELS,
)
from portal.domain.pagination import Cursor
from portal.domain.pledge import FLAG_LABELS, REASON_LABELS, mask_personal_numbers
from portal.domain.site import SETTING_LABELS
from portal.models import (
    PENDING_EDIT,
    Appeal,
    Article,
    BulkHideComment,
    Comment,
    CommentStatus,
    EvidenceHold,
    ModerationAction,
    Report,
    ReportStatus,
    Section,
    User,
)

PAGE_SIZE = 50
EXPORT_CHUNK = 1000
RETENTION_DEFAULT_DAYS = 190  # PLEDGE_RULES P28
RETENTION_MIN_DAYS = 184  # six calendar months can be 184 days

ACTION_LABELS: dict[str, str] = {
    "moderation.approve": "通過評論",
    "moderation.reject": "不通過",
    "moderation.hide": "隱藏",
    "moderation.delete": "刪除",
    "moderation.restore": "恢復評論",
    "moderation.keep": "巡查保留",
    "moderation.pin": "置頂",
    "moderation.unpin": "取消置頂",
    "moderation.feature": "精選",
    "moderation.unfeature": "取消精選",
    "moderation.appeal_overturn": "申訴改判",
    "report.created": "提交舉報",
    "report.resolved": "裁定舉報",
    "account.registered": "註冊賬號",
    "account.name_rejected": "拒絕暱稱",
    "account.measure": "處置措施",
    "account.measure_lifted": "解除措施",
    "account.password_reset": "重設密碼",
    "account.sessions_ended": "退出所有設備",
    "account.nickname_changed": "修改暱稱",
    "account.password_changed": "修改密碼",
    "account.phone_changed": "更換手機號",
    "account.cancel_requested": "註銷賬號",
    "account.standing_inherited": "承接原賬號的信用與措施",
    "account.anonymised": "註銷賬號匿名化",
    "appeal.created": "提出申訴",
    "appeal.resolved": "處理申訴",
    "appeal.withdrawn": "註銷時撤回申訴",
    "pii.view": "查看手機號",
    "comment.submitted": "提交評論",
    "comment.rejected": "系統拒絕",
    "comment.edited": "編輯評論",
    "comment.deleted_by_author": "作者刪除",
    "comment.edit_withdrawn": "註銷時撤回修改",
    "comment.hidden": "舉報隱藏",
    "comment.patrol_hit": "巡查命中",
    "emergency.close": "應急處置：關閉評論",
    "emergency.reopen": "應急處置：重新開放",
    "emergency.bulk_hide": "應急處置：批量隱藏",
    "emergency.undo": "應急處置：撤銷",
    "records.exported": "導出記錄",
    "records.hold": "保存在案",
    "records.release": "取消保存",
    "records.purged": "清理過期記錄",
    "admin.section_saved": "保存欄目",
    "admin.section_deleted": "刪除欄目",
    "admin.article_saved": "保存文章",
    "admin.page_saved": "保存靜態頁",
    "admin.page_deleted": "刪除靜態頁",
    "admin.settings_saved": "修改網站設置",
    "admin.media_uploaded": "上傳媒體",
    "admin.media_deleted": "刪除媒體",
    "admin.word_saved": "保存敏感詞",
    "admin.word_deleted": "刪除敏感詞",
    "admin.words_imported": "導入敏感詞",
    "admin.word_to_review": "屏蔽正則改為送審",
    "admin.article_rerendered": "重新生成文章正文",
    "admin.page_rerendered": "重新生成靜態頁正文",
    "admin.staff_created": "新增工作人員",
    "admin.user_access": "修改用戶權限",
    "admin.account_disabled": "停用賬號",
    "admin.account_enabled": "啟用賬號",
    "admin.password_set": "設置新密碼",
    "admin.password_reset_forced": "強制重設密碼",
}
# Codes not listed above still get a label from their family.
ACTION_FAMILIES: dict[str, str] = {
    "emergency.": "應急處置",
    "moderation.": "審核決定",
    "records.": "記錄管理",
    "wordlist.": "詞庫變更",
    "words.": "詞庫變更",
    "admin.": "管理操作",
    "account.": "賬號",
    "comment.": "評論",
}
# The log's 操作 filter: every known code, and whole families (a value ending in ".*").
ACTION_OPTIONS: list[tuple[str, str]] = [
    ("moderation.*", "審核決定（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("moderation.")],
    ("report.*", "舉報（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("report.")],
    ("account.*", "賬號（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("account.")],
    ("appeal.*", "申訴（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("appeal.")],
    ("pii.view", ACTION_LABELS["pii.view"]),
    ("comment.*", "評論（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("comment.")],
    ("emergency.*", "應急處置（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("emergency.")],
    ("records.*", "記錄管理（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("records.")],
    ("admin.*", "管理操作（全部）"),
    *[(code, label) for code, label in ACTION_LABELS.items() if code.startswith("admin.")],
]
TARGET_LABELS: dict[str, str] = {
    "comment": "評論",
    "comments": "批量評論",
    "user": "用戶",
    "nickname": "暱稱",
    "article": "文章",
    "section": "欄目",
    "page": "靜態頁",
    "media": "媒體",
    "site": "全站",
    "appeal": "申訴",
    "moderation_action": "記錄",
    "sensitive_word": "敏感詞",
    "settings": "網站設置",
}
ROLE_LABELS = {"reader": "讀者", "moderator": "審核員", "admin": "管理員", "system": "系統"}
NUMBER_REFUSALS = frozenset({"contact", "pii"})  # P18 and P19: shown masked to staff without `pii`
# comment.rejected carries the refusal's reason (portal.domain.errors.Rejected.reason), not an R-code.
SYSTEM_REASON_LABELS: dict[str, str] = {
    "words": "含違規詞語",
    "url": "含網址",
    "contact": "含聯繫方式",
    "pii": "含個人信息",
    "length": "字數不符",
    "meaningless": "無實際意義",
    "rate": "發送過快",
    "quota": "超過每日額度",
    "duplicate": "重複提交",
    "closed": "評論已關閉",
    "account_state": "賬號受限",
    "unverified": "未驗證手機",
    "parent": "回覆對象無效",
    "name_rejected": "暱稱不符合規定",  # P4, at registration (account.name_rejected)
    "admin": "管理員停用賬號",  # the reason of an admin's 停用 (domain.moderation.ADMIN_CLOSURE)
}
# Every reason a record or a measure carries: the pledge's R-codes, the filter's and the back office's.
REASON_TEXT = {**REASON_LABELS, **SYSTEM_REASON_LABELS}
# The log's 理由 filter: the pledge's R-codes with their numbers (the desk knows them by them), the
# other reasons in words only, never their ASCII codes.
REASON_OPTIONS = {
    **{code: f"{code} {label}" for code, label in REASON_LABELS.items()},
    **SYSTEM_REASON_LABELS,
}
KEY_LABELS = {
    **SETTING_LABELS,  # a settings record names each setting as the settings form does
    "status": "狀態",
    "body": "內容",
    "edit": "修改",  # an edit of a published comment: its text while it waits, then the decision
    "measure": "措施",
    "days": "天數",
    "until": "至",
    "ruling": "裁定",
    "hidden": "已隱藏",
    "hidden_in_reach": "已隱藏（您負責的欄目內）",  # a bulk hide as a section-scoped moderator reads it
    "restored": "已恢復",
    "count": "條數",
    "retention_days": "保存天數",
    "overturned": "撤銷原決定",
    "self_review": "本人覆核",  # the decider ruled: no one else could (moderation.self_review)
    "verdict": "判定",
    "format": "格式",
    "rows": "條數",
    "state": "賬號狀態",
    "muted_until": "禁言至",
    "penalty": "扣信用分",
    "sanction": "措施編號",
    "reports": "舉報編號",
    "reports_closed": "隨之關閉的舉報",  # an author deleted a reported comment (comments.delete_own)
    "credit_score": "信用分",
    "inherited_from": "承接自賬號",
    "categories": "類別",
    "nickname": "暱稱",
    "phone": "手機號",
    "role": "角色",
    "terms_version": "協議版本",
    "message": "提示",
    "region": "地區",
    "ip_prefix": "網段",
    "user_id": "用戶編號",
    "term": "詞語",
    "filters": "篩選",
    "up_to_id": "截至記錄",
    "skeleton": "比對文字",
    "user_agent": "瀏覽器",
    "reply_to": "回覆",
    "patrol_hit_at": "巡查命中",
    "parent_id": "所屬評論",
    "version": "版本",
    "title": "標題",
    "slug": "網址代號",
    "path": "文件",
    "kind": "類型",
    "size": "大小",
    "caption": "說明",
    "body_md": "內容",
    "body_html": "正文（HTML）",
    "lifted": "解除措施編號",
    "sections": "負責欄目",
    "pii": "可查看實名信息",
    "held": "保存在案",
    "held_by": "保存人編號",
    "since": "保存自",
    "raw": "原始內容",  # a record whose JSON could not be read
    "value": "內容",
    "article": "文章",
    "flags": "標記",
    "name": "名稱",
    "position": "排序",
    "description": "簡介",
    "layout": "版式",
    "pre_review": "評論先審後發",  # in sections' records saved before the box went (it did nothing)
    "comments_closed": "關閉評論",
    "auto_close_days": "自動關閉評論天數",
    "section_id": "欄目",
    "source": "來源",
    "published_at": "發布時間",
    "reporters": "記者",
    "editor": "編輯",
    "editor_note": "編者按",
    "summary": "摘要",
    "comments_state": "評論",
    "cover_id": "封面圖片",
    "player_id": "播放的視頻或音頻",
    "related_ids": "相關推薦",
    "in_footer": "顯示在頁尾",
    "credit": "署名",
    "action": "處理方式",
    "pinyin": "同時匹配拼音",
    "added": "新增",
    "changed": "修改",
    "unchanged": "未變",
}
# Keys that mean something else on some targets: a section's parent is a section, an article's
# state is whether it is published, not an account's.
TARGET_KEY_LABELS: dict[str, dict[str, str]] = {
    "section": {"parent_id": "上級欄目", "hidden": "隱藏欄目"},
    "article": {"state": "狀態", "kind": "類型"},
}
STATUS_LABELS = {
    "pending": "待審",
    "approved": "已通過",
    "rejected": "未通過",
    "hidden": "已隱藏",
    "deleted": "已刪除",
}
RULING_LABELS = {
    ReportStatus.OPEN: "待處理",
    ReportStatus.UPHELD: "舉報成立",
    ReportStatus.NOT_UPHELD: "舉報不成立",
    ReportStatus.MALICIOUS: "惡意舉報",
    ReportStatus.WITHDRAWN: "作者已刪除",
}


# Codes some values are stored as, in the words the rest of the desk uses.
MEASURE_LABELS = {
    "warning": "警示提醒",
    "restriction": "限制賬號功能",
    "mute": "禁言",
    "close": "關閉賬號",
    "blacklist": "關閉賬號並禁止重新註冊",
}
# A verdict of the word filter and a word-list entry's action share their words.
FILTER_ACTION_LABELS = {"block": "拒絕", "review": "送審", "allow": "放行", "pass": "通過"}
VALUE_LABELS: dict[str, dict[str, str]] = {
    "flags": FLAG_LABELS,
    "state": {"active": "正常", "restricted": "功能受限", "closed": "已關閉"},
    "role": ROLE_LABELS,
    "measure": MEASURE_LABELS,
    "verdict": FILTER_ACTION_LABELS,
    "word_action": FILTER_ACTION_LABELS,
    "ruling": RULING_LABELS,
    "reason": REASON_TEXT,
    "edit": {"pending": "待審核", "approved": "已通過", "rejected": "未通過", "withdrawn": "已撤回"},
}
# The codes of a key on one target, where they differ from VALUE_LABELS.
TARGET_VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "section": {"layout": SECTION_LAYOUT_LABELS},
    "article": {
        "state": ARTICLE_STATE_LABELS,
        "kind": ARTICLE_KIND_LABELS,
        "comments_state": COMMENTS_STATE_LABELS,
    },
    "media": {"kind": MEDIA_KIND_LABELS},
    "sensitive_word": {"action": FILTER_ACTION_LABELS},
}
TIME_KEYS = {"until", "muted_until", "patrol_hit_at", "published_at"}
# Keys whose values are a section's id, by target: shown by the section's name (section_names).
SECTION_KEYS: dict[str, frozenset[str]] = {
    "section": frozenset({"parent_id"}),
    "article": frozenset({"section_id"}),
}


def section_ids_in(records: Sequence[ModerationAction]) -> set[int]:
    """The ids of the sections the records' before and after name (SECTION_KEYS)."""
    found: set[int] = set()
    for record in records:
        keys = SECTION_KEYS.get(record.target_type)
        if not keys:
            continue
        for values in (_load(record.before), _load(record.after)):
            found.update(
                v for k, v in values.items() if k in keys and isinstance(v, int) and not isinstance(v, bool)
            )
    return found


def section_label(section_id: int, names: Mapping[int, str]) -> str:
    """A section as the record shows it: its name today, or its number if it is gone."""
    name = names.get(section_id)
    return name if name is not None else f"#{section_id}（已刪除）"


def code_label(value: object, kind: str) -> str:
    """A stored code (a status, state, role, measure, tier, action, target…) in words."""
    code = str(value)
    if kind == "status":
        return STATUS_LABELS.get(code, code)
    if kind == "action":
        return action_label(code)
    if kind == "target":
        return TARGET_LABELS.get(code, code)
    if kind == "tier":
        return TIER_LABELS.get(code, code)
    return VALUE_LABELS.get(kind, {}).get(code, code)


def action_label(code: str) -> str:
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    for prefix, label in ACTION_FAMILIES.items():
        if code.startswith(prefix):
            return f"{label}（{code}）"
    return code


def reason_label(code: str) -> str:
    return REASON_TEXT.get(code) or code


def retention_days(site_settings: Mapping[str, str]) -> int:
    """The retention setting, never under the legal minimum; a bad stored value means the default."""
    try:
        days = int(site_settings.get("retention_days", RETENTION_DEFAULT_DAYS))
    except (TypeError, ValueError):
        days = RETENTION_DEFAULT_DAYS
    return max(days, RETENTION_MIN_DAYS)


# --- times -----------------------------------------------------------------------------------------


def to_local(value: datetime, zone: tzinfo) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(zone)


def to_utc(value: datetime) -> datetime:
    """An aware time as the naive UTC the columns hold."""
    return value.astimezone(UTC).replace(tzinfo=None)


def day_start(day: date, zone: tzinfo) -> datetime:
    """Local midnight of a day, as naive UTC."""
    return to_utc(datetime.combine(day, time(), tzinfo=zone))


# --- the log: filters and keyset pages ------------------------------------------------------------


def _text(args: Mapping[str, str], name: str, limit: int) -> str:
    value = args.get(name) or ""
    return value.strip()[:limit] if isinstance(value, str) else ""


# The days a filter accepts: any wider and a local midnight would fall outside what datetime holds.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
# YYYY-MM-DD; a date input also sends years of five or six digits (Chromium goes up to 275760).
DAY_SHAPE = re.compile(r"([0-9]{4,6})-([0-9]{2})-([0-9]{2})")
DAY_LABELS = {"since": "從", "until": "到"}


@dataclass(frozen=True)
class DayRange:
    """A 從–到 filter of local days, both ends included. A day that is not one, is out of range, or
    makes the range run backwards is not applied, and `errors` says why, by the field's name."""

    since: date | None = None
    until: date | None = None
    errors: Mapping[str, str] = field(default_factory=dict)


def _day(raw: str) -> date | str | None:
    """The day typed, None for nothing typed, or what is wrong with it."""
    if not raw:
        return None
    shape = DAY_SHAPE.fullmatch(raw)
    if shape is None:
        return "invalid"
    year, month, day = (int(part) for part in shape.groups())
    try:
        date(2000, month, day)  # a leap year: the month and day alone
        typed = date(year, month, day) if 1 <= year <= 9999 else None
    except ValueError:
        return "invalid"
    return typed if typed is not None and FIRST_DAY <= typed <= LAST_DAY else "out_of_range"


def day_range(args: Mapping[str, str], since: str, until: str) -> DayRange:
    """The 從 (`since`) and 到 (`until`) query arguments as a range, with a message beside each field
    whose value cannot be applied: what was typed is quoted, so it is not lost."""
    days, errors = {}, {}
    for end, name in (("since", since), ("until", until)):
        raw = _text(args, name, 40)
        found = _day(raw)
        if isinstance(found, str):
            label, shown = DAY_LABELS[end], raw[:20] + ("…" if len(raw) > 20 else "")
            errors[name] = (
                f"「{label}」的日期「{shown}」無效，請按「年-月-日」填寫，例如 2026-01-31；此條件未套用"
                if found == "invalid"
                else f"「{label}」的日期「{shown}」超出範圍，應在 {FIRST_DAY} 至 {LAST_DAY} 之間；此條件未套用"
            )
        else:
            days[end] = found
    first, last = days.get("since"), days.get("until")
    if first and last and first > last:
        errors[until] = f"「從」的日期（{first}）晚於「到」的日期（{last}），請修改；日期條件未套用"
        first = last = None
    return DayRange(since=first, until=last, errors=errors)


def parse_id(raw: str) -> int | None:
    """An id typed into a filter: digits that fit a 64-bit column, or no filter."""
    raw = raw.strip() if isinstance(raw, str) else ""
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


@dataclass(frozen=True)
class LogFilters:
    """The log's filters, parsed from query arguments or an export form's hidden fields.
    Bad values are dropped (never a 500); dates are local days, both ends included, and a date
    that cannot be applied leaves its message in `errors` for the form."""

    actor: str = ""  # a nickname, an id, or 系統
    action: str = ""  # a code, or a family such as "emergency.*"
    target_type: str = ""
    target_id: int | None = None
    since: date | None = None
    until: date | None = None
    reason: str = ""
    errors: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> LogFilters:
        days = day_range(args, "from", "to")
        return cls(
            actor=_text(args, "actor", 32),
            action=_text(args, "action", 48),
            target_type=_text(args, "target_type", 24),
            target_id=parse_id(_text(args, "target_id", 18)),
            since=days.since,
            until=days.until,
            reason=_text(args, "reason", 16),
            errors=days.errors,
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (links, hidden fields); empty ones left out."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": str(self.target_id) if self.target_id is not None else "",
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "reason": self.reason,
        }
        return {name: value for name, value in values.items() if value}

    def describe(self) -> str:
        """In words, for the note of an export."""
        parts = []
        if self.actor:
            parts.append(f"操作者={self.actor}")
        if self.action:
            parts.append(f"操作={self.action}")
        if self.target_type or self.target_id is not None:
            parts.append(
                f"對象={self.target_type or '*'}#{self.target_id if self.target_id is not None else '*'}"
            )
        if self.since or self.until:
            parts.append(f"日期={self.since or '…'}至{self.until or '…'}")
        if self.reason:
            parts.append(f"理由={self.reason}")
        return "；".join(parts) or "全部記錄"

    def conditions(self, zone: tzinfo) -> list:
        found: list = []
        if self.actor:
            if self.actor in ("系統", "system"):
                found.append(ModerationAction.actor_id.is_(None))
            else:
                named = ModerationAction.actor_id.in_(select(User.id).where(User.nickname == self.actor))
                number = parse_id(self.actor)
                found.append(or_(named, ModerationAction.actor_id == number) if number is not None else named)
        if self.action.endswith(".*"):
            found.append(ModerationAction.action.startswith(self.action[:-1], autoescape=True))
        elif self.action:
            found.append(ModerationAction.action == self.action)
        if self.target_type:
            found.append(ModerationAction.target_type == self.target_type)
        if self.target_id is not None:
            found.append(ModerationAction.target_id == self.target_id)
        if self.since:
            found.append(ModerationAction.created_at >= day_start(self.since, zone))
        if self.until:
            found.append(ModerationAction.created_at < day_start(self.until + timedelta(days=1), zone))
        if self.reason:
            found.append(ModerationAction.reason_code == self.reason)
        return found


def _load(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"raw": raw}
    return value if isinstance(value, dict) else {"value": value}


def _short(key: str, value: Any, zone: tzinfo, labels: Mapping[str, str] | None, limit: int = 40) -> str:
    if value is None:
        text = "∅"
    elif isinstance(value, bool):
        text = "是" if value else "否"
    elif key == "status" and isinstance(value, str):
        text = STATUS_LABELS.get(value, value)
    elif labels is not None and isinstance(value, str):
        text = labels.get(value, value)
    elif labels is not None and isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "、".join(labels.get(v, v) for v in value) or "無"
    elif key in TIME_KEYS and isinstance(value, str):
        text = _local_minute(value, zone)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local_minute(stored: str, zone: tzinfo) -> str:
    """A stored UTC time as the site's local minute; anything unreadable as it was stored."""
    try:
        return to_local(datetime.fromisoformat(stored).replace(tzinfo=None), zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stored


_MISSING = object()


def compact_changes(
    before: str,
    after: str,
    limit: int = 160,
    *,
    zone: tzinfo = UTC,
    target_type: str = "",
    section_names: Mapping[int, str] | None = None,
) -> str:
    """Before → after in one line: only what differs, keys and codes in words (as the record's
    target means them), sections by name (`section_names`, read once for a page), times local,
    long values cut."""
    old_values, new_values = _load(before), _load(after)
    if section_names is not None:
        for values in (old_values, new_values):
            for key in SECTION_KEYS.get(target_type, ()):
                value = values.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    values[key] = section_label(value, section_names)
    key_labels = {**KEY_LABELS, **TARGET_KEY_LABELS.get(target_type, {})}
    value_labels = {**VALUE_LABELS, **TARGET_VALUE_LABELS.get(target_type, {})}
    parts = []
    for key in dict.fromkeys([*old_values, *new_values]):
        old, new = old_values.get(key, _MISSING), new_values.get(key, _MISSING)
        if old == new:
            continue
        name, labels = key_labels.get(key, key), value_labels.get(key)
        if old is _MISSING:
            parts.append(f"{name}：{_short(key, new, zone, labels)}")
        elif new is _MISSING:
            parts.append(f"{name}：{_short(key, old, zone, labels)} → ∅")
        else:
            parts.append(f"{name}：{_short(key, old, zone, labels)} → {_short(key, new, zone, labels)}")
    text = "；".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class LogEntry:
    """One record as the log shows and exports it."""

    record: ModerationAction
    actor_nickname: str = ""
    held: bool = False
    zone: tzinfo = UTC
    section_names: Mapping[int, str] | None = None
    # A bulk hide read within a Reach: the comments it hid in the reach's sections (hidden_within),
    # shown instead of the whole list its JSON holds. None: the record as stored.
    hidden_within: list[int] | None = None
    # The viewer lacks `pii`: a submission refused for a phone, an ID or a card number shows the
    # number masked (PLEDGE_RULES §5.4). The record itself keeps the text as typed.
    mask_numbers: bool = False

    @property
    def after(self) -> str:
        """The record's after JSON as the viewer may read it."""
        record = self.record
        masked = (
            self.mask_numbers
            and record.action == "comment.rejected"
            and record.reason_code in NUMBER_REFUSALS
        )
        if self.hidden_within is None and not masked:
            return record.after
        values = _load(record.after)
        if self.hidden_within is not None:
            values.pop("hidden", None)
            values["hidden_in_reach"] = self.hidden_within
        if masked and isinstance(values.get("body"), str):
            values["body"] = mask_personal_numbers(values["body"])
        return json.dumps(values, ensure_ascii=False)

    @property
    def action_label(self) -> str:
        return action_label(self.record.action)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.record.actor_role, self.record.actor_role)

    @property
    def actor_label(self) -> str:
        if self.record.actor_id is None:
            return "系統"
        return self.actor_nickname or f"用戶#{self.record.actor_id}"

    @property
    def target_label(self) -> str:
        record = self.record
        kind = TARGET_LABELS.get(record.target_type, record.target_type)
        if record.target_id is None:
            return kind
        return f"{kind} #{record.target_id}"

    @property
    def reason_label(self) -> str:
        return reason_label(self.record.reason_code) if self.record.reason_code else ""

    @property
    def changes(self) -> str:
        record = self.record
        return compact_changes(
            record.before,
            self.after,
            zone=self.zone,
            target_type=record.target_type,
            section_names=self.section_names,
        )

    def exported(self, zone: tzinfo) -> dict[str, Any]:
        """The record for CSV and JSON: every column, the labels beside the codes."""
        record = self.record
        return {
            "id": record.id,
            "created_at": record.created_at.isoformat(timespec="seconds") + "Z",
            "local_time": to_local(record.created_at, zone).strftime("%Y-%m-%d %H:%M:%S"),
            "actor_id": record.actor_id,
            "actor": self.actor_label,
            "actor_role": record.actor_role,
            "actor_role_label": self.role_label,
            "action": record.action,
            "action_label": self.action_label,
            "target_type": record.target_type,
            "target_type_label": TARGET_LABELS.get(record.target_type, record.target_type),
            "target_id": record.target_id,
            "reason_code": record.reason_code,
            "reason_label": self.reason_label,
            "note": record.note,
            "before": _load(record.before),
            "after": _load(self.after),
            "ip": record.ip,
            "held": self.held,
        }


def _entries(
    session: Session,
    rows: Sequence[ModerationAction],
    zone: tzinfo,
    reach: Reach | None = None,
    mask_numbers: bool = False,
) -> list[LogEntry]:
    actor_ids = {row.actor_id for row in rows if row.actor_id is not None}
    nicknames = (
        dict(session.execute(select(User.id, User.nickname).where(User.id.in_(actor_ids))).all())
        if actor_ids
        else {}
    )
    held = held_ids(session, [row.id for row in rows])
    section_ids = section_ids_in(rows)
    names = (  # one query for the page, not one per row
        dict(session.execute(select(Section.id, Section.name).where(Section.id.in_(section_ids))).all())
        if section_ids
        else {}
    )
    hides = {row.id for row in rows if row.action == BULK_HIDE} if reach is not None else set()
    within = hidden_within(session, hides, reach)
    return [
        LogEntry(
            row,
            nicknames.get(row.actor_id, ""),
            row.id in held,
            zone,
            names,
            within.get(row.id, []) if row.id in hides else None,
            mask_numbers,
        )
        for row in rows
    ]


CLOSURES = ("emergency.close", "emergency.reopen")
BULK_HIDE = "emergency.bulk_hide"
EMERGENCY_ACTIONS = (*CLOSURES, BULK_HIDE, "emergency.undo")
RECENT_EMERGENCIES = 20


@dataclass(frozen=True)
class Reach:
    """The part of the record a section-scoped moderator may read: `viewer_id` is theirs,
    `sections` their sections with every sub-section. None instead of a Reach: the whole record
    (admins, moderators without a section limit)."""

    viewer_id: int
    sections: frozenset[int]


def articles_in(sections: frozenset[int] | set[int]) -> Select:
    """The ids of the articles of `sections`, as a subquery."""
    return select(Article.id).where(Article.section_id.in_(sorted(sections)))


def comments_in(sections: frozenset[int] | set[int]) -> Select:
    """The ids of the comments on the articles of `sections`, as a subquery."""
    return select(Comment.id).where(Comment.article_id.in_(articles_in(sections)))


def hides_in(sections: frozenset[int] | set[int]) -> Select:
    """The ids of the bulk hides that hid a comment on an article of `sections`, as a subquery
    (ix_bulk_hide_comment_article)."""
    return select(BulkHideComment.action_id).where(BulkHideComment.article_id.in_(articles_in(sections)))


def hidden_within(session: Session, action_ids: Collection[int], reach: Reach | None) -> dict[int, list[int]]:
    """The comments each bulk hide of `action_ids` hid, by id, those on articles of the reach's
    sections only: all a scoped moderator may learn of an act that may have reached other sections.
    An act that hid nothing within reach is left out."""
    if not action_ids:
        return {}
    query = select(BulkHideComment.action_id, BulkHideComment.comment_id).where(
        BulkHideComment.action_id.in_(sorted(set(action_ids)))
    )
    if reach is not None:
        query = query.where(BulkHideComment.article_id.in_(articles_in(reach.sections)))
    found: dict[int, list[int]] = {}
    for action_id, comment_id in session.execute(
        query.order_by(BulkHideComment.action_id, BulkHideComment.comment_id)
    ):
        found.setdefault(action_id, []).append(comment_id)
    return found


def reach_of(viewer: User, scope: set[int] | None) -> Reach | None:
    """`scope` as moderation.scope_section_ids gives it (None: every section)."""
    return None if scope is None else Reach(viewer.id, frozenset(scope))


def in_reach(reach: Reach):
    """The rule, as one SQL condition on moderation_action (so pages and exports stay keyset reads).

    A scoped moderator reads a record when they made it, or when it is about a comment on an
    article of their sections and is not a back-office (`admin.*`) act. "About a comment" follows
    how records point at comments:
    - target_type "comment", target_id the comment: submissions, edits, decisions, reports filed
      and ruled (report.created/report.resolved name the comment, not the report), patrol hits;
    - target_type "appeal", target_id an Appeal whose target_type is "comment" and whose
      target_id is such a comment (appeal.created/appeal.resolved); appeals against measures are
      account-wide and stay out, as they do in the scoped appeals queue;
    - comment.rejected, the rules refusing a submission: it has no comment row, so it names the
      article (target_type "article"), which must be in the sections;
    - 應急處置 closing or reopening comments (emergency.close/emergency.reopen) on an article of
      their sections, on one of their sections, or on the whole site (which closes theirs too);
    - 應急處置 bulk hides (emergency.bulk_hide) that hid a comment on an article of their sections,
      by the act's bulk_hide_comment rows; what such a record shows them is their sections' part
      only (hidden_within, LogEntry).
    Everything else by someone else is left out: other sections' comments, closures and articles,
    measures and other account events (target "user"), undos, holds and exports
    ("moderation_action"), and every admin.* act."""
    articles = articles_in(reach.sections)
    comments = comments_in(reach.sections)
    appeals = select(Appeal.id).where(Appeal.target_type == "comment", Appeal.target_id.in_(comments))
    about = or_(
        and_(ModerationAction.target_type == "comment", ModerationAction.target_id.in_(comments)),
        and_(ModerationAction.target_type == "appeal", ModerationAction.target_id.in_(appeals)),
        and_(
            ModerationAction.action == "comment.rejected",
            ModerationAction.target_type == "article",
            ModerationAction.target_id.in_(articles),
        ),
        and_(
            ModerationAction.action.in_(CLOSURES),
            or_(
                and_(ModerationAction.target_type == "article", ModerationAction.target_id.in_(articles)),
                and_(
                    ModerationAction.target_type == "section",
                    ModerationAction.target_id.in_(sorted(reach.sections)),
                ),
                ModerationAction.target_type == "site",
            ),
        ),
        and_(ModerationAction.action == BULK_HIDE, ModerationAction.id.in_(hides_in(reach.sections))),
    )
    return or_(
        ModerationAction.actor_id == reach.viewer_id,
        and_(~ModerationAction.action.startswith("admin.", autoescape=True), about),
    )


def within_reach(session: Session, record: ModerationAction, reach: Reach | None) -> bool:
    if reach is None:
        return True
    query = select(ModerationAction.id).where(ModerationAction.id == record.id, in_reach(reach))
    return session.scalar(query) is not None


def recent_emergencies(
    session: Session, *, reach: Reach | None, limit: int = RECENT_EMERGENCIES
) -> tuple[list[ModerationAction], set[int]]:
    """The latest 應急處置 within `reach`, newest first, and which of their bulk hides have been
    undone (by anyone: an admin's undo of a scoped moderator's own bulk hide is out of their
    reach, but the hide is no longer to be undone)."""
    query = select(ModerationAction).where(ModerationAction.action.in_(EMERGENCY_ACTIONS))
    if reach is not None:
        query = query.where(in_reach(reach))
    recent = list(session.scalars(query.order_by(ModerationAction.id.desc()).limit(limit)))
    hides = [action.id for action in recent if action.action == BULK_HIDE]
    undone = (
        set(
            session.scalars(
                select(ModerationAction.target_id).where(
                    ModerationAction.target_type == "moderation_action",
                    ModerationAction.target_id.in_(hides),
                    ModerationAction.action == "emergency.undo",
                )
            )
        )
        if hides
        else set()
    )
    return recent, undone


def may_undo(record: ModerationAction, reach: Reach | None) -> bool:
    """Who may undo a bulk hide: whoever reads the whole record, and a scoped moderator their own
    only. Someone else's may have hidden comments beyond their sections, and an undo is of the
    whole act: a scoped undo would restore their part and leave the rest hidden for good."""
    return reach is None or record.actor_id == reach.viewer_id


HIDDEN_LISTED = 10


@dataclass(frozen=True)
class HiddenPart:
    """What a bulk hide hid, as a viewer may read it: how many, and the first few by id."""

    count: int
    comments: list[Comment]


def hidden_parts(
    session: Session, actions: Sequence[ModerationAction], *, reach: Reach | None, listed: int = HIDDEN_LISTED
) -> dict[int, HiddenPart]:
    """For each bulk hide of `actions`: the comments it hid within `reach` (every one without)."""
    within = hidden_within(session, [a.id for a in actions if a.action == BULK_HIDE], reach)
    shown = [comment_id for ids in within.values() for comment_id in ids[:listed]]
    comments = (
        {
            c.id: c
            for c in session.scalars(
                select(Comment).where(Comment.id.in_(shown)).options(selectinload(Comment.article))
            )
        }
        if shown
        else {}
    )
    return {
        action.id: HiddenPart(
            len(within.get(action.id, [])),
            [comments[i] for i in within.get(action.id, [])[:listed] if i in comments],
        )
        for action in actions
        if action.action == BULK_HIDE
    }


def _log_query(filters: LogFilters, zone: tzinfo, up_to_id: int | None, reach: Reach | None) -> Select:
    query = select(ModerationAction).where(*filters.conditions(zone))
    if reach is not None:
        query = query.where(in_reach(reach))
    if up_to_id is not None:
        query = query.where(ModerationAction.id <= up_to_id)
    return query


def log_page(
    session: Session,
    *,
    filters: LogFilters,
    zone: tzinfo,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
    up_to_id: int | None = None,
    reach: Reach | None = None,
    mask_numbers: bool = False,
) -> tuple[list[LogEntry], Cursor | None]:
    """One keyset page of the record (within `reach`), newest first; the cursor is the last
    row's (time, id). `mask_numbers`: the viewer lacks `pii` (LogEntry.mask_numbers)."""
    query = _log_query(filters, zone, up_to_id, reach)
    if cursor is not None:
        query = query.where(
            or_(
                ModerationAction.created_at < cursor.at,
                and_(ModerationAction.created_at == cursor.at, ModerationAction.id < cursor.id),
            )
        )
    query = query.order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc()).limit(size + 1)
    rows = list(session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return _entries(session, rows, zone, reach, mask_numbers), next_cursor


def entry_for(
    session: Session,
    record: ModerationAction,
    *,
    zone: tzinfo,
    reach: Reach | None = None,
    mask_numbers: bool = False,
) -> LogEntry:
    return _entries(session, [record], zone, reach, mask_numbers)[0]


def latest_id(session: Session) -> int:
    return session.scalar(select(func.max(ModerationAction.id))) or 0


def count_rows(
    session: Session,
    *,
    filters: LogFilters,
    zone: tzinfo,
    up_to_id: int | None = None,
    reach: Reach | None = None,
) -> int:
    query = _log_query(filters, zone, up_to_id, reach).with_only_columns(func.count()).order_by(None)
    return session.scalar(query) or 0


def export_rows(
    session: Session,
    *,
    filters: LogFilters,
    zone: tzinfo,
    up_to_id: int,
    chunk: int = EXPORT_CHUNK,
    reach: Reach | None = None,
    mask_numbers: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every filtered record within `reach` up to `up_to_id` (a snapshot), newest first, read
    `chunk` rows at a time with the keyset, so a long record is never loaded at once."""
    cursor: Cursor | None = None
    while True:
        entries, cursor = log_page(
            session,
            filters=filters,
            zone=zone,
            cursor=cursor,
            size=chunk,
            up_to_id=up_to_id,
            reach=reach,
            mask_numbers=mask_numbers,
        )
        for entry in entries:
            yield entry.exported(zone)
        if cursor is None:
            return


def record_export(
    session: Session,
    *,
    moderator: User,
    kind: str,
    filters: LogFilters,
    rows: int,
    up_to_id: int,
    now: datetime,
    ip: str = "",
) -> ModerationAction:
    """An export is itself a logged act: who took which records, with which filter."""
    return audit.record(
        session,
        actor=moderator,
        action="records.exported",
        target_type="moderation_action",
        note=f"導出{kind.upper()}：{filters.describe()}",
        after={"format": kind, "filters": filters.as_args(), "rows": rows, "up_to_id": up_to_id},
        ip=ip,
        now=now,
    )


# --- evidence holds (保存在案) ----------------------------------------------------------------------


def held_ids(session: Session, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(EvidenceHold.action_id).where(EvidenceHold.action_id.in_(ids))))


def hold(
    session: Session,
    *,
    record: ModerationAction,
    moderator: User,
    now: datetime,
    note: str = "",
    ip: str = "",
) -> bool:
    """Keep a record past retention. The record itself never changes: the hold is a row of its own.
    False if it was already held (nothing is written)."""
    if session.get(EvidenceHold, record.id) is not None:
        return False
    session.add(EvidenceHold(action_id=record.id, held_by_id=moderator.id, note=note[:200], created_at=now))
    session.flush()
    audit.record(
        session,
        actor=moderator,
        action="records.hold",
        target_type="moderation_action",
        target_id=record.id,
        note=note,
        after={"held": True},
        ip=ip,
        now=now,
    )
    return True


def release(
    session: Session, *, record: ModerationAction, moderator: User, now: datetime, ip: str = ""
) -> bool:
    """End a hold; the record becomes purgeable again once past retention. False if not held."""
    existing = session.get(EvidenceHold, record.id)
    if existing is None:
        return False
    before = {"held": True, "held_by": existing.held_by_id, "since": existing.created_at}
    session.delete(existing)
    session.flush()
    audit.record(
        session,
        actor=moderator,
        action="records.release",
        target_type="moderation_action",
        target_id=record.id,
        before=before,
        after={"held": False},
        ip=ip,
        now=now,
    )
    return True


# --- the dashboard's aggregates -------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default): q=0.5 is the median."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class DayCounts:
    day: date
    submitted: int = 0  # comments that entered the queue
    approved: int = 0  # moderators' approvals
    rejected: int = 0  # moderators' rejections
    blocked: int = 0  # refused at submission by the rules (comment.rejected)


# The dashboard's numbers for a section-scoped moderator cover their sections only: `sections` is
# their scope (sub-sections included), None every section.
Sections = frozenset[int] | None


def _comments_of(sections: Sections) -> list:
    """Conditions on Comment: on an article of `sections`."""
    return [] if sections is None else [Comment.article_id.in_(articles_in(sections))]


def _records_of(sections: Sections) -> list:
    """Conditions on ModerationAction: about a comment of `sections`, or for comment.rejected
    (which has no comment row) about an article of theirs."""
    if sections is None:
        return []
    return [
        or_(
            and_(
                ModerationAction.target_type == "comment",
                ModerationAction.target_id.in_(comments_in(sections)),
            ),
            and_(
                ModerationAction.action == "comment.rejected",
                ModerationAction.target_type == "article",
                ModerationAction.target_id.in_(articles_in(sections)),
            ),
        )
    ]


def _window_days(now: datetime, zone: tzinfo, days: int) -> tuple[list[date], datetime]:
    today = to_local(now, zone).date()
    first = today - timedelta(days=days - 1)
    return [first + timedelta(days=n) for n in range(days)], day_start(first, zone)


def daily_counts(
    session: Session, *, now: datetime, zone: tzinfo, days: int = 30, sections: Sections = None
) -> list[DayCounts]:
    """Per local day of the last `days` (today included): submitted, approved, rejected, blocked
    (in `sections`)."""
    window, start = _window_days(now, zone, days)
    by_day = {day: DayCounts(day) for day in window}

    def bucket(value: datetime) -> DayCounts | None:
        return by_day.get(to_local(value, zone).date())

    for created in session.scalars(
        select(Comment.created_at)
        .where(Comment.created_at >= start, Comment.created_at <= now, *_comments_of(sections))
        .execution_options(yield_per=5000)
    ):
        if counts := bucket(created):
            counts.submitted += 1
    kinds = {"moderation.approve": "approved", "moderation.reject": "rejected", "comment.rejected": "blocked"}
    for action, created in session.execute(
        select(ModerationAction.action, ModerationAction.created_at)
        .where(
            ModerationAction.action.in_(list(kinds)),
            ModerationAction.created_at >= start,
            ModerationAction.created_at <= now,
            *_records_of(sections),
        )
        .execution_options(yield_per=5000)
    ):
        if counts := bucket(created):
            setattr(counts, kinds[action], getattr(counts, kinds[action]) + 1)
    return [by_day[day] for day in window]


def _queue_interval(row) -> tuple[datetime, datetime | None]:
    """When a comment entered the queue and when it left (None: still waiting)."""
    created, edited, status, decided, deleted, hidden, approved, edit_waiting = row
    if status == CommentStatus.APPROVED and edit_waiting and edited:
        return edited, None  # a published comment's edit, waiting since it was saved
    if status == CommentStatus.PENDING:
        # An edit after a decision sends a comment back to the queue.
        entered = edited if edited and decided and edited > decided else created
        return entered, None
    left = decided or deleted or hidden or approved or created
    return created, max(left, created)


def queue_length(
    session: Session, *, now: datetime, zone: tzinfo, hours: int = 24, sections: Sections = None
) -> list[tuple[datetime, int]]:
    """The number of pending comments (in `sections`) at each full local hour of the last `hours`, and now.
    Reconstructed from the comments' times: in the queue from created_at until decided_at."""
    window_start = now - timedelta(hours=hours)
    first_top = to_local(window_start, zone).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    points = []
    moment = to_utc(first_top)
    while moment < now:
        points.append(moment)
        moment += timedelta(hours=1)
    points.append(now)
    left_at = func.coalesce(
        Comment.decided_at, Comment.deleted_at, Comment.hidden_at, Comment.approved_at, Comment.created_at
    )
    intervals = [
        _queue_interval(row)
        for row in session.execute(
            select(
                Comment.created_at,
                Comment.edited_at,
                Comment.status,
                Comment.decided_at,
                Comment.deleted_at,
                Comment.hidden_at,
                Comment.approved_at,
                Comment.pending_body.is_not(None),
            ).where(
                Comment.created_at <= now,
                or_(
                    Comment.status == CommentStatus.PENDING,
                    and_(Comment.status == CommentStatus.APPROVED, sql_text(PENDING_EDIT)),
                    left_at > window_start,
                ),
                *_comments_of(sections),
            )
        )
    ]
    return [
        (
            to_local(point, zone),
            sum(1 for entered, left in intervals if entered <= point and (left is None or left > point)),
        )
        for point in points
    ]


@dataclass(frozen=True)
class TimeSummary:
    """Seconds from submission to a moderator's first decision."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> TimeSummary:
        if not values:
            return cls()
        return cls(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass
class DecisionTimes:
    overall: TimeSummary = field(default_factory=TimeSummary)
    moderators: list[tuple[int, str, TimeSummary]] = field(default_factory=list)  # id, nickname, summary


FIRST_DECISIONS = ("moderation.approve", "moderation.reject", "moderation.delete")


def _waited_for_review(before: dict[str, Any]) -> bool:
    """A decision on a comment that was in review: a pending comment, or a published one's edit."""
    return before.get("status") == CommentStatus.PENDING or "edit" in before


def decision_times(
    session: Session, *, now: datetime, days: int = 30, sections: Sections = None
) -> DecisionTimes:
    """Submission to decision (what readers wait under 先審後發), over the decisions of the last
    `days` taken on pending comments (of `sections`): median and 90th percentile, overall and per
    moderator."""
    decisions = [
        (actor_id, target_id, decided_at)
        for actor_id, target_id, decided_at, before in session.execute(
            select(
                ModerationAction.actor_id,
                ModerationAction.target_id,
                ModerationAction.created_at,
                ModerationAction.before,
            ).where(
                ModerationAction.action.in_(FIRST_DECISIONS),
                ModerationAction.target_type == "comment",
                ModerationAction.created_at >= now - timedelta(days=days),
                ModerationAction.created_at <= now,
                *_records_of(sections),
            )
        )
        if _waited_for_review(_load(before)) and target_id is not None
    ]
    submitted: dict[int, tuple[datetime, datetime | None]] = {}
    ids = sorted({target_id for _, target_id, _ in decisions})
    for start in range(0, len(ids), 500):
        for comment_id, created, edited in session.execute(
            select(Comment.id, Comment.created_at, Comment.edited_at).where(
                Comment.id.in_(ids[start : start + 500])
            )
        ):
            submitted[comment_id] = (created, edited)
    overall: list[float] = []
    per_moderator: dict[int, list[float]] = {}
    for actor_id, target_id, decided_at in decisions:
        if target_id not in submitted:
            continue
        created, edited = submitted[target_id]
        since = edited if edited and created < edited <= decided_at else created
        seconds = (decided_at - since).total_seconds()
        if seconds < 0:
            continue
        overall.append(seconds)
        if actor_id is not None:
            per_moderator.setdefault(actor_id, []).append(seconds)
    nicknames = (
        dict(session.execute(select(User.id, User.nickname).where(User.id.in_(per_moderator))).all())
        if per_moderator
        else {}
    )
    moderators = sorted(
        (
            (actor_id, nicknames.get(actor_id, f"用戶#{actor_id}"), TimeSummary.of(values))
            for actor_id, values in per_moderator.items()
        ),
        key=lambda item: (-item[2].count, item[1]),
    )
    return DecisionTimes(TimeSummary.of(overall), moderators)


@dataclass
class ReasonCounts:
    code: str
    rejected: int = 0
    hidden: int = 0
    deleted: int = 0

    @property
    def label(self) -> str:
        return reason_label(self.code) if self.code else "（未填理由）"

    @property
    def total(self) -> int:
        return self.rejected + self.hidden + self.deleted


def removals_by_reason(
    session: Session, *, now: datetime, days: int = 30, sections: Sections = None
) -> list[ReasonCounts]:
    """Moderators' rejections (and hides and deletions) of the last `days` (of comments in
    `sections`), by reason code, most first."""
    kinds = {"moderation.reject": "rejected", "moderation.hide": "hidden", "moderation.delete": "deleted"}
    found: dict[str, ReasonCounts] = {}
    for action, code, count in session.execute(
        select(ModerationAction.action, ModerationAction.reason_code, func.count())
        .where(
            ModerationAction.action.in_(list(kinds)),
            ModerationAction.created_at >= now - timedelta(days=days),
            ModerationAction.created_at <= now,
            *_records_of(sections),
        )
        .group_by(ModerationAction.action, ModerationAction.reason_code)
    ):
        counts = found.setdefault(code or "", ReasonCounts(code or ""))
        setattr(counts, kinds[action], getattr(counts, kinds[action]) + count)
    return sorted(found.values(), key=lambda counts: (-counts.total, counts.code))


def reports_by_ruling(
    session: Session, *, now: datetime, days: int = 30, sections: Sections = None
) -> list[tuple[str, str, int]]:
    """Reports filed in the last `days` (on comments of `sections`) by their state: (status, label,
    count), every state listed."""
    scoped = [] if sections is None else [Report.comment_id.in_(comments_in(sections))]
    counts = dict(
        session.execute(
            select(Report.status, func.count())
            .where(Report.created_at >= now - timedelta(days=days), Report.created_at <= now, *scoped)
            .group_by(Report.status)
        ).all()
    )
    return [(str(status), label, counts.get(status, 0)) for status, label in RULING_LABELS.items()]
