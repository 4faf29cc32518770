"""Defaults. Nothing here reads the environment: the factory layers instance and env on top."""

from datetime import timedelta
from typing import Any, ClassVar


class Defaults:
    SECRET_KEY = "dev"
    # Key for the phone number's encryption and look-up hash; written to instance/config.py.
    PII_KEY = ""
    SQLALCHEMY_DATABASE_URI = ""  # computed from DATABASE_URL, else SQLite in the instance folder
    DATABASE_URL = ""  # PORTAL_DATABASE_URL=postgresql://user:pass@host/db selects PostgreSQL (psycopg 3)
    REDIS_URL = ""  # PORTAL_REDIS_URL=redis://host:6379/0 shares limits and cache across processes
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}  # per database, see engine_options()
    DATABASE_BUSY_TIMEOUT = 15  # seconds SQLite waits for the write lock before answering 503
    DATABASE_RETRY_AFTER = 5  # seconds a 503 asks the client to wait when the database is away

    # A page left open for hours can still post; see SECURITY.md §4.
    WTF_CSRF_TIME_LIMIT = None
    # WTForms' own messages come from its zh_TW catalogue (portal.forms.Form), not Flask-Babel.
    WTF_I18N_ENABLED = False
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_UPLOAD_LENGTH = 50 * 1024 * 1024  # media uploads in /admin only (portal.security.PortalRequest)
    UPLOAD_ENDPOINTS = ("admin.upload_media",)
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    # Editors' long texts: a 200,000-character body is 1.8 MB once a browser percent-encodes it
    # (9 bytes a Chinese character), and a 10,000-entry word list is a CSV of about 300 KB.
    MAX_LONG_FORM_LENGTH = 4 * 1024 * 1024
    LONG_FORM_ENDPOINTS = ("admin.article_form", "admin.page_form", "admin.import_words")

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

    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Flask-Limiter: in-process memory holds per process only; REDIS_URL (scale-out issue) shares it.
    RATELIMIT_STORAGE_URI = ""  # from REDIS_URL, else process-memory:// (portal.rate_limits)
    RATELIMIT_HEADERS_ENABLED = True  # else a 429 carries no Retry-After
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_LIMITS = "5 per minute"  # per IP, every attempt
    LOGIN_ACCOUNT_LIMITS = "10 per hour"  # per account, failures only
    COMMENT_LIMITS = "3 per minute;20 per hour"  # per user, accepted posts
    REPORT_LIMITS = "10 per hour"
    REGISTER_LIMITS = "20 per hour"

    # The development SMS sender writes codes to the log and console; set a provider's in production.
    SMS_SENDER = "portal.domain.sms:ConsoleSender"
    # IP 屬地 database (MaxMind format); empty: the GeoLite2 copy of maxminddb-geolite2.
    REGION_DATABASE = ""
    TERMS_VERSION = "2026-11"

    # Whole pages, shared by anonymous readers and per session for signed-in ones (portal.page_cache):
    # in process, or in Redis with REDIS_URL.
    PAGE_CACHE = True
    PAGE_CACHE_SECONDS = 300  # a bound only: every change to what pages show invalidates at once
    CACHE_TYPE = ""  # from REDIS_URL: RedisCache, else page_cache.PageMemoryCache
    PAGE_CACHE_BYTES = 32 * 2**20  # PageMemoryCache: what one process keeps, least recently used out
    CACHE_KEY_PREFIX = "portal:page:"

    SECTION_PAGE_SIZE = 20
    COMMENT_PAGE_SIZE = 20
    SEARCH_PAGE_SIZE = 20
    RELATED_COUNT = 5
    PAPER_EDITIONS_LISTED = 30  # 往期 on 數字報; older ones by 上一期 or their date
