"""The stamps cached pages are keyed by (portal.page_cache), each replaced in the same transaction
as the change it stands for, so the stamps a request reads first name exactly the data it then
renders, on every process and node.

- The **content version**: anything a public page shows. Watched: articles, sections, media,
  static pages, settings, nicknames, and comments that are or were public (a pending comment
  changes no public page).
- Each user's **page stamp**: any row of theirs (their comments, likes, reports, notices, measures,
  the account itself), found through the row's foreign keys to the user table, so a model added
  later is covered without a list to keep.
- The **activity** stamp: any write at all. Staff pages (the queue) show everything, so they key
  on it.

A bulk UPDATE/DELETE statement names no rows, so it replaces the activity stamp and, if its table
holds public content or users' rows, the content version too (which every page's key includes).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, event, func, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session

from portal.models import (
    Article,
    ArticleState,
    Comment,
    ContentVersion,
    GalleryPicture,
    Media,
    Page,
    Section,
    SiteSetting,
    User,
)

ALWAYS_PUBLIC = (Article, Section, Media, GalleryPicture, Page, SiteSetting)
# For a statement that only claims a row which the same transaction then changes through the ORM
# (a conditional UPDATE that two moderators race for): the flush stamps the change, naming its rows.
STAMPED_BY_FLUSH = {"stamped_by_flush": True}
_BUMPED = "content_version_bumped_in"
_ACTIVE = "activity_bumped_in"
_STAMPED = "page_stamps_replaced_in"


class Versions(NamedTuple):
    public: str  # the content version and the next scheduled article
    activity: str


# Built once: this runs on every cacheable request, so only the parameter changes.
_UPCOMING = (
    select(func.min(Article.published_at))
    .where(Article.state == ArticleState.PUBLISHED, Article.published_at > bindparam("now"))
    .scalar_subquery()
)
_CURRENT = select(ContentVersion.stamp, ContentVersion.activity, _UPCOMING).where(ContentVersion.id == 1)


def current(bind: Session | scoped_session | Connection, *, now: datetime) -> Versions:
    """The stamps, and when the next scheduled article appears: public pages change at either."""
    # On the connection, not through the ORM's execution (a third of the cost), from a session too.
    connection = bind if isinstance(bind, Connection) else bind.connection()
    row = connection.execute(_CURRENT, {"now": now}).first()
    stamp, activity, scheduled = row if row is not None else ("", "", None)
    return Versions(f"{stamp}@{scheduled.isoformat() if scheduled else ''}", activity)


def _new_stamp() -> str:
    return secrets.token_hex(8)  # random, not a counter: a restored backup cannot reuse a stamp


def _innermost(session: Session) -> Any:
    """The transaction a write belongs to: a savepoint rolled back takes its stamps with it, so
    "already replaced" holds only within the savepoint that did it."""
    return session.get_nested_transaction() or session.get_transaction()


# Built once, like _CURRENT: a post runs two of these, so only the parameters change.
_SET_BOTH = (
    update(ContentVersion)
    .where(ContentVersion.id == 1)
    .values(stamp=bindparam("stamp"), activity=bindparam("activity"))
)
_SET_ACTIVITY = update(ContentVersion).where(ContentVersion.id == 1).values(activity=bindparam("activity"))
_FIRST = insert(ContentVersion).values(id=1, stamp=bindparam("stamp"), activity=bindparam("activity"))
_STAMP_USERS = (
    update(User).where(User.id.in_(bindparam("ids", expanding=True))).values(page_stamp=bindparam("stamp"))
)


def _replace(session: Session, flag: str, statement: Any, *names: str) -> None:
    """Replaces the row's stamps once per transaction (per flag). Only the statement's own names
    are passed: an UPDATE would set any other column a parameter names."""
    transaction = _innermost(session)
    if transaction is not None and session.info.get(flag) is transaction:
        return
    connection = session.connection()
    if not connection.execute(statement, {name: _new_stamp() for name in names}).rowcount:
        connection.execute(_FIRST, {"stamp": _new_stamp(), "activity": _new_stamp()})
    session.info[flag] = transaction


def bump(session: Session) -> None:
    """Replaces the content version (and the activity stamp, which any public change is too)."""
    _replace(session, _BUMPED, _SET_BOTH, "stamp", "activity")
    session.info[_ACTIVE] = session.info[_BUMPED]


def bump_activity(session: Session) -> None:
    _replace(session, _ACTIVE, _SET_ACTIVITY, "activity")


def changes_public_pages(session: Session, item: Any) -> bool:
    """Whether flushing this new, changed or deleted object changes what a public page shows."""
    if item in session.dirty and not session.is_modified(item):
        return False
    if isinstance(item, ALWAYS_PUBLIC):
        return True
    if isinstance(item, Comment):
        state = inspect(item)
        was_listed = True in state.attrs.listed.history.deleted
        if item in session.dirty and not was_listed and not _public_attributes_changed(state):
            return False  # an edit waiting for review, the queue's bookkeeping: staff and author only
        return bool(item.listed) or was_listed
    if isinstance(item, User):
        # The name pages show: the nickname, or 已註銷用戶 once the account is deregistered.
        attrs = inspect(item).attrs
        return item not in session.new and (
            item in session.deleted
            or attrs.nickname.history.has_changes()
            or attrs.deregistered_at.history.has_changes()
        )
    return False


# What of a comment no public page shows: an edit waiting for review (the public text stays until it
# is approved) and the queue's bookkeeping of it. A change to anything else of a listed comment is
# taken as public.
COMMENT_NOT_SHOWN = frozenset(
    {
        "pending_body",
        "pending_flags",
        "pending_rule_hits",
        "edited_at",
        "priority",
        "decided_at",
        "decided_by_id",
    }
)


def _public_attributes_changed(state: Any) -> bool:
    return any(
        attribute.history.has_changes()
        for attribute in state.attrs
        if attribute.key not in COMMENT_NOT_SHOWN and attribute.key in state.mapper.column_attrs
    )


@cache
def user_columns(model: type) -> tuple[str, ...]:
    """The attributes of a model that hold a user's id: whose pages a change of its rows touches."""
    mapper = inspect(model)
    return tuple(
        mapper.get_property_by_column(column).key
        for column in mapper.columns
        if any(key.column.table.name == User.__tablename__ for key in column.foreign_keys)
    )


def users_touched(session: Session, item: Any) -> set[int]:
    """The users whose own pages may show this new, changed or deleted object."""
    if item in session.dirty and not session.is_modified(item):
        return set()
    if isinstance(item, User):
        return {item.id}
    state = inspect(item)
    ids = set()
    for name in user_columns(type(item)):
        history = state.attrs[name].history
        ids.update(value for value in chain(history.added, history.unchanged, history.deleted) if value)
    return ids


def _after_flush(session: Session, _context: Any) -> None:
    changed = list(chain(session.new, session.dirty, session.deleted))
    if any(changes_public_pages(session, item) for item in changed):
        bump(session)
    users = set().union(*(users_touched(session, item) for item in changed))
    if users:
        bump_activity(session)
        _stamp_pages_of(session, users)
    elif any(item not in session.dirty or session.is_modified(item) for item in changed):
        bump_activity(session)


def private_change(session: Session | scoped_session, users: set[int]) -> None:
    """What a flush would stamp for a row written by a Core statement that no public page shows:
    the staff pages (activity) and the pages of the users it belongs to."""
    if isinstance(session, scoped_session):  # a view's db.session: the stamps keep to the real one
        session = session()
    bump_activity(session)
    _stamp_pages_of(session, users)


def _stamp_pages_of(session: Session, users: set[int]) -> None:
    """Replaces these users' page stamps, each once per transaction (a post flushes more than once)."""
    transaction = _innermost(session)
    done_in, done = session.info.get(_STAMPED, (None, set()))
    if done_in is not transaction:
        done = set()
    if fresh := users - done:
        session.connection().execute(_STAMP_USERS, {"ids": sorted(fresh), "stamp": _new_stamp()})
        session.info[_STAMPED] = (transaction, done | fresh)


def _before_bulk_statement(state: ORMExecuteState) -> None:
    # UPDATE/DELETE statements (counters, bulk hides) never pass through a flush.
    if not (state.is_update or state.is_delete or state.is_insert) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if state.execution_options.get("stamped_by_flush"):
        bump_activity(state.session)
    elif issubclass(model, (*ALWAYS_PUBLIC, Comment, User)) or user_columns(model):
        bump(state.session)
    else:
        bump_activity(state.session)


def watch() -> None:
    """Every Session, the app's and a bare one alike, keeps the stamps from now on."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_bulk_statement)
