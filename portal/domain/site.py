"""Site settings: stored as rows, with these defaults when a row is missing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.comments import CommentRules
from portal.domain.pledge import DEFAULT_TLD_LIST, DEFAULT_TLDS, parse_tlds
from portal.models import Page, SiteSetting

DEFAULTS: dict[str, str] = {
    "site_name": "聊城新聞網",
    "site_description": "聊城市新聞傳媒中心主辦的城市新聞門戶，報道聊城及山東要聞、縣域動態與民生熱線。",
    "footer_copyright": "聊城新聞網 2006-2023 版權所有 聊城市新聞傳媒中心/聊城市政府新聞辦公室 聯合主辦",
    "footer_licences": "",  # one line per licence or 備案 number
    "report_phone": "",
    "report_email": "",
    "wordlist_version": "0",  # bumped on every change of the word list
    "comment_min_length": "2",
    "comment_max_length": "500",  # at most 2,000 (SECURITY.md §9)
    "comment_cooldown_seconds": "15",
    "comment_ip_hourly": "30",
    "quota_new": "5",
    "quota_normal": "20",
    "quota_good": "50",
    "quota_restricted": "3",
    "comment_edit_minutes": "5",
    "report_hide_threshold": "3",
    "comments_closed_site": "0",  # 應急處置: "1" closes comments on the whole site
    "retention_days": "190",  # P28: never under 184
    "url_tlds": " ".join(DEFAULT_TLD_LIST),  # P17: a bare domain ends in one of these
}
# Each setting in the words of the settings form, which the record (P28) uses too.
SETTING_LABELS: dict[str, str] = {
    "site_name": "網站名稱",
    "site_description": "網站簡介",
    "footer_copyright": "版權行",
    "footer_licences": "許可證與備案號（每行一條）",
    "report_phone": "舉報電話",
    "report_email": "舉報郵箱",
    "wordlist_version": "詞庫版本",
    "comment_min_length": "評論最少字數",
    "comment_max_length": "評論最多字數",
    "comment_cooldown_seconds": "兩次評論最短間隔（秒）",
    "comment_ip_hourly": "每個IP每小時評論上限",
    "quota_new": "新用戶每日評論上限",
    "quota_normal": "普通用戶每日評論上限",
    "quota_good": "良好用戶每日評論上限",
    "quota_restricted": "受限用戶每日評論上限",
    "comment_edit_minutes": "可編輯評論的時間（分鐘）",
    "report_hide_threshold": "幾位讀者舉報後暫時隱藏",
    "comments_closed_site": "全站關閉評論",
    "retention_days": "記錄保存天數（不少於184天）",
    "region_database": "IP屬地數據庫路徑（留空使用內建 GeoLite2）",
    "sms_sender": "短信發送方式",
    "url_tlds": "判定為網址的頂級域名（P17，空格分隔）",
}
COMMENT_MAX_CEILING = 2000
_SETTINGS = select(SiteSetting.key, SiteSetting.value)


def load_settings(session: Session) -> dict[str, str]:
    # Plain rows on the session's connection, not the ORM's execution (a third of the cost):
    # every request reads these, and nothing here changes them.
    stored = dict(session.connection().execute(_SETTINGS).all())
    return {**DEFAULTS, **stored}


def _int(settings: dict[str, str], key: str) -> int:
    try:
        return int(settings.get(key, DEFAULTS[key]))
    except ValueError:
        return int(DEFAULTS[key])


def comment_rules(settings: dict[str, str]) -> CommentRules:
    """The comment settings as the domain takes them; a bad stored value falls back."""
    return CommentRules(
        min_length=max(1, _int(settings, "comment_min_length")),
        max_length=min(COMMENT_MAX_CEILING, _int(settings, "comment_max_length")),
        cooldown_seconds=_int(settings, "comment_cooldown_seconds"),
        ip_hourly=_int(settings, "comment_ip_hourly"),
        quotas={tier: _int(settings, f"quota_{tier}") for tier in ("new", "normal", "good", "restricted")},
        edit_minutes=_int(settings, "comment_edit_minutes"),
        report_hide_threshold=_int(settings, "report_hide_threshold"),
        tlds=parse_tlds(settings.get("url_tlds", DEFAULTS["url_tlds"])) or DEFAULT_TLDS,
    )


def footer_pages(session: Session) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.in_footer).order_by(Page.position, Page.id)))
