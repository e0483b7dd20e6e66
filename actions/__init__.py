"""rasa-sdk actions: thin wrappers that read the tracker and ask ``bot`` for answers.

rasa-sdk registers every non-abstract ``Action`` subclass in this package; each module holds the
actions of one topic.
"""
