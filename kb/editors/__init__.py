"""Editors: the curators that digest sources and write pages. A registry by name.

from kb.editors import EDITORS
editor = EDITORS["extractive"](topics=12)
editor = EDITORS["llm"](provider, cfg)      # kb.providers.make_provider(...), kb.config
"""

from kb.editors.base import Editor, EditorError
from kb.editors.extractive import ExtractiveEditor
from kb.editors.llm import LLMEditor

EDITORS: dict[str, type] = {"extractive": ExtractiveEditor, "llm": LLMEditor}

__all__ = ["EDITORS", "Editor", "EditorError", "ExtractiveEditor", "LLMEditor"]
