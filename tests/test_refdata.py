"""Consistency checks for the shipped Swedish reference data."""

from __future__ import annotations

import csv
from collections import Counter
from importlib.resources import files

import pytest

from indikera import refdata

OFFICIAL_KOMMUN_COUNTS = {
    "01": 26,  # Stockholm
    "03": 8,  # Uppsala
    "04": 9,  # Södermanland
    "05": 13,  # Östergötland
    "06": 13,  # Jönköping
    "07": 8,  # Kronoberg
    "08": 12,  # Kalmar
    "09": 1,  # Gotland
    "10": 5,  # Blekinge
    "12": 33,  # Skåne
    "13": 6,  # Halland
    "14": 49,  # Västra Götaland
    "17": 16,  # Värmland
    "18": 12,  # Örebro
    "19": 10,  # Västmanland
    "20": 15,  # Dalarna
    "21": 10,  # Gävleborg
    "22": 7,  # Västernorrland
    "23": 8,  # Jämtland
    "24": 15,  # Västerbotten
    "25": 14,  # Norrbotten
}


def _raw_codes(filename: str) -> list[str]:
    text = files("indikera.refdata").joinpath(filename).read_text(encoding="utf-8")
    return [row["code"] for row in csv.DictReader(text.splitlines(), delimiter=";")]


def test_official_counts_sum_to_290():
    assert sum(OFFICIAL_KOMMUN_COUNTS.values()) == 290


def test_21_lan():
    lan = refdata.lan()
    assert len(lan) == 21
    assert set(lan) == set(OFFICIAL_KOMMUN_COUNTS)
    for code, item in lan.items():
        assert code == item.code
        assert len(code) == 2 and code.isdigit()
        assert item.name and item.short_name


def test_290_kommuner():
    assert len(refdata.kommuner()) == 290


@pytest.mark.parametrize(
    "filename", ["lan.csv", "kommuner.csv", "sjukvardsregioner.csv"]
)
def test_codes_unique_in_file(filename):
    codes = _raw_codes(filename)
    dupes = [c for c, n in Counter(codes).items() if n > 1]
    assert not dupes


def test_kommun_codes_match_lan():
    lan = refdata.lan()
    for code, kommun in refdata.kommuner().items():
        assert code == kommun.code
        assert len(code) == 4 and code.isdigit()
        assert kommun.name
        assert kommun.lan_code in lan, kommun
        assert code.startswith(kommun.lan_code), kommun


def test_kommun_counts_per_lan():
    counts = Counter(k.lan_code for k in refdata.kommuner().values())
    assert dict(counts) == OFFICIAL_KOMMUN_COUNTS


def test_six_sjukvardsregioner():
    regions = refdata.sjukvardsregioner()
    assert len(regions) == 6
    assert set(regions) == {
        "SVR-NORRA",
        "SVR-MELLERSTA",
        "SVR-STOCKHOLM-GOTLAND",
        "SVR-SYDOSTRA",
        "SVR-SODRA",
        "SVR-VASTRA",
    }


def test_every_lan_in_exactly_one_region():
    lan = refdata.lan()
    regions = refdata.sjukvardsregioner()
    membership = Counter(c for r in regions.values() for c in r.lan_codes)
    assert set(membership) == set(lan)
    assert all(n == 1 for n in membership.values()), membership
    for code, item in lan.items():
        assert item.region_code in regions
        assert code in regions[item.region_code].lan_codes


def test_region_assignment():
    regions = refdata.sjukvardsregioner()
    assert regions["SVR-STOCKHOLM-GOTLAND"].lan_codes == ("01", "09")
    assert regions["SVR-VASTRA"].lan_codes == ("14",)
    assert set(regions["SVR-NORRA"].lan_codes) == {"22", "23", "24", "25"}
    assert set(regions["SVR-SYDOSTRA"].lan_codes) == {"05", "06", "08"}
    assert set(regions["SVR-SODRA"].lan_codes) == {"07", "10", "12", "13"}
    assert set(regions["SVR-MELLERSTA"].lan_codes) == {
        "03", "04", "17", "18", "19", "20", "21"
    }


@pytest.mark.parametrize(
    ("code", "name", "lan_code"),
    [
        ("0184", "Solna", "01"),
        ("0180", "Stockholm", "01"),
        ("0114", "Upplands Väsby", "01"),
        ("0139", "Upplands-Bro", "01"),
        ("0380", "Uppsala", "03"),
        ("0980", "Gotland", "09"),
        ("1280", "Malmö", "12"),
        ("1480", "Göteborg", "14"),
        ("2023", "Malung-Sälen", "20"),
        ("2480", "Umeå", "24"),
        ("2584", "Kiruna", "25"),
    ],
)
def test_spot_checks(code, name, lan_code):
    kommun = refdata.kommuner()[code]
    assert kommun.name == name
    assert kommun.lan_code == lan_code


def test_lan_names():
    lan = refdata.lan()
    assert lan["01"].name == "Stockholms län"
    assert lan["14"].short_name == "Västra Götaland"
    assert lan["09"].region_code == "SVR-STOCKHOLM-GOTLAND"


def test_loaders_are_cached():
    assert refdata.lan() is refdata.lan()
    assert refdata.kommuner() is refdata.kommuner()
    assert refdata.sjukvardsregioner() is refdata.sjukvardsregioner()
