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


def _columns(
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
) -> dict[str, Any]:
    return {
        "actor_id": actor.id if actor is not None else None,
        "actor_role": str(actor.role) if actor is not None else "system",
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "reason_code": reason_code,
        "note": note,
        "before": json.dumps(before or {}, ensure_ascii=False, default=str),
        "after": json.dumps(after or {}, ensure_ascii=False, default=str),
        "ip": ip,
        "created_at": now,
    }


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
) -> ModerationAction:
    """The row, added to the session (the flush stamps the pages it touches)."""
    row = ModerationAction(
        **_columns(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason_code=reason_code,
            note=note,
            before=before,
            after=after,
            ip=ip,
            now=now,
        )
    )
    session.add(row)
    return row


def record_at_once(session: Session, **fields: Any) -> None:
    """The same row (`record`'s fields) written at once by a prebuilt statement, for posting's hot
    path: no entity and no unit of work. A record is shown to staff only, so it replaces the
    activity stamp and, as the flush would, the actor's page stamp."""
    columns = _columns(**fields)
    session.connection().execute(_INSERT, columns)
    content_version.private_change(session, {columns["actor_id"]} - {None})
