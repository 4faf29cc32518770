"""Keyset cursors: a page is `WHERE (time, id) < cursor ORDER BY time DESC, id DESC LIMIT n`,
so page N costs what page 1 costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BindParameter, ScalarSelect, Select, func, select


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int
    rank: int | None = None  # for orders that lead with a count (熱門: likes, then time)

    def encode(self) -> str:
        head = f"{self.rank}." if self.rank is not None else ""
        return f"{head}{self.at.strftime('%Y%m%d%H%M%S%f')}-{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """A malformed cursor means the first page, never an error."""
        if not raw or len(raw) > 64:
            return None
        rank_text, dot, rest = raw.partition(".")
        if not dot:
            rank_text, rest = "", raw
        stamp, _, ident = rest.partition("-")
        try:
            rank = int(rank_text) if rank_text else None
            cursor = cls(datetime.strptime(stamp, "%Y%m%d%H%M%S%f"), int(ident), rank)
        except ValueError:
            return None
        # Beyond the databases' 64-bit integers a value cannot be compared with a column.
        if not (0 <= cursor.id < 2**63 and (rank is None or abs(rank) < 2**63)):
            return None
        return cursor


def capped_count(query: Select, limit: int | BindParameter) -> ScalarSelect:
    """min(rows of `query`, limit), as a subquery that reads at most `limit` index entries: a badge
    or a quota costs the same however many rows there are."""
    return select(func.count()).select_from(query.limit(limit).subquery()).scalar_subquery()
