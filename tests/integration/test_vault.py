import hashlib
import stat
from pathlib import Path

import pytest

from storage.vault import DiskFileVault, InvalidFileName


@pytest.fixture
def vault(tmp_path: Path) -> DiskFileVault:
    return DiskFileVault(tmp_path / "data" / "scans")


async def test_put_get_delete_round_trip(vault: DiskFileVault) -> None:
    content = b"\xff\xd8\xff\xe0 not really a jpeg"
    stored = await vault.put(content, ".JPG")
    assert stored.name.endswith(".jpg") and len(stored.name) == 32 + 4
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert await vault.get(stored.name) == content

    await vault.delete(stored.name)
    with pytest.raises(FileNotFoundError):
        await vault.get(stored.name)
    await vault.delete(stored.name)  # a repeated deletion is harmless


async def test_names_are_generated_and_never_reused(vault: DiskFileVault) -> None:
    first = await vault.put(b"same", "pdf")
    second = await vault.put(b"same", ".pdf")
    assert first.name != second.name
    assert first.sha256 == second.sha256
    assert (await vault.put(b"", "")).size == 0


async def test_directory_is_private_and_holds_no_temporary_files(vault: DiskFileVault) -> None:
    stored = await vault.put(b"scan", ".png")
    assert stat.S_IMODE(vault.root.stat().st_mode) == 0o700
    assert stat.S_IMODE((vault.root / stored.name).stat().st_mode) == 0o600
    assert [p.name for p in vault.root.iterdir()] == [stored.name]


@pytest.mark.parametrize("suffix", [".j/pg", "../x", ".verylongsuffix", ". jpg", ".jp g"])
async def test_odd_suffixes_are_refused(vault: DiskFileVault, suffix: str) -> None:
    with pytest.raises(InvalidFileName):
        await vault.put(b"x", suffix)


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "/etc/passwd",
        "..",
        "",
        "0" * 32 + "/../x",
        "0" * 31 + ".jpg",
        "..%2F" + "0" * 32,
        "0" * 32 + ".jpg\x00.txt",
    ],
)
async def test_paths_outside_the_vault_cannot_be_reached(
    vault: DiskFileVault, tmp_path: Path, name: str
) -> None:
    (tmp_path / "secret.txt").write_text("do not read")
    with pytest.raises(InvalidFileName):
        await vault.get(name)
    with pytest.raises(InvalidFileName):
        await vault.delete(name)
    assert (tmp_path / "secret.txt").exists()


async def test_a_failed_write_leaves_nothing_behind(
    vault: DiskFileVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    await vault.put(b"first", ".jpg")  # creates the directory

    def broken_replace(src: str, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("storage.vault.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await vault.put(b"second", ".jpg")
    assert len(list(vault.root.iterdir())) == 1
