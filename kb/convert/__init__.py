"""Converters: raw file -> Document. One module per format, one signature, a registry.

Every converter is `convert(path: Path, limits: Limits) -> Document` and raises
`ConversionError(reason, hint)` for a file it cannot read. `convert()` below refuses
oversized and empty files before reading them, picks the converter by content when the
content says otherwise (sniff.py: a zip named .txt, HTML named .md, a transcript named
.txt) and by extension otherwise, keeps library warnings off the terminal, and turns any
unexpected exception into a ConversionError so no file can crash a build.

Converter modules are imported on first use: the HTML, EPUB and PDF ones pull in
trafilatura, lxml, bs4 and pypdf (a quarter of a second), which a command that never
converts a file (`kb ask`, `kb status`) should not pay for at start-up.

    python -c "from pathlib import Path; from kb.convert import convert; \
               print(convert(Path('raw/example.md')).title)"
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kb.document import ConversionError, Document


@dataclass(frozen=True)
class Limits:
    """Resource limits for hostile input. Configurable in kb.toml [limits]."""

    max_file_bytes: int = 100 * 2**20
    max_expanded_bytes: int = 512 * 2**20  # zip bombs: total uncompressed size
    max_zip_ratio: float = 200.0  # zip bombs: uncompressed / compressed


Converter = Callable[[Path, Limits], Document]


def _lazy(module: str, name: str = "convert") -> Converter:
    """The converter `kb.convert.<module>.<name>`, its module imported on the first call."""

    def converter(path: Path, limits: Limits) -> Document:
        return getattr(importlib.import_module(f"kb.convert.{module}"), name)(path, limits)

    converter.__name__ = converter.__qualname__ = f"{module}.{name}"
    return converter


_markdown, _html, _epub, _pdf = _lazy("markdown"), _lazy("html"), _lazy("epub"), _lazy("pdf")
_vtt, _srt = _lazy("transcript", "convert_vtt"), _lazy("transcript", "convert_srt")

# Extension -> converter. Add a format by adding a module and a line here.
CONVERTERS: dict[str, Converter] = {
    ".md": _markdown,
    ".markdown": _markdown,
    ".txt": _markdown,
    ".html": _html,
    ".htm": _html,
    ".xhtml": _html,
    ".epub": _epub,
    ".pdf": _pdf,
    ".vtt": _vtt,
    ".srt": _srt,
}

# What sniff.detect() found in the content -> converter (overrides the extension).
BY_CONTENT: dict[str, Converter] = {
    "pdf": _pdf,
    "epub": _epub,
    "html": _html,
    "vtt": _vtt,
    "srt": _srt,
    "transcript": _lazy("transcript_text"),
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in CONVERTERS


def readable(path: Path, limits: Limits, within: Path | None = None) -> str:
    """The file's format label, once it is known to be a readable file of a format kb
    reads, inside `within`, and of a size worth converting; else ConversionError."""
    from kb.convert import sniff

    if path.suffix.lower() not in CONVERTERS:
        raise ConversionError(
            f"unsupported format {path.suffix or '(no extension)'!r}",
            "kb reads " + ", ".join(sorted(CONVERTERS)) + "; convert the file or remove it",
        )
    label = sniff.LABELS.get(path.suffix.lower(), path.suffix.lstrip(".").upper())
    if not path.is_file():  # a pipe or a device would block a read forever
        raise ConversionError(
            f"{label}: not a regular file (a pipe, device or folder)", "remove it from raw/"
        )
    if within is not None and not path.resolve().is_relative_to(within.resolve()):
        raise ConversionError(
            f"a link to {path.resolve()}, outside {within.name}/",
            f"kb reads only files inside {within.name}/: copy the file in instead of linking it",
        )
    if not os.access(path, os.R_OK):
        raise ConversionError(f"{label}: permission denied", "make the file readable by you")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ConversionError(
            f"{label}: file is {size / 2**20:.0f} MB, "
            f"over the {limits.max_file_bytes / 2**20:.0f} MB limit",
            "raise [limits] max_file_mb in kb.toml if this file is wanted",
        )
    if size == 0:
        raise ConversionError(f"{label}: empty file", "add content or remove the file")
    return label


def convert(path: Path, limits: Limits | None = None, within: Path | None = None) -> Document:
    """Convert one raw file, or raise ConversionError naming the reason. `within`: the
    folder the file must really be in (raw/): a symbolic link out of it is refused, so a
    link dropped into raw/ cannot pull /etc/passwd or the wiki itself into the wiki."""
    from kb.convert import sniff  # here, not at the top: see the module's docstring

    limits = limits or Limits()
    label = readable(path, limits, within)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libraries warn on odd input; converters never print
            kind = sniff.detect(path)
            converter = BY_CONTENT.get(kind or "") or CONVERTERS[path.suffix.lower()]
            return converter(path, limits)
    except ConversionError:
        raise
    except RecursionError as exc:
        raise ConversionError(
            f"{label}: elements are nested too deeply to parse",
            "re-save the file from its application, or simplify it",
        ) from exc
    except Exception as exc:  # a converter bug or a library choking: never crash a build
        raise ConversionError(
            f"could not convert: {type(exc).__name__}: {exc}",
            "the file may be damaged; report it if it opens elsewhere",
        ) from exc
