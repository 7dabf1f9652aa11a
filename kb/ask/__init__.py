"""`kb ask`: answers from the compiled wiki by directed compaction, with citations.

Not chunk retrieval over raw files, and never a read of the whole wiki: the navigator
starts at the index (the `pages` table) and the alias registry, opens the few pages that
match, follows their links one hop at a time within a token budget, and compacts what it
reads into cited notes aimed at the question. Modules:

    terms.py       the question: content terms, idf weights, phrase keys, and the other
                   ways a term may be said (a page's other names, a measure's words)
    families.py    the few word families of a measure ("speed": fast, faster, slower)
    navigate.py    shortlist, Reader (budgeted page reads), the extractive navigator
    (kb.build.signature, the per-page word index kb build keeps, lets page text match too)
    units.py       a page body as units: bullets, callout lines, paragraphs
    compact.py     skims and passages of those units; notes with their citations
    lists.py       the lists a skim takes whole when their heading or intro matches
    extractive.py  BM25-style ranking of notes into a short quoted, cited answer
    llm.py         the model path: a tool-use loop (read_page, follow_link), metered
    cite.py        every link in an answer must resolve, or it is removed and reported
    save.py        --save: the answer filed back as a page of type `answer`
    core.py        ask(): the steps in order, the log entry and the ledger row

    kb ask "why is decode memory-bound?" [--json] [--save] [--budget-tokens N]
"""

from kb.ask.core import Answer, AskError, NothingToSave, ask
from kb.ask.extractive import NOT_COVERED

__all__ = ["NOT_COVERED", "Answer", "AskError", "NothingToSave", "ask"]
