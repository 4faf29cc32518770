"""The append-only record (P28): one row per decision or logged event, in the caller's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.models import ModerationAction, User


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
    session.add(row)
    return row
