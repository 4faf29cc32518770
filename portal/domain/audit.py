"""The append-only record (P28): one row per decision or logged event, in the caller's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.domain import content_version
from portal.models import ModerationAction, User

_INSERT = insert(ModerationAction)


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    reason_code: str = "",
    note: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
    now: datetime,
    at_once: bool = False,
) -> ModerationAction:
    """The row, added to the session (the flush stamps the pages it touches).

    `at_once` writes it at once by a prebuilt statement instead, for posting's hot path: no unit of
    work, and the row returned is not in the session. A record is shown to staff only, so it then
    replaces the activity stamp and, as the flush would, the actor's page stamp."""
    row = ModerationAction(
        actor_id=actor.id if actor is not None else None,
        actor_role=str(actor.role) if actor is not None else "system",
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason_code=reason_code,
        note=note,
        before=json.dumps(before or {}, ensure_ascii=False, default=str),
        after=json.dumps(after or {}, ensure_ascii=False, default=str),
        ip=ip,
        created_at=now,
    )
    if not at_once:
        session.add(row)
        return row
    session.connection().execute(_INSERT, {column.key: getattr(row, column.key) for column in _WRITTEN})
    content_version.private_change(session, {row.actor_id} - {None})
    return row


_WRITTEN = [column for column in ModerationAction.__table__.columns if column.key != "id"]
