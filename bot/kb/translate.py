"""The translator round trip: texts of one language out to a CSV, and back into the YAML files.

Translators work in a spreadsheet, not in YAML: ``export`` writes ``key, italian, text_in_XX``
(one row per translatable text, keys as ``record-id.field[.n]``); ``import_csv`` writes the third
column back into the knowledge files with ruamel.yaml's round trip, so comments, order and
quoting survive and a pull request shows only the translated lines. The Italian column travels
with the CSV to catch a text that changed after the export: translating an old version is
reported, not silently stored. The edited files go through the same validation as ``bot kb
validate`` before anything is written.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.kb.validate import Problem, TextRef, iter_texts, read_knowledge
from bot.kb.vocabulary import LANGUAGES

_TOP_KEYS = ("offices", "procedures", "services", "numbers")


def header(language: str) -> list[str]:
    """Columns of the CSV for ``language``; the third one names the language, for humans."""
    return ["key", "italian", f"text_in_{language}"]


def export(root: Path, language: str, out: TextIO) -> list[Problem]:
    """Write the CSV for ``language``; returns problems (then nothing useful was written)."""
    content, problems = read_knowledge(root)
    if problems:
        return problems
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header(language))
    for ref in iter_texts(content):
        writer.writerow([ref.key, ref.texts["it"], ref.texts.get(language, "")])
    return []


@dataclass
class ImportResult:
    """Problems (then no file was written) or what the import changed."""

    problems: list[Problem] = field(default_factory=list)
    changed_texts: int = 0
    changed_files: list[str] = field(default_factory=list)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml: Any = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 100_000  # never re-wrap a long sentence
    yaml.allow_unicode = True
    return yaml


def _find_record(doc: Any, record_id: str) -> Any:
    for key in _TOP_KEYS:
        for rec in (doc or {}).get(key) or ():
            if isinstance(rec, dict) and rec.get("id") == record_id:
                return rec
    raise KeyError(record_id)


def _text_map(rec: Any, ref: TextRef) -> Any:
    if ref.field == "closures":
        return rec["closures"][ref.position - 1]["note"]
    if ref.position:
        return rec[ref.field][ref.position - 1]
    return rec[ref.field]


def _set(mapping: Any, language: str, text: str) -> None:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    value = DoubleQuotedScalarString(text)
    if language in mapping:
        mapping[language] = value
        return
    # Keep the languages in the README's order so files read alike.
    order = LANGUAGES.index(language)
    keys = list(mapping.keys())
    at = next(
        (i for i, k in enumerate(keys) if k in LANGUAGES and LANGUAGES.index(k) > order), len(keys)
    )
    mapping.insert(at, language, value)


def _rewrite(path: Path, edits: list[tuple[TextRef, str]], language: str) -> str:
    from ruamel.yaml.util import load_yaml_guess_indent

    text = path.read_text(encoding="utf-8")
    # ruamel guesses the sequence indent and the dash offset ("  - id:" is 4 and 2); the
    # mapping indent is what remains, so the file is written back in its own layout.
    _, sequence, offset = load_yaml_guess_indent(text)
    sequence, offset = sequence or 2, offset or 0
    yaml = _yaml()
    yaml.indent(mapping=max(2, sequence - offset), sequence=sequence, offset=offset)
    doc = yaml.load(text)
    for ref, translation in edits:
        _set(_text_map(_find_record(doc, ref.record_id), ref), language, translation)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def import_csv(root: Path, csv_path: Path, language: str) -> ImportResult:
    """Write the translations in ``csv_path`` into the files under ``root`` (all or nothing)."""
    result = ImportResult()
    display = str(csv_path)
    if language not in LANGUAGES or language == "it":
        result.problems.append(
            Problem(
                display,
                0,
                f"{language!r} is not a language to "
                f"translate into (one of {', '.join(LANGUAGES[1:])})",
            )
        )
        return result
    content, problems = read_knowledge(root)
    if problems:
        result.problems = problems
        return result
    refs = {ref.key: ref for ref in iter_texts(content)}
    edits: dict[str, list[tuple[TextRef, str]]] = {}
    seen: dict[str, int] = {}
    header_line = 0
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if not header_line:
                    if [cell.strip() for cell in row] != header(language):
                        result.problems.append(
                            Problem(
                                display,
                                line,
                                f"the first line must be {','.join(header(language))}",
                            )
                        )
                        return result
                    header_line = line
                    continue
                if len(row) != 3:
                    result.problems.append(
                        Problem(display, line, f"expected 3 columns, found {len(row)}")
                    )
                    continue
                key, italian, translation = (cell.strip() for cell in row)
                ref = refs.get(key)
                if ref is None:
                    result.problems.append(Problem(display, line, f"unknown key {key!r}"))
                    continue
                if key in seen:
                    result.problems.append(
                        Problem(
                            display, line, f"key {key!r} given twice (first at line {seen[key]})"
                        )
                    )
                    continue
                seen[key] = line
                if italian != ref.texts["it"]:
                    result.problems.append(
                        Problem(
                            display,
                            line,
                            f"the Italian text of {key!r} "
                            "changed since this file was exported; "
                            "export again",
                        )
                    )
                    continue
                if translation and translation != ref.texts.get(language):
                    edits.setdefault(ref.file, []).append((ref, translation))
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(Problem(display, 0, f"cannot read the CSV: {exc}"))
    except csv.Error as exc:
        result.problems.append(Problem(display, reader.line_num, f"broken CSV: {exc}"))
    if not header_line and not result.problems:
        result.problems.append(
            Problem(display, 1, f"empty file: expected the header {','.join(header(language))}")
        )
    if result.problems:
        return result

    new_texts = {
        file: _rewrite(root / file, file_edits, language) for file, file_edits in edits.items()
    }
    with tempfile.TemporaryDirectory(prefix="kb-import-") as tmp:
        copy = Path(tmp) / "knowledge"
        shutil.copytree(root, copy)
        for file, text in new_texts.items():
            (copy / file).write_text(text, encoding="utf-8")
        _, problems = read_knowledge(copy)
    if problems:
        result.problems = [
            Problem(
                str(root / Path(p.file).relative_to(copy))
                if Path(p.file).is_relative_to(copy)
                else p.file,
                p.line,
                p.message,
            )
            for p in problems
        ]
        return result
    for file, text in new_texts.items():
        (root / file).write_text(text, encoding="utf-8")
    result.changed_texts = sum(len(e) for e in edits.values())
    result.changed_files = sorted(new_texts)
    return result
