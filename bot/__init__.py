"""Service-orientation assistant for migrants in Puglia.

The package holds everything that is not a Rasa action or channel: settings, the custom NLU
components, the knowledge base, model training with its cache, and the ``bot`` command line.
"""
