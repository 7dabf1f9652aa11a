"""History, undo and review: every change kb makes to wiki/ can be seen, taken back or
approved before it lands.

    git       the vault as a git repository; kb commits wiki/ only, after each operation
    log       kb's operations, newest first, from the state or (when it is gone) from git
    undo      take back an operation: its sources held, the wiki as it was before it
    review    a build staged for approval instead of written

    python -c "from kb.history import git; help(git.commit_wiki)"
"""
