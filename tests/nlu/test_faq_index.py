"""The FAQ retriever on a small FAQ written here (the shipped one is scored by bot eval faq)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.nlu.faq import FaqIndex, asking_part, normalise, read_documents

FAQ = """
faq:
  - id: receipt-travel
    service: residence_permit
    question: {it: "Posso viaggiare con la ricevuta del rinnovo?", en: "Can I travel with the renewal receipt?"}
    variants:
      it: ["con il cedolino posso andare al mio paese?", "posso uscire dall'italia mentre aspetto il permesso"]
      zh: ["拿着续签回执可以回国吗"]
    answer: {it: "Sì, verso il tuo paese con volo diretto, con passaporto, ricevuta e vecchio permesso."}
  - id: citizenship-delay
    service: citizenship
    question: {it: "La mia domanda di cittadinanza è ferma da anni: cosa posso fare?"}
    variants:
      it: ["cittadinanza in attesa da 4 anni, posso mandare una diffida?"]
    answer: {it: "Dopo il termine di legge puoi chiedere l'accesso agli atti e mandare una diffida."}
  - id: stp
    service: health_care
    question: {it: "Senza permesso posso andare dal medico?", fr: "Sans papiers, puis-je voir un médecin ?"}
    variants:
      it: ["sono irregolare, mi curano in ospedale?"]
    answer: {it: "Sì, con il codice STP hai le cure urgenti ed essenziali."}
"""  # noqa: E501


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> FaqIndex:
    folder = tmp_path_factory.mktemp("faq")
    (folder / "mixed.yml").write_text(textwrap.dedent(FAQ), encoding="utf-8")
    return FaqIndex.build(*read_documents(Path(folder)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Posso viaggiare in Marocco con il cedolino?", "receipt-travel"),
        ("我在等续签，拿回执能回国吗", "receipt-travel"),
        ("sans papiers je peux voir un medecin ?", "stp"),
        # A long story: the sentence that asks decides.
        (
            "Salve a tutti. Vivo a Foggia da 12 anni, ho sempre lavorato e ho il permesso di "
            "lungo periodo, mia moglie pure. Ho fatto domanda di cittadinanza nel 2021 e ancora "
            "niente. Posso mandare una diffida? Grazie",
            "citizenship-delay",
        ),
    ],
)
def test_questions_find_their_entry(index: FaqIndex, text: str, expected: str) -> None:
    assert index.rank(text)[0][0] == expected


def test_scores_are_ordered_and_bounded(index: FaqIndex) -> None:
    ranking = index.rank("posso viaggiare con la ricevuta del rinnovo?")
    scores = [score for _, score in ranking]
    assert scores == sorted(scores, reverse=True)
    assert 0 < scores[-1] <= scores[0] <= 1.0001
    assert index.result("") is None
    assert index.result("posso viaggiare?")["service"] == "residence_permit"


def test_towns_do_not_count_and_the_asking_sentence_is_found() -> None:
    assert "foggia" not in normalise("Vivo a Foggia, posso viaggiare?")
    assert asking_part("Vivo qui da anni. Ho un problema. Posso viaggiare?") == "Posso viaggiare?"
    assert asking_part("Vivo qui da anni. Cosa faccio") == "Cosa faccio"
    assert asking_part("una frase sola?") == ""


def test_a_malformed_entry_is_skipped_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "faq:\n  - id: ok\n    question: {it: 'a?'}\n  - id: broken\n", encoding="utf-8"
    )
    documents, services = read_documents(tmp_path)
    assert {d.entry for d in documents} == {"ok"}
