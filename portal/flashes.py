"""Flashed messages, and where the page a redirect lands on shows them.

Without JavaScript an action answers 303 and the page it lands on shows the flashed message. #messages
sits at the top of every page; a redirect to an anchor further down (an article's 網友評論) scrolls past
it, and a sighted reader who lands there never sees what became of their action. So a message may
belong to a region: a live region of the page it lands on, the one an htmx answer of the same action
fills out of band (the article's #comment-status, the moderation queue's #queue-status). A page says
which regions it has (`status_regions`, set at the top of its template); #messages shows the messages
for no region and those for a region the page lacks, so nothing flashed is ever lost.

A login from a comment's 點贊 or 回覆 lands on that comment (#comment-N), possibly far below the
comment area's status region too: its welcome belongs to that comment (`comment_region`), and the
article shows it inside the comment's item when the comment is on the page (`comment_landings`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from flask import flash, get_flashed_messages

COMMENT_STATUS = "comment-status"  # comments/_comment_status.html
QUEUE_STATUS = "queue-status"  # moderation/_queue_status.html
# Anchors of a page that land in (or right above) a region: the region shows what was flashed for them.
LANDINGS = {"comments": COMMENT_STATUS, COMMENT_STATUS: COMMENT_STATUS}
_IN = "@"  # a category is "<kind>@<region>" ("success@comment-status"); a plain kind is for #messages
_COMMENT = re.compile(r"comment-([1-9][0-9]{0,17})")  # a comment's own anchor, li#comment-N


def comment_region(comment_id: int) -> str:
    """The region of one comment's item: the anchor a link back to that comment lands at."""
    return f"comment-{comment_id}"


def flash_in(region: str, message: str, kind: str = "success") -> None:
    """Flash `message` for `region` of the page the redirect lands on."""
    flash(message, f"{kind}{_IN}{region}")


def flash_landing(target: str, message: str, kind: str = "message") -> str:
    """Flash `message` for a redirect to `target` (a path of this site, perhaps with an anchor): into
    the region its anchor lands at, if any, else into #messages. Returns `target`."""
    anchor = urlsplit(target).fragment
    region = LANDINGS.get(anchor) or (anchor if _COMMENT.fullmatch(anchor) else None)
    if region:
        flash_in(region, message, "success" if kind == "message" else kind)
    else:
        flash(message, kind)
    return target


def flashed(region: str = "", *, regions: Collection[str] = ()) -> list[tuple[str, str]]:
    """(kind, message) of the messages waiting for `region`; for #messages (no region), those for no
    region and those for a region not among the page's `regions`. Flask keeps the messages for the
    whole request once read, so each region of a page may ask."""
    waiting = []
    for category, message in get_flashed_messages(with_categories=True):
        kind, _, wanted = category.partition(_IN)
        if wanted == region or (not region and wanted not in regions):
            waiting.append((kind, message))
    return waiting


def comment_landings(comment_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """(kind, message) of the messages waiting for each of these comments' regions, by comment id: the
    comments a page shows. A message for a comment not among them stays for #messages."""
    shown = set(comment_ids)
    waiting: dict[int, list[tuple[str, str]]] = {}
    for category, message in get_flashed_messages(with_categories=True):
        kind, _, wanted = category.partition(_IN)
        if (match := _COMMENT.fullmatch(wanted)) and int(match.group(1)) in shown:
            waiting.setdefault(int(match.group(1)), []).append((kind, message))
    return waiting
