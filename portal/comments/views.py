"""網友評論: list slices, post, reply, edit, delete, like and report — each with and without htmx."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RequestLimit
from flask_login import current_user, login_required

from portal.auth import client_ip, client_origin
from portal.comments import context
from portal.comments.forms import CommentForm, EditForm, ReportForm
from portal.confirm import unconfirmed
from portal.domain import comments, news
from portal.domain.errors import NotAllowed, Rejected
from portal.domain.pagination import Cursor
from portal.extensions import db, limiter
from portal.flashes import flash_landing
from portal.forms import ActionForm
from portal.fragments import wants_fragment
from portal.models import Article, Comment, CommentsState, utc_now
from portal.news.views import render_article
from portal.page_cache import cached_page
from portal.page_context import section_tree, zone
from portal.rate_limits import breach_wait
from portal.safe_redirect import same_site_path
from portal.words import current_word_list

bp = Blueprint("comments", __name__)
# The author's 刪除 asks this first: portal.js in a dialog (data-confirm), else portal.confirm.
DELETE_QUESTION = "確定刪除這條評論？刪除後不能恢復。"
# One wording for the dialog (data-confirm, with JavaScript) and the question page (without).
bp.record_once(lambda state: state.app.jinja_env.globals.update(delete_question=DELETE_QUESTION))
REPLY_GONE = "您要回覆的評論已不存在或不可見；現在發表的將是一條新評論。"
EDIT_WAITING = "修改已提交，審核通過後替換原評論；在此之前其他讀者看到的仍是原來的內容"


def _article_or_404(article_id: int, *, media: bool = True) -> Article:
    article = news.public_article(db.session, article_id, now=utc_now(), media=media)
    if article is None or article.comments_state == CommentsState.HIDDEN:
        abort(404)
    # A hidden section's article is 404 throughout; a nested section is hidden with its parent too.
    section = article.section
    if section.hidden or (section.parent_id is not None and section.id not in section_tree().by_id):
        abort(404)
    return article


def _comment_or_404(comment_id: int) -> Comment:
    """A public comment of a public article whose comment area is shown; anything else is 404."""
    comment = comments.visible_comment(db.session, comment_id)
    if comment is None:
        abort(404)
    _article_or_404(comment.article_id)
    return comment


def _own_comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    if comment.author_id != current_user.id:
        abort(403)
    return comment


def _back_to(comment: Comment) -> Response:
    anchor = f"comment-{comment.id}"
    return redirect(url_for("news.article", article_id=comment.article_id, _anchor=anchor), 303)


def _to_comment_status(article_id: int) -> str:
    """Where a no-JS action in the comment area lands with its message: the article's
    #comment-status, which shows it (portal/flashes.py), and not #messages far above."""
    return url_for("news.article", article_id=article_id, _anchor="comment-status")


def _landing(target: str, message: str) -> Response:
    return redirect(flash_landing(target, message), 303)


def _with_retry_after(response, refusal: Rejected):
    body, status = response if isinstance(response, tuple) else (response, 200)
    response = current_app.make_response((body, status))
    if refusal.retry_after:
        response.headers["Retry-After"] = str(refusal.retry_after)
        g.retry_after = refusal.retry_after  # Flask-Limiter's header step would overwrite it
    return response


def _commit_keeping_loaded() -> None:
    """Commit without expiring what this request has loaded. The answer then renders from the
    article, its section and the reader as this request read them, moments ago, instead of reading
    them all again; what the answer lists (the reader's own comments) is read after the commit."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _comment_status(message: str = "", kind: str = "success") -> str:
    """The outcome of a post, out of band into the page's #comment-status live region (its content
    only: see comments/_comment_status.html); no message empties it."""
    return render_template(
        "comments/_comment_status.html", oob=True, status_message=message, status_kind=kind
    )


def _refusal_status(form: CommentForm) -> str:
    messages = [message for field in form for message in field.errors]
    return _comment_status("評論未能提交：" + "；".join(messages) if messages else "評論未能提交", "error")


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"ip:{client_ip()}"


@bp.get("/articles/<int:article_id>/comments")
@cached_page
def thread(article_id: int):
    """Tabs 最新 / 熱門: the list region; without htmx, the article page in that order."""
    article = _article_or_404(article_id)
    if not wants_fragment():
        return render_article(article)
    ctx = context.list_context(article, order=request.args.get("order", "newest"), cursor=None)
    return render_template("comments/_thread_list.html", **ctx)


@bp.get("/articles/<int:article_id>/comments/more")
@cached_page
def more(article_id: int):
    """載入更多: the next slice and a new 載入更多 (keyset: page N costs what page 1 costs)."""
    article = _article_or_404(article_id)
    if not wants_fragment():
        return render_article(article)
    ctx = context.list_context(
        article, order=request.args.get("order", "newest"), cursor=Cursor.decode(request.args.get("after"))
    )
    return render_template("comments/_page.html", **ctx)


@bp.get("/articles/<int:article_id>/comment-form")
@cached_page
def comment_form(article_id: int):
    """The form, ready to reply to a comment (回覆) or back to a new comment."""
    article = _article_or_404(article_id)
    form = context.blank_comment_form()
    wanted = request.args.get("reply_to")
    if (target := context.reply_target(article, wanted)) is not None:
        form.reply_to.data = str(target.id)
    elif wanted:  # hidden or deleted since the page was loaded: say so, or the reply goes out as a comment
        form.reply_to.errors = [REPLY_GONE]
    if not wants_fragment():
        return render_article(article, form=form)
    # The form anew (回覆, 取消回覆): the last post's outcome above it is done with.
    return render_template("comments/_form.html", **context.form_context(article, form)) + _comment_status()


def _posting_too_often(limit: RequestLimit) -> Response:
    """The per-reader limit on accepted posts (COMMENT_LIMITS) is reached: the form again, the text
    as typed and the wait beside it, as the 15-second pause answers. The bare 429 page lost the
    text of a reader without JavaScript, and said neither how long to wait nor where."""
    wait = breach_wait(limit)
    article = _article_or_404(request.view_args["article_id"], media=False)
    form = CommentForm()  # not validated: it holds what was typed
    form.body.errors = [comments.too_fast(wait)]
    if wants_fragment():
        body = render_template("comments/_form.html", **context.form_context(article, form))
        return current_app.make_response((body + _refusal_status(form), 429))
    return current_app.make_response((render_article(article, form=form), 429))


@bp.post("/articles/<int:article_id>/comments")
@login_required
@limiter.limit(
    lambda: current_app.config["COMMENT_LIMITS"],
    key_func=_user_key,
    deduct_when=lambda response: response.status_code in (200, 201, 303),
    on_breach=_posting_too_often,
)
def create(article_id: int):
    article = _article_or_404(article_id, media=False)  # the answer is the form, not the page
    form, status, refusal = CommentForm(), 422, None
    if form.validate_on_submit():
        now = utc_now()
        origin = client_origin()
        try:
            comment = comments.submit(
                db.session,
                article=article,
                author=current_user,
                body=form.body.data,
                reply_to_id=form.reply_to_id(),
                origin=origin,
                words=current_word_list(),
                rules=context.rules(),
                now=now,
                day_start=context.local_day_start(now),
                site_closed=context.site_closed(),
                zone=zone(),
            )
        except Rejected as refused:
            refusal, status = refused, refused.status
            db.session.rollback()
            form.body.errors.append(refused.message)
            comments.record_refusal(
                db.session,
                author=current_user,
                article=article,
                body=form.body.data,
                refusal=refused,
                origin=origin,
                now=now,
            )
            db.session.commit()
        else:
            _commit_keeping_loaded()
            message = "評論已提交，審核後顯示"
            if wants_fragment():
                # The cleared form, and the new comment on top of the reader's own 審核中 list (out
                # of band). A retry of a stored text answers the same, and adds no second row.
                form.body.data = form.reply_to.data = ""  # the same form, cleared: its token stands
                body = render_template("comments/_form.html", **context.form_context(article, form))
                body += _comment_status(message)
                if comment.created_at == now:
                    editable = comments.edit_windows([comment], rules=context.rules(), now=now)
                    body += render_template(
                        "comments/_own_unpublished_added.html", comment=comment, own_editable=editable
                    )
                return body, 201
            return _landing(_to_comment_status(article.id), message)
    if wants_fragment():
        body = render_template("comments/_form.html", **context.form_context(article, form))
        answer = body + _refusal_status(form), status
    else:
        answer = render_article(article, form=form), status
    return _with_retry_after(answer, refusal) if refusal else answer


@bp.post("/comments/<int:comment_id>/like")
@login_required
def like(comment_id: int):
    comment = _comment_or_404(comment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    liked = comments.toggle_like(db.session, comment=comment, user=current_user, now=utc_now())
    db.session.commit()
    if wants_fragment():
        return render_template("comments/_like.html", comment=comment, liked=liked)
    return _back_to(comment)


@bp.get("/comments/<int:comment_id>/replies")
@cached_page
def replies(comment_id: int):
    """展開更多回覆: the replies after the first three, oldest first."""
    parent = db.session.get(Comment, comment_id)
    if parent is None or parent.parent_id is not None or not parent.listed:
        abort(404)
    article = _article_or_404(parent.article_id)
    after = Cursor.decode(request.args.get("after"))
    rows, next_cursor = comments.replies_after(db.session, parent=parent, after=after)
    # Without htmx: a page of the thread, so every reply can be read with JavaScript off too.
    template = "comments/_replies_page.html" if wants_fragment() else "comments/replies.html"
    return render_template(
        template,
        article=article,
        parent=parent,
        replies=rows,
        next_cursor=next_cursor,
        **context.decorate(rows, closed=context.closed_to_comments(article)),
    )


def _report_page(comment: Comment, form: ReportForm, status: int = 200, *, done: bool = False):
    template = "comments/_report.html" if wants_fragment() else "comments/report.html"
    return render_template(template, comment=comment, form=form, done=done), status


@bp.get("/comments/<int:comment_id>/report")
@login_required
def report_form(comment_id: int):
    return _report_page(_comment_or_404(comment_id), ReportForm(formdata=None))


def _reporting_too_often(limit: RequestLimit) -> Response:
    """REPORT_LIMITS reached: the report form again, the reason and note as chosen and the wait
    beside them; the bare 429 page lost the note of a reader without JavaScript."""
    wait = breach_wait(limit)
    form = ReportForm()  # not validated: it holds what was chosen and typed
    form.reason.errors = [comments.too_many_reports(wait)]
    page = _report_page(_comment_or_404(request.view_args["comment_id"]), form, 429)
    return current_app.make_response(page)


@bp.post("/comments/<int:comment_id>/report")
@login_required
@limiter.limit(
    lambda: current_app.config["REPORT_LIMITS"], key_func=_user_key, on_breach=_reporting_too_often
)
def report(comment_id: int):
    comment = _comment_or_404(comment_id)
    form, status = ReportForm(), 422
    if form.validate_on_submit():
        try:
            comments.report(
                db.session,
                comment=comment,
                reporter=current_user,
                reason_code=form.reason.data,
                note=form.note.data or "",
                rules=context.rules(),
                now=utc_now(),
                ip=client_ip(),
            )
        except Rejected as refused:
            form.reason.errors.append(refused.message)
            status = refused.status
        else:
            db.session.commit()
            if wants_fragment():
                return _report_page(comment, form, 200, done=True)
            return _landing(_to_comment_status(comment.article_id), "舉報已收到，處理結果將通知您")
    return _report_page(comment, form, status)


def _edit_page(comment: Comment, form: EditForm | None, status: int = 200, *, refusal: str = ""):
    """The edit page: the form, or why the comment can no longer be edited (no form to type into)."""
    return render_template(
        "comments/edit.html",
        comment=comment,
        form=form,
        refusal=refusal,
        max_length=context.rules().max_length,
        came_from=_came_from(),
        back=_own_next(comment),
        back_label=_back_label(),
    ), status


def _came_from() -> str:
    """The page of this site the author opened 編輯 or 刪除 on (我的評論), if it said so."""
    return same_site_path(request.values.get("next"), "")


def _back_label() -> str:
    """The edit page's 返回 link in words: where _own_next goes."""
    came_from = _came_from()
    if not came_from:
        return "返回文章"
    return "返回我的評論" if urlsplit(came_from).path == url_for("accounts.my_comments") else "返回"


def _cancel_to(comment: Comment) -> str:
    """Where 取消 on the no-JavaScript question leads: back where the author came from, else to
    the comment on its article (a published one in the thread, a pending one in their own list)."""
    anchor = f"comment-{comment.id}" if comment.status == "approved" else f"own-comment-{comment.id}"
    return _came_from() or url_for("news.article", article_id=comment.article_id, _anchor=anchor)


def _own_next(comment: Comment) -> str:
    """Where the author goes after editing or deleting: back where they came from, else the article."""
    return _came_from() or _to_comment_status(comment.article_id)


@bp.get("/comments/<int:comment_id>/edit")
@login_required
def edit_form(comment_id: int):
    comment = _own_comment_or_404(comment_id)
    closed = context.closed_to_comments(comment.article)
    if (
        refused := comments.edit_refusal(comment, rules=context.rules(), now=utc_now(), closed=closed)
    ) is not None:
        return _edit_page(comment, None, refused.status, refusal=refused.message)
    return _edit_page(comment, EditForm(formdata=None, body=comments.latest_text(comment)))


@bp.post("/comments/<int:comment_id>/edit")
@login_required
def edit(comment_id: int):
    comment = _own_comment_or_404(comment_id)
    form, status = EditForm(), 422
    if form.validate_on_submit():
        try:
            comments.edit(
                db.session,
                comment=comment,
                author=current_user,
                body=form.body.data,
                words=current_word_list(),
                rules=context.rules(),
                now=utc_now(),
                zone=zone(),
                site_closed=context.site_closed(),
            )
        except Rejected as refused:
            db.session.rollback()
            form.body.errors.append(refused.message)
            status = refused.status
        except NotAllowed:
            abort(403)
        else:
            db.session.commit()
            if comment.pending_body is not None:
                return _landing(_own_next(comment), EDIT_WAITING)
            return _landing(_own_next(comment), "評論已修改，審核後顯示")
    return _edit_page(comment, form, status)


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def delete(comment_id: int):
    comment = _own_comment_or_404(comment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    # Asked first; one already deleted (a second tab) is done again quietly, without a question.
    asking = unconfirmed(DELETE_QUESTION, _cancel_to(comment)) if comments.withdrawable(comment) else None
    if asking is not None:
        return asking
    try:
        comments.delete_own(db.session, comment=comment, author=current_user, now=utc_now())
    except NotAllowed:
        abort(403)  # a moderator's decision on it stands (only a crafted request gets here)
    db.session.commit()
    if wants_fragment():
        response = current_app.response_class(status=204)
        response.headers["HX-Refresh"] = "true"
        return response
    return _landing(_own_next(comment), "評論已刪除")
