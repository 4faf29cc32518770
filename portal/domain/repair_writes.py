"""The writes of the repairs migrations run (0011, 0013) and their commands repeat: plain Core
statements on the columns they name, not the models, whose later columns a migration's schema may
not have yet (an insert through a model would name them all)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, column, insert, table, update

_VERSIONS = table("content_version", column("id"), column("stamp"), column("activity"))
_RECORDS = table(
    "moderation_action",
    *(column(name) for name in ("actor_id", "actor_role", "action", "target_type", "target_id")),
    *(column(name) for name in ("reason_code", "note", "before", "after", "ip", "created_at")),
)


def system_record(
    connection: Connection,
    *,
    action: str,
    target_type: str,
    target_id: int,
    note: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any],
    now: datetime,
) -> None:
    """audit.record's row for a change by the system, written with the columns migrations know."""
    connection.execute(
        insert(_RECORDS).values(
            actor_id=None,
            actor_role="system",
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason_code="",
            note=note,
            before=json.dumps(before or {}, ensure_ascii=False),
            after=json.dumps(after, ensure_ascii=False),
            ip="",
            created_at=now,
        )
    )


def new_stamp() -> str:
    return secrets.token_hex(8)  # as portal.domain.content_version: random, never reused


def replace_content_version(connection: Connection) -> None:
    """What public pages show has changed: their cached copies go (staff pages' too)."""
    connection.execute(
        update(_VERSIONS).where(_VERSIONS.c.id == 1).values(stamp=new_stamp(), activity=new_stamp())
    )
