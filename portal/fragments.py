"""How a view decides between a whole page and an htmx fragment (STYLE.md §8)."""

from flask import Response, request


def wants_fragment() -> bool:
    """htmx swaps part of the page; boosted navigation and history restores need the whole page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def add_vary_hx_request(response: Response) -> Response:
    # A cache must never serve a fragment where a page was asked for.
    response.vary.add("HX-Request")
    return response
