"""The content version: what every cached public page is keyed by.

Any change to something a public page shows replaces the stamp in the same transaction as the
change, so the stamp a request reads first names exactly the content it then renders, on every
process and node. Watched: articles, sections, media, static pages, settings, nicknames, and
comments that are or were public (a pending comment changes no public page).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, event, func, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from portal.models import (
    Article,
    ArticleState,
    Comment,
    ContentVersion,
    Media,
    Page,
    Section,
    SiteSetting,
    User,
)

ALWAYS_PUBLIC = (Article, Section, Media, Page, SiteSetting)
# Users are not here: statements only ever touch their counters; a nickname changes in a flush.
BULK_WATCHED = (*ALWAYS_PUBLIC, Comment)
_BUMPED = "content_version_bumped_in"


# Built once: this runs on every cacheable request, so only the parameter changes.
_UPCOMING = (
    select(func.min(Article.published_at))
    .where(Article.state == ArticleState.PUBLISHED, Article.published_at > bindparam("now"))
    .scalar_subquery()
)
_CURRENT = select(ContentVersion.stamp, _UPCOMING).where(ContentVersion.id == 1)


def current(session: Session, *, now: datetime) -> str:
    """The stamp, and when the next scheduled article appears: public pages change at either."""
    row = session.connection().execute(_CURRENT, {"now": now}).first()
    stamp, scheduled = row if row is not None else ("", None)
    return f"{stamp}@{scheduled.isoformat() if scheduled else ''}"


def bump(session: Session) -> None:
    """Replaces the stamp, once per transaction."""
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_BUMPED) is transaction:
        return
    connection = session.connection()
    stamp = secrets.token_hex(8)  # random, not a counter: a restored backup cannot reuse a stamp
    changed = connection.execute(
        update(ContentVersion).where(ContentVersion.id == 1).values(stamp=stamp)
    ).rowcount
    if not changed:
        connection.execute(insert(ContentVersion).values(id=1, stamp=stamp))
    session.info[_BUMPED] = transaction


def changes_public_pages(session: Session, item: Any) -> bool:
    """Whether flushing this new, changed or deleted object changes what a public page shows."""
    if item in session.dirty and not session.is_modified(item):
        return False
    if isinstance(item, ALWAYS_PUBLIC):
        return True
    if isinstance(item, Comment):
        was_listed = True in inspect(item).attrs.listed.history.deleted
        return bool(item.listed) or was_listed
    if isinstance(item, User):
        return item not in session.new and (
            item in session.deleted or inspect(item).attrs.nickname.history.has_changes()
        )
    return False


def _after_flush(session: Session, _context: Any) -> None:
    if any(
        changes_public_pages(session, item) for item in chain(session.new, session.dirty, session.deleted)
    ):
        bump(session)


def _before_bulk_statement(state: ORMExecuteState) -> None:
    # UPDATE/DELETE statements (counters, bulk hides) never pass through a flush.
    writes = state.is_update or state.is_delete or state.is_insert
    if writes and state.bind_mapper is not None and issubclass(state.bind_mapper.class_, BULK_WATCHED):
        bump(state.session)


def watch() -> None:
    """Every Session, the app's and a bare one alike, keeps the stamp from now on."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_bulk_statement)
