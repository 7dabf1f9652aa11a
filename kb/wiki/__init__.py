"""The wiki layer: page model, frontmatter, wikilinks, names, atomic writes, index, log.

Everything here is about the Obsidian vault format (design.md, "The wiki format").
Modules are independent; import them directly (`from kb.wiki.links import find_links`).
"""
