"""Unbound extension instances; the factory binds them."""

from typing import Any

from flask import Flask
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from portal.models.base import Base
from portal.rate_limits import skip_endpoints_without_limits

db = SQLAlchemy(model_class=Base)
cache = Cache()  # whole public pages (portal.page_cache)
csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
# Keyed by the socket peer (or ProxyFix's address when a proxy count is configured).
limiter = Limiter(key_func=get_remote_address)
skip_endpoints_without_limits(limiter)


class LazyMigrate:
    """app.extensions["migrate"] until something reads it; then Flask-Migrate binds itself there.

    Lazy because Flask-Migrate brings alembic, mako and pygments (about 10 MiB a process), which only
    the `flask db` commands, init-db, seed-demo and a first start's schema need, never a request.
    """

    def __init__(self, app: Flask, **options: Any) -> None:
        self._app, self._options = app, options

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        bound = self._app.extensions["migrate"]
        if bound is self:
            from flask_migrate import Migrate

            Migrate(db=db, **self._options).init_app(self._app)
            bound = self._app.extensions["migrate"]
        return getattr(bound, name)
