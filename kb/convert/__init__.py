"""Converters: raw file -> Document. One module per format, one signature, a registry.

Every converter is `convert(path: Path, limits: Limits) -> Document` and raises
`ConversionError(reason, hint)` for a file it cannot read. `convert()` below picks the
converter by extension, refuses oversized files before reading them, and turns any
unexpected exception into a ConversionError so no file can crash a build.

    python -c "from pathlib import Path; from kb.convert import convert; \
               print(convert(Path('raw/example.md')).title)"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kb.convert import markdown
from kb.document import ConversionError, Document


@dataclass(frozen=True)
class Limits:
    """Resource limits for hostile input. Configurable in kb.toml [limits]."""

    max_file_bytes: int = 100 * 2**20
    max_expanded_bytes: int = 512 * 2**20  # zip bombs: total uncompressed size
    max_zip_ratio: float = 200.0  # zip bombs: uncompressed / compressed


Converter = Callable[[Path, Limits], Document]

# Extension -> converter. Add a format by adding a module and a line here.
CONVERTERS: dict[str, Converter] = {
    ".md": markdown.convert,
    ".markdown": markdown.convert,
    ".txt": markdown.convert,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in CONVERTERS


def convert(path: Path, limits: Limits | None = None) -> Document:
    """Convert one raw file, or raise ConversionError naming the reason."""
    limits = limits or Limits()
    converter = CONVERTERS.get(path.suffix.lower())
    if converter is None:
        raise ConversionError(
            f"unsupported format {path.suffix or '(no extension)'!r}",
            "kb reads " + ", ".join(sorted(CONVERTERS)) + "; convert the file or remove it",
        )
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ConversionError(
            f"file is {size / 2**20:.0f} MB, over the {limits.max_file_bytes / 2**20:.0f} MB limit",
            "raise [limits] max_file_mb in kb.toml if this file is wanted",
        )
    if size == 0:
        raise ConversionError("empty file", "add content or remove the file")
    try:
        return converter(path, limits)
    except ConversionError:
        raise
    except Exception as exc:  # a converter bug or a library choking: never crash a build
        raise ConversionError(
            f"could not convert: {type(exc).__name__}: {exc}",
            "the file may be damaged; report it if it opens elsewhere",
        ) from exc
