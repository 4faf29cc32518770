"""What every page shares: settings, the section bar, the footer, local times, 繁/简."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from portal import flashes
from portal.domain import news, notifications, site
from portal.domain.pagination import Cursor
from portal.domain.script import Script, to_simplified_page
from portal.extensions import db

SCRIPT_COOKIE = "script"
CONVERTIBLE = {"text/html", "application/atom+xml", "application/xml"}


def current_script() -> Script:
    return Script.parse(request.cookies.get(SCRIPT_COOKIE))


def section_tree() -> news.SectionTree:
    if "section_tree" not in g:
        g.section_tree = news.load_section_tree(db.session)
    return g.section_tree


def settings() -> dict[str, str]:
    if "site_settings" not in g:
        try:
            g.site_settings = site.load_settings(db.session)
        except SQLAlchemyError:  # an error page must still render while the database is away
            db.session.rollback()
            g.site_settings = dict(site.DEFAULTS)
    return g.site_settings


def _safe(load, fallback):
    try:
        return load()
    except SQLAlchemyError:
        db.session.rollback()
        return fallback


def cleaned_html(value: str) -> Markup:
    """Marks HTML as safe only because portal.domain.sanitize produced it when it was saved."""
    return Markup(value)


def template_globals() -> dict[str, Any]:
    return {
        "site": settings,
        "nav_sections": lambda: _safe(lambda: section_tree().top_level, []),
        "footer_pages": lambda: _safe(lambda: site.footer_pages(db.session), []),
        "script": current_script(),
        "unread_count": unread_count,
        "cursor_of": lambda item: Cursor(item.created_at, item.id).encode(),
        "flashed": flashes.flashed,
    }


def unread_count() -> int:
    from flask_login import current_user

    if not current_user.is_authenticated:
        return 0
    return _safe(lambda: notifications.unread_count(db.session, current_user.id), 0)


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) time as a naive time in the site's zone."""
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone()).replace(tzinfo=None)


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time in the site's zone, formatted as the seed page does."""
    if value is None:
        return ""
    return to_local(value).strftime(fmt)


def redirect_in_chinese(response: Response) -> Response:
    """A redirect's page (shown by whatever does not follow it) in Chinese: Werkzeug's says
    「Redirecting... You should be redirected automatically to the target URL」."""
    if 300 <= response.status_code < 400 and response.location and response.mimetype == "text/html":
        target = escape(response.location)
        response.set_data(
            f'<!doctype html>\n<html lang="zh-Hant">\n<title>正在跳轉</title>\n'
            f'<p>正在跳轉到 <a href="{target}">{target}</a></p>\n'
        )
    return response


def convert_script(response: Response) -> Response:
    """简体 readers get the whole page, content and interface, converted by OpenCC."""
    response.vary.add("Cookie")
    if (
        not g.get("served_from_cache")  # stored already converted
        and current_script() is Script.HANS
        and response.mimetype in CONVERTIBLE
        and not response.direct_passthrough
        and not response.is_streamed
    ):
        response.set_data(to_simplified_page(response.get_data(as_text=True)))
    return response
