"""Defaults. Nothing here reads the environment: the factory layers instance and env on top."""

from datetime import timedelta
from typing import Any, ClassVar


class Defaults:
    SECRET_KEY = "dev"
    # Key for the phone number's encryption and look-up hash; written to instance/config.py.
    PII_KEY = ""
    SQLALCHEMY_DATABASE_URI = ""  # computed from the instance path when empty
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"connect_args": {"timeout": 15}}

    # A page left open for hours can still post; see SECURITY.md §4.
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024

    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "__Host-session"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)

    # The zone in which times are shown and 數字報 editions are dated.
    TIMEZONE = "Asia/Shanghai"
    # Absolute address of the site for feeds, sitemap and share links; empty: from the request.
    SITE_URL = ""
    TRUSTED_PROXY_HOPS = 0

    SECTION_PAGE_SIZE = 20
    SEARCH_PAGE_SIZE = 20
    RELATED_COUNT = 5
