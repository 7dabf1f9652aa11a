"""Rule `property-type`: a frontmatter property whose type differs across the vault.

Obsidian gives each property one type vault-wide (text, list, number, checkbox, date,
date & time), so `tags: ml` on one page and `tags: [ml]` on the others, or a `published`
that is a date here and free text there, shows as broken. The type most pages use is the
expected one; every page using another is reported at the property's line.

    kb lint --rule property-type
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from kb.lint.context import Context, Finding

NAME = "property-type"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_KINDS = ((bool, "checkbox"), (int, "number"), (float, "number"), (list, "list"), (dict, "object"))


def kind_of(value: object) -> str | None:
    """Obsidian's name for the type of a frontmatter value; None for an empty one."""
    if value is None or value == "":
        return None
    for py, name in _KINDS:
        if isinstance(value, py):
            return name
    text = str(value)
    if _DATE.match(text):
        return "date"
    return "date & time" if _DATETIME.match(text) else "text"


def check(ctx: Context) -> Iterator[Finding]:
    kinds: dict[str, Counter] = {}
    for page in ctx.pages.values():
        for key, value in page.meta.items():
            kind = kind_of(value)
            if kind:
                kinds.setdefault(key, Counter())[kind] += 1
    mixed = {key: max(sorted(c), key=lambda k: c[k]) for key, c in kinds.items() if len(c) > 1}
    for page in ctx.pages.values():
        for key in mixed.keys() & page.meta.keys():
            kind, expected = kind_of(page.meta[key]), mixed[key]
            if kind and kind != expected:
                yield Finding(
                    ctx.where(page),
                    page.meta_line(key),
                    NAME,
                    f"{key!r} is {kind} here but {expected} on {kinds[key][expected]} pages",
                )
