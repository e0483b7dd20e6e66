"""Concept features: the same concept fires whatever language it is written in."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.concepts import ConceptFeaturizer, concept_names, concept_spans
from bot.nlu.tokenizer import CJKWhitespaceTokenizer


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("dove si trova la questura", "concept:location"),
        ("where is it", "concept:location"),
        ("وين المكتب", "concept:location"),
        ("где находится", "concept:location"),
        ("在哪里", "concept:location"),
        ("a che ora apre", "concept:hours"),
        ("quelle heure ouvre", "concept:hours"),
        ("merci beaucoup", "concept:thank"),
        ("شكرا", "concept:thank"),
        ("ধন্যবাদ", "concept:thank"),
        ("il permesso di soggiorno", "service:residence_permit"),
        ("titre de séjour", "service:residence_permit"),
        ("la questura di Lecce", "office:questura"),
        ("vivo a Nardo", "city"),
        ("write in English", "language_request"),
    ],
)
def test_concepts_fire_across_languages(text, concept):
    assert concept in {name for name, _, _ in concept_spans(text)}


def test_featurizer_adds_fixed_width_features_aligned_with_tokens():
    tokenizer = CJKWhitespaceTokenizer(CJKWhitespaceTokenizer.get_default_config())
    featurizer = ConceptFeaturizer(ConceptFeaturizer.get_default_config(), "concepts")
    message = Message(data={"text": "dove è la questura di Bari"})
    tokenizer.process([message])
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features("text")
    width = len(concept_names())
    assert sentence.features.shape == (1, width)
    assert sequence.features.shape == (6, width)
    dense = sequence.features.toarray()
    questura = concept_names().index("office:questura")
    assert dense[:, questura].tolist() == [0, 0, 0, 1, 0, 0]
    assert sentence.features.toarray()[0, concept_names().index("city")] == 1
