"""Operations on the embedded default: backups while the site runs, upgrades that keep every row,
a locked database answering 503, and the client address behind (or without) a proxy."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from portal import MIGRATIONS, create_app
from portal.extensions import db
from portal.models import Comment, utc_now
from tests.conftest import app_config
from tests.factories import make_article, make_section
from tests.helpers import HX, login, token_for


def _article(app) -> int:
    with app.app_context():
        section = make_section(db.session, slug="yaowen-ops")
        article = make_article(db.session, section, published_at=utc_now() - timedelta(hours=1))
        db.session.commit()
        return article.id


def _path(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def test_backup_while_the_site_writes_gives_a_copy_that_opens_and_holds_every_comment(app, runner, tmp_path):
    article_id = _article(app)
    writer_done = threading.Event()
    written: list[int] = []

    def write() -> None:
        # Another process's connection adds comments throughout the backup.
        connection = sqlite3.connect(_path(app), timeout=15)
        author = connection.execute(
            "INSERT INTO user_account (nickname, nickname_reading, phone_cipher, phone_hmac, password_hash, role, "
            "can_view_pii, state, muted_reason, credit, terms_version, session_token, created_at) VALUES "
            "('寫入者', '写入者', x'00', 'h', 'x', 'reader', 0, 'active', '', 0, '', 't', CURRENT_TIMESTAMP)"
        ).lastrowid
        connection.commit()
        for n in range(200):
            cursor = connection.execute(
                "INSERT INTO comment (article_id, author_id, reply_to_nickname, body, status, listed, flags, rule_hits, skeleton_hash, "
                "ip, ip_prefix, ip_region, user_agent, like_count, reply_count, report_count, reason_code, "
                "priority, featured, created_at) VALUES (?, ?, '', ?, 'pending', 0, '', '[]', '', '', '', '', '', 0, 0, "
                "0, '', 0, 0, CURRENT_TIMESTAMP)",
                (article_id, author, f"備份期間的評論{n}"),
            )
            connection.commit()
            written.append(cursor.lastrowid)
        connection.close()
        writer_done.set()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.05)
    committed_before = len(written)
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    thread.join()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = {row[0] for row in copy.execute("SELECT id FROM comment")}
    assert set(written[:committed_before]) <= ids  # everything committed when it started is in it
    assert ids <= set(written)


def test_backup_of_postgresql_names_pg_dump(app, tmp_path):
    config = {**app_config(tmp_path / "x.sqlite", tmp_path), "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/db"}
    result = create_app(config).test_cli_runner().invoke(args=["backup", str(tmp_path / "copy")])
    assert result.exit_code != 0 and "pg_dump" in result.output


def test_an_upgrade_from_the_first_migration_to_the_last_keeps_every_row(tmp_path):
    app = create_app(app_config(tmp_path / "old.sqlite", tmp_path / "media"))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0001")
        db.session.execute(
            text(
                "INSERT INTO section (slug, name, position, description, layout, hidden, pre_review, comments_closed) "
                "VALUES ('yaowen', '要聞', 0, '', 'list', 0, 1, 0)"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO article (section_id, title, source, published_at, reporters, editor, editor_note, summary, "
                "body_md, body_html, body_text, kind, state, comments_state, comment_count, created_at, updated_at) "
                "VALUES (1, '升級前的文章', '聊城日報', '2026-01-01 00:00:00', '', '', '', '', '正文', '<p>正文</p>', "
                "'正文', 'text', 'published', 'open', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO user_account (nickname, phone_cipher, phone_hmac, password_hash, role, can_view_pii, state, "
                "credit, terms_version, session_token, created_at) VALUES ('老讀者', x'00', 'h1', 'x', 'reader', 0, "
                "'active', 7, '', 's1', '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(text("SELECT title, source FROM article")).all() == [
            ("升級前的文章", "聊城日報")
        ]
        assert db.session.execute(text("SELECT nickname, credit, muted_reason FROM user_account")).all() == [
            ("老讀者", 7, "")
        ]
        # The search index still follows the articles after the later migrations rebuilt the table.
        db.session.execute(text("UPDATE article SET title = '升級後改過的標題'"))
        db.session.commit()
        hits = db.session.execute(
            text("SELECT rowid FROM article_fts WHERE article_fts MATCH '\"改過的\"'")
        ).all()
        assert hits == [(1,)]
        db.engine.dispose()


def test_a_database_locked_past_the_busy_timeout_answers_503_and_loses_nothing(
    tmp_path, empty_template, make_user
):
    database = tmp_path / "locked.sqlite"
    shutil.copyfile(empty_template, database)
    app = create_app({**app_config(database, tmp_path / "media"), "DATABASE_BUSY_TIMEOUT": 0.5})
    article_id = _article(app)
    with app.app_context():
        from portal.auth import password_hasher, phone_vault
        from portal.domain.accounts import create_verified_user
        from portal.models import Role

        create_verified_user(
            db.session, phone="13711112222", nickname="鎖住時的讀者", password="correct-horse-battery",
            role=Role.READER, vault=phone_vault(), hasher=password_hasher(), now=utc_now(),
        )  # fmt: skip
        db.session.commit()
    client = app.test_client()
    login(client, "13711112222", "correct-horse-battery")
    token = token_for(client, f"/articles/{article_id}")
    holder = sqlite3.connect(database, timeout=15, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        assert client.get(f"/articles/{article_id}").status_code == 200  # WAL: readers are not blocked
        answer = client.post(
            f"/articles/{article_id}/comments",
            data={"body": "鎖住時寫的評論", "csrf_token": token},
            headers=HX,
        )
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert "系統繁忙" in answer.get_data(as_text=True)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0  # nothing half-written
    again = client.post(
        f"/articles/{article_id}/comments", data={"body": "解鎖後再寫的評論", "csrf_token": token}, headers=HX
    )
    assert again.status_code == 201
    with app.app_context():
        db.engine.dispose()


def _post_from(client, article_id: int, token: str, body: str, **environ):
    return client.post(
        f"/articles/{article_id}/comments",
        data={"body": body, "csrf_token": token},
        headers={**HX, "X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
        environ_base={"REMOTE_ADDR": "192.0.2.10", **environ},
    )


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(app, make_user):
    article_id = _article(app)
    reader = make_user()
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    login(client, reader.phone, reader.password)
    token = token_for(client, f"/articles/{article_id}")
    assert _post_from(client, article_id, token, "沒有代理時的評論").status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Comment.ip)) == "192.0.2.10"
    # The per-address login budget is keyed by the socket address, whatever the header says.
    other = app.test_client()
    statuses = [
        other.post(
            "/accounts/login",
            data={
                "phone": reader.phone,
                "password": "wrong",
                "csrf_token": token_for(other, "/accounts/login"),
            },
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            environ_base={"REMOTE_ADDR": "192.0.2.99"},
        ).status_code
        for n in range(7)
    ]
    assert 429 in statuses


def test_with_one_trusted_proxy_the_rightmost_forwarded_address_is_the_client(
    empty_template, tmp_path, make_user
):
    database = tmp_path / "proxied.sqlite"
    shutil.copyfile(empty_template, database)
    app = create_app({**app_config(database, tmp_path / "media"), "TRUSTED_PROXY_HOPS": 1})
    article_id = _article(app)
    with app.app_context():
        from portal.auth import password_hasher, phone_vault
        from portal.domain.accounts import create_verified_user
        from portal.models import Role

        create_verified_user(
            db.session, phone="13733334444", nickname="代理後的讀者", password="correct-horse-battery",
            role=Role.READER, vault=phone_vault(), hasher=password_hasher(), now=utc_now(),
        )  # fmt: skip
        db.session.commit()
    client = app.test_client()
    login(client, "13733334444", "correct-horse-battery")
    token = token_for(client, f"/articles/{article_id}")
    assert _post_from(client, article_id, token, "代理後面的評論").status_code == 201
    with app.app_context():
        # The proxy appended 198.51.100.7; what the client itself put first is not trusted.
        assert db.session.scalar(select(Comment.ip)) == "198.51.100.7"
        db.engine.dispose()
