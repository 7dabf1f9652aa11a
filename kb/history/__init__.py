"""History, undo and review: every change kb makes to wiki/ can be seen, taken back or
approved before it lands.

    git       the vault as a git repository; kb commits wiki/ only, after each operation
    log       kb's operations, newest first: the state's runs and kb's commits, merged
    undo      take back an operation: its sources held, the wiki as it was before it
    review    a build staged for approval instead of written
    settle    accepting or rejecting a review, all of it or some pages, as one operation
    together  which staged pages must land together, so every link resolves

    python -c "from kb.history import git; help(git.commit_wiki)"
"""
