"""The compile pipeline: raw/ in, wiki/ out.

scan       which raw files changed since the last build (stat, then sha256)
moves      renamed raw files keep their pages
adopt      a lost .kb/ is rebuilt from what kb's pages carry
plan       which pages a source touches, and the titles kb may use
record     phase 1: one transaction per source (contributions, numbers, log entry)
evidence   contradictions in the state (contradictions: the pure detection)
judging    the build's contradiction pairs judged while the pages they cannot touch are written
render     phase 2: every dirty page rewritten from its contributions, merged
related    the pages a page being written links to
pages      the markdown of kb's pages (pure)
specials   index.md, contradictions.md, log.md (logbook: appending to log.md)
signature  the word index of each page that `kb ask` reads
builder    the run: `build(cfg, editor)` holds the lock and does all of it

python -c "from kb.build.builder import build; help(build)"
"""
