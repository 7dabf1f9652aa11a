"""Links to renamed pages: what kb wrote before a rename, read as it reads after it.

When a person renames a kb page in Obsidian, Obsidian rewrites every `[[Old title...]]`
link in the vault to `[[New title...]]`, kb's lines included. kb then writes those pages
again with the new title (kb.build.renames), and the lines Obsidian rewrote must read as
kb's, not as a person's (which kb would keep beside its own: two "Related" lines). So the
text kb last generated for a page (the merge's reference) is read with every link to a
renamed page pointing at its new title (`forward`), the text as it was is kb's too (a
rename in a file manager rewrites no link), and a page read back from its stamp after a
lost `.kb/` recognises a rewritten line by the line it was (`backward`).

A page's former titles are kept in the state (`pages.former`) and on the page itself
(`renamed_from` in its frontmatter, listed in its aliases too), so a rebuild after a
deleted `.kb/` knows them.

    python -c "from kb.build.relink import Links; print(Links({'A': 'B'}).forward('[[A]]'))"
"""

from __future__ import annotations

import json
import re

from kb.state import State
from kb.wiki.names import fold
from kb.wiki.stamp import reference as kb_text

KEY = "renamed_from"  # the frontmatter property that lists a page's former titles


def former(row) -> list[str]:
    """The titles a page row had before a person renamed it, oldest first."""
    try:
        value = row["former"]
    except (IndexError, KeyError):  # a row read without the column
        return []
    return list(json.loads(value)) if value else []


def with_former(row, meta: dict) -> dict:
    """A page's frontmatter with its former titles among its aliases and listed under
    `renamed_from` (after `updated`), so a rebuild after a lost `.kb/` knows them."""
    titles = former(row)
    if not titles:
        return meta
    aliases = list(meta.get("aliases") or [])
    have = {fold(a) for a in [meta["title"], *aliases]}  # its title in another case: none
    aliases += [t for t in titles if fold(t) not in have]
    out = {}
    for key, value in meta.items():
        out[key] = sorted(aliases, key=lambda a: (a.casefold(), a)) if key == "aliases" else value
        if key == "updated":
            out[KEY] = titles
    return out


def adopted(page_meta: dict, stem: str) -> list[str]:
    """A page's former titles as its file tells them after a lost `.kb/`: the ones it
    lists, and its frontmatter title when the file has another name (renamed since kb
    last wrote it)."""
    listed = page_meta.get(KEY) or []
    titles = [str(t) for t in (listed if isinstance(listed, list) else [listed])]
    titles.append(str(page_meta.get("title") or stem))
    return updated([], titles, stem)


def stored(titles: list[str]) -> str | None:
    """The state's `pages.former` of these titles (NULL when none: the index stays small)."""
    return json.dumps(titles, ensure_ascii=False) if titles else None


def updated(titles: list[str], more: list[str], current: str) -> list[str]:
    """`titles` then `more`, once each, not `current` (a change of case is a rename too:
    Obsidian rewrites the links)."""
    out: list[str] = []
    for t in [*titles, *more]:
        if t and t != current and t not in out:
            out.append(t)
    return out


class Links:
    """Former title -> current title, for every renamed page of the vault."""

    def __init__(self, renamed: dict[str, str]) -> None:
        self.to_new = dict(renamed)
        latest: dict[str, str] = {}
        for old, new in renamed.items():  # in order: the last is the title before this one
            latest[new] = old
        self.to_old = latest
        self._new = _pattern(self.to_new)
        self._old = _pattern(self.to_old)

    @classmethod
    def of(cls, state: State) -> Links:
        rows = state.db.execute(
            "SELECT key, title, former FROM pages WHERE former IS NOT NULL ORDER BY key"
        ).fetchall()
        return cls({old: r["title"] for r in rows for old in former(r)})

    def __bool__(self) -> bool:
        return bool(self.to_new)

    def forward(self, text: str) -> str:
        """`text` with its links to renamed pages pointing at their titles now."""
        if self._new is None:
            return text
        return self._new.sub(lambda m: "[[" + self.to_new[m.group(1)], text)

    def backward(self, line: str) -> str:
        """`line` as it was before Obsidian rewrote its links to renamed pages."""
        if self._old is None:
            return line
        return self._old.sub(lambda m: "[[" + self.to_old[m.group(1)], line)

    def reference(
        self, generated: str | None, pending: str | None, current: str | None, new: str | None
    ) -> tuple[str | None, str | None]:
        """(reference, also) for kb.wiki.merge, as kb.wiki.stamp.reference gives them,
        with the reference's links following renames, and the reference as it was also
        kb's."""
        if not self:
            return kb_text(generated, pending, current, new)
        ref, also = kb_text(generated, pending, current, new, self.backward)
        moved = self.forward(ref) if ref is not None else None
        if moved == ref:
            return ref, also
        return moved, "\n".join(t for t in (also, ref) if t)


def _pattern(titles: dict[str, str]) -> re.Pattern | None:
    """`[[` and any of these titles, as a link's target (followed by `]]`, `|` or `#`)."""
    if not titles:
        return None
    names = sorted(titles, key=lambda t: (-len(t), t))
    return re.compile(r"\[\[(" + "|".join(re.escape(n) for n in names) + r")(?=\]\]|\||#)")
