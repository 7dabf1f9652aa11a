"""Editors: the curators that digest sources and write pages. A registry by name.

from kb.editors import EDITORS
editor = EDITORS["extractive"](topics=12)
"""

from kb.editors.base import Editor, EditorError
from kb.editors.extractive import ExtractiveEditor

EDITORS: dict[str, type] = {"extractive": ExtractiveEditor}

__all__ = ["EDITORS", "Editor", "EditorError", "ExtractiveEditor"]
