"""Knowledge base of Puglia's public services.

Editors write YAML under ``knowledge/``; :mod:`bot.kb.validate` checks it, :mod:`bot.kb.load`
puts it into ``DATABASE_URL`` (tables prefixed ``kb_``, next to Rasa's tracker store), and
:class:`bot.kb.queries.KnowledgeBase` answers the actions' questions from there.
"""
