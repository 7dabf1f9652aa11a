"""A raw file's text as its source page would show it now, block by block.

The build converts a raw file, re-points the embeds of its own images at the extracted
files, sanitizes the text (kb.build.pages.sanitize) and writes each block with its anchor
(kb.build.pages.render_block). `rendered_blocks` does the same for one file without
building, so a rule can tell which cited blocks changed (kb.lint.stale_page).

    python -m kb.build.sourcetext VAULT raw/article.md      # anchor: first words, a line each
"""

from __future__ import annotations

import sys
from pathlib import Path

from kb.build.pages import FOLDERS, render_block, sanitize
from kb.config import Config
from kb.convert import Limits, convert
from kb.document import Document
from kb.wiki.names import safe_title


def limits(cfg: Config) -> Limits:
    """The converter limits of kb.toml [limits], in bytes."""
    mib = 2**20
    return Limits(int(cfg.max_file_mb * mib), int(cfg.max_expanded_mb * mib), cfg.max_zip_ratio)


def asset_paths(rel: str, doc: Document) -> dict[str, str]:
    """Where the source's images go, relative to wiki/: one folder per raw file."""
    folder = f"{FOLDERS['source']}/assets/{safe_title(rel.replace('/', ' '))}"
    return {a.name: f"{folder}/{safe_title(a.name)}" for a in doc.assets}


def rendered_blocks(cfg: Config, rel: str) -> dict[str, str]:
    """Anchor -> the block as the source page of raw/`rel` would show it now. Raises
    ConversionError when the file cannot be converted."""
    doc = convert(cfg.raw_dir / rel, limits(cfg), cfg.raw_dir)
    doc = sanitize(doc, asset_paths(rel, doc))
    return {b.anchor: render_block(b) for b in doc.blocks()}


if __name__ == "__main__":
    from kb.config import load

    vault = load(Path(sys.argv[1]))
    for anchor, text in rendered_blocks(vault, sys.argv[2].removeprefix(f"{vault.raw}/")).items():
        print(f"{anchor}: {text[:60]!r}")
