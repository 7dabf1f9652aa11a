"""Rule `empty-page`: a page with nothing in it but its title, or only a placeholder.

Headings, block ids and whitespace are not content; "TODO", "TBD", "stub", "lorem
ipsum..." and the like on their own are placeholders.

    kb lint --rule empty-page
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb.lint.context import Context, Finding

NAME = "empty-page"
_NOT_CONTENT = re.compile(r"^\s*(#{1,6}\s.*|\^[A-Za-z0-9-]+|---|)\s*$")
_PLACEHOLDER = re.compile(
    r"^(todo|tbd|tbc|tba|fixme|wip|stub|placeholder|coming soon|to be written|"
    r"lorem ipsum.*|\.\.\.|…|-|n/?a)$",
    re.I | re.S,
)


def check(ctx: Context) -> Iterator[Finding]:
    for page in ctx.pages.values():
        if page.special:
            continue
        text = " ".join(x.strip() for x in page.body.split("\n") if not _NOT_CONTENT.match(x))
        text = text.strip(" .!*_>-:[]()")
        if not text:
            yield Finding(ctx.where(page), page.body_line, NAME, "the page has no content")
        elif _PLACEHOLDER.match(text):
            yield Finding(ctx.where(page), page.body_line, NAME, f"placeholder only: {text!r}")
