"""The FAQ's variants as training examples of their service intent.

``knowledge/faq/<service>.yml`` holds thousands of ways people ask about a service, many of them
long stories of the kind real people post. They are training data the intent classifier needs:
without them DIET and the danger model learnt their "long message" from the long danger stories
of ``data/nlu/emergency.yml`` alone, and on 2026-12-07 read most real forum questions of the
development set as emergencies. This importer (``importers:`` in ``config.yml``) hands every
variant to Rasa as an example of ``ask_<service>`` (``report_emergency`` for the emergency
service), with the block language the language profile reads, so the FAQ files stay the one place
editors write them.

Only the long variants (``LONG_VARIANT_CHARS``, about 1,400 of 9,500): they are what the
hand-written data lacks, and all of them would double DIET's training time (18,700 examples
instead of 9,200). Left out besides: a text already in ``data/nlu`` (Rasa refuses one text under
two intents, and the hand-written example wins), and a text two services share.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.constants import INTENT, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.kb.vocabulary import LANGUAGES
from bot.nlu.fingerprint import FAQ_DIR
from bot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
# Variants at least this long are intent examples (the stories; short ones are like data/nlu's).
LONG_VARIANT_CHARS = 100
# The knowledge base's emergency service is the report_emergency intent.
INTENT_OF_SERVICE = {"emergency": "report_emergency"}


def service_intent(service: str) -> str:
    """The intent a service's FAQ variants train."""
    return INTENT_OF_SERVICE.get(service, f"ask_{service}")


def faq_variants(folder: Path = FAQ_DIR) -> Iterator[tuple[str, str, str]]:
    """(service, language, text) of every variant and question, in file order."""
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("faq") or []:
            if not isinstance(entry, dict):
                continue
            service = str(entry.get("service") or path.stem)
            for language, text in (entry.get("question") or {}).items():
                yield service, str(language), str(text)
            for language, texts in (entry.get("variants") or {}).items():
                for text in texts or []:
                    yield service, str(language), str(text)


def _hand_written(folder: Path) -> set[str]:
    texts: set[str] = set()
    for path in folder.glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.add(_key(line.strip()[2:]))
    return texts


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def faq_examples(folder: Path = FAQ_DIR, nlu_dir: Path = NLU_DIR) -> list[Message]:
    """The long variants as intent examples, without texts data/nlu has or services share."""
    taken = _hand_written(nlu_dir)
    services: dict[str, set[str]] = {}
    rows = list(faq_variants(folder))
    for service, _, text in rows:
        services.setdefault(_key(text), set()).add(service)
    examples, seen = [], set()
    for service, language, text in rows:
        key = _key(text)
        if len(key) < LONG_VARIANT_CHARS or key in taken or key in seen or len(services[key]) > 1:
            continue
        seen.add(key)
        data: dict[str, Any] = {TEXT: " ".join(text.split()), INTENT: service_intent(service)}
        if language in LANGUAGES:
            data[METADATA] = {"lang": language}
        examples.append(Message(data=data))
    return examples


class FaqQuestionsImporter(TrainingDataImporter):
    """Adds the FAQ variants to the NLU data; everything else comes from RasaFileImporter."""

    def __init__(
        self,
        config_file: str | None = None,
        domain_path: str | None = None,
        training_data_paths: str | list[str] | None = None,
    ) -> None:
        self._config_file = config_file

    def get_domain(self) -> Domain:
        """Nothing: the domain comes from the files."""
        return Domain.empty()

    def get_stories(self, exclusion_percentage: int | None = None) -> StoryGraph:
        """Nothing: stories come from the files."""
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        """Nothing."""
        return StoryGraph([])

    def get_config(self) -> dict:
        """Nothing: the config comes from the files."""
        return {}

    def get_config_file_for_auto_config(self) -> str | None:
        """The config file, as every importer must say."""
        return self._config_file

    def get_nlu_data(self, language: str | None = "en") -> TrainingData:
        """The FAQ's long variants as intent examples."""
        examples = faq_examples()
        logger.info("FAQ: %d long variants added as intent examples", len(examples))
        return TrainingData(training_examples=examples)
