"""A zip archive opened for reading only, with the checks a hostile archive calls for.

Before anything is decompressed, the central directory is checked: entry count, total
expanded size and compression ratio (zip bombs), unsafe names (`..`, absolute paths,
drive letters), duplicate names and password-protected entries. Reads are then streamed
and counted, so an entry that inflates past its declared size, or past the archive's
budget, is refused mid-read. Nothing is ever written to disk.

Names stored without the zip UTF-8 flag are re-decoded as UTF-8 when they are valid
UTF-8 (most tools write them that way), otherwise kept in cp437 as zipfile reads them.

    from kb.convert.safezip import SafeZip
    with SafeZip(Path("book.epub"), limits) as archive:
        data = archive.read("META-INF/container.xml")
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from kb.document import ConversionError

MAX_ENTRIES = 10_000
_CHUNK = 64 * 1024
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
# Below this size a high ratio is harmless (a 200 kB run of spaces is no bomb).
_RATIO_FLOOR = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its author meant it (UTF-8 even without the flag)."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def unsafe_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or bool(_DRIVE.match(name)) or ".." in parts


class SafeZip:
    """Read-only view of a zip archive that refuses bombs and hostile names."""

    def __init__(self, path: Path, limits: object, what: str = "zip archive") -> None:
        self.what = what
        self.max_expanded = int(getattr(limits, "max_expanded_bytes", 512 * 2**20))
        self.max_ratio = float(getattr(limits, "max_zip_ratio", 200.0))
        self.budget = self.max_expanded
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise ConversionError(
                f"{what}: not a readable zip archive, it is truncated or corrupt ({exc})",
                "download or export the file again",
            ) from exc
        try:
            self.entries = self._check_directory()
        except ConversionError:
            self._zip.close()
            raise

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _refuse(self, reason: str, hint: str) -> ConversionError:
        return ConversionError(f"{self.what}: {reason}", hint)

    def _check_directory(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if not infos:
            raise self._refuse("the zip archive has no entries", "the file is not a document")
        if len(infos) > MAX_ENTRIES:
            raise self._refuse(f"{len(infos)} zip entries, over {MAX_ENTRIES}", "not a document")
        entries: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = entry_name(info)
            if unsafe_name(name):
                raise self._refuse(
                    f"zip entry with an unsafe path {name!r} (absolute or with '..')",
                    "the archive is malformed or malicious; do not open it elsewhere either",
                )
            if name in entries:
                raise self._refuse(
                    f"duplicate zip entry {name!r}",
                    "repack the file (e.g. open and save it with calibre)",
                )
            if info.flag_bits & _ENCRYPTED_FLAG:
                raise self._refuse(
                    f"zip entry {name!r} is password-protected", "export an unprotected copy"
                )
            self._check_ratio(name, info.file_size, info.compress_size)
            entries[name] = info
        self._check_totals(infos)
        return entries

    def _check_ratio(self, name: str, size: int, packed: int) -> None:
        if size > _RATIO_FLOOR and size / max(packed, 1) > self.max_ratio:
            raise self._refuse(
                f"zip bomb: entry {name!r} expands {size / max(packed, 1):.0f}:1 to {_mb(size)}",
                f"refused above a ratio of {self.max_ratio:.0f}:1 ([limits] in kb.toml)",
            )

    def _check_totals(self, infos: list[zipfile.ZipInfo]) -> None:
        size = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos)
        if size > self.max_expanded:
            raise self._refuse(
                f"zip bomb: expands to {_mb(size)}, over the {_mb(self.max_expanded)} limit",
                "raise [limits] max_expanded_mb in kb.toml if the file is genuine",
            )
        self._check_ratio("(all entries)", size, packed)

    def names(self) -> list[str]:
        return list(self.entries)

    def find(self, name: str) -> str | None:
        """The stored name for `name`, tolerating ./, fragments and %-escapes."""
        name = posixpath.normpath(name.split("#", 1)[0]).lstrip("/")
        for candidate in (name, unquote(name)):
            if candidate in self.entries:
                return candidate
        return None

    def read(self, name: str) -> bytes:
        """Read one entry, counting bytes as they inflate. KeyError if it is absent."""
        stored = self.find(name)
        if stored is None:
            raise KeyError(name)
        info = self.entries[stored]
        out = bytearray()
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    if len(out) > info.file_size or len(out) > self.budget:
                        raise self._refuse(
                            f"zip entry {stored!r} inflates beyond its declared size",
                            "the archive is malformed or a zip bomb",
                        )
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise self._refuse(
                f"zip entry {stored!r} is corrupt ({exc})", "download or export the file again"
            ) from exc
        self.budget -= len(out)
        return bytes(out)
