from pathlib import Path

import pytest

from core.errors import RegisterFileError
from core.models import PickupOffice
from core.ports import PickupOffices
from storage.offices import OfficeDirectory, load_offices

OFFICES_CSV = """id,region,name,address,hours
msk-1,г. Москва,ДЕМО: Центр,"г. Москва, ул. Примерная, д. 1",пн–пт 9–18
msk-2,г.Москва,ДЕМО: Север,"г. Москва, Учебный пр., д. 7",пн–пт 9–18
orl-1,Орловская область,ДЕМО: Орёл,"г. Орёл, ул. Тестовая, д. 2",пн–пт 9–18
"""


@pytest.fixture
def offices(tmp_path: Path) -> OfficeDirectory:
    path = tmp_path / "offices.csv"
    path.write_text(OFFICES_CSV, encoding="utf-8")
    return load_offices(path)


@pytest.mark.parametrize("spelling", ["г. Москва", "г.Москва", "Г. МОСКВА", "  г.  москва "])
def test_for_region_matches_any_spelling(offices: OfficeDirectory, spelling: str) -> None:
    assert [o.id for o in offices.for_region(spelling)] == ["msk-1", "msk-2"]


def test_for_region_ignores_yo(offices: OfficeDirectory) -> None:
    assert [o.id for o in offices.for_region("ОРЛОВСКАЯ   область")] == ["orl-1"]


def test_a_region_without_offices_gives_an_empty_list(offices: OfficeDirectory) -> None:
    assert offices.for_region("Новосибирская область") == []


def test_get_by_id(offices: OfficeDirectory) -> None:
    office = offices.get("orl-1")
    assert office == PickupOffice(
        id="orl-1",
        region="Орловская область",
        name="ДЕМО: Орёл",
        address="г. Орёл, ул. Тестовая, д. 2",
        hours="пн–пт 9–18",
    )
    assert offices.get("nope") is None
    assert len(offices) == 3


def test_the_returned_list_is_the_callers_own(offices: OfficeDirectory) -> None:
    offices.for_region("г. Москва").clear()
    assert len(offices.for_region("г. Москва")) == 2


def test_it_is_the_port(offices: OfficeDirectory) -> None:
    port: PickupOffices = offices
    assert port.get("msk-1") is not None


def test_bad_rows_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "offices.csv"
    path.write_text(
        "id,region,name,address,hours\n"
        "ok-1,г. Москва,A,B,C\n"  # 2
        "ok-1,г. Москва,A,B,C\n"  # 3 duplicate id
        ",г. Москва,A,B,C\n"  # 4 empty id
        "ok-2,,A,B,C\n"  # 5 empty region
        "такой-id,г. Москва,A,B,C\n"  # 6 non-ASCII id
        "a-very-long-office-id,г. Москва,A,B,C\n"  # 7 too long for callback data
        "ok-3,г. Москва,A,B,C\n",  # 8
        encoding="utf-8",
    )
    with pytest.raises(RegisterFileError) as info:
        load_offices(path)
    assert info.value.problems == [
        (3, "id: duplicate of line 2"),
        (4, "id: empty"),
        (5, "region: empty"),
        (6, "id: такой-id has characters other than A-Z a-z 0-9 _ -"),
        (7, "id: a-very-long-office-id is longer than 16 characters (it travels in button data)"),
    ]


def test_a_missing_column_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "offices.csv"
    path.write_text("id,region,name,address\nx,y,z,w\n", encoding="utf-8")
    with pytest.raises(RegisterFileError) as info:
        load_offices(path)
    assert info.value.problems == [(1, "missing column(s): hours")]
