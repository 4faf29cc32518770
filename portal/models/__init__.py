"""Typed SQLAlchemy 2.0 models. No Flask here: domain tests use them with a bare Session."""

from portal.models.base import Base, utc_now
from portal.models.comments import Comment, CommentRevision, CommentStatus, Like, Report, ReportStatus
from portal.models.moderation import (
    Appeal,
    BlockedPhone,
    EvidenceHold,
    ModerationAction,
    ModeratorScope,
    Notification,
    Sanction,
    SensitiveWord,
    SmsCode,
)
from portal.models.news import (
    Article,
    ArticleKind,
    ArticleState,
    CommentsState,
    ContentVersion,
    Media,
    MediaKind,
    Page,
    Section,
    SectionLayout,
    SiteSetting,
)
from portal.models.users import Role, User, UserState

__all__ = [
    "Appeal",
    "Article",
    "ArticleKind",
    "ArticleState",
    "Base",
    "BlockedPhone",
    "Comment",
    "CommentRevision",
    "CommentStatus",
    "CommentsState",
    "ContentVersion",
    "EvidenceHold",
    "Like",
    "Media",
    "MediaKind",
    "ModerationAction",
    "ModeratorScope",
    "Notification",
    "Page",
    "Report",
    "ReportStatus",
    "Role",
    "Sanction",
    "Section",
    "SectionLayout",
    "SensitiveWord",
    "SiteSetting",
    "SmsCode",
    "User",
    "UserState",
    "utc_now",
]
