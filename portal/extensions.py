"""Unbound extension instances; the factory binds them."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
cache = Cache()  # whole public pages (portal.page_cache)
migrate = Migrate()
csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
# Keyed by the socket peer (or ProxyFix's address when a proxy count is configured).
limiter = Limiter(key_func=get_remote_address)
