"""Writes `region_names.json`: the Traditional form of every name the shipped GeoLite2 City gives.

Run `python -m portal.domain.region_names_build` from the checkout after changing the pinned
maxminddb-geolite2 (or OpenCC), then commit the table. It reads every record of the database once
(about half a minute) and converts each distinct name with OpenCC's s2t, the converter `region_for`
would otherwise load in every worker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import version

import maxminddb

from portal.domain.region import default_database, simplified_name
from portal.domain.region_names import TABLE
from portal.domain.script import to_traditional


def names_in(database: str) -> set[str]:
    """Every string `region_for` would convert for some address in `database`."""
    with maxminddb.open_database(database) as reader:
        records = (record for _network, record in reader)
        return {name for record in records if isinstance(record, dict) and (name := simplified_name(record))}


def render(table: dict[str, str], *, source: str) -> str:
    """The table as JSON: where it came from, then the names sorted, one a line."""
    names = dict(sorted(table.items()))
    return json.dumps({"source": source, "names": names}, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    database = default_database()
    with maxminddb.open_database(database) as reader:
        built = datetime.fromtimestamp(reader.metadata().build_epoch, UTC).date()
    source = (
        f"maxminddb-geolite2 {version('maxminddb-geolite2')} (GeoLite2-City built {built})"
        f" with OpenCC {version('opencc')}"
    )
    table = {name: to_traditional(name) for name in names_in(database)}
    TABLE.write_text(render(table, source=source), encoding="utf-8")
    print(f"{len(table)} names written to {TABLE}")


if __name__ == "__main__":
    main()
