"""Custom Rasa NLU graph components (registered with the default recipe on import)."""
