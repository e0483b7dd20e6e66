from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import CJKWhitespaceTokenizer


def tokens(text):
    tokenizer = CJKWhitespaceTokenizer(CJKWhitespaceTokenizer.get_default_config())
    return [
        (t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={"text": text}), "text")
    ]


def test_chinese_is_split_into_characters_with_offsets():
    assert tokens("我需要医生") == [
        ("我", 0, 1),
        ("需", 1, 2),
        ("要", 2, 3),
        ("医", 3, 4),
        ("生", 4, 5),
    ]


def test_mixed_chinese_and_latin_keep_their_offsets():
    text = "福贾的questura在哪里"
    # 福贾 (Foggia) is a town: one token (see the masking test below).
    assert [t for t, _, _ in tokens(text)] == ["福贾", "的", "questura", "在", "哪", "里"]
    assert all(text[s:e] == t for t, s, e in tokens(text))


def test_other_languages_tokenize_as_whitespace_tokenizer():
    assert [t for t, _, _ in tokens("dove è la questura di Bari?")] == [
        "dove",
        "è",
        "la",
        "questura",
        "di",
        "Bari",
    ]


def lemmas(text):
    tokenizer = CJKWhitespaceTokenizer(CJKWhitespaceTokenizer.get_default_config())
    return [t.lemma for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


def test_towns_become_one_masked_token_so_no_town_stands_for_an_intent():
    # Which comune someone lives in says nothing about what they ask.
    assert lemmas("cerco una stanza a Massafra") == ["cerco", "una", "stanza", "a", "__city__"]
    assert lemmas("vivo a San Vito dei Normanni") == ["vivo", "a", "__city__"]
    assert lemmas("我住在福贾") == ["我", "住", "在", "__city__"]
    assert tokens("vivo a San Vito dei Normanni")[-1] == ("San Vito dei Normanni", 7, 28)


def test_words_that_are_towns_only_in_a_place_context_are_kept():
    assert lemmas("salve, ho bisogno") == ["salve", "ho", "bisogno"]


def test_town_masking_can_be_turned_off_in_the_config():
    config = {**CJKWhitespaceTokenizer.get_default_config(), "mask_towns": False}
    tokenizer = CJKWhitespaceTokenizer(config)
    got = tokenizer.tokenize(Message(data={"text": "vivo a Nardò"}), "text")
    assert [t.lemma for t in got] == ["vivo", "a", "Nardò"]
