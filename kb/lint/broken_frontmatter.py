"""Rule `broken-frontmatter`: a page whose frontmatter YAML cannot read.

Obsidian then shows the properties as raw text, and kb leaves a page of its own in that
state alone (it cannot tell the person's properties from its own) until it is mended, so
the page stops following its sources. Reported at line 1 with YAML's own reason.

    kb lint --rule broken-frontmatter
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from kb.lint.context import Context, Finding
from kb.wiki.page import broken_frontmatter

NAME = "broken-frontmatter"


def _reason(text: str) -> str:
    end = text.find("\n---", 3)
    try:
        yaml.safe_load(text[4:end] if end > 0 else text[4:])
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        mark = getattr(exc, "problem_mark", None)
        return f"{problem} (line {mark.line + 2})" if mark else problem
    return "the block is never closed with ---" if end < 0 else "not a mapping of properties"


def check(ctx: Context) -> Iterator[Finding]:
    for page in ctx.pages.values():
        if broken_frontmatter(page.text):
            yield Finding(
                f"{ctx.cfg.wiki}/{page.rel}",
                1,
                NAME,
                f"the frontmatter is not valid YAML: {_reason(page.text)}; fix it (kb leaves"
                " the page as it is until then)",
            )
