"""Operator commands: `flask --app wsgi <command>`."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal import MIGRATIONS, write_instance_config
from portal.auth import password_hasher, phone_vault
from portal.domain import account_repair, accounts, content_repair, moderation, records
from portal.domain.errors import Rejected
from portal.domain.pii import mask_phone
from portal.domain.pledge import check_text, input_normalise
from portal.domain.sensitive_words import version_of
from portal.domain.site import comment_rules, load_settings
from portal.domain.wordlist import WordList, WordListError, parse_word_csv
from portal.extensions import db
from portal.models import Role, utc_now
from portal.words import current_word_list


def upgrade_schema() -> None:
    """Create the schema, or upgrade an existing one in place, through the migrations."""
    from flask_migrate import upgrade  # lazy: alembic is for migrations only (see LazyMigrate)

    upgrade(directory=str(MIGRATIONS))


class MigrationCommands(click.Group):
    """`flask db …`: Flask-Migrate's own group, imported only when one of its commands runs (lazy,
    like LazyMigrate: a worker that starts never needs alembic)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


@click.command("init-instance")
@with_appcontext
def init_instance() -> None:
    """Write instance/config.py with fresh secrets if it is missing."""
    path = write_instance_config(Path(current_app.instance_path))
    click.echo(f"實例設置：{path}")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database or upgrade it to the latest schema."""
    upgrade_schema()
    click.echo("數據庫已是最新結構。")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo content (idempotent: a second run changes nothing)."""
    from portal.demo import load_demo

    upgrade_schema()
    report = load_demo(
        db.session,
        media_root=Path(current_app.config["MEDIA_ROOT"]),
        vault=phone_vault(),
        hasher=password_hasher(),
        now=utc_now(),
    )
    db.session.commit()
    click.echo(
        f"示範內容：新增欄目 {report.sections}、文章 {report.articles}、頁面 {report.pages}、"
        f"設置 {report.settings}、媒體 {report.media}、敏感詞 {report.words}、評論 {report.comments}。"
    )


@click.command("create-user")
@with_appcontext
@click.option("--phone", required=True)
@click.option("--nickname", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.READER.value)
def create_user(phone: str, nickname: str, password: str, role: str) -> None:
    """Create a verified account (for operators and tests)."""
    try:
        user = accounts.create_verified_user(
            db.session,
            phone=phone,
            nickname=nickname,
            password=password,
            role=Role(role),
            vault=phone_vault(),
            hasher=password_hasher(),
            now=utc_now(),
        )
    except Rejected as refusal:
        raise click.ClickException(refusal.message) from refusal
    db.session.commit()
    click.echo(f"已建立用戶 {user.nickname}（{user.role}），編號 {user.id}。")


pledge = click.Group("pledge", help="跟帖評論規則：試用詞庫。")


@pledge.command("check")
@click.option("--words", "words_file", type=click.Path(exists=True, dir_okay=False), default=None)
@with_appcontext
def pledge_check(words_file: str | None) -> None:
    """One JSON verdict per line of standard input (PLEDGE_RULES §7); nothing is written."""
    if words_file:
        try:
            entries = parse_word_csv(Path(words_file).read_text(encoding="utf-8-sig"))
        except (WordListError, UnicodeDecodeError) as error:
            click.echo(str(error), err=True)
            raise SystemExit(2) from error
        words = WordList.build(entries, version=f"file:{version_of(entries)}")
    else:
        words = current_word_list()
    rules = comment_rules(load_settings(db.session))
    stdin = (
        io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
        if hasattr(sys.stdin, "buffer")
        else sys.stdin
    )
    for line in stdin:
        text = input_normalise(line.removesuffix("\n").removesuffix("\r"))
        verdict = check_text(text, words, min_length=rules.min_length, max_length=rules.max_length)
        click.echo(json.dumps(verdict.to_json_dict(), ensure_ascii=False))


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(target: str) -> None:
    """A consistent copy of the SQLite database while the site runs (SQLite's online backup API)."""
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        raise click.ClickException(
            'PostgreSQL 請用 pg_dump 備份，例如：pg_dump --format=custom --file=portal.dump "$DATABASE_URL"'
        )
    source = sqlite3.connect(uri.removeprefix("sqlite:///"), timeout=15)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination, pages=1024)  # in steps: writers are not blocked for long
    finally:
        destination.close()
        source.close()
    click.echo(f"已備份到 {target}")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete submission records past the retention period (P28), except those on evidence hold."""
    configured = load_settings(db.session).get("retention_days", str(records.RETENTION_DEFAULT_DAYS))
    days = records.retention_days({"retention_days": configured})
    if not configured.strip().isdigit():
        click.echo(f"保存期限設置「{configured}」無效，按{days}天執行。")
    elif int(configured) < days:
        click.echo(f"保存期限設置為{int(configured)}天，少於法定最少的{days}天，按{days}天執行。")
    count = moderation.purge(db.session, now=utc_now(), retention_days=days)
    # 註銷 accounts past the same period lose their personal information (P29); the records, purged
    # above, no longer need it, and a record on evidence hold keeps its account as it was.
    anonymised = accounts.anonymise_deregistered(
        db.session, vault=phone_vault(), retention_days=days, now=utc_now()
    )
    db.session.commit()
    current_app.logger.info("purge: %d submission records older than %d days deleted", count, days)
    click.echo(f"已刪除{count}條超過{days}天的提交記錄（保存在案的除外）；本次清理已記入審核記錄。")
    if anonymised:
        click.echo(f"已匿名化{anonymised}個註銷滿{days}天的賬號。")


@click.command("patrol")
@with_appcontext
def patrol() -> None:
    """實時巡查 (P22): recheck the approved comments of the last 30 days against the word list."""
    hits = moderation.patrol(db.session, words=current_word_list(), now=utc_now())
    db.session.commit()
    click.echo(f"巡查完成：{len(hits)}條評論命中詞庫，已列入審核台的「巡查」。")


STATES = {"active": "正常", "restricted": "受限", "closed": "已關閉"}


@click.command("check-accounts")
@click.option("--fix", is_flag=True, help="先做可以自動完成的規範化（與遷移0011相同），再列出其餘。")
@with_appcontext
def check_accounts(fix: bool) -> None:
    """Accounts stored before the phone and nickname fixes: what needs a person (nothing is merged).
    Nicknames registered before the P4 rules on staff names and names that read alike are listed
    for a person to decide; --fix never renames them."""
    key = current_app.config.get("PII_KEY") or ""
    vault = phone_vault() if len(key) >= 32 else None
    connection = db.session.connection()
    if fix:
        done, found = account_repair.repair(connection, vault=vault, words=current_word_list, now=utc_now())
    else:
        done, found = None, account_repair.survey(connection, vault=vault, words=current_word_list)
    # Judged by the names they will have once the safe repair is done (it gives cleaned names).
    names = account_repair.names_to_review(
        connection, words=current_word_list, renamed={c.user_id: c.after for c in found.nicknames}
    )
    if fix:
        db.session.commit()
    for line in _account_report(found, done=done, names=names):
        click.echo(line)


def _named(account: account_repair.NamedAccount) -> str:
    role = "，工作人員" if account.role in account_repair.STAFF_ROLES else ""
    return f"#{account.user_id}「{account_repair.shown(account.nickname)}」（{STATES.get(account.state, account.state)}{role}）"


def _name_report(names: account_repair.NameReview) -> list[str]:
    lines = []
    if names.refused:
        lines.append(
            f"現在不允許使用的暱稱（註冊時規則較寬，或詞庫已更新）：{len(names.refused)} 個。請人工核實並聯絡用戶改名，不會自動改名："
        )
        lines.extend(f"  {_named(item.account)}：{item.reason}" for item in names.refused)
    if names.lookalikes:
        lines.append(
            f"簡體頁面上顯示相同的暱稱（繁簡、全形半形或大小寫不同）：{len(names.lookalikes)} 組。"
            "請人工決定由誰保留，不會自動改名："
        )
        for group in names.lookalikes:
            first, *others = group
            lines.append(f"  {_named(first)} 先註冊；{'、'.join(_named(a) for a in others)}")
    return lines


def _account_report(
    found: account_repair.Survey,
    *,
    done: account_repair.Survey | None,
    names: account_repair.NameReview | None = None,
) -> list[str]:
    lines = []
    if found.phones_unchecked:
        lines.append("未設置有效的 PII_KEY，無法讀取手機號碼：手機號碼未檢查。")
    for how, changes in (("已規範化", done), ("可自動規範化（flask check-accounts --fix）", found)):
        if changes is not None and (changes.phones or changes.nicknames):
            lines.append(f"{how}：手機號碼 {len(changes.phones)} 個，暱稱 {len(changes.nicknames)} 個。")
    if found.clashes:
        lines.append(f"規範化後手機號碼相同的賬號：{len(found.clashes)} 組。請人工核實，切勿合併：")
    for clash in found.clashes:
        keep, close = clash.keep, "、".join(f"#{a.user_id}" for a in clash.close)
        accounts = "、".join(
            f"#{a.user_id}（{STATES.get(a.state, a.state)}，{'可登錄' if a.in_normal_form else '格式未規範化，無法登錄'}）"
            for a in clash.accounts
        )
        lines.append(f"  {mask_phone(clash.number)}：{accounts} → 建議保留 #{keep.user_id}，關閉 {close}")
    if found.invalid:
        lines.append(f"手機號碼規範化後不是有效的手機號：{_ids(found.invalid)}。請聯絡用戶重新綁定。")
    if found.unreadable:
        lines.append(f"手機號碼無法用目前的 PII_KEY 解密：{_ids(found.unreadable)}。")
    if found.placeholders:
        lines.append(f"暱稱使用臨時名稱、待人工處理：{len(found.placeholders)} 個：")
    for change in found.placeholders:
        lines.append(
            f"  #{change.user_id} {change.after}（原暱稱「{account_repair.shown(change.before)}」，{change.note}）"
        )
    if names is not None:
        lines.extend(_name_report(names))
    if not found.needs_a_person and not (names is not None and names.needs_a_person):
        lines.append("沒有需要人工處理的賬號。")
    return lines


def _ids(user_ids: list[int]) -> str:
    return "、".join(f"#{uid}" for uid in user_ids)


@click.command("check-words")
@click.option("--fix", is_flag=True, help="把這些屏蔽正則改為送審（與遷移0013相同），並記入審核記錄。")
@with_appcontext
def check_words(fix: bool) -> None:
    """Block patterns saved before the rule that one common character may not satisfy them."""
    connection = db.session.connection()
    if fix:
        found = content_repair.demote_patterns(connection, now=utc_now())
        db.session.commit()
        heading = f"已改為送審：{len(found)}條屏蔽正則（單獨一個字就會匹配）。"
    else:
        found = content_repair.refused_patterns(connection)
        heading = f"單獨一個字就會匹配、會拒絕幾乎所有評論的屏蔽正則：{len(found)}條。"
    if not found:
        click.echo("詞庫中沒有單獨一個字就會匹配的屏蔽正則。")
        return
    click.echo(heading)
    for pattern in found:
        click.echo(f"  #{pattern.id} {pattern.term}（如「{pattern.character}」）")
    if not fix:
        click.echo("執行 flask check-words --fix 把它們改為送審。")


def register_commands(app: Flask) -> None:
    commands = (
        init_instance,
        init_db,
        seed_demo,
        create_user,
        pledge,
        backup,
        purge,
        patrol,
        check_accounts,
        check_words,
    )
    for command in commands:
        app.cli.add_command(command)
    app.cli.add_command(MigrationCommands("db", help="Perform database migrations."))
