"""Stored files: everything the bot or a user uploads, addressable by file_id like on Telegram."""

from __future__ import annotations

import io
import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from .errors import ApiError, bad_request

# Telegram's bot limits: 50 MB per upload (10 MB for a photo), 20 MB per getFile download.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
# Longest side of the photo sizes Telegram generates (s, m, x, y, w).
PHOTO_SIDES = (90, 320, 800, 1280, 2560)

_DIRS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "sticker": "stickers",
    "video": "videos",
    "video_note": "video_notes",
    "audio": "music",
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    kind: str
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0
        # Any size's file_id resolves to the whole set of sizes of that photo.
        self.photo_sets: dict[str, list[dict[str, Any]]] = {}

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        extension: str | None = None,
    ) -> StoredFile:
        self._counter += 1
        # Real ids are opaque base64 blobs; a kind prefix keeps them readable in test output.
        file_id = f"{kind[:3].upper()}AC{secrets.token_urlsafe(24)}"
        unique = f"AgAD{secrets.token_urlsafe(9)}"
        ext = extension
        if ext is None and file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1].lower()
        suffix = f".{ext}" if ext else ""
        path = f"{_DIRS.get(kind, 'files')}/file_{self._counter}{suffix}"
        stored = StoredFile(file_id, unique, data, kind, path, file_name, mime_type, width, height)
        self._by_id[file_id] = stored
        self._by_path[path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def require(self, file_id: str) -> StoredFile:
        stored = self._by_id.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    # --- Bot API objects -------------------------------------------------------------------

    def add_document(self, data: bytes, file_name: str, mime_type: str | None) -> dict[str, Any]:
        if not data:
            raise bad_request("file must be non-empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        # Telegram derives the MIME type from the file name, not from the multipart header.
        guessed = mimetypes.guess_type(file_name)[0]
        mime = guessed or mime_type or "application/octet-stream"
        stored = self.add(data, "document", file_name=file_name, mime_type=mime)
        return document_object(stored)

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Store a photo and its downscaled copies; return the PhotoSize array, smallest first."""
        if len(data) > MAX_PHOTO_BYTES:
            # TDLib's check of a local file, as the Bot API server passes uploads on to it.
            raise bad_request(
                f"file of size {len(data)} bytes is too big for a photo;"
                f" the maximum size is {MAX_PHOTO_BYTES} bytes"
            )
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                original = image.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise bad_request("IMAGE_PROCESS_FAILED") from exc
        width, height = original.size
        if width + height > 10000 or max(width, height) / max(min(width, height), 1) > 20:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[dict[str, Any]] = []
        longest = max(width, height)
        for side in PHOTO_SIDES:
            scale = min(1.0, side / longest)
            w = max(1, round(width * scale))
            h = max(1, round(height * scale))
            if sizes and (w, h) == (sizes[-1]["width"], sizes[-1]["height"]):
                break
            buffer = io.BytesIO()
            original.resize((w, h)).save(buffer, format="JPEG", quality=87)
            stored = self.add(buffer.getvalue(), "photo", width=w, height=h, extension="jpg")
            sizes.append(photo_size_object(stored))
            if scale >= 1.0:
                break
        for size in sizes:
            self.photo_sets[size["file_id"]] = sizes
        return sizes

    def add_voice(self, data: bytes, duration: int) -> dict[str, Any]:
        stored = self.add(data, "voice", mime_type="audio/ogg", extension="oga")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }

    def add_video(self, data: bytes, duration: int, width: int, height: int) -> dict[str, Any]:
        stored = self.add(data, "video", mime_type="video/mp4", extension="mp4")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "duration": duration,
            "mime_type": "video/mp4",
            "file_size": stored.size,
        }

    def add_video_note(self, data: bytes, duration: int, length: int) -> dict[str, Any]:
        stored = self.add(data, "video_note", extension="mp4")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "length": length,
            "duration": duration,
            "file_size": stored.size,
        }

    def add_sticker(self, data: bytes, emoji: str) -> dict[str, Any]:
        stored = self.add(data, "sticker", width=512, height=512, extension="webp")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }


def document_object(stored: StoredFile) -> dict[str, Any]:
    result: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
    }
    if stored.file_name:
        result["file_name"] = stored.file_name
    if stored.mime_type:
        result["mime_type"] = stored.mime_type
    result["file_size"] = stored.size
    return result


def photo_size_object(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "width": stored.width or 0,
        "height": stored.height or 0,
    }
