"""Configuration order: Defaults → instance/config.py → PORTAL_* variables; a test dict replaces
the last two."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from contextlib import closing
from datetime import timedelta

import pytest

from portal import create_app
from portal.config import Defaults
from portal.extensions import db
from portal.models import utc_now
from tests.conftest import app_config
from tests.factories import make_article, make_section


@pytest.fixture
def clean_env(monkeypatch):
    """No PORTAL_* variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def instance(clean_env, tmp_path):
    folder = tmp_path / "instance"
    clean_env.setenv("PORTAL_INSTANCE_PATH", str(folder))
    return folder


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def _secrets(config_file) -> dict[str, str]:
    return dict(re.findall(r"^(\w+) = '([^']*)'$", config_file.read_text(encoding="utf-8"), re.MULTILINE))


def _tables(database) -> set[str]:
    with closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_test_config_ignores_portal_environment_variables(clean_env, tmp_path):
    clean_env.setenv("PORTAL_SECTION_PAGE_SIZE", "5")
    clean_env.setenv("PORTAL_SECRET_KEY", '"from-the-environment"')
    clean_env.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    app = create_app(app_config(tmp_path / "portal.sqlite", tmp_path / "media"))
    assert app.config["SECTION_PAGE_SIZE"] == Defaults.SECTION_PAGE_SIZE
    assert app.config["SECRET_KEY"] == app_config(tmp_path, tmp_path)["SECRET_KEY"]
    assert not (tmp_path / "elsewhere" / "config.py").exists()  # no instance config read or written


def test_first_start_writes_secrets_and_creates_the_migrated_database(instance):
    app = create_app()
    _dispose(app)
    config_file = instance / "config.py"
    assert config_file.is_file()
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    written = _secrets(config_file)
    assert re.fullmatch(r"[0-9a-f]{64,}", written["SECRET_KEY"])
    assert len(written["PII_KEY"]) >= 32
    assert written["PII_KEY"] != written["SECRET_KEY"]
    assert app.config["SECRET_KEY"] == written["SECRET_KEY"]
    assert app.config["PII_KEY"] == written["PII_KEY"]
    database = instance / "portal.sqlite"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
    tables = _tables(database)
    assert {"article", "article_fts", "section", "user_account", "alembic_version"} <= tables
    assert (instance / "media").is_dir()


def test_second_start_keeps_the_secrets(instance):
    first = create_app()
    _dispose(first)
    before = (instance / "config.py").read_text(encoding="utf-8")
    second = create_app()
    _dispose(second)
    assert (instance / "config.py").read_text(encoding="utf-8") == before
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert second.config["PII_KEY"] == first.config["PII_KEY"]


def test_two_instances_get_different_secrets(clean_env, tmp_path):
    keys = []
    for name in ("one", "two"):
        clean_env.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / name))
        app = create_app()
        _dispose(app)
        keys.append(app.config["SECRET_KEY"])
    assert keys[0] != keys[1]


def test_environment_overrides_the_default_as_a_json_int(instance, clean_env):
    clean_env.setenv("PORTAL_SECTION_PAGE_SIZE", "5")
    app = create_app()
    assert app.config["SECTION_PAGE_SIZE"] == 5
    assert isinstance(app.config["SECTION_PAGE_SIZE"], int)
    # …and the section page uses it.
    with app.app_context():
        section = make_section(db.session, slug="env-test")
        for hours in range(1, 8):
            make_article(db.session, section, published_at=utc_now() - timedelta(hours=hours))
        db.session.commit()
    html = app.test_client().get("/sections/env-test").get_data(as_text=True)
    _dispose(app)
    assert html.count('class="article-item"') == 5
    assert "下一頁" in html


def test_environment_overrides_the_instance_config(instance, clean_env):
    _dispose(create_app())  # writes config.py
    with (instance / "config.py").open("a", encoding="utf-8") as extra:
        extra.write("SECTION_PAGE_SIZE = 7\n")
    from_instance = create_app()
    _dispose(from_instance)
    assert from_instance.config["SECTION_PAGE_SIZE"] == 7
    clean_env.setenv("PORTAL_SECTION_PAGE_SIZE", "9")
    from_env = create_app()
    _dispose(from_env)
    assert from_env.config["SECTION_PAGE_SIZE"] == 9


def test_development_secret_without_testing_or_debug_is_refused(clean_env, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "dev", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_development_secret_from_the_environment_is_refused(instance, clean_env):
    clean_env.setenv("PORTAL_SECRET_KEY", "dev")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_development_secret_is_allowed_in_tests(clean_env, tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "dev",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}",
        }
    )
    assert app.testing
