"""Operator commands: init-db, seed-demo (complete and idempotent), create-user."""

from __future__ import annotations

import hashlib
import re
import wave
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask.cli import FlaskGroup
from PIL import Image
from sqlalchemy import func, select, text

from portal import create_app
from portal.demo.comments import READERS
from portal.domain import account_repair, content_repair
from portal.domain.pii import PhoneVault
from portal.domain.pledge import check_text
from portal.domain.script import reading
from portal.domain.sensitive_words import current_entries
from portal.domain.wordlist import WordList
from portal.extensions import db
from portal.models import (
    Article,
    Media,
    MediaKind,
    ModerationAction,
    Page,
    Role,
    Section,
    SensitiveWord,
    SiteSetting,
    User,
)
from tests.conftest import TEST_PII_KEY, app_config
from tests.factories import make_account_as_stored_before_the_fixes, make_word_as_stored_before_the_fix

SEED_TITLE = "動起來 跑起來 干起來"
DEMO_TABLES = ("article", "media", "page", "site_setting", "section")
FOOTER_SLUGS = ["about", "ads", "copyright", "contact", "pledge"]
OTHER_PAGES = {"rules", "privacy", "terms"}


def flask(runner, *args: str):
    """Run a command as `flask --app wsgi <command>` does: through a FlaskGroup, which pushes the
    app context before the command runs."""
    group = FlaskGroup(add_default_commands=False, load_dotenv=False, set_debug_flag=False)
    return runner.invoke(group, args=list(args))


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


# --- init-db --------------------------------------------------------------------------------------


def _revision(app) -> str:
    with app.app_context():
        return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def test_init_db_succeeds_on_an_already_migrated_database(app, runner):
    before = _revision(app)
    result = flask(runner, "init-db")
    assert result.exit_code == 0, result.output
    assert "數據庫已是最新結構" in result.output
    assert _revision(app) == before


@pytest.mark.parametrize("command", ["init-db", "init-instance"])
def test_commands_run_from_the_test_cli_runner(app, runner, command):
    # Flask's documented way to test a command: app.test_cli_runner().invoke(args=[...]). It goes
    # through app.cli directly, so a command needs its own app context (flask.cli.with_appcontext).
    result = runner.invoke(args=[command])
    assert result.exit_code == 0, result.output


def test_init_db_creates_the_schema_of_a_new_database(tmp_path):
    app = create_app(app_config(tmp_path / "new.sqlite", tmp_path / "media"))
    result = flask(app.test_cli_runner(), "init-db")
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
        assert {"article", "article_fts", "section", "media", "page", "site_setting", "user_account"} <= names
    _dispose(app)


# --- seed-demo ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One `seed-demo` run on an empty database with its own media folder, shared read-only."""
    folder = tmp_path_factory.mktemp("seeded-by-cli")
    app = create_app(app_config(folder / "portal.sqlite", folder / "media"))
    result = flask(app.test_cli_runner(), "seed-demo")
    assert result.exit_code == 0, result.output
    yield app, result.output, folder / "media"
    _dispose(app)


def _counts(output: str) -> dict[str, int]:
    labels = {"欄目": "section", "文章": "article", "頁面": "page", "設置": "site_setting", "媒體": "media"}
    return {table: int(n) for label, table in labels.items() for n in re.findall(rf"{label} (\d+)", output)}


def test_seed_demo_reports_what_it_added(seeded):
    app, output, _ = seeded
    reported = _counts(output)
    assert set(reported) == set(DEMO_TABLES)
    with app.app_context():
        for table in DEMO_TABLES:
            assert reported[table] == db.session.scalar(text(f"SELECT count(*) FROM {table}")), table


def test_seed_demo_loads_the_seed_and_at_least_eighty_more_articles(seeded):
    app, _, _ = seeded
    with app.app_context():
        seed = db.session.scalar(select(Article).where(Article.title == SEED_TITLE))
        assert seed is not None
        assert seed.section.slug == "shandong"
        others = db.session.scalar(select(func.count()).select_from(Article).where(Article.id != seed.id))
    assert others >= 80


def test_seed_demo_puts_articles_in_every_section_and_every_leaf(seeded):
    app, _, _ = seeded
    with app.app_context():
        sections = db.session.scalars(select(Section)).all()
        own = dict(
            db.session.execute(select(Article.section_id, func.count()).group_by(Article.section_id)).all()
        )
    assert len([s for s in sections if s.parent_id is None]) == 10
    parents = {s.parent_id for s in sections}
    leaves = [s for s in sections if s.id not in parents]
    assert [s.slug for s in leaves if own.get(s.id, 0) == 0] == []

    def subtree_total(section: Section) -> int:
        return own.get(section.id, 0) + sum(subtree_total(c) for c in sections if c.parent_id == section.id)

    assert [s.slug for s in sections if subtree_total(s) == 0] == []


def test_seed_demo_loads_the_footer_pages_in_order_and_the_linked_pages(seeded):
    app, _, _ = seeded
    with app.app_context():
        pages = db.session.scalars(select(Page).order_by(Page.position, Page.id)).all()
    assert [p.slug for p in pages if p.in_footer] == FOOTER_SLUGS
    assert {p.slug for p in pages if not p.in_footer} == OTHER_PAGES
    for page in pages:
        assert page.title
        assert page.body_html.strip()


def test_seed_demo_turns_the_seed_footer_into_settings(seeded):
    app, _, _ = seeded
    with app.app_context():
        settings = {s.key: s.value for s in db.session.scalars(select(SiteSetting))}
    assert settings["site_name"] == "聊城新聞網"
    assert settings["report_phone"] == "18663509279"
    assert settings["report_email"] == "lcxw@lcxw.cn"
    assert settings["footer_copyright"].startswith("聊城新聞網 2006-2023 版權所有")
    assert len(settings["footer_licences"].splitlines()) == 2


def test_every_media_file_referenced_exists_and_pictures_open(seeded):
    app, _, media_root = seeded
    with app.app_context():
        media = db.session.scalars(select(Media)).all()
        referenced = set(db.session.scalars(select(Article.cover_id).where(Article.cover_id.is_not(None))))
        referenced |= set(db.session.scalars(select(Article.player_id).where(Article.player_id.is_not(None))))
        known = {m.id for m in media}
    assert referenced <= known
    kinds = {m.kind for m in media}
    assert kinds == {MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.AUDIO}
    for item in media:
        path = media_root / item.path
        assert path.is_file(), item.path
        assert path.stat().st_size == item.size, item.path
        if item.kind == MediaKind.IMAGE:
            with Image.open(path) as picture:
                picture.verify()
            with Image.open(path) as picture:
                assert picture.format == "JPEG"
                assert picture.size == (item.width, item.height)
            for width in item.variant_widths():
                with Image.open(media_root / item.variant_path(width)) as copy:
                    assert copy.size[0] == width
        elif item.kind == MediaKind.VIDEO:
            assert path.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
            assert path.with_suffix(".vtt").read_text(encoding="utf-8").startswith("WEBVTT")
        else:
            with wave.open(str(path), "rb") as sound:
                assert sound.getnframes() > 0


def _snapshot(app, media_root: Path) -> dict:
    with app.app_context():
        rows = {}
        for table in DEMO_TABLES:
            found = db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            rows[table] = (len(found), hashlib.sha256(repr([tuple(r) for r in found]).encode()).hexdigest())
    files = {
        str(p.relative_to(media_root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(media_root.rglob("*"))
        if p.is_file()
    }
    return {"rows": rows, "files": files}


def test_a_second_seed_demo_changes_nothing(own_media_app, own_media_runner):
    media_root = Path(own_media_app.config["MEDIA_ROOT"])
    first = flask(own_media_runner, "seed-demo")
    assert first.exit_code == 0, first.output
    before = _snapshot(own_media_app, media_root)
    assert before["rows"]["article"][0] > 80
    second = flask(own_media_runner, "seed-demo")
    assert second.exit_code == 0, second.output
    assert set(_counts(second.output).values()) == {0}
    after = _snapshot(own_media_app, media_root)
    assert after["rows"] == before["rows"]
    assert after["files"] == before["files"]


def test_seed_demo_writes_a_lost_media_file_again(own_media_app, own_media_runner):
    media_root = Path(own_media_app.config["MEDIA_ROOT"])
    assert flask(own_media_runner, "seed-demo").exit_code == 0
    with own_media_app.app_context():
        picture = db.session.scalars(select(Media).where(Media.kind == MediaKind.IMAGE)).first().path
        media_count = db.session.scalar(select(func.count()).select_from(Media))
    (media_root / picture).unlink()
    assert flask(own_media_runner, "seed-demo").exit_code == 0
    assert (media_root / picture).is_file()
    with own_media_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Media)) == media_count


# --- create-user ---------------------------------------------------------------------------------

CREATE = ["create-user", "--phone", "13800138000", "--nickname", "東昌湖邊人", "--password", "secret123"]


def test_create_user_makes_a_verified_moderator_without_a_clear_phone(app, runner):
    result = flask(runner, *CREATE, "--role", "moderator")
    assert result.exit_code == 0, result.output
    assert "東昌湖邊人" in result.output
    vault = PhoneVault.from_secret(TEST_PII_KEY)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.nickname == "東昌湖邊人"))
        assert user.role == Role.MODERATOR
        assert user.phone_verified_at is not None
        assert b"13800138000" not in user.phone_cipher
        assert vault.decrypt(user.phone_cipher) == "13800138000"
        assert user.phone_hmac == vault.lookup_hash("13800138000")
        assert "13800138000" not in user.phone_hmac
        assert PasswordHasher().verify(user.password_hash, "secret123")
        assert "secret123" not in user.password_hash
        db.engine.dispose()
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert b"13800138000" not in stored
    assert "13800138000".encode("utf-16-le") not in stored


def test_create_user_stores_how_the_name_reads_and_refuses_one_that_reads_as_another(app, runner):
    assert flask(runner, *CREATE).exit_code == 0
    result = flask(
        runner, "create-user", "--phone", "13800138001", "--nickname", "东昌湖边人", "--password", "secret123"
    )
    assert result.exit_code != 0 and "該暱稱已被使用" in result.output
    with app.app_context():
        assert db.session.execute(select(User.nickname, User.nickname_reading)).all() == [
            ("東昌湖邊人", "东昌湖边人")
        ]


def test_the_demo_accounts_store_how_their_names_read(demo_app):
    with demo_app.app_context():
        stored = db.session.execute(select(User.nickname, User.nickname_reading)).all()
    assert stored and all(kept == reading(name) for name, kept in stored)
    assert {kept for _, kept in stored} >= {reading(name) for _, name, _ in READERS}


def test_create_user_defaults_to_a_reader(app, runner):
    assert flask(runner, *CREATE).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(User.role)) == Role.READER


@pytest.mark.parametrize("phone", ["13800138000", "+86 138 0013 8000"])
def test_create_user_refuses_a_phone_already_registered(app, runner, phone):
    assert flask(runner, *CREATE).exit_code == 0
    result = flask(
        runner, "create-user", "--phone", phone, "--nickname", "另一位讀者", "--password", "secret123"
    )
    assert result.exit_code != 0
    assert "該手機號已註冊" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("phone", ["12345", "23800138000"])
def test_create_user_refuses_a_bad_phone(app, runner, phone):
    result = flask(
        runner, "create-user", "--phone", phone, "--nickname", "東昌湖邊人", "--password", "secret123"
    )
    assert result.exit_code != 0
    assert "請輸入有效的11位手機號碼" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_a_short_password(app, runner):
    result = flask(
        runner, "create-user", "--phone", "13800138000", "--nickname", "東昌湖邊人", "--password", "short"
    )
    assert result.exit_code != 0
    assert "密碼" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


# --- check-accounts -------------------------------------------------------------------------------


def _old_accounts(app, **accounts: tuple[str, str]) -> dict[str, int]:
    vault = PhoneVault.from_secret(TEST_PII_KEY)
    with app.app_context():
        made = {
            name: make_account_as_stored_before_the_fixes(
                db.session, vault, phone=phone, nickname=nickname
            ).id
            for name, (phone, nickname) in accounts.items()
        }
        db.session.commit()
    return made


def test_check_accounts_reports_two_accounts_of_one_phone_with_the_one_to_close_and_merges_nothing(
    app, runner
):
    ids = _old_accounts(
        app,
        twin=(
            "１３９００１３９００２",
            "湖畔人家",
        ),  # registered first, in full width: login no longer finds it
        kept=("13900139002", "東昌湖畔"),
    )
    with app.app_context():
        before = db.session.execute(select(User.id, User.phone_hmac, User.nickname).order_by(User.id)).all()
    for args in (["check-accounts"], ["check-accounts", "--fix"]):
        result = flask(runner, *args)
        assert result.exit_code == 0, result.output
        assert "規範化後手機號碼相同的賬號：1 組。請人工核實，切勿合併" in result.output
        assert (
            f"139****9002：#{ids['twin']}（正常，格式未規範化，無法登錄）、#{ids['kept']}（正常，可登錄）"
            f" → 建議保留 #{ids['kept']}，關閉 #{ids['twin']}"
        ) in result.output
        assert "13900139002" not in result.output  # masked, as for staff without `pii`
    with app.app_context():
        assert (
            db.session.execute(select(User.id, User.phone_hmac, User.nickname).order_by(User.id)).all()
            == before
        )


def test_check_accounts_fix_does_what_is_safe_and_then_lists_the_flagged_nickname(app, runner):
    ids = _old_accounts(
        app,
        taken=("13900139011", "東昌湖畔"),
        lookalike=("１３９００１３９０１２", "東昌\u200d湖畔"),
    )
    listed = flask(runner, "check-accounts")
    assert listed.exit_code == 0, listed.output
    assert "可自動規範化（flask check-accounts --fix）：手機號碼 1 個，暱稱 1 個。" in listed.output

    fixed = flask(runner, "check-accounts", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "已規範化：手機號碼 1 個，暱稱 1 個。" in fixed.output
    placeholder = f"網友{ids['lookalike']}"
    flagged = (
        f"#{ids['lookalike']} {placeholder}（原暱稱「東昌<U+200D>湖畔」，"
        f"去掉不可見字符後與賬號 #{ids['taken']} 的暱稱「東昌湖畔」相同）"
    )
    assert flagged in fixed.output
    with app.app_context():
        user = db.session.get(User, ids["lookalike"])
        assert (user.nickname, user.nickname_reading) == (placeholder, f"网友{ids['lookalike']}")
        assert user.phone_hmac == PhoneVault.from_secret(TEST_PII_KEY).lookup_hash("13900139012")
        actions = db.session.scalars(
            select(ModerationAction.action).where(ModerationAction.target_id == ids["lookalike"])
        ).all()
        assert sorted(actions) == [account_repair.NICKNAME_PLACEHOLDER, account_repair.PHONE_NORMALISED]

    again = flask(runner, "check-accounts")  # the flag stays until someone renames the account
    assert "暱稱使用臨時名稱、待人工處理：1 個" in again.output and flagged in again.output
    assert "可自動規範化" not in again.output
    with app.app_context():
        db.session.get(User, ids["lookalike"]).nickname = "東昌老街坊"
        db.session.commit()
    assert "沒有需要人工處理的賬號。" in flask(runner, "check-accounts").output


def test_check_accounts_lists_names_registered_before_the_staff_and_lookalike_rules_and_renames_none(
    app, runner
):
    """Nicknames imitating staff (審核員, 管理員 …) and names that read as another account's in the
    简体 view are refused at registration now; accounts registered before were never reported. They
    are listed for a person, and neither check-accounts nor --fix renames them."""
    vault = PhoneVault.from_secret(TEST_PII_KEY)
    people = {
        "moderator": ("13900139031", "值班審核員", Role.MODERATOR),
        "posing": ("13900139032", "值班审核员", Role.READER),
        "admin_like": ("13900139033", "管理員小王", Role.READER),
        "first": ("13900139034", "運河晨跑", Role.READER),
        "second": ("13900139035", "运河晨跑", Role.READER),
        "ascii": ("13900139036", "Lake湖", Role.READER),
        "wide": ("13900139037", "Ｌａｋｅ湖", Role.READER),
        "contact": ("13900139038", "VX13800138000", Role.READER),
        "fine": ("13900139039", "東昌湖邊人", Role.READER),
    }
    with app.app_context():
        ids = {
            name: make_account_as_stored_before_the_fixes(
                db.session, vault, phone=phone, nickname=nickname, role=role
            ).id
            for name, (phone, nickname, role) in people.items()
        }
        db.session.commit()
        before = db.session.execute(select(User.id, User.nickname).order_by(User.id)).all()
        records = db.session.scalar(select(func.count()).select_from(ModerationAction))
    for args in (["check-accounts"], ["check-accounts", "--fix"]):
        result = flask(runner, *args)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert (
            "現在不允許使用的暱稱（註冊時規則較寬，或詞庫已更新）：3 個。請人工核實並聯絡用戶改名，不會自動改名："
            in lines
        )
        assert f"  #{ids['posing']}「值班审核员」（正常）：冒充本站工作人員、官方機構或媒體" in lines
        assert f"  #{ids['admin_like']}「管理員小王」（正常）：冒充本站工作人員、官方機構或媒體" in lines
        assert f"  #{ids['contact']}「VX13800138000」（正常）：含有詞庫中的詞語、網址或聯繫方式" in lines
        assert not [
            line for line in lines if f"#{ids['moderator']}「值班審核員」（正常，工作人員）：" in line
        ]
        assert (
            "簡體頁面上顯示相同的暱稱（繁簡、全形半形或大小寫不同）：3 組。請人工決定由誰保留，不會自動改名："
            in lines
        )
        assert (
            f"  #{ids['moderator']}「值班審核員」（正常，工作人員） 先註冊；#{ids['posing']}「值班审核员」（正常）"
            in lines
        )
        assert f"  #{ids['first']}「運河晨跑」（正常） 先註冊；#{ids['second']}「运河晨跑」（正常）" in lines
        assert f"  #{ids['ascii']}「Lake湖」（正常） 先註冊；#{ids['wide']}「Ｌａｋｅ湖」（正常）" in lines
        assert "東昌湖邊人" not in result.output
        assert "沒有需要人工處理的賬號。" not in result.output
    with app.app_context():
        assert db.session.execute(select(User.id, User.nickname).order_by(User.id)).all() == before
        assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == records


def test_check_accounts_judges_a_nickname_by_the_name_the_safe_repair_gives_it(app, runner):
    """「运河\u200b晨跑」 is cleaned to 运河晨跑, which reads as 運河晨跑: listed before and after --fix."""
    ids = _old_accounts(app, first=("13900139041", "運河晨跑"), hidden=("13900139042", "运河\u200b晨跑"))
    for args in (["check-accounts"], ["check-accounts", "--fix"]):
        result = flask(runner, *args)
        assert f"  #{ids['first']}「運河晨跑」（正常） 先註冊；#{ids['hidden']}「运河晨跑」（正常）" in (
            result.output.splitlines()
        ), result.output


def test_check_accounts_on_clean_accounts_says_nothing_needs_a_person(app, runner):
    _old_accounts(app, reader=("13900139021", "光岳樓下"))
    result = flask(runner, "check-accounts")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "沒有需要人工處理的賬號。"


# --- check-words ----------------------------------------------------------------------------------


def _old_words(app, *terms: str) -> dict[str, int]:
    with app.app_context():
        made = {term: make_word_as_stored_before_the_fix(db.session, term).id for term in terms}
        db.session.commit()
    return made


def _word_actions(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(SensitiveWord.id, SensitiveWord.action)).all())


def test_check_words_lists_block_patterns_one_common_character_satisfies_and_changes_nothing(app, runner):
    ids = _old_words(app, "re:.", "re:[0-9]", "re:\\d{11}")
    before = _word_actions(app)
    result = flask(runner, "check-words")
    assert result.exit_code == 0, result.output
    assert "會拒絕幾乎所有評論的屏蔽正則：2條。" in result.output
    assert f"#{ids['re:.']} re:.（如「的」）" in result.output
    assert f"#{ids['re:[0-9]']} re:[0-9]（如「1」）" in result.output
    assert "\\d{11}" not in result.output
    assert "flask check-words --fix" in result.output
    assert _word_actions(app) == before


def test_check_words_fix_turns_them_into_review_entries_with_a_record_and_a_new_list_version(app, runner):
    ids = _old_words(app, "re:.", "re:\\d{11}")
    with app.app_context():
        old_version = db.session.get(SiteSetting, "wordlist_version")
        old_version = old_version.value if old_version is not None else None
    fixed = flask(runner, "check-words", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "已改為送審：1條屏蔽正則" in fixed.output and f"#{ids['re:.']} re:." in fixed.output
    actions = _word_actions(app)
    assert (actions[ids["re:."]], actions[ids["re:\\d{11}"]]) == ("review", "block")
    with app.app_context():
        assert db.session.get(SiteSetting, "wordlist_version").value != old_version
        records = db.session.execute(
            select(ModerationAction.target_id, ModerationAction.actor_role).where(
                ModerationAction.action == content_repair.PATTERN_TO_REVIEW
            )
        ).all()
        assert records == [(ids["re:."], "system")]
    again = flask(runner, "check-words")
    assert again.output.strip() == "詞庫中沒有單獨一個字就會匹配的屏蔽正則。"


def test_a_fixed_pattern_sends_comments_to_review_instead_of_refusing_them(app, runner):
    _old_words(app, "re:.")

    def verdict() -> str:
        with app.app_context():
            words = WordList.build(current_entries(db.session), version="test")
            return check_text("聊城的春天真好", words, min_length=1, max_length=500).action

    assert verdict() == "block"
    flask(runner, "check-words", "--fix")
    assert verdict() == "review"
