import hashlib
import io
import stat
from pathlib import Path

import pytest
from PIL import Image, UnidentifiedImageError

from storage.keys import DataKeys, new_key_text, parse_data_keys
from storage.vault import MAGIC, DiskFileVault, InvalidFileName, VaultFileUnreadable
from tests.fixtures_scans import make_jpeg

KEY_A = new_key_text()
KEY_B = new_key_text()


def keys(text: str) -> DataKeys:
    return parse_data_keys(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data" / "scans"


@pytest.fixture
def vault(root: Path) -> DiskFileVault:
    return DiskFileVault(root, keys(KEY_A))


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
    empty = await vault.put(b"", "")
    assert empty.size == 0
    assert await vault.get(empty.name) == b""


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
        ".incoming-../../secret.txt",
        ".incoming-x/../../secret.tmp",
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


# --- encryption at rest -------------------------------------------------------------------


async def test_a_scan_on_disk_is_no_image_without_the_key(vault: DiskFileVault) -> None:
    scan = make_jpeg(1200, 800)
    stored = await vault.put(scan, ".jpg")
    on_disk = (vault.root / stored.name).read_bytes()
    assert on_disk.startswith(MAGIC)
    assert b"\xff\xd8\xff" not in on_disk  # no JPEG magic anywhere, let alone at the start
    assert scan[100:132] not in on_disk
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(on_disk))
    assert await vault.get(stored.name) == scan  # decrypted in memory only


async def test_the_same_scan_twice_gives_unrelated_files(vault: DiskFileVault) -> None:
    scan = b"same scan" * 100
    first, second = await vault.put(scan, ".jpg"), await vault.put(scan, ".jpg")
    one, two = ((vault.root / s.name).read_bytes() for s in (first, second))
    assert one[-len(scan) :] != two[-len(scan) :]  # a fresh nonce per file


async def test_another_key_cannot_read_a_file(root: Path, vault: DiskFileVault) -> None:
    stored = await vault.put(b"scan", ".jpg")
    # The same key id pointing at another key: the tag does not verify.
    other = DiskFileVault(root, keys(f"{vault_key_id(vault)}:{KEY_B}"))
    with pytest.raises(VaultFileUnreadable):
        await other.get(stored.name)
    with pytest.raises(VaultFileUnreadable, match="does not list"):
        await DiskFileVault(root, keys(KEY_B)).get(stored.name)


async def test_an_altered_or_swapped_file_is_refused(vault: DiskFileVault) -> None:
    first = await vault.put(b"first citizen's scan", ".jpg")
    second = await vault.put(b"second citizen's scan", ".jpg")
    path = vault.root / first.name
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(VaultFileUnreadable):
        await vault.get(first.name)
    # The name is authenticated too: one citizen's file moved under another's name is refused.
    (vault.root / second.name).replace(path)
    with pytest.raises(VaultFileUnreadable):
        await vault.get(first.name)


async def test_rotation_keeps_old_scans_readable(root: Path) -> None:
    old_vault = DiskFileVault(root, keys(f"2024:{KEY_A}"))
    old_scan = make_jpeg(800, 600)
    old = await old_vault.put(old_scan, ".jpg")

    rotated = DiskFileVault(root, keys(f"2025:{KEY_B},2024:{KEY_A}"))
    assert await rotated.get(old.name) == old_scan  # written under the old key, still readable
    new = await rotated.put(b"new scan", ".pdf")
    assert await rotated.get(new.name) == b"new scan"
    # The new file is under the new key: the old key alone cannot read it.
    with pytest.raises(VaultFileUnreadable):
        await old_vault.get(new.name)


async def test_bare_keys_rotate_by_their_fingerprint(root: Path) -> None:
    stored = await DiskFileVault(root, keys(KEY_A)).put(b"scan", ".jpg")
    assert await DiskFileVault(root, keys(f"{KEY_B}, {KEY_A}")).get(stored.name) == b"scan"


async def test_start_up_moves_old_key_files_to_the_current_key(root: Path) -> None:
    old = await DiskFileVault(root, keys(KEY_A)).put(b"old scan", ".jpg")
    rotated = DiskFileVault(root, keys(f"{KEY_B},{KEY_A}"))
    assert await rotated.encrypt_stale_files() == 1
    assert await rotated.encrypt_stale_files() == 0  # nothing left to do
    # Now the old key can be dropped from DATA_KEY.
    assert await DiskFileVault(root, keys(KEY_B)).get(old.name) == b"old scan"


async def test_plaintext_files_from_before_are_read_then_encrypted_at_start_up(
    root: Path, vault: DiskFileVault, caplog: pytest.LogCaptureFixture
) -> None:
    legacy_name = "0123456789abcdef0123456789abcdef.jpg"
    scan = make_jpeg(800, 600)
    write_as_before_encryption(root / legacy_name, scan)
    assert await vault.get(legacy_name) == scan

    caplog.set_level("INFO", logger="storage.vault")
    assert await vault.encrypt_stale_files() == 1
    on_disk = (root / legacy_name).read_bytes()
    assert on_disk.startswith(MAGIC) and b"\xff\xd8\xff" not in on_disk
    assert stat.S_IMODE((root / legacy_name).stat().st_mode) == 0o600
    assert await vault.get(legacy_name) == scan
    assert "re-encrypted 1 stored files" in caplog.text


async def test_files_under_an_unknown_key_are_left_alone_with_a_warning(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored = await DiskFileVault(root, keys(KEY_A)).put(b"scan", ".jpg")
    before = (root / stored.name).read_bytes()
    assert await DiskFileVault(root, keys(KEY_B)).encrypt_stale_files() == 0
    assert (root / stored.name).read_bytes() == before
    assert "1 stored files cannot be read" in caplog.text


def vault_key_id(vault: DiskFileVault) -> str:
    [stored] = [p for p in vault.root.iterdir()]
    blob = stored.read_bytes()
    length = blob[len(MAGIC)]
    return blob[len(MAGIC) + 1 : len(MAGIC) + 1 + length].decode()


def write_as_before_encryption(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(data)


async def test_the_inventory_lists_stored_and_temporary_files_only(vault: DiskFileVault) -> None:
    stored = await vault.put(b"scan", ".jpg")
    (vault.root / ".incoming-ab_12cd.tmp").write_bytes(b"half")
    (vault.root / "notes.txt").write_text("someone else's")
    entries = {e.name: e for e in await vault.inventory()}
    assert set(entries) == {stored.name, ".incoming-ab_12cd.tmp"}
    assert not entries[stored.name].temporary and entries[".incoming-ab_12cd.tmp"].temporary
    await vault.delete(".incoming-ab_12cd.tmp")
    assert {p.name for p in vault.root.iterdir()} == {stored.name, "notes.txt"}
