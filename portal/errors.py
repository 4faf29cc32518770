"""One handler for every HTTP error: a Chinese message in the site's layout, or in #messages for htmx."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, ServiceUnavailable

from portal.extensions import db
from portal.fragments import wants_fragment

MESSAGES = {
    400: "請求無效，請檢查後重試。",
    401: "請先登錄。",
    403: "您沒有權限進行此操作。",
    404: "您訪問的頁面不存在或已被刪除。",
    405: "不支持此請求方式。",
    409: "該內容已被其他人處理，請重新整理頁面。",
    413: "提交的內容過大，請縮短後再試。",
    422: "提交的內容有誤，請修改後再試。",
    429: "操作過於頻繁，請稍後再試。",
    500: "服務器暫時出現問題，請稍後再試。",
    503: "系統繁忙，請稍後再試；您輸入的內容不會丟失。",
}
# Where an error's page leads back to, when it is not the home page: an upload over the limit goes
# back to the media page, whose form the browser sent.
BACK_LINKS = {(413, "admin.upload_media"): ("admin.media", "返回媒體頁")}
TITLES = {404: "頁面不存在", 413: "內容過大", 429: "操作過於頻繁", 403: "無權訪問", 503: "系統繁忙"}
CSRF_MESSAGE = "頁面已過期，請重新整理後再提交。"


def message_for(error: HTTPException) -> str:
    if isinstance(error, CSRFError):
        return CSRF_MESSAGE
    if error.code == 413 and request.endpoint in current_app.config["UPLOAD_ENDPOINTS"]:
        megabytes = current_app.config["MAX_UPLOAD_LENGTH"] // (1024 * 1024)
        return (
            f"文件過大：媒體文件不能超過 {megabytes} MB。這次上傳沒有保存，說明和署名也未保存："
            f"請返回媒體頁，選擇 {megabytes} MB 以內的文件後重新填寫。"
        )
    return MESSAGES.get(error.code or 500, MESSAGES[500])


def http_error(error: HTTPException) -> Response:
    if error.response is not None:  # a view's own answer (a throttled form shown again)
        return error.response
    response = error.get_response()  # keeps the status and headers such as Allow, Retry-After
    if (error.code or 500) >= 500:
        db.session.rollback()
    message = message_for(error)
    if wants_fragment():
        response.set_data(render_template("errors/_message.html", message=message))
        # The message goes to #messages and the address stays: a tab (最新/熱門) that would have
        # pushed its own address must not leave one that names what is not shown.
        response.headers.update(
            {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML", "HX-Push-Url": "false"}
        )
    else:
        title = TITLES.get(error.code or 500, "出錯了")
        back = BACK_LINKS.get((error.code, request.endpoint))
        response.set_data(
            render_template(
                "errors/page.html",
                message=message,
                title=title,
                code=error.code,
                back=(url_for(back[0]), back[1]) if back else None,
            )
        )
    response.content_type = "text/html; charset=utf-8"
    return response


def unexpected_error(error: Exception) -> Response:
    """A bug still answers in Chinese, in the layout, and is logged with its traceback."""
    current_app.logger.exception("unhandled error", exc_info=error)
    return http_error(InternalServerError())


def database_unavailable(error: OperationalError) -> Response:
    """Locked past the busy timeout or unreachable: 503 with Retry-After; the transaction is rolled
    back, so nothing is half-written, and the reader keeps what they typed."""
    db.session.rollback()
    current_app.logger.warning("database unavailable: %s", error.orig if hasattr(error, "orig") else error)
    g.retry_after = current_app.config["DATABASE_RETRY_AFTER"]  # not the rate limiter's value
    unavailable = ServiceUnavailable(retry_after=g.retry_after)
    return http_error(unavailable)


def refused_by_database(error: DataError) -> Response:
    """A value the database cannot hold (PostgreSQL refuses NUL, for one): a clear 400, no 500."""
    db.session.rollback()
    current_app.logger.warning(
        "value refused by the database: %s", error.orig if hasattr(error, "orig") else error
    )
    return http_error(BadRequest())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DataError, refused_by_database)
    app.register_error_handler(OperationalError, database_unavailable)
    if not app.testing:
        app.register_error_handler(Exception, unexpected_error)
