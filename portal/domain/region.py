"""IP 屬地: the province for mainland China, the country elsewhere, 本地 for our own networks."""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache
from pathlib import Path

import maxminddb

from portal.domain.region_names import TRADITIONAL
from portal.domain.script import to_traditional

LOCAL = "本地"
UNKNOWN = "未知"
# Province names in the database end in 省, 市 or an autonomous-region title; pages show the name.
SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


def default_database() -> str:
    """GeoLite2 City (2018, CC BY-SA 4.0, by MaxMind) as shipped by maxminddb-geolite2."""
    import _maxminddb_geolite2

    return str(Path(_maxminddb_geolite2.__file__).parent / "GeoLite2-City.mmdb")


def databases_in(folder: Path) -> list[str]:
    """The 屬地 databases an admin may choose: the *.mmdb files the operator put in the folder."""
    if not folder.is_dir():
        return []
    return sorted(
        path.name for path in folder.glob("*.mmdb") if path.is_file() and not path.name.startswith(".")
    )


def chosen_database(folder: Path, name: str) -> str | None:
    """The path of the database chosen by name: a file directly in the folder, never a path, so a
    setting can neither reach nor tell of any other file on the server."""
    if not name.endswith(".mmdb") or name.startswith(".") or Path(name).name != name or "\\" in name:
        return None
    path = folder / name
    try:
        return str(path) if path.is_file() else None
    except OSError:  # a name too long for the file system
        return None


@cache
def _reader(path: str) -> maxminddb.Reader | None:
    # Read from the file, not mapped into memory: a mapped database becomes part of every worker's
    # resident memory as addresses from all over are looked up (43 MiB after 2,200 of them, up to its
    # 54 MiB). A lookup from the file takes about 0.3 ms, once per address (region_for's cache).
    try:
        return maxminddb.open_database(path, maxminddb.MODE_FILE)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError):
        return None


def _short(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=4096)  # a reader posts, reports and likes from the same address
def region_for(ip: str, database: str) -> str:
    """The region shown beside a comment: 山東, 美國, 本地 or 未知; never raises."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN
    if address.is_loopback or address.is_private or address.is_link_local:
        return LOCAL
    reader = _reader(database) if database else None
    try:
        record = reader.get(str(address)) if reader is not None else None
    except ValueError:  # e.g. an IPv6 client and an IPv4-only database
        return UNKNOWN
    name = simplified_name(record) if isinstance(record, dict) else None
    if not name:
        return UNKNOWN
    # The table holds every name the shipped database gives: OpenCC's s2t (~27 MiB) loads only for another's.
    return TRADITIONAL.get(name) or to_traditional(name)


def simplified_name(record: dict) -> str | None:
    """The name a database record gives, as the database spells it (Simplified), before conversion."""
    country = record.get("country") or {}
    names = country.get("names") or {}
    if country.get("iso_code") == "CN":
        subdivisions = record.get("subdivisions") or []
        province = (subdivisions[0].get("names") or {}).get("zh-CN") if subdivisions else None
        return _short(province or names.get("zh-CN") or "中国")
    return names.get("zh-CN") or names.get("en")


@lru_cache(maxsize=4096)
def network_prefix(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network, for P11's one-network flood check."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))
