"""IP 屬地: a tiny MaxMind database of our own pins exact answers; the shipped GeoLite2 copy works."""

from __future__ import annotations

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from portal.domain.region import chosen_database, databases_in, default_database, network_prefix, region_for
from portal.domain.region_names import TRADITIONAL
from portal.domain.script import to_traditional
from tests.helpers import fresh_interpreter


def _city(iso: str, country_zh: str, country_en: str, province: str | None = None) -> dict:
    record: dict = {"country": {"iso_code": iso, "names": {"zh-CN": country_zh, "en": country_en}}}
    if province:
        record["subdivisions"] = [{"iso_code": "XX", "names": {"zh-CN": province, "en": "Province"}}]
    return record


NETWORKS = {
    "60.210.0.0/16": _city("CN", "中国", "China", "山东省"),
    "116.1.0.0/16": _city("CN", "中国", "China", "广西壮族自治区"),
    "202.96.0.0/16": _city("CN", "中国", "China", "北京市"),
    "36.0.0.0/16": _city("CN", "中国", "China"),
    "8.8.8.0/24": _city("US", "美国", "United States"),
    "5.5.0.0/16": {"country": {"iso_code": "ZZ", "names": {"en": "Nowhere Land"}}},
    "2400:3200::/32": _city("CN", "中国", "China", "浙江省"),
    "1.80.0.0/16": _city("CN", "中国", "China", "东华省"),  # made up: not in the shipped database
    "7.7.0.0/16": _city("ZZ", "乌有国", "Nowhere"),  # made up too
}


def _write(path, *, ip_version: int) -> str:
    writer = MMDBWriter(ip_version=ip_version, database_type="GeoIP2-City", ipv4_compatible=ip_version == 6)
    for network, record in NETWORKS.items():
        if ip_version == 6 or ":" not in network:
            writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return str(path)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    return _write(tmp_path_factory.mktemp("region") / "city6.mmdb", ip_version=6)


@pytest.fixture(scope="module")
def ipv4_database(tmp_path_factory) -> str:
    return _write(tmp_path_factory.mktemp("region") / "city4.mmdb", ip_version=4)


@pytest.mark.parametrize(
    ("ip", "region"),
    [
        ("60.210.3.4", "山東"),
        ("116.1.2.3", "廣西"),
        ("202.96.1.1", "北京"),
        ("36.0.1.1", "中國"),  # no province known
        ("8.8.8.8", "美國"),
        ("5.5.5.5", "Nowhere Land"),  # no Chinese name: the English one
        ("2400:3200::1", "浙江"),
    ],
)
def test_region_is_the_province_in_china_and_the_country_elsewhere(database, ip, region):
    assert region_for(ip, database) == region


@pytest.mark.parametrize(
    "ip", ["127.0.0.1", "::1", "10.1.2.3", "192.168.0.8", "172.16.5.5", "169.254.1.1", "fe80::1"]
)
def test_loopback_and_private_addresses_are_local(database, ip):
    assert region_for(ip, database) == "本地"


@pytest.mark.parametrize(
    "ip", ["9.9.9.9", "", "garbage", "999.1.1.1", "60.210.3", "1.2.3.4/24", "\x00", "::g"]
)
def test_unknown_and_garbage_addresses_are_unknown(database, ip):
    assert region_for(ip, database) == "未知"


def test_a_missing_database_gives_unknown_without_raising(tmp_path):
    assert region_for("60.210.3.4", str(tmp_path / "missing.mmdb")) == "未知"
    assert region_for("60.210.3.4", "") == "未知"


def test_a_corrupt_database_gives_unknown_without_raising(tmp_path):
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a maxmind database" * 50)
    assert region_for("60.210.3.4", str(broken)) == "未知"


def test_an_ipv4_database_answers_an_ipv6_client_without_raising(ipv4_database):
    # REGION_DATABASE is a setting: an IPv4-only file must not turn an IPv6 reader's post into a 500.
    assert region_for("60.210.3.4", ipv4_database) == "山東"
    assert region_for("2400:3200::1", ipv4_database) == "未知"


@pytest.mark.parametrize(
    ("ip", "prefix"),
    [
        ("60.210.3.4", "60.210.3.0/24"),
        ("60.210.3.255", "60.210.3.0/24"),
        ("2400:3200:1:2:3:4:5:6", "2400:3200:1:2::/64"),
        ("::1", "::/64"),
        ("garbage", ""),
        ("", ""),
    ],
)
def test_network_prefix_is_the_24_or_the_64(ip, prefix):
    assert network_prefix(ip) == prefix


def test_the_shipped_database_answers_out_of_the_box():
    answer = region_for("8.8.8.8", default_database())
    assert answer and answer not in ("未知", "本地")


def test_the_table_of_region_names_is_what_opencc_says():
    assert len(TRADITIONAL) > 250
    assert list(TRADITIONAL) == sorted(TRADITIONAL)
    assert {name: to_traditional(name) for name in TRADITIONAL} == TRADITIONAL


def test_the_shipped_database_answers_without_loading_the_s2t_converter():
    # A fresh interpreter, as a new worker: this one may have built s2t already, and region_for caches.
    out = fresh_interpreter(
        """
        import opencc

        built = []

        class Spy(opencc.OpenCC):
            def __init__(self, config):
                built.append(config)
                super().__init__(config)

        opencc.OpenCC = Spy
        from portal.domain.region import default_database, region_for
        from portal.domain.script import to_traditional

        database = default_database()
        print(region_for("60.210.3.4", database), region_for("8.8.8.8", database), built)
        to_traditional("山东")  # the spy does see a converter being built
        print(built)
        """
    )
    assert out.splitlines() == ["山東 美國 []", "['s2t']"]


@pytest.mark.parametrize(
    ("ip", "simplified", "region"), [("1.80.2.3", "东华", "東華"), ("7.7.7.7", "乌有国", "烏有國")]
)
def test_a_name_not_in_the_table_still_converts_through_opencc(database, ip, simplified, region):
    assert simplified not in TRADITIONAL
    assert region_for(ip, database) == region


def test_looking_up_addresses_from_all_over_keeps_the_database_out_of_memory():
    """The shipped database is read from its file: a worker's memory does not grow by the pages of
    every address it looks up (mapped, 2,200 addresses took 43 MiB)."""
    script = """
import sys
from portal.domain.region import default_database, region_for
def rss():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))
database = default_database()
region_for("60.210.3.4", database)
before = rss()
names = {region_for(f"{n * 7 % 223 + 1}.{n % 250}.{n % 7}.9", database) for n in range(1500)}
print(len(names), (rss() - before) // 1024)
"""
    regions, grown_mib = map(int, fresh_interpreter(script).split())
    assert regions > 50  # the lookups really went all over the world
    assert grown_mib < 8, f"{grown_mib} MiB"


def test_a_chosen_database_is_a_file_directly_in_the_folder_and_never_a_path(tmp_path):
    folder = tmp_path / "regions"
    folder.mkdir()
    _write(folder / "city.mmdb", ip_version=4)
    _write(tmp_path / "outside.mmdb", ip_version=4)
    (folder / ".hidden.mmdb").write_bytes(b"")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    assert databases_in(folder) == ["city.mmdb"]
    assert databases_in(tmp_path / "missing") == []
    assert chosen_database(folder, "city.mmdb") == str(folder / "city.mmdb")
    assert region_for("1.80.1.1", chosen_database(folder, "city.mmdb")) == "東華"
    for name in (
        "",
        "missing.mmdb",
        "../outside.mmdb",
        str(tmp_path / "outside.mmdb"),
        "notes.txt",
        ".hidden.mmdb",
        "..\\outside.mmdb",
        "名" * 300 + ".mmdb",
    ):
        assert chosen_database(folder, name) is None, name
