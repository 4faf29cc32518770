"""Who is asking: Flask-Login wiring, the client's address, and the login redirect for htmx."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from flask import Response, current_app, flash, g, redirect, request, url_for
from flask_login import LoginManager
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from portal.domain.comments import Origin
from portal.domain.pii import PhoneVault
from portal.domain.region import chosen_database, default_database, network_prefix, region_for
from portal.extensions import db
from portal.fragments import wants_fragment
from portal.models import User
from portal.page_context import settings
from portal.safe_redirect import same_site_path


def phone_vault() -> PhoneVault:
    return PhoneVault.from_secret(current_app.config["PII_KEY"])


def password_hasher() -> PasswordHasher:
    # Tests pass a cheap profile; production uses argon2id's defaults (SECURITY.md §7).
    return current_app.config.get("PASSWORD_HASHER") or PasswordHasher()


def configure(manager: LoginManager) -> None:
    manager.user_loader(load_user)
    manager.unauthorized_handler(unauthorized)


# Built once: every signed-in request runs it.
_USER_BY_TOKEN = select(User).where(User.session_token == bindparam("token"))


def load_user(session_token: str) -> User | None:
    # Read on every request: a closed account or a rotated token ends the session at once.
    try:
        user = db.session.scalar(_USER_BY_TOKEN, {"token": session_token})
    except SQLAlchemyError:  # the database is away: the error page still renders, signed out
        db.session.rollback()
        return None
    return user if user is not None and user.is_active else None


def _answers_get(path: str) -> bool:
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:  # 405, 404, or a redirect to another form of the address
        return False
    return True


def login_url_for_here() -> str:
    """The login page, with `next` the page to come back to. A form posted by a reader whose
    session had ended elsewhere (修改密碼, 退出所有設備) has an address that may answer POST only
    (/accounts/settings/nickname, /comments/N/like): back there after logging in was a 405 page.
    Then the page the form was on (the Referer, same-origin by our policy), else the home page."""
    if request.htmx:
        here = request.htmx.current_url
    elif request.method in ("GET", "HEAD") or _answers_get(request.path):
        here = request.full_path.rstrip("?")
    else:
        here = request.referrer or ""
    if here and "://" in here:
        parts = urlsplit(here)
        here = parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("accounts.login", next=same_site_path(here, "/"))


# Why the login page opened instead of what was asked for (PLEDGE_RULES P1 for a comment).
LOGIN_FIRST = {
    "comments.create": "請先登錄後再發表評論",
    "comments.like": "請先登錄後再點贊",
    "comments.report": "請先登錄後再舉報",
    "comments.report_form": "請先登錄後再舉報",
}
LOGIN_FIRST_OTHERWISE = "請先登錄後再繼續"
# Why a plain link opened the login page (`?reason=`): the anonymous 點贊, and the 登錄 of the comment
# area's prompt (under 回覆 too). Only these keys mean anything; the page never shows text from the URL.
LOGIN_REASONS = {
    "like": LOGIN_FIRST["comments.like"],
    "comment": LOGIN_FIRST["comments.create"],
    "reply": "請先登錄後再回覆評論",
    "report": LOGIN_FIRST["comments.report"],
}


def login_reason() -> str | None:
    """The message for the login page's `reason` argument, if it is one of LOGIN_REASONS."""
    return LOGIN_REASONS.get(request.args.get("reason", "", type=str)[:20])


def unauthorized() -> Response:
    """Anonymous on a protected route: 302 to login, or 401 + HX-Redirect for htmx. The login page
    says why it opened: without it a reader whose session had ended pressed 發表評論 and found
    themselves on a bare login form."""
    target = login_url_for_here()
    flash(LOGIN_FIRST.get(request.endpoint or "", LOGIN_FIRST_OTHERWISE))
    if wants_fragment():
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def client_ip() -> str:
    return request.remote_addr or ""


def client_origin() -> Origin:
    ip = client_ip()
    chosen = settings().get("region_database") or ""
    database = (
        (chosen and chosen_database(Path(current_app.config["REGION_DATABASES_FOLDER"]), chosen))
        or current_app.config["REGION_DATABASE"]
        or default_database()
    )
    return Origin(
        ip=ip,
        ip_prefix=network_prefix(ip),
        region=region_for(ip, database),
        user_agent=request.user_agent.string or "",
    )


def keep_domain_retry_after(response: Response) -> Response:
    """A refusal's own wait (15 s between posts, a quota until midnight) is what the client is told."""
    if (seconds := g.get("retry_after")) is not None:
        response.headers["Retry-After"] = str(seconds)
    return response
