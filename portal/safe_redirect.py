"""Where a `next` parameter may send a reader: a path on this site, nothing else."""

from urllib.parse import urlsplit


def same_site_path(target: str | None, default: str = "/") -> str:
    if not target:
        return default
    parts = urlsplit(target)
    # No scheme, no host, and not `//host` or `/\host`, which browsers read as another site.
    if parts.scheme or parts.netloc or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return default
    return target
