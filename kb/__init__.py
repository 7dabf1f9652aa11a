"""kb: compile a folder of raw documents into a living, interlinked, cited markdown wiki.

Run `kb init` to make a vault, drop files into raw/, then `kb build`. See README.md.
"""

__version__ = "0.1.0"
