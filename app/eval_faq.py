"""``bot eval faq``: whether real questions get their answer in the first reply.

The yardstick is ``tests/faq/`` (format and rules: its README): questions people posted in
public, copied word for word, labelled with what answers them — FAQ entry ids, or
``procedure:<id>`` when a procedure (and its office) is the answer; an empty label means the
knowledge base has no answer, and the question only counts for the fallback rate.
``dev.yml`` is for tuning; the report is made on ``test.yml`` unless ``--split dev``.

Measured:
- **retrieval** (the parse's ``faq`` ranking, ``bot/nlu/faq.py``): top-1 and top-3 accuracy on
  the questions an FAQ entry answers;
- **first reply** (the whole assistant over its REST channel, one new conversation per
  question): the share of answerable questions whose first reply holds a right answer (the
  entry's answer text, or the procedure's title), and the shares answered with suggestions
  or with a "did not understand".

``--compare-response-selector`` also trains, in a temporary folder, our pipeline with Rasa's
ResponseSelector on the same FAQ (retrieval intents ``faq/<id>``) and scores its top-1/top-3 on
the same split: the conventional route, against which ours must win to stay.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

FAQ_TESTS = PROJECT_ROOT / "tests" / "faq"
REPORTS_DIR = PROJECT_ROOT / "reports" / "faq"
PROCEDURE_LABEL = "procedure:"
TARGET = 0.75


@dataclass(frozen=True)
class Question:
    """One real question and what answers it."""

    id: str
    language: str
    service: str
    text: str
    faq: tuple[str, ...]
    procedures: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.faq or self.procedures)


def load_questions(path: Path) -> list[Question]:
    """The questions of one yardstick file."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for q in data["questions"]:
        labels = [str(a) for a in q.get("answer") or []]
        questions.append(
            Question(
                id=str(q["id"]),
                language=str(q.get("lang") or "it"),
                service=str(q.get("service") or ""),
                text=str(q["text"]).strip(),
                faq=tuple(a for a in labels if not a.startswith(PROCEDURE_LABEL)),
                procedures=tuple(
                    a[len(PROCEDURE_LABEL) :] for a in labels if a.startswith(PROCEDURE_LABEL)
                ),
            )
        )
    return questions


def parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    """The model's parse of each text."""
    import asyncio

    async def run() -> list[dict[str, Any]]:
        from rasa.core.agent import Agent

        agent = Agent.load(str(model))
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(run())


def retrieval_scores(questions: list[Question], rankings: list[list[str]]) -> dict[str, Any]:
    """Top-1 and top-3 over the questions an FAQ entry answers."""
    rows = [(q, r) for q, r in zip(questions, rankings, strict=True) if q.faq]
    top1 = sum(bool(r[:1]) and r[0] in q.faq for q, r in rows)
    top3 = sum(any(e in q.faq for e in r[:3]) for q, r in rows)
    n = len(rows)
    return {
        "n": n,
        "top1": round(top1 / n, 4) if n else None,
        "top3": round(top3 / n, 4) if n else None,
        "misses": [
            {"id": q.id, "expected": list(q.faq), "got": r[:3]}
            for q, r in rows
            if not (r[:1] and r[0] in q.faq)
        ],
    }


# ----------------------------------------------------------------------- the running assistant


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Assistant:
    """``bot run`` on free loopback ports, for as long as the ``with`` block lasts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Assistant:
        env = dict(
            os.environ,
            RASA_PORT=str(self.port),
            ACTION_PORT=str(_free_port()),
            DATABASE_URL=f"sqlite:///{self.folder / 'eval.db'}",
        )
        self.log = self.folder / "bot-run.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "run"],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        while "Press Ctrl-C to stop" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bot run did not start; see {self.log}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)

    def first_reply(self, sender: str, text: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


def judge_reply(question: Question, replies: list[dict[str, Any]], kb: Any) -> str:
    """``answered``, ``suggested``, ``fallback`` or ``other`` for one first reply."""
    from bot.kb.vocabulary import LANGUAGES, SERVICES
    from bot.messages import render

    text = "\n".join(r.get("text", "") for r in replies)
    for entry_id in question.faq:
        for language in LANGUAGES:
            entry = kb.faq(entry_id, language)
            if entry and entry.language == language and entry.answer in text:
                return "answered"
    for procedure_id in question.procedures:
        service = next((s for s in SERVICES if kb.procedure(s, "it", procedure_id)), None)
        for language in LANGUAGES if service else ():
            procedure = kb.procedure(service, language, procedure_id)
            if procedure and procedure.language == language and procedure.title in text:
                return "answered"
    for language in LANGUAGES:
        if render("utter_faq_suggest", language) in text:
            return "suggested"
        if render("utter_fallback_rephrase", language) in text:
            return "fallback"
    return "other"


def dialogue_scores(questions: list[Question], verdicts: list[str]) -> dict[str, Any]:
    """Shares of first replies that answered, suggested or fell back."""
    answerable = [(q, v) for q, v in zip(questions, verdicts, strict=True) if q.answerable]
    counts = Counter(v for _, v in answerable)
    n = len(answerable)
    every = Counter(verdicts)
    return {
        "answerable": n,
        "answered": round(counts["answered"] / n, 4) if n else None,
        "suggested": round(counts["suggested"] / n, 4) if n else None,
        "fallback_all": round(every["fallback"] / len(verdicts), 4) if verdicts else None,
        "per_question": {q.id: v for q, v in zip(questions, verdicts, strict=True)},
    }


# ----------------------------------------------------------------------- the alternative


def response_selector_rankings(questions: list[Question], workdir: Path) -> list[list[str]]:
    """Train our pipeline plus Rasa's ResponseSelector on the FAQ; rank with the selector."""
    import yaml

    from app.eval_nlu import _our_pipeline, _write_config, train
    from bot.nlu.faq import read_documents

    data_dir = workdir / "data"
    data_dir.mkdir()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        (data_dir / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    documents, _ = read_documents()
    examples: dict[str, list[str]] = {}
    for document in documents:
        if document.weight == 1.0:  # questions and variants, not answers
            examples.setdefault(document.entry, []).append(" ".join(document.text.split()))
    nlu = [
        {"intent": f"faq/{entry}", "examples": "".join(f"- {t}\n" for t in dict.fromkeys(texts))}
        for entry, texts in examples.items()
    ]
    responses = {f"utter_faq/{entry}": [{"text": entry}] for entry in examples}
    (data_dir / "faq_retrieval.yml").write_text(
        yaml.safe_dump(
            {"version": "3.1", "nlu": nlu, "responses": responses},
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    pipeline, language = _our_pipeline(PROJECT_ROOT / "config.yml")
    # The same featurizers and DIET; our retriever and the safety layer play no part in it.
    left_out = ("FallbackClassifier", "bot.nlu.faq.FaqRetriever", "bot.nlu.safety.SafetyClassifier")
    pipeline = [s for s in pipeline if s.get("name") not in left_out]
    pipeline.append(
        {"name": "ResponseSelector", "retrieval_intent": "faq", "epochs": 40, "random_seed": 42}
    )
    config = workdir / "config.yml"
    _write_config(config, pipeline, language, None)
    model, _ = train(config, data_dir, workdir / "models", "response-selector")
    parses = parse_all(model, [q.text for q in questions])
    rankings = []
    for parse in parses:
        selector = (parse.get("response_selector") or {}).get("faq") or {}
        ranking = selector.get("ranking") or []
        rankings.append([str(r.get("intent_response_key", "")).split("/", 1)[-1] for r in ranking])
    return rankings


# ----------------------------------------------------------------------- report


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def render_report(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown report."""
    ours, dialogue = results["retrieval"], results.get("dialogue")
    lines = [
        f"# Real questions — {meta['split']} half ({meta['date']})",
        "",
        f"Machine: {meta['machine']}. Model: {meta['model']}. Command: `{meta['command']}`.",
        f"Yardstick: `{meta['file']}`: {meta['questions']} questions copied from public pages "
        f"(tests/faq/README.md); {meta['answerable']} have an answer in the knowledge base.",
        "",
        "## First reply (the whole assistant over REST)",
        "",
    ]
    if dialogue:
        lines += [
            f"- answers the question: {_fmt(dialogue['answered'])} of "
            f"{dialogue['answerable']} answerable (target ≥ {TARGET:.0%})",
            f"- offers the closest questions instead: {_fmt(dialogue['suggested'])}",
            f'- "did not understand" (all questions): {_fmt(dialogue["fallback_all"])}',
        ]
    else:
        lines.append("not run (--no-dialogue)")
    lines += [
        "",
        "## FAQ retrieval (the parse's ranking)",
        "",
        "| retriever | questions | top-1 | top-3 |",
        "| --- | ---: | ---: | ---: |",
        f"| ours (bot/nlu/faq.py) | {ours['n']} | {_fmt(ours['top1'])} | {_fmt(ours['top3'])} |",
    ]
    other = results.get("response_selector")
    if other:
        lines.append(
            f"| Rasa ResponseSelector | {other['n']} | {_fmt(other['top1'])} | "
            f"{_fmt(other['top3'])} |"
        )
    lines += ["", "## Retrieval misses (expected → our top 3)", ""]
    lines += [
        f"- `{m['id']}`: {', '.join(m['expected'])} → {', '.join(m['got'])}" for m in ours["misses"]
    ] or ["none"]
    if dialogue:
        lines += ["", "## First reply per question", ""]
        lines += [f"- `{qid}`: {verdict}" for qid, verdict in dialogue["per_question"].items()]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    """The headline shares as bars, with the target line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = {"top-1": results["retrieval"]["top1"] or 0, "top-3": results["retrieval"]["top3"] or 0}
    if results.get("response_selector"):
        bars["RS top-1"] = results["response_selector"]["top1"] or 0
        bars["RS top-3"] = results["response_selector"]["top3"] or 0
    if results.get("dialogue"):
        bars["first reply answers"] = results["dialogue"]["answered"] or 0
        bars["suggestions"] = results["dialogue"]["suggested"] or 0
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(list(bars), list(bars.values()))
    ax.axhline(TARGET, color="grey", linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of answerable questions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    """Score one half of the yardstick and write the report."""
    from app.eval_nlu import machine
    from bot.kb.db import make_engine
    from bot.kb.load import load
    from bot.kb.queries import KnowledgeBase
    from bot.training import ensure_model

    path = FAQ_TESTS / f"{args.split}.yml"
    questions = load_questions(path)
    unlabelled = [q.id for q in questions if not q.answerable]
    model = ensure_model()
    parses = parse_all(model, [q.text for q in questions])
    rankings = [[r["id"] for r in ((p.get("faq") or {}).get("ranking") or [])] for p in parses]
    results: dict[str, Any] = {"retrieval": retrieval_scores(questions, rankings)}
    with tempfile.TemporaryDirectory(prefix="eval-faq-") as tmp:
        if args.compare_response_selector:
            other = response_selector_rankings(questions, Path(tmp))
            results["response_selector"] = retrieval_scores(questions, other)
        if not args.no_dialogue:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'kb.db'}")
            load(PROJECT_ROOT / "knowledge", engine)
            kb = KnowledgeBase(engine, refresh_seconds=None)
            with Assistant(Path(tmp)) as assistant:
                verdicts = [
                    judge_reply(q, assistant.first_reply(f"eval-faq-{q.id}", q.text), kb)
                    for q in questions
                ]
            results["dialogue"] = dialogue_scores(questions, verdicts)
    meta = {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "model": model.name,
        "split": args.split,
        "file": str(path.relative_to(PROJECT_ROOT)),
        "questions": len(questions),
        "answerable": len(questions) - len(unlabelled),
        "command": "bot eval faq"
        + (f" --split {args.split}" if args.split != "test" else "")
        + (" --compare-response-selector" if args.compare_response_selector else ""),
    }
    text = render_report(results, meta)
    print(text)
    if not args.no_report:
        out = Path(args.out) if args.out else REPORTS_DIR / dt.date.today().isoformat()
        out.mkdir(parents=True, exist_ok=True)
        (out / f"report-{args.split}.md").write_text(text, encoding="utf-8")
        (out / f"metrics-{args.split}.json").write_text(
            json.dumps({"meta": meta, **results}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        plot(results, out / f"scores-{args.split}.png")
        print(f"report: {out}")
    return 0


def register(eval_sub: argparse._SubParsersAction) -> None:
    """Add ``bot eval faq`` to the ``bot eval`` group."""
    faq = eval_sub.add_parser("faq", help="real questions: first reply, FAQ top-1/top-3")
    faq.add_argument("--split", choices=("test", "dev"), default="test", help="dev only for tuning")
    faq.add_argument(
        "--no-dialogue",
        action="store_true",
        help="only the retrieval scores (no running assistant)",
    )
    faq.add_argument(
        "--compare-response-selector",
        action="store_true",
        help="also train and score Rasa's ResponseSelector on the same FAQ",
    )
    faq.add_argument("--no-report", action="store_true", help="print only")
    faq.add_argument("--out", default=None, help="report folder (default reports/faq/<date>)")
    faq.set_defaults(func=run)
