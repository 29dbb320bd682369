"""A deployer has only the repository: the docs they need are in it and point nowhere else."""

from __future__ import annotations

import subprocess
from pathlib import Path

from storage.offices import OFFICE_COLUMNS
from storage.register import REGISTER_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DEPLOYER = ROOT / "docs" / "deployer.md"
OUTSIDE = ("DOMAIN.md", "../shared")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if not name.startswith("tests/")]


def test_nothing_outside_tests_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # pictures; files deleted in the work tree
        offenders += [f"{path.relative_to(ROOT)}: {word}" for word in OUTSIDE if word in text]
    assert offenders == []


def test_the_deployer_page_describes_every_column_of_both_files() -> None:
    text = DEPLOYER.read_text(encoding="utf-8")
    missing = [c for c in (*REGISTER_COLUMNS, *OFFICE_COLUMNS) if f"`{c}`" not in text]
    assert missing == []


def test_readme_and_env_example_send_deployers_to_it() -> None:
    assert "docs/deployer.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/deployer.md" in (ROOT / ".env.example").read_text(encoding="utf-8")
