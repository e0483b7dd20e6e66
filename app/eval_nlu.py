"""``bot eval nlu``: train on ``data/``, score the held-out test set, compare with Rasa's default.

Both pipelines — ours (``config.yml``) and the one ``rasa init`` writes in Rasa 3.6 (its
commented-out default, spelled out in ``BASELINE_PIPELINE`` with a fixed seed) — are trained on
the same NLU data into a temporary directory (never the ``models/`` cache) and scored on the same
test files, ``tests/nlu/heldout/<language>.yml`` (format: tests/nlu/README.md). The report goes
to ``reports/nlu/<date>/``: ``report.md``, ``metrics.json`` and ``plot.png``, with the machine
and the date, because numbers without them mean nothing.

Language identification is scored for our detector and, beside it, for raw lid.176 (top label
of all 176 languages), which is what a pipeline without our component would have.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.nlu.data import load_nlu_data
from bot.settings import PROJECT_ROOT

TEST_DIR = PROJECT_ROOT / "tests" / "nlu" / "heldout"
REPORTS_DIR = PROJECT_ROOT / "reports" / "nlu"
# Test files named after a variety rather than an ISO 639-1 code hold text no detector reads
# (romanized Arabic/Urdu/Bengali, Wolof, Nigerian Pidgin): there, a correct language result is
# one that does not confidently name a language.
VARIETIES = ("ar-Latn", "ur-Latn", "bn-Latn", "wo", "pcm")
SHORT_MAX_WORDS = 8
SWITCH_CONFIDENCE = 0.8  # same as actions/constants.LANGUAGE_SWITCH_CONFIDENCE

# What `rasa init` writes in 3.6 (rasa/cli/initial_project/config.yml): an empty pipeline
# whose comment lists the default Rasa fills in. Written out here, plus random_seed so the
# comparison is repeatable.
BASELINE_PIPELINE: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "random_seed": 42},
    {"name": "EntitySynonymMapper"},
    {"name": "ResponseSelector", "epochs": 100, "random_seed": 42},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


@dataclass
class Example:
    """One held-out message with its gold labels."""

    language: str
    text: str
    intent: str
    cities: list[str]


@dataclass
class Prediction:
    """What one pipeline made of an example."""

    intent: str | None
    cities: list[str]
    language: dict[str, Any] = field(default_factory=dict)
    top_intent: str | None = None  # best intent other than nlu_fallback


def _example(message: Any, default_language: str) -> Example:
    cities = [
        str(e.get("value")) for e in message.get("entities") or [] if e.get("entity") == "city"
    ]
    from bot.nlu.profile import lang_of

    language = lang_of(message) or default_language
    return Example(language, message.get("text"), message.get("intent"), cities)


def load_test_set(test_dir: Path = TEST_DIR) -> list[Example]:
    """Every example of every ``<language>.yml`` in ``test_dir``.

    The file name is the language of its examples, unless a block says otherwise with
    ``metadata: {lang: <code>}`` (the convention of the training data in data/nlu/).
    """
    from rasa.shared.nlu.training_data.loading import load_data

    examples: list[Example] = []
    for path in sorted(test_dir.glob("*.yml")):
        data = load_data(str(path))
        examples.extend(_example(m, path.stem) for m in data.intent_examples)
    return examples


def _seen_in(train_data: Any) -> Callable[[Example], bool]:
    """Whether a test example appears verbatim (case aside) among the training examples."""
    texts = {m.get("text").strip().casefold() for m in train_data.intent_examples}
    return lambda example: example.text.strip().casefold() in texts


def _write_config(
    path: Path,
    pipeline: list[dict[str, Any]],
    language: str,
    epochs: int | None,
    importers: list[dict[str, Any]] | None = None,
):
    import yaml

    steps = []
    for step in pipeline:
        step = dict(step)
        if epochs is not None and "epochs" in step:
            step["epochs"] = epochs
        steps.append(step)
    config = {
        "recipe": "default.v1",
        "language": language,
        "assistant_id": "nlu-eval",
        # Ours reads the FAQ's long variants too (bot/nlu/faq_data.py), as in production.
        **({"importers": importers} if importers else {}),
        "pipeline": steps,
        "policies": [],
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _our_pipeline(path: Path) -> tuple[list[dict[str, Any]], str]:
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config["pipeline"], config.get("language", "en")


def _our_importers(path: Path) -> list[dict[str, Any]] | None:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")).get("importers")


def train(config_path: Path, data: Path, out_dir: Path, name: str) -> tuple[Path, float]:
    """Train an NLU model; returns its path and the wall-clock seconds it took."""
    from rasa.model_training import train_nlu

    started = time.monotonic()
    model = train_nlu(str(config_path), str(data), str(out_dir), fixed_model_name=name)
    if model is None:
        raise SystemExit(f"error: training {name} failed (see the output above)")
    return Path(model), time.monotonic() - started


async def _parse_all(model: Path, examples: list[Example]) -> list[Prediction]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    out = []
    for example in examples:
        parsed = await agent.parse_message(example.text)
        intent = (parsed.get("intent") or {}).get("name")
        ranking = [r.get("name") for r in parsed.get("intent_ranking") or []]
        top = next((name for name in ranking if name != "nlu_fallback"), intent)
        cities = [
            str(e.get("value")) for e in parsed.get("entities") or [] if e.get("entity") == "city"
        ]
        out.append(Prediction(intent, cities, parsed.get("language") or {}, top))
    return out


def raw_lid176(text: str) -> dict[str, Any]:
    """lid.176's top label over all its languages, as a pipeline without our detector sees it."""
    from bot.nlu.language import fasttext_model
    from bot.nlu.text import sanitize

    clean = sanitize(text)
    if not clean:
        return {"code": None, "confidence": 0.0, "source": "raw"}
    labels, probs = fasttext_model().predict(clean, k=1)
    return {
        "code": labels[0].replace("__label__", ""),
        "confidence": float(probs[0]),
        "source": "raw",
    }


def language_correct(expected: str, result: dict[str, Any]) -> tuple[bool, bool]:
    """(strict, effective) correctness of one language result.

    Strict: the detector named the expected language. Effective: what the conversation would do
    — naming it, or reporting the message too short to tell without naming another language
    (the conversation keeps its language). For varieties no detector reads, both mean not
    naming any language with switching confidence. An explicit request ("write in English")
    is right when it names the language asked for, whatever language it is written in.
    """
    code = result.get("code")
    if result.get("source") == "explicit":
        return True, True  # "write in English" written in Italian: English is the right answer
    confident = float(result.get("confidence") or 0.0) >= SWITCH_CONFIDENCE
    if expected in VARIETIES:
        ok = not (code and confident and result.get("source") not in (None, "too_short"))
        return ok, ok
    strict = code == expected
    weak = result.get("source") in ("too_short", "no_letters")
    return strict, strict or (weak and code in (None, expected))


def _f1_macro(gold: list[str], pred: list[str | None]) -> float:
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    if not labels:
        return 0.0
    return float(
        f1_score(gold, [p or "None" for p in pred], labels=labels, average="macro", zero_division=0)
    )


def score(examples: list[Example], preds: list[Prediction], lang_results: list[dict]) -> dict:
    """Every metric of the report for one pipeline."""
    by_lang: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        by_lang.setdefault(ex.language, []).append(i)
    gold = [e.intent for e in examples]
    pred = [p.intent for p in preds]
    top = [p.top_intent for p in preds]
    per_language = {}
    for lang, idx in sorted(by_lang.items()):
        g = [gold[i] for i in idx]
        p = [pred[i] for i in idx]
        per_language[lang] = {
            "n": len(idx),
            "accuracy": sum(a == b for a, b in zip(g, p, strict=False)) / len(idx),
            "macro_f1": _f1_macro(g, p),
        }
    pairs = zip(examples, lang_results, strict=True)
    lang_ok = [language_correct(e.language, r) for e, r in pairs]
    short = [i for i, e in enumerate(examples) if 1 <= len(e.text.split()) <= SHORT_MAX_WORDS]

    def share(flags: list[bool]) -> float | None:
        return sum(flags) / len(flags) if flags else None

    tp = fp = fn = 0
    for ex, prediction in zip(examples, preds, strict=False):
        gold_c, pred_c = Counter(ex.cities), Counter(prediction.cities)
        hit = sum((gold_c & pred_c).values())
        tp += hit
        fp += sum(pred_c.values()) - hit
        fn += sum(gold_c.values()) - hit
    wrong = Counter((g, p or "None") for g, p in zip(gold, pred, strict=True) if g != p)
    confusions = wrong.most_common(15)
    lang_errors = Counter(
        (e.language, str(r.get("code")))
        for e, r, ok in zip(examples, lang_results, lang_ok, strict=False)
        if not ok[1]
    ).most_common(15)
    return {
        "n": len(examples),
        "intent_accuracy": share([a == b for a, b in zip(gold, pred, strict=False)]),
        "intent_macro_f1": _f1_macro(gold, pred),
        "top_intent_accuracy": share([a == b for a, b in zip(gold, top, strict=True)]),
        "top_intent_macro_f1": _f1_macro(gold, top),
        "fallback_rate": share([p == "nlu_fallback" for p in pred]),
        "per_language": per_language,
        "language_accuracy_strict": share([ok[0] for ok in lang_ok]),
        "language_accuracy": share([ok[1] for ok in lang_ok]),
        "language_accuracy_short": share([lang_ok[i][1] for i in short]),
        "language_accuracy_short_strict": share([lang_ok[i][0] for i in short]),
        "n_short": len(short),
        # Without gold towns (unannotated data) precision would only count our finds as wrong.
        "city_precision": tp / (tp + fp) if tp + fp and tp + fn else None,
        "city_recall": tp / (tp + fn) if tp + fn else None,
        "n_cities": tp + fn,
        "confusions": [[g, p, n] for (g, p), n in confusions],
        "language_errors": [[g, p, n] for (g, p), n in lang_errors],
    }


def machine() -> str:
    """CPU model, cores and memory of this machine, for the report header."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.node()}: {cpu}, {cores} cores available{mem}, {platform.platform()}"


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def render(results: dict[str, dict], meta: dict[str, Any]) -> str:
    """Render the Markdown report."""
    names = list(results)
    lines = [
        f"# NLU evaluation, {meta['date']}",
        "",
        f"- machine: {meta['machine']}",
        f"- training data: `{meta['data']}` "
        f"({meta['n_train']} examples, {meta['n_intents']} intents)",
        f"- test set: `{meta['test_dir']}` ({meta['n_test']} examples, languages: "
        f"{', '.join(meta['languages'])})"
        + (" — PLACEHOLDER test set" if meta["placeholder"] else "")
        + (
            f"; {meta['n_leaked']} test messages found verbatim in the training data were "
            + ("kept" if meta["leaked_kept"] else "left out")
            if meta["n_leaked"]
            else ""
        ),
        f"- epochs: {meta['epochs'] or 'as configured'}; training seconds: "
        + ", ".join(
            f"{n} {results[n]['train_seconds']:.0f}"
            if results[n]["train_seconds"] is not None
            else f"{n}: a given model, not trained here"
            for n in names
        ),
        f"- command: `{meta['command']}`",
        "",
        "## Summary",
        "",
        "| metric | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    rows = [
        ("intent macro-F1", "intent_macro_f1"),
        ("intent accuracy", "intent_accuracy"),
        ("share of nlu_fallback", "fallback_rate"),
        ("top intent macro-F1 (fallback ignored)", "top_intent_macro_f1"),
        ("top intent accuracy (fallback ignored)", "top_intent_accuracy"),
        ("language accuracy (effective)", "language_accuracy"),
        ("language accuracy (strict)", "language_accuracy_strict"),
        (f"language accuracy, 1–{SHORT_MAX_WORDS} words (effective)", "language_accuracy_short"),
        (
            f"language accuracy, 1–{SHORT_MAX_WORDS} words (strict)",
            "language_accuracy_short_strict",
        ),
        ("city precision", "city_precision"),
        ("city recall", "city_recall"),
    ]
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(_fmt(results[n][key]) for n in names) + " |")
    lines += [
        "",
        "Language accuracy: *strict* = the detector named the expected language; *effective* = "
        "it named it, or reported the message too short to tell without naming another "
        "language (the conversation then keeps its language). The baseline's language is raw "
        "lid.176. For romanized/Wolof/Pidgin files, correct = no confident language claimed.",
        "",
        "## Per language",
        "",
        "| language | n | " + " | ".join(f"{n} acc | {n} macro-F1" for n in names) + " |",
        "| --- | --- | " + " | ".join("--- | ---" for _ in names) + " |",
    ]
    for lang in meta["languages"]:
        cells = []
        for n in names:
            row = results[n]["per_language"].get(lang, {})
            cells.append(f"{_fmt(row.get('accuracy'))} | {_fmt(row.get('macro_f1'))}")
        n_lang = results[names[0]]["per_language"].get(lang, {}).get("n", 0)
        lines.append(f"| {lang} | {n_lang} | " + " | ".join(cells) + " |")
    for n in names:
        lines += ["", f"## Most confused intents ({n})", ""]
        lines += [f"- {g} → {p}: {c}" for g, p, c in results[n]["confusions"]] or ["- none"]
        lines += ["", f"## Language errors ({n}: expected → detected)", ""]
        lines += [f"- {g} → {p}: {c}" for g, p, c in results[n]["language_errors"]] or ["- none"]
    lines += ["", "![per-language macro-F1](plot.png)", ""]
    return "\n".join(lines)


def plot(results: dict[str, dict], languages: list[str], path: Path) -> None:
    """Per-language intent macro-F1 of each pipeline, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(6, len(languages) * 0.7), 4))
    for k, name in enumerate(names):
        values = [
            results[name]["per_language"].get(lang, {}).get("macro_f1", 0.0) for lang in languages
        ]
        ax.bar([i + k * width for i in range(len(languages))], values, width, label=name)
    ax.axhline(0.85, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(languages))])
    ax.set_xticklabels(languages)
    ax.set_ylim(0, 1)
    ax.set_ylabel("intent macro-F1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    """Train, score, compare, report."""
    from bot.nlu.language import detect

    data = Path(args.data)
    train_data = load_nlu_data(data)
    split_tmp = None
    if args.split:
        # Development only: hold out a stratified share of the training data. Its language is
        # the blocks' `metadata: {lang}`; without it on every example, language-ID scores
        # are left out.
        train_part, test_part = train_data.train_test_split(1 - args.split, random_seed=42)
        split_tmp = tempfile.TemporaryDirectory(prefix="nlu-split-")
        data = Path(split_tmp.name) / "train.yml"
        data.write_text(train_part.nlu_as_yaml(), encoding="utf-8")
        train_data = train_part
        examples = [_example(m, "unknown") for m in test_part.intent_examples]
        labelled = all(e.language != "unknown" for e in examples)
        test_dir = Path(args.data)
        placeholder = False
    else:
        test_dir = Path(args.test_dir)
        examples = load_test_set(test_dir)
        labelled = True
        placeholder = any(
            "PLACEHOLDER" in p.read_text(encoding="utf-8") for p in test_dir.glob("*.yml")
        )
    if not examples:
        print(f"error: no test examples in {test_dir}/*.yml", file=sys.stderr)
        return 1
    seen = _seen_in(train_data)
    leaked = [e.text for e in examples if seen(e)]
    if leaked and not args.keep_leaked:
        # A test message the model was trained on measures memory, not understanding.
        print(
            f"warning: {len(leaked)} test messages also appear in the training data and are "
            f"left out of the scores (--keep-leaked keeps them), e.g. {leaked[:3]}",
            file=sys.stderr,
        )
        examples = [e for e in examples if not seen(e)]
    elif leaked:
        print(
            f"warning: {len(leaked)} test messages also appear in the training data",
            file=sys.stderr,
        )
    # Rasa reuses cached training results of identical graph nodes; the reported training time
    # must be a real one.
    os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")
    epochs = 20 if args.fast else args.epochs
    our_pipeline, language = _our_pipeline(Path(args.config))
    pipelines = {"ours": (our_pipeline, language)}
    if not args.no_baseline:
        pipelines["rasa-default"] = (BASELINE_PIPELINE, "en")

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as tmp:
        for name, (pipeline, lang) in pipelines.items():
            config_path = Path(tmp) / f"{name}.yml"
            importers = _our_importers(Path(args.config)) if name == "ours" else None
            _write_config(config_path, pipeline, lang, epochs, importers)
            if name == "ours" and args.model:
                model, seconds = Path(args.model), None
                print(f"eval: scoring {model} (no training)", file=sys.stderr)
            else:
                print(f"eval: training {name} on {data} …", file=sys.stderr)
                model, seconds = train(config_path, data, Path(tmp), name)
            preds = asyncio.run(_parse_all(model, examples))
            if name == "ours":
                # Same detector as in the parse, with no channel hints (the test set has none).
                pairs = zip(examples, preds, strict=True)
                lang_results = [p.language or detect(e.text) for e, p in pairs]
            else:
                lang_results = [raw_lid176(e.text) for e in examples]
            results[name] = score(examples, preds, lang_results)
            results[name]["train_seconds"] = seconds
            if args.split and not labelled:
                for key in list(results[name]):
                    if key.startswith("language_"):
                        results[name][key] = [] if key == "language_errors" else None

    now = dt.datetime.now().astimezone()
    meta: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "data": os.path.relpath(args.data, PROJECT_ROOT),
        "n_train": len(train_data.intent_examples),
        "n_intents": len(train_data.intents),
        "test_dir": (
            f"{args.split:.0%} stratified split of {test_dir} (development only; "
            "languages from block metadata)"
        )
        if args.split
        else os.path.relpath(test_dir, PROJECT_ROOT),
        "n_test": len(examples),
        "n_leaked": len(leaked),
        "leaked_kept": bool(args.keep_leaked),
        "languages": sorted({e.language for e in examples}),
        "placeholder": placeholder,
        "epochs": epochs,
        "command": "bot eval nlu " + " ".join(sys.argv[3:])
        if len(sys.argv) > 3
        else "bot eval nlu",
    }
    out_dir = Path(args.out) if args.out else REPORTS_DIR / now.strftime("%Y-%m-%d")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    plot(results, meta["languages"], out_dir / "plot.png")
    report = render(results, meta)
    (out_dir / "report.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"\nreport: {out_dir / 'report.md'}", file=sys.stderr)
    return 0


def _print_language_scores(label: str, results: list[tuple[Example, dict[str, Any]]]) -> None:
    for part, subset in (
        ("all", results),
        (
            f"1–{SHORT_MAX_WORDS} words",
            [r for r in results if 1 <= len(r[0].text.split()) <= SHORT_MAX_WORDS],
        ),
    ):
        marks = [language_correct(e.language, r) for e, r in subset]
        if not marks:
            print(f"{label} {part}: n=0")
            continue
        strict = sum(m[0] for m in marks) / len(marks)
        effective = sum(m[1] for m in marks) / len(marks)
        errors = sum(1 for m in marks if not m[1])
        print(
            f"{label} {part}: n={len(marks)} errors={errors} "
            f"effective={effective:.4f} strict={strict:.4f}"
        )
    confusions = Counter(
        (e.language, r.get("code") or "None")
        for e, r in results
        if not language_correct(e.language, r)[1]
    )
    print("errors (expected → detected):")
    for (expected, got), n in confusions.most_common():
        print(f"  {expected} → {got}: {n}")


def _cross_validate_language(train_data: Any, folds: int) -> list[tuple[Example, dict]]:
    """Each labelled training example detected with a profile fit on the other folds."""
    import random

    from bot.nlu.language import SUPPORTED, detect
    from bot.nlu.profile import LanguageProfile, labelled_examples

    labelled = labelled_examples(train_data)
    order = list(range(len(labelled)))
    random.Random(0).shuffle(order)
    results = []
    for k in range(folds):
        held = set(order[k::folds])
        profile = LanguageProfile.fit(
            pair for i, pair in enumerate(labelled) if i not in held and pair[1] in SUPPORTED
        )
        for i in sorted(held):
            text, lang = labelled[i]
            # No intent: the folds score the language alone.
            results.append((Example(lang, text, "", []), detect(text, profile=profile)))
    return results


def run_language(args: argparse.Namespace) -> int:
    """Score the language detector alone: seconds, no DIET training.

    On the held-out set it gives the language rows of ``bot eval nlu`` (the same examples,
    leaked ones left out the same way, the n-gram profile fit on the whole training data as
    training does). With ``--folds K`` it scores the training data's own labelled examples
    instead, each with a profile fit on the other folds: the development measure for tuning
    the detector without looking at the held-out set.
    """
    from bot.nlu.language import SUPPORTED, detect
    from bot.nlu.profile import LanguageProfile

    train_data = load_nlu_data(Path(args.data))
    if args.folds is not None:
        if args.folds < 2:
            print("error: --folds needs at least 2", file=sys.stderr)
            return 1
        results = _cross_validate_language(train_data, args.folds)
        if not results:
            print(f"error: no examples with metadata: {{lang: ..}} in {args.data}", file=sys.stderr)
            return 1
        _print_language_scores(f"training data, {args.folds}-fold", results)
        return 0
    seen = _seen_in(train_data)
    examples = [e for e in load_test_set(Path(args.test_dir)) if not seen(e)]
    if not examples:
        print(f"error: no test examples in {args.test_dir}/*.yml", file=sys.stderr)
        return 1
    profile = LanguageProfile.from_training_data(train_data, SUPPORTED)
    _print_language_scores("held-out", [(e, detect(e.text, profile=profile)) for e in examples])
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bot eval nlu``."""
    eval_parser = subparsers.add_parser("eval", help="evaluate the assistant")
    eval_sub = eval_parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    nlu = eval_sub.add_parser(
        "nlu", help="train on data/, score tests/nlu/heldout/, compare with Rasa's default"
    )
    nlu.add_argument("--data", default=str(PROJECT_ROOT / "data"), help="training data")
    nlu.add_argument("--test-dir", default=str(TEST_DIR), help="held-out <language>.yml files")
    nlu.add_argument("--out", default=None, help="report folder (default reports/nlu/<date>)")
    nlu.add_argument("--fast", action="store_true", help="20 epochs instead of the configured")
    nlu.add_argument("--epochs", type=int, default=None, help="override every epochs setting")
    nlu.add_argument("--no-baseline", action="store_true", help="skip Rasa's default pipeline")
    nlu.add_argument(
        "--model",
        default=None,
        help="score this trained model (e.g. the one `make train` made) instead of training ours",
    )
    nlu.add_argument(
        "--keep-leaked",
        action="store_true",
        help="also score test messages that appear verbatim in the training data",
    )
    nlu.add_argument(
        "--config", default=str(PROJECT_ROOT / "config.yml"), help="our pipeline (a config.yml)"
    )
    nlu.add_argument(
        "--split",
        type=float,
        default=None,
        metavar="FRACTION",
        help="development only: score a stratified FRACTION held out of the training data "
        "instead of the test set",
    )
    nlu.set_defaults(func=run)
    lang = eval_sub.add_parser(
        "language", help="the language detector alone on tests/nlu/heldout/ (no training)"
    )
    lang.add_argument("--data", default=str(PROJECT_ROOT / "data"), help="training data")
    lang.add_argument("--test-dir", default=str(TEST_DIR), help="held-out <language>.yml files")
    lang.add_argument(
        "--folds",
        type=int,
        default=None,
        metavar="K",
        help="development only: K-fold cross-validation on the training data instead of the "
        "test set",
    )
    lang.set_defaults(func=run_language)
    from app import eval_faq, eval_safety

    eval_safety.register(eval_sub)
    eval_faq.register(eval_sub)
