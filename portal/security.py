"""Security headers on every response: pages, fragments, redirects and errors alike."""

from collections.abc import Callable, Iterable
from urllib.parse import quote

from flask import Response, abort, current_app, request
from htmx_flask.requests import HtmxAwareRequest

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PRIVATE_PREFIXES = ("/moderation", "/admin", "/accounts")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith(PRIVATE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    return response


def refuse_nul() -> None:
    """NUL is never part of a valid address or query; PostgreSQL cannot even store it."""
    if "\x00" in request.path:
        abort(404)
    if any("\x00" in value for value in request.args.values()):
        abort(400)


class PercentEncodeRawQuery:
    """WSGI: a query string of raw bytes that are not UTF-8 (no browser sends one, scanners do) is
    percent-encoded, so the app reads it as any other bad value (decoded with replacement
    characters) instead of failing wherever it reads the query, its error page included."""

    # What may stay as it is: the query's own structure and what is already percent-encoded.
    KEPT = "&=+%;,/?:@!$'()*~"

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            raw = query.encode("latin-1", "replace")  # WSGI carries the bytes as Latin-1
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                environ["QUERY_STRING"] = quote(raw, safe=self.KEPT)
        return self.app(environ, start_response)


def refuse_cross_site_writes() -> None:
    """A write that a browser says comes from another site is refused before any view runs."""
    writing = request.method not in ("GET", "HEAD", "OPTIONS")
    if writing and request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)


class PortalRequest(HtmxAwareRequest):
    """The request size cap (64 KiB) with two exceptions: the media upload, and the editors' long
    texts (articles, static pages, a word list's CSV), each raise it for themselves.

    Decided by the endpoint before anything reads the body, CSRF's check included.
    """

    @property
    def max_content_length(self) -> int | None:
        if self.endpoint in current_app.config["UPLOAD_ENDPOINTS"]:
            return current_app.config["MAX_UPLOAD_LENGTH"]
        if self.endpoint in current_app.config["LONG_FORM_ENDPOINTS"]:
            return current_app.config["MAX_LONG_FORM_LENGTH"]
        return current_app.config["MAX_CONTENT_LENGTH"]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        raise AttributeError("set MAX_CONTENT_LENGTH or MAX_UPLOAD_LENGTH in the config instead")

    @property
    def max_form_memory_size(self) -> int | None:
        # Werkzeug's multipart parser holds whole read chunks against this limit, files included.
        if self.endpoint in current_app.config["UPLOAD_ENDPOINTS"]:
            return 1024 * 1024
        if self.endpoint in current_app.config["LONG_FORM_ENDPOINTS"]:
            return current_app.config["MAX_LONG_FORM_LENGTH"]  # one field can be the whole body
        return current_app.config["MAX_FORM_MEMORY_SIZE"]

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        raise AttributeError("set MAX_FORM_MEMORY_SIZE in the config instead")
