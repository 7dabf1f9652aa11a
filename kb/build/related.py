"""The live pages a page being written links to: its "Related" list, the page a topic's
names lead to, and the titles a model may link, each worked out from the state once per
build (the alias registry is read once, then every page uses it).

    python -c "from kb.build.related import Linked; help(Linked)"
"""

from __future__ import annotations

from collections import Counter

from kb.editors.base import SourceNote
from kb.state import State
from kb.wiki.names import concept_key

RELATED = 8  # pages listed under "Related"


class Linked:
    """Links among the pages sources support (`live`: their keys) in one build."""

    def __init__(self, state: State, live: set[str]) -> None:
        self.state, self.live = state, live
        self._aliases: dict[str, str] | None = None
        self._known: frozenset[str] | None = None

    def aliases(self) -> dict[str, str]:
        if self._aliases is None:
            self._aliases = self.state.alias_map()
        return self._aliases

    def page_of(self, topic) -> str | None:
        """The title of the live page a topic's names lead to, if any."""
        for k in (topic.key, *(concept_key(a) for a in topic.aliases)):
            key = self.aliases().get(k)
            if key in self.live:
                page = self.state.page(key)
                if page and page["type"] in ("concept", "entity"):
                    return page["title"]
        return None

    def known(self) -> frozenset[str]:
        """Titles a page may link: live pages and saved answers."""
        if self._known is None:
            rows = self.state.db.execute("SELECT key, title, type FROM pages")
            self._known = frozenset(t for k, t, ty in rows if k in self.live or ty == "answer")
        return self._known

    def related(self, key: str, notes: list[SourceNote]) -> list[str]:
        """Titles of the live pages the notes' topics relate to, most often first."""
        aliases = self.aliases()
        counts: Counter = Counter()
        for n in notes:
            for k in n.topic.related:
                target = aliases.get(k)
                if target and target != key and target in self.live:
                    counts[target] += 1
        out = []
        for target, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:RELATED]:
            page = self.state.page(target)
            if page:
                out.append(page["title"])
        return out
