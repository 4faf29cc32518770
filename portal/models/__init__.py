"""Typed SQLAlchemy 2.0 models. No Flask here: domain tests use them with a bare Session."""

from portal.models.base import Base, utc_now
from portal.models.news import (
    Article,
    ArticleKind,
    ArticleState,
    CommentsState,
    Media,
    MediaKind,
    Page,
    Section,
    SectionLayout,
    SiteSetting,
)
from portal.models.users import Role, User, UserState

__all__ = [
    "Article",
    "ArticleKind",
    "ArticleState",
    "Base",
    "CommentsState",
    "Media",
    "MediaKind",
    "Page",
    "Role",
    "Section",
    "SectionLayout",
    "SiteSetting",
    "User",
    "UserState",
    "utc_now",
]
