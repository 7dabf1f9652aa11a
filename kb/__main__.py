"""`python -m kb` runs the same CLI as the `kb` console script."""

from kb.cli import main

main()
