"""Fixtures. The schema comes from the real migrations, built once per run into a template
database; the demo content likewise. Each test gets its own copy of a template file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from portal import create_app
from portal.domain.pii import PhoneVault
from portal.models import Base, utc_now

TEST_PII_KEY = "test-pii-key-0123456789abcdef0123456789"


def pytest_addoption(parser):
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="where the app fixtures keep their data: SQLite files, or a real PostgreSQL server "
        "started for the run (the scale-out issue: the same suite on both)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--database") != "postgresql":
        return
    for item in items:
        if marker := item.get_closest_marker("sqlite_only"):
            # The marker's own reason says what has no PostgreSQL counterpart, else the general one.
            why = marker.kwargs.get("reason", "reads SQLite's own machinery (query plans, files, FTS5)")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}"))


def app_config(database: Path | str, media: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production-use-0123",
        "PII_KEY": TEST_PII_KEY,
        "SQLALCHEMY_DATABASE_URI": database if isinstance(database, str) else f"sqlite:///{database}",
        "MEDIA_ROOT": str(media),
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "session",
        "PASSWORD_HASHER": PasswordHasher.from_parameters(CHEAPEST),
        "SERVER_NAME": "portal.test",
    }


def _build(folder: Path, *, demo: bool, database_url: str | None = None) -> Path:
    from portal.cli import upgrade_schema
    from portal.extensions import db

    database, media = folder / "portal.sqlite", folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    app = create_app(app_config(database_url or database, media))
    with app.app_context():
        upgrade_schema()
        if demo:
            from portal.demo import load_demo

            load_demo(
                db.session,
                media_root=media,
                vault=PhoneVault.from_secret(TEST_PII_KEY),
                hasher=PasswordHasher.from_parameters(CHEAPEST),
                now=utc_now(),
            )
            db.session.commit()
        db.engine.dispose()
    return database


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("empty-template"), demo=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("demo-template"), demo=True)


@pytest.fixture(scope="session")
def postgres(request, tmp_path_factory):
    """With --database=postgresql: a real server for the run, and its migrated template databases."""
    if request.config.getoption("--database") != "postgresql":
        yield None
        return
    from tests.servers import create_database, postgres_server

    with postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        templates = {}
        for kind in ("empty", "demo"):
            url = create_database(server, f"template_{kind}")
            _build(tmp_path_factory.mktemp(f"pg-{kind}"), demo=kind == "demo", database_url=url)
            templates[kind] = f"template_{kind}"
        yield server, templates


_copies = iter(range(1, 10**9))


def _app_from(template: Path, tmp_path: Path, postgres=None, kind: str = "empty"):
    """An app on a fresh copy of a template: a file copy on SQLite, CREATE DATABASE … TEMPLATE on
    PostgreSQL (both take milliseconds)."""
    if postgres is None:
        database: Path | str = tmp_path / "portal.sqlite"
        shutil.copyfile(template, database)
    else:
        from tests.servers import create_database

        server, templates = postgres
        name = f"test_{next(_copies)}"
        database = create_database(server, name, template=templates[kind])
    # Media files are read-only for these tests: share the template's folder.
    app = create_app(app_config(database, template.parent / "media"))
    yield app
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()
    if postgres is not None:
        from tests.servers import drop_database

        drop_database(postgres[0], name)


@pytest.fixture
def app(empty_template, tmp_path, postgres):
    """An app on an empty, migrated database."""
    yield from _app_from(empty_template, tmp_path, postgres, "empty")


@pytest.fixture
def demo_app(demo_template, tmp_path, postgres):
    """An app on a copy of the demo content."""
    yield from _app_from(demo_template, tmp_path, postgres, "demo")


@pytest.fixture
def own_media_app(empty_template, tmp_path):
    """An app on an empty, migrated database with a media folder of its own, for commands that
    write media (`seed-demo`): the `app` fixture shares the empty template's folder."""
    database = tmp_path / "portal.sqlite"
    shutil.copyfile(empty_template, database)
    app = create_app(app_config(database, tmp_path / "media"))
    yield app
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()


@pytest.fixture
def own_media_runner(own_media_app):
    return own_media_app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    """The app's session inside an app context, for arranging rows and reading them back."""
    from portal.extensions import db

    with app.app_context():
        yield db.session


@pytest.fixture
def session():
    """A bare SQLAlchemy session with no app, for domain tests."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


TEST_PASSWORD = "correct-horse-battery"
_phones = iter(range(13700000001, 13799999999))


@pytest.fixture
def make_user(app):
    """Creates a verified account and returns it as a plain record (id, phone, nickname, password)."""
    from types import SimpleNamespace

    from portal.auth import password_hasher, phone_vault
    from portal.domain.accounts import create_verified_user
    from portal.extensions import db
    from portal.models import Role

    def make(role: str = "reader", nickname: str | None = None, verified: bool = True, **fields):
        phone = str(next(_phones))
        with app.app_context():
            user = create_verified_user(
                db.session,
                phone=phone,
                nickname=nickname or f"讀者{phone[-4:]}",
                password=TEST_PASSWORD,
                role=Role(role),
                vault=phone_vault(),
                hasher=password_hasher(),
                now=utc_now(),
            )
            if not verified:
                user.phone_verified_at = None
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            return SimpleNamespace(id=user.id, phone=phone, nickname=user.nickname, password=TEST_PASSWORD)

    return make


@pytest.fixture
def test_words(app):
    """Publishes the test dictionary of PLEDGE_RULES §8 as the site's word list."""
    from portal.domain.sensitive_words import replace_word_list
    from portal.domain.wordlist import parse_word_csv
    from portal.extensions import db

    entries = parse_word_csv(
        "term,category,action,pinyin\n赌博,C8,block,yes\n代开发票,C14,block,no\ncasino,C8,block,no\n"
        '蠢货,C9/C12,review,no\n"re:(\\p{Han}{1,4})人都是(骗子|小偷)",C5,review,no\n'
    )
    with app.app_context():
        replace_word_list(db.session, entries, now=utc_now())
        db.session.commit()
    return entries
