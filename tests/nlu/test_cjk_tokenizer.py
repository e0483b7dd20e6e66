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
    assert [t for t, _, _ in tokens(text)] == ["福", "贾", "的", "questura", "在", "哪", "里"]
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
