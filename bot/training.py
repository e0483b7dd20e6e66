"""Train the Rasa model only when its inputs change.

The model is keyed by a SHA-256 of everything that shapes it: ``config.yml``, the domain, the
training data, the custom NLU components' source and word lists, the FAQ the retriever learns
(``knowledge/faq``) and the locked dependency versions. A model
for a key is kept in a cache outside the work tree (``MODEL_CACHE_DIR``), so a fresh clone on a
machine that already trained the same inputs (CI, a second checkout) reuses it. Training itself
is deterministic: every randomised component in ``config.yml`` has a fixed ``random_seed``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT, get_settings

# Paths, relative to the project root, whose content determines the trained model.
MODEL_INPUTS = ("config.yml", "domain.yml", "data", "bot/nlu", "knowledge/faq", "requirements.lock")
MODELS_DIR = PROJECT_ROOT / "models"


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in MODEL_INPUTS:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p
                for p in path.rglob("*")
                # Documentation (bot/nlu/README.md) does not shape the model.
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".md")
            )
    return sorted(files)


def inputs_hash(root: Path = PROJECT_ROOT) -> str:
    """Hash of the model inputs: file paths and contents, in a stable order.

    Python files count by their syntax tree (``meaningful_bytes``): reformatting or a comment
    does not retrain.
    """
    from bot.nlu.fingerprint import meaningful_bytes

    digest = hashlib.sha256()
    for path in _input_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(meaningful_bytes(path))
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    """Where the model for the current inputs lives in the work tree."""
    return root / "models" / f"model-{inputs_hash(root)}.tar.gz"


def ensure_model(root: Path = PROJECT_ROOT, force: bool = False) -> Path:
    """Return the model for the current inputs, training it only if no cached copy exists."""
    target = model_path(root)
    cached = get_settings().model_cache_dir / target.name
    if not force and target.exists():
        print(f"model: up to date ({target.relative_to(root)})", file=sys.stderr)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if not force and cached.exists():
        shutil.copyfile(cached, target)
        print(f"model: reused cached {cached}", file=sys.stderr)
        return target
    print("model: inputs changed, training (a few minutes)", file=sys.stderr)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(target.parent),
        "--fixed-model-name",
        target.name[: -len(".tar.gz")],
    ]
    if force:
        # From scratch: without it Rasa restores unchanged components from .rasa/cache.
        command.append("--force")
    subprocess.run(command, cwd=root, check=True)
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, cached)
    return target
