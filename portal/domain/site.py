"""Site settings: stored as rows, with these defaults when a row is missing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Page, SiteSetting

DEFAULTS: dict[str, str] = {
    "site_name": "聊城新聞網",
    "site_description": "聊城市新聞傳媒中心主辦的城市新聞門戶，報道聊城及山東要聞、縣域動態與民生熱線。",
    "footer_copyright": "聊城新聞網 2006-2023 版權所有 聊城市新聞傳媒中心/聊城市政府新聞辦公室 聯合主辦",
    "footer_licences": "",  # one line per licence or 備案 number
    "report_phone": "",
    "report_email": "",
}


def load_settings(session: Session) -> dict[str, str]:
    stored = {row.key: row.value for row in session.scalars(select(SiteSetting))}
    return {**DEFAULTS, **stored}


def footer_pages(session: Session) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.in_footer).order_by(Page.position, Page.id)))
