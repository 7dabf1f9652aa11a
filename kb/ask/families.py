"""Words of one measure: a question asks about "speed", a source says "2.5x faster".

A question about an amount names the measure ("how expensive", "what speed", "how many
bytes"), where the sentence that answers it gives the number in its own words ("6x the
price", "7% faster", "2KB per token"). Each family here is one measure; a question word
in a family may be found said as any other word of it (kb.ask.terms.Question.also). The
families are few and narrow on purpose: a broad thesaurus would make every sentence
about anything match, and "not covered" must stay honest.

    python -c "from kb.ask.terms import Question; print(Question.parse('what speed?').alts)"
"""

from __future__ import annotations

FAMILIES: dict[str, str] = {
    "speed": "speed speeds fast faster fastest slow slower slowest quick quicker latency",
    "cost": "cost costs costly price prices priced pricing expensive cheap cheaper pay paid"
    " charge charges charged spend spends spending spent buy buys bought premium",
    "size": "size sizes big bigger biggest large larger largest small smaller smallest",
    "memory": "memory ram",
    "bytes": "byte bytes kb mb gb tb kilobytes megabytes gigabytes terabytes",
    # who leads what: "Which company does Reiner Pope lead?" / "Reiner Pope, CEO of MatX"
    "leading": "lead leads led run runs head heads ceo cto founder cofounder chief",
}
# Short forms a source writes where a question spells the word out, or the reverse.
ABBREVIATIONS = (
    "repo repository",
    "repos repositories",
    "app application",
    "apps applications",
    "info information",
    "docs documentation",
    "config configuration",
    "lib library",
    "stats statistics",
    "spec specification",
    "params parameters",
)
