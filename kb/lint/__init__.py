"""`kb lint`: the wiki's health, checked deterministically (no model needed).

One rule per module, each `check(ctx: Context) -> Iterable[Finding]` over the vault read
once (kb.lint.context); RULES is the registry, in the order findings are explained.
kb.lint.runner runs them, kb.lint.fix repairs what is mechanical, kb.lint.deep is the
semantic lint (`--deep`) done with the configured editor.

    python -m kb.lint.runner VAULT        # findings as lines; exit 3 when there are any
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kb.lint import (
    alias_link,
    ambiguous_name,
    broken_frontmatter,
    empty_page,
    index_entry,
    missing_anchor,
    missing_page,
    orphan_page,
    property_type,
    stale_page,
    uncited_claim,
    unresolved_link,
)
from kb.lint.context import Context, Finding

Rule = Callable[[Context], Iterable[Finding]]

RULES: dict[str, Rule] = {
    unresolved_link.NAME: unresolved_link.check,
    broken_frontmatter.NAME: broken_frontmatter.check,
    alias_link.NAME: alias_link.check,
    missing_anchor.NAME: missing_anchor.check,
    ambiguous_name.NAME: ambiguous_name.check,
    orphan_page.NAME: orphan_page.check,
    missing_page.NAME: missing_page.check,
    stale_page.NAME: stale_page.check,
    uncited_claim.NAME: uncited_claim.check,
    empty_page.NAME: empty_page.check,
    property_type.NAME: property_type.check,
    index_entry.NAME: index_entry.check,
}

__all__ = ["RULES", "Context", "Finding", "Rule"]
