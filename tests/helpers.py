"""Shared test helpers."""

import re

HX = {"HX-Request": "true"}


def csrf_token_from(html: str) -> str:
    found = re.search(r'"X-CSRFToken": "([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)
