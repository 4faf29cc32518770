"""How a view decides between a whole page and an htmx fragment (STYLE.md §8)."""

from flask import Response, request

# The request headers wants_fragment() reads: an address can answer differently for each of them.
FRAGMENT_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """htmx swaps part of the page; boosted navigation and history restores need the whole page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def add_vary_htmx_headers(response: Response) -> Response:
    # A cache must never serve a fragment where a page was asked for: not for a plain request, and
    # not for htmx's history restore (HX-History-Restore-Request, with or without HX-Request).
    for name in FRAGMENT_HEADERS:
        response.vary.add(name)
    return response
