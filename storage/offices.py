"""Pickup offices from a CSV `id,region,name,address,hours`, indexed by normalised region."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.errors import RegisterFileError
from core.models import PickupOffice
from core.validators import normalize_region
from storage.register import read_csv_rows

DEMO_OFFICES_PATH = Path(__file__).with_name("demo") / "pickup_offices.csv"

OFFICE_COLUMNS = ("id", "region", "name", "address", "hours")

# The id travels in callback_data (64 bytes in all), so it is short and ASCII.
_OFFICE_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_OFFICE_ID_CHARS = re.compile(r"[A-Za-z0-9_-]+")


class OfficeDirectory:
    """core.ports.PickupOffices: offices by id and by region (ignoring case, yo/ye, spacing)."""

    def __init__(self, offices: Iterable[PickupOffice]) -> None:
        self._offices: list[PickupOffice] = []
        self._by_id: dict[str, PickupOffice] = {}
        self._by_region: dict[str, list[PickupOffice]] = {}
        for office in offices:
            if office.id in self._by_id:
                raise ValueError(f"duplicate office id {office.id!r}")
            self._offices.append(office)
            self._by_id[office.id] = office
            self._by_region.setdefault(normalize_region(office.region), []).append(office)

    def get(self, office_id: str) -> PickupOffice | None:
        return self._by_id.get(office_id)

    def for_region(self, region: str) -> list[PickupOffice]:
        """In file order; empty when the region has no office (the dialog then offers post)."""
        return list(self._by_region.get(normalize_region(region), ()))

    def offices(self) -> Sequence[PickupOffice]:
        return tuple(self._offices)

    def __len__(self) -> int:
        return len(self._offices)


def _id_problem(office_id: str) -> str:
    # Office ids are not personal data: quoting them helps find the row.
    if not _OFFICE_ID_CHARS.fullmatch(office_id):
        return f"{office_id} has characters other than A-Z a-z 0-9 _ -"
    return f"{office_id} is longer than 16 characters (it travels in button data)"


def load_offices(path: Path | str) -> OfficeDirectory:
    """Load and validate the office CSV; RegisterFileError lists every bad row."""
    path = Path(path)
    rows, problems = read_csv_rows(path, OFFICE_COLUMNS)
    offices: list[PickupOffice] = []
    first_line_of: dict[str, int] = {}
    for line, row in rows:
        row_problems = [f"{name}: empty" for name in OFFICE_COLUMNS if not row[name]]
        office_id = row["id"]
        if office_id and not _OFFICE_ID.fullmatch(office_id):
            row_problems.append(f"id: {_id_problem(office_id)}")
        seen = first_line_of.setdefault(office_id, line)
        if office_id and seen != line:
            row_problems.append(f"id: duplicate of line {seen}")
        if row_problems:
            problems.append((line, "; ".join(row_problems)))
            continue
        offices.append(PickupOffice(**row))
    if problems:
        raise RegisterFileError(str(path), sorted(problems))
    return OfficeDirectory(offices)
