"""`bot eval nlu` scoring, without training (training is what the command itself does)."""

from pathlib import Path

from app.cli import build_parser
from app.eval_nlu import Example, Prediction, language_correct, load_test_set, score


def test_command_is_registered():
    args = build_parser().parse_args(["eval", "nlu", "--fast", "--no-baseline"])
    assert args.fast and args.no_baseline and callable(args.func)


def test_language_scoring_rules():
    assert language_correct("it", {"code": "it", "confidence": 0.9, "source": "fasttext"}) == (
        True,
        True,
    )
    # "too short to tell" keeps the conversation's language: right in effect, not strictly.
    assert language_correct("it", {"code": None, "confidence": 0.0, "source": "too_short"}) == (
        False,
        True,
    )
    assert language_correct("it", {"code": "en", "confidence": 0.3, "source": "too_short"}) == (
        False,
        False,
    )
    # Romanized text: right unless a language is claimed with switching confidence.
    assert language_correct("ur-Latn", {"code": None, "confidence": 0.1, "source": "romanized"})[1]
    assert not language_correct("pcm", {"code": "en", "confidence": 0.99, "source": "fasttext"})[1]
    # "write in English" written in Italian is right when it names English.
    assert language_correct("it", {"code": "en", "confidence": 1.0, "source": "explicit"})[1]


def test_score_counts_intents_languages_and_towns():
    examples = [
        Example("it", "orari questura Nardo", "ask_opening_hours", ["Nardò"]),
        Example("it", "ciao", "greet", []),
        Example("en", "where is the questura in Bari", "ask_office_location", ["Bari"]),
        Example("en", "bye", "goodbye", []),
    ]
    preds = [
        Prediction("ask_opening_hours", ["Nardò"], top_intent="ask_opening_hours"),
        Prediction("greet", [], top_intent="greet"),
        Prediction("nlu_fallback", ["Bari", "Lecce"], top_intent="ask_office_location"),
        Prediction("greet", [], top_intent="greet"),
    ]
    langs = [
        {"code": "it", "confidence": 0.99, "source": "fasttext"},
        {"code": "it", "confidence": 0.3, "source": "too_short"},
        {"code": "en", "confidence": 0.99, "source": "fasttext"},
        {"code": "fr", "confidence": 0.9, "source": "fasttext"},
    ]
    result = score(examples, preds, langs)
    assert result["intent_accuracy"] == 0.5
    assert result["top_intent_accuracy"] == 0.75
    assert result["fallback_rate"] == 0.25
    assert result["per_language"]["it"]["accuracy"] == 1.0
    assert result["language_accuracy"] == 0.75
    assert result["city_recall"] == 1.0
    assert result["city_precision"] == 2 / 3
    assert ["ask_office_location", "nlu_fallback", 1] in result["confusions"]


def test_test_set_language_comes_from_file_name_or_block_metadata(tmp_path: Path):
    (tmp_path / "fr.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - bonjour à tous\n'
        "- intent: greet\n  metadata: {lang: wo}\n  examples: |\n    - nanga def\n"
        "- intent: inform\n  examples: |\n"
        '    - j\'habite à [Nardo]{"entity": "city", "value": "Nardò"}\n',
        encoding="utf-8",
    )
    examples = load_test_set(tmp_path)
    assert [(e.language, e.text) for e in examples] == [
        ("fr", "bonjour à tous"),
        ("wo", "nanga def"),
        ("fr", "j'habite à Nardo"),
    ]
    assert examples[2].cities == ["Nardò"]


def test_eval_language_scores_the_detector_without_training(tmp_path: Path, capsys):
    test_dir, data = tmp_path / "heldout", tmp_path / "data"
    test_dir.mkdir()
    data.mkdir()
    (test_dir / "uk.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - Дуже дякую\n'
        "    - Щиро дякую вам за допомогу\n",
        encoding="utf-8",
    )
    # A test message also in the training data is left out, as in `bot eval nlu`.
    (data / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - Щиро дякую вам за допомогу\n',
        encoding="utf-8",
    )
    args = build_parser().parse_args(
        ["eval", "language", "--test-dir", str(test_dir), "--data", str(data)]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "held-out all: n=1 errors=0 effective=1.0000 strict=1.0000" in out


def test_eval_language_folds_score_the_training_data_itself(tmp_path: Path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    blocks = {
        "sq": ["kam nevoje per nje avokat", "ku eshte zyra e punes", "dua te mesoj italisht"],
        "en": ["i need a lawyer", "where is the job centre", "i want to learn italian"],
    }
    text = 'version: "3.1"\nnlu:\n'
    for lang, examples in blocks.items():
        text += f"- intent: ask_legal_aid\n  metadata: {{lang: {lang}}}\n  examples: |\n"
        text += "".join(f"    - {e}\n" for e in examples)
    (data / "nlu.yml").write_text(text, encoding="utf-8")
    args = build_parser().parse_args(["eval", "language", "--data", str(data), "--folds", "3"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    # Every labelled example is scored once, by a profile that never saw it.
    assert "training data, 3-fold all: n=6 errors=0" in out
    for folds in ("1", "0"):
        argv = ["eval", "language", "--data", str(data), "--folds", folds]
        args = build_parser().parse_args(argv)
        assert args.func(args) == 1
    # Training data without language labels has nothing to cross-validate: an error, not a crash.
    (data / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - grazie\n', encoding="utf-8"
    )
    args = build_parser().parse_args(["eval", "language", "--data", str(data), "--folds", "3"])
    assert args.func(args) == 1
    assert "no examples with metadata" in capsys.readouterr().err
