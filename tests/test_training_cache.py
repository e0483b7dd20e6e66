"""The model is retrained only when its inputs change."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot import training
from bot.settings import PROJECT_ROOT, get_settings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in training.MODEL_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def test_hash_is_stable_and_follows_every_input(project: Path) -> None:
    first = training.inputs_hash(project)
    assert training.inputs_hash(project) == first
    (project / "README.md").write_text("not a model input")
    (project / "bot" / "nlu" / "README.md").write_text("documentation: not a model input")
    assert training.inputs_hash(project) == first

    nlu = next((project / "data" / "nlu").glob("*.yml"))
    nlu.write_text(nlu.read_text() + "\n")
    changed = training.inputs_hash(project)
    assert changed != first

    (project / "config.yml").write_text((project / "config.yml").read_text() + "\n# x\n")
    assert training.inputs_hash(project) != changed


def test_reformatted_code_keeps_the_model_a_changed_statement_does_not(project: Path) -> None:
    """Formatting or a comment in bot/nlu/ must not cost a 13-minute retrain; code must."""
    first = training.inputs_hash(project)
    code = project / "bot" / "nlu" / "text.py"
    source = code.read_text()
    code.write_text("# a comment an editor added\n" + source.replace("\n\n\n", "\n\n\n\n"))
    assert training.inputs_hash(project) == first
    code.write_text(source + "\nEXTRA = 1\n")
    assert training.inputs_hash(project) != first


def test_unchanged_inputs_are_not_retrained(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("rasa train must not run for unchanged inputs")

    target = training.model_path(project)
    cached = get_settings().model_cache_dir / target.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"model trained earlier on this machine")
    monkeypatch.setattr(subprocess, "run", no_training)

    assert training.ensure_model(project) == target
    assert target.read_bytes() == cached.read_bytes()
    assert training.ensure_model(project) == target  # now straight from models/


def test_changed_inputs_are_trained_and_cached(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_train(command: list[str], cwd: Path, check: bool) -> None:
        calls.append(command)
        out = Path(command[command.index("--out") + 1])
        name = command[command.index("--fixed-model-name") + 1]
        (out / f"{name}.tar.gz").write_bytes(b"fresh model")

    monkeypatch.setattr(subprocess, "run", fake_train)
    target = training.ensure_model(project)
    assert len(calls) == 1 and "train" in calls[0]
    assert (get_settings().model_cache_dir / target.name).read_bytes() == b"fresh model"
    # Rasa's own cache is used for a normal training, skipped for a forced one (from scratch).
    assert "--force" not in calls[0]
    training.ensure_model(project, force=True)
    assert len(calls) == 2 and "--force" in calls[1]
