"""What the 網友評論 region needs, for the article page and for each of its fragments."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import current_app, request
from flask_login import current_user

from portal import page_cache
from portal.comments.forms import CommentForm
from portal.domain import comments
from portal.domain.pagination import Cursor
from portal.domain.records import parse_id
from portal.domain.site import comment_rules
from portal.extensions import db
from portal.flashes import COMMENT_STATUS, comment_landings, comment_region
from portal.models import Article, Comment, CommentsState, utc_now
from portal.page_context import settings, to_local, zone


def rules() -> comments.CommentRules:
    return comment_rules(settings())


def local_day_start(now: datetime) -> datetime:
    """Midnight of the site's day, in UTC: quotas are per calendar day (P25)."""
    start = datetime.combine(to_local(now).date(), time.min, tzinfo=zone())
    return start.astimezone(UTC).replace(tzinfo=None)


def viewer():
    return current_user if current_user.is_authenticated else None


def site_closed() -> bool:
    return settings().get("comments_closed_site") == "1"


def closed_to_comments(article: Article) -> bool:
    return comments.closed_to_comments(article, now=utc_now(), site_closed=site_closed())


def posting_state(article: Article) -> str:
    """What the form area shows: the form, or why there is none."""
    now = utc_now()
    if comments.comments_closed(article, now=now, site_closed=site_closed()):
        return "closed"
    if (closes := comments.closes_at(article)) is not None:
        page_cache.valid_until(closes)  # the form gives way to 評論已關閉 then, with no write
    user = viewer()
    if user is None:
        return "anonymous"
    if user.phone_verified_at is None:
        return "unverified"
    if user.muted_until is not None and user.muted_until > now:
        page_cache.valid_until(user.muted_until)
        return "muted"
    return "open"


def reply_target(article: Article, raw: str | None) -> Comment | None:
    if (comment_id := parse_id(raw or "")) is None:  # "²" is a digit int() refuses
        return None
    target = comments.visible_comment(db.session, comment_id)
    return target if target is not None and target.article_id == article.id else None


def blank_comment_form() -> CommentForm:
    """An anonymous reader is shown no form, so theirs carries no CSRF token: their pages stay the
    same for every anonymous reader and can be cached whole (portal.page_cache)."""
    return CommentForm(formdata=None, **({} if viewer() else {"meta": {"csrf": False}}))


def form_context(article: Article, form: CommentForm | None = None) -> dict[str, Any]:
    form = form or blank_comment_form()
    target = reply_target(article, form.reply_to.data) if form.reply_to.data else None
    posting = posting_state(article)
    return {
        "article": article,
        "form": form,
        "reply_target": target,
        "posting": posting,
        "mute_notice": comments.mute_notice(current_user, zone=zone()) if posting == "muted" else "",
        "max_length": rules().max_length,
    }


def decorate(page: list[Comment], *, closed: bool = False) -> dict[str, Any]:
    """Replies, likes and reports of the viewer for a page of comments; `closed` (no new words
    under the article) takes away the 編輯 links."""
    previews = comments.reply_previews(db.session, [c.id for c in page if c.reply_count])
    shown = [c.id for c in page] + [r.id for replies in previews.values() for r in replies]
    user = viewer()
    now = utc_now()
    if user is not None:  # the 編輯 link of one's own comment goes when its window closes
        window = timedelta(minutes=rules().edit_minutes)
        for comment in [c for c in page if c.author_id == user.id] + [
            r for replies in previews.values() for r in replies if r.author_id == user.id
        ]:
            page_cache.valid_until(comment.created_at + window)
    return {
        "previews": previews,
        "liked": comments.liked_ids(db.session, user_id=user.id, comment_ids=shown) if user else set(),
        "reported": comments.reported_ids(db.session, user_id=user.id, comment_ids=shown) if user else set(),
        "viewer_id": user.id if user else None,
        "edit_minutes": 0 if closed else rules().edit_minutes,
        "now": now,
        "landings": {},  # messages for these comments' regions: the article page's alone (thread_context)
    }


def own_actions(own: list, *, closed: bool = False) -> dict[str, Any]:
    """What the author may still do with their own comments: 編輯 while the edit window is open
    and the article open for comments (the page lives until the first window closes, as decorate's
    does) and 刪除 where it is theirs to withdraw."""
    windows = comments.edit_windows(own, rules=rules(), now=utc_now(), closed=closed)
    for closes in windows.values():
        page_cache.valid_until(closes)
    return {
        "own_editable": set(windows),
        "own_deletable": {c.id for c in own if comments.withdrawable(c)},
    }


def list_context(article: Article, *, order: str, cursor: Cursor | None) -> dict[str, Any]:
    order = order if order in comments.ORDERS else "newest"
    page, next_cursor = comments.thread_page(
        db.session,
        article_id=article.id,
        order=order,
        cursor=cursor,
        size=current_app.config["COMMENT_PAGE_SIZE"],
    )
    top = comments.pinned(db.session, article_id=article.id) if cursor is None else []
    top_ids = {c.id for c in top}
    page = [c for c in page if c.id not in top_ids]
    return {
        "article": article,
        "order": order,
        "page": top + page,
        "next_cursor": next_cursor,
        **decorate(top + page, closed=closed_to_comments(article)),
    }


def thread_context(article: Article, form: CommentForm | None = None) -> dict[str, Any]:
    """The whole region as the article page renders it (GET and the no-JS error re-render)."""
    if article.comments_state == CommentsState.HIDDEN:
        return {"comments_hidden": True}
    if form is None:
        form = blank_comment_form()
        if (target := reply_target(article, request.args.get("reply_to"))) is not None:
            form.reply_to.data = str(target.id)
    user = viewer()
    own = comments.own_unpublished(db.session, article_id=article.id, author_id=user.id) if user else []
    listed = list_context(
        article, order=request.args.get("order", "newest"), cursor=Cursor.decode(request.args.get("after"))
    )
    # A login from a comment's 點贊 or 回覆 lands on that comment, far below #messages and perhaps
    # below #comment-status too: its welcome is shown in the comment's item (portal/flashes.py).
    shown = [c.id for c in listed["page"]]
    shown += [r.id for replies in listed["previews"].values() for r in replies]
    landings = comment_landings(shown)
    return {
        "comments_hidden": False,
        "own_unpublished": own,
        **own_actions(own, closed=closed_to_comments(article)),
        **form_context(article, form),
        **listed,
        "landings": landings,
        "comment_regions": (COMMENT_STATUS, *map(comment_region, landings)),
    }
