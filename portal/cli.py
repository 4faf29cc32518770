"""Operator commands: `flask --app wsgi <command>`."""

from __future__ import annotations

from pathlib import Path

import click
from argon2 import PasswordHasher
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from portal import MIGRATIONS, write_instance_config
from portal.domain import accounts
from portal.domain.errors import Rejected
from portal.domain.pii import PhoneVault
from portal.extensions import db
from portal.models import Role, utc_now


def upgrade_schema() -> None:
    """Create the schema, or upgrade an existing one in place, through the migrations."""
    upgrade(directory=str(MIGRATIONS))


def phone_vault() -> PhoneVault:
    return PhoneVault.from_secret(current_app.config["PII_KEY"])


def password_hasher() -> PasswordHasher:
    return current_app.config.get("PASSWORD_HASHER") or PasswordHasher()


@click.command("init-instance")
@with_appcontext
def init_instance() -> None:
    """Write instance/config.py with fresh secrets if it is missing."""
    path = write_instance_config(Path(current_app.instance_path))
    click.echo(f"實例設定：{path}")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database or upgrade it to the latest schema."""
    upgrade_schema()
    click.echo("資料庫已是最新結構。")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo content (idempotent: a second run changes nothing)."""
    from portal.demo import load_demo

    upgrade_schema()
    report = load_demo(db.session, media_root=Path(current_app.config["MEDIA_ROOT"]))
    db.session.commit()
    click.echo(
        f"示範內容：新增欄目 {report.sections}、文章 {report.articles}、頁面 {report.pages}、"
        f"設定 {report.settings}、媒體 {report.media}。"
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


def register_commands(app: Flask) -> None:
    for command in (init_instance, init_db, seed_demo, create_user):
        app.cli.add_command(command)
