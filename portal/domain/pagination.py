"""Keyset cursors: a page is `WHERE (time, id) < cursor ORDER BY time DESC, id DESC LIMIT n`,
so page N costs what page 1 costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int

    def encode(self) -> str:
        return f"{self.at.strftime('%Y%m%d%H%M%S%f')}-{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """A malformed cursor means the first page, never an error."""
        if not raw:
            return None
        stamp, _, ident = raw.partition("-")
        try:
            return cls(datetime.strptime(stamp, "%Y%m%d%H%M%S%f"), int(ident))
        except ValueError:
            return None
