"""The application factory: named wiring steps only."""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from portal import rate_limits
from portal.config import Defaults

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "portal" / "migrations"
log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_response_hooks(app)
    if test_config is None:
        ensure_database(app)
    return app


def write_instance_config(instance: Path) -> Path:
    """The first start writes instance/config.py with fresh secrets; later starts keep it."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "media").mkdir(exist_ok=True)
    config_file = instance / "config.py"
    if not config_file.exists():
        config_file.write_text(
            "# Written on first start. Keep it secret; back it up with the database.\n"
            f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
            f"PII_KEY = {secrets.token_hex(32)!r}\n",
            encoding="utf-8",
        )
        config_file.chmod(0o600)
    return config_file


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Defaults → instance/config.py → PORTAL_* variables; a test dict replaces the last two."""
    app.config.from_object(Defaults)
    if test_config is None:
        write_instance_config(Path(app.instance_path))
        app.config.from_pyfile("config.py")
        app.config.from_prefixed_env("PORTAL")
    else:
        app.config.update(test_config)
    database_url = app.config.get("DATABASE_URL") or app.config["SQLALCHEMY_DATABASE_URI"]
    if not database_url:
        database_url = f"sqlite:///{Path(app.instance_path) / 'portal.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(database_url)
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"]:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], busy_timeout=app.config["DATABASE_BUSY_TIMEOUT"]
        )
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or f"{rate_limits.SCHEME}://"
    app.config.setdefault("MEDIA_ROOT", str(Path(app.instance_path) / "media"))
    # The 屬地 databases an admin may choose from (網站設置): the operator puts *.mmdb files here.
    app.config.setdefault("REGION_DATABASES_FOLDER", str(Path(app.instance_path) / "regions"))
    if app.config["SECRET_KEY"] == "dev" and not (app.debug or app.testing):
        raise RuntimeError("SECRET_KEY is the development value: set it in instance/config.py")
    if not app.config["SESSION_COOKIE_SECURE"]:
        app.logger.warning("session cookies are sent over plain HTTP: for local use only")


def database_uri(url: str) -> str:
    """postgres:// and postgresql:// mean PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(uri: str, busy_timeout: float = 15) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        # The busy timeout: a writer waits for the lock instead of failing (SECURITY.md §11).
        return {"connect_args": {"timeout": busy_timeout}}
    # A connection dropped by a restart is noticed before use; a dead server fails fast (→ 503).
    return {"pool_pre_ping": True, "pool_size": 5, "connect_args": {"connect_timeout": 5}}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL + the implicit BEGIN lose no concurrent post (SECURITY.md §11); the busy timeout comes
    # from the connection's own `timeout` argument (engine_options).
    if isinstance(connection, sqlite3.Connection):
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")


def register_extensions(app: Flask) -> None:
    from portal import auth, page_cache
    from portal.extensions import LazyMigrate, csrf, db, htmx, limiter, login_manager
    from portal.security import PortalRequest

    # Registered first, so it runs after every other hook: the cache keeps the finished answer.
    app.after_request(page_cache.store_in_cache)

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    db.init_app(app)
    page_cache.configure(app)
    # Flask-Migrate is imported when a migration first reads this (LazyMigrate says why).
    app.extensions["migrate"] = LazyMigrate(app, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    app.request_class = PortalRequest  # htmx's request, with the upload size exception
    # Registered before the limiter's own hook, so it runs after it (Flask runs them in reverse).
    app.after_request(auth.keep_domain_retry_after)
    limiter.init_app(app)
    # Flask-Limiter says on its own logger when Redis is gone and it falls back to memory.
    from flask.logging import default_handler

    limiter_log = logging.getLogger("flask-limiter")
    if default_handler not in limiter_log.handlers:
        limiter_log.addHandler(default_handler)
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("memory://", f"{rate_limits.SCHEME}://")):
        app.logger.warning("no REDIS_URL: rate limits and flood guards hold per process only")
    login_manager.init_app(app)
    auth.configure(login_manager)
    if hops := app.config["TRUSTED_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


class BoundedIntConverter(IntegerConverter):
    """<int:…> within the databases' 64-bit integers: a longer id is a 404, not an overflow."""

    regex = r"\d{1,19}"
    LARGEST = 2**63 - 1

    def to_python(self, value: str) -> int:
        number = int(value)
        # No row has id 0, so the view answers 404 as for any other unknown id.
        return number if number <= self.LARGEST else 0


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    from portal.accounts.views import bp as accounts
    from portal.admin.views import bp as admin
    from portal.comments.views import bp as comments
    from portal.moderation import bp as moderation
    from portal.moderation import records, views  # noqa: F401  (their routes register on bp)
    from portal.news.views import bp as news

    app.register_blueprint(news)
    app.register_blueprint(accounts)
    app.register_blueprint(comments)
    app.register_blueprint(moderation)
    app.register_blueprint(admin)


def register_error_handlers(app: Flask) -> None:
    from portal.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register_commands as register

    register(app)


def register_response_hooks(app: Flask) -> None:
    from portal import page_cache, page_context
    from portal.domain.records import code_label
    from portal.fragments import add_vary_htmx_headers
    from portal.security import (
        PercentEncodeRawQuery,
        add_security_headers,
        refuse_cross_site_writes,
        refuse_nul,
    )

    app.context_processor(page_context.template_globals)
    app.template_filter("localtime")(page_context.localtime)
    app.template_filter("cleaned_html")(page_context.cleaned_html)
    app.template_filter("label")(code_label)  # stored codes in words
    app.after_request(page_context.convert_script)
    app.after_request(page_context.redirect_in_chinese)
    app.after_request(add_vary_htmx_headers)
    app.after_request(add_security_headers)
    app.before_request(refuse_nul)
    app.before_request(refuse_cross_site_writes)
    app.before_request(page_cache.serve_from_cache)  # last: a stored page ends the request here
    app.wsgi_app = PercentEncodeRawQuery(app.wsgi_app)  # type: ignore[method-assign]


def ensure_database(app: Flask) -> None:
    """The first start creates the SQLite database through the migrations."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        from portal.cli import upgrade_schema

        with app.app_context():
            upgrade_schema()
