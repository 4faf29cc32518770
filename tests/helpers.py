"""Shared test helpers."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

HX = {"HX-Request": "true"}


def csrf_token_from(html: str) -> str:
    found = re.search(r'"X-CSRFToken": "([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


def parse_html(html: str):
    """The document as an ElementTree (html5lib, no namespaces): `.iter("a")`, `.get("href")`."""
    import html5lib

    return html5lib.parse(html, namespaceHTMLElements=False)


def has_class(element, name: str) -> bool:
    return name in (element.get("class") or "").split()


def find_all(root, tag: str = "*", cls: str | None = None, **attrs: str) -> list:
    """Elements below `root` with the tag, the class and the attribute values (None: present)."""
    found = []
    for element in root.iter(None if tag == "*" else tag):
        if cls is not None and not has_class(element, cls):
            continue
        if any(
            (element.get(name.replace("_", "-")) is None)
            if value is None
            else element.get(name.replace("_", "-")) != value
            for name, value in attrs.items()
        ):
            continue
        found.append(element)
    return found


def find_one(root, tag: str = "*", cls: str | None = None, **attrs: str):
    found = find_all(root, tag, cls, **attrs)
    assert len(found) == 1, f"expected one <{tag} class={cls} {attrs}>, found {len(found)}"
    return found[0]


def text_of(element) -> str:
    """The element's text with whitespace runs collapsed."""
    return " ".join("".join(element.itertext()).split())


def date_filter(page, name: str) -> tuple[str, str, list[str]]:
    """A date filter (the date_filter macro) on a page, as HTML or parsed: its input's value, its
    aria-describedby, and the messages beside it."""
    root = parse_html(page) if isinstance(page, str) else page
    field = find_one(root, "input", name=name)
    messages = find_all(root, "ul", id=f"filter-{name}-errors")
    return (
        field.get("value"),
        field.get("aria-describedby") or "",
        [text_of(li) for ul in messages for li in find_all(ul, "li")],
    )


def login(client, phone: str, password: str):
    """Logs in through the real form (CSRF included); returns the 303 response."""
    page = client.get("/accounts/login")
    response = client.post(
        "/accounts/login",
        data={
            "phone": phone,
            "password": password,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


def token_for(client, path: str = "/") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def fresh_interpreter(code: str, *, stdin: str = "", timeout: int = 300) -> str:
    """What `code` prints when run in a new Python in the project's folder: what a process imports
    can only be seen in one that has not imported anything yet."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=Path(__file__).resolve().parent.parent,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
