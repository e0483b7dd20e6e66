"""The NLU examples of ``data/``, read without the rules and stories beside them.

Here, not in the evaluation command, because the language profile (``bot.nlu.profile``), a
component the trained model runs, reads them too: the model's import path must not reach the
``bot eval`` code in ``app/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_nlu_data(path: Path) -> Any:
    """Load the NLU examples under ``path`` as one Rasa ``TrainingData``."""
    from rasa.shared.data import get_data_files, is_nlu_file
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = sorted(get_data_files([str(path)], is_nlu_file))
    return TrainingData().merge(*(load_data(f) for f in files))
