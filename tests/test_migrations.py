"""The migrations are the schema: they match the models, and they go down and up again. On both
databases (`--database=postgresql`): what reads SQLite's own machinery (sqlite_master, FTS5) has a
PostgreSQL counterpart here, or is marked sqlite_only where there is none."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import column, func, insert, inspect, or_, select, table, text

from portal import MIGRATIONS
from portal.domain import account_repair, accounts, content_repair, records
from portal.domain.errors import Rejected
from portal.domain.pii import PhoneVault
from portal.domain.script import reading
from portal.domain.sensitive_words import current_entries, version_of
from portal.extensions import db
from portal.models import (
    PENDING_EDIT,
    Article,
    Base,
    BlockedPhone,
    BulkHideComment,
    Comment,
    ContentVersion,
    ModerationAction,
    Notification,
    Page,
    Section,
    SensitiveWord,
    SiteSetting,
    User,
)
from tests.conftest import TEST_PII_KEY
from tests.factories import (
    make_account_as_stored_before_the_fixes,
    make_article,
    make_article_as_stored_before_the_fix,
    make_page_as_stored_before_the_fix,
    make_section,
    make_word_as_stored_before_the_fix,
)


def _not_fts(name, type_, _parent_names) -> bool:
    """FTS5's virtual table and its shadow tables live only in the migration, not in the models."""
    return not (type_ == "table" and name and (name == "article_fts" or name.startswith("article_fts_")))


def _is_sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _schema(session) -> dict[str, list[str]]:
    """Each object's definition as a sorted list of its lines: batch mode may rebuild a table with
    its constraints in another order, which changes nothing. SQLite keeps each object's SQL in
    sqlite_master; PostgreSQL has no such text, so there it is what the inspector reads of each
    table: its columns, keys, indexes and checks."""
    if _is_sqlite(session):
        rows = session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'alembic_version'")
        )
        return {
            name: sorted(line.strip().rstrip(",") for line in sql.splitlines()) for name, sql in rows.all()
        }
    inspector = inspect(session.connection())
    schema = {}
    for name in set(inspector.get_table_names()) - {"alembic_version"}:
        columns = [
            f"column {c['name']} {c['type']} nullable={c['nullable']} default={c.get('default')}"
            for c in inspector.get_columns(name)
        ]
        keys = [f"primary key {inspector.get_pk_constraint(name)['constrained_columns']}"] + [
            f"foreign key {fk['name']} {fk['constrained_columns']} -> {fk['referred_table']}"
            f"{fk['referred_columns']} {sorted(fk.get('options', {}).items())}"
            for fk in inspector.get_foreign_keys(name)
        ]
        others = (
            [
                f"index {i['name']} {i['column_names']} unique={i['unique']} "
                f"{sorted((i.get('dialect_options') or {}).items())}"
                for i in inspector.get_indexes(name)
            ]
            + [f"unique {u['name']} {u['column_names']}" for u in inspector.get_unique_constraints(name)]
            + [f"check {c['name']} {c['sqltext']}" for c in inspector.get_check_constraints(name)]
        )
        schema[name] = sorted(columns + keys + others)
    return schema


def _tables(session) -> set[str]:
    return set(inspect(session.connection()).get_table_names())


def _columns(session, table: str) -> set[str]:
    return {column["name"] for column in inspect(session.connection()).get_columns(table)}


def _indexes(session, table: str) -> set[str]:
    return {index["name"] for index in inspect(session.connection()).get_indexes(table)}


def _search_hits(session, term: str) -> list[int]:
    """The articles the site search finds for a term: through the FTS5 index on SQLite (which the
    triggers must keep in step with the articles), by the text itself on PostgreSQL, which has no
    index and searches with ILIKE (domain/news.py)."""
    if _is_sqlite(session):
        query = text("SELECT rowid FROM article_fts WHERE article_fts MATCH :q")
        return list(session.scalars(query, {"q": f'"{term}"'}))
    contains = or_(Article.title.contains(term), Article.body_text.contains(term))
    return list(session.scalars(select(Article.id).where(contains).order_by(Article.id)))


def test_model_metadata_sorts_without_a_foreign_key_cycle():
    # media.article_id ↔ article.cover_id: the later key must be marked use_alter, as the migration does.
    assert [t.name for t in Base.metadata.sorted_tables]


def test_models_match_the_migrated_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": _not_fts, "compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.sqlite_only(reason="the FTS5 index and its triggers exist on SQLite only")
def test_fts_index_follows_article_inserts_updates_and_deletes(app):
    with app.app_context():
        article = make_article(db.session, make_section(db.session), title="東昌湖畔柳色新")
        db.session.commit()

        def found(term: str) -> list[int]:
            return _search_hits(db.session, term)

        assert found("東昌湖") == [article.id]
        article.title = "古城樓前人如織"
        db.session.commit()
        assert found("東昌湖") == []
        assert found("古城樓") == [article.id]
        db.session.delete(article)
        db.session.commit()
        assert found("古城樓") == []


def test_downgrade_to_base_and_upgrade_again_on_an_empty_database(app):
    with app.app_context():
        before = _schema(db.session)
        assert "article" in before
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="base")
        assert _tables(db.session) <= {"alembic_version"}
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        assert _schema(db.session) == before
        assert {"article", "media", "section", "page", "site_setting"} <= _tables(db.session)
        assert ("article_fts" in _tables(db.session)) == _is_sqlite(db.session)


def test_downgrade_to_base_and_upgrade_again_on_a_database_with_rows(demo_app):
    with demo_app.app_context():
        before = _schema(db.session)
        assert "article" in before
        assert db.session.scalar(select(func.count()).select_from(Article)) > 0
        db.session.remove()

        downgrade(directory=str(MIGRATIONS), revision="base")
        assert _tables(db.session) <= {"alembic_version"}
        db.session.remove()

        upgrade(directory=str(MIGRATIONS))
        assert _schema(db.session) == before
        assert db.session.scalar(select(func.count()).select_from(Article)) == 0
        assert db.session.scalar(text("SELECT version_num FROM alembic_version"))

        # …and the recreated schema works, full-text index included.
        article = make_article(db.session, make_section(db.session), title="徒駭河畔新綠")
        db.session.commit()
        assert _search_hits(db.session, "徒駭河") == [article.id]


def test_the_author_counters_migration_counts_each_record_once(demo_app):
    """0006 fills the kept counters from the comments already there, as the domain would have."""
    recount = (
        "SELECT u.id, (SELECT count(*) FROM comment c WHERE c.author_id = u.id AND c.status = 'approved'), "
        "(SELECT count(*) FROM comment c WHERE c.author_id = u.id AND (c.status = 'rejected' OR "
        "(c.status = 'deleted' AND (c.decided_by_id IS NULL OR c.decided_by_id <> c.author_id)))), "
        "(SELECT count(*) FROM comment_report r JOIN comment c ON c.id = r.comment_id WHERE c.author_id = u.id) "
        "FROM user_account u ORDER BY u.id"
    )
    kept = "SELECT id, approved_comments, rejected_comments, reports_received FROM user_account ORDER BY id"
    with demo_app.app_context():
        expected = db.session.execute(text(recount)).all()
        assert any(row[1] for row in expected)
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0005")
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(text(kept)).all() == expected


def test_an_authors_own_deletions_leave_the_rejected_count_after_0010_and_count_again_before(demo_app):
    """0010 counts again without what authors deleted themselves; a downgrade counts them back in."""
    who = "SELECT author_id FROM comment WHERE status = 'approved' ORDER BY id LIMIT 1"
    count = "SELECT rejected_comments FROM user_account WHERE id = :id"
    with demo_app.app_context():
        author = db.session.execute(text(who)).scalar_one()
        db.session.execute(
            text(
                "UPDATE comment SET status = 'deleted', decided_by_id = author_id "
                "WHERE id = (SELECT id FROM comment WHERE author_id = :id AND status = 'approved' LIMIT 1)"
            ),
            {"id": author},
        )
        db.session.commit()
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0009")
        with_own = db.session.execute(text(count), {"id": author}).scalar_one()
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(text(count), {"id": author}).scalar_one() == with_own - 1


def test_0014_lists_an_edited_comment_in_review_above_its_replies_and_a_downgrade_takes_it_out(demo_app):
    parent = (
        "SELECT id FROM comment WHERE parent_id IS NULL AND reply_count > 0 AND status = 'approved' "
        "ORDER BY id LIMIT 1"
    )
    listed = "SELECT listed FROM comment WHERE id = :id"
    with demo_app.app_context():
        comment_id = db.session.execute(text(parent)).scalar_one()
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0013")
        # As the old code left an approved comment its author edited: in review, out of the thread.
        db.session.execute(
            text("UPDATE comment SET status = 'pending', listed = false WHERE id = :id"), {"id": comment_id}
        )
        db.session.commit()
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(text(listed), {"id": comment_id}).scalar_one() in (True, 1)
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0013")
        assert db.session.execute(text(listed), {"id": comment_id}).scalar_one() in (False, 0)
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))


def test_0016_keeps_an_edit_beside_the_published_text_and_a_downgrade_keeps_the_published_text(demo_app):
    published = "SELECT id, body FROM comment WHERE status = 'approved' ORDER BY id LIMIT 1"
    columns = "SELECT body, pending_body, pending_flags, status FROM comment WHERE id = :id"
    with demo_app.app_context():
        comment_id, body = db.session.execute(text(published)).one()
        db.session.execute(
            text("UPDATE comment SET pending_body = '作者修改後的內容', pending_flags = '' WHERE id = :id"),
            {"id": comment_id},
        )
        db.session.commit()
        assert db.session.scalar(text(f"SELECT count(*) FROM comment WHERE {PENDING_EDIT}")) == 1
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0015")
        assert {"pending_body", "pending_flags", "pending_rule_hits"}.isdisjoint(
            _columns(db.session, "comment")
        )
        assert "ix_comment_pending_edit" not in _indexes(db.session, "comment")
        row = db.session.execute(
            text("SELECT body, status FROM comment WHERE id = :id"), {"id": comment_id}
        ).one()
        assert tuple(row) == (body, "approved")  # the published text stays public
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        assert "ix_comment_pending_edit" in _indexes(db.session, "comment")
        row = db.session.execute(text(columns), {"id": comment_id}).one()
        assert tuple(row) == (body, None, None, "approved")


def test_the_gallery_migration_keeps_each_photo_set_in_order_both_ways(demo_app):
    """0009 moves the sets out of media.article_id into gallery_picture, and back on a downgrade."""
    sets = "SELECT article_id, position, media_id FROM gallery_picture ORDER BY article_id, position"
    with demo_app.app_context():
        expected = db.session.execute(text(sets)).all()
        assert len({row[0] for row in expected}) >= 1 and len(expected) >= 2  # the demo has photo sets
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0008")
        old = "SELECT article_id, position, id FROM media WHERE article_id IS NOT NULL ORDER BY article_id, position"
        assert db.session.execute(text(old)).all() == expected
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(text(sets)).all() == expected


REPAIRS = (
    account_repair.PHONE_NORMALISED,
    account_repair.NICKNAME_CLEANED,
    account_repair.NICKNAME_PLACEHOLDER,
)


def test_0011_normalises_old_phones_and_nicknames_where_safe_and_merges_no_accounts(demo_app):
    """A full-width phone nobody else has becomes ASCII (login finds it again, the blacklist follows
    it); two accounts that are one phone stay as they are for a person; a nickname loses its
    invisible characters, or gets 網友{id} and the flag when the cleaned name is taken or too short."""
    vault = PhoneVault.from_secret(TEST_PII_KEY)
    with demo_app.app_context():
        session = db.session
        ids = {
            name: make_account_as_stored_before_the_fixes(session, vault, phone=phone, nickname=nickname).id
            for name, phone, nickname in (
                ("alone", "１３９００１３９００１", "老街坊"),
                ("kept", "13900139002", "東昌湖畔"),
                ("twin", "１３９００１３９００２", "湖畔人家"),
                ("hidden_space", "13900139003", "柳園\u200b晨讀"),
                ("lookalike", "13900139004", "東昌\u200d湖畔"),
                ("too_short", "13900139005", "\u202e好\u200b"),
            )
        }
        session.add(BlockedPhone(phone_hmac=vault.lookup_hash("１３９００１３９００１"), reason="P6 測試"))
        session.commit()
        before = {u.id: (u.phone_hmac, u.phone_cipher) for u in session.scalars(select(User))}
        session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0010")
        upgrade(directory=str(MIGRATIONS))

        users = {u.id: u for u in db.session.scalars(select(User))}
        assert vault.decrypt(users[ids["alone"]].phone_cipher) == "13900139001"
        assert users[ids["alone"]].phone_hmac == vault.lookup_hash("13900139001")
        assert db.session.get(BlockedPhone, vault.lookup_hash("13900139001")) is not None
        for name in ("kept", "twin"):  # one phone, two accounts: untouched, left to a person
            assert (users[ids[name]].phone_hmac, users[ids[name]].phone_cipher) == before[ids[name]]
        assert users[ids["hidden_space"]].nickname == "柳園晨讀"
        assert users[ids["lookalike"]].nickname == f"網友{ids['lookalike']}"
        assert users[ids["too_short"]].nickname == f"網友{ids['too_short']}"
        # 0011 renames before the reading exists; 0020 then reads the names as renamed.
        assert all(u.nickname_reading == reading(u.nickname) for u in users.values())
        untouched = set(before) - {ids["alone"], ids["hidden_space"], ids["lookalike"], ids["too_short"]}
        assert all((users[i].phone_hmac, users[i].phone_cipher) == before[i] for i in untouched)

        records = db.session.execute(
            select(ModerationAction.action, ModerationAction.target_id, ModerationAction.actor_role).where(
                ModerationAction.action.in_(REPAIRS)
            )
        ).all()
        assert sorted(records) == sorted(
            [
                (account_repair.PHONE_NORMALISED, ids["alone"], "system"),
                (account_repair.NICKNAME_CLEANED, ids["hidden_space"], "system"),
                (account_repair.NICKNAME_PLACEHOLDER, ids["lookalike"], "system"),
                (account_repair.NICKNAME_PLACEHOLDER, ids["too_short"], "system"),
            ]
        )


def test_0013_renders_old_bodies_again_without_the_code_inside_style_and_script(demo_app):
    """Bodies stored while bleach kept the text of <style> and <script> are rendered again (text
    and search index too), one audit row each; the demo's bodies, already right, stay as they are."""
    with demo_app.app_context():
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0012")
        section = db.session.scalars(select(Article.section_id)).first()
        old_article = make_article_as_stored_before_the_fix(db.session, db.session.get(Section, section))
        old_page = make_page_as_stored_before_the_fix(db.session)
        untouched = {a.id: a.body_html for a in db.session.scalars(select(Article)) if a.id != old_article.id}
        db.session.commit()
        ids = (old_article.id, old_page.id)
        assert "p{color:red}" in old_article.body_text
        assert _search_hits(db.session, "color") == [old_article.id]
        stamp = db.session.get(ContentVersion, 1).stamp
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))

        article, page = db.session.get(Article, ids[0]), db.session.get(Page, ids[1])
        assert article.body_html == "\n\n<p>東昌湖畔柳色新</p>"
        assert article.body_text == "東昌湖畔柳色新"
        assert page.body_html == "<h2>交通提示</h2>\n\n\n<p>週末東關大街臨時封閉</p>"
        assert _search_hits(db.session, "color") == []
        assert _search_hits(db.session, "柳色新") == [article.id]
        assert {a.id: a.body_html for a in db.session.scalars(select(Article)) if a.id != ids[0]} == untouched
        assert db.session.get(ContentVersion, 1).stamp != stamp
        records = db.session.execute(
            select(ModerationAction.action, ModerationAction.target_id, ModerationAction.actor_role).where(
                ModerationAction.action.in_(
                    (content_repair.ARTICLE_RERENDERED, content_repair.PAGE_RERENDERED)
                )
            )
        ).all()
        assert sorted(records) == [
            (content_repair.ARTICLE_RERENDERED, ids[0], "system"),
            (content_repair.PAGE_RERENDERED, ids[1], "system"),
        ]


def test_0013_turns_block_patterns_that_one_common_character_satisfies_into_review_entries(demo_app):
    """「re:.」 as a block entry refused every comment: it becomes a review entry, the list is
    published again (a new version), one audit row each; a narrower pattern stays a block."""
    with demo_app.app_context():
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0012")
        ids = {
            term: make_word_as_stored_before_the_fix(db.session, term).id
            for term in ("re:.", "re:\\d", "re:[a-z]", "re:\\d{11}", "re:代[开開]发票")
        }
        review = make_word_as_stored_before_the_fix(db.session, "re:\\w", action="review").id
        db.session.commit()
        old_version = db.session.get(SiteSetting, "wordlist_version")
        old_version = old_version.value if old_version is not None else None
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))

        actions = dict(db.session.execute(select(SensitiveWord.id, SensitiveWord.action)).all())
        assert [actions[ids[t]] for t in ("re:.", "re:\\d", "re:[a-z]")] == ["review"] * 3
        assert [actions[ids[t]] for t in ("re:\\d{11}", "re:代[开開]发票")] == ["block"] * 2
        assert actions[review] == "review"
        version = db.session.get(SiteSetting, "wordlist_version").value
        assert version == version_of(current_entries(db.session)) != old_version
        records = db.session.execute(
            select(ModerationAction.target_id, ModerationAction.actor_role, ModerationAction.note).where(
                ModerationAction.action == content_repair.PATTERN_TO_REVIEW
            )
        ).all()
        assert sorted((r.target_id, r.actor_role) for r in records) == sorted(
            (ids[t], "system") for t in ("re:.", "re:\\d", "re:[a-z]")
        )
        assert all("改為送審" in r.note for r in records)


def _before_0017() -> str:
    """The revision 0017 follows (it moves when another lands before it)."""
    return ScriptDirectory(str(MIGRATIONS)).get_revision("0017").down_revision


def test_0017_fills_the_bulk_hide_rows_from_the_acts_json_and_a_scoped_reach_finds_them(demo_app):
    """Bulk hides recorded before 0017 named what they hid only in their JSON: each named comment
    that exists becomes a row with its article, once, and the act is then in the reach of a
    moderator of that article's section. Unreadable JSON and other acts give no rows."""
    with demo_app.app_context():
        session = db.session
        picked = session.execute(
            select(Comment.id, Comment.article_id, Article.section_id)
            .join(Article, Article.id == Comment.article_id)
            .order_by(Comment.id)
            .limit(2)
        ).all()
        assert len(picked) == 2
        session.remove()
        downgrade(directory=str(MIGRATIONS), revision=_before_0017())
        assert "bulk_hide_comment" not in _tables(db.session)

        def act(action: str, after: str) -> int:
            row = ModerationAction(actor_role="admin", action=action, target_type="comments", after=after)
            db.session.add(row)
            db.session.flush()
            return row.id

        (first, first_article, section), (second, second_article, _) = picked
        named = json.dumps({"term": "加群", "hidden": [first, second, first, 10**9, 2**70, "3", True]})
        hide = act("emergency.bulk_hide", named)
        unreadable = act("emergency.bulk_hide", "not json")
        other = act("moderation.hide", json.dumps({"hidden": [first]}))
        db.session.commit()
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))

        def stored() -> list:
            return sorted(
                db.session.execute(
                    select(
                        BulkHideComment.action_id, BulkHideComment.comment_id, BulkHideComment.article_id
                    ).where(BulkHideComment.action_id.in_([hide, unreadable, other]))
                ).all()
            )

        expected = sorted([(hide, first, first_article), (hide, second, second_article)])
        assert stored() == expected
        reach = records.Reach(viewer_id=0, sections=frozenset({section}))
        assert records.within_reach(db.session, db.session.get(ModerationAction, hide), reach)
        assert not records.within_reach(db.session, db.session.get(ModerationAction, unreadable), reach)
        assert records.hidden_within(db.session, [hide], reach)[hide][0] == first

        db.session.remove()  # down and up again: the same rows, none twice
        downgrade(directory=str(MIGRATIONS), revision=_before_0017())
        upgrade(directory=str(MIGRATIONS))
        assert stored() == expected


def _before_0020() -> str:
    """The revision 0020 follows (it moves when another lands before it)."""
    return ScriptDirectory(str(MIGRATIONS)).get_revision("0020").down_revision


_OLD_USERS = table(
    "user_account",
    *(
        column(name)
        for name in (
            "nickname",
            "phone_cipher",
            "phone_hmac",
            "password_hash",
            "role",
            "can_view_pii",
            "state",
            "muted_reason",
            "credit",
            "terms_version",
            "session_token",
            "created_at",
            "deregistered_at",
            "anonymised_at",
        )
    ),
)


def test_0020_gives_every_account_how_its_name_reads_batch_by_batch_and_a_downgrade_drops_it(demo_app):
    """P4 now finds a taken name by the reading each account keeps: the accounts stored before
    0020 (more than two of its 1,000-row batches; deregistered and anonymised ones among them) get
    theirs, and an old name is then taken in the other script and in full width as before."""
    vault = PhoneVault.from_secret(TEST_PII_KEY)
    with demo_app.app_context():
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision=_before_0020())
        assert "nickname_reading" not in _columns(db.session, "user_account")
        when = datetime(2026, 1, 1)
        kinds = (
            "運河晨跑",
            "Ｌａｋｅ湖",
            "Straße",
            "已註銷用戶",
            "光岳樓下",
        )  # 2: deregistered, 3: anonymised
        names = [f"{kinds[n % 5]}{n}" for n in range(2500)]
        db.session.execute(
            insert(_OLD_USERS),
            [
                {
                    "nickname": name,
                    "phone_cipher": b"-",
                    "phone_hmac": f"old-{n}",
                    "password_hash": "-",
                    "role": "reader",
                    "can_view_pii": False,
                    "state": "active",
                    "muted_reason": "",
                    "credit": 0,
                    "terms_version": "",
                    "session_token": f"old-session-{n}",
                    "created_at": when,
                    "deregistered_at": when if n % 5 in (2, 3) else None,
                    "anonymised_at": when if n % 5 == 3 else None,
                }
                for n, name in enumerate(names)
            ],
        )
        db.session.commit()
        db.session.remove()

        upgrade(directory=str(MIGRATIONS))
        stored = dict(db.session.execute(select(User.nickname, User.nickname_reading)).all())
        assert set(names) < set(stored)
        assert all(kept == reading(name) for name, kept in stored.items())
        assert (stored["運河晨跑0"], stored["Ｌａｋｅ湖1"], stored["Straße2"], stored["已註銷用戶3"]) == (
            "运河晨跑0",
            "lake湖1",
            "strasse2",
            "已注销用户3",
        )
        assert "ix_user_account_nickname_reading" in _indexes(db.session, "user_account")
        (kept,) = [
            c
            for c in inspect(db.session.connection()).get_columns("user_account")
            if c["name"] == "nickname_reading"
        ]
        assert kept["nullable"] is False
        for lookalike in ("运河晨跑0", "LAKE湖1", "STRASSE2"):
            with pytest.raises(Rejected, match="該暱稱已被使用"):
                accounts.create_verified_user(
                    db.session,
                    phone="13900139000",
                    nickname=lookalike,
                    password="long-enough-1",
                    role="reader",
                    vault=vault,
                    hasher=demo_app.config["PASSWORD_HASHER"],
                    now=when,
                )
        db.session.rollback()
        db.session.remove()

        downgrade(directory=str(MIGRATIONS), revision=_before_0020())
        assert "nickname_reading" not in _columns(db.session, "user_account")
        assert "ix_user_account_nickname_reading" not in _indexes(db.session, "user_account")
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        assert dict(db.session.execute(select(User.nickname, User.nickname_reading)).all()) == stored


def _before_0023() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_revision("0023").down_revision


_OLD_NOTICES = table(
    "notification", *(column(name) for name in ("user_id", "kind", "text", "link", "created_at"))
)


def test_0023_names_a_replys_author_by_reference_and_a_downgrade_writes_the_name_back(demo_app):
    """A reply's 消息 copied its author's name into the text; after 0023 it points at the author, so
    the name shown is theirs of now. A name from before a rename is cut too; a notice whose comment
    is gone, and every other kind, keep their text."""
    with demo_app.app_context():
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision=_before_0023())
        assert "actor_id" not in _columns(db.session, "notification")
        reply = db.session.execute(
            text("SELECT id, article_id, author_id FROM comment ORDER BY id LIMIT 1")
        ).one()
        author = db.session.get(User, reply.author_id)
        reader = db.session.scalar(select(User).where(User.id != author.id).order_by(User.id).limit(1))
        author_id, nickname, reader_id = author.id, author.nickname, reader.id
        link = f"/articles/{reply.article_id}#comment-{reply.id}"
        rows = {
            "now": f"{nickname} 回覆了您的評論：說得好",
            "renamed": "舊的 名字 回覆了您的評論：回覆了您的評論：也好",
            "gone": "某人 回覆了您的評論：已刪除",
            "decision": "您的評論未通過審核。如有異議可申訴。",
        }
        links = {"now": link, "renamed": link, "gone": "/articles/1#comment-999999", "decision": ""}
        when = datetime(2026, 1, 1)
        db.session.execute(
            insert(_OLD_NOTICES),
            [
                {
                    "user_id": reader_id,
                    "kind": "decision" if key == "decision" else "reply",
                    "text": body,
                    "link": links[key],
                    "created_at": when,
                }
                for key, body in rows.items()
            ],
        )
        db.session.commit()
        db.session.remove()

        upgrade(directory=str(MIGRATIONS))
        assert "ix_notification_actor" in _indexes(db.session, "notification")
        stored = {
            notice.text: notice
            for notice in db.session.scalars(select(Notification).where(Notification.user_id == reader_id))
        }
        now, renamed = stored["回覆了您的評論：說得好"], stored["回覆了您的評論：回覆了您的評論：也好"]
        assert now.actor_id == renamed.actor_id == author_id
        assert now.shown_text == f"{nickname} 回覆了您的評論：說得好"
        assert stored[rows["gone"]].actor_id is None and stored[rows["decision"]].actor_id is None
        assert stored[rows["decision"]].shown_text == rows["decision"]
        db.session.remove()

        downgrade(directory=str(MIGRATIONS), revision=_before_0023())
        back = set(
            db.session.scalars(text("SELECT text FROM notification WHERE user_id = :id"), {"id": reader_id})
        )
        assert {rows["now"], f"{nickname} 回覆了您的評論：回覆了您的評論：也好"} < back
        assert {rows["gone"], rows["decision"]} < back
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))


def test_0021_reads_every_name_again_without_spaces_and_punctuation_and_a_downgrade_reads_as_before(
    demo_app,
):
    """Accounts stored before 0021 kept readings with their spaces and punctuation: 「東昌 湖畔客」
    read apart from 東昌湖畔客, so a new 東昌湖畔客 passed beside it. 0021 reads them again; a downgrade puts
    back what the older code computes (its own check compares against them)."""
    vault = PhoneVault.from_secret(TEST_PII_KEY)
    names = ["東昌 湖畔客", "古樓·夜話", "Lаke鳥", "鳳凰台上人。"]  # a Cyrillic а in Lаke
    with demo_app.app_context():
        for n, name in enumerate(names):
            accounts.create_verified_user(
                db.session,
                phone=f"1390013{n:04d}",
                nickname=name,
                password="long-enough-1",
                role="reader",
                vault=vault,
                hasher=demo_app.config["PASSWORD_HASHER"],
                now=datetime(2026, 1, 1),
            )
        db.session.commit()
        db.session.remove()
        # To the revision 0021 follows (0020 here; it moves when another lands before it).
        downgrade(
            directory=str(MIGRATIONS),
            revision=ScriptDirectory(str(MIGRATIONS)).get_revision("0021").down_revision,
        )
        older = dict(db.session.execute(select(User.nickname, User.nickname_reading)).all())
        assert [older[name] for name in names] == ["东昌 湖畔客", "古楼·夜话", "lаke鸟", "凤凰台上人。"]
        db.session.remove()

        upgrade(directory=str(MIGRATIONS))
        stored = dict(db.session.execute(select(User.nickname, User.nickname_reading)).all())
        assert [stored[name] for name in names] == ["东昌湖畔客", "古楼夜话", "lake鸟", "凤凰台上人"]
        assert all(kept == reading(name) for name, kept in stored.items())
        for lookalike in ("東昌湖畔客", "古樓夜話", "Lake鳥", "鳳凰台上人"):
            with pytest.raises(Rejected, match="該暱稱已被使用"):
                accounts.create_verified_user(
                    db.session,
                    phone="13900139999",
                    nickname=lookalike,
                    password="long-enough-1",
                    role="reader",
                    vault=vault,
                    hasher=demo_app.config["PASSWORD_HASHER"],
                    now=datetime(2026, 1, 1),
                )
        db.session.rollback()
